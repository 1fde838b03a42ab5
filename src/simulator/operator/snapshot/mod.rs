//! The stand-in's FlinkStateSnapshot controller: a savepoint asked for as a
//! resource is triggered, followed and recorded as operator 1.15 does it
//! (flink-kubernetes-operator release-1.15.0,
//! `controller/FlinkStateSnapshotController.java`,
//! `observer/snapshot/StateSnapshotObserver.java`,
//! `reconciler/snapshot/StateSnapshotReconciler.java`,
//! `utils/FlinkStateSnapshotUtils.java`, `validation/DefaultValidator.java`
//! `validateStateSnapshot`, `reconciler/ReconciliationUtils.java`
//! `updateForReconciliationError`):
//! - **observe** an `IN_PROGRESS` savepoint: its job gone or not `RUNNING`
//!   abandons it (`ABANDONED`, Warning `SnapshotAbandoned`); else
//!   `GET /jobs/:id/savepoints/:triggerId` completes it (`COMPLETED`, `path`,
//!   `resultTimestamp`) or fails it;
//! - **validate**: exactly one of savepoint or checkpoint, a job reference
//!   unless the savepoint `alreadyExists`, a target that exists while the
//!   snapshot is `TRIGGER_PENDING` (else Warning `ValidationError`, nothing
//!   changes);
//! - **reconcile** a `TRIGGER_PENDING` one: `alreadyExists` completes it at
//!   once; a job that does not run abandons it; else the savepoint is
//!   triggered into `spec.savepoint.path` or the cluster's
//!   `execution.checkpointing.savepoint-dir` (neither: `IllegalArgumentException`
//!   "Either the savepoint path in the spec or configuration … has to be
//!   supplied") with `POST /jobs/:id/savepoints`: `IN_PROGRESS`, `triggerId`,
//!   `triggerTimestamp`;
//! - **an error** makes it `FAILED`, `failures` + 1, `resultTimestamp`, the
//!   `error` JSON and a Warning `SavepointError` Event; it is retried
//!   (back to `TRIGGER_PENDING` after 10 s · 2^(failures−1)) only while
//!   `failures` ≤ `spec.backoffLimit` (default −1: never, as the controller's
//!   `failures > backoffLimit` test reads);
//! - the labels `snapshot.type`, `snapshot.trigger-type` (default `MANUAL`),
//!   `snapshot.state`, `job-reference.kind`, `job-reference.name`
//!   (`getSnapshotLabels`).
//!
//! On a session that runs for real the savepoint is Flink's own. On a
//! simulated session or an application cluster (no Flink process) the trigger
//! id is made up and the next observation completes it at the path Flink
//! would choose (`<dir>/savepoint-<first 6 of the job id>-<12 hex>`, the hex
//! taken from the made-up trigger id so that it is the same each time); no file
//! is written there. On delete the finalizer follows the operator's
//! `cleanup` ([`cleanup`]): on a session that runs for real Flink disposes
//! of the savepoint's files; on a simulated one only the REST call is left
//! out. Not imitated: checkpoints (`spec.checkpoint` fails with a message
//! saying so).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::watcher;
use serde_json::{Value, json};

use super::events::{record, reference};
use super::flink_rest::SessionRest;
use super::instance::Operator;
use super::metrics::counted;
use super::validator::flat_configuration;
use crate::crd::{
    FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot, FlinkStateSnapshotStatus, JobKind,
    JobManagerDeploymentStatus, SnapshotState,
};
use crate::simulator::SimulationError;
use crate::simulator::jobs::status_change;

mod cleanup;
mod rules;
mod steps;

pub use cleanup::{Cleanup, being_deleted, cleanup};

pub use rules::{backoff_left, failed, snapshot_error, snapshot_labels, validate};
use rules::{now_text, parse_duration};
use steps::{observe, trigger};

/// The operator's finalizer on FlinkStateSnapshots (JOSDK's `<plural>.<group>/finalizer`).
pub const SNAPSHOT_FINALIZER: &str = "flinkstatesnapshots.flink.apache.org/finalizer";

/// Label with the snapshot's kind, `SAVEPOINT` or `CHECKPOINT` (`CrdConstants.LABEL_SNAPSHOT_TYPE`).
pub const TYPE_LABEL: &str = "snapshot.type";
/// Label with what asked for it: `MANUAL`, `PERIODIC`, `UPGRADE`
/// (`CrdConstants.LABEL_SNAPSHOT_TRIGGER_TYPE`).
pub const TRIGGER_TYPE_LABEL: &str = "snapshot.trigger-type";
/// Label with its state (`CrdConstants.LABEL_SNAPSHOT_STATE`).
pub const STATE_LABEL: &str = "snapshot.state";
/// Label with the kind of its job's resource (`CrdConstants.LABEL_SNAPSHOT_JOB_REFERENCE_KIND`).
pub const JOB_KIND_LABEL: &str = "job-reference.kind";
/// Label with the name of its job's resource (`CrdConstants.LABEL_SNAPSHOT_JOB_REFERENCE_NAME`).
pub const JOB_NAME_LABEL: &str = "job-reference.name";

