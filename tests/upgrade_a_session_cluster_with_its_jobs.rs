//! A user changes a Flink session cluster in a way that restarts it (here its
//! TaskManager memory) while jobs run on it: the diff names each job and
//! says it goes through a savepoint; the update then runs as one operation
//! (suspend every job with a savepoint, apply the change, wait for the
//! cluster, resume each job from its own savepoint), each step in the
//! operation's progress and the audit log. When a job cannot be suspended,
//! nothing changes on the cluster; when the cluster change fails, the
//! previous revision comes back and the jobs resume from the same savepoints.
//!
//! On the simulated cluster the stand-in operator walks the jobs' states and
//! savepoints; on real Flink the savepoints are Flink's, and Flink's REST API
//! says what each job restored from.

mod common;

use std::time::Duration;

use common::Portal;
use common::cluster::{REAL_FLINK_RELEASE, real_flink, serve_file, test_job_jar};
use common::flink::{
    install_session_with_state_on_s3, pod_ip, restored_from, run_the_test_job, running_job_manager,
    wait_until_running,
};
use dataport::crd::{FlinkDeployment, FlinkSessionJob};
use dataport::simulator::FAIL_ANNOTATION;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

/// A JAR on a public https host (an RFC 5737 address: no DNS needed).
const JAR: &str = "https://198.51.100.7/jobs/etl.jar";

/// The instance's current revision and parameters, with `changes` over them.
async fn changed_params(portal: &Portal, id: &str, changes: &[(&str, Value)]) -> (i64, Value) {
    let (_, instance) = portal.get_json(&format!("/api/v1/instances/{id}")).await;
    let mut params = instance["instance"]["params"].clone();
    for (key, value) in changes {
        params[*key] = value.clone();
    }
    let revision = instance["instance"]["current_revision"]
        .as_i64()
        .expect("revision");
    (revision, params)
}

/// The update form's fields for `params` (an unticked toggle is left out,
/// as a browser leaves it out).
fn form_fields(revision: i64, params: &Value, action: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = params
        .as_object()
        .expect("params")
        .iter()
        .filter(|(_, value)| **value != Value::Bool(false))
        .map(|(key, value)| {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (key.clone(), text)
        })
        .collect();
    fields.push(("revision".into(), revision.to_string()));
    fields.push(("action".into(), action.into()));
    fields
}

