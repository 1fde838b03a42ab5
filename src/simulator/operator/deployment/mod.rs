//! The simulated FlinkDeployment controller: validate, then deploy, upgrade,
//! suspend or observe by comparing the spec with the `lastReconciledSpec` it
//! reads back from the status (`FlinkDeploymentController`,
//! `AbstractFlinkResourceReconciler`, `AbstractFlinkDeploymentObserver` in
//! flink-kubernetes-operator release-1.15.0; docs/flink-operator-facts.md §3–§4).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::watcher;
use serde_json::Value;

use super::config::OperatorConfig;
use super::events::{record, reference};
use super::instance::Operator;
use super::metrics::counted;
use super::periodic;
use super::session_job::savepoints::{create_savepoint_resource, snapshot_resources};
use super::status::reconciliation_error;
use super::validator::flat_configuration;
use crate::crd::{
    FlinkDeployment, JobManagerDeploymentStatus as Jm, OPERATOR_FINALIZER, ReconciliationState,
};
use crate::simulator::jobs::status_change;
use crate::simulator::{FAIL_ANNOTATION, FINISH_ANNOTATION, SimulationError};

mod objects;
mod observe;
mod savepoints;
mod step;

use objects::{create_cluster_objects, tear_down};
use observe::observe_job_manager;
use step::{JobManagerSeen, Seen, step};

/// Time between two steps of the status walk.
const STEP: Duration = Duration::from_millis(700);

/// Reconciles the FlinkDeployments of `namespace` (all when `None`).
pub(super) async fn run(operator: Arc<Operator>, namespace: Option<String>) {
    let client = operator.client.clone();
    let (deployments, services): (Api<FlinkDeployment>, Api<Service>) = match &namespace {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client, ns),
        ),
        None => (Api::all(client.clone()), Api::all(client)),
    };
    let mut controller = Controller::new(deployments, watcher::Config::default())
        .owns(services, watcher::Config::default());
    controller = periodic::woken_by_snapshots(controller, &operator, namespace.as_deref());
    controller
        .run(
            |object, operator| counted(object, operator, reconcile),
            error_policy,
            operator,
        )
        .for_each(|result| async {
            if let Err(error) = result {
                tracing::debug!(%error, "simulated FlinkDeployment controller step failed");
            }
        })
        .await;
}

