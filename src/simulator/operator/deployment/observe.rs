//! What the operator's observer sees of a real JobManager: its Deployment,
//! its pods' container states and its REST port
//! (`AbstractFlinkDeploymentObserver.observeJmDeployment`, release-1.15.0).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, ListParams};

use super::JobManagerSeen;
use crate::crd::FlinkDeployment;
use crate::simulator::operator::instance::Operator;
use crate::simulator::operator::native::NativeClient;

/// The reasons of a waiting container that fail a deployment
/// (`DeploymentFailedException.CONTAINER_ERROR_REASONS`, release-1.15.0).
const CONTAINER_ERROR_REASONS: [&str; 6] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "RunContainerError",
    "CreateContainerConfigError",
    "OOMKilled",
];

/// Looks at the JobManager Deployment, its pods and its REST port, as the
/// operator's observer does.
pub(super) async fn observe_job_manager(
    operator: &Operator,
    native: &NativeClient,
    deployment: &FlinkDeployment,
) -> JobManagerSeen {
    let name = deployment.name_any();
    let namespace = deployment.namespace().unwrap_or_default();
    let deployments: Api<Deployment> = Api::namespaced(operator.client.clone(), &namespace);
    let Ok(Some(job_manager)) = deployments.get_opt(&name).await else {
        return JobManagerSeen::Missing;
    };
    let available = job_manager
        .status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0);
    if available > 0 && native.rest_answers(&name, &namespace).await.is_some() {
        return JobManagerSeen::PortReady;
    }
    let pods: Api<Pod> = Api::namespaced(operator.client.clone(), &namespace);
    let selector = format!("app={name},component=jobmanager,type=flink-native-kubernetes");
    let list = pods
        .list(&ListParams::default().labels(&selector))
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    for pod in list {
        for container in pod
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
        {
            let Some(waiting) = container.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
                continue;
            };
            let reason = waiting.reason.clone().unwrap_or_default();
            if !CONTAINER_ERROR_REASONS.contains(&reason.as_str()) {
                continue;
            }
            let crash = (reason == "CrashLoopBackOff")
                .then(|| {
                    container
                        .last_state
                        .as_ref()?
                        .terminated
                        .as_ref()?
                        .message
                        .clone()
                })
                .flatten()
                .map(|message| format!("CrashLoop - {message}"));
            let message = crash
                .or_else(|| waiting.message.clone())
                .unwrap_or_default();
            return JobManagerSeen::Failed(format!("[{}] {message}", container.name));
        }
    }
    JobManagerSeen::Deploying
}
