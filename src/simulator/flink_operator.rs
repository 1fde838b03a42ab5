//! The simulated Flink operator: for each FlinkDeployment, the `<name>-rest`
//! Service, the operator's finalizer, and the status walk
//! DEPLOYING → READY with lifecycle DEPLOYED → STABLE (or ERROR / FAILED when
//! the deployment carries [`FAIL_ANNOTATION`]); an application's job then
//! walks as [`super::jobs`] says, suspended and upgraded through savepoints.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use serde_json::json;

use super::jobs::{JobWorld, error_json, next_job, now_ms, savepoint_dir, status_patch};
use super::{
    Context, FAIL_ANNOTATION, FINISH_ANNOTATION, SIMULATOR_MANAGER, SimulationError, log_step,
    retry_shortly,
};
use crate::cluster::ClusterError;
use crate::crd::{
    FlinkDeployment, FlinkDeploymentStatus, JobManagerDeploymentStatus as Jm, JobState,
    OPERATOR_FINALIZER, ResourceLifecycleState as Lifecycle,
};

/// Time between two steps of the status walk.
const STEP: Duration = Duration::from_millis(700);

/// Reconciles FlinkDeployments until the watch ends.
pub(super) async fn run(client: Client) -> Result<(), ClusterError> {
    let deployments: Api<FlinkDeployment> = Api::all(client.clone());
    let services: Api<Service> = Api::all(client.clone());
    let context = Arc::new(Context { client });
    Controller::new(deployments, watcher::Config::default())
        .owns(services, watcher::Config::default())
        .run(reconcile, retry_shortly, context)
        .for_each(log_step)
        .await;
    Ok(())
}

async fn reconcile(
    deployment: Arc<FlinkDeployment>,
    context: Arc<Context>,
) -> Result<Action, SimulationError> {
    let namespace = deployment.namespace().unwrap_or_default();
    let api: Api<FlinkDeployment> = Api::namespaced(context.client.clone(), &namespace);
    finalizer(&api, OPERATOR_FINALIZER, deployment, |event| async {
        match event {
            Event::Apply(deployment) => apply(&context.client, &api, &deployment).await,
            Event::Cleanup(deployment) => tear_down(&context.client, &deployment).await,
        }
    })
    .await
    .map_err(|error| SimulationError::Finalizer(Box::new(error)))
}

async fn apply(
    client: &Client,
    api: &Api<FlinkDeployment>,
    deployment: &FlinkDeployment,
) -> Result<Action, kube::Error> {
    ensure_rest_service(client, deployment).await?;
    let generation = deployment.metadata.generation.unwrap_or_default();
    let current = deployment.status.clone().unwrap_or_default();
    let next = next_status(deployment, &current, generation);
    if next == current {
        return Ok(Action::await_change());
    }
    api.patch_status(
        &deployment.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&status_patch(&next)),
    )
    .await?;
    Ok(Action::requeue(STEP))
}

