//! Checks shared by the savepoint tests: a deleted snapshot leaves the
//! cluster, and the deletion (and a refusal) is in the audit log.

use std::time::Duration;

use dataport::crd::FlinkStateSnapshot;
use dataport::service::Role;
use kube::api::Api;
use serde_json::Value;

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

/// Asserts that a viewer (made as `vera` in the database at `database_url`)
/// is refused the deletion at `api` (a path) with 403.
pub async fn assert_a_viewer_may_not_delete(portal: &Portal, database_url: &str, api: &str) {
    let viewer = portal.client_as(database_url, "vera", Role::Viewer).await;
    let answer = viewer
        .delete(format!("{}{api}", portal.base))
        .send()
        .await
        .expect("DELETE as a viewer");
    assert_eq!(answer.status(), 403);
}

/// Creates FlinkStateSnapshot `object` (its JSON) in `snapshots`, as the
/// operator or a user would.
pub async fn create_snapshot(snapshots: &Api<FlinkStateSnapshot>, object: Value) {
    let snapshot: FlinkStateSnapshot =
        serde_json::from_value(object).expect("a FlinkStateSnapshot");
    snapshots
        .create(&Default::default(), &snapshot)
        .await
        .expect("create the snapshot");
}
