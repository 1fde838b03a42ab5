//! The test control plane never outlives what started it: when its owner dies,
//! however it dies (a panicking or killed test binary), every part stops.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn alive(pid: &str) -> bool {
    Command::new("kill")
        .args(["-0", pid])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn killing_the_owner_stops_etcd_the_api_server_and_the_controllers() {
    // The owner: a stand-in for a test binary, killed with SIGKILL below.
    let mut owner = Command::new("sleep")
        .arg("600")
        .spawn()
        .expect("start sleep");
    let dir = tempfile::tempdir().expect("folder");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testenv/controlplane.sh");
    let started = Command::new(&script)
        .arg("start")
        .arg(dir.path())
        .args(["--watch-pid", &owner.id().to_string()])
        .stdout(Stdio::null())
        .status()
        .expect("run controlplane.sh");
    assert!(started.success());

    let pids: Vec<String> = [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "watchdog",
    ]
    .iter()
    .map(|part| {
        std::fs::read_to_string(dir.path().join(format!("{part}.pid")))
            .unwrap_or_else(|_| panic!("{part}.pid"))
            .trim()
            .to_owned()
    })
    .collect();
    assert!(pids.iter().all(|pid| alive(pid)), "all parts run");

    owner.kill().expect("kill the owner");
    owner.wait().expect("reap the owner");
    let deadline = Instant::now() + Duration::from_secs(30);
    while pids.iter().any(|pid| alive(pid)) {
        assert!(
            Instant::now() < deadline,
            "parts still running 30 s after their owner died"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        !dir.path().join("kubeconfig").exists(),
        "credentials are deleted"
    );
    assert!(
        dir.path().join("kube-apiserver.log").exists(),
        "logs are kept"
    );
}
