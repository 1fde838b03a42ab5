//! A user takes a savepoint of a Flink application's job from its instance
//! page, finds it in the list of its savepoints and checkpoints, and
//! redeploys the application from it.
//!
//! On the simulated cluster: an application without a savepoint directory
//! refuses the savepoint next to the button, and a viewer may not take one;
//! with S3 storage the stand-in operator walks the FlinkStateSnapshot (owned
//! by the FlinkDeployment) to completed, an upgrade's savepoint is listed as
//! an `upgrade` one, and a redeploy is a new revision that writes
//! `initialSavepointPath`, `savepointRedeployNonce` and the explicit
//! `allowNonRestoredState`, after which the job runs again from it; later
//! updates and a rollback keep those fields (no second redeploy).

mod common;

use std::time::Duration;

use common::Portal;
use common::application::{self, JAR, install_application};
use common::operator::eventually;
use dataport::crd::{FlinkDeployment, FlinkStateSnapshot};
use dataport::service::Role;
use kube::api::Api;
use serde_json::{Value, json};

/// The application's savepoints list once `done` holds for it (90 s at most).
async fn wait_for_snapshots(
    portal: &Portal,
    id: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    application::wait_for_snapshots(portal, id, what, Duration::from_secs(90), done).await
}

#[tokio::test]
async fn an_application_without_a_savepoint_directory_refuses_and_viewers_may_not_take_one() {
    let (portal, database, namespace) = Portal::on_test_cluster("app-savepoint-none").await;
    let id = install_application(&portal, &namespace, false, json!({})).await;

    let take = format!("/api/v1/instances/{id}/savepoints");
    let (status, refused) = portal.post_json(&take, &json!({})).await;
    assert_eq!(status, 400, "{refused}");
    let why = refused["error"]["fields"]["savepoint"].as_str().unwrap();
    assert!(
        why.starts_with("orders keeps no savepoints: it has no savepoint directory"),
        "{why}"
    );
    // The instance page says it next to the button, in the job's section.
    let (status, _, html) = portal
        .post_form(&format!("/instances/{id}/savepoints"), &[])
        .await;
    assert_eq!(status, 400);
    assert!(
        html.contains("data-application-job")
            && html.contains(r#"id="e-savepoint""#)
            && html.contains("keeps no savepoints"),
        "the refusal is next to the button"
    );
    assert!(html.contains("data-take-savepoint") && html.contains("data-no-snapshots"));

    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/redeploy"),
            &json!({"initialSavepointPath": "s3://flink/sp/savepoint-1", "allowNonRestoredState": false}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]["fields"]["initialSavepointPath"]
            .as_str()
            .unwrap()
            .contains("keeps no savepoints"),
        "{refused}"
    );

    // Taking a savepoint and redeploying are an operator's: a viewer gets 403
    // and sees no buttons.
    let viewer = portal.client_as(&database.url, "vera", Role::Viewer).await;
    for path in [take.clone(), format!("/api/v1/instances/{id}/redeploy")] {
        let answer = viewer
            .post(format!("{}{path}", portal.base))
            .json(&json!({"initialSavepointPath": "s3://b/sp", "allowNonRestoredState": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 403, "{path}");
    }
    let page = common::text_of(&viewer, &format!("{}/instances/{id}", portal.base)).await;
    assert!(page.contains("data-application-job") && !page.contains("data-take-savepoint"));
    let (status, _) = portal.get_json(&take).await;
    assert_eq!(status, 200, "anyone logged in reads the list");

    let client = common::cluster::shared().client().await;
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client, &namespace);
    assert!(
        snapshots
            .list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing was asked of the operator"
    );
    let (entries, _) = database.store().await.audit_page(100, 0).await.unwrap();
    assert!(
        entries.iter().any(|e| e.action == "take savepoint"
            && e.target.ends_with("orders")
            && e.result.starts_with("refused")),
        "the refusal is audited: {entries:?}"
    );
}

#[tokio::test]
async fn an_application_takes_a_savepoint_and_is_redeployed_from_it() {
    let (portal, _database, namespace) = Portal::on_test_cluster("app-savepoint").await;
    let id = install_application(&portal, &namespace, true, json!({})).await;

    // Take one: a FlinkStateSnapshot of the FlinkDeployment, owned by it.
    let (status, taken) = portal
        .post_json(&format!("/api/v1/instances/{id}/savepoints"), &json!({}))
        .await;
    assert_eq!(status, 201, "{taken}");
    let name = taken["name"].as_str().unwrap().to_owned();
    assert!(name.starts_with("orders-savepoint-manual-"), "{name}");
    let client = common::cluster::shared().client().await;
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client.clone(), &namespace);
    let snapshot = snapshots.get(&name).await.unwrap();
    let reference = snapshot.spec.job_reference.clone().unwrap();
    assert_eq!(
        serde_json::to_value(&reference).unwrap(),
        json!({"kind": "FlinkDeployment", "name": "orders"})
    );
    let owner = &snapshot.metadata.owner_references.clone().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("FlinkDeployment", "orders")
    );
    let list = wait_for_snapshots(&portal, &id, "the savepoint completed", |list| {
        list.iter()
            .any(|s| s["name"] == name && s["state"] == "completed")
    })
    .await;
    let listed = list.iter().find(|s| s["name"] == name).unwrap();
    assert_eq!(
        (listed["kind"].as_str(), listed["trigger"].as_str()),
        (Some("savepoint"), Some("manual"))
    );
    let path = listed["path"].as_str().unwrap().to_owned();
    assert!(
        path.starts_with(&format!(
            "s3://flink/{namespace}/orders/savepoints/savepoint-"
        )),
        "{path}"
    );
    let (status, page) = portal.get(&format!("/instances/{id}")).await;
    assert!(
        page.contains("data-application-job") && page.contains(&path),
        "the instance page lists it: {status} {}",
        page.split("data-application-job")
            .nth(1)
            .and_then(|p| p.split("data-redeploy-form").next())
            .unwrap_or(&page)
    );
    assert!(
        page.contains(&format!(r#"<option value="{path}">"#)),
        "and offers it to redeploy from"
    );
    assert!(!page.contains("data-new-job-from"), "no session job links");
    // With JavaScript on, the list follows the cluster live.
    let mut live = portal
        .http
        .get(format!("{}/instances/{id}/live/savepoints", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let first = tokio::time::timeout(Duration::from_secs(10), live.chunk())
        .await
        .expect("an event within 10 s")
        .unwrap()
        .unwrap();
    let first = String::from_utf8_lossy(&first);
    assert!(
        first.starts_with("event: savepoints") && first.contains(&path),
        "{first}"
    );
    drop(live);

    // A typed path off the cluster's storage is refused next to its field, kept.
    let (status, _, html) = portal
        .post_form(
            &format!("/instances/{id}/redeploy"),
            &[("initialSavepointPath", "hdfs://nn:8020/sp/savepoint-1")],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        html.contains(r#"id="e-initialSavepointPath""#)
            && html.contains("A savepoint of this cluster is a s3:// path")
            && html.contains(r#"value="hdfs://nn:8020/sp/savepoint-1""#),
        "the refusal is next to the path, which stays"
    );

    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let before = deployments.get("orders").await.unwrap();
    let old_job_id = before.status.unwrap().job_status.unwrap().job_id.unwrap();

    // Redeploy from the chosen one, with JavaScript off: a new revision.
    let (status, location, body) = portal
        .post_form(
            &format!("/instances/{id}/redeploy"),
            &[("chosen", path.as_str()), ("initialSavepointPath", "")],
        )
        .await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(
        location.as_deref(),
        Some(format!("/instances/{id}#savepoints").as_str())
    );
    let updated = portal
        .wait_for_instance(&id, "the redeploy applied", |instance| {
            instance["instance"]["current_revision"] == 2
                && instance["operations"][0]["state"] == "succeeded"
        })
        .await;
    assert_eq!(updated["operations"][0]["kind"], "update");
    let deployment = deployments.get("orders").await.unwrap();
    let spec_job = deployment.spec.job.clone().unwrap();
    assert_eq!(
        spec_job.initial_savepoint_path.as_deref(),
        Some(path.as_str())
    );
    assert_eq!(spec_job.savepoint_redeploy_nonce, Some(1));
    assert_eq!(spec_job.allow_non_restored_state, Some(false));

    // The stand-in cancels the job and deploys it again from the savepoint.
    let restarted = eventually(Duration::from_secs(90), "the job running again", || async {
        let job = deployments.get("orders").await.ok()?.status?.job_status?;
        (job.state.as_deref() == Some("RUNNING") && job.job_id.as_ref() != Some(&old_job_id))
            .then_some(job)
    })
    .await;
    assert_eq!(
        restarted.upgrade_savepoint_path.as_deref(),
        Some(path.as_str())
    );

    // A later update keeps the start fields: it does not redeploy again, and
    // its upgrade savepoint is listed as the operator's `upgrade` one.
    let (status, operation) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/update"),
            &json!({"revision": 2, "params": {"operator": "flink-operator", "jarURI": JAR,
                "parallelism": 2, "upgradeMode": "savepoint", "highAvailability": true,
                "haType": "kubernetes", "storage": "s3", "minio": "minio"}}),
        )
        .await;
    assert_eq!(status, 202, "{operation}");
    let list = wait_for_snapshots(&portal, &id, "the upgrade savepoint listed", |list| {
        list.iter()
            .any(|s| s["trigger"] == "upgrade" && s["state"] == "completed")
    })
    .await;
    let upgrade = list.iter().find(|s| s["trigger"] == "upgrade").unwrap();
    assert!(
        upgrade["path"].as_str().unwrap().starts_with(&format!(
            "s3://flink/{namespace}/orders/savepoints/savepoint-"
        )),
        "{upgrade}"
    );
    let deployment = deployments.get("orders").await.unwrap();
    let spec_job = deployment.spec.job.unwrap();
    assert_eq!(spec_job.savepoint_redeploy_nonce, Some(1));
    assert_eq!(spec_job.parallelism, Some(2));

    // The redeploy is in the history: rolling back to the install's revision
    // restores its parameters and keeps the start fields (no second redeploy).
    portal
        .wait_for_instance(&id, "the update applied", |instance| {
            instance["instance"]["current_revision"] == 3
                && instance["operations"][0]["state"] == "succeeded"
        })
        .await;
    let (status, operation) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/rollback"),
            &json!({"revision": 1}),
        )
        .await;
    assert_eq!(status, 202, "{operation}");
    portal
        .wait_for_instance(&id, "rolled back", |instance| {
            instance["instance"]["current_revision"] == 4
                && instance["operations"][0]["state"] == "succeeded"
        })
        .await;
    let spec_job = deployments.get("orders").await.unwrap().spec.job.unwrap();
    assert_eq!(spec_job.parallelism, Some(1));
    assert_eq!(spec_job.savepoint_redeploy_nonce, Some(1));
    assert_eq!(
        spec_job.initial_savepoint_path.as_deref(),
        Some(path.as_str())
    );
}
