//! When the API server refuses an object, the install operation ends failed
//! with the API server's own words, the instance is marked Failed, and its
//! page shows the error; the records stay consistent.

mod common;

use std::time::Duration;

use common::{Backend, Portal, TestDatabase};
use k8s_openapi::api::core::v1::ResourceQuota;
use kube::api::{Api, PostParams};
use kube::runtime::wait::await_condition;
use serde_json::json;

#[tokio::test]
async fn a_refused_object_fails_the_install_with_the_api_servers_error() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("refused").await;
    // A quota that allows no Service: the ZooKeeper Service will be refused.
    let quotas: Api<ResourceQuota> = Api::namespaced(cluster.client().await, &namespace);
    let quota = serde_json::from_value(json!({
        "metadata": {"name": "no-services"},
        "spec": {"hard": {"services": "0"}},
    }))
    .unwrap();
    quotas.create(&PostParams::default(), &quota).await.unwrap();
    let counted = await_condition(quotas, "no-services", |q: Option<&ResourceQuota>| {
        q.and_then(|q| q.status.as_ref())
            .and_then(|s| s.hard.as_ref())
            .is_some()
    });
    tokio::time::timeout(Duration::from_secs(30), counted)
        .await
        .unwrap()
        .unwrap();

    let database = TestDatabase::new(Backend::Sqlite).await;
    let portal = Portal::start(
        database.store().await,
        Some(cluster.cluster().await),
        Default::default(),
    )
    .await;
    let instance = portal
        .install(json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}}))
        .await;

    let operation = &instance["operations"][0];
    assert_eq!(operation["state"], "failed", "{instance}");
    let error = operation["error"].as_str().unwrap();
    assert!(error.contains("Service"), "names the object: {error}");
    assert!(
        error.contains("exceeded quota: no-services"),
        "the API server's words: {error}"
    );
    assert_eq!(instance["instance"]["status"], "Failed");

    let (status, html) = portal
        .get(&format!(
            "/instances/{}",
            instance["instance"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("exceeded quota: no-services"),
        "the page shows the error"
    );
    assert!(html.contains("data-state=\"failed\""));
}