/// The operator's reconcile interval when its configuration gives none
/// (`kubernetes.operator.reconcile.interval`, 60 s; the chart sets 15 s).
const DEFAULT_RECONCILE_INTERVAL: Duration = Duration::from_secs(60);

/// Reconciles the FlinkStateSnapshots of `namespace` (all when `None`).
pub(super) async fn run(operator: Arc<Operator>, namespace: Option<String>) {
    let client = operator.client.clone();
    let snapshots: Api<FlinkStateSnapshot> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    Controller::new(snapshots, watcher::Config::default())
        .run(
            |object, operator| counted(object, operator, reconcile),
            error_policy,
            operator,
        )
        .for_each(|result| async {
            if let Err(error) = result {
                tracing::debug!(%error, "simulated FlinkStateSnapshot controller step failed");
            }
        })
        .await;
}

fn error_policy(
    snapshot: Arc<FlinkStateSnapshot>,
    error: &SimulationError,
    operator: Arc<Operator>,
) -> Action {
    let message = format!(
        "FlinkStateSnapshot {}/{}: {error}",
        snapshot.namespace().unwrap_or_default(),
        snapshot.name_any()
    );
    let object = reference(snapshot.as_ref());
    tokio::spawn(async move { operator.reporter.report(Some(&object), &message).await });
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile(
    snapshot: Arc<FlinkStateSnapshot>,
    operator: Arc<Operator>,
) -> Result<Action, SimulationError> {
    let namespace = snapshot.namespace().unwrap_or_default();
    let api: Api<FlinkStateSnapshot> = Api::namespaced(operator.client.clone(), &namespace);
    if being_deleted(&snapshot)
        && let Some(action) = hold(&operator, &snapshot).await?
    {
        return Ok(action);
    }
    finalizer(&api, SNAPSHOT_FINALIZER, snapshot, |event| async {
        match event {
            Event::Apply(snapshot) => step(&operator, &api, &snapshot).await,
            // `hold` let it go: the finalizer is removed.
            Event::Cleanup(_) => Ok(Action::await_change()),
        }
    })
    .await
    .map_err(|error| SimulationError::Finalizer(Box::new(error)))
}

/// The finalizer's cleanup of a snapshot being deleted: the action to
/// return while it holds the snapshot, `None` once it lets it go.
async fn hold(
    operator: &Operator,
    snapshot: &FlinkStateSnapshot,
) -> Result<Option<Action>, SimulationError> {
    let target = target(operator, snapshot)
        .await
        .map_err(SimulationError::from)?;
    let mut decision = cleanup(snapshot, target.as_ref().map(|t| t.running));
    if let Cleanup::Dispose(path) = &decision {
        decision = cleanup::dispose(path, target.as_ref()).await;
    }
    match decision {
        Cleanup::Release | Cleanup::Dispose(_) => Ok(None),
        Cleanup::Hold(message) => {
            if let Some(message) = message {
                let object = reference(snapshot);
                let recorded = record(
                    &operator.client,
                    &object,
                    "Warning",
                    "CleanupFailed",
                    &message,
                    "Snapshot",
                )
                .await;
                if let Err(error) = recorded {
                    tracing::debug!(%error, "CleanupFailed Event not recorded");
                }
            }
            Ok(Some(Action::requeue(reconcile_interval(operator))))
        }
    }
}

/// The operator's `kubernetes.operator.reconcile.interval`.
fn reconcile_interval(operator: &Operator) -> Duration {
    operator
        .config
        .values
        .get("kubernetes.operator.reconcile.interval")
        .and_then(|text| parse_duration(text))
        .unwrap_or(DEFAULT_RECONCILE_INTERVAL)
}

/// The job a snapshot is of, as the controller finds it.
struct Target {
    /// Its resource's kind and name, for the labels.
    kind: &'static str,
    name: String,
    /// `status.jobStatus.jobId`.
    job_id: Option<String>,
    /// `status.jobStatus.state == RUNNING` (`ReconciliationUtils.isJobRunning`).
    running: bool,
    /// The observe configuration of its cluster's FlinkDeployment.
    configuration: BTreeMap<String, String>,
    /// The REST API of a session that runs for real, while its JobManager
    /// is ready.
    rest: Option<SessionRest>,
    /// Whether its cluster runs for real (a session with a Flink process),
    /// so that Flink's REST API is what answers.
    real: bool,
}

async fn target(
    operator: &Operator,
    snapshot: &FlinkStateSnapshot,
) -> Result<Option<Target>, kube::Error> {
    let namespace = snapshot.namespace().unwrap_or_default();
    let Some(reference) = snapshot.spec.job_reference.as_ref() else {
        return Ok(None);
    };
    let (Some(kind), Some(name)) = (reference.kind, reference.name.clone()) else {
        return Ok(None);
    };
    let deployments: Api<FlinkDeployment> = Api::namespaced(operator.client.clone(), &namespace);
    let (kind_name, job_status, deployment) = match kind {
        JobKind::FlinkSessionJob => {
            let jobs: Api<FlinkSessionJob> = Api::namespaced(operator.client.clone(), &namespace);
            let Some(job) = jobs.get_opt(&name).await? else {
                return Ok(None);
            };
            let status = job.status.and_then(|s| s.job_status);
            let deployment = deployments.get_opt(&job.spec.deployment_name).await?;
            ("FlinkSessionJob", status, deployment)
        }
        JobKind::FlinkDeployment => {
            let Some(deployment) = deployments.get_opt(&name).await? else {
                return Ok(None);
            };
            let status = deployment.status.clone().and_then(|s| s.job_status);
            ("FlinkDeployment", status, Some(deployment))
        }
    };
    let mut configuration = BTreeMap::new();
    let mut rest = None;
    let mut real = false;
    if let Some(deployment) = &deployment {
        let spec = serde_json::to_value(&deployment.spec).map_err(kube::Error::SerdeError)?;
        let version = spec
            .get("flinkVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        configuration = operator.config.cluster_defaults(version);
        configuration.extend(flat_configuration(&spec));
        let ready = deployment
            .status
            .as_ref()
            .and_then(|s| s.job_manager_deployment_status.as_ref())
            == Some(&JobManagerDeploymentStatus::Ready);
        // Only sessions run for real (application clusters are simulated).
        let session = deployment.spec.job.is_none();
        real = operator.native.is_some() && session;
        if let (Some(native), true, true) = (&operator.native, ready, session) {
            rest = native.session_rest(&deployment.name_any(), &namespace, &configuration);
        }
    }
    Ok(Some(Target {
        kind: kind_name,
        name,
        running: job_status.as_ref().and_then(|j| j.state.as_deref()) == Some("RUNNING"),
        job_id: job_status.and_then(|j| j.job_id),
        configuration,
        rest,
        real,
    }))
}

/// What one step did besides the status: Events to record.
struct Step {
    next: FlinkStateSnapshotStatus,
    events: Vec<(&'static str, &'static str, String, &'static str)>,
    retry_after: Option<Duration>,
}

async fn step(
    operator: &Operator,
    api: &Api<FlinkStateSnapshot>,
    cached: &FlinkStateSnapshot,
) -> Result<Action, kube::Error> {
    // The controller's cache can lag behind this step's own last writes (it
    // sees the labels patch before the status patch that followed): a stale
    // TRIGGER_PENDING would trigger a second savepoint for one snapshot, and
    // complete it at another path. Each step starts from the object as it is.
    let Some(snapshot) = api.get_opt(&cached.name_any()).await? else {
        return Ok(Action::await_change());
    };
    let snapshot = &snapshot;
    let current = snapshot.status.clone();
    let mut step = Step {
        next: current.clone().unwrap_or_default(),
        events: Vec::new(),
        retry_after: None,
    };
    let state = |s: &FlinkStateSnapshotStatus| s.state.unwrap_or(SnapshotState::TriggerPending);
    step.next.state = Some(state(&step.next));
    step.next.failures = Some(step.next.failures.unwrap_or(0));
    if let Some(wait) = backoff_left(&step.next, chrono::Utc::now()) {
        // A retry waits its turn; a watch event of its own status change
        // does not hurry it (JOSDK does not reconcile on status changes).
        return Ok(Action::requeue(wait));
    }
    let target = target(operator, snapshot).await?;
    let outcome = async {
        observe(snapshot, target.as_ref(), &mut step).await?;
        let refusal = validate(snapshot, target.is_some(), state(&step.next));
        if let Some(message) = refusal {
            step.events
                .push(("Warning", "ValidationError", message, "Operator"));
            return Ok(());
        }
        trigger(snapshot, target.as_ref(), &mut step).await
    }
    .await;
    if let Err((cause, message)) = outcome {
        let error = snapshot_error(cause, &message);
        let limit = snapshot.spec.backoff_limit.unwrap_or(-1);
        step.retry_after = failed(&mut step.next, error.clone(), limit, &now_text());
        let reason = if snapshot.spec.savepoint.is_some() {
            "SavepointError"
        } else {
            "CheckpointError"
        };
        step.events.push(("Warning", reason, error, "Snapshot"));
    }
    let object = reference(snapshot);
    for (kind, reason, message, component) in &step.events {
        if let Err(error) =
            record(&operator.client, &object, kind, reason, message, component).await
        {
            tracing::debug!(%error, reason, "snapshot Event not recorded");
        }
    }
    let next_state = state(&step.next);
    let labels = snapshot_labels(
        snapshot,
        next_state,
        target.as_ref().map(|t| (t.kind, t.name.as_str())),
    );
    let name = snapshot.name_any();
    if &labels != snapshot.labels() {
        api.patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": labels}})),
        )
        .await?;
    }
    if current.as_ref() != Some(&step.next) {
        api.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(&status_change(&current.unwrap_or_default(), &step.next)),
        )
        .await?;
    }
    let interval = reconcile_interval(operator);
    Ok(match (step.retry_after, next_state) {
        (Some(after), _) => Action::requeue(after),
        (None, SnapshotState::Completed | SnapshotState::Abandoned) => Action::await_change(),
        (None, SnapshotState::Failed) => Action::await_change(),
        (None, _) => Action::requeue(interval),
    })
}

#[cfg(test)]
mod tests;
