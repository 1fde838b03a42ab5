//! A user runs dataport's test job on a real Flink 1.20 session cluster of
//! the local cluster, with Kubernetes HA and its state on MinIO (S3Proxy):
//! the stand-in operator fetches the jar from an artifact server, uploads and
//! runs it through Flink's REST API, and reports the job as the operator
//! does. Suspending stops it with a savepoint that lands in the bucket;
//! resuming starts it again from that savepoint, which Flink's REST API
//! reports as the restore. Killing the JobManager's process, the node
//! restarts it and the job resumes from its latest checkpoint through
//! Kubernetes HA. Deleting the job cancels it; uninstalling leaves no Java
//! process behind.

mod common;

use std::time::Duration;

use common::Portal;
use common::cluster::{REAL_FLINK_RELEASE, real_flink, serve_file, test_job_jar};
use common::flink::{install_session_with_state_on_s3, pod_ip, rest, running_job_manager};
use common::operator::eventually;
use common::s3::{mc, secret_value};
use dataport::crd::FlinkSessionJob;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use kube::api::{Api, ListParams};
use serde_json::json;

/// How long a job may take to reach a state: real Flink on a busy machine
/// takes its time.
const REAL_FLINK: Duration = Duration::from_secs(180);

/// The pid of the session JobManager's Java process that the process node
/// runs for `namespace`.
fn job_manager_pid(namespace: &str) -> Option<u32> {
    let marker = format!("/node/{namespace}/analytics-");
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (cmdline.contains("KubernetesSessionClusterEntrypoint") && cmdline.contains(&marker))
                .then_some(pid)
        })
        .find(|_| true)
}

