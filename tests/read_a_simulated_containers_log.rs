//! `kubectl logs` of a pod the local node only simulates: the API server asks
//! the node's kubelet endpoint (TLS, its client certificate), and the node
//! answers as a kubelet does for a container without a log, saying why,
//! instead of inventing lines. Nobody but the API server reads logs there: a
//! client without its kubelet client certificate is refused.

mod common;

use common::Portal;
use serde_json::json;

use std::time::Duration;

use common::cluster::shared;
use common::operator::eventually;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, LogParams, PostParams};

#[tokio::test]
async fn a_simulated_container_has_no_log_and_the_node_says_so() {
    let cluster = shared();
    let namespace = cluster.namespace("simlogs").await;
    let client = cluster.client().await;
    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
    }))
    .expect("pod");
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create pod");
    eventually(Duration::from_secs(60), "the pod Running", || async {
        let pod = pods.get("web").await.ok()?;
        (pod.status?.phase.as_deref() == Some("Running")).then_some(())
    })
    .await;

    let params = LogParams {
        container: Some("nginx".into()),
        ..LogParams::default()
    };
    match pods.logs("web", &params).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 400, "{status:?}");
            assert_eq!(
                status.message,
                "container \"nginx\" in pod \"web\" is simulated by the dataport node: no process runs, so it has no log"
            );
        }
        other => panic!("a simulated container's log: {other:?}"),
    }
    // The previous run, likewise: none ran.
    let previous = LogParams {
        previous: true,
        ..params.clone()
    };
    assert!(matches!(
        pods.logs("web", &previous).await,
        Err(kube::Error::Api(status)) if status.code == 400 && status.message.contains("simulated")
    ));
    // A container the pod does not have: the API server refuses before asking the node.
    let other = LogParams {
        container: Some("sidecar".into()),
        ..LogParams::default()
    };
    assert!(matches!(
        pods.logs("web", &other).await,
        Err(kube::Error::Api(status)) if status.code == 400 && status.message.contains("is not valid for pod")
    ));
}

#[tokio::test]
async fn the_nodes_log_endpoint_refuses_clients_other_than_the_api_server() {
    let client = shared().client().await;
    let nodes: Api<Node> = Api::all(client);
    let node = eventually(Duration::from_secs(60), "the node registered", || async {
        nodes.get("dataport-sim-node").await.ok()
    })
    .await;
    let port = node
        .status
        .and_then(|s| s.daemon_endpoints)
        .and_then(|d| d.kubelet_endpoint)
        .map(|e| e.port)
        .expect("the kubelet endpoint's port");
    // Something listens there...
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", u16::try_from(port).expect("a port")))
            .await
            .is_ok()
    );
    // ...but TLS without the API server's client certificate is refused.
    let anonymous = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let answer = anonymous
        .get(format!(
            "https://127.0.0.1:{port}/containerLogs/default/web/nginx"
        ))
        .send()
        .await;
    assert!(
        answer.is_err(),
        "answered without a client certificate: {answer:?}"
    );
}

#[tokio::test]
async fn a_simulated_instances_pods_are_listed_and_their_log_page_says_why_it_is_empty() {
    let (portal, _database, namespace) = Portal::on_test_cluster("simpods").await;
    let installed = portal
        .install(json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}}))
        .await;
    let id = installed["instance"]["id"].as_str().expect("id").to_owned();
    // Its StatefulSet's pod, found by the instance's labels.
    let pod = eventually(Duration::from_secs(60), "zk's running pod", || async {
        let (_, pods) = portal
            .get_json(&format!("/api/v1/instances/{id}/pods"))
            .await;
        pods.as_array()?
            .iter()
            .find(|p| p["status"] == "Running" && p["ready"] == "1/1")
            .cloned()
    })
    .await;
    let name = pod["name"].as_str().expect("name");
    assert_eq!(name, "zk-0");
    let container = pod["containers"][0]["name"].as_str().expect("container");
    let (status, page) = portal
        .get(&format!("/instances/{id}/pods/{name}/logs/{container}"))
        .await;
    assert_eq!(status, 200);
    let said = format!(
        "No log: container &#34;{container}&#34; in pod &#34;{name}&#34; is simulated by the dataport node: no process runs, so it has no log"
    );
    assert!(page.contains(&said), "{page}");
    assert!(!page.contains("data-follow="), "nothing to follow");
    // Only the instance's pods: a container it does not have is not found.
    let (status, _) = portal
        .get(&format!("/instances/{id}/pods/{name}/logs/nosuch"))
        .await;
    assert_eq!(status, 404);
}