/// One step of the operator's walk from what the status says now: the
/// JobManager's, then (for an application) its job's.
fn next_status(
    deployment: &FlinkDeployment,
    current: &FlinkDeploymentStatus,
    generation: i64,
) -> FlinkDeploymentStatus {
    let mut next = current.clone();
    next.observed_generation = Some(generation);
    if let Some(message) = deployment.annotations().get(FAIL_ANNOTATION) {
        next.job_manager_deployment_status = Some(Jm::Error);
        next.lifecycle_state = Some(Lifecycle::Failed);
        next.error = Some(error_json(message));
        if let Some(job) = next.job_status.as_mut() {
            job.state = Some("FAILED".into());
        }
        return next;
    }
    next.error = None;
    let upgrading = current
        .observed_generation
        .is_some_and(|seen| seen != generation);
    let job_status = current.job_status.clone().unwrap_or_default();
    let job_world = deployment.spec.job.as_ref().map(|spec| JobWorld {
        spec,
        upgrading,
        savepoint_dir: savepoint_dir(deployment.spec.flink_configuration.as_ref()),
        fail: None,
        finish: deployment.annotations().contains_key(FINISH_ANNOTATION),
        now_ms: now_ms(),
    });
    if let Some(world) = job_world {
        // The savepoint comes before the cluster goes down for a suspend or an upgrade.
        let suspending = world.spec.state == Some(JobState::Suspended);
        let upgrading_job = upgrading && job_status.state.as_deref() == Some("RUNNING");
        if suspending || upgrading_job {
            match next_job(&job_status, world) {
                Ok((job, lifecycle)) => {
                    next.job_status = Some(job);
                    (next.job_manager_deployment_status, next.lifecycle_state) = if suspending {
                        (Some(Jm::Missing), Some(Lifecycle::Suspended))
                    } else {
                        (Some(Jm::Deploying), Some(lifecycle))
                    };
                }
                Err(message) => next.error = Some(error_json(&message)),
            }
            return next;
        }
    }
    (next.job_manager_deployment_status, next.lifecycle_state) = match (
        current.job_manager_deployment_status,
        current.lifecycle_state,
    ) {
        _ if upgrading => (Some(Jm::Deploying), Some(Lifecycle::Upgrading)),
        (None | Some(Jm::Missing | Jm::Error), _) => {
            (Some(Jm::Deploying), Some(Lifecycle::Deployed))
        }
        (Some(Jm::Deploying), _) => (Some(Jm::DeployedNotReady), Some(Lifecycle::Deployed)),
        (Some(Jm::DeployedNotReady), _) => (Some(Jm::Ready), Some(Lifecycle::Deployed)),
        (Some(Jm::Ready), _) => (Some(Jm::Ready), Some(Lifecycle::Stable)),
    };
    // An application's job starts once its JobManager is up.
    if let Some(world) = job_world
        && current.job_manager_deployment_status == Some(Jm::Ready)
        && !upgrading
    {
        let world = JobWorld {
            upgrading: false,
            ..world
        };
        match next_job(&job_status, world) {
            Ok((job, lifecycle)) => {
                next.job_status = Some(job);
                next.lifecycle_state = Some(lifecycle);
            }
            Err(message) => next.error = Some(error_json(&message)),
        }
    }
    if next.cluster_info.is_none() {
        next.cluster_info = Some(
            [("flink-version".to_owned(), flink_version(deployment))]
                .into_iter()
                .collect(),
        );
    }
    next
}

fn flink_version(deployment: &FlinkDeployment) -> String {
    deployment
        .spec
        .flink_version
        .and_then(|version| serde_json::to_value(version).ok())
        .and_then(|value| {
            value
                .as_str()
                .map(|v| v.trim_start_matches('v').replace('_', "."))
        })
        .unwrap_or_default()
}

