//! One reconcile of a FlinkDeployment as a pure function: from what it sees
//! (spec, status, the JobManager) to the next status, the Events to record
//! and the spec to deploy (`AbstractFlinkResourceReconciler.reconcile`,
//! `AbstractFlinkDeploymentObserver`, release-1.15.0).

use std::collections::BTreeMap;

use serde_json::Value;

use super::savepoints::{new_upgrade_savepoint, redeploy};
use super::{effective_configuration, first_deployment_flag, has_job};
use crate::crd::{
    FlinkDeploymentStatus, JobManagerDeploymentStatus as Jm, JobSpec, ReconciliationState,
    ResourceLifecycleState as Lifecycle, TaskManagerInfo,
};
use crate::simulator::jobs::{JobWorld, next_job, now_ms};
use crate::simulator::operator::config::OperatorConfig;
use crate::simulator::operator::session_job::savepoints::redeploy_requested;
use crate::simulator::operator::status::{
    LifecycleInputs, cluster_info, deployment_failed_error, first_deployment_spec, job_state,
    last_reconciled, lifecycle, reconciliation_error, running_condition, same_deployment,
    spec_with_meta, task_managers, validation_error, with_job_state,
};
use crate::simulator::operator::validator::{
    is_supported, savepoint_dir, unsupported_version_message, validate_deployment,
};

/// What one reconcile sees of a FlinkDeployment.
pub(super) struct Seen<'a> {
    pub name: &'a str,
    pub generation: i64,
    /// The spec as stored (JSON).
    pub spec: &'a Value,
    /// The simulator's failure annotation.
    pub fail: Option<&'a str>,
    /// The simulator's finish annotation.
    pub finish: bool,
    /// The JobManager as observed in the cluster, when Flink runs for real
    /// (`None`: the simulated walk).
    pub job_manager: Option<JobManagerSeen>,
}

/// What the observer sees of a real JobManager (`AbstractFlinkDeploymentObserver.observeJmDeployment`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum JobManagerSeen {
    /// No JobManager Deployment.
    Missing,
    /// Its Deployment is available and its REST port answers.
    PortReady,
    /// A container of a JobManager pod waits for a reason the operator
    /// counts as failure (`DeploymentFailedException.CONTAINER_ERROR_REASONS`);
    /// the message as `forContainerStatus` forms it.
    Failed(String),
    /// Anything else: being deployed.
    Deploying,
}

/// What one reconcile does.
pub(super) struct Step {
    pub status: FlinkDeploymentStatus,
    /// Events to record: type, reason, message.
    pub events: Vec<(&'static str, &'static str, String)>,
    /// The spec whose cluster objects are (re)created now.
    pub deploy: Option<Value>,
    /// Where the savepoint an upgrade or suspend took now is (to record as
    /// a FlinkStateSnapshot, [`super::savepoints`]).
    pub upgrade_savepoint: Option<String>,
}

