//! A user uninstalls a real Flink session whose savepoints are on dataport's
//! MinIO (S3Proxy here) and ticks "Also delete its savepoints": the confirm
//! page offers the box with the directory; a wrong name keeps the box ticked;
//! the uninstall deletes every object under the savepoint directory with a
//! Job in MinIO's namespace (mc-standin's `rm --recursive --force` for mc),
//! says so in its last progress line (counting the files) and the audit
//! log, and leaves no Job and no pod.

mod common;

use std::time::Duration;

use common::Portal;
use common::cluster::{REAL_FLINK_RELEASE, real_flink, serve_file, test_job_jar};
use common::flink::{install_session_with_state_on_s3, run_the_test_job};
use common::operator::eventually;
use common::s3::list_in_bucket;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::json;

#[tokio::test]
async fn uninstalling_with_the_box_ticked_deletes_the_savepoints_on_minio() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("spdelete").await;
    let jar = serve_file(&test_job_jar(REAL_FLINK_RELEASE)).await;
    let (id, _) = install_session_with_state_on_s3(&portal, &namespace).await;
    common::flink::wait_until_running(&portal, &id).await;
    run_the_test_job(&portal, &id, "counting", &jar).await;
    let (status, suspended) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/counting/suspend"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{suspended}");
    portal
        .wait_for_job(
            &id,
            "counting",
            "suspended with a savepoint",
            Duration::from_secs(180),
            |job| job["state"] == "SUSPENDED" && job["observed"]["savepoint"].is_string(),
        )
        .await;

    // The savepoint is in the bucket.
    let client = real_flink().client().await;
    let dir = format!("s3://flink/{namespace}/analytics/savepoints");
    let listing = format!("{dir}/");
    let listed = list_in_bucket(&client, &namespace, "store", &listing).await;
    assert!(listed.contains("_metadata"), "{listed}");
    let stored = listed
        .lines()
        .filter(|line| !line.trim().is_empty())
        .count();

    // The confirm page offers the box, naming the directory; a wrong name
    // keeps it ticked.
    let (_, confirm) = portal.get(&format!("/instances/{id}/uninstall")).await;
    assert!(
        confirm.contains("data-delete-savepoints")
            && confirm.contains(&format!(
                "every file under <code>{dir}</code> in the MinIO instance <strong>store</strong>"
            )),
        "{confirm}"
    );
    let (status, _, page) = portal
        .post_form(
            &format!("/instances/{id}/uninstall"),
            &[("confirm", "analytic"), ("delete_savepoints", "on")],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains(r#"name="delete_savepoints" value="on" checked"#),
        "the box stays ticked: {page}"
    );

    // Uninstalled with the box ticked: the savepoints are gone.
    let (status, operation) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/uninstall"),
            &json!({"confirm": "analytics", "delete_savepoints": true}),
        )
        .await;
    assert_eq!(status, 202, "{operation}");
    assert_eq!(operation["deletes_savepoints"], json!(dir), "{operation}");
    let uninstalled = portal.wait_until_uninstalled(&id).await;
    let last = &uninstalled["operations"][0];
    assert_eq!(last["state"], "succeeded", "{uninstalled}");
    // Each file stored there counted.
    let said = last["progress"].as_str().unwrap_or_default();
    let files: usize = said
        .split_once(&format!("its savepoints under {dir} are deleted ("))
        .and_then(|(_, count)| count.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no count of deleted files: {said}"));
    assert_eq!(files, stored, "{said}");
    let listed = list_in_bucket(&client, &namespace, "store", &listing).await;
    assert!(listed.trim().is_empty(), "left: {listed}");

    // The Job went with its work; the audit log says what was deleted.
    let jobs: Api<Job> = Api::namespaced(client.clone(), &namespace);
    eventually(Duration::from_secs(30), "the deletion Job gone", || async {
        jobs.list(&ListParams::default().labels("app.kubernetes.io/component=delete-savepoints"))
            .await
            .ok()
            .filter(|listed| listed.items.is_empty())
    })
    .await;
    // Its pod too: the node deletes a pod that ended once it is deleted.
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    eventually(
        Duration::from_secs(60),
        "the deletion Job's pod gone",
        || async {
            pods.list(
                &ListParams::default().labels("app.kubernetes.io/component=delete-savepoints"),
            )
            .await
            .ok()
            .filter(|listed| listed.items.is_empty())
        },
    )
    .await;
    let (_, audit) = portal.get_json("/api/v1/audit").await;
    assert!(
        audit
            .to_string()
            .contains(&format!("and delete its savepoints under {dir}")),
        "{audit}"
    );
}
