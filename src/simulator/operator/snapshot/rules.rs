//! The snapshot controller's rules as pure functions: validation, failure
//! and backoff, the error JSON, the labels (sources in [`super`]).

use std::collections::BTreeMap;
use std::time::Duration;

use kube::ResourceExt;
use serde_json::json;

use super::{JOB_KIND_LABEL, JOB_NAME_LABEL, STATE_LABEL, TRIGGER_TYPE_LABEL, TYPE_LABEL};
use crate::crd::{FlinkStateSnapshot, FlinkStateSnapshotStatus, SnapshotState};

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
pub(super) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A Flink duration (`15 s`, `1 min`, `500 ms`; a bare number is ms), as
/// the catalog reads the job form's.
pub(super) fn parse_duration(text: &str) -> Option<Duration> {
    crate::catalog::jobs::schedule::parse_flink_duration(text)
}
