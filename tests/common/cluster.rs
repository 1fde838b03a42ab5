//! The real control plane for integration tests: etcd, kube-apiserver and
//! kube-controller-manager from `testenv/`, the Flink operator 1.15.0's own
//! CRDs, and the simulator.
//!
//! One control plane per test binary, started on first use; tests isolate
//! themselves by namespace. It is stopped by `testenv/controlplane.sh`'s
//! watchdog when the test process ends, however it ends (a static is never
//! dropped, and a panicking or killed process runs no destructor).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use dataport::cluster::Cluster;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, PostParams};

/// A running control plane.
pub struct TestCluster {
    /// Its throwaway folder: logs, certificates, pids.
    pub dir: PathBuf,
    /// Its admin kubeconfig.
    pub kubeconfig: PathBuf,
}

static SHARED: OnceLock<TestCluster> = OnceLock::new();
static REAL_FLINK: OnceLock<TestCluster> = OnceLock::new();

/// The Flink release the real journeys run (assembled from Maven by
/// `testenv/flink/assemble.sh`; see testenv/flink/RELEASES.md).
pub const REAL_FLINK_RELEASE: &str = "1.20.0";

/// The Flink 2 release the real journeys run.
pub const REAL_FLINK_2_RELEASE: &str = "2.0.0";

/// The control plane of this test binary, started on first call.
pub fn shared() -> &'static TestCluster {
    SHARED.get_or_init(|| start("shared"))
}

/// A control plane of this test binary whose node runs Flink's pods as real
/// Flink processes (`dataport simulate --run-processes`); assembles Flink
/// [`REAL_FLINK_RELEASE`] and [`REAL_FLINK_2_RELEASE`] and their native
/// clients, S3Proxy, mc-standin, the pod-address HTTP server provider,
/// Prometheus and ZooKeeper first (cached).
pub fn real_flink() -> &'static TestCluster {
    REAL_FLINK.get_or_init(|| {
        for release in [REAL_FLINK_RELEASE, REAL_FLINK_2_RELEASE] {
            for script in ["testenv/flink/assemble.sh", "testenv/flink/deployer.sh"] {
                let status = Command::new(repo().join(script))
                    .arg(release)
                    .stdout(Stdio::null())
                    .status()
                    .expect("run a testenv/flink script");
                assert!(status.success(), "{script} {release} failed");
            }
        }
        // MinIO's stand-ins: S3Proxy for its server, mc-standin for its client;
        // the HTTP server provider that gives each Flink pod its metrics port;
        // the Prometheus server the node runs for prom/prometheus pods; ZooKeeper.
        for script in [
            "testenv/s3/assemble.sh",
            "testenv/s3/mc-standin/build.sh",
            "testenv/flink/pod-address-httpserver/build.sh",
            "testenv/prometheus/build.sh",
            "testenv/zookeeper/assemble.sh",
        ] {
            let status = Command::new(repo().join(script))
                .stdout(Stdio::null())
                .status()
                .expect("run a testenv script");
            assert!(status.success(), "{script} failed");
        }
        start_with("real-flink", true)
    })
}

/// A control plane of the calling test's own, which it may break (stop its
/// API server); stopped with the test process like the shared one.
pub fn private(name: &str) -> TestCluster {
    start(name)
}