#[tokio::test]
async fn the_test_job_runs_suspends_to_a_savepoint_on_s3_and_resumes_from_it() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("realjob").await;
    let jar = serve_file(&test_job_jar(REAL_FLINK_RELEASE)).await;
    let (id, minio_id) = install_session_with_state_on_s3(&portal, &namespace).await;
    let client = real_flink().client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let job_manager = pod_ip(&running_job_manager(&pods, "analytics").await);
    // Flink's REST API: the release and the TaskManager the form asked for,
    // with HA and state on S3.
    let overview = eventually(
        Duration::from_secs(180),
        "one registered TaskManager with its two slots",
        || async {
            rest(&job_manager, "/overview")
                .await
                .filter(|o| o["taskmanagers"] == 1 && o["slots-total"] == 2)
        },
    )
    .await;
    assert_eq!(overview["flink-version"], REAL_FLINK_RELEASE, "{overview}");
    common::flink::wait_until_running(&portal, &id).await;

    // Submit: the operator's job id is the job Flink runs.
    common::flink::run_the_test_job(&portal, &id, "counting", &jar).await;
    let session_jobs: Api<FlinkSessionJob> = Api::namespaced(client.clone(), &namespace);
    let object = session_jobs
        .get("analytics-counting")
        .await
        .expect("the FlinkSessionJob");
    let job_status = object.status.and_then(|s| s.job_status).expect("jobStatus");
    let first_id = job_status.job_id.expect("jobId");
    let details = rest(&job_manager, &format!("/jobs/{first_id}"))
        .await
        .expect("Flink knows the job the operator submitted");
    assert_eq!(details["state"], "RUNNING", "{details}");
    assert_eq!(job_status.job_name.as_deref(), details["name"].as_str());

    // Suspend: stop with a savepoint into the session's savepoint directory.
    let (status, suspended) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/counting/suspend"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{suspended}");
    let job = portal
        .wait_for_job(
            &id,
            "counting",
            "suspended with a savepoint",
            REAL_FLINK,
            |job| job["state"] == "SUSPENDED" && job["observed"]["savepoint"].is_string(),
        )
        .await;
    let savepoint = job["observed"]["savepoint"]
        .as_str()
        .expect("savepoint")
        .to_owned();
    let savepoints = format!("s3://flink/{namespace}/analytics/savepoints/");
    assert!(savepoint.starts_with(&savepoints), "{savepoint}");
    // As the operator leaves it: Flink's FINISHED, no job id.
    let object = session_jobs.get("analytics-counting").await.expect("job");
    let job_status = object.status.and_then(|s| s.job_status).expect("status");
    assert_eq!(job_status.state.as_deref(), Some("FINISHED"));
    assert_eq!(job_status.job_id, None);
    // Flink's REST API caches a job's details for `web.refresh-interval` (3 s).
    eventually(Duration::from_secs(30), "Flink's job FINISHED", || async {
        rest(&job_manager, &format!("/jobs/{first_id}"))
            .await
            .filter(|job| job["state"] == "FINISHED")
    })
    .await;

    // The savepoint's metadata is an object in the bucket.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let secret = secrets.get("store-credentials").await.expect("Secret");
    let minio = pod_ip(&pods.get("store-0").await.expect("MinIO's pod"));
    let config = tempfile::tempdir().expect("temp dir");
    let (ok, said) = mc(
        config.path(),
        &[
            "alias",
            "set",
            "store",
            &format!("http://{minio}:9000"),
            &secret_value(&secret, "root-user"),
            &secret_value(&secret, "root-password"),
        ],
    );
    assert!(ok, "{said}");
    let key = savepoint.trim_start_matches("s3://");
    let (ok, listed) = mc(config.path(), &["ls", &format!("store/{key}")]);
    assert!(
        ok && listed.contains("_metadata"),
        "no _metadata under {savepoint}: {listed}"
    );

    // Resume: a new job restored from that savepoint.
    let (status, _, _) = portal
        .post_form(&format!("/instances/{id}/jobs/counting/resume"), &[])
        .await;
    assert_eq!(status, 303);
    portal
        .wait_for_job(&id, "counting", "running again", REAL_FLINK, |job| {
            job["state"] == "RUNNING"
        })
        .await;
    let object = session_jobs.get("analytics-counting").await.expect("job");
    let second_id = object
        .status
        .and_then(|s| s.job_status)
        .and_then(|j| j.job_id)
        .expect("a new jobId");
    assert_ne!(second_id, first_id);
    let restored = &common::flink::restored_from(&job_manager, &second_id).await;
    assert_eq!(restored["is_savepoint"], true, "{restored}");
    let restored_from = restored["external_path"].as_str().unwrap_or_default();
    assert_eq!(
        restored_from.trim_end_matches('/'),
        savepoint.trim_end_matches('/'),
        "{restored}"
    );

    // Kubernetes HA: killing the JobManager's process, the node restarts its
    // container and the job comes back with its id from the latest checkpoint
    // that the HA ConfigMaps in the API server point at.
    let completed = eventually(
        Duration::from_secs(180),
        "a completed checkpoint",
        || async {
            rest(&job_manager, &format!("/jobs/{second_id}/checkpoints"))
                .await
                .filter(|c| c["counts"]["completed"].as_i64().unwrap_or(0) >= 1)
        },
    )
    .await;
    let before_kill = completed["latest"]["completed"]["id"]
        .as_i64()
        .expect("a checkpoint id");
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let ha = config_maps
        .list(&ListParams::default().labels("app=analytics,configmap-type=high-availability"))
        .await
        .expect("HA ConfigMaps")
        .items;
    let keys: Vec<String> = ha
        .iter()
        .flat_map(|c| c.data.clone().unwrap_or_default().into_keys())
        .collect();
    assert!(
        keys.iter().any(|k| k.starts_with("checkpointID-")),
        "no checkpoint pointer in the HA ConfigMaps: {keys:?}"
    );
    let pid = job_manager_pid(&namespace).expect("the JobManager's process");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let recovered = eventually(
        Duration::from_secs(300),
        "the job restored from a checkpoint after the JobManager's restart",
        || async {
            rest(&job_manager, &format!("/jobs/{second_id}/checkpoints"))
                .await
                .filter(|c| {
                    let restored = &c["latest"]["restored"];
                    restored["is_savepoint"] == false
                        && restored["id"].as_i64().is_some_and(|id| id >= before_kill)
                })
        },
    )
    .await;
    assert_ne!(job_manager_pid(&namespace), Some(pid), "{recovered}");
    let pod = running_job_manager(&pods, "analytics").await;
    let restarts = pod
        .status
        .and_then(|s| s.container_statuses)
        .map(|c| c[0].restart_count)
        .unwrap_or_default();
    assert_eq!(
        restarts, 1,
        "the node restarted the JobManager's container once"
    );

    // Delete: the operator cancels the running job before the object goes.
    let response = portal
        .http
        .delete(format!(
            "{}/api/v1/instances/{id}/jobs/counting",
            portal.base
        ))
        .send()
        .await
        .expect("delete the job");
    assert_eq!(response.status(), 204);
    eventually(Duration::from_secs(60), "the job cancelled", || async {
        rest(&job_manager, &format!("/jobs/{second_id}"))
            .await
            .filter(|d| d["state"] == "CANCELED")
    })
    .await;

    // Uninstalling the session, then MinIO, stops every process.
    let (status, _) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/uninstall"),
            &json!({"confirm": "analytics"}),
        )
        .await;
    assert!(status < 300, "uninstall answered {status}");
    portal.wait_until_uninstalled(&id).await;
    common::uninstall_until_no_process_is_left(&portal, &minio_id, "store", &namespace).await;
}
