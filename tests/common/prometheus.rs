//! A real Prometheus as the tests use it: the server and promtool that
//! `testenv/prometheus/build.sh` builds from upstream's Go module (Debian's
//! package has no Kubernetes service discovery), and its HTTP API.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The folder holding `prometheus` and `promtool`, built on first use
/// (cached); fails saying how to get them when they cannot be built.
pub fn built() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testenv/prometheus/build.sh");
    let output = Command::new(&script)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "testenv/prometheus/build.sh could not build Prometheus and promtool (it needs Go and \
         the Go module proxy; `scripts/test.sh` checks for Go): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// Prometheus's answer at `path` (`/api/v1/...`) of the server at `base`
/// (`http://IP:9090`): its `data` when `status` is `success`, else `None`.
pub async fn api(base: &str, path: &str) -> Option<Value> {
    let answer: Value = reqwest::get(format!("{base}{path}"))
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    (answer["status"] == "success").then(|| answer["data"].clone())
}

/// The processes of the Prometheus server built here that the process node
/// runs for pods of `namespace` (their `HOME` is the container's folder on
/// the node), as their command lines.
pub fn processes_of(namespace: &str) -> Vec<String> {
    let marker = format!("/node/{namespace}/");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let program = cmdline.split(' ').next().unwrap_or_default();
        if !program.ends_with("/prometheus") {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if String::from_utf8_lossy(&environ).contains(&marker) {
            found.push(cmdline.chars().take(200).collect());
        }
    }
    found
}