/// A control plane of the calling test's own with no CRDs and no simulator:
/// for tests of installing the CRDs themselves.
pub fn bare(name: &str) -> TestCluster {
    let started = Instant::now();
    let cluster = control_plane(name);
    let _ = writeln!(
        std::io::stderr(),
        "bare test control plane up in {:.1} s in {}",
        started.elapsed().as_secs_f64(),
        cluster.dir.display()
    );
    cluster
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The CRDs flink-kubernetes-operator 1.15.0 ships
/// (helm/flink-kubernetes-operator/crds/ at release-1.15.0), kept next to the project.
pub fn official_crds() -> PathBuf {
    repo().join("../shared/upstream/flink-kubernetes-operator-1.15.0/crds")
}

/// etcd, kube-apiserver and kube-controller-manager in a folder named after `name`.
fn control_plane(name: &str) -> TestCluster {
    let dir = std::env::temp_dir().join(format!("dataport-cp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new(repo().join("testenv/controlplane.sh"))
        .arg("start")
        .arg(&dir)
        .arg("--watch-pid")
        .arg(std::process::id().to_string())
        .stdout(Stdio::null())
        .status()
        .expect("run testenv/controlplane.sh");
    assert!(
        status.success(),
        "control plane failed to start; logs in {}",
        dir.display()
    );
    let kubeconfig = dir.join("kubeconfig");
    TestCluster { dir, kubeconfig }
}

fn start(name: &str) -> TestCluster {
    start_with(name, false)
}

fn start_with(name: &str, real_flink: bool) -> TestCluster {
    let started = Instant::now();
    let TestCluster { dir, kubeconfig } = control_plane(name);
    let dataport = env!("CARGO_BIN_EXE_dataport");
    // The operator release's own CRDs, not dataport's: every test then checks
    // what dataport renders (pod templates included) against the official schemas.
    let crds = Command::new(dataport)
        .args(["crds", "--install", "--from"])
        .arg(official_crds())
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .status()
        .expect("run dataport crds --install --from");
    assert!(crds.success(), "Flink CRDs failed to install");
    // The simulator's pid goes with the control plane's: `controlplane.sh stop`
    // (and so the watchdog) ends every process with a pid file in the folder.
    let log = std::fs::File::create(dir.join("simulator.log")).expect("simulator log");
    let mut simulator = Command::new(dataport);
    simulator
        .args(["simulate", "--kubeconfig"])
        .arg(&kubeconfig);
    if real_flink {
        simulator
            .arg("--run-processes")
            .arg("--process-root")
            .arg(dir.join("node"));
    }
    let mut simulator = simulator
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .expect("start dataport simulate");
    std::fs::write(dir.join("simulator.pid"), simulator.id().to_string()).expect("pid file");
    // Reap it when it ends, so that a simulator that dies early leaves no zombie.
    std::thread::spawn(move || simulator.wait());
    // Straight to stderr: the test harness captures eprintln!, and this line
    // (with the script's own timings) should show in every run.
    let _ = writeln!(
        std::io::stderr(),
        "test control plane up in {:.1} s (control plane, CRDs, simulator) in {}",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    TestCluster { dir, kubeconfig }
}

impl TestCluster {
    /// Stops only the API server (etcd and the data stay); connections are refused.
    pub fn stop_api_server(&self) {
        self.script("apiserver-stop");
    }

    /// Starts the API server again on the same address; returns once it is ready.
    pub fn start_api_server(&self) {
        self.script("apiserver-start");
    }

    fn script(&self, command: &str) {
        let status = Command::new(repo().join("testenv/controlplane.sh"))
            .arg(command)
            .arg(&self.dir)
            .stdout(Stdio::null())
            .status()
            .expect("run testenv/controlplane.sh");
        assert!(status.success(), "controlplane.sh {command} failed");
    }

    /// A client for this test's runtime (a kube client belongs to the runtime that made it).
    pub async fn client(&self) -> Client {
        self.cluster().await.client().clone()
    }

    /// The portal's own cluster handle for this test's runtime.
    pub async fn cluster(&self) -> Cluster {
        Cluster::connect_required(Some(&self.kubeconfig))
            .await
            .expect("connect to the test control plane")
    }

    /// A new namespace named after the test, unique across runs.
    pub async fn namespace(&self, prefix: &str) -> String {
        let name = format!(
            "{prefix}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let namespaces: Api<Namespace> = Api::all(self.client().await);
        let namespace: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name}
        }))
        .expect("namespace object");
        namespaces
            .create(&PostParams::default(), &namespace)
            .await
            .expect("create namespace");
        name
    }
}

/// Java processes the process node started for pods of `namespace` (their
/// sandbox is under `<control plane>/node/<namespace>/`): the start of each
/// command line.
pub fn java_processes_of(namespace: &str) -> Vec<String> {
    java_processes_of_pods(namespace, "")
}

/// As [`java_processes_of`], for the pods whose name starts with `prefix`.
pub fn java_processes_of_pods(namespace: &str, prefix: &str) -> Vec<String> {
    let marker = format!("/node/{namespace}/{prefix}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let java = cmdline.starts_with("java") || cmdline.contains("/java ");
        if java && cmdline.contains(&marker) {
            found.push(cmdline.chars().take(160).collect());
        }
    }
    found
}

/// dataport's Flink test job built for Flink `release` (`testenv/flink-test-job/build.sh`,
/// which reuses its build until the job's sources change).
pub fn test_job_jar(release: &str) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testenv/flink-test-job/build.sh");
    let output = std::process::Command::new(script)
        .arg(release)
        .output()
        .expect("run testenv/flink-test-job/build.sh");
    assert!(
        output.status.success(),
        "the test job did not build: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// Serves the file at `path` over HTTP on a loopback port, as an artifact
/// server would; returns its URL (the server lives as long as the test's runtime).
pub async fn serve_file(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read the file to serve");
    let name = path
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    let route = format!("/artifacts/{name}");
    let app = axum::Router::new().route(
        &route,
        axum::routing::get(move || {
            let bytes = bytes.clone();
            async move { bytes }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}{route}")
}