fn error_policy(
    deployment: Arc<FlinkDeployment>,
    error: &SimulationError,
    operator: Arc<Operator>,
) -> Action {
    let message = format!(
        "FlinkDeployment {}/{}: {error}",
        deployment.namespace().unwrap_or_default(),
        deployment.name_any()
    );
    let object = reference(deployment.as_ref());
    tokio::spawn(async move { operator.reporter.report(Some(&object), &message).await });
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile(
    deployment: Arc<FlinkDeployment>,
    operator: Arc<Operator>,
) -> Result<Action, SimulationError> {
    let namespace = deployment.namespace().unwrap_or_default();
    let api: Api<FlinkDeployment> = Api::namespaced(operator.client.clone(), &namespace);
    finalizer(&api, OPERATOR_FINALIZER, deployment, |event| async {
        match event {
            Event::Apply(deployment) => apply(&operator, &api, &deployment).await,
            Event::Cleanup(deployment) => tear_down(&operator, &deployment).await,
        }
    })
    .await
    .map_err(|error| SimulationError::Finalizer(Box::new(error)))
}

async fn apply(
    operator: &Operator,
    api: &Api<FlinkDeployment>,
    deployment: &FlinkDeployment,
) -> Result<Action, kube::Error> {
    let spec = serde_json::to_value(&deployment.spec).map_err(kube::Error::SerdeError)?;
    let current = deployment.status.clone().unwrap_or_default();
    let step = step(
        &Seen {
            name: &deployment.name_any(),
            generation: deployment.metadata.generation.unwrap_or_default(),
            spec: &spec,
            fail: deployment
                .annotations()
                .get(FAIL_ANNOTATION)
                .map(String::as_str),
            finish: deployment.annotations().contains_key(FINISH_ANNOTATION),
            job_manager: match &operator.native {
                Some(native) if !has_job(&spec) => {
                    Some(observe_job_manager(operator, native, deployment).await)
                }
                _ => None,
            },
        },
        &current,
        &operator.config,
    );
    let mut step = step;
    let object = reference(deployment);
    for (kind, reason, message) in &step.events {
        if let Err(error) =
            record(&operator.client, &object, kind, reason, message, "Operator").await
        {
            operator
                .reporter
                .report(
                    Some(&object),
                    &format!(
                        "{} could not record its {reason} Event: {error}",
                        operator.identity
                    ),
                )
                .await;
        }
    }
    if let Some(location) = step.upgrade_savepoint.take() {
        let configuration = effective_configuration(&operator.config, &spec);
        if snapshot_resources(operator, &configuration) {
            match create_savepoint_resource(
                operator,
                deployment,
                Some(&location),
                "UPGRADE",
                &configuration,
            )
            .await
            {
                // Recorded as a FlinkStateSnapshot, not in the deprecated
                // savepointInfo as well (`setUpgradeSavepointPath`).
                Ok(()) => {
                    if let Some(job) = step.status.job_status.as_mut() {
                        job.savepoint_info = current
                            .job_status
                            .as_ref()
                            .and_then(|j| j.savepoint_info.clone());
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "no FlinkStateSnapshot for the upgrade savepoint");
                }
            }
        }
    }
    let mut deploy_failed = false;
    if let Some(deployed) = &step.deploy {
        match &operator.native {
            Some(native) if !has_job(deployed) => {
                let configuration = effective_configuration(&operator.config, deployed);
                let (namespace, account) = &operator.service_account;
                if let Err(message) = native
                    .deploy_session(
                        deployment,
                        deployed,
                        &configuration,
                        &operator.config.log_files,
                        (namespace, account),
                    )
                    .await
                {
                    // As the operator's retry sees it: the attempt stays
                    // UPGRADING (`updateStatusBeforeDeploymentAttempt`), so the
                    // next reconcile deploys again, and the error stays until
                    // a deploy succeeds.
                    step.status.error = Some(reconciliation_error(&message));
                    step.status.job_manager_deployment_status = Some(Jm::Error);
                    if let Some(reconciliation) = step.status.reconciliation_status.as_mut() {
                        reconciliation.state = Some(ReconciliationState::Upgrading);
                    }
                    deploy_failed = true;
                }
            }
            _ => create_cluster_objects(operator, deployment, deployed).await?,
        }
    }
    // An application's periodic savepoints and its history's retention, once
    // deployed (`triggerSnapshotIfNeeded`, `SnapshotObserver`), as a session
    // job's; checked again when the next one is due, at the latest.
    let periodic_due = match &step.status.reconciliation_status {
        Some(r) if has_job(&spec) && r.last_reconciled_spec.is_some() => {
            let configuration = effective_configuration(&operator.config, &spec);
            let running = step
                .status
                .job_status
                .as_ref()
                .and_then(|j| j.state.as_deref())
                == Some("RUNNING");
            periodic::step(operator, deployment, &configuration, running).await
        }
        _ => None,
    };
    let requeue = |after: Duration| {
        Action::requeue(
            periodic_due.map_or(after, |due| after.min(due.max(Duration::from_secs(1)))),
        )
    };
    if step.status == current {
        return Ok(if step.events.is_empty() {
            requeue(Duration::from_secs(60))
        } else {
            requeue(Duration::from_secs(15))
        });
    }
    api.patch_status(
        &deployment.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&status_change(&current, &step.status)),
    )
    .await?;
    Ok(requeue(if deploy_failed { DEPLOY_RETRY } else { STEP }))
}

/// Time before a failed deploy is tried again.
const DEPLOY_RETRY: Duration = Duration::from_secs(10);

fn effective_configuration(config: &OperatorConfig, spec: &Value) -> BTreeMap<String, String> {
    let version = spec
        .get("flinkVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut configuration = config.cluster_defaults(version);
    configuration.extend(flat_configuration(spec));
    configuration
}

fn has_job(spec: &Value) -> bool {
    spec.get("job").is_some_and(|job| !job.is_null())
}

fn first_deployment_flag(text: Option<&str>) -> bool {
    text.and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| {
            v.pointer("/resource_metadata/firstDeployment")
                .and_then(Value::as_bool)
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests;
