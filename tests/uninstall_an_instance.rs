//! A user uninstalls: refused while another instance depends on it, confirmed
//! by typing the name, deleted in teardown order through the Flink operator's
//! finalizer, a deletion held by a finalizer shown as such, and the record
//! kept as Uninstalled with its history.

mod common;

use common::Portal;
use dataport::crd::FlinkDeployment;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

#[tokio::test]
async fn uninstall_is_refused_while_used_then_tears_down_in_order() {
    let (portal, _database, namespace) = Portal::on_test_cluster("uninstall").await;
    let cluster = common::cluster::shared();
    let mut ids = std::collections::HashMap::new();
    for (app, name, params) in [
        ("zookeeper", "zk", json!({"replicas": "1"})),
        ("minio", "minio", json!({})),
        ("flink-kubernetes-operator", "flink-operator", json!({})),
        (
            "flink",
            "analytics",
            json!({"operator": "flink-operator", "highAvailability": true, "haType": "zookeeper", "zookeeper": "zk", "minio": "minio"}),
        ),
    ] {
        let instance = portal
            .install(json!({"app": app, "name": name, "namespace": namespace, "params": params}))
            .await;
        ids.insert(
            name,
            instance["instance"]["id"].as_str().unwrap().to_owned(),
        );
    }

    // ZooKeeper is used by the Flink cluster: refused, with who uses it.
    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{}/uninstall", ids["zk"]),
            &json!({"confirm": "zk"}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("analytics (Apache Flink, as its ZooKeeper)")
    );
    let (status, _, html) = portal
        .post_form(
            &format!("/instances/{}/uninstall", ids["zk"]),
            &[("confirm", "zk")],
        )
        .await;
    assert_eq!(status, 409);
    assert!(html.contains("data-dependants") && html.contains("analytics"));

    // Confirmation is the instance's name.
    let (status, wrong) = portal
        .post_json(
            &format!("/api/v1/instances/{}/uninstall", ids["analytics"]),
            &json!({"confirm": "analytic"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        wrong["error"]["fields"]["confirm"]
            .as_str()
            .unwrap()
            .contains("analytics")
    );

    // The confirm page says what stays: the savepoints, at their path.
    let (_, confirm) = portal
        .get(&format!("/instances/{}/uninstall", ids["analytics"]))
        .await;
    let savepoints = format!("<code>s3://flink/{namespace}/analytics/savepoints</code> are kept");
    assert!(confirm.contains(&savepoints), "{confirm}");
    // The operator deletes the cluster's ZooKeeper node with the cluster.
    assert!(
        confirm.contains("data-uninstall-zookeeper")
            && confirm.contains(&format!(
                "<code>/flink/{namespace}/analytics/analytics</code>"
            ))
            && confirm.contains("the Flink operator deletes it when it deletes the cluster"),
        "{confirm}"
    );

    let client = cluster.client().await;
    let (status, location, _) = portal
        .post_form(
            &format!("/instances/{}/uninstall", ids["analytics"]),
            &[("confirm", "analytics")],
        )
        .await;
    assert_eq!(
        (status, location.as_deref()),
        (
            303,
            Some(format!("/instances/{}", ids["analytics"]).as_str())
        )
    );
    let flink = portal.wait_until_uninstalled(&ids["analytics"]).await;
    let kinds: Vec<_> = flink["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["kind"].clone(), o["state"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (json!("uninstall"), json!("succeeded")),
            (json!("install"), json!("succeeded"))
        ],
        "history kept"
    );
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    assert!(
        deployments.get_opt("analytics").await.unwrap().is_none(),
        "gone through the operator's finalizer"
    );
    // Its page says what went: its jobs with the cluster.
    let (_, html) = portal
        .get(&format!("/instances/{}", ids["analytics"]))
        .await;
    assert!(
        html.contains("No jobs: the uninstall deleted them with the cluster."),
        "{html}"
    );

    // Now ZooKeeper may go; a finalizer on its Service holds it, and the page says so.
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    let hold = json!({"metadata": {"finalizers": ["dataport.io/test-hold"]}});
    services
        .patch("zk", &PatchParams::default(), &Patch::Merge(&hold))
        .await
        .unwrap();
    let (status, _) = portal
        .post_json(
            &format!("/api/v1/instances/{}/uninstall", ids["zk"]),
            &json!({"confirm": "zk"}),
        )
        .await;
    assert_eq!(status, 202);
    let waiting = "Waiting for finalizer dataport.io/test-hold on Service zk";
    portal
        .wait_for_instance(&ids["zk"], "waiting for the finalizer", |i| {
            i["operations"][0]["progress"] == waiting
        })
        .await;
    let (_, html) = portal.get(&format!("/instances/{}", ids["zk"])).await;
    assert!(
        html.contains(waiting),
        "the page shows what the uninstall waits for"
    );
    assert!(html.contains("data-status>Uninstalling<"));

    services
        .patch(
            "zk",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": null}})),
        )
        .await
        .unwrap();
    let uninstalled = portal.wait_until_uninstalled(&ids["zk"]).await;
    assert_eq!(
        uninstalled["operations"][0]["progress"], "All its objects are gone",
        "the finished uninstall no longer says it waits"
    );
    let sets: Api<StatefulSet> = Api::namespaced(client, &namespace);
    assert!(
        sets.list(&ListParams::default().labels("app.kubernetes.io/instance=zk"))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let (status, again) = portal
        .post_json(
            &format!("/api/v1/instances/{}/uninstall", ids["zk"]),
            &json!({"confirm": "zk"}),
        )
        .await;
    assert_eq!(status, 409, "{again}");
}
