//! `dataport simulate`: plays the parts a local test control plane lacks.
//!
//! The control plane of `testenv/` has no kubelet and no Flink operator. The
//! simulator stands in for both and says so: it plays a node that "runs" every
//! pod (the real controllers then compute Deployment and StatefulSet readiness
//! themselves) and the Flink operator's status walks of clusters and jobs. Everything else is the
//! real API server's and controllers' own behaviour.

mod flink_operator;
mod jobs;
mod node;

use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use kube::runtime::controller::Action;

use crate::cluster::Cluster;
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

/// Runs the node and the Flink operator until the process is stopped.
pub async fn run(args: SimulateArgs) -> Result<(), StartError> {
    let cluster = Cluster::connect_required(args.kubeconfig.as_deref()).await?;
    let client = cluster.client().clone();
    tracing::info!(node = %args.node_name, "simulating a node and the Flink operator");
    tokio::select! {
        result = node::run(client.clone(), args.node_name) => result?,
        result = flink_operator::run(client.clone()) => result?,
        result = jobs::run(client) => result?,
        _ = crate::http::shutdown_signal() => {}
    }
    Ok(())
}

/// What the simulated operator's reconcilers get.
struct Context {
    client: Client,
}

/// Why a simulated reconcile step failed (it is retried).
#[derive(Debug, thiserror::Error)]
enum SimulationError {
    #[error(transparent)]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    Finalizer(#[from] Box<kube::runtime::finalizer::Error<kube::Error>>),
}

/// The simulated operator's error policy: log, and try again shortly.
fn retry_shortly<K>(_: Arc<K>, error: &SimulationError, _: Arc<Context>) -> Action {
    tracing::warn!(%error, kind = std::any::type_name::<K>(), "simulated Flink operator");
    Action::requeue(Duration::from_secs(2))
}

/// Logs a controller step that failed; the controller retries it.
async fn log_step<T, E: std::fmt::Display>(result: Result<T, E>) {
    if let Err(error) = result {
        tracing::debug!(%error, "simulated operator step failed; retrying");
    }
}
