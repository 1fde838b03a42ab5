//! A user restarts an instance: its Deployments and StatefulSets roll through
//! a new pod-template annotation, its Flink cluster through `restartNonce`,
//! and a later apply by dataport leaves both in place.

mod common;

use common::Portal;
use dataport::crd::FlinkDeployment;
use k8s_openapi::api::apps::v1::StatefulSet;
use kube::api::Api;
use serde_json::json;

#[tokio::test]
async fn restart_rolls_workloads_and_flink_clusters() {
    let (portal, database, namespace) = Portal::on_test_cluster("restart").await;
    let cluster = common::cluster::shared();
    let zk = portal.install(json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}})).await;
    portal
        .install(json!({"app": "flink-kubernetes-operator", "name": "op", "namespace": namespace}))
        .await;
    let flink = portal.install(json!({"app": "flink", "name": "analytics", "namespace": namespace, "params": {"operator": "op"}})).await;

    let client = cluster.client().await;
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), &namespace);
    let before = sets.get("zk").await.unwrap().metadata.generation;
    for instance in [&zk, &flink] {
        let id = instance["instance"]["id"].as_str().unwrap();
        let (status, _, _) = portal
            .post_form(&format!("/instances/{id}/restart"), &[])
            .await;
        assert_eq!(status, 303);
        let done = portal
            .wait_for_instance(id, "restarted", |now| {
                now["operations"][0]["kind"] == "restart"
                    && now["operations"][0]["state"] == "succeeded"
            })
            .await;
        assert_eq!(done["operations"][0]["progress"], "Restarted 1 workload");
    }
    let set = sets.get("zk").await.unwrap();
    assert!(
        set.metadata.generation > before,
        "a new generation rolls the pods"
    );
    let annotations = set
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .annotations
        .unwrap();
    assert!(annotations.contains_key("dataport.io/restarted-at"));
    let flinks: Api<FlinkDeployment> = Api::namespaced(client, &namespace);
    assert!(
        flinks
            .get("analytics")
            .await
            .unwrap()
            .spec
            .restart_nonce
            .is_some()
    );

    // Applying the instance's objects again keeps the restart marks.
    let revision_objects = {
        let store = database.store().await;
        let id = zk["instance"]["id"].as_str().unwrap().parse().unwrap();
        store.revision(id, 1).await.unwrap().objects
    };
    cluster
        .cluster()
        .await
        .apply(revision_objects.as_array().unwrap())
        .await
        .unwrap();
    let annotations = sets
        .get("zk")
        .await
        .unwrap()
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .annotations
        .unwrap();
    assert!(
        annotations.contains_key("dataport.io/restarted-at"),
        "apply leaves the restart annotation"
    );
}
