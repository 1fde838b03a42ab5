//! Every combination the Flink forms can produce, installed through the
//! portal's JSON API on a control plane carrying the operator's official
//! CRDs, is accepted by the strict simulated operator: each offered Flink
//! version × HA off / Kubernetes / ZooKeeper × S3 / HDFS × Hive (1.x only) ×
//! ingress on or off reaches STABLE, and so do a flink-application (its job
//! RUNNING) and a session job. One operator, MinIO, HDFS, ZooKeeper, MySQL
//! and Hive metastore serve them all.

mod common;

use std::time::Duration;

use common::Portal;
use common::operator::eventually;
use common::render::{FLINK_HA_CHOICES, FLINK_HIVE_ON};
use dataport::crd::{
    FlinkDeployment, FlinkSessionJob, JobManagerDeploymentStatus as Jm,
    ResourceLifecycleState as Lifecycle,
};
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use serde_json::{Map, Value, json};

/// The Flink versions the form offers.
const VERSIONS: [&str; 5] = ["1.20", "1.19", "2.0", "2.1", "2.2"];

/// A form value as the JSON API takes it.
fn value(text: &str) -> Value {
    match text {
        "on" | "true" => json!(true),
        "false" => json!(false),
        other => json!(other),
    }
}

fn params(fields: &[(&str, &str)]) -> Value {
    let mut map = Map::new();
    map.insert("operator".into(), json!("flink-operator"));
    for (key, text) in fields {
        map.insert((*key).to_owned(), value(text));
    }
    Value::Object(map)
}

async fn post_install(portal: &Portal, body: Value) -> String {
    let (status, created) = portal.post_json("/api/v1/instances", &body).await;
    assert_eq!(status, 201, "install {body}: {created}");
    created["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn every_flink_form_combination_reaches_stable_under_the_strict_operator() {
    let (portal, _database, namespace) = Portal::on_test_cluster("combos").await;
    let dependency = |app: &str, name: &str, params: Value| json!({"app": app, "name": name, "namespace": namespace, "params": params});
    for body in [
        dependency("flink-kubernetes-operator", "flink-operator", json!({})),
        dependency("minio", "minio-main", json!({})),
        dependency("hdfs", "hdfs-main", json!({})),
        dependency("zookeeper", "zk", json!({})),
        dependency("mysql", "mysql-main", json!({})),
        dependency(
            "hive-metastore",
            "metastore",
            json!({"mysql": "mysql-main", "extraLibraries": common::render::MYSQL_DRIVER}),
        ),
    ] {
        let installed = portal.install(body.clone()).await;
        assert_eq!(
            installed["operations"][0]["state"], "succeeded",
            "{body}: {installed}"
        );
    }

    let mut expected = Vec::new();
    for version in VERSIONS {
        for (ha, ha_fields) in FLINK_HA_CHOICES {
            for hive in [false, true] {
                if hive && version.starts_with('2') {
                    continue; // the Hive connector is released for Flink 1.x only
                }
                for ingress in [false, true] {
                    let mut fields: Vec<(&str, &str)> = ha_fields.to_vec();
                    if hive {
                        fields.extend(FLINK_HIVE_ON);
                    }
                    if ingress {
                        fields.push((
                            "ingressTemplate",
                            "{{name}}.{{namespace}}.flink.example.com",
                        ));
                    }
                    let name = format!(
                        "v{}-{ha}{}{}",
                        version.replace('.', ""),
                        if hive { "-hive" } else { "" },
                        if ingress { "-ing" } else { "" }
                    );
                    post_install(
                        &portal,
                        json!({"app": "flink", "name": name, "namespace": namespace,
                               "version": version, "params": params(&fields)}),
                    )
                    .await;
                    expected.push(name);
                }
            }
        }
    }
    let application = common::render::APPLICATION_FORM;
    post_install(
        &portal,
        json!({"app": "flink-application", "name": "orders", "namespace": namespace,
               "params": params(application)}),
    )
    .await;
    expected.push("orders".to_owned());

    let client = common::cluster::shared().client().await;
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let not_stable = |all: &[FlinkDeployment]| -> Vec<String> {
        expected
            .iter()
            .filter(|name| {
                !all.iter().any(|d| {
                    d.name_any() == **name
                        && d.status.as_ref().is_some_and(|s| {
                            s.lifecycle_state == Some(Lifecycle::Stable)
                                && s.job_manager_deployment_status == Some(Jm::Ready)
                                && s.error.is_none()
                        })
                })
            })
            .map(|name| {
                let status = all
                    .iter()
                    .find(|d| d.name_any() == *name)
                    .and_then(|d| d.status.clone());
                format!("{name}: {status:?}")
            })
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    let last = loop {
        let all = deployments
            .list(&ListParams::default())
            .await
            .unwrap()
            .items;
        let waiting = not_stable(&all);
        if waiting.is_empty() || std::time::Instant::now() > deadline {
            break waiting;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert!(
        last.is_empty(),
        "not STABLE under the strict operator: {last:#?}"
    );
    let orders = deployments.get("orders").await.unwrap().status.unwrap();
    assert_eq!(
        orders.job_status.and_then(|j| j.state).as_deref(),
        Some("RUNNING")
    );
    let task_managers = orders.task_manager.expect("an application's taskManager");
    assert_eq!(
        task_managers.label_selector.as_deref(),
        Some("component=taskmanager,app=orders")
    );
    assert!(
        task_managers.replicas.is_some_and(|r| r >= 1),
        "{task_managers:?}"
    );

    // A session job on one of the session clusters runs.
    let (_, listed) = portal
        .get_json(&format!("/api/v1/instances?namespace={namespace}"))
        .await;
    let session_id = listed["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "v120-ha-kubernetes-s3")
        .and_then(|i| i["id"].as_str())
        .expect("the session instance")
        .to_owned();
    let (status, job) = portal
        .post_json(
            &format!("/api/v1/instances/{session_id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": "https://198.51.100.7/jobs/etl.jar", "parallelism": 1}}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    let session_jobs: Api<FlinkSessionJob> = Api::namespaced(client, &namespace);
    eventually(
        Duration::from_secs(60),
        "the session job RUNNING and STABLE",
        || async {
            let all = session_jobs.list(&ListParams::default()).await.ok()?.items;
            all.into_iter().find(|j| {
                j.status.as_ref().is_some_and(|s| {
                    s.lifecycle_state == Some(Lifecycle::Stable)
                        && s.job_status.as_ref().and_then(|j| j.state.as_deref()) == Some("RUNNING")
                })
            })
        },
    )
    .await;
}