/// What the operator does before it lets a FlinkDeployment go: it deletes the
/// cluster, and with it the REST Service. (The Service's owner reference would
/// also get it collected, but only once the garbage collector's discovery cache
/// knows the Flink kinds, which can take its 30 s refresh on a fresh control plane.)
async fn tear_down(client: &Client, deployment: &FlinkDeployment) -> Result<Action, kube::Error> {
    let services: Api<Service> =
        Api::namespaced(client.clone(), &deployment.namespace().unwrap_or_default());
    match services
        .delete(
            &format!("{}-rest", deployment.name_any()),
            &Default::default(),
        )
        .await
    {
        Ok(_) => Ok(Action::await_change()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(Action::await_change()),
        Err(error) => Err(error),
    }
}

/// The Service the operator creates for the JobManager's REST API and WebUI.
async fn ensure_rest_service(
    client: &Client,
    deployment: &FlinkDeployment,
) -> Result<(), kube::Error> {
    let name = deployment.name_any();
    let namespace = deployment.namespace().unwrap_or_default();
    let owner = deployment
        .controller_owner_ref(&())
        .map(|owner| vec![owner]);
    let service = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": format!("{name}-rest"),
            "namespace": namespace,
            "labels": {"app": name, "type": "flink-native-kubernetes"},
            "ownerReferences": owner,
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": name, "component": "jobmanager", "type": "flink-native-kubernetes"},
            "ports": [{"name": "rest", "port": 8081, "targetPort": 8081, "protocol": "TCP"}],
        },
    });
    let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
    services
        .patch(
            &format!("{name}-rest"),
            &PatchParams::apply(SIMULATOR_MANAGER).force(),
            &Patch::Apply(&service),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(deployment: &FlinkDeployment, generation: i64, steps: usize) -> Vec<(Jm, Lifecycle)> {
        let mut status = FlinkDeploymentStatus::default();
        let mut seen = Vec::new();
        for _ in 0..steps {
            status = next_status(deployment, &status, generation);
            seen.push((
                status.job_manager_deployment_status.unwrap(),
                status.lifecycle_state.unwrap(),
            ));
        }
        seen
    }

    #[test]
    fn walks_deploying_to_ready_and_stable() {
        let deployment = FlinkDeployment::new("f", Default::default());
        assert_eq!(
            walk(&deployment, 1, 5),
            [
                (Jm::Deploying, Lifecycle::Deployed),
                (Jm::DeployedNotReady, Lifecycle::Deployed),
                (Jm::Ready, Lifecycle::Deployed),
                (Jm::Ready, Lifecycle::Stable),
                (Jm::Ready, Lifecycle::Stable),
            ]
        );
    }

    #[test]
    fn a_new_generation_upgrades_again() {
        let deployment = FlinkDeployment::new("f", Default::default());
        let stable = FlinkDeploymentStatus {
            observed_generation: Some(1),
            job_manager_deployment_status: Some(Jm::Ready),
            lifecycle_state: Some(Lifecycle::Stable),
            ..Default::default()
        };
        let next = next_status(&deployment, &stable, 2);
        assert_eq!(next.lifecycle_state, Some(Lifecycle::Upgrading));
        assert_eq!(next.observed_generation, Some(2));
    }

    #[test]
    fn an_application_runs_its_job_once_ready_and_suspends_through_a_savepoint() {
        let mut deployment = FlinkDeployment::new(
            "f",
            crate::crd::FlinkDeploymentSpec {
                flink_configuration: Some(
                    [(
                        "execution.checkpointing.savepoint-dir".to_owned(),
                        "s3://flink/f/savepoints".to_owned(),
                    )]
                    .into(),
                ),
                job: Some(crate::crd::JobSpec {
                    state: Some(JobState::Running),
                    upgrade_mode: Some(crate::crd::UpgradeMode::Savepoint),
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        let mut status = FlinkDeploymentStatus::default();
        for _ in 0..6 {
            status = next_status(&deployment, &status, 1);
        }
        let job = status.job_status.clone().unwrap();
        assert_eq!(job.state.as_deref(), Some("RUNNING"));
        assert_eq!(status.lifecycle_state, Some(Lifecycle::Stable));

        deployment.spec.job.as_mut().unwrap().state = Some(JobState::Suspended);
        let suspended = next_status(&deployment, &status, 2);
        assert_eq!(suspended.lifecycle_state, Some(Lifecycle::Suspended));
        assert_eq!(suspended.job_manager_deployment_status, Some(Jm::Missing));
        let job = suspended.job_status.unwrap();
        assert_eq!(job.state.as_deref(), Some("SUSPENDED"));
        assert!(
            job.upgrade_savepoint_path
                .unwrap()
                .starts_with("s3://flink/f/savepoints/savepoint-")
        );
    }

    #[test]
    fn the_failure_annotation_fails_with_its_message() {
        let mut deployment = FlinkDeployment::new("f", Default::default());
        deployment
            .annotations_mut()
            .insert(FAIL_ANNOTATION.to_owned(), "image pull failed".to_owned());
        let next = next_status(&deployment, &FlinkDeploymentStatus::default(), 1);
        assert_eq!(next.job_manager_deployment_status, Some(Jm::Error));
        assert_eq!(next.lifecycle_state, Some(Lifecycle::Failed));
        assert!(next.error.unwrap().contains("image pull failed"));
    }
}
