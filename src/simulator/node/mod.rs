//! The simulated node: registered, heart-beating, running every pod it is given.
//!
//! A pod is run one of two ways. With a [`process::ProcessNode`] (`dataport
//! simulate --run-processes`), pods whose images the node knows (Flink's) run
//! as real local processes and the node plays the kubelet for them; every other
//! pod is *simulated* ([`simulated`]): reported running and ready at once,
//! nothing runs. The node says which on itself (label, Ready message) and on
//! every pod it only simulates (a condition). Its kubelet endpoint
//! ([`kubelet`]) serves container logs to the API server: real output for
//! what the process node runs, a plain "no process runs" for what is simulated.

use std::time::Duration;

use chrono::Utc;
use futures::TryStreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use std::sync::Arc;

pub mod kubelet;
pub mod process;
mod simulated;

use process::ProcessNode;
use serde_json::json;

use super::{SIMULATED_NODE_LABEL, SIMULATOR_MANAGER};
use crate::cluster::ClusterError;

/// How often the node renews its lease and Ready condition; the node
/// lifecycle controller marks a node unreachable after 40 s of silence.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// Registers the node (its kubelet endpoint on `kubelet_port` of
/// 127.0.0.1), keeps it alive and runs its pods until an error.
pub(super) async fn run(
    client: Client,
    node_name: String,
    processes: Option<Arc<ProcessNode>>,
    kubelet_port: u16,
) -> Result<(), ClusterError> {
    let message = match &processes {
        Some(node) => node.describe(),
        None => "dataport simulator: pods are simulated, nothing runs".to_owned(),
    };
    let reported = Reported {
        message,
        kubelet_port,
    };
    register(&client, &node_name, &reported).await?;
    let heartbeat = heartbeat(client.clone(), node_name.clone(), reported);
    let pods = run_pods(client, node_name, processes);
    tokio::select! {
        result = heartbeat => result,
        result = pods => result,
    }
}

/// What the node reports of itself besides its resources.
struct Reported {
    /// The Ready condition's message.
    message: String,
    /// `daemonEndpoints.kubeletEndpoint.Port`: where the API server asks for logs.
    kubelet_port: u16,
}

async fn register(
    client: &Client,
    node_name: &str,
    reported: &Reported,
) -> Result<(), ClusterError> {
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
    patch_node_status(&nodes, node_name, reported).await
}

async fn patch_node_status(
    nodes: &Api<Node>,
    node_name: &str,
    reported: &Reported,
) -> Result<(), ClusterError> {
    let now = Utc::now().to_rfc3339();
    let capacity =
        json!({"cpu": "64", "memory": "256Gi", "pods": "500", "ephemeral-storage": "1Ti"});
    let status = json!({
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": reported.kubelet_port}},
            "nodeInfo": {
                "kubeletVersion": "simulated", "kubeProxyVersion": "", "containerRuntimeVersion": "simulated://1",
                "operatingSystem": "linux", "architecture": "amd64", "osImage": "dataport simulator",
                "kernelVersion": "", "machineID": "", "systemUUID": "", "bootID": "",
            },
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": reported.message,
                "lastHeartbeatTime": now, "lastTransitionTime": now,
            }],
        }
    });
    nodes
        .patch_status(node_name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}

async fn heartbeat(
    client: Client,
    node_name: String,
    reported: Reported,
) -> Result<(), ClusterError> {
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
        patch_node_status(&nodes, &node_name, &reported).await?;
        tokio::time::sleep(HEARTBEAT).await;
    }
}

/// Binds unscheduled pods to the node and hands each of its pods to the
/// process node (when it knows the pod's images) or the simulated run; finishes
/// the deletion of its terminating pods, as a kubelet would.
async fn run_pods(
    client: Client,
    node_name: String,
    processes: Option<Arc<ProcessNode>>,
) -> Result<(), ClusterError> {
    let pods: Api<Pod> = Api::all(client.clone());
    let mut simulated_ips = simulated::PodIps::default();
    let stream = watcher(pods, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    while let Some(event) = stream
        .try_next()
        .await
        .map_err(|e| ClusterError::Timeout(format!("pod watch: {e}")))?
    {
        let pod = match event {
            watcher::Event::Apply(pod) | watcher::Event::InitApply(pod) => pod,
            watcher::Event::Delete(pod) => {
                // Deleted without a grace period (or while the node was away).
                if let Some(node) = &processes {
                    node.forget(&pod);
                    node.release_simulated_pod_ip(&pod);
                }
                continue;
            }
            watcher::Event::Init | watcher::Event::InitDone => continue,
        };
        let (Some(name), Some(namespace)) =
            (pod.metadata.name.clone(), pod.metadata.namespace.clone())
        else {
            continue;
        };
        let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        let assigned = pod.spec.as_ref().and_then(|spec| spec.node_name.clone());
        let runs_processes = processes.as_ref().filter(|node| node.runs(&pod));
        let outcome = match (assigned, runs_processes) {
            (None, _) => bind(&api, &name, &node_name).await,
            (Some(node), _) if node != node_name => Ok(()),
            (Some(_), Some(node)) => {
                node.sync(&pod);
                Ok(())
            }
            (Some(_), None) => {
                if pod.metadata.deletion_timestamp.is_some() {
                    // Nothing runs: the kubelet's final delete at once.
                    api.delete(&name, &DeleteParams::default().grace_period(0))
                        .await
                        .map(|_| ())
                } else if !simulated::is_running(&pod) {
                    let ip = processes
                        .as_ref()
                        .and_then(|node| node.simulated_pod_ip())
                        .unwrap_or_else(|| simulated_ips.next());
                    simulated::report_running(&api, &pod, &name, ip).await
                } else {
                    Ok(())
                }
            }
        };
        if let Err(error) = outcome {
            // The pod may have gone meanwhile; the next event retries the rest.
            tracing::debug!(%namespace, %name, %error, "simulated kubelet step skipped");
        }
    }
    Ok(())
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
