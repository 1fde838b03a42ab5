//! A user deletes a savepoint of a session job from its list, on the
//! simulated cluster: the portal sets `disposeOnDelete` and deletes the
//! FlinkStateSnapshot, the stand-in operator's finalizer lets it go (on a
//! simulated session there are no files for Flink to dispose of), it leaves
//! the list and the audit log says who did it. A savepoint still in progress
//! is refused next to the button (409 in the API), the job's start savepoint
//! asks for the tick, and a viewer may not delete one.
//!
//! The disposal of real files by real Flink is in
//! `take_a_savepoint_and_start_from_it.rs` (its real-Flink part).

mod common;

use std::time::Duration;

use common::Portal;
use common::savepoints::{
    assert_a_viewer_may_not_delete, assert_deletion_audited, create_snapshot, until_snapshot_gone,
};
use dataport::crd::FlinkStateSnapshot;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

/// A JAR on a public https host (an RFC 5737 address: no DNS needed).
const JAR: &str = "https://198.51.100.7/jobs/etl.jar";

/// Takes a savepoint of `etl` and waits until the list shows it completed;
/// returns its listing.
async fn completed_savepoint(portal: &Portal, id: &str) -> Value {
    let (status, taken) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/savepoints"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{taken}");
    let name = taken["name"].as_str().unwrap().to_owned();
    listed(portal, id, "the savepoint completed", |list| {
        list.iter()
            .find(|s| s["name"] == name.as_str() && s["state"] == "completed")
            .cloned()
    })
    .await
}

