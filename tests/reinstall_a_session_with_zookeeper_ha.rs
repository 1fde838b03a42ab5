//! A user runs the test job on a real Flink session with ZooKeeper high
//! availability, on a real ZooKeeper (Apache ZooKeeper, which the process
//! node runs for the `zookeeper` image), then uninstalls the session and
//! installs it again under its name. Flink keeps its job graph under the
//! cluster's ZooKeeper node; the confirm page names that node and says the
//! operator deletes it with the cluster; after the uninstall it is gone (the
//! stand-in operator deleted it, as the real one's `deleteHAData` does), and
//! the new cluster runs none of the old one's jobs.

mod common;

use std::time::Duration;

use common::Portal;
use common::cluster::{REAL_FLINK_RELEASE, real_flink, serve_file, test_job_jar};
use common::flink::{
    install_session_on_s3_with, pod_ip, rest, run_the_test_job, running_job_manager,
    session_params, wait_until_running,
};
use common::operator::eventually;
use dataport::crd::FlinkSessionJob;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use serde_json::{Value, json};
use zookeeper_async::ZooKeeper;

/// The session's HA parameters: ZooKeeper HA on the ZooKeeper instance `zk`.
fn zookeeper_ha() -> Value {
    json!({"haType": "zookeeper", "zookeeper": "zk"})
}

/// The children of `path` on the ZooKeeper server at `server` (`ip:port`);
/// `None` when the node does not exist or the server does not answer.
async fn children(server: &str, path: &str) -> Option<Vec<String>> {
    let client = ZooKeeper::connect(server, Duration::from_secs(10), |_| {})
        .await
        .ok()?;
    let children = tokio::time::timeout(Duration::from_secs(10), client.get_children(path, false))
        .await
        .ok()?
        .ok();
    let _ = client.close().await;
    children
}

/// Whether `path` exists on the server at `server`; `None` when it does not answer.
async fn exists(server: &str, path: &str) -> Option<bool> {
    let client = ZooKeeper::connect(server, Duration::from_secs(10), |_| {})
        .await
        .ok()?;
    let found = tokio::time::timeout(Duration::from_secs(10), client.exists(path, false))
        .await
        .ok()?
        .ok()
        .map(|stat| stat.is_some());
    let _ = client.close().await;
    found
}

/// Waits until the process node runs no process of session `analytics` in
/// `namespace` (ZooKeeper's server runs on).
async fn wait_until_the_session_is_gone(namespace: &str) {
    eventually(
        Duration::from_secs(120),
        "no process of the session left",
        || async {
            common::cluster::java_processes_of_pods(namespace, "analytics-")
                .is_empty()
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn uninstalling_a_session_deletes_its_zookeeper_node_and_the_new_one_starts_clean() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("zkha").await;
    let zookeeper = portal
        .install(
            json!({"app": "zookeeper", "name": "zk", "namespace": namespace,
            "version": "3.9.3",
            "params": {"replicas": "1", "cpu": "250m", "memory": "512Mi", "storage": "1Gi"}}),
        )
        .await;
    assert_eq!(
        zookeeper["operations"][0]["state"], "succeeded",
        "{zookeeper}"
    );
    let jar = serve_file(&test_job_jar(REAL_FLINK_RELEASE)).await;
    let (id, _) = install_session_on_s3_with(&portal, &namespace, zookeeper_ha()).await;
    wait_until_running(&portal, &id).await;
    run_the_test_job(&portal, &id, "counting", &jar).await;

    // Flink keeps the job's graph on the real ZooKeeper, under the node the
    // catalog's path root and the cluster id make.
    let client = real_flink().client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let server = format!(
        "{}:2181",
        pod_ip(&pods.get("zk-0").await.expect("ZooKeeper's pod"))
    );
    let session_jobs: Api<FlinkSessionJob> = Api::namespaced(client.clone(), &namespace);
    let job_id = session_jobs
        .get("analytics-counting")
        .await
        .expect("the FlinkSessionJob")
        .status
        .and_then(|s| s.job_status)
        .and_then(|s| s.job_id)
        .expect("the job's id");
    let node = format!("/flink/{namespace}/analytics/analytics");
    let graphs = eventually(
        Duration::from_secs(60),
        "the job graph in ZooKeeper",
        || async {
            children(&server, &format!("{node}/jobgraphs"))
                .await
                .filter(|graphs| !graphs.is_empty())
        },
    )
    .await;
    assert_eq!(graphs, [job_id], "the running job's graph");

    // The confirm page names the node and who deletes it.
    let (_, confirm) = portal.get(&format!("/instances/{id}/uninstall")).await;
    assert!(
        confirm.contains(&format!("<code>{node}</code>"))
            && confirm.contains("the Flink operator deletes it when it deletes the cluster"),
        "{confirm}"
    );

    // Uninstalled: the cluster's node is gone from ZooKeeper.
    let uninstalled = portal.uninstall(&id, "analytics").await;
    assert_eq!(
        uninstalled["operations"][0]["state"], "succeeded",
        "{uninstalled}"
    );
    eventually(
        Duration::from_secs(60),
        "the cluster's node deleted from ZooKeeper",
        || async { (exists(&server, &node).await == Some(false)).then_some(()) },
    )
    .await;
    assert_eq!(
        exists(&server, &format!("/flink/{namespace}/analytics")).await,
        Some(true),
        "the path root above the cluster's node stays, as Curator leaves it"
    );
    wait_until_the_session_is_gone(&namespace).await;

    // Installed again: a new cluster, linked to the old record, with none of
    // the old one's jobs.
    let again = portal
        .install(
            json!({"app": "flink", "name": "analytics", "namespace": namespace,
            "version": "1.20", "params": session_params(zookeeper_ha())}),
        )
        .await;
    let new_id = again["instance"]["id"].as_str().expect("id").to_owned();
    assert_eq!(again["instance"]["previous_id"], json!(id), "{again}");
    wait_until_running(&portal, &new_id).await;
    let job_manager = pod_ip(&running_job_manager(&pods, "analytics").await);
    let overview = eventually(
        Duration::from_secs(120),
        "the new JobManager's job overview",
        || async { rest(&job_manager, "/jobs/overview").await },
    )
    .await;
    assert_eq!(overview["jobs"], json!([]), "{overview}");
    assert_eq!(
        children(&server, &format!("{node}/jobgraphs"))
            .await
            .unwrap_or_default(),
        Vec::<String>::new(),
        "no job graph of the old cluster"
    );
    portal.uninstall(&new_id, "analytics").await;
    wait_until_the_session_is_gone(&namespace).await;
}
