//! In real headless Chromium: the pods panel of an open instance page follows
//! the cluster live. When a pod is deleted and its Deployment makes a new
//! one, the new pod's row replaces the old one without a reload, as soon as
//! the pod watch sees it; without JS the panel stays as loaded and says how
//! to see the latest. The Objects panel follows its objects' readiness alike.

mod common;

use std::time::Duration;

use common::Portal;
use common::browser::{Browser, JavaScript};
use common::operator::eventually;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;

/// The pod names the open page shows now.
async fn pods_on_the_page(browser: &Browser) -> Vec<String> {
    let mut names = Vec::new();
    for row in browser.all_now("tr[data-pod]").await {
        if let Ok(Some(name)) = row.attr("data-pod").await {
            names.push(name);
        }
    }
    names
}

#[tokio::test]
async fn the_pods_panel_follows_a_replaced_pod_without_a_reload() {
    let (portal, _database, namespace) = Portal::on_test_cluster("livepods").await;
    let installed = portal
        .install(json!({"app": "flink-kubernetes-operator", "name": "flink-operator", "namespace": namespace}))
        .await;
    let id = installed["instance"]["id"].as_str().expect("id").to_owned();
    let first = eventually(Duration::from_secs(60), "the operator's pod", || async {
        let (_, pods) = portal
            .get_json(&format!("/api/v1/instances/{id}/pods"))
            .await;
        pods.as_array()?
            .first()?
            .get("name")?
            .as_str()
            .map(str::to_owned)
    })
    .await;

    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    browser
        .open(&portal.base, &format!("/instances/{id}"))
        .await;
    browser.wait_for(&format!("tr[data-pod=\"{first}\"]")).await;
    browser
        .wait_for_text("[data-pods-note]", "following live", |note| {
            note == "Following live."
        })
        .await;
    // A mark on the page: a reload would lose it.
    browser.mark_page().await;

    let pods: Api<Pod> = Api::namespaced(common::cluster::shared().client().await, &namespace);
    pods.delete(&first, &DeleteParams::default())
        .await
        .expect("delete the operator's pod");
    // Sooner than the panel's own re-read (every 30 s for the ages): the
    // cluster's pod watch, not the clock, brings the change.
    let shown = eventually(
        Duration::from_secs(20),
        "the new pod's row in place of the old one",
        || async {
            let names = pods_on_the_page(&browser).await;
            (!names.is_empty() && !names.contains(&first)).then_some(names)
        },
    )
    .await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    browser.assert_not_reloaded().await;

    // The Objects panel follows the cluster too: a second replica, asked
    // for behind dataport's back, shows there as it becomes ready.
    browser
        .wait_for_text("[data-observed]", "1/1 ready", |text| {
            text.contains("1/1 ready")
        })
        .await;
    let deployments: Api<Deployment> =
        Api::namespaced(common::cluster::shared().client().await, &namespace);
    let deployment = deployments
        .list(&ListParams::default())
        .await
        .expect("list Deployments")
        .items
        .into_iter()
        .next()
        .and_then(|deployment| deployment.metadata.name)
        .expect("the operator's Deployment");
    deployments
        .patch(
            &deployment,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 2}})),
        )
        .await
        .expect("scale the operator's Deployment");
    browser
        .wait_for_text("[data-observed]", "2/2 ready", |text| {
            text.contains(&format!("workload {deployment}: 2/2 ready"))
        })
        .await;
    browser.assert_not_reloaded().await;
    browser.screenshot("pods-followed-live").await;
    browser.close().await;

    // Without JS the panel says how to see the latest.
    let (_, html) = portal.get(&format!("/instances/{id}")).await;
    assert!(html.contains("data-pods-live=") && html.contains("reload</a> for the latest"));
}
