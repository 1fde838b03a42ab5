//! The stand-in's FlinkSessionJob controller: validate (with the operator's
//! jar rules and the session cluster), then walk the job and record what
//! was deployed (`FlinkSessionJobController`, `SessionJobReconciler` in
//! flink-kubernetes-operator release-1.15.0; docs/flink-operator-facts.md §3–§4).
//! On a session the process node runs for real, the job runs for real
//! through Flink's REST API instead of walking ([`real`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::watcher;
use serde_json::Value;

use super::events::{record, reference};
use super::instance::Operator;
use super::metrics::counted;
use super::periodic;
use super::status::{
    LifecycleInputs, first_deployment_spec, job_state, last_reconciled, lifecycle,
    reconciliation_error, same_deployment, spec_with_meta, validation_error,
};
use super::validator::{flat_configuration, savepoint_dir, validate_session_job};
use crate::crd::{
    FlinkDeployment, FlinkSessionJob, FlinkSessionJobStatus, JobManagerDeploymentStatus, JobSpec,
    ReconciliationState, ResourceLifecycleState as Lifecycle,
};
use crate::simulator::jobs::{JobWorld, next_job, now_ms, status_change};
use crate::simulator::{FAIL_ANNOTATION, FINISH_ANNOTATION, SimulationError};

mod real;
pub(super) mod savepoints;

/// The operator's finalizer on FlinkSessionJobs (JOSDK's `<plural>.<group>/finalizer`).
pub const SESSION_JOB_FINALIZER: &str = "flinksessionjobs.flink.apache.org/finalizer";

/// Time between two steps of a job's walk.
const STEP: Duration = Duration::from_millis(700);

/// Reconciles the FlinkSessionJobs of `namespace` (all when `None`).
pub(super) async fn run(operator: Arc<Operator>, namespace: Option<String>) {
    let client = operator.client.clone();
    let jobs: Api<FlinkSessionJob> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let mut controller = Controller::new(jobs, watcher::Config::default());
    controller = periodic::woken_by_snapshots(controller, &operator, namespace.as_deref());
    controller
        .run(
            |object, operator| counted(object, operator, reconcile),
            error_policy,
            operator,
        )
        .for_each(|result| async {
            if let Err(error) = result {
                tracing::debug!(%error, "simulated FlinkSessionJob controller step failed");
            }
        })
        .await;
}

