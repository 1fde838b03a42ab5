//! A user deletes a savepoint of a Flink application's job from the list on
//! its instance page, on the simulated cluster: the portal sets
//! `disposeOnDelete` and deletes the FlinkStateSnapshot (whose
//! `jobReference` is the FlinkDeployment), the stand-in operator's finalizer
//! lets it go, it leaves the list and the audit log says who did it. A
//! checkpoint is refused next to the button (409 in the API), the savepoint
//! the application was redeployed from (its `initialSavepointPath`) asks for
//! the tick, and a viewer may not delete one.

mod common;

use std::time::Duration;

use common::Portal;
use common::application::{install_application, wait_for_snapshots};
use common::operator::eventually;
use common::savepoints::{
    assert_a_viewer_may_not_delete, assert_deletion_audited, create_snapshot, until_snapshot_gone,
};
use dataport::crd::{FlinkDeployment, FlinkStateSnapshot};
use kube::api::Api;
use serde_json::{Value, json};

/// Takes a savepoint of application `id` and waits until the list shows it
/// completed; returns its listing.
async fn completed_savepoint(portal: &Portal, id: &str) -> Value {
    let (status, taken) = portal
        .post_json(&format!("/api/v1/instances/{id}/savepoints"), &json!({}))
        .await;
    assert_eq!(status, 201, "{taken}");
    let name = taken["name"].as_str().unwrap().to_owned();
    let list = wait_for_snapshots(
        portal,
        id,
        "the savepoint completed",
        Duration::from_secs(60),
        |list| {
            list.iter()
                .any(|s| s["name"] == name.as_str() && s["state"] == "completed")
        },
    )
    .await;
    list.into_iter()
        .find(|s| s["name"] == name.as_str())
        .unwrap()
}

#[tokio::test]
async fn an_applications_savepoint_leaves_the_list_and_a_checkpoint_is_refused() {
    let (portal, database, namespace) = Portal::on_test_cluster("app-savepoint-delete").await;
    let id = install_application(&portal, &namespace, true, json!({})).await;
    let savepoint = completed_savepoint(&portal, &id).await;
    let name = savepoint["name"].as_str().unwrap().to_owned();
    let path = savepoint["path"].as_str().unwrap().to_owned();

    // The row offers it; the confirmation says what goes.
    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    let delete = format!("/instances/{id}/savepoints/{name}/delete");
    assert!(
        page.contains(&format!(r#"href="{delete}" data-delete-savepoint"#)),
        "the row links to its deletion"
    );
    let (status, confirm) = portal.get(&delete).await;
    assert_eq!(status, 200);
    assert!(
        confirm.contains("Delete savepoint and its files")
            && confirm.contains(&path)
            && confirm.contains(&format!(r#"href="/instances/{id}#savepoints""#)),
        "{confirm}"
    );

    // A viewer may not.
    let api = format!("/api/v1/instances/{id}/savepoints/{name}");
    assert_a_viewer_may_not_delete(&portal, &database.url, &api).await;

    // A checkpoint of the application is refused: Flink removes its own.
    let client = common::cluster::shared().client().await;
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client.clone(), &namespace);
    create_snapshot(
        &snapshots,
        json!({
            "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkStateSnapshot",
            "metadata": {"name": "orders-checkpoint", "namespace": namespace},
            "spec": {"jobReference": {"kind": "FlinkDeployment", "name": "orders"},
                "checkpoint": {}},
        }),
    )
    .await;
    wait_for_snapshots(
        &portal,
        &id,
        "the checkpoint listed",
        Duration::from_secs(30),
        |list| {
            list.iter()
                .any(|s| s["name"] == "orders-checkpoint" && s["kind"] == "checkpoint")
        },
    )
    .await;
    let answer = portal
        .http
        .delete(format!(
            "{}/api/v1/instances/{id}/savepoints/orders-checkpoint",
            portal.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 409);
    let refused: Value = answer.json().await.unwrap();
    assert!(refused.to_string().contains("is a checkpoint"), "{refused}");
    let (status, _, html) = portal
        .post_form(
            &format!("/instances/{id}/savepoints/orders-checkpoint/delete"),
            &[],
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        html.contains(r#"id="e-confirm""#) && html.contains("is a checkpoint"),
        "the refusal is next to the button"
    );
    assert!(
        snapshots
            .get_opt("orders-checkpoint")
            .await
            .unwrap()
            .is_some()
    );

    // Deleted through the API: the stand-in's finalizer lets the object go.
    let answer = portal
        .http
        .delete(format!("{}{api}", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let deleted: Value = answer.json().await.unwrap();
    assert_eq!(deleted["name"], name.as_str());
    until_snapshot_gone(&snapshots, &name).await;
    wait_for_snapshots(
        &portal,
        &id,
        "the savepoint off the list",
        Duration::from_secs(30),
        |list| !list.iter().any(|s| s["name"] == name.as_str()),
    )
    .await;

    assert_deletion_audited(&portal, "orders", &path).await;
}

#[tokio::test]
async fn the_savepoint_an_application_was_redeployed_from_needs_the_tick() {
    let (portal, _database, namespace) =
        Portal::on_test_cluster("app-savepoint-delete-start").await;
    let id = install_application(&portal, &namespace, true, json!({})).await;
    let savepoint = completed_savepoint(&portal, &id).await;
    let name = savepoint["name"].as_str().unwrap().to_owned();
    let path = savepoint["path"].as_str().unwrap().to_owned();
    let client = common::cluster::shared().client().await;
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let job_id = |deployment: FlinkDeployment| deployment.status?.job_status?.job_id;
    let old_job = job_id(deployments.get("orders").await.unwrap());
    let (status, redeployed) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/redeploy"),
            &json!({"initialSavepointPath": path, "allowNonRestoredState": false}),
        )
        .await;
    assert_eq!(status, 202, "{redeployed}");
    wait_for_snapshots(
        &portal,
        &id,
        "the start savepoint marked",
        Duration::from_secs(60),
        |list| {
            list.iter()
                .any(|s| s["name"] == name.as_str() && s["start_point"] == true)
        },
    )
    .await;
    // Once the job runs again from it (while it redeploys, the page says it
    // must run first), only the tick is missing.
    eventually(Duration::from_secs(90), "the job running again", || async {
        let job = deployments.get("orders").await.ok()?.status?.job_status?;
        (job.state.as_deref() == Some("RUNNING") && job.job_id != old_job).then_some(())
    })
    .await;
    let delete = format!("/instances/{id}/savepoints/{name}/delete");
    let (_, confirm) = portal.get(&delete).await;
    assert!(
        confirm.contains(r#"name="deleteStartSavepoint""#)
            && confirm.contains("initialSavepointPath points here"),
        "the confirmation asks for the tick: {confirm}"
    );
    let api = format!("{}/api/v1/instances/{id}/savepoints/{name}", portal.base);
    let answer = portal.http.delete(&api).send().await.unwrap();
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
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client, &namespace);
    assert!(snapshots.get_opt(&name).await.unwrap().is_some());

    // Ticked, it goes.
    let answer = portal
        .http
        .delete(format!("{api}?deleteStartSavepoint=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    until_snapshot_gone(&snapshots, &name).await;
}
