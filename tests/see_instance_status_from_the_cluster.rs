//! A user sees an instance's status follow its objects: Installing, then
//! Running once the simulated node runs its pods and the simulated operator
//! reports its Flink cluster ready, and Failed when the operator reports an
//! error. Status comes from watches, not from polling per instance.

mod common;

use common::Portal;
use dataport::crd::FlinkDeployment;
use dataport::simulator::FAIL_ANNOTATION;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

async fn wait_for_status(portal: &Portal, id: &str, wanted: &str) {
    portal
        .wait_for_instance(id, wanted, |i| i["instance"]["status"] == wanted)
        .await;
}

#[tokio::test]
async fn statuses_follow_the_objects_the_cluster_reports() {
    let (portal, _database, namespace) = Portal::on_test_cluster("status").await;
    let cluster = common::cluster::shared();

    let zookeeper = portal
        .install(json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}}))
        .await;
    let zookeeper_id = zookeeper["instance"]["id"].as_str().unwrap().to_owned();
    wait_for_status(&portal, &zookeeper_id, "Running").await;
    // The StatefulSet controller's own events show on the page.
    let (_, zookeeper) = portal
        .get_json(&format!("/api/v1/instances/{zookeeper_id}"))
        .await;
    let reasons: Vec<_> = zookeeper["events"]["Ok"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].clone())
        .collect();
    assert!(reasons.contains(&json!("SuccessfulCreate")), "{zookeeper}");

    portal
        .install(json!({"app": "flink-kubernetes-operator", "name": "flink-operator", "namespace": namespace}))
        .await;
    let flink = portal
        .install(json!({"app": "flink", "name": "analytics", "namespace": namespace, "params": {"operator": "flink-operator"}}))
        .await;
    let flink_id = flink["instance"]["id"].as_str().unwrap().to_owned();
    wait_for_status(&portal, &flink_id, "Running").await;
    // The operator reports DEPLOYED before STABLE; the instance already runs
    // at DEPLOYED, so the page is read once it shows STABLE.
    let html = portal
        .wait_for_page_containing(
            &format!("/instances/{flink_id}"),
            "FlinkDeployment analytics: <span class=\"status status-running\">JobManager READY, STABLE</span>",
        )
        .await;
    assert!(html.contains("data-status>Running<"));
    // Open WebUI goes through dataport's proxy; the in-cluster address and
    // the port-forward line stay as the alternatives.
    assert!(
        html.contains(&format!(
            "href=\"/instances/{flink_id}/ui/flink-webui/\" target=\"_blank\""
        )),
        "Open WebUI"
    );
    assert!(html.contains(&format!(
        "<code>http://analytics-rest.{namespace}.svc:8081/</code>"
    )));
    assert!(html.contains(&format!(
        "kubectl -n {namespace} port-forward svc/analytics-rest 8081:8081"
    )));

    // Grafana: none yet, then the monitoring instance's dashboard, filtered to this cluster.
    assert!(
        html.contains("data-grafana-missing"),
        "no monitoring instance yet"
    );
    portal
        .install(
            json!({"app": "monitoring", "name": "grafana", "namespace": namespace,
                        "params": {"externalUrl": "https://grafana.example.org"}}),
        )
        .await;
    let (_, html) = portal.get(&format!("/instances/{flink_id}")).await;
    let link = format!(
        "https://grafana.example.org/d/dataport-flink/flink-dataport?var-namespace={namespace}&#38;var-cluster=analytics"
    );
    assert!(html.contains(&link), "the deep link: {html}");

    // The operator reports an error: the instance fails.
    let deployments: Api<FlinkDeployment> = Api::namespaced(cluster.client().await, &namespace);
    deployments
        .patch(
            "analytics",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {FAIL_ANNOTATION: "TaskManager lost"}}}),
            ),
        )
        .await
        .unwrap();
    wait_for_status(&portal, &flink_id, "Failed").await;

    let (_, listed) = portal
        .get_json(&format!(
            "/api/v1/instances?namespace={namespace}&status=Running"
        ))
        .await;
    let running: Vec<_> = listed["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].clone())
        .collect();
    assert!(
        running.contains(&json!("zk")) && !running.contains(&json!("analytics")),
        "{running:?}"
    );
}
