//! A user installs MinIO, ZooKeeper and the Flink operator, then Flink with
//! ZooKeeper high availability on S3, through the portal, against the real
//! API server with the simulated node and operator.

mod common;

use common::Portal;
use common::TestDatabase;
use dataport::http::Layout;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

#[tokio::test]
async fn flink_with_zookeeper_ha_on_minio_is_wired_and_keeps_secrets_out_of_plain_sight() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("journey").await;
    let database = TestDatabase::new(common::Backend::Sqlite).await;
    let portal = Portal::start(
        database.store().await,
        Some(cluster.cluster().await),
        Layout::default(),
    )
    .await;

    for (app, name, params) in [
        (
            "minio",
            "minio",
            json!({"bucket": "flink-state", "rootPassword": "typed-by-the-user-1234"}),
        ),
        ("zookeeper", "zk", json!({"replicas": 1})),
        ("flink-kubernetes-operator", "flink-operator", json!({})),
    ] {
        let instance = portal
            .install(json!({"app": app, "name": name, "namespace": namespace, "params": params}))
            .await;
        assert_eq!(
            instance["operations"][0]["state"], "succeeded",
            "{app}: {instance}"
        );
    }
    let flink = portal
        .install(json!({
            "app": "flink", "name": "analytics", "namespace": namespace,
            "params": {
                "operator": "flink-operator", "highAvailability": true, "haType": "zookeeper",
                "zookeeper": "zk", "storage": "s3", "minio": "minio", "jobManagerReplicas": 2,
                "ingressTemplate": "{{name}}.{{namespace}}.flink.example.com", "ingressClass": "nginx",
            },
        }))
        .await;
    assert_eq!(flink["operations"][0]["state"], "succeeded", "{flink}");
    assert_eq!(flink["instance"]["params"]["jobManagerReplicas"], 2);

    let client = cluster.client().await;
    let deployments: Api<dataport::crd::FlinkDeployment> =
        Api::namespaced(client.clone(), &namespace);
    let deployment = serde_json::to_value(deployments.get("analytics").await.unwrap()).unwrap();
    let conf = &deployment["spec"]["flinkConfiguration"];
    assert_eq!(conf["high-availability.type"], "zookeeper");
    assert_eq!(
        conf["high-availability.zookeeper.quorum"],
        format!("zk.{namespace}.svc:2181")
    );
    assert_eq!(
        conf["high-availability.storageDir"],
        format!("s3://flink-state/{namespace}/analytics/ha")
    );
    assert_eq!(
        conf["s3.endpoint"],
        format!("http://minio.{namespace}.svc:9000")
    );
    assert_eq!(conf["s3.path.style.access"], "true");
    assert_eq!(
        conf["metrics.reporter.prom.factory.class"],
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory"
    );
    assert_eq!(
        deployment["spec"]["ingress"]["template"],
        "{{name}}.{{namespace}}.flink.example.com"
    );
    assert_eq!(deployment["spec"]["ingress"]["className"], "nginx");
    let (_, page) = portal
        .get(&format!(
            "/instances/{}",
            flink["instance"]["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        page.contains(&format!(
            "href=\"http://analytics.{namespace}.flink.example.com/\""
        )),
        "Open WebUI goes to the ingress"
    );
    let env = deployment["spec"]["podTemplate"]["spec"]["containers"][0]["env"].clone();
    assert!(
        env.as_array()
            .unwrap()
            .iter()
            .any(|e| e["valueFrom"]["secretKeyRef"]["name"] == "minio-credentials"),
        "S3 credentials come from MinIO's Secret: {env}"
    );

    // Every object the portal applied carries the four labels.
    let labelled = ListParams::default()
        .labels("app.kubernetes.io/managed-by=dataport,app.kubernetes.io/part-of=dataport");
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    for config_map in config_maps.list(&labelled).await.unwrap() {
        let labels = config_map.metadata.labels.unwrap();
        assert!(
            labels.contains_key("app.kubernetes.io/instance")
                && labels.contains_key("app.kubernetes.io/name")
        );
    }

    // The secret values: the one typed, and the generated ones.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let credentials = secrets.get("minio-credentials").await.unwrap();
    let values: Vec<String> = credentials
        .data
        .unwrap()
        .values()
        .map(|bytes| String::from_utf8(bytes.0.clone()).unwrap())
        .collect();
    assert!(
        values.contains(&"typed-by-the-user-1234".to_owned()),
        "the typed password is used"
    );
    assert_eq!(values.len(), 2);
    // ... appear in no ConfigMap, not in the FlinkDeployment, not in the portal's answers.
    let all_config_maps =
        serde_json::to_string(&config_maps.list(&ListParams::default()).await.unwrap()).unwrap();
    let (_, minio_api) = portal
        .get_json(&format!(
            "/api/v1/instances/{}",
            installed_id(&portal, "minio", &namespace, "minio").await
        ))
        .await;
    for value in &values {
        assert!(
            !all_config_maps.contains(value.as_str()),
            "a secret value in a ConfigMap"
        );
        assert!(
            !deployment.to_string().contains(value.as_str()),
            "a secret value in the FlinkDeployment"
        );
        assert!(
            !minio_api.to_string().contains(value.as_str()),
            "a secret value in the API"
        );
    }
}

/// The id of `app`'s instance `name` in `namespace`, from the app page's JSON.
async fn installed_id(portal: &Portal, app: &str, namespace: &str, name: &str) -> String {
    let (_, app) = portal.get_json(&format!("/api/v1/apps/{app}")).await;
    app["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i: &&Value| i["name"] == name && i["namespace"] == namespace)
        .and_then(|i| i["id"].as_str())
        .unwrap()
        .to_owned()
}
