//! `dataport simulate`: plays the parts a local test control plane lacks.
//!
//! The control plane of `testenv/` has no kubelet and no Flink operator. The
//! simulator stands in for both and says so: it plays a node ([`node`]) that
//! "runs" every pod (the real controllers then compute Deployment and
//! StatefulSet readiness themselves), or, as a process node, runs Flink's pods
//! as real Flink processes; and, for each flink-kubernetes-operator Deployment
//! that is available, a strict stand-in for that operator ([`operator`]),
//! acting under its ServiceAccount on the namespaces it watches (and, with the
//! process node, deploying session clusters with Flink's own client).
//! Everything else is the real API server's and controllers' own behaviour.

mod jobs;
pub mod node;
pub mod operator;

use kube::Config;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cluster::{Cluster, ClusterError};
use crate::config::SimulateArgs;
use crate::error::StartError;

/// Annotation on a FlinkDeployment that makes the simulated operator fail it,
/// with the annotation's value as the error message.
pub const FAIL_ANNOTATION: &str = "dataport.io/simulate-failure";

/// Annotation on a FlinkDeployment or FlinkSessionJob whose running job then
/// finishes by itself (a bounded job).
pub const FINISH_ANNOTATION: &str = "dataport.io/simulate-finish";

/// Label on the simulated node, so that anyone can tell workloads are simulated.
pub const SIMULATED_NODE_LABEL: &str = "dataport.io/simulated-node";

/// Field manager of what the simulator writes.
pub const SIMULATOR_MANAGER: &str = "dataport-simulator";

/// Runs the node and the simulated operators until the process is stopped.
pub async fn run(args: SimulateArgs) -> Result<(), StartError> {
    let cluster = Cluster::connect_required(args.kubeconfig.as_deref()).await?;
    let client = cluster.client().clone();
    let base = client_config(args.kubeconfig.as_deref()).await?;
    let processes = if args.run_processes {
        let cache = args.flink_cache.clone().unwrap_or_else(default_cache);
        let root = std::path::absolute(&args.process_root).unwrap_or(args.process_root.clone());
        let node = node::process::ProcessNode::new(
            client.clone(),
            &base.cluster_url.to_string().parse().unwrap_or_else(|_| {
                url::Url::parse("https://127.0.0.1:6443").expect("a fixed URL parses")
            }),
            node::process::ProcessOptions {
                root,
                flink_cache: cache,
                java: args.java.clone(),
            },
        )
        .await;
        Some(node)
    } else {
        None
    };
    let native = processes.as_ref().map(|node| {
        std::sync::Arc::new(operator::native::NativeClient {
            admin: client.clone(),
            api_server: node.api_server(),
            cache: args.flink_cache.clone().unwrap_or_else(default_cache),
            releases: node.flink_releases(),
            java: args.java.clone(),
            dns: node.dns(),
            http: reqwest::Client::new(),
        })
    });
    match &processes {
        Some(node) => tracing::info!(node = %args.node_name, "{}", node.describe()),
        None => {
            tracing::info!(node = %args.node_name, "simulating a node and the Flink operators as deployed")
        }
    }
    // The cluster's CA signs the API server's kubelet client certificate too
    // (testenv/controlplane.sh): the only client the kubelet endpoint trusts.
    let kubelet = node::kubelet::bind(
        client.clone(),
        &args.node_name,
        base.root_cert.as_deref().unwrap_or_default(),
        processes.clone(),
    )
    .await?;
    let kubelet_port = kubelet.port;
    tokio::select! {
        result = node::run(client.clone(), args.node_name, processes, kubelet_port) => result?,
        result = kubelet.serve() => result?,
        result = operator::run(client, base, native) => result?,
        _ = crate::http::shutdown_signal() => {}
    }
    Ok(())
}

/// `$XDG_CACHE_HOME/dataport` or `~/.cache/dataport`, where testenv/ keeps
/// what it builds.
fn default_cache() -> std::path::PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".cache"))
        })
        .unwrap_or_else(|| std::path::PathBuf::from(".cache"))
        .join("dataport")
}

/// The client configuration the simulator connects with, which the
/// simulated operators copy to impersonate their ServiceAccounts.
async fn client_config(path: Option<&std::path::Path>) -> Result<Config, ClusterError> {
    let config = match path {
        Some(path) => {
            let error = |message: String| ClusterError::Kubeconfig {
                path: path.display().to_string(),
                message: message.lines().next().unwrap_or_default().to_owned(),
            };
            let kubeconfig = Kubeconfig::read_from(path).map_err(|e| error(e.to_string()))?;
            Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|e| error(e.to_string()))?
        }
        None => Config::incluster().map_err(|_| ClusterError::NotConfigured)?,
    };
    Ok(config)
}

/// Why a simulated reconcile step failed (it is retried).
#[derive(Debug, thiserror::Error)]
enum SimulationError {
    #[error(transparent)]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    Finalizer(#[from] Box<kube::runtime::finalizer::Error<kube::Error>>),
}
