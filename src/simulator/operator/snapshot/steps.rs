//! One snapshot's observation and trigger (`StateSnapshotObserver`,
//! `StateSnapshotReconciler`; sources in [`super`]).

use kube::ResourceExt;

use super::super::flink_rest::SavepointProgress;
use super::super::validator::savepoint_dir;
use super::{Step, Target, now_text};
use crate::crd::{FlinkStateSnapshot, JobKind, SnapshotState};

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
pub(super) async fn observe(
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
            // Named after the trigger (Flink's own suffix is random): a
            // second observation of the same trigger, e.g. from a watch event
            // that still shows it in progress, completes it at the same path.
            let suffix: String = trigger
                .chars()
                .filter(char::is_ascii_hexdigit)
                .chain(std::iter::repeat('0'))
                .take(12)
                .collect();
            format!(
                "{}/savepoint-{}-{suffix}",
                directory.trim_end_matches('/'),
                &job_id[..6.min(job_id.len())],
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
pub(super) async fn trigger(
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
