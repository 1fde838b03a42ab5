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
//! would choose (`<dir>/savepoint-<first 6 of the job id>-<12 hex>`); no file
//! is written there. Not imitated: checkpoints (`spec.checkpoint` fails with a
//! message saying so), disposal on delete (the finalizer is released without
//! disposing of the files).

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
use super::flink_rest::{SavepointProgress, SessionRest};
use super::instance::Operator;
use super::validator::{flat_configuration, savepoint_dir};
use crate::crd::{
    FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot, FlinkStateSnapshotStatus, JobKind,
    JobManagerDeploymentStatus, SnapshotState,
};
use crate::simulator::SimulationError;
use crate::simulator::jobs::status_change;

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
        .run(reconcile, error_policy, operator)
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
    finalizer(&api, SNAPSHOT_FINALIZER, snapshot, |event| async {
        match event {
            Event::Apply(snapshot) => step(&operator, &api, &snapshot).await,
            // `StateSnapshotReconciler.cleanup` would dispose of a completed
            // savepoint with `disposeOnDelete`; the stand-in keeps the files.
            Event::Cleanup(_) => Ok(Action::await_change()),
        }
    })
    .await
    .map_err(|error| SimulationError::Finalizer(Box::new(error)))
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
    /// The REST API of a session that runs for real.
    rest: Option<SessionRest>,
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
    }))
}

/// `DefaultValidator.validateStateSnapshot`: the message of the first rule
/// `spec` breaks, if any.
pub fn validate(
    snapshot: &FlinkStateSnapshot,
    target_found: bool,
    state: SnapshotState,
) -> Option<String> {
    let spec = &snapshot.spec;
    if spec.savepoint.is_some() == spec.checkpoint.is_some() {
        return Some("Exactly one of checkpoint or savepoint configurations has to be set.".into());
    }
    if spec
        .savepoint
        .as_ref()
        .is_some_and(|s| s.already_exists == Some(true))
    {
        return None;
    }
    let Some(reference) = &spec.job_reference else {
        return Some("Job reference must be supplied for this snapshot".into());
    };
    if !target_found && state == SnapshotState::TriggerPending {
        return Some(format!(
            "Target for snapshot {}/{} was not found",
            snapshot.namespace().unwrap_or_default(),
            reference.name.clone().unwrap_or_default()
        ));
    }
    None
}

/// A failure as the controller's `updateErrorStatus` records it: `FAILED`,
/// one more failure, the error JSON; with the time to retry after when
/// `failures` ≤ `backoff_limit` (then the state goes back to `TRIGGER_PENDING`).
pub fn failed(
    status: &mut FlinkStateSnapshotStatus,
    error: String,
    backoff_limit: i32,
    now: &str,
) -> Option<Duration> {
    let failures = status.failures.unwrap_or(0) + 1;
    status.state = Some(SnapshotState::Failed);
    status.failures = Some(failures);
    status.result_timestamp = Some(now.to_owned());
    status.error = Some(error);
    if failures > backoff_limit {
        return None;
    }
    status.state = Some(SnapshotState::TriggerPending);
    let exponent = u32::try_from(failures - 1).unwrap_or(0).min(16);
    Some(Duration::from_secs(10 * (1u64 << exponent)))
}

