//! A user updates an instance from its pre-filled form: sees the diff of the
//! objects first, applies it, objects no longer rendered are pruned, a stale
//! form is refused with 409, and a rollback returns to an earlier revision.

mod common;

use common::Portal;
use dataport::crd::FlinkDeployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use serde_json::{Value, json};

async fn wait_for_operation(portal: &Portal, id: &str, kind: &str) -> Value {
    let instance = portal
        .wait_for_instance(id, kind, |i| {
            let operation = &i["operations"][0];
            operation["kind"] == kind
                && matches!(operation["state"].as_str(), Some("succeeded" | "failed"))
        })
        .await;
    assert_eq!(
        instance["operations"][0]["state"], "succeeded",
        "{instance}"
    );
    instance
}

#[tokio::test]
async fn update_with_diff_and_prune_then_roll_back() {
    let (portal, _database, namespace) = Portal::on_test_cluster("update").await;
    let cluster = common::cluster::shared();
    portal.install(json!({"app": "hdfs", "name": "hdfs", "namespace": namespace, "params": {"datanodes": 1, "replication": 1}})).await;
    portal
        .install(json!({"app": "flink-kubernetes-operator", "name": "op", "namespace": namespace}))
        .await;
    let flink = portal
        .install(json!({"app": "flink", "name": "analytics", "namespace": namespace, "params": {
            "operator": "op", "highAvailability": true, "haType": "kubernetes", "storage": "hdfs", "hdfs": "hdfs",
            "extraLibraries": common::render::HADOOP_LIBRARIES}}))
        .await;
    let id = flink["instance"]["id"].as_str().unwrap().to_owned();
    let client = cluster.client().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    assert!(
        config_maps
            .get_opt("analytics-hadoop-conf")
            .await
            .unwrap()
            .is_some()
    );

    // The form comes pre-filled with what is in force.
    let (status, html) = portal.get(&format!("/instances/{id}/update")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Update analytics</h1>"));
    assert!(html.contains("name=\"revision\" value=\"1\""));
    // Name and namespace are fixed, and the form says so next to them.
    assert_eq!(html.matches("data-fixed>").count(), 2, "{html}");
    assert!(html.contains("An instance keeps its name"));
    assert!(
        html.contains("id=\"f-highAvailability\" name=\"highAvailability\" value=\"true\" checked")
    );

    // The diff before anything is applied.
    let change = [("operator", "op"), ("taskSlots", "4"), ("revision", "1")];
    let mut fields = change.to_vec();
    fields.push(("action", "diff"));
    let (status, _, html) = portal
        .post_form(&format!("/instances/{id}/update"), &fields)
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("data-diff"));
    assert!(
        html.contains("-    taskmanager.numberOfTaskSlots: &#39;2&#39;"),
        "{html}"
    );
    assert!(html.contains("+    taskmanager.numberOfTaskSlots: &#39;4&#39;"));
    assert!(
        html.contains("-    high-availability.type: kubernetes"),
        "turning HA off shows"
    );
    let (_, plan) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/diff"),
            &json!({"params": {"operator": "op", "taskSlots": 4}}),
        )
        .await;
    assert_eq!(plan["changes"], true);
    assert_eq!(plan["from_revision"], 1);

    // Apply: HA off, so the Hadoop ConfigMap is no longer rendered and goes.
    let mut fields = change.to_vec();
    fields.push(("action", "update"));
    let (status, location, _) = portal
        .post_form(&format!("/instances/{id}/update"), &fields)
        .await;
    assert_eq!((status, location), (303, Some(format!("/instances/{id}"))));
    let updated = wait_for_operation(&portal, &id, "update").await;
    assert_eq!(updated["instance"]["current_revision"], 2);
    assert_eq!(
        updated["operations"][0]["progress"],
        "pruned ConfigMap analytics-hadoop-conf"
    );
    assert!(
        config_maps
            .get_opt("analytics-hadoop-conf")
            .await
            .unwrap()
            .is_none(),
        "pruned"
    );
    let deployments: Api<FlinkDeployment> = Api::namespaced(client, &namespace);
    let conf = deployments
        .get("analytics")
        .await
        .unwrap()
        .spec
        .flink_configuration
        .unwrap();
    assert_eq!(conf["taskmanager.numberOfTaskSlots"], "4");
    assert!(!conf.contains_key("high-availability.type"));

    // A form read at revision 1 is stale now.
    let (status, stale) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/update"),
            &json!({"revision": 1, "params": {"operator": "op", "taskSlots": 8}}),
        )
        .await;
    assert_eq!(status, 409, "{stale}");
    let (status, _, html) = portal
        .post_form(&format!("/instances/{id}/update"), &fields)
        .await;
    assert_eq!(status, 409);
    assert!(html.contains("changed by someone else"));

    // Roll back to revision 1: a new revision 3 with the old parameters.
    let (status, _, _) = portal
        .post_form(&format!("/instances/{id}/rollback"), &[("revision", "1")])
        .await;
    assert_eq!(status, 303);
    let rolled = wait_for_operation(&portal, &id, "rollback").await;
    assert_eq!(rolled["instance"]["current_revision"], 3);
    assert_eq!(rolled["instance"]["params"]["highAvailability"], true);
    assert!(
        config_maps
            .get_opt("analytics-hadoop-conf")
            .await
            .unwrap()
            .is_some(),
        "back with HA"
    );
    let (status, missing) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/rollback"),
            &json!({"revision": 9}),
        )
        .await;
    assert_eq!(status, 400, "{missing}");
}

