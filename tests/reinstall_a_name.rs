//! A user uninstalls the Flink session `flink-main` and installs it again
//! under the same name: the confirm page says that Flink's Kubernetes HA
//! ConfigMaps go too (here made by hand, labelled as Flink labels them), the
//! uninstall deletes them (and leaves other ConfigMaps), the new cluster
//! starts with none of the old one's jobs, and each record links the other.
//! Asked to delete savepoints it does not keep on dataport's MinIO, the
//! uninstall is refused next to the box and does not start.

mod common;

use std::time::Duration;

use common::Portal;
use dataport::crd::FlinkSessionJob;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

/// A JAR on a public https host (an RFC 5737 address: no DNS needed).
const JAR: &str = "https://198.51.100.7/jobs/etl.jar";

/// A ConfigMap as Flink's Kubernetes HA makes one for cluster `cluster`
/// (apache/flink `KubernetesUtils.getConfigMapLabels`), or an unrelated one.
fn config_map(name: &str, cluster: &str, ha: bool) -> ConfigMap {
    let mut labels = json!({"app": cluster, "type": "flink-native-kubernetes"});
    if ha {
        labels["configmap-type"] = json!("high-availability");
    }
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": {"address": "pekko.tcp://flink@old:6123/user/rpc/jobmanager_2"},
    }))
    .unwrap()
}

