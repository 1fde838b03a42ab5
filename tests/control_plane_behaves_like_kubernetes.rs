//! The test control plane is real Kubernetes: server-side apply and its
//! conflicts, CRD schema validation, finalizers, garbage collection and
//! controllers, with the simulator playing the node and the Flink operator.

mod common;

use std::time::Duration;

use dataport::cluster::crds::FIELD_MANAGER;
use dataport::crd::{
    FlinkDeployment, JobManagerDeploymentStatus, OPERATOR_FINALIZER, ResourceLifecycleState,
};
use dataport::simulator::FAIL_ANNOTATION;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::wait::{Condition, await_condition};
use kube::{Resource, ResourceExt};
use serde_json::json;

/// Waits up to a minute for `condition` on `name`.
async fn wait_for<K>(
    api: &Api<K>,
    name: &str,
    what: &str,
    condition: impl Condition<K>,
) -> Option<K>
where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    tokio::time::timeout(
        Duration::from_secs(60),
        await_condition(api.clone(), name, condition),
    )
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    .expect("watch")
}

fn config_map(name: &str, value: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"greeting": value},
    })
}

#[tokio::test]
async fn server_side_apply_records_dataport_and_refuses_conflicting_managers() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("ssa").await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client().await, &namespace);
    let ours = PatchParams::apply(FIELD_MANAGER);

    api.patch(
        "settings",
        &ours,
        &Patch::Apply(config_map("settings", "hello")),
    )
    .await
    .unwrap();
    let applied = api
        .patch(
            "settings",
            &ours,
            &Patch::Apply(config_map("settings", "hi")),
        )
        .await
        .unwrap();
    assert_eq!(
        applied.data.unwrap()["greeting"],
        "hi",
        "a second apply updates the field"
    );
    let managers: Vec<_> = applied
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .filter_map(|entry| entry.manager)
        .collect();
    assert_eq!(managers, ["dataport"]);

    let theirs = PatchParams::apply("someone-else");
    let conflict = api
        .patch(
            "settings",
            &theirs,
            &Patch::Apply(config_map("settings", "hijacked")),
        )
        .await
        .expect_err("another manager may not take our field");
    match conflict {
        kube::Error::Api(status) => assert_eq!(status.code, 409, "{status:?}"),
        other => panic!("expected a 409 conflict, got {other:?}"),
    }
    let forced = api
        .patch(
            "settings",
            &theirs.force(),
            &Patch::Apply(config_map("settings", "taken")),
        )
        .await
        .unwrap();
    assert_eq!(
        forced.data.unwrap()["greeting"],
        "taken",
        "forcing takes the field over"
    );
}

#[tokio::test]
async fn a_flink_deployment_with_an_unknown_flink_version_is_rejected_by_the_api_server() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("schema").await;
    let api: Api<FlinkDeployment> = Api::namespaced(cluster.client().await, &namespace);
    let bad = json!({
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
        "metadata": {"name": "bad"},
        "spec": {"image": "flink:1.20", "flinkVersion": "v9_99", "serviceAccount": "flink"},
    });
    let error = api
        .patch(
            "bad",
            &PatchParams::apply(FIELD_MANAGER),
            &Patch::Apply(bad),
        )
        .await
        .expect_err("v9_99 is not a Flink version");
    match error {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 422, "{status:?}");
            assert!(
                status.message.contains("spec.flinkVersion"),
                "{}",
                status.message
            );
            assert!(
                status.message.contains("Unsupported value: \"v9_99\""),
                "{}",
                status.message
            );
        }
        other => panic!("expected 422 Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn a_finalizer_holds_an_object_until_it_is_removed() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("finalizer").await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client().await, &namespace);
    let mut held = config_map("held", "x");
    held["metadata"]["finalizers"] = json!(["dataport.io/test-hold"]);
    api.create(
        &PostParams::default(),
        &serde_json::from_value(held).unwrap(),
    )
    .await
    .unwrap();

    api.delete("held", &DeleteParams::default()).await.unwrap();
    let still_there = api.get("held").await.expect("held by its finalizer");
    assert!(still_there.metadata.deletion_timestamp.is_some());

    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    wait_for(
        &api,
        "held",
        "deletion after the finalizer is removed",
        |object: Option<&ConfigMap>| object.is_none(),
    )
    .await;
}

#[tokio::test]
async fn the_garbage_collector_deletes_what_an_owner_owned() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("gc").await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client().await, &namespace);
    let owner = api
        .create(
            &PostParams::default(),
            &serde_json::from_value(config_map("owner", "x")).unwrap(),
        )
        .await
        .unwrap();
    let mut owned = config_map("owned", "y");
    owned["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.uid().unwrap(),
    }]);
    api.create(
        &PostParams::default(),
        &serde_json::from_value(owned).unwrap(),
    )
    .await
    .unwrap();

    api.delete("owner", &DeleteParams::default()).await.unwrap();
    wait_for(
        &api,
        "owned",
        "garbage collection of the owned object",
        |object: Option<&ConfigMap>| object.is_none(),
    )
    .await;
}