/// The diff (JSON and page) of `params` names each of `jobs` as suspended
/// with a savepoint and resumed from it.
async fn the_diff_names(portal: &Portal, id: &str, revision: i64, params: &Value, jobs: &[&str]) {
    let (status, plan) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/diff"),
            &json!({"revision": revision, "params": params}),
        )
        .await;
    assert_eq!(status, 200, "{plan}");
    let named: Vec<&str> = plan["interrupted_jobs"]
        .as_array()
        .expect("interrupted_jobs")
        .iter()
        .map(|job| {
            assert_eq!(job["keeps_state"], true, "{job}");
            job["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(named, jobs, "{plan}");

    let fields = form_fields(revision, params, "diff");
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, html) = portal
        .post_form(&format!("/instances/{id}/update"), &borrowed)
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-restart"), "the page says it restarts");
    for job in jobs {
        assert!(
            html.contains(&format!(
                "Job {job} is suspended with a savepoint before the change and resumed from \
                 that savepoint once the cluster is ready."
            )),
            "{job} named on the diff page"
        );
    }
}

/// Waits until the newest operation of kind `kind` on instance `id` has
/// ended (within `limit`); returns it.
async fn finished(portal: &Portal, id: &str, kind: &str, limit: Duration) -> Value {
    let instance = portal
        .wait_for_json_within(
            &format!("/api/v1/instances/{id}"),
            &format!("the {kind} finished"),
            limit,
            |i| {
                i["operations"].as_array().is_some_and(|ops| {
                    ops.iter().any(|op| {
                        op["kind"] == kind
                            && matches!(op["state"].as_str(), Some("succeeded" | "failed"))
                    })
                })
            },
        )
        .await;
    instance["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|op| op["kind"] == kind)
        .unwrap()
        .clone()
}

/// The upgrade savepoint the operator recorded for FlinkSessionJob `object`.
async fn upgrade_savepoint(jobs: &Api<FlinkSessionJob>, object: &str) -> Option<String> {
    jobs.get(object)
        .await
        .ok()?
        .status?
        .job_status?
        .upgrade_savepoint_path
}

/// The audit entries of the session upgrades, newest first.
async fn upgrade_audit(portal: &Portal) -> Vec<Value> {
    let (status, page) = portal
        .get_json("/api/v1/audit?action=session%20upgrade")
        .await;
    assert_eq!(status, 200, "{page}");
    page["entries"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn on_the_simulated_cluster_both_jobs_go_through_their_savepoints() {
    let (portal, _database, namespace) = Portal::on_test_cluster("session-upgrade").await;
    let id = portal.install_flink_session(&namespace, true).await;
    for name in ["etl", "totals"] {
        let (status, submitted) = portal
            .post_json(
                &format!("/api/v1/instances/{id}/jobs"),
                &json!({"name": name, "params": {"jarURI": JAR, "upgradeMode": "savepoint"}}),
            )
            .await;
        assert_eq!(status, 201, "{submitted}");
    }
    for name in ["etl", "totals"] {
        portal
            .wait_for_job(&id, name, "running", Duration::from_secs(60), |job| {
                job["state"] == "RUNNING"
            })
            .await;
    }

    let (revision, params) =
        changed_params(&portal, &id, &[("taskManagerMemory", json!("2560Mi"))]).await;
    the_diff_names(&portal, &id, revision, &params, &["etl", "totals"]).await;
    // A change that leaves the FlinkDeployment alone interrupts nothing.
    let (status, plan) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/diff"),
            &json!({"revision": revision, "params": changed_params(&portal, &id, &[]).await.1}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(plan["interrupted_jobs"], json!([]), "{plan}");

    portal.update(&id, revision, &params).await;
    let update = finished(&portal, &id, "update", Duration::from_secs(120)).await;
    assert_eq!(update["state"], "succeeded", "{update}");
    let progress = update["progress"].as_str().unwrap_or_default().to_owned();

    let client = common::cluster::shared().client().await;
    let jobs: Api<FlinkSessionJob> = Api::namespaced(client.clone(), &namespace);
    let mut savepoints = Vec::new();
    for name in ["etl", "totals"] {
        let job = portal
            .wait_for_job(&id, name, "running again", Duration::from_secs(60), |job| {
                job["state"] == "RUNNING"
            })
            .await;
        assert_eq!(job["wish"], "running", "{job}");
        let savepoint = upgrade_savepoint(&jobs, &format!("analytics-{name}"))
            .await
            .expect("the upgrade savepoint");
        assert!(
            savepoint.starts_with(&format!("s3://flink/{namespace}/analytics/savepoints/")),
            "{savepoint}"
        );
        for step in [
            format!("job {name} suspended with savepoint {savepoint}"),
            format!("job {name} running again, from savepoint {savepoint}"),
        ] {
            assert!(progress.contains(&step), "{step:?} in {progress}");
        }
        savepoints.push(savepoint);
    }
    assert_ne!(savepoints[0], savepoints[1], "each job has its own");
    let lines: Vec<&str> = progress.lines().collect();
    let at = |text: &str| {
        lines
            .iter()
            .position(|line| line.starts_with(text))
            .unwrap_or_else(|| panic!("no step {text:?} in {progress}"))
    };
    assert!(at("the cluster restarts: suspending etl, totals") < at("job etl suspended"));
    assert!(at("job totals suspended") < at("cluster change applied"));
    assert!(at("cluster change applied") < at("cluster ready"));
    assert!(at("cluster ready") < at("job etl running again"));
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let deployment = deployments.get("analytics").await.unwrap();
    assert_eq!(
        deployment
            .spec
            .task_manager
            .unwrap()
            .resource
            .unwrap()
            .memory
            .as_deref(),
        Some("2560m")
    );
    // Each step is in the audit log too, under the user who asked.
    let audit = upgrade_audit(&portal).await;
    assert_eq!(audit.len(), lines.len(), "{audit:?}");
    assert!(audit.iter().all(|entry| entry["result"] == "ok"));
    assert!(
        audit.iter().any(|entry| entry["detail"]
            .as_str()
            .unwrap()
            .ends_with(lines[lines.len() - 1])),
        "{audit:?}"
    );

    // A job that cannot be suspended: nothing changes on the cluster, the
    // other job runs again, the record is back on the parameters in force.
    jobs.patch(
        "analytics-etl",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {
            FAIL_ANNOTATION: "Savepoint Error: the job's sink refuses to stop"}}})),
    )
    .await
    .unwrap();
    let generation = deployments
        .get("analytics")
        .await
        .unwrap()
        .metadata
        .generation;
    let (revision, params) =
        changed_params(&portal, &id, &[("taskManagerMemory", json!("3Gi"))]).await;
    portal.update(&id, revision, &params).await;
    let instance = portal
        .wait_for_json_within(
            &format!("/api/v1/instances/{id}"),
            "the update failed",
            Duration::from_secs(120),
            |i| i["operations"][1]["kind"] == "update" && i["operations"][1]["state"] == "failed",
        )
        .await;
    let failed = &instance["operations"][1];
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.starts_with("job etl could not be suspended with a savepoint")
            && error.contains("the job's sink refuses to stop")
            && error.contains("Nothing was changed on the cluster"),
        "{error}"
    );
    let rollback = &instance["operations"][0];
    assert_eq!(
        (rollback["kind"].as_str(), rollback["state"].as_str()),
        (Some("rollback"), Some("succeeded")),
        "the instance records that it rolled back: {instance}"
    );
    assert_eq!(instance["instance"]["current_revision"], revision + 2);
    assert_eq!(
        instance["instance"]["params"]["taskManagerMemory"],
        "2560Mi"
    );
    let deployment = deployments.get("analytics").await.unwrap();
    assert_eq!(deployment.metadata.generation, generation, "untouched");
    portal
        .wait_for_job(
            &id,
            "totals",
            "totals running",
            Duration::from_secs(60),
            |job| job["state"] == "RUNNING",
        )
        .await;
    let audit = upgrade_audit(&portal).await;
    assert!(
        audit[0]["result"]
            .as_str()
            .unwrap()
            .starts_with("failed: job etl could not be suspended"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn on_real_flink_both_jobs_restore_from_their_own_savepoints_and_a_failed_change_rolls_back()
{
    let (portal, _database, namespace) =
        Portal::on_real_flink_cluster("session-upgrade-real").await;
    let jar = serve_file(&test_job_jar(REAL_FLINK_RELEASE)).await;
    let (id, _minio) = install_session_with_state_on_s3(&portal, &namespace).await;
    let client = real_flink().client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    running_job_manager(&pods, "analytics").await;
    wait_until_running(&portal, &id).await;
    // One TaskManager with two slots: one for each job.
    run_the_test_job(&portal, &id, "counting", &jar).await;
    run_the_test_job(&portal, &id, "totals", &jar).await;
    let jobs: Api<FlinkSessionJob> = Api::namespaced(client.clone(), &namespace);
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);

    let (revision, params) =
        changed_params(&portal, &id, &[("taskManagerMemory", json!("1536Mi"))]).await;
    the_diff_names(&portal, &id, revision, &params, &["counting", "totals"]).await;
    portal.update(&id, revision, &params).await;
    let update = finished(&portal, &id, "update", Duration::from_secs(900)).await;
    assert_eq!(update["state"], "succeeded", "{update}");
    let progress = update["progress"].as_str().unwrap_or_default().to_owned();
    let deployment = deployments.get("analytics").await.unwrap();
    assert_eq!(
        deployment
            .spec
            .task_manager
            .unwrap()
            .resource
            .unwrap()
            .memory
            .as_deref(),
        Some("1536m")
    );
    let job_manager = pod_ip(&running_job_manager(&pods, "analytics").await);
    let mut savepoints = Vec::new();
    for name in ["counting", "totals"] {
        let object = format!("analytics-{name}");
        let savepoint = upgrade_savepoint(&jobs, &object).await.expect("savepoint");
        assert!(
            progress.contains(&format!("job {name} suspended with savepoint {savepoint}")),
            "{progress}"
        );
        assert!(
            progress.contains(&format!(
                "job {name} running again, from savepoint {savepoint}"
            )),
            "{progress}"
        );
        let job_id = jobs
            .get(&object)
            .await
            .unwrap()
            .status
            .and_then(|s| s.job_status)
            .and_then(|j| j.job_id)
            .expect("job id");
        let restored = restored_from(&job_manager, &job_id).await;
        assert_eq!(restored["is_savepoint"], true, "{restored}");
        assert_eq!(
            restored["external_path"]
                .as_str()
                .unwrap_or_default()
                .trim_end_matches('/'),
            savepoint.trim_end_matches('/'),
            "{name} restored from its own savepoint: {restored}"
        );
        savepoints.push(savepoint);
    }
    assert_ne!(savepoints[0], savepoints[1]);

    // A cluster change that cannot come up: an image this node cannot have
    // (no Flink 1.19 is assembled here, so its pods wait in ErrImagePull, as
    // a real node's do for an image its registry lacks); the operator reports
    // the JobManager in ERROR, and the previous revision comes back.
    let (revision, params) =
        changed_params(&portal, &id, &[("image", json!("flink:1.19.3"))]).await;
    portal.update(&id, revision, &params).await;
    let instance = portal
        .wait_for_json_within(
            &format!("/api/v1/instances/{id}"),
            "the failed change rolled back",
            Duration::from_secs(900),
            |i| i["operations"][1]["kind"] == "update" && i["operations"][1]["state"] == "failed",
        )
        .await;
    let failed = &instance["operations"][1];
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.starts_with("the cluster change failed")
            && error.contains("rolled back")
            && error.contains("resumed from the same savepoints"),
        "{error}"
    );
    assert_eq!(instance["operations"][0]["kind"], "rollback", "{instance}");
    assert_eq!(instance["instance"]["current_revision"], revision + 2);
    assert_eq!(instance["instance"]["params"]["image"], "");
    assert_eq!(
        instance["instance"]["params"]["taskManagerMemory"],
        "1536Mi"
    );
    let progress = failed["progress"].as_str().unwrap_or_default().to_owned();
    assert!(
        progress.contains(&format!("restoring revision {revision}")),
        "{progress}"
    );
    let deployment = deployments.get("analytics").await.unwrap();
    assert_eq!(deployment.spec.image.as_deref(), Some("flink:1.20.5"));
    let job_manager = pod_ip(&running_job_manager(&pods, "analytics").await);
    for name in ["counting", "totals"] {
        let object = format!("analytics-{name}");
        let savepoint = upgrade_savepoint(&jobs, &object).await.expect("savepoint");
        assert!(
            !savepoints.contains(&savepoint),
            "a new savepoint for this round"
        );
        assert!(
            progress.contains(&format!("job {name} suspended with savepoint {savepoint}"))
                && progress.contains(&format!(
                    "job {name} running again, from savepoint {savepoint}"
                )),
            "{progress}"
        );
        let job = portal
            .wait_for_job(&id, name, "running", Duration::from_secs(60), |job| {
                job["state"] == "RUNNING"
            })
            .await;
        assert_eq!(job["wish"], "running");
        let job_id = jobs
            .get(&object)
            .await
            .unwrap()
            .status
            .and_then(|s| s.job_status)
            .and_then(|j| j.job_id)
            .expect("job id");
        let restored = restored_from(&job_manager, &job_id).await;
        assert_eq!(
            restored["external_path"]
                .as_str()
                .unwrap_or_default()
                .trim_end_matches('/'),
            savepoint.trim_end_matches('/'),
            "{name} resumed from the same savepoint: {restored}"
        );
    }
    let audit = upgrade_audit(&portal).await;
    assert!(
        audit[0]["result"]
            .as_str()
            .unwrap()
            .starts_with("failed: the cluster change failed"),
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|e| e["detail"].as_str().unwrap().contains("restoring revision")),
        "{audit:?}"
    );
}
