//! An operator deploys dataport itself from `deploy/`: the API server accepts
//! every manifest and rolls out two replicas with their probes; and dataport,
//! acting as its own service account (impersonated), can do all it does:
//! lead through the Lease, install the Flink operator and a Flink session
//! (whose Roles it may grant only because it holds what they grant), run a
//! session job and uninstall — while it cannot touch what it does not need.

mod common;

use std::collections::BTreeMap;

use common::{Backend, Portal, TestDatabase};
use dataport::cluster::Cluster;
use dataport::cluster::leader::LeaseSettings;
use dataport::http::Layout;
use dataport::service::Service;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{GroupVersionKind, TypeMeta};
use kube::discovery::{Discovery, Scope};
use serde::Deserialize;
use serde_json::{Value, json};

/// The manifests kustomize would build from `deploy/`, with `namespace` in
/// place of the kustomization's (what `kustomize edit set namespace` does).
fn manifests(namespace: &str) -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).expect("manifest file");
    let kustomization: Value = serde_yaml_ng::from_str(&read("kustomization.yaml")).unwrap();
    let default_namespace = kustomization["namespace"].as_str().unwrap().to_owned();
    let mut objects = Vec::new();
    for file in kustomization["resources"].as_array().unwrap() {
        let text = read(file.as_str().unwrap());
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let mut object = Value::deserialize(document).unwrap();
            if object.is_null() {
                continue;
            }
            match object["kind"].as_str().unwrap() {
                "Namespace" => object["metadata"]["name"] = json!(namespace),
                "ClusterRole" => {}
                "ClusterRoleBinding" => {
                    for subject in object["subjects"].as_array_mut().unwrap() {
                        assert_eq!(subject["namespace"], default_namespace.as_str());
                        subject["namespace"] = json!(namespace);
                    }
                }
                _ => object["metadata"]["namespace"] = json!(namespace),
            }
            objects.push(object);
        }
    }
    objects
}

/// Applies `objects` with server-side apply, resolving each kind by discovery.
async fn apply_all(client: &kube::Client, objects: &[Value]) {
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    for object in objects {
        let types: TypeMeta = serde_json::from_value(object.clone()).expect("type meta");
        let gvk = GroupVersionKind::try_from(&types).expect("group, version, kind");
        let (resource, capabilities) = discovery
            .resolve_gvk(&gvk)
            .unwrap_or_else(|| panic!("the API server does not serve {gvk:?}"));
        let name = object["metadata"]["name"].as_str().unwrap();
        let api: Api<DynamicObject> = match capabilities.scope {
            Scope::Namespaced => Api::namespaced_with(
                client.clone(),
                object["metadata"]["namespace"].as_str().unwrap(),
                &resource,
            ),
            Scope::Cluster => Api::all_with(client.clone(), &resource),
        };
        api.patch(
            name,
            &PatchParams::apply("deploy-test").force(),
            &Patch::Apply(object),
        )
        .await
        .unwrap_or_else(|e| panic!("{} {name} refused: {e}", types.kind));
    }
}

#[tokio::test]
async fn the_manifests_are_accepted_and_their_rbac_is_enough_and_no_more() {
    let cluster = common::cluster::shared();
    let namespace = format!(
        "dataport-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let admin = cluster.client().await;
    let objects = manifests(&namespace);
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Deployment",
            "Service",
            "PodDisruptionBudget"
        ]
    );
    apply_all(&admin, &objects).await;

    // Two replicas with their probes and the database URL from a Secret; the
    // real Deployment controller rolls them out onto the simulated node.
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), &namespace);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let deployment = loop {
        let deployment = deployments.get("dataport").await.unwrap();
        let ready = deployment.status.as_ref().and_then(|s| s.ready_replicas);
        if ready == Some(2) {
            break deployment;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never rolled out: {ready:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let spec = deployment.spec.unwrap();
    assert_eq!(spec.replicas, Some(2));
    let container = &spec.template.spec.unwrap().containers[0];
    let probe_path = |probe: &Option<k8s_openapi::api::core::v1::Probe>| {
        probe
            .as_ref()
            .and_then(|p| p.http_get.as_ref())
            .and_then(|h| h.path.clone())
    };
    assert_eq!(
        probe_path(&container.liveness_probe).as_deref(),
        Some("/healthz")
    );
    assert_eq!(
        probe_path(&container.readiness_probe).as_deref(),
        Some("/readyz")
    );
    let env: BTreeMap<_, _> = container
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.as_str(), e))
        .collect();
    let secret = env["DATABASE_URL"]
        .value_from
        .as_ref()
        .and_then(|v| v.secret_key_ref.as_ref())
        .expect("DATABASE_URL from a Secret");
    assert_eq!(
        (secret.name.as_str(), secret.key.as_str()),
        ("dataport-database", "url")
    );
    assert_eq!(
        env["DATAPORT_LEADER_ELECTION"].value.as_deref(),
        Some("true")
    );

    // dataport as its own service account.
    let mut config = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&cluster.kubeconfig).unwrap(),
        &Default::default(),
    )
    .await
    .unwrap();
    config.auth_info.impersonate = Some(format!("system:serviceaccount:{namespace}:dataport"));
    let as_dataport = Cluster::from_config(config).unwrap();
    let nodes: Api<Node> = Api::all(as_dataport.client().clone());
    let refused = nodes.list(&Default::default()).await.unwrap_err();
    assert!(
        matches!(&refused, kube::Error::Api(status) if status.code == 403),
        "no more than it needs: {refused}"
    );

    let leadership = as_dataport
        .lead(&LeaseSettings {
            namespace: namespace.clone(),
            name: "dataport-leader".into(),
            identity: "deploy-test".into(),
            duration: std::time::Duration::from_secs(15),
        })
        .await
        .expect("the service account holds the Lease");
    let database = TestDatabase::new(Backend::Sqlite).await;
    let service =
        Service::new(database.store().await, Some(as_dataport)).with_leadership(leadership);
    let portal = Portal::start_service(service, Layout::default()).await;
    let apps = format!("apps-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let id = portal.install_flink_session(&apps, false).await;
    let (_, session) = portal.get_json(&format!("/api/v1/instances/{id}")).await;
    assert_eq!(session["operations"][0]["state"], "succeeded", "{session}");
    let (status, job) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": "https://repo.example.org/jobs/etl.jar"}}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    let (status, _) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/uninstall"),
            &json!({"confirm": "analytics"}),
        )
        .await;
    assert_eq!(status, 202);
    let uninstalled = portal
        .wait_for_instance(&id, "uninstalled", |i| {
            matches!(
                i["operations"][0]["state"].as_str(),
                Some("succeeded" | "failed")
            )
        })
        .await;
    assert_eq!(
        uninstalled["instance"]["status"], "Uninstalled",
        "{uninstalled}"
    );
}