/// One reconcile of a FlinkDeployment: pure, from what it sees to the next status.
pub(super) fn step(seen: &Seen, current: &FlinkDeploymentStatus, config: &OperatorConfig) -> Step {
    let mut next = current.clone();
    let mut events = Vec::new();
    if let Some(version) = seen.spec.get("flinkVersion").and_then(Value::as_str)
        && !is_supported(version)
    {
        events.push((
            "Warning",
            "UnsupportedFlinkVersion",
            unsupported_version_message(version),
        ));
        return Step {
            status: next,
            events,
            deploy: None,
            upgrade_savepoint: None,
        };
    }
    let recorded = last_reconciled(current.reconciliation_status.as_ref());
    let configuration = effective_configuration(config, seen.spec);
    let valid = validate_deployment(seen.name, seen.spec, recorded.as_ref(), &configuration);
    let state = current.reconciliation_status.as_ref().and_then(|r| r.state);
    let target = match (valid, &recorded) {
        (Ok(()), _) => {
            next.error = None;
            seen.spec.clone()
        }
        (Err(message), recorded) => {
            next.error = Some(validation_error(&message));
            events.push(("Warning", "ValidationError", message));
            match recorded {
                None => {
                    finish(&mut next, current, false, seen.fail);
                    return Step {
                        status: next,
                        events,
                        deploy: None,
                        upgrade_savepoint: None,
                    };
                }
                // The last valid spec keeps being reconciled.
                Some(last) if state == Some(ReconciliationState::Upgrading) => {
                    with_job_state(last, "running")
                }
                Some(last) => last.clone(),
            }
        }
    };
    let target_valid = next.error.is_none();
    let application = has_job(&target);
    let configuration = effective_configuration(config, &target);
    let desired = job_state(&target).to_owned();
    let job_spec: JobSpec = target
        .get("job")
        .and_then(|job| serde_json::from_value(job.clone()).ok())
        .unwrap_or_default();
    let world = |upgrading: bool| JobWorld {
        spec: &job_spec,
        upgrading,
        savepoint_dir: savepoint_dir(&configuration),
        fail: None,
        finish: seen.finish,
        now_ms: now_ms(),
    };
    let mut deploy = None;
    let reconciliation = next.reconciliation_status.get_or_insert_default();
    let recorded_text = reconciliation.last_reconciled_spec.clone();
    match &recorded {
        // A new savepointRedeployNonce: cancel and deploy from the savepoint.
        Some(last)
            if application
                && target_valid
                && state != Some(ReconciliationState::Upgrading)
                && redeploy_requested(&target, last) =>
        {
            let tms = task_managers(&target, &configuration);
            deploy = redeploy(seen.name, &mut next, &target, tms);
        }
        // The deploy attempt recorded before: submit now.
        Some(last)
            if state == Some(ReconciliationState::Upgrading)
                && same_deployment(&target, last)
                && desired == "running"
                && (!application || job_state(last) == "suspended") =>
        {
            reconciliation.state = Some(ReconciliationState::Deployed);
            reconciliation.last_reconciled_spec = Some(spec_with_meta(
                &with_job_state(last, &desired),
                first_deployment_flag(recorded_text.as_deref()),
            ));
            reconciliation.reconciliation_timestamp = Some(now_ms());
            next.job_manager_deployment_status = Some(Jm::Deploying);
            if application {
                let mut job = next.job_status.clone().unwrap_or_default();
                job.job_name.get_or_insert_with(|| seen.name.to_owned());
                job.job_id
                    .get_or_insert_with(|| uuid::Uuid::new_v4().simple().to_string());
                job.state = Some("RECONCILING".into());
                job.start_time = Some(now_ms().to_string());
                job.update_time = job.start_time.clone();
                next.job_status = Some(job);
                next.task_manager = Some(TaskManagerInfo {
                    label_selector: Some(format!("component=taskmanager,app={}", seen.name)),
                    replicas: Some(task_managers(&target, &configuration) as i32),
                });
            }
            deploy = Some(target.clone());
        }
        // Deployed as asked: observe (fields applied without a redeploy are recorded).
        Some(last) if same_deployment(&target, last) && job_state(last) == desired => {
            if with_job_state(&target, &desired) != *last && target_valid {
                reconciliation.last_reconciled_spec = Some(spec_with_meta(
                    &target,
                    first_deployment_flag(recorded_text.as_deref()),
                ));
            }
            reconciliation.state = Some(ReconciliationState::Deployed);
            observe(seen, &mut next, &target, &configuration, world(false));
        }
        // A running application asked to suspend: through a savepoint, then the cluster goes.
        Some(_) if application && desired == "suspended" => {
            match next_job(&next.job_status.clone().unwrap_or_default(), world(false)) {
                Ok((job, _)) => {
                    next.job_status = Some(job);
                    let reconciliation = next.reconciliation_status.get_or_insert_default();
                    reconciliation.state = Some(ReconciliationState::Deployed);
                    reconciliation.last_reconciled_spec = Some(spec_with_meta(&target, false));
                    reconciliation.reconciliation_timestamp = Some(now_ms());
                    next.job_manager_deployment_status = Some(Jm::Missing);
                    next.task_manager = Some(TaskManagerInfo {
                        label_selector: Some(String::new()),
                        replicas: Some(0),
                    });
                    next.observed_generation = Some(seen.generation);
                }
                Err(message) => next.error = Some(reconciliation_error(&message)),
            }
        }
        // New, changed or resumed: record the deploy attempt (UPGRADING) first.
        _ => {
            let first = recorded.is_none();
            let running =
                next.job_status.as_ref().and_then(|j| j.state.as_deref()) == Some("RUNNING");
            if application && !first && running {
                match next_job(&next.job_status.clone().unwrap_or_default(), world(true)) {
                    Ok((job, _)) => next.job_status = Some(job),
                    Err(message) => {
                        next.error = Some(reconciliation_error(&message));
                        finish(&mut next, current, application, seen.fail);
                        return Step {
                            status: next,
                            events,
                            deploy: None,
                            upgrade_savepoint: None,
                        };
                    }
                }
            }
            let mut recorded_spec = if first {
                first_deployment_spec(&target)
            } else {
                target.clone()
            };
            if application {
                recorded_spec = with_job_state(&recorded_spec, "suspended");
            }
            let reconciliation = next.reconciliation_status.get_or_insert_default();
            reconciliation.state = Some(ReconciliationState::Upgrading);
            reconciliation.last_reconciled_spec = Some(spec_with_meta(&recorded_spec, first));
            reconciliation.reconciliation_timestamp = Some(now_ms());
            next.job_manager_deployment_status =
                Some(if first { Jm::Missing } else { Jm::Deploying });
        }
    }
    // A rejected spec leaves the generation of the last valid one.
    if target_valid {
        next.observed_generation = Some(seen.generation);
    }
    finish(&mut next, current, application, seen.fail);
    let upgrade_savepoint =
        new_upgrade_savepoint(current.job_status.as_ref(), next.job_status.as_ref());
    Step {
        status: next,
        events,
        deploy,
        upgrade_savepoint,
    }
}