#[tokio::test]
async fn a_deployment_of_two_replicas_becomes_available_on_the_simulated_node() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("deploy").await;
    let client = cluster.client().await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    });
    api.patch(
        "web",
        &PatchParams::apply(FIELD_MANAGER),
        &Patch::Apply(deployment),
    )
    .await
    .unwrap();
    let available = wait_for(
        &api,
        "web",
        "2 available replicas",
        |d: Option<&Deployment>| {
            d.and_then(|d| d.status.as_ref())
                .and_then(|s| s.available_replicas)
                == Some(2)
        },
    )
    .await
    .unwrap();
    assert_eq!(available.status.unwrap().ready_replicas, Some(2));

    let pods: Api<Pod> = Api::namespaced(client, &namespace);
    let pods = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 2);
    for pod in pods.items {
        assert_eq!(
            pod.spec.unwrap().node_name.as_deref(),
            Some("dataport-sim-node")
        );
        assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Running"));
    }
}

/// An operator, laid out as its chart does, watching `namespace`: the
/// simulated operator serves only where one is deployed.
async fn with_an_operator(cluster: &common::cluster::TestCluster, namespace: &str) {
    let watched = [namespace];
    let layout = common::operator::OperatorLayout::chart(namespace, "flink-operator", &watched);
    common::operator::deploy(&cluster.cluster().await, &layout.objects()).await;
}

fn session_cluster(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
        "metadata": {"name": name},
        "spec": {
            "image": "flink:1.20", "flinkVersion": "v1_20", "serviceAccount": "flink",
            "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
            "jobManager": {"resource": {"cpu": 1.0, "memory": "2048m"}},
            "taskManager": {"resource": {"cpu": 1.0, "memory": "2048m"}},
        },
    })
}

fn flink_state(
    d: Option<&FlinkDeployment>,
) -> (
    Option<JobManagerDeploymentStatus>,
    Option<ResourceLifecycleState>,
) {
    let status = d.and_then(|d| d.status.as_ref());
    (
        status.and_then(|s| s.job_manager_deployment_status),
        status.and_then(|s| s.lifecycle_state),
    )
}

#[tokio::test]
async fn the_simulated_operator_walks_a_session_cluster_to_ready_and_stable() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("flink").await;
    let client = cluster.client().await;
    with_an_operator(cluster, &namespace).await;
    let api: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    api.patch(
        "analytics",
        &PatchParams::apply(FIELD_MANAGER),
        &Patch::Apply(session_cluster("analytics")),
    )
    .await
    .unwrap();

    let stable = wait_for(
        &api,
        "analytics",
        "READY / STABLE",
        |d: Option<&FlinkDeployment>| {
            flink_state(d)
                == (
                    Some(JobManagerDeploymentStatus::Ready),
                    Some(ResourceLifecycleState::Stable),
                )
        },
    )
    .await
    .unwrap();
    assert!(stable.finalizers().iter().any(|f| f == OPERATOR_FINALIZER));
    assert_eq!(
        stable.status.unwrap().observed_generation,
        stable.metadata.generation
    );

    let services: Api<Service> = Api::namespaced(client, &namespace);
    let rest = services
        .get("analytics-rest")
        .await
        .expect("the operator's REST Service");
    assert_eq!(rest.spec.unwrap().ports.unwrap()[0].port, 8081);

    // Deleting goes through the operator's finalizer, which tears the REST Service down.
    api.delete("analytics", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(
        &api,
        "analytics",
        "deletion",
        |d: Option<&FlinkDeployment>| d.is_none(),
    )
    .await;
    wait_for(
        &services,
        "analytics-rest",
        "the REST Service's deletion",
        |s: Option<&Service>| s.is_none(),
    )
    .await;
}

#[tokio::test]
async fn the_simulated_operator_fails_a_deployment_when_asked_to() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("flinkfail").await;
    with_an_operator(cluster, &namespace).await;
    let api: Api<FlinkDeployment> = Api::namespaced(cluster.client().await, &namespace);
    let mut failing = session_cluster("doomed");
    failing["metadata"]["annotations"] =
        json!({FAIL_ANNOTATION: "Could not pull image flink:1.20"});
    api.patch(
        "doomed",
        &PatchParams::apply(FIELD_MANAGER),
        &Patch::Apply(failing),
    )
    .await
    .unwrap();

    let failed = wait_for(
        &api,
        "doomed",
        "ERROR / FAILED",
        |d: Option<&FlinkDeployment>| {
            flink_state(d)
                == (
                    Some(JobManagerDeploymentStatus::Error),
                    Some(ResourceLifecycleState::Failed),
                )
        },
    )
    .await
    .unwrap();
    let error = failed.status.unwrap().error.expect("an error text");
    assert!(error.contains("Could not pull image flink:1.20"), "{error}");
}