/// How long a snapshot set back to `TRIGGER_PENDING` after a failure
/// still waits before its retry (10 s · 2^(failures−1) after `resultTimestamp`).
pub fn backoff_left(
    status: &FlinkStateSnapshotStatus,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Duration> {
    let failures = status.failures.filter(|f| *f > 0)?;
    if status.state != Some(SnapshotState::TriggerPending) {
        return None;
    }
    let failed_at =
        chrono::DateTime::parse_from_rfc3339(status.result_timestamp.as_deref()?).ok()?;
    let exponent = u32::try_from(failures - 1).unwrap_or(0).min(16);
    let due = failed_at + chrono::Duration::seconds(10 * (1i64 << exponent));
    (due > now).then(|| (due.with_timezone(&chrono::Utc) - now).to_std().ok())?
}

/// The `error` JSON of a `ReconciliationException`, with the exception it
/// wraps (`cause`: its Java type) as the operator's `FlinkResourceException`
/// writes it (`FlinkResourceExceptionUtils`).
pub fn snapshot_error(cause: Option<&str>, message: &str) -> String {
    let reconciliation = "org.apache.flink.kubernetes.operator.exception.ReconciliationException";
    match cause {
        Some(cause) => json!({
            "type": reconciliation,
            "message": format!("{cause}: {message}"),
            "additionalMetadata": {},
            "throwableList": [{"type": cause, "message": message, "additionalMetadata": {}}],
        }),
        None => json!({
            "type": reconciliation,
            "message": message,
            "additionalMetadata": {},
            "throwableList": [],
        }),
    }
    .to_string()
}

/// The labels the controller keeps on a snapshot (`getSnapshotLabels`).
pub fn snapshot_labels(
    snapshot: &FlinkStateSnapshot,
    state: SnapshotState,
    target: Option<(&str, &str)>,
) -> BTreeMap<String, String> {
    let mut labels = snapshot.labels().clone();
    let kind = if snapshot.spec.savepoint.is_some() {
        "SAVEPOINT"
    } else {
        "CHECKPOINT"
    };
    labels.insert(TYPE_LABEL.into(), kind.into());
    labels
        .entry(TRIGGER_TYPE_LABEL.into())
        .or_insert_with(|| "MANUAL".into());
    labels.insert(STATE_LABEL.into(), state_name(state).into());
    if let Some((kind, name)) = target {
        labels.insert(JOB_KIND_LABEL.into(), kind.into());
        labels.insert(JOB_NAME_LABEL.into(), name.into());
    }
    labels
}

fn state_name(state: SnapshotState) -> &'static str {
    match state {
        SnapshotState::Completed => "COMPLETED",
        SnapshotState::Failed => "FAILED",
        SnapshotState::InProgress => "IN_PROGRESS",
        SnapshotState::TriggerPending => "TRIGGER_PENDING",
        SnapshotState::Abandoned => "ABANDONED",
    }
}

/// Now as `DateTimeUtils.kubernetes` writes it (ISO instant, UTC).
fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A Flink duration (`15 s`, `1 min`, `500 ms`; a bare number is ms).
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => {
            return Some(Duration::from_millis(number));
        }
        "s" | "sec" | "secs" | "second" | "seconds" => number,
        "m" | "min" | "minute" | "minutes" => number * 60,
        "h" | "hour" | "hours" => number * 3600,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
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
    snapshot: &FlinkStateSnapshot,
) -> Result<Action, kube::Error> {
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
    let interval = operator
        .config
        .values
        .get("kubernetes.operator.reconcile.interval")
        .and_then(|text| parse_duration(text))
        .unwrap_or(DEFAULT_RECONCILE_INTERVAL);
    Ok(match (step.retry_after, next_state) {
        (Some(after), _) => Action::requeue(after),
        (None, SnapshotState::Completed | SnapshotState::Abandoned) => Action::await_change(),
        (None, SnapshotState::Failed) => Action::await_change(),
        (None, _) => Action::requeue(interval),
    })
}