/// The observer's step: the JobManager's walk, then the job's, and the
/// stable spec once the cluster (or its job) runs.
fn observe(
    seen: &Seen,
    next: &mut FlinkDeploymentStatus,
    target: &Value,
    configuration: &BTreeMap<String, String>,
    world: JobWorld,
) {
    let application = has_job(target);
    if let Some(message) = seen.fail {
        next.job_manager_deployment_status = Some(Jm::Error);
        next.error = Some(reconciliation_error(message));
        if let Some(job) = next.job_status.as_mut() {
            job.state = Some("FAILED".into());
        }
        return;
    }
    if application && job_state(target) == "suspended" {
        next.job_manager_deployment_status = Some(Jm::Missing);
        return;
    }
    let was = next.job_manager_deployment_status;
    next.job_manager_deployment_status = Some(match (&seen.job_manager, was) {
        // The simulated walk.
        (None, None | Some(Jm::Missing | Jm::Error)) => Jm::Deploying,
        (None, Some(Jm::Deploying)) => Jm::DeployedNotReady,
        (None, Some(Jm::DeployedNotReady | Jm::Ready)) => Jm::Ready,
        // What a real JobManager shows.
        (Some(JobManagerSeen::PortReady), Some(Jm::DeployedNotReady | Jm::Ready)) => Jm::Ready,
        (Some(JobManagerSeen::PortReady), _) => Jm::DeployedNotReady,
        (Some(JobManagerSeen::Deploying), _) => Jm::Deploying,
        (Some(JobManagerSeen::Failed(message)), _) => {
            next.error = Some(deployment_failed_error(message));
            Jm::Error
        }
        (Some(JobManagerSeen::Missing), _) => {
            if !matches!(was, Some(Jm::Missing | Jm::Error)) {
                next.error = Some(reconciliation_error("Missing JobManager deployment"));
            }
            Jm::Missing
        }
    });
    if matches!(seen.job_manager, Some(JobManagerSeen::PortReady)) && was == Some(Jm::Error) {
        next.error = None;
    }
    if was != Some(Jm::Ready) {
        return;
    }
    let tms = if application {
        task_managers(target, configuration)
    } else {
        target
            .pointer("/taskManager/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    next.cluster_info = Some(cluster_info(target, configuration, tms));
    let stable = if application {
        match next_job(&next.job_status.clone().unwrap_or_default(), world) {
            Ok((job, _)) => {
                let runs = matches!(job.state.as_deref(), Some("RUNNING" | "FINISHED"));
                next.job_status = Some(job);
                runs
            }
            Err(message) => {
                next.error = Some(reconciliation_error(&message));
                false
            }
        }
    } else {
        true
    };
    if stable && let Some(reconciliation) = next.reconciliation_status.as_mut() {
        reconciliation.last_stable_spec = reconciliation.last_reconciled_spec.clone();
    }
}

/// The fields every reconcile sets last: the `Running` condition and the lifecycle.
fn finish(
    next: &mut FlinkDeploymentStatus,
    current: &FlinkDeploymentStatus,
    application: bool,
    fail: Option<&str>,
) {
    let has_spec = next
        .reconciliation_status
        .as_ref()
        .is_some_and(|r| r.last_reconciled_spec.is_some());
    if has_spec {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        next.conditions = Some(vec![running_condition(
            application,
            next.job_status.as_ref().and_then(|j| j.state.as_deref()),
            next.job_manager_deployment_status,
            current.conditions.as_deref(),
            &now,
        )]);
    } else {
        next.reconciliation_status = current.reconciliation_status.clone();
    }
    let derived = lifecycle(LifecycleInputs {
        reconciliation: next.reconciliation_status.as_ref(),
        error: next.error.as_deref(),
        job_state: next.job_status.as_ref().and_then(|j| j.state.as_deref()),
        job_manager: next.job_manager_deployment_status,
    });
    // The simulator's failure annotation stands for a deployment that failed.
    next.lifecycle_state = Some(if fail.is_some() {
        Lifecycle::Failed
    } else {
        derived
    });
}