#[tokio::test]
async fn uninstall_and_reinstall_flink_main_starts_clean_and_keeps_the_old_history() {
    let (portal, _database, namespace) = Portal::on_test_cluster("reinstall").await;
    portal
        .install(
            json!({"app": "flink-kubernetes-operator", "name": "flink-operator",
            "namespace": namespace, "params": {}}),
        )
        .await;
    let params = json!({"operator": "flink-operator", "taskSlots": "3"});
    let old = portal
        .install(
            json!({"app": "flink", "name": "flink-main", "namespace": namespace, "params": params}),
        )
        .await;
    let old_id = old["instance"]["id"].as_str().unwrap().to_owned();
    let (status, submitted) = portal
        .post_json(
            &format!("/api/v1/instances/{old_id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR}}),
        )
        .await;
    assert_eq!(status, 201, "{submitted}");

    // What Flink's HA would leave, and a ConfigMap of someone else's.
    let client = common::cluster::shared().client().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    for (name, ha) in [
        ("flink-main-cluster-config-map", true),
        (
            "flink-main-00000000000000000000000000000000-config-map",
            true,
        ),
        ("flink-main-notes", false),
    ] {
        config_maps
            .create(&PostParams::default(), &config_map(name, "flink-main", ha))
            .await
            .expect("create the ConfigMap");
    }

    // The name is taken while flink-main is installed.
    let (status, taken) = portal
        .post_json(
            "/api/v1/instances",
            &json!({"app": "flink", "name": "flink-main", "namespace": namespace, "params": params}),
        )
        .await;
    assert_eq!(status, 409, "{taken}");

    let (_, confirm) = portal.get(&format!("/instances/{old_id}/uninstall")).await;
    assert!(
        confirm.contains("data-uninstall-ha-config-maps")
            && confirm.contains("app=flink-main,configmap-type=high-availability"),
        "the confirm page says the HA ConfigMaps go"
    );
    // Its savepoints cannot be deleted: it keeps none on a MinIO of dataport's.
    // Asked anyway, the uninstall is refused next to the box, and nothing starts.
    assert!(
        !confirm.contains("data-delete-savepoints"),
        "no box offered"
    );
    let (status, _, page) = portal
        .post_form(
            &format!("/instances/{old_id}/uninstall"),
            &[("confirm", "flink-main"), ("delete_savepoints", "on")],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        page.contains(r#"id="e-delete_savepoints""#)
            && page.contains("keeps no savepoints on a MinIO instance of dataport"),
        "{page}"
    );
    let (_, still) = portal
        .get_json(&format!("/api/v1/instances/{old_id}"))
        .await;
    assert_ne!(still["instance"]["status"], "Uninstalling", "{still}");
    assert_eq!(
        still["operations"].as_array().map(Vec::len),
        Some(1),
        "no uninstall queued: {still}"
    );
    let (status, _, _) = portal
        .post_form(
            &format!("/instances/{old_id}/uninstall"),
            &[("confirm", "flink-main")],
        )
        .await;
    assert_eq!(status, 303);
    let uninstalled = portal.wait_until_uninstalled(&old_id).await;
    let progress = uninstalled["operations"][0]["progress"].as_str().unwrap();
    assert!(
        progress
            .starts_with("All its objects are gone, and Flink's high-availability ConfigMaps too")
            && progress.contains("flink-main-cluster-config-map"),
        "{progress}"
    );
    let left: Vec<String> = config_maps
        .list(&ListParams::default().labels("app=flink-main"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(left, ["flink-main-notes"], "only the HA ConfigMaps went");

    // The old page offers the name again, with the form filled in with the
    // old instance's settings.
    let (_, page) = portal.get(&format!("/instances/{old_id}")).await;
    assert!(page.contains("The name flink-main is free again"), "{page}");
    let form = format!("/catalog/flink/install?from={old_id}");
    assert!(page.contains(&form), "{page}");
    let (_, filled) = portal.get(&form).await;
    assert!(
        filled.contains(r#"value="flink-main""#)
            && filled.contains(&format!(r#"value="{namespace}""#)),
        "the form suggests the name and namespace"
    );
    let (_, fields) = portal
        .get_json(&format!("/api/v1/apps/flink/install?from={old_id}"))
        .await;
    let value = |key: &str| {
        fields["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["param"]["key"] == key)
            .map(|f| f["value"].clone())
    };
    assert_eq!(value("taskSlots"), Some(json!("3")), "{fields}");
    assert_eq!(value("operator"), Some(json!("flink-operator")), "{fields}");
    let (status, _) = portal
        .get(&format!(
            "/catalog/flink/install?from={}",
            uuid::Uuid::new_v4()
        ))
        .await;
    assert_eq!(status, 404, "no such instance to start from");

    // Installed again under the same name: a new record, linked to the old.
    let new = portal
        .install(
            json!({"app": "flink", "name": "flink-main", "namespace": namespace, "params": params}),
        )
        .await;
    let new_id = new["instance"]["id"].as_str().unwrap().to_owned();
    assert_ne!(new_id, old_id);
    assert_eq!(new["instance"]["previous_id"], json!(old_id), "{new}");
    assert_eq!(new["operations"][0]["state"], "succeeded", "{new}");
    let (_, page) = portal.get(&format!("/instances/{new_id}")).await;
    assert!(
        page.contains(&format!(r#"href="/instances/{old_id}" data-previous-link"#)),
        "the new page links the old record"
    );
    let (_, old_page) = portal.get(&format!("/instances/{old_id}")).await;
    assert!(
        old_page.contains(&format!(
            r#"href="/instances/{new_id}" data-reinstalled-link"#
        )),
        "the old page links the new one"
    );
    let (_, old_json) = portal
        .get_json(&format!("/api/v1/instances/{old_id}"))
        .await;
    let kinds: Vec<_> = old_json["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        [json!("uninstall"), json!("install")],
        "its history stays"
    );

    // The new cluster has none of the old one's jobs.
    let (status, jobs) = portal
        .get_json(&format!("/api/v1/instances/{new_id}/jobs"))
        .await;
    assert_eq!(status, 200, "{jobs}");
    assert_eq!(jobs.as_array().map(Vec::len), Some(0), "{jobs}");
    let session_jobs: Api<FlinkSessionJob> = Api::namespaced(client, &namespace);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        session_jobs
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty(),
        "no FlinkSessionJob of the old cluster"
    );
}
