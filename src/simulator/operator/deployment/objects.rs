//! The cluster objects the operator (through Flink's native client) makes
//! for a simulated cluster, and what it deletes before a FlinkDeployment goes.

use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use super::effective_configuration;
use crate::crd::FlinkDeployment;
use crate::simulator::SIMULATOR_MANAGER;
use crate::simulator::operator::ha_data::{HaMetadata, delete_zookeeper_path, ha_metadata};
use crate::simulator::operator::instance::Operator;

/// The objects Flink's native Kubernetes client creates for a cluster (the
/// JobManager Deployment aside: no Flink process runs): Services
/// `<name>-rest` and `<name>`, ConfigMap `flink-config-<name>`, as the operator.
pub(super) async fn create_cluster_objects(
    operator: &Operator,
    deployment: &FlinkDeployment,
    spec: &Value,
) -> Result<(), kube::Error> {
    let name = deployment.name_any();
    let namespace = deployment.namespace().unwrap_or_default();
    let owner = deployment
        .controller_owner_ref(&())
        .map(|owner| vec![owner]);
    let labels = json!({"app": name, "type": "flink-native-kubernetes"});
    let selector =
        json!({"app": name, "component": "jobmanager", "type": "flink-native-kubernetes"});
    let rest = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": format!("{name}-rest"), "namespace": namespace, "labels": labels, "ownerReferences": owner},
        "spec": {"type": "ClusterIP", "selector": selector,
                 "ports": [{"name": "rest", "port": 8081, "targetPort": 8081, "protocol": "TCP"}]},
    });
    let internal = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "ownerReferences": owner},
        "spec": {"clusterIP": "None", "selector": selector, "ports": [
            {"name": "jobmanager-rpc", "port": 6123, "targetPort": 6123, "protocol": "TCP"},
            {"name": "blobserver", "port": 6124, "targetPort": 6124, "protocol": "TCP"},
        ]},
    });
    let mut configuration = effective_configuration(&operator.config, spec);
    configuration.insert("kubernetes.cluster-id".into(), name.clone());
    configuration.insert("kubernetes.namespace".into(), namespace.clone());
    let text: String = configuration
        .iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect();
    let file = match spec.get("flinkVersion").and_then(Value::as_str) {
        Some(v) if v.starts_with("v2") => "config.yaml",
        _ => "flink-conf.yaml",
    };
    let mut data = serde_json::Map::new();
    data.insert(file.into(), json!(text));
    if let Some(logs) = spec.get("logConfiguration").and_then(Value::as_object) {
        for (key, value) in logs {
            data.insert(key.clone(), value.clone());
        }
    }
    let config_map = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("flink-config-{name}"), "namespace": namespace, "labels": labels, "ownerReferences": owner},
        "data": data,
    });
    let params = PatchParams::apply(SIMULATOR_MANAGER).force();
    let services: Api<Service> = Api::namespaced(operator.client.clone(), &namespace);
    services
        .patch(&format!("{name}-rest"), &params, &Patch::Apply(&rest))
        .await?;
    services
        .patch(&name, &params, &Patch::Apply(&internal))
        .await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(operator.client.clone(), &namespace);
    config_maps
        .patch(
            &format!("flink-config-{name}"),
            &params,
            &Patch::Apply(&config_map),
        )
        .await?;
    Ok(())
}

/// How long the operator waits for a cluster's Deployment to be deleted
/// (`kubernetes.operator.resource.cleanup.timeout`, default 5 minutes,
/// `KubernetesOperatorConfigOptions` release-1.15.0).
const CLEANUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Waits until Deployment `name` is gone, as the operator's `deleteBlocking`
/// does; past [`CLEANUP_TIMEOUT`] it goes on, as the operator does.
async fn wait_until_deleted(
    deployments: &Api<k8s_openapi::api::apps::v1::Deployment>,
    name: &str,
) -> Result<(), kube::Error> {
    let started = std::time::Instant::now();
    while started.elapsed() < CLEANUP_TIMEOUT {
        match deployments.get_opt(name).await? {
            None => return Ok(()),
            Some(_) => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
        }
    }
    tracing::info!(%name, "stand-in operator: the JobManager Deployment was not deleted within the cleanup timeout");
    Ok(())
}

/// What the operator does before it lets a FlinkDeployment go: it deletes the
/// cluster's objects (their owner references would also get them collected,
/// but only once the garbage collector's discovery knows the Flink kinds)
/// and, deploying for real, the cluster's HA metadata ([`ha_metadata`]).
pub(super) async fn tear_down(
    operator: &Operator,
    deployment: &FlinkDeployment,
) -> Result<Action, kube::Error> {
    let name = deployment.name_any();
    let namespace = deployment.namespace().unwrap_or_default();
    let services: Api<Service> = Api::namespaced(operator.client.clone(), &namespace);
    let config_maps: Api<ConfigMap> = Api::namespaced(operator.client.clone(), &namespace);
    let gone = |result: Result<_, kube::Error>| match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(error),
    };
    let params = DeleteParams::default();
    gone(
        services
            .delete(&format!("{name}-rest"), &params)
            .await
            .map(|_| ()),
    )?;
    gone(services.delete(&name, &params).await.map(|_| ()))?;
    if let Some(native) = &operator.native {
        // The operator's `deleteClusterDeployment(…, deleteHaData = true)`
        // on cleanup: the JobManager Deployment deleted in the foreground and
        // waited for (`NativeFlinkService.deleteClusterInternal`, the default
        // `kubernetes.operator.resource.deletion.propagation: Foreground`), so
        // no JobManager writes HA data any more, then the HA data deleted.
        let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(operator.client.clone(), &namespace);
        gone(
            deployments
                .delete(&name, &DeleteParams::foreground())
                .await
                .map(|_| ()),
        )?;
        wait_until_deleted(&deployments, &name).await?;
        let spec = serde_json::to_value(&deployment.spec).map_err(kube::Error::SerdeError)?;
        let configuration = effective_configuration(&operator.config, &spec);
        match ha_metadata(&name, &configuration) {
            HaMetadata::None => {}
            HaMetadata::Kubernetes => {
                let ha = kube::api::ListParams::default()
                    .labels(&crate::cluster::flink_ha_selector(&name));
                gone(
                    config_maps
                        .delete_collection(&params, &ha)
                        .await
                        .map(|_| ()),
                )?;
            }
            HaMetadata::ZooKeeper { quorum, path } => {
                // The operator logs a failure and deletes the cluster anyway.
                match delete_zookeeper_path(&native.dns, &quorum, &path).await {
                    Ok(()) => {
                        tracing::info!(%path, "stand-in operator: deleted Zookeeper HA metadata")
                    }
                    Err(error) => tracing::warn!(
                        %path, %error,
                        "stand-in operator: could not delete HA Metadata at path {path} in Zookeeper"
                    ),
                }
            }
        }
    }
    gone(
        config_maps
            .delete(&format!("flink-config-{name}"), &params)
            .await
            .map(|_| ()),
    )?;
    Ok(Action::await_change())
}
