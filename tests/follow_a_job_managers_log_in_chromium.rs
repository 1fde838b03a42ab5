//! In real headless Chromium, as a viewer: from a real Flink session
//! cluster's page, one click opens the JobManager's log, which follows live:
//! when a TaskManager pod goes, the JobManager's own lines about it (and the
//! new TaskManager pod it asks for) appear on the open page.

mod common;

use std::time::Duration;

use common::browser::{Browser, JavaScript};
use common::cluster::real_flink;
use common::operator::eventually;
use common::{ADMIN_PASSWORD, Portal};
use dataport::service::Role;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams};

#[tokio::test]
async fn a_viewer_follows_the_job_managers_log_live() {
    let (portal, database, namespace) = Portal::on_real_flink_cluster("followlog").await;
    let id = common::flink::install_session(&portal, &namespace, "1.20", 1).await;
    // Both pods ready, and the JobManager past its start.
    let task_manager = eventually(Duration::from_secs(300), "a ready TaskManager", || async {
        let (_, pods) = portal
            .get_json(&format!("/api/v1/instances/{id}/pods"))
            .await;
        let pods = pods.as_array().cloned().unwrap_or_default();
        let ready = |component: &str| {
            pods.iter()
                .find(|p| p["component"] == component && p["ready"] == "1/1")
                .and_then(|p| p["name"].as_str().map(str::to_owned))
        };
        ready("jobmanager").and(ready("taskmanager"))
    })
    .await;

    portal
        .client_as(&database.url, "watcher", Role::Viewer)
        .await;
    let browser = Browser::start(JavaScript::On).await;
    browser
        .log_in(&portal.base, "watcher", ADMIN_PASSWORD)
        .await;
    browser
        .client
        .goto(&format!("{}/instances/{id}#pods", portal.base))
        .await
        .expect("instance page");
    browser.wait_for("tr[data-component=taskmanager]").await;
    browser.screenshot("instance-pods").await;
    // One click from the instance page: the JobManager's log.
    browser
        .click_to_load("tr[data-component=jobmanager] [data-log-link]")
        .await;
    let heading = browser.text("h1").await;
    assert!(heading.starts_with("JobManager log"), "{heading}");
    browser
        .wait_for_text("[data-follow-state]", "following", |s| {
            s == "Following live"
        })
        .await;
    browser
        .wait_for_text("[data-log]", "Flink's start lines", |log| {
            log.contains("Starting KubernetesSessionClusterEntrypoint")
        })
        .await;

    // A TaskManager goes: the JobManager says so, live on the open page.
    let pods: Api<Pod> = Api::namespaced(real_flink().client().await, &namespace);
    pods.delete(&task_manager, &DeleteParams::default())
        .await
        .expect("delete the TaskManager pod");
    let log = browser
        .wait_for_text(
            "[data-log]",
            "the JobManager's lines about the new TaskManager",
            |log| log.contains("analytics-taskmanager-1-2"),
        )
        .await;
    assert!(log.contains(&task_manager), "the lost TaskManager is named");
    browser.screenshot("job-manager-log-followed").await;
    browser.close().await;

    common::uninstall_until_no_process_is_left(&portal, &id, "analytics", &namespace).await;
}