/// Polls the list of `etl` until `find` finds something in it (60 s).
async fn listed<T>(
    portal: &Portal,
    id: &str,
    what: &str,
    find: impl Fn(&[Value]) -> Option<T>,
) -> T {
    let path = format!("/api/v1/instances/{id}/jobs/etl/savepoints");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, list) = portal.get_json(&path).await;
        if status == 200
            && let Some(found) = find(list.as_array().map(Vec::as_slice).unwrap_or_default())
        {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never {what}: {status} {list}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn a_completed_savepoint_leaves_the_list_and_one_in_progress_is_refused() {
    let (portal, database, namespace) = Portal::on_test_cluster("savepoint-delete").await;
    let id = portal.install_flink_session(&namespace, true).await;
    let (status, submitted) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR, "upgradeMode": "savepoint"}}),
        )
        .await;
    assert_eq!(status, 201, "{submitted}");
    portal
        .wait_for_job(&id, "etl", "running", Duration::from_secs(60), |job| {
            job["state"] == "RUNNING"
        })
        .await;
    let savepoint = completed_savepoint(&portal, &id).await;
    let name = savepoint["name"].as_str().unwrap().to_owned();
    let path = savepoint["path"].as_str().unwrap().to_owned();
    assert_eq!(
        savepoint["size"],
        Value::Null,
        "a simulated cluster reports no sizes"
    );

    // The row offers it; the confirmation says what goes.
    let (_, page) = portal.get(&format!("/instances/{id}/jobs/etl")).await;
    let delete = format!("/instances/{id}/jobs/etl/savepoints/{name}/delete");
    assert!(
        page.contains(&format!(r#"href="{delete}" data-delete-savepoint"#)),
        "the row links to its deletion"
    );
    let (status, confirm) = portal.get(&delete).await;
    assert_eq!(status, 200);
    assert!(
        confirm.contains("Delete savepoint and its files")
            && confirm.contains(&path)
            && confirm.contains("disposes of"),
        "{confirm}"
    );

    // A viewer may not.
    let api = format!("/api/v1/instances/{id}/jobs/etl/savepoints/{name}");
    assert_a_viewer_may_not_delete(&portal, &database.url, &api).await;

    // One in progress (as the operator records a triggered savepoint; the
    // stand-in leaves one without a trigger id as it is) is refused.
    let client = common::cluster::shared().client().await;
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client.clone(), &namespace);
    create_snapshot(
        &snapshots,
        json!({
            "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkStateSnapshot",
            "metadata": {"name": "etl-in-flight", "namespace": namespace},
            "spec": {"jobReference": {"kind": "FlinkSessionJob", "name": "analytics-etl"},
                "savepoint": {"disposeOnDelete": false}},
        }),
    )
    .await;
    // The stand-in may have triggered it (a trigger id, then completed)
    // before the patch: without a trigger id it is left in progress, so the
    // patch is made until the state holds.
    common::operator::eventually(
        std::time::Duration::from_secs(30),
        "the snapshot stays in progress",
        || async {
            snapshots
                .patch_status(
                    "etl-in-flight",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": {"state": "IN_PROGRESS",
                        "triggerId": null, "path": null, "resultTimestamp": null}})),
                )
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let now = snapshots.get("etl-in-flight").await.ok()?;
            (now.status?.state == Some(dataport::crd::SnapshotState::InProgress)).then_some(())
        },
    )
    .await;
    listed(&portal, &id, "the one in progress listed", |list| {
        list.iter()
            .find(|s| s["name"] == "etl-in-flight" && s["state"] == "in progress")
            .map(|_| ())
    })
    .await;
    let answer = portal
        .http
        .delete(format!(
            "{}/api/v1/instances/{id}/jobs/etl/savepoints/etl-in-flight",
            portal.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 409);
    let refused: Value = answer.json().await.unwrap();
    assert!(
        refused.to_string().contains("is still in progress"),
        "{refused}"
    );
    let (status, _, html) = portal
        .post_form(
            &format!("/instances/{id}/jobs/etl/savepoints/etl-in-flight/delete"),
            &[],
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        html.contains(r#"id="e-confirm""#) && html.contains("is still in progress"),
        "the refusal is next to the button"
    );
    assert!(snapshots.get_opt("etl-in-flight").await.unwrap().is_some());

    // The form, as without JavaScript: back to the list, and the stand-in's
    // finalizer lets the object go.
    let (status, location, _) = portal.post_form(&delete, &[]).await;
    assert_eq!(status, 303);
    assert_eq!(
        location.as_deref(),
        Some(format!("/instances/{id}/jobs/etl?deleted_savepoint={name}#savepoints").as_str())
    );
    until_snapshot_gone(&snapshots, &name).await;
    listed(&portal, &id, "the savepoint off the list", |list| {
        (!list.iter().any(|s| s["name"] == name.as_str())).then_some(())
    })
    .await;

    assert_deletion_audited(&portal, "job etl", &path).await;
}

#[tokio::test]
async fn the_savepoint_a_job_started_from_is_deleted_only_when_the_user_says_so() {
    let (portal, _database, namespace) = Portal::on_test_cluster("savepoint-delete-start").await;
    let id = portal.install_flink_session(&namespace, true).await;
    let (status, submitted) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR, "upgradeMode": "savepoint"}}),
        )
        .await;
    assert_eq!(status, 201, "{submitted}");
    portal
        .wait_for_job(&id, "etl", "running", Duration::from_secs(60), |job| {
            job["state"] == "RUNNING"
        })
        .await;
    let savepoint = completed_savepoint(&portal, &id).await;
    let name = savepoint["name"].as_str().unwrap().to_owned();
    let path = savepoint["path"].as_str().unwrap().to_owned();
    let (status, redeployed) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/redeploy"),
            &json!({"initialSavepointPath": path, "allowNonRestoredState": false}),
        )
        .await;
    assert_eq!(status, 200, "{redeployed}");
    listed(&portal, &id, "the start savepoint marked", |list| {
        list.iter()
            .find(|s| s["name"] == name.as_str() && s["start_point"] == true)
            .map(|_| ())
    })
    .await;
    let (_, page) = portal.get(&format!("/instances/{id}/jobs/etl")).await;
    assert!(page.contains("data-start-point"), "the row says so");
    // The confirmation is offered once the redeploy is done (while the job
    // redeploys, the page rightly refuses any deletion).
    let delete = format!("/instances/{id}/jobs/etl/savepoints/{name}/delete");
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let (_, confirm) = portal.get(&delete).await;
        if confirm.contains(r#"name="deleteStartSavepoint""#) {
            assert!(
                confirm.contains("initialSavepointPath points here"),
                "the confirmation says why it asks for the tick"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the confirmation never asked for the tick: {confirm}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    portal
        .wait_for_job(
            &id,
            "etl",
            "running again",
            Duration::from_secs(90),
            |job| job["state"] == "RUNNING",
        )
        .await;

    let api = format!("/api/v1/instances/{id}/jobs/etl/savepoints/{name}");
    let answer = portal
        .http
        .delete(format!("{}{api}", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let refused: Value = answer.json().await.unwrap();
    assert!(
        refused["error"]["fields"]["deleteStartSavepoint"]
            .as_str()
            .is_some_and(|why| why.contains("tick the box")),
        "{refused}"
    );
    let (status, _, html) = portal.post_form(&delete, &[]).await;
    assert_eq!(status, 400);
    assert!(
        html.contains(r#"id="e-deleteStartSavepoint""#),
        "next to the box"
    );

    let answer = portal
        .http
        .delete(format!("{}{api}?deleteStartSavepoint=true", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let client = common::cluster::shared().client().await;
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client, &namespace);
    until_snapshot_gone(&snapshots, &name).await;
}
