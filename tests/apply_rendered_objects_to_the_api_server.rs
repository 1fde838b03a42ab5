//! Every object every app renders is accepted by the real API server with
//! server-side apply (field manager `dataport`): the render speaks valid
//! Kubernetes, for each app and each Flink toggle combination.

mod common;

use common::render::{FLINK_HA_CHOICES, FLINK_HIVE_ON, flink_references, other_apps, render};
use k8s_openapi::api::apps::v1::StatefulSet;
use kube::api::Api;

#[tokio::test]
async fn the_api_server_accepts_what_every_app_renders() {
    let cluster = common::cluster::shared();
    let portal_cluster = cluster.cluster().await;
    for (app, form, references) in other_apps("") {
        let namespace = cluster
            .namespace(&app.replace("flink-kubernetes-operator", "operator"))
            .await;
        // The references point into this test's own namespace.
        let references: Vec<_> = references
            .into_iter()
            .map(|(key, mut resolved)| {
                resolved.namespace = namespace.clone();
                (key, resolved)
            })
            .collect();
        let objects = render(app, &namespace, &form, &references);
        portal_cluster
            .apply(&objects)
            .await
            .unwrap_or_else(|e| panic!("{app}: {e}"));
    }
}

#[tokio::test]
async fn the_api_server_accepts_every_flink_combination() {
    let cluster = common::cluster::shared();
    let portal_cluster = cluster.cluster().await;
    for (ha_name, ha) in FLINK_HA_CHOICES {
        for hive in [false, true] {
            let namespace = cluster.namespace("flink").await;
            let mut form = vec![("operator", "operator-main")];
            form.extend_from_slice(ha);
            if hive {
                form.extend(FLINK_HIVE_ON);
            }
            let objects = render("flink", &namespace, &form, &flink_references(&namespace));
            portal_cluster
                .apply(&objects)
                .await
                .unwrap_or_else(|e| panic!("flink {ha_name} hive={hive}: {e}"));
        }
    }
}

#[tokio::test]
async fn applying_twice_changes_nothing_and_statefulsets_become_ready() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("zk").await;
    let objects = render("zookeeper", &namespace, &[("replicas", "1")], &[]);
    let portal_cluster = cluster.cluster().await;
    portal_cluster.apply(&objects).await.unwrap();
    let statefulsets: Api<StatefulSet> = Api::namespaced(cluster.client().await, &namespace);
    let first = statefulsets.get("zookeeper-main").await.unwrap();
    portal_cluster.apply(&objects).await.unwrap();
    let second = statefulsets.get("zookeeper-main").await.unwrap();
    assert_eq!(
        first.metadata.generation, second.metadata.generation,
        "an identical apply is a no-op"
    );

    let ready = kube::runtime::wait::await_condition(
        statefulsets,
        "zookeeper-main",
        |s: Option<&StatefulSet>| {
            s.and_then(|s| s.status.as_ref())
                .and_then(|s| s.ready_replicas)
                == Some(1)
        },
    );
    tokio::time::timeout(std::time::Duration::from_secs(60), ready)
        .await
        .expect("ZooKeeper ready on the simulated node")
        .unwrap();
}