fn error_policy(
    job: Arc<FlinkSessionJob>,
    error: &SimulationError,
    operator: Arc<Operator>,
) -> Action {
    let message = format!(
        "FlinkSessionJob {}/{}: {error}",
        job.namespace().unwrap_or_default(),
        job.name_any()
    );
    let object = reference(job.as_ref());
    tokio::spawn(async move { operator.reporter.report(Some(&object), &message).await });
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile(
    job: Arc<FlinkSessionJob>,
    operator: Arc<Operator>,
) -> Result<Action, SimulationError> {
    let namespace = job.namespace().unwrap_or_default();
    let api: Api<FlinkSessionJob> = Api::namespaced(operator.client.clone(), &namespace);
    let deployments: Api<FlinkDeployment> = Api::namespaced(operator.client.clone(), &namespace);
    finalizer(&api, SESSION_JOB_FINALIZER, job, |event| async {
        match event {
            Event::Apply(job) => step(&operator, &api, &deployments, &job).await,
            Event::Cleanup(job) => clean_up(&operator, &deployments, &job).await,
        }
    })
    .await
    .map_err(|error| SimulationError::Finalizer(Box::new(error)))
}

/// The addresses of a jar URI's host (none when it has no host or does not resolve).
async fn resolve_jar_host(spec: &Value) -> Option<Vec<IpAddr>> {
    let jar = spec.pointer("/job/jarURI").and_then(Value::as_str)?;
    let host = url::Url::parse(jar).ok()?.host_str()?.to_owned();
    let found = tokio::net::lookup_host((host.as_str(), 443)).await.ok()?;
    Some(found.map(|address| address.ip()).collect())
}

async fn step(
    operator: &Operator,
    api: &Api<FlinkSessionJob>,
    deployments: &Api<FlinkDeployment>,
    cached: &FlinkSessionJob,
) -> Result<Action, kube::Error> {
    // The controller's cache can lag behind the last step's own status
    // write: acting on a stale status would suspend or upgrade a job a
    // second time, with a savepoint at another path. Each step starts from
    // the object as it is.
    let Some(job) = api.get_opt(&cached.name_any()).await? else {
        return Ok(Action::await_change());
    };
    let job = &job;
    let spec = serde_json::to_value(&job.spec).map_err(kube::Error::SerdeError)?;
    let Session {
        deployment: session,
        spec: session_spec,
        configuration: session_configuration,
    } = session_of(operator, deployments, job).await?;
    let current = job.status.clone().unwrap_or_default();
    let recorded = last_reconciled(current.reconciliation_status.as_ref());
    let addresses = resolve_jar_host(&spec).await;
    let resolve = |_: &str| addresses.clone();
    let valid = validate_session_job(
        &spec,
        recorded.as_ref(),
        session_spec.as_ref().zip(session_configuration.as_ref()),
        &operator.config.jar_rules(),
        &resolve,
    );
    let mut next = current.clone();
    let target = match valid {
        Ok(()) => {
            next.error = None;
            spec.clone()
        }
        Err(message) => {
            next.error = Some(validation_error(&message));
            let object = reference(job);
            if let Err(error) = record(
                &operator.client,
                &object,
                "Warning",
                "ValidationError",
                &message,
                "Operator",
            )
            .await
            {
                operator
                    .reporter
                    .report(
                        Some(&object),
                        &format!(
                            "{} could not record its ValidationError Event: {error}",
                            operator.identity
                        ),
                    )
                    .await;
            }
            match &recorded {
                Some(last) => last.clone(),
                None => {
                    next.lifecycle_state = Some(derive(&next, job));
                    return patch(api, job, &current, &next).await.map(Action::requeue);
                }
            }
        }
    };
    let valid = next.error.is_none();
    let mut session_not_ready = false;
    match (&session, &session_configuration, &operator.native) {
        (Some(session), Some(configuration), Some(native)) => {
            // The session runs for real: its REST API runs the job.
            session_not_ready = session
                .status
                .as_ref()
                .and_then(|s| s.job_manager_deployment_status.as_ref())
                != Some(&JobManagerDeploymentStatus::Ready);
            if !session_not_ready {
                let mut configuration = configuration.clone();
                configuration.extend(flat_configuration(&target));
                let real = real::RealJob {
                    operator,
                    native,
                    job,
                    target: &target,
                    recorded: recorded.as_ref(),
                    configuration: &configuration,
                };
                if let Err(message) = real.step(&mut next).await {
                    next.error = Some(reconciliation_error(&message));
                }
            }
        }
        (Some(_), Some(configuration), None) => {
            let job_spec: JobSpec = target
                .get("job")
                .and_then(|j| serde_json::from_value(j.clone()).ok())
                .unwrap_or_default();
            let manual = recorded
                .as_ref()
                .and_then(|last| savepoints::manual_nonce(&target, last));
            let redeploy = recorded
                .as_ref()
                .is_some_and(|last| savepoints::redeploy_requested(&target, last));
            let changed = recorded.as_ref().is_some_and(|last| {
                !same_deployment(&target, last) || job_state(last) != job_state(&target)
            });
            let world = JobWorld {
                spec: &job_spec,
                upgrading: changed && job_state(&target) == "running",
                savepoint_dir: savepoint_dir(configuration),
                fail: job.annotations().get(FAIL_ANNOTATION).map(String::as_str),
                finish: job.annotations().contains_key(FINISH_ANNOTATION),
                now_ms: now_ms(),
            };
            match next_job(&current.job_status.clone().unwrap_or_default(), world) {
                Ok((mut job_status, walked)) => {
                    let first = recorded.is_none();
                    let mut spec_to_record = if first {
                        first_deployment_spec(&target)
                    } else {
                        target.clone()
                    };
                    if first || redeploy {
                        job_status.upgrade_savepoint_path = savepoints::initial_savepoint(&target);
                    }
                    if redeploy {
                        // Cancelled and submitted again from the path: the walk restarts.
                        job_status.state = Some("RECONCILING".into());
                    }
                    if let (Some(nonce), Some(last)) = (manual, &recorded) {
                        let running = job_status.state.as_deref() == Some("RUNNING");
                        let triggered = running
                            && savepoints::snapshot_resources(operator, configuration)
                            && savepoint_dir(configuration).is_some()
                            && savepoints::create_savepoint_resource(
                                operator,
                                job,
                                savepoint_dir(configuration),
                                "MANUAL",
                                configuration,
                            )
                            .await
                            .is_ok();
                        if !triggered {
                            // Not taken yet: the nonce stays unreconciled.
                            let kept = last
                                .pointer("/job/savepointTriggerNonce")
                                .and_then(Value::as_i64);
                            spec_to_record = savepoints::with_trigger_nonce(&spec_to_record, kept);
                        } else {
                            tracing::debug!(nonce, "manual savepoint asked for");
                        }
                    }
                    next.job_status = Some(job_status);
                    let reconciliation = next.reconciliation_status.get_or_insert_default();
                    if recorded.as_ref() != Some(&spec_to_record) {
                        reconciliation.last_reconciled_spec =
                            Some(spec_with_meta(&spec_to_record, first));
                        reconciliation.reconciliation_timestamp = Some(now_ms());
                    }
                    reconciliation.state = Some(if walked == Lifecycle::Upgrading {
                        ReconciliationState::Upgrading
                    } else {
                        ReconciliationState::Deployed
                    });
                    if walked == Lifecycle::Stable {
                        reconciliation.last_stable_spec =
                            reconciliation.last_reconciled_spec.clone();
                    }
                }
                Err(message) => {
                    next.error = Some(reconciliation_error(&message));
                    if world.fail.is_some()
                        && let Some(status) = next.job_status.as_mut()
                    {
                        status.state = Some("FAILED".into());
                    }
                }
            }
        }
        _ => {
            next.error = Some(reconciliation_error(&format!(
                "Session cluster {} not found",
                job.spec.deployment_name
            )));
        }
    }
    if valid {
        next.observed_generation = job.metadata.generation;
    }
    // Periodic savepoints and the history's retention, once deployed
    // (`triggerSnapshotIfNeeded`, `SnapshotObserver.cleanupSavepointHistory`).
    let mut periodic_due = None;
    if let (Some(configuration), Some(_), false) =
        (&session_configuration, &recorded, session_not_ready)
    {
        let mut configuration = configuration.clone();
        configuration.extend(flat_configuration(&target));
        let running = next.job_status.as_ref().and_then(|j| j.state.as_deref()) == Some("RUNNING");
        periodic_due = periodic::step(operator, job, &configuration, running).await;
    }
    next.lifecycle_state = Some(derive(&next, job));
    let after = patch(api, job, &current, &next).await?;
    Ok(if session_not_ready {
        // `readyToReconcile`: the job waits for its session's JobManager.
        Action::requeue(Duration::from_secs(5))
    } else {
        // Checked again when the next periodic savepoint is due, at the latest.
        let due = periodic_due.map_or(after, |d| d.max(Duration::from_secs(1)));
        Action::requeue(after.min(due))
    })
}

/// A session job's session cluster: its FlinkDeployment, spec and effective
/// configuration (the operator's defaults for its version, then its own).
struct Session {
    deployment: Option<FlinkDeployment>,
    spec: Option<Value>,
    configuration: Option<std::collections::BTreeMap<String, String>>,
}

async fn session_of(
    operator: &Operator,
    deployments: &Api<FlinkDeployment>,
    job: &FlinkSessionJob,
) -> Result<Session, kube::Error> {
    let deployment = deployments.get_opt(&job.spec.deployment_name).await?;
    let spec = deployment
        .as_ref()
        .map(|s| serde_json::to_value(&s.spec))
        .transpose()
        .map_err(kube::Error::SerdeError)?;
    let configuration = spec.as_ref().map(|s| {
        let version = s
            .get("flinkVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut configuration = operator.config.cluster_defaults(version);
        configuration.extend(flat_configuration(s));
        configuration
    });
    Ok(Session {
        deployment,
        spec,
        configuration,
    })
}

/// The deletion of a session job: with a real session, its running job is
/// cancelled first; the simulation has nothing to stop.
async fn clean_up(
    operator: &Operator,
    deployments: &Api<FlinkDeployment>,
    job: &FlinkSessionJob,
) -> Result<Action, kube::Error> {
    let Some(native) = &operator.native else {
        return Ok(Action::await_change());
    };
    let session = session_of(operator, deployments, job).await?;
    let Some(configuration) = session.configuration else {
        return Ok(Action::await_change());
    };
    let target = serde_json::to_value(&job.spec).map_err(kube::Error::SerdeError)?;
    let real = real::RealJob {
        operator,
        native,
        job,
        target: &target,
        recorded: None,
        configuration: &configuration,
    };
    if let Err(message) = real.cancel_for_deletion().await {
        tracing::info!(%message, "session job not cancelled before its deletion");
    }
    Ok(Action::await_change())
}

fn derive(status: &FlinkSessionJobStatus, job: &FlinkSessionJob) -> Lifecycle {
    if job.annotations().contains_key(FAIL_ANNOTATION) {
        return Lifecycle::Failed;
    }
    lifecycle(LifecycleInputs {
        reconciliation: status.reconciliation_status.as_ref(),
        error: status.error.as_deref(),
        job_state: status.job_status.as_ref().and_then(|j| j.state.as_deref()),
        job_manager: None,
    })
}

/// Writes the status when it changed; returns when to look again.
async fn patch(
    api: &Api<FlinkSessionJob>,
    job: &FlinkSessionJob,
    current: &FlinkSessionJobStatus,
    next: &FlinkSessionJobStatus,
) -> Result<Duration, kube::Error> {
    if next == current {
        return Ok(Duration::from_secs(30));
    }
    api.patch_status(
        &job.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&status_change(current, next)),
    )
    .await?;
    Ok(STEP)
}
