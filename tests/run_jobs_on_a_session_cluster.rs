//! A user runs jobs on a Flink session cluster: submit, see them run, suspend
//! through a savepoint, resume, upgrade through a savepoint, delete; and
//! uninstalling the session deletes its jobs first. Against the real API
//! server, with the simulated Flink operator.

mod common;

use std::time::Duration;

use common::Portal;
use dataport::crd::{FlinkDeployment, FlinkSessionJob};
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

/// How long a job takes to reach a state on the simulated session.
const SIMULATED: Duration = Duration::from_secs(60);

/// A JAR on a public https host: what an operator with default settings fetches.
/// An IP literal (RFC 5737 documentation range): a public address the
/// operator needs no DNS for (it refuses a host it cannot resolve).
const JAR: &str = "https://198.51.100.7/jobs/etl.jar";

#[tokio::test]
async fn submit_suspend_with_a_savepoint_resume_upgrade_and_delete_a_job() {
    let (portal, _database, namespace) = Portal::on_test_cluster("jobs").await;
    let id = portal.install_flink_session(&namespace, true).await;

    let (status, submitted) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR, "parallelism": 2, "upgradeMode": "savepoint", "args": "--error-rate 0.1"}}),
        )
        .await;
    assert_eq!(status, 201, "{submitted}");
    assert_eq!(submitted["wish"], "running");

    // The FlinkSessionJob runs on the session, labelled as the session's.
    let client = common::cluster::shared().client().await;
    let session_jobs: Api<FlinkSessionJob> = Api::namespaced(client.clone(), &namespace);
    let object = session_jobs.get("analytics-etl").await.unwrap();
    assert_eq!(object.spec.deployment_name, "analytics");
    assert_eq!(object.spec.job.parallelism, Some(2));
    assert_eq!(
        object.spec.job.args,
        Some(vec!["--error-rate".into(), "0.1".into()])
    );
    assert_eq!(object.metadata.labels.unwrap()["dataport.io/job"], "etl");

    portal
        .wait_for_job(&id, "etl", "running", SIMULATED, |job| {
            job["state"] == "RUNNING"
        })
        .await;
    let (_, jobs) = portal
        .get_json(&format!("/api/v1/instances/{id}/jobs"))
        .await;
    assert_eq!(jobs.as_array().unwrap().len(), 1);
    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    assert!(page.contains(r#"<tr data-job="etl">"#) && page.contains("RUNNING"));

    // Suspend: the operator takes a savepoint into the session's storage.
    let (status, suspended) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/suspend"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{suspended}");
    let job = portal
        .wait_for_job(&id, "etl", "suspended with a savepoint", SIMULATED, |job| {
            job["state"] == "SUSPENDED" && job["observed"]["savepoint"].is_string()
        })
        .await;
    let savepoint = job["observed"]["savepoint"].as_str().unwrap().to_owned();
    assert!(
        savepoint.starts_with(&format!(
            "s3://flink/{namespace}/analytics/savepoints/savepoint-"
        )),
        "{savepoint}"
    );
    let object = session_jobs.get("analytics-etl").await.unwrap();
    assert_eq!(
        serde_json::to_value(object.spec.job.state).unwrap(),
        "suspended"
    );
    let (_, page) = portal.get(&format!("/instances/{id}/jobs/etl")).await;
    assert!(
        page.contains(&savepoint),
        "the job page shows the savepoint"
    );

    // Resume, then upgrade: a new savepoint, shown on the job's page.
    let (status, _, _) = portal
        .post_form(&format!("/instances/{id}/jobs/etl/resume"), &[])
        .await;
    assert_eq!(status, 303);
    portal
        .wait_for_job(&id, "etl", "running again", SIMULATED, |job| {
            job["state"] == "RUNNING"
        })
        .await;
    let (status, upgraded) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/upgrade"),
            &json!({"params": {"jarURI": JAR, "parallelism": 3, "upgradeMode": "savepoint"}}),
        )
        .await;
    assert_eq!(status, 200, "{upgraded}");
    let job = portal
        .wait_for_job(
            &id,
            "etl",
            "upgraded through a savepoint",
            SIMULATED,
            |job| {
                job["state"] == "RUNNING"
                    && job["observed"]["savepoint"].as_str() != Some(savepoint.as_str())
            },
        )
        .await;
    assert_eq!(job["params"]["parallelism"], 3);
    let upgrade_savepoint = job["observed"]["savepoint"].as_str().unwrap();
    let (_, page) = portal.get(&format!("/instances/{id}/jobs/etl")).await;
    assert!(page.contains(upgrade_savepoint));

    // Delete: the FlinkSessionJob goes through the operator's finalizer.
    let response = portal
        .http
        .delete(format!("{}/api/v1/instances/{id}/jobs/etl", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while session_jobs
        .get_opt("analytics-etl")
        .await
        .unwrap()
        .is_some()
    {
        assert!(std::time::Instant::now() < deadline, "job never deleted");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (status, _) = portal
        .get(&format!("/api/v1/instances/{id}/jobs/etl"))
        .await;
    assert_eq!(status, 404);
    let (_, jobs) = portal
        .get_json(&format!("/api/v1/instances/{id}/jobs"))
        .await;
    assert_eq!(jobs, json!([]));
}

#[tokio::test]
async fn uninstalling_a_session_lists_its_jobs_and_deletes_them_first() {
    let (portal, _database, namespace) = Portal::on_test_cluster("jobs-uninstall").await;
    let id = portal.install_flink_session(&namespace, false).await;
    for name in ["orders", "audit"] {
        let (status, job) = portal
            .post_json(
                &format!("/api/v1/instances/{id}/jobs"),
                &json!({"name": name, "params": {"jarURI": JAR}}),
            )
            .await;
        assert_eq!(status, 201, "{job}");
    }
    let (_, page) = portal.get(&format!("/instances/{id}/uninstall")).await;
    assert!(page.contains("data-uninstall-jobs"));
    assert!(
        page.contains("Its jobs are deleted first")
            && page.contains("orders")
            && page.contains("audit")
    );

    // A hold on one job shows the order: the cluster waits for its jobs.
    let client = common::cluster::shared().client().await;
    let session_jobs: Api<FlinkSessionJob> = Api::namespaced(client.clone(), &namespace);
    let hold = json!({"metadata": {"finalizers": ["flinksessionjobs.flink.apache.org/finalizer", "dataport.io/test-hold"]}});
    session_jobs
        .patch(
            "analytics-orders",
            &PatchParams::default(),
            &Patch::Merge(&hold),
        )
        .await
        .unwrap();
    let (status, _) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/uninstall"),
            &json!({"confirm": "analytics"}),
        )
        .await;
    assert_eq!(status, 202);
    portal
        .wait_for_instance(&id, "waiting for the held job", |instance| {
            instance["operations"][0]["progress"]
                .as_str()
                .is_some_and(|p| {
                    p.contains("dataport.io/test-hold on FlinkSessionJob analytics-orders")
                })
        })
        .await;
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let cluster = deployments.get("analytics").await.unwrap();
    assert!(
        cluster.metadata.deletion_timestamp.is_none(),
        "the cluster is not deleted while its jobs are there"
    );
    assert!(
        session_jobs
            .get_opt("analytics-audit")
            .await
            .unwrap()
            .is_none()
            || {
                let audit = session_jobs.get("analytics-audit").await.unwrap();
                audit.metadata.deletion_timestamp.is_some()
            }
    );

    // Released: the jobs, then the cluster go; the records say so.
    let release = json!({"metadata": {"finalizers": null}});
    session_jobs
        .patch(
            "analytics-orders",
            &PatchParams::default(),
            &Patch::Merge(&release),
        )
        .await
        .unwrap();
    portal.wait_until_uninstalled(&id).await;
    assert!(deployments.get_opt("analytics").await.unwrap().is_none());
    let (_, jobs) = portal
        .get_json(&format!("/api/v1/instances/{id}/jobs"))
        .await;
    assert_eq!(jobs, json!([]));
}
