//! A user takes a savepoint of a running session job, finds it in the job's
//! list of savepoints and checkpoints, and starts a job from it.
//!
//! On the simulated cluster: a session without a savepoint directory refuses
//! the savepoint next to the button; a typed path off the session's storage
//! is refused next to the field; a viewer may not take one; on a session with
//! S3 storage the stand-in operator walks the FlinkStateSnapshot to completed
//! and a redeploy writes `initialSavepointPath`, `savepointRedeployNonce` and
//! the explicit `allowNonRestoredState`.
//!
//! On real Flink: the savepoint is Flink's, its `_metadata` is an object in
//! the bucket, the list shows its size as the JobManager reports it, a new
//! job started from it reports (Flink's REST API) the restore from exactly
//! that path, and deleting it through the portal has Flink dispose of it:
//! its `_metadata` leaves the bucket.

mod common;

use std::time::Duration;

use common::Portal;
use common::cluster::{REAL_FLINK_RELEASE, real_flink, serve_file, test_job_jar};
use common::flink::{install_session_with_state_on_s3, pod_ip, rest, running_job_manager};
use common::operator::eventually;
use common::s3::{list_in_bucket, list_in_bucket_recursively};
use dataport::crd::{FlinkSessionJob, FlinkStateSnapshot};
use dataport::service::Role;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

/// A JAR on a public https host (an RFC 5737 address: no DNS needed).
const JAR: &str = "https://198.51.100.7/jobs/etl.jar";

