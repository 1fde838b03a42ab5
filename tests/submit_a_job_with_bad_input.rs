//! Bad job input gets clear messages next to its fields and applies nothing:
//! a JAR URI that is not one, negative parallelism, a savepoint upgrade mode
//! on a session without checkpoint storage, a taken name, and suspending a
//! stateless job without agreeing to drop its state. The Flink application
//! form refuses a savepoint mode without HA the same way.

mod common;

use common::Portal;
use dataport::crd::FlinkSessionJob;
use kube::api::{Api, ListParams};
use serde_json::json;

/// A JAR on a public https host: what an operator with default settings fetches.
const JAR: &str = "https://repo.example.org/jobs/etl.jar";

#[tokio::test]
async fn bad_jobs_are_refused_by_field_and_nothing_is_applied() {
    let (portal, _database, namespace) = Portal::on_test_cluster("jobs-bad").await;
    let id = portal.install_flink_session(&namespace, false).await;
    let client = common::cluster::shared().client().await;
    let session_jobs: Api<FlinkSessionJob> = Api::namespaced(client, &namespace);

    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "Bad Name", "params": {"jarURI": "job.jar", "parallelism": -1, "upgradeMode": "savepoint"}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let fields = &refused["error"]["fields"];
    assert_eq!(
        fields["jarURI"],
        "JAR URI must be a URI to a file starting with https://, http://, s3://, s3a://, s3p://, \
         hdfs://, gs://, abfss://, file:// or local://"
    );
    assert_eq!(
        fields["parallelism"],
        "Parallelism must be between 1 and 1024"
    );
    assert!(
        fields["upgradeMode"]
            .as_str()
            .unwrap()
            .starts_with("Upgrade mode savepoint needs high availability with checkpoint storage"),
        "{fields}"
    );
    assert!(fields["name"].as_str().unwrap().starts_with("Name must be"));

    // The operator downloads a session job's JAR itself: with its default
    // settings only https:// on a public host, refused by the field.
    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": "local:///x.jar"}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"]["fields"]["jarURI"].as_str().unwrap();
    assert!(
        message.starts_with("JAR URI scheme 'local' is not in the allowlist [https] of operator"),
        "{message}"
    );
    assert!(message.contains("Allowed jar URI schemes"), "{message}");
    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": "https://minio.data.svc:9000/jobs/etl.jar"}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]["fields"]["jarURI"]
            .as_str()
            .unwrap()
            .contains("in-cluster, local or private"),
        "{refused}"
    );
    let (status, _, html) = portal
        .post_form(
            &format!("/instances/{id}/jobs"),
            &[("name", "etl"), ("jarURI", "local:///x.jar")],
        )
        .await;
    assert_eq!(status, 400);
    assert!(html.contains(r#"id="e-jarURI""#), "the field says why");
    assert!(html.contains("is not in the allowlist [https]"));
    let (_, form) = portal.get(&format!("/instances/{id}/jobs/new")).await;
    assert!(
        form.contains("e.g. https://repo.example.org/jobs/etl.jar")
            && !form.contains("local:///opt/flink/examples"),
        "the hint follows the operator's settings"
    );

    // The form says the same next to each field and keeps what was typed.
    let (status, _, html) = portal
        .post_form(
            &format!("/instances/{id}/jobs"),
            &[
                ("name", "etl"),
                ("jarURI", "s3:/no-host"),
                ("parallelism", "-4"),
                ("upgradeMode", "last-state"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(html.contains(r#"id="e-jarURI""#) && html.contains(r#"value="s3:/no-host""#));
    assert!(html.contains(r#"id="e-parallelism""#) && html.contains(r#"value="-4""#));
    assert!(html.contains("Upgrade mode last-state needs high availability"));
    assert!(html.contains("data-no-storage"), "the page says why");
    assert!(
        session_jobs
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing applied"
    );
    let (_, jobs) = portal
        .get_json(&format!("/api/v1/instances/{id}/jobs"))
        .await;
    assert_eq!(jobs, json!([]), "nothing stored");

    // A stateless job runs; suspending it drops its state, so it needs a yes.
    let (status, _) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR}}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, taken) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR}}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        taken["error"]["fields"]["name"]
            .as_str()
            .unwrap()
            .contains("exists already")
    );

    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/suspend"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]["fields"]["dropState"]
            .as_str()
            .unwrap()
            .contains("its cluster has no checkpoint storage")
    );
    let (status, _, html) = portal
        .post_form(&format!("/instances/{id}/jobs/etl/suspend"), &[])
        .await;
    assert_eq!(status, 400);
    assert!(html.contains(r#"id="e-dropState""#) && html.contains("Suspend without a savepoint"));
    assert!(
        !html.contains("data-errors"),
        "the upgrade form has nothing to fix"
    );
    let object = session_jobs.get("analytics-etl").await.unwrap();
    assert_eq!(
        serde_json::to_value(object.spec.job.state).unwrap(),
        "running",
        "the refused suspend applied nothing"
    );
    let (_, job) = portal
        .get_json(&format!("/api/v1/instances/{id}/jobs/etl"))
        .await;
    assert_eq!(job["wish"], "running");

    // With the yes, it is suspended.
    let (status, _, _) = portal
        .post_form(
            &format!("/instances/{id}/jobs/etl/suspend"),
            &[("dropState", "true")],
        )
        .await;
    assert_eq!(status, 303);
    let object = session_jobs.get("analytics-etl").await.unwrap();
    assert_eq!(
        serde_json::to_value(object.spec.job.state).unwrap(),
        "suspended"
    );

    // Jobs run on session clusters only; unknown jobs are 404.
    let (_, instances) = portal
        .get_json("/api/v1/instances?app=flink-kubernetes-operator")
        .await;
    let operator = instances["instances"][0]["id"].as_str().unwrap();
    let (status, _) = portal
        .post_json(
            &format!("/api/v1/instances/{operator}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR}}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = portal
        .get(&format!("/api/v1/instances/{id}/jobs/nope"))
        .await;
    assert_eq!(status, 404);
    let (status, html) = portal.get(&format!("/instances/{id}/jobs/nope")).await;
    assert_eq!(status, 404);
    assert!(html.contains("no job named"));
}

#[tokio::test]
async fn a_flink_application_with_a_savepoint_mode_needs_ha() {
    let (portal, _database) = Portal::on_sqlite().await;
    let (status, refused) = portal
        .post_json(
            "/api/v1/preview",
            &json!({"app": "flink-application", "name": "orders", "namespace": "data",
                    "params": {"operator": "op", "jarURI": "ftp://jars/orders.jar", "parallelism": 0, "upgradeMode": "last-state"}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let fields = &refused["error"]["fields"];
    assert!(
        fields["jarURI"]
            .as_str()
            .unwrap()
            .contains("file:// or local://")
    );
    assert_eq!(
        fields["parallelism"],
        "Parallelism must be between 1 and 1024"
    );
    assert_eq!(
        fields["upgradeMode"],
        "Upgrade mode last-state needs high availability with checkpoint storage: \
         turn high availability on, or use stateless"
    );
}