/// An error to record: the wrapped exception's Java type, if any, and its message.
type Failure = (Option<&'static str>, String);

/// `abandonSnapshotIfJobNotRunning`: true (and the status abandoned) when
/// the target is gone or its job does not run.
fn abandoned(snapshot: &FlinkStateSnapshot, target: Option<&Target>, step: &mut Step) -> bool {
    let reference = snapshot
        .spec
        .job_reference
        .as_ref()
        .map(|r| {
            format!(
                "JobReference(kind={}, name={})",
                r.kind.map_or("null", |k| match k {
                    JobKind::FlinkDeployment => "FlinkDeployment",
                    JobKind::FlinkSessionJob => "FlinkSessionJob",
                }),
                r.name.as_deref().unwrap_or("null")
            )
        })
        .unwrap_or_else(|| "null".into());
    let message = match target {
        None => format!(
            "Secondary resource {reference} for savepoint {} was not found",
            snapshot.name_any()
        ),
        Some(target) if !target.running => format!(
            "Secondary resource {reference} for savepoint {} is not running",
            snapshot.name_any()
        ),
        Some(_) => return false,
    };
    step.next.state = Some(SnapshotState::Abandoned);
    step.next.path = None;
    step.next.error = Some(message.clone());
    step.next.result_timestamp = Some(now_text());
    step.events
        .push(("Warning", "SnapshotAbandoned", message, "Snapshot"));
    true
}

/// `StateSnapshotObserver.observe`: an in-progress savepoint's outcome.
async fn observe(
    snapshot: &FlinkStateSnapshot,
    target: Option<&Target>,
    step: &mut Step,
) -> Result<(), Failure> {
    if step.next.state != Some(SnapshotState::InProgress) {
        return Ok(());
    }
    let Some(trigger) = step.next.trigger_id.clone().filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    if abandoned(snapshot, target, step) {
        return Ok(());
    }
    let Some(target) = target else {
        return Ok(());
    };
    let job_id = target.job_id.clone().unwrap_or_default();
    let location = match &target.rest {
        Some(rest) => match rest.savepoint_progress(&job_id, &trigger).await {
            Ok(SavepointProgress::InProgress) => return Ok(()),
            Ok(SavepointProgress::Completed(location)) => location,
            Ok(SavepointProgress::Failed(cause)) | Err(cause) => return Err((None, cause)),
        },
        None => {
            // Simulated: complete where Flink would have written it.
            let directory = snapshot
                .spec
                .savepoint
                .as_ref()
                .and_then(|s| s.path.clone())
                .or_else(|| savepoint_dir(&target.configuration).map(str::to_owned))
                .unwrap_or_default();
            format!(
                "{}/savepoint-{}-{:012x}",
                directory.trim_end_matches('/'),
                &job_id[..6.min(job_id.len())],
                rand::random::<u64>() & 0xffff_ffff_ffff
            )
        }
    };
    // `snapshotSuccessful`.
    step.next.state = Some(SnapshotState::Completed);
    step.next.path = Some(location);
    step.next.error = None;
    step.next.result_timestamp = Some(now_text());
    Ok(())
}

/// `StateSnapshotReconciler.reconcile`: a pending snapshot is triggered.
async fn trigger(
    snapshot: &FlinkStateSnapshot,
    target: Option<&Target>,
    step: &mut Step,
) -> Result<(), Failure> {
    if step.next.state != Some(SnapshotState::TriggerPending) {
        return Ok(());
    }
    if let Some(savepoint) = &snapshot.spec.savepoint
        && savepoint.already_exists == Some(true)
    {
        let now = now_text();
        step.next.state = Some(SnapshotState::Completed);
        step.next.path = savepoint.path.clone();
        step.next.error = None;
        step.next.result_timestamp = Some(now.clone());
        step.next.trigger_timestamp = Some(now);
        return Ok(());
    }
    if abandoned(snapshot, target, step) {
        return Ok(());
    }
    let Some(target) = target else {
        return Ok(());
    };
    let job_id = target.job_id.clone().unwrap_or_default();
    let Some(savepoint) = &snapshot.spec.savepoint else {
        return Err((
            Some("java.lang.IllegalArgumentException"),
            "The local cluster's stand-in operator does not take checkpoints as \
             FlinkStateSnapshots (operator 1.15 does, on Flink 1.17 and later)"
                .into(),
        ));
    };
    let directory = savepoint
        .path
        .clone()
        .or_else(|| savepoint_dir(&target.configuration).map(str::to_owned))
        .ok_or_else(|| {
            (
                Some("java.lang.IllegalArgumentException"),
                "Either the savepoint path in the spec or configuration \
                 execution.checkpointing.savepoint-dir in the Flink resource has to be supplied"
                    .to_owned(),
            )
        })?;
    let format = match savepoint.format_type {
        Some(crate::crd::SavepointFormatType::Native) => "NATIVE",
        _ => "CANONICAL",
    };
    let trigger_id = match &target.rest {
        Some(rest) => rest
            .trigger_savepoint(&job_id, &directory, format)
            .await
            .map_err(|e| {
                (
                    Some("org.apache.flink.runtime.rest.util.RestClientException"),
                    e,
                )
            })?,
        None => uuid::Uuid::new_v4().simple().to_string(),
    };
    // `snapshotInProgress`.
    step.next.state = Some(SnapshotState::InProgress);
    step.next.trigger_id = Some(trigger_id);
    step.next.trigger_timestamp = Some(now_text());
    Ok(())
}

#[cfg(test)]
mod tests;