/// The savepoints list of job `name` once `done` holds for it (`within`).
async fn wait_for_snapshots(
    portal: &Portal,
    id: &str,
    name: &str,
    within: Duration,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let path = format!("/api/v1/instances/{id}/jobs/{name}/savepoints");
    let deadline = std::time::Instant::now() + within;
    loop {
        let (status, list) = portal.get_json(&path).await;
        let found = list.as_array().cloned().unwrap_or_default();
        if status == 200 && done(&found) {
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
async fn a_session_without_a_savepoint_directory_refuses_and_viewers_may_not_take_one() {
    let (portal, database, namespace) = Portal::on_test_cluster("savepoint-none").await;
    let id = portal.install_flink_session(&namespace, false).await;
    let (status, submitted) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR}}),
        )
        .await;
    assert_eq!(status, 201, "{submitted}");

    let take = format!("/api/v1/instances/{id}/jobs/etl/savepoints");
    let (status, refused) = portal.post_json(&take, &json!({})).await;
    assert_eq!(status, 400, "{refused}");
    let why = refused["error"]["fields"]["savepoint"].as_str().unwrap();
    assert!(
        why.starts_with("analytics keeps no savepoints: it has no savepoint directory"),
        "{why}"
    );
    // The page says it next to the button.
    let (status, _, html) = portal
        .post_form(&format!("/instances/{id}/jobs/etl/savepoints"), &[])
        .await;
    assert_eq!(status, 400);
    assert!(
        html.contains(r#"id="e-savepoint""#) && html.contains("keeps no savepoints"),
        "the refusal is next to the button"
    );
    assert!(html.contains("data-take-savepoint") && html.contains("data-no-snapshots"));

    // A start from a savepoint needs somewhere savepoints are.
    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/redeploy"),
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

    // Taking a savepoint is an operator's: a viewer gets 403.
    let viewer = portal.client_as(&database.url, "vera", Role::Viewer).await;
    let answer = viewer
        .post(format!("{}{take}", portal.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    let answer = viewer
        .post(format!(
            "{}/api/v1/instances/{id}/jobs/etl/redeploy",
            portal.base
        ))
        .json(&json!({"initialSavepointPath": "s3://b/sp", "allowNonRestoredState": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    let (status, _) = portal.get_json(&take).await;
    assert_eq!(status, 200, "anyone logged in reads the list");
    // Nor is a viewer offered what they may not do on the session's page.
    let page = common::text_of(&viewer, &format!("{}/instances/{id}", portal.base)).await;
    assert!(page.contains("data-pods"), "the page itself is shown");
    assert!(
        !page.contains("data-submit-job"),
        "a viewer is not offered Submit a job"
    );
    assert!(
        page.contains("data-grafana-missing") && !page.contains("/catalog/monitoring/install"),
        "nor Install monitoring"
    );
    // Reached by its address, the job form tells a viewer before it is filled in.
    let form = common::text_of(&viewer, &format!("{}/instances/{id}/jobs/new", portal.base)).await;
    assert!(
        form.contains("data-needs-operator")
            && form.contains("submitting a job needs the operator role"),
        "the job form tells a viewer"
    );

    let client = common::cluster::shared().client().await;
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client, &namespace);
    assert!(
        snapshots
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing was asked of the operator"
    );

    // Asked for directly (as kubectl would), the operator refuses it: FAILED
    // with its message, not retried under the default backoff limit.
    portal
        .wait_for_job(&id, "etl", "running", Duration::from_secs(60), |job| {
            job["state"] == "RUNNING"
        })
        .await;
    let direct: FlinkStateSnapshot = serde_json::from_value(json!({
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkStateSnapshot",
        "metadata": {"name": "etl-by-hand", "namespace": namespace},
        "spec": {"jobReference": {"kind": "FlinkSessionJob", "name": "analytics-etl"}, "savepoint": {}},
    }))
    .unwrap();
    snapshots
        .create(&Default::default(), &direct)
        .await
        .expect("create the snapshot");
    let failed = eventually(Duration::from_secs(60), "the snapshot failed", || async {
        let status = snapshots.get("etl-by-hand").await.ok()?.status?;
        (status.state == Some(dataport::crd::SnapshotState::Failed)).then_some(status)
    })
    .await;
    assert_eq!(failed.failures, Some(1));
    let error: Value = serde_json::from_str(failed.error.as_deref().unwrap()).unwrap();
    assert_eq!(
        error["message"],
        "java.lang.IllegalArgumentException: Either the savepoint path in the spec or \
         configuration execution.checkpointing.savepoint-dir in the Flink resource has to be \
         supplied"
    );
    let list = wait_for_snapshots(
        &portal,
        &id,
        "etl",
        Duration::from_secs(10),
        "the failure listed",
        |list| list.iter().any(|s| s["state"] == "failed"),
    )
    .await;
    assert!(
        list[0]["error"]
            .as_str()
            .unwrap()
            .contains("has to be supplied"),
        "{list:?}"
    );
}

#[tokio::test]
async fn on_a_simulated_s3_session_a_savepoint_completes_and_jobs_start_from_it() {
    let (portal, _database, namespace) = Portal::on_test_cluster("savepoint-sim").await;
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

    // A typed path off the session's storage is refused by its field.
    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/redeploy"),
            &json!({"initialSavepointPath": "hdfs://nn:8020/sp/savepoint-1", "allowNonRestoredState": false}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let why = refused["error"]["fields"]["initialSavepointPath"]
        .as_str()
        .unwrap();
    assert!(
        why.starts_with("A savepoint of this cluster is a s3:// path"),
        "{why}"
    );
    let (status, _, html) = portal
        .post_form(
            &format!("/instances/{id}/jobs"),
            &[
                ("name", "copy"),
                ("jarURI", JAR),
                ("initialSavepointPath", "/tmp/savepoint-1"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        html.contains(r#"id="e-initialSavepointPath""#)
            && html.contains(r#"value="/tmp/savepoint-1""#),
        "the new-job form says why next to the path and keeps it"
    );

    // Take one: a FlinkStateSnapshot owned by the job, walked to completed.
    let (status, taken) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/savepoints"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{taken}");
    let name = taken["name"].as_str().unwrap().to_owned();
    assert!(
        name.starts_with("analytics-etl-savepoint-manual-"),
        "{name}"
    );
    let client = common::cluster::shared().client().await;
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client.clone(), &namespace);
    let snapshot = snapshots.get(&name).await.unwrap();
    let owner = &snapshot.metadata.owner_references.clone().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("FlinkSessionJob", "analytics-etl")
    );
    let list = wait_for_snapshots(
        &portal,
        &id,
        "etl",
        Duration::from_secs(90),
        "the savepoint completed",
        |list| {
            list.iter()
                .any(|s| s["name"] == name && s["state"] == "completed")
        },
    )
    .await;
    let listed = list.iter().find(|s| s["name"] == name).unwrap();
    assert_eq!(
        (listed["kind"].as_str(), listed["trigger"].as_str()),
        (Some("savepoint"), Some("manual"))
    );
    let path = listed["path"].as_str().unwrap().to_owned();
    let directory = format!("s3://flink/{namespace}/analytics/savepoints/savepoint-");
    assert!(path.starts_with(&directory), "{path}");
    let snapshot = snapshots.get(&name).await.unwrap();
    let status = snapshot.status.unwrap();
    assert!(status.trigger_id.is_some() && status.trigger_timestamp.is_some());
    assert!(status.result_timestamp.is_some());
    assert_eq!(
        snapshot.metadata.labels.unwrap()["snapshot.state"],
        "COMPLETED"
    );
    let (_, page) = portal.get(&format!("/instances/{id}/jobs/etl")).await;
    assert!(page.contains(&path), "the job page lists it");
    // The session's jobs table names it as the job's last savepoint.
    portal
        .wait_for_page_containing(
            &format!("/instances/{id}"),
            &format!("<code data-job-savepoint>{path}</code>"),
        )
        .await;

    // A new savepointTriggerNonce (the operator's older way, e.g. by kubectl)
    // becomes a manual snapshot the operator creates itself, with no owner,
    // and the nonce is recorded as reconciled.
    let session_jobs: Api<FlinkSessionJob> = Api::namespaced(client.clone(), &namespace);
    session_jobs
        .patch(
            "analytics-etl",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({"spec": {"job": {"savepointTriggerNonce": 7}}})),
        )
        .await
        .expect("set the nonce");
    let by_nonce = eventually(
        Duration::from_secs(60),
        "the operator's snapshot",
        || async {
            snapshots
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .into_iter()
                .find(|s| s.metadata.owner_references.is_none())
        },
    )
    .await;
    let by_nonce_name = by_nonce.metadata.name.clone().unwrap();
    assert!(
        by_nonce_name.starts_with("analytics-etl-savepoint-manual-"),
        "{by_nonce_name}"
    );
    assert_eq!(
        by_nonce.spec.savepoint.unwrap().path.as_deref(),
        Some(format!("s3://flink/{namespace}/analytics/savepoints").as_str())
    );
    eventually(Duration::from_secs(60), "the nonce reconciled", || async {
        let status = session_jobs.get("analytics-etl").await.ok()?.status?;
        let recorded = status.reconciliation_status?.last_reconciled_spec?;
        recorded
            .contains(r#""savepointTriggerNonce":7"#)
            .then_some(())
    })
    .await;
    wait_for_snapshots(
        &portal,
        &id,
        "etl",
        Duration::from_secs(90),
        "the nonce's savepoint completed",
        |list| {
            list.iter()
                .any(|s| s["name"] == by_nonce_name.as_str() && s["state"] == "completed")
        },
    )
    .await;

    // Start the job again from it, non-restored state explicitly allowed.
    let (status, redeployed) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/redeploy"),
            &json!({"initialSavepointPath": path, "allowNonRestoredState": true}),
        )
        .await;
    assert_eq!(status, 200, "{redeployed}");
    let job = session_jobs.get("analytics-etl").await.unwrap().spec.job;
    assert_eq!(job.initial_savepoint_path.as_deref(), Some(path.as_str()));
    assert_eq!(job.savepoint_redeploy_nonce, Some(1));
    assert_eq!(job.allow_non_restored_state, Some(true));

    // A new job from it, through the form the list links to.
    let (_, form) = portal
        .get(&format!(
            "/instances/{id}/jobs/new?savepoint={}",
            path.replace('/', "%2F").replace(':', "%3A")
        ))
        .await;
    assert!(form.contains(&format!(r#"value="{path}""#)), "prefilled");
    let (status, _, _) = portal
        .post_form(
            &format!("/instances/{id}/jobs"),
            &[
                ("name", "copy"),
                ("jarURI", JAR),
                ("initialSavepointPath", &path),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let copy = session_jobs.get("analytics-copy").await.unwrap().spec.job;
    assert_eq!(copy.initial_savepoint_path.as_deref(), Some(path.as_str()));
    assert_eq!(
        copy.allow_non_restored_state,
        Some(false),
        "unticked is an explicit no"
    );
}

#[tokio::test]
async fn a_savepoint_of_the_running_test_job_lands_in_the_bucket_and_a_new_job_restores_from_it() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("savepoint-real").await;
    let jar = serve_file(&test_job_jar(REAL_FLINK_RELEASE)).await;
    let (id, _minio_id) = install_session_with_state_on_s3(&portal, &namespace).await;
    let client = real_flink().client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let job_manager = pod_ip(&running_job_manager(&pods, "analytics").await);
    common::flink::wait_until_running(&portal, &id).await;
    common::flink::run_the_test_job(&portal, &id, "counting", &jar).await;

    // The button (the form, as without JavaScript).
    let (status, location, _) = portal
        .post_form(&format!("/instances/{id}/jobs/counting/savepoints"), &[])
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        location.as_deref(),
        Some(format!("/instances/{id}/jobs/counting#savepoints").as_str())
    );
    let list = wait_for_snapshots(
        &portal,
        &id,
        "counting",
        Duration::from_secs(180),
        "Flink's savepoint completed",
        |list| {
            list.iter()
                .any(|s| s["trigger"] == "manual" && s["state"] == "completed")
        },
    )
    .await;
    let taken = list.iter().find(|s| s["trigger"] == "manual").unwrap();
    let path = taken["path"].as_str().unwrap().to_owned();
    let directory = format!("s3://flink/{namespace}/analytics/savepoints/savepoint-");
    assert!(path.starts_with(&directory), "{path}");
    let (_, page) = portal.get(&format!("/instances/{id}/jobs/counting")).await;
    assert!(page.contains(&path), "the job page lists it");

    // Its size, as the running job's JobManager reports it (Flink's
    // checkpoint history holds the savepoints of this run of the job).
    let sized = wait_for_snapshots(
        &portal,
        &id,
        "counting",
        Duration::from_secs(60),
        "the savepoint's size listed",
        |list| {
            list.iter()
                .any(|s| s["path"] == path.as_str() && s["size"].as_u64().is_some_and(|n| n > 0))
        },
    )
    .await;
    let size = sized.iter().find(|s| s["path"] == path.as_str()).unwrap()["size"]
        .as_u64()
        .unwrap();
    let (_, page) = portal.get(&format!("/instances/{id}/jobs/counting")).await;
    assert!(
        page.contains(&format!(
            "<td data-snapshot-size>{}</td>",
            dataport::service::readable_size(size)
        )),
        "the page shows {size} bytes as people read it"
    );

    // Flink's savepoint: its metadata is an object in the bucket, and the
    // job kept running (a savepoint, not a stop).
    let listed = list_in_bucket(&client, &namespace, "store", &path).await;
    assert!(
        listed.contains("_metadata"),
        "no _metadata under {path}: {listed}"
    );
    let session_jobs: Api<FlinkSessionJob> = Api::namespaced(client.clone(), &namespace);
    let first_id = session_jobs
        .get("analytics-counting")
        .await
        .unwrap()
        .status
        .and_then(|s| s.job_status)
        .and_then(|j| j.job_id)
        .expect("the running job's id");
    let details = rest(&job_manager, &format!("/jobs/{first_id}"))
        .await
        .unwrap();
    assert_eq!(details["state"], "RUNNING", "{details}");

    // A new job started from it: Flink reports the restore from that path.
    let (status, submitted) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "copy", "params": {"jarURI": jar, "parallelism": 1,
                "upgradeMode": "savepoint", "args": "--delay-ms 20",
                "initialSavepointPath": path, "allowNonRestoredState": false}}),
        )
        .await;
    assert_eq!(status, 201, "{submitted}");
    portal
        .wait_for_job(
            &id,
            "copy",
            "the copy running",
            Duration::from_secs(180),
            |job| job["state"] == "RUNNING",
        )
        .await;
    let copy_id = session_jobs
        .get("analytics-copy")
        .await
        .unwrap()
        .status
        .and_then(|s| s.job_status)
        .and_then(|j| j.job_id)
        .expect("the copy's id");
    assert_ne!(copy_id, first_id);
    let restored = &common::flink::restored_from(&job_manager, &copy_id).await;
    assert_eq!(restored["is_savepoint"], true, "{restored}");
    assert_eq!(
        restored["external_path"]
            .as_str()
            .unwrap_or_default()
            .trim_end_matches('/'),
        path.trim_end_matches('/'),
        "{restored}"
    );

    // The job itself started again from it (the form, a savepoint of the
    // list): cancelled without a savepoint, submitted from that path.
    let (status, _, _) = portal
        .post_form(
            &format!("/instances/{id}/jobs/counting/redeploy"),
            &[("chosen", &path), ("initialSavepointPath", "")],
        )
        .await;
    assert_eq!(status, 303);
    let redeployed_id = eventually(
        Duration::from_secs(180),
        "counting redeployed under a new job id",
        || async {
            let status = session_jobs.get("analytics-counting").await.ok()?.status?;
            let job = status.job_status?;
            (job.state.as_deref() == Some("RUNNING")
                && job.job_id.as_deref().is_some_and(|j| j != first_id))
            .then_some(job.job_id?)
        },
    )
    .await;
    eventually(Duration::from_secs(30), "the old job cancelled", || async {
        rest(&job_manager, &format!("/jobs/{first_id}"))
            .await
            .filter(|job| job["state"] == "CANCELED")
    })
    .await;
    let checkpoints = eventually(
        Duration::from_secs(60),
        "Flink reporting the redeploy's restore",
        || async {
            rest(&job_manager, &format!("/jobs/{redeployed_id}/checkpoints"))
                .await
                .filter(|c| !c["latest"]["restored"].is_null())
        },
    )
    .await;
    assert_eq!(
        checkpoints["latest"]["restored"]["external_path"]
            .as_str()
            .unwrap_or_default()
            .trim_end_matches('/'),
        path.trim_end_matches('/'),
        "{restored}"
    );

    // Deleted through the portal (the form; counting started from it, so
    // the tick): the operator has Flink dispose of it, and its files go.
    let snapshot = taken["name"].as_str().unwrap().to_owned();
    let bucket = format!("s3://flink/{namespace}");
    let metadata = format!(
        "{}/_metadata",
        path.trim_end_matches('/').rsplit('/').next().unwrap()
    );
    let before = list_in_bucket_recursively(&client, &namespace, "store", &bucket).await;
    assert!(before.contains(&metadata), "{metadata} not in {before}");
    let (status, location, html) = portal
        .post_form(
            &format!("/instances/{id}/jobs/counting/savepoints/{snapshot}/delete"),
            &[("deleteStartSavepoint", "true")],
        )
        .await;
    assert_eq!(status, 303, "{html}");
    assert!(location.unwrap().contains("#savepoints"));
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client.clone(), &namespace);
    eventually(
        Duration::from_secs(120),
        "the snapshot released by the operator",
        || async {
            snapshots
                .get_opt(&snapshot)
                .await
                .ok()
                .and_then(|found| found.is_none().then_some(()))
        },
    )
    .await;
    eventually(
        Duration::from_secs(120),
        "the savepoint's _metadata gone from the bucket",
        || async {
            let listed = list_in_bucket_recursively(&client, &namespace, "store", &bucket).await;
            (!listed.contains(&metadata)).then_some(())
        },
    )
    .await;

    for job in ["copy", "counting"] {
        let response = portal
            .http
            .delete(format!("{}/api/v1/instances/{id}/jobs/{job}", portal.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
}
