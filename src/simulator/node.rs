//! The simulated node: registered, heart-beating, running every pod it is given.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures::TryStreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;

use super::{SIMULATED_NODE_LABEL, SIMULATOR_MANAGER};
use crate::cluster::ClusterError;

/// How often the node renews its lease and Ready condition; the node
/// lifecycle controller marks a node unreachable after 40 s of silence.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// Registers the node, keeps it alive and runs its pods until an error.
pub(super) async fn run(client: Client, node_name: String) -> Result<(), ClusterError> {
    register(&client, &node_name).await?;
    let heartbeat = heartbeat(client.clone(), node_name.clone());
    let pods = run_pods(client, node_name);
    tokio::select! {
        result = heartbeat => result,
        result = pods => result,
    }
}

async fn register(client: &Client, node_name: &str) -> Result<(), ClusterError> {
    let nodes: Api<Node> = Api::all(client.clone());
    let node = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node_name,
            "labels": {
                "kubernetes.io/hostname": node_name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "simulated",
                SIMULATED_NODE_LABEL: "true",
            },
        },
    });
    let params = PatchParams::apply(SIMULATOR_MANAGER).force();
    nodes
        .patch(node_name, &params, &Patch::Apply(&node))
        .await?;
    patch_node_status(&nodes, node_name).await
}

async fn patch_node_status(nodes: &Api<Node>, node_name: &str) -> Result<(), ClusterError> {
    let now = Utc::now().to_rfc3339();
    let capacity =
        json!({"cpu": "64", "memory": "256Gi", "pods": "500", "ephemeral-storage": "1Ti"});
    let status = json!({
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "nodeInfo": {
                "kubeletVersion": "simulated", "kubeProxyVersion": "", "containerRuntimeVersion": "simulated://1",
                "operatingSystem": "linux", "architecture": "amd64", "osImage": "dataport simulator",
                "kernelVersion": "", "machineID": "", "systemUUID": "", "bootID": "",
            },
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "dataport simulator: pods are simulated, nothing runs",
                "lastHeartbeatTime": now, "lastTransitionTime": now,
            }],
        }
    });
    nodes
        .patch_status(node_name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

async fn heartbeat(client: Client, node_name: String) -> Result<(), ClusterError> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let nodes: Api<Node> = Api::all(client);
    let params = PatchParams::apply(SIMULATOR_MANAGER).force();
    loop {
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": node_name},
            "spec": {
                "holderIdentity": node_name,
                "leaseDurationSeconds": 40,
                "renewTime": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            },
        });
        leases
            .patch(&node_name, &params, &Patch::Apply(&lease))
            .await?;
        patch_node_status(&nodes, &node_name).await?;
        tokio::time::sleep(HEARTBEAT).await;
    }
}

/// Binds unscheduled pods to the node, reports its pods running and ready,
/// and finishes the deletion of its terminating pods, as a kubelet would.
async fn run_pods(client: Client, node_name: String) -> Result<(), ClusterError> {
    let pods: Api<Pod> = Api::all(client.clone());
    let next_ip = AtomicU32::new(2);
    let stream = watcher(pods, watcher::Config::default())
        .default_backoff()
        .applied_objects();
    futures::pin_mut!(stream);
    while let Some(pod) = stream
        .try_next()
        .await
        .map_err(|e| ClusterError::Timeout(format!("pod watch: {e}")))?
    {
        let (Some(name), Some(namespace)) =
            (pod.metadata.name.clone(), pod.metadata.namespace.clone())
        else {
            continue;
        };
        let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        let assigned = pod.spec.as_ref().and_then(|spec| spec.node_name.clone());
        let outcome = match assigned {
            None => bind(&api, &name, &node_name).await,
            Some(node) if node == node_name => {
                if pod.metadata.deletion_timestamp.is_some() {
                    // Containers "stop" at once: the kubelet's final delete.
                    api.delete(&name, &DeleteParams::default().grace_period(0))
                        .await
                        .map(|_| ())
                } else if !is_running(&pod) {
                    let ip = next_ip.fetch_add(1, Ordering::Relaxed);
                    report_running(&api, &pod, &name, ip).await
                } else {
                    Ok(())
                }
            }
            Some(_) => Ok(()),
        };
        if let Err(error) = outcome {
            // The pod may have gone meanwhile; the next event retries the rest.
            tracing::debug!(%namespace, %name, %error, "simulated kubelet step skipped");
        }
    }
    Ok(())
}

fn is_running(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        == Some("Running")
}

async fn bind(api: &Api<Pod>, name: &str, node_name: &str) -> Result<(), kube::Error> {
    let binding = json!({
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node_name},
    });
    api.create_subresource::<_, serde_json::Value>(
        "binding",
        name,
        &PostParams::default(),
        &binding,
    )
    .await?;
    Ok(())
}

async fn report_running(api: &Api<Pod>, pod: &Pod, name: &str, ip: u32) -> Result<(), kube::Error> {
    let now = Utc::now().to_rfc3339();
    let containers = pod
        .spec
        .as_ref()
        .map(|spec| spec.containers.as_slice())
        .unwrap_or_default();
    let container_statuses: Vec<_> = containers
        .iter()
        .map(|container| {
            json!({
                "name": container.name,
                "image": container.image.clone().unwrap_or_default(),
                "imageID": "",
                "ready": true,
                "started": true,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            })
        })
        .collect();
    let condition = |kind: &str| json!({"type": kind, "status": "True", "lastTransitionTime": now});
    let pod_ip = format!("10.244.{}.{}", (ip >> 8) & 0xff, ip & 0xff);
    let status = json!({
        "status": {
            "phase": "Running",
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "startTime": now,
            "conditions": [
                condition("PodScheduled"),
                condition("Initialized"),
                condition("ContainersReady"),
                condition("Ready"),
            ],
            "containerStatuses": container_statuses,
        }
    });
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}
