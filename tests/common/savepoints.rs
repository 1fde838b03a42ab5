//! Checks shared by the savepoint tests: a deleted snapshot leaves the
//! cluster, and the deletion (and a refusal) is in the audit log.

use std::time::Duration;

use dataport::crd::FlinkStateSnapshot;
use kube::api::Api;

use super::Portal;
use super::operator::eventually;

/// Waits (up to a minute: the operator disposes of the files first) until
/// FlinkStateSnapshot `name` is gone from `snapshots`.
pub async fn until_snapshot_gone(snapshots: &Api<FlinkStateSnapshot>, name: &str) {
    eventually(Duration::from_secs(60), "the snapshot gone", || async {
        snapshots
            .get_opt(name)
            .await
            .ok()
            .and_then(|found| found.is_none().then_some(()))
    })
    .await;
}

/// Asserts that the audit log holds a successful "delete savepoint" of the
/// savepoint at `path` on a target ending in `target` (e.g. `job etl`), and
/// a refused one.
pub async fn assert_deletion_audited(portal: &Portal, target: &str, path: &str) {
    let (status, audit) = portal.get_json("/api/v1/audit").await;
    assert_eq!(status, 200);
    let entries = audit["entries"].as_array().expect("entries");
    let deleted = entries
        .iter()
        .find(|e| e["action"] == "delete savepoint" && e["result"] == "ok")
        .unwrap_or_else(|| panic!("no deletion in {audit}"));
    assert!(
        deleted["target"]
            .as_str()
            .unwrap_or_default()
            .ends_with(target)
            && deleted["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(path),
        "{deleted}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "delete savepoint" && e["result"] != "ok"),
        "the refusal is audited too"
    );
}