/// A Job's pod template cannot change once created, so a new bucket is a new
/// Job (its name carries a hash of what it does) and the old one is pruned.
#[tokio::test]
async fn change_the_minio_bucket_of_an_installed_instance() {
    use k8s_openapi::api::batch::v1::Job;
    use kube::api::ListParams;

    let (portal, _database, namespace) = Portal::on_test_cluster("bucket").await;
    let minio = portal
        .install(
            json!({"app": "minio", "name": "store", "namespace": namespace,
            "params": {"bucket": "flink", "storage": "1Gi"}}),
        )
        .await;
    assert_eq!(minio["operations"][0]["state"], "succeeded", "{minio}");
    let id = minio["instance"]["id"].as_str().unwrap().to_owned();
    let jobs: Api<Job> = Api::namespaced(common::cluster::shared().client().await, &namespace);
    let bucket_jobs = || async {
        let mut found: Vec<(String, String)> = jobs
            .list(&ListParams::default().labels("app.kubernetes.io/instance=store"))
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|job| job.metadata.deletion_timestamp.is_none())
            .map(|job| {
                let script = job.spec.unwrap().template.spec.unwrap().containers[0]
                    .command
                    .clone()
                    .unwrap()
                    .join(" ");
                (job.metadata.name.unwrap(), script)
            })
            .collect();
        found.sort();
        found
    };
    let before = bucket_jobs().await;
    assert_eq!(before.len(), 1, "{before:?}");
    assert!(before[0].0.starts_with("store-create-bucket"), "{before:?}");
    assert!(before[0].1.ends_with("dataport/flink"), "{before:?}");

    portal
        .update(&id, 1, &json!({"bucket": "checkpoints", "storage": "1Gi"}))
        .await;
    let updated = wait_for_operation(&portal, &id, "update").await;
    assert_eq!(updated["instance"]["current_revision"], 2);

    let after = bucket_jobs().await;
    assert_eq!(after.len(), 1, "the old Job is pruned: {after:?}");
    assert!(after[0].0.starts_with("store-create-bucket-"), "{after:?}");
    assert_ne!(after[0].0, before[0].0);
    assert!(after[0].1.ends_with("dataport/checkpoints"), "{after:?}");
    assert!(
        updated["operations"][0]["progress"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("Job {}", before[0].0)),
        "{updated}"
    );
}
