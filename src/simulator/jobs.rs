//! The simulated Flink jobs: the job states an application cluster or a
//! session job goes through (CREATED → RUNNING, SUSPENDED, FINISHED, FAILED)
//! and the savepoints the operator takes on suspend and on upgrade.
//!
//! The walk is pure; the simulated operator ([`super::operator`]) drives it.

use serde_json::{Value, json};

use crate::crd::{
    JobSpec, JobState, JobStatus, ResourceLifecycleState as Lifecycle, Savepoint,
    SavepointFormatType, SavepointInfo, SnapshotTriggerType, UpgradeMode,
};

/// What the job's world looks like at one step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JobWorld<'a> {
    /// The job as asked for.
    pub spec: &'a JobSpec,
    /// The spec changed since the last step (`metadata.generation` moved on).
    pub upgrading: bool,
    /// The cluster's savepoint directory, if it has one.
    pub savepoint_dir: Option<&'a str>,
    /// The failure message of [`super::FAIL_ANNOTATION`], if set.
    pub fail: Option<&'a str>,
    /// Whether [`super::FINISH_ANNOTATION`] is set: the job ends by itself.
    pub finish: bool,
    /// Now, in epoch milliseconds.
    pub now_ms: i64,
}

/// One step of a job: its next status and lifecycle, or the error the
/// operator would report (with [`super::FAIL_ANNOTATION`]: the job failed).
pub(crate) fn next_job(
    current: &JobStatus,
    world: JobWorld,
) -> Result<(JobStatus, Lifecycle), String> {
    let mut next = current.clone();
    if next.job_id.is_none() {
        next.job_id = Some(uuid::Uuid::new_v4().simple().to_string());
    }
    next.update_time = Some(world.now_ms.to_string());
    if let Some(message) = world.fail {
        return Err(message.to_owned());
    }
    let state = current.state.as_deref();
    let desired = world.spec.state.unwrap_or(JobState::Running);
    let step = match (desired, state) {
        (JobState::Suspended, Some("SUSPENDED" | "FINISHED" | "FAILED")) => {
            (next.state.clone(), Lifecycle::Suspended)
        }
        (JobState::Suspended, _) => {
            next = with_savepoint(next, world, SnapshotTriggerType::Manual)?;
            (Some("SUSPENDED".into()), Lifecycle::Suspended)
        }
        (JobState::Running, Some("RUNNING")) if world.upgrading => {
            next = with_savepoint(next, world, SnapshotTriggerType::Upgrade)?;
            (Some("RECONCILING".into()), Lifecycle::Upgrading)
        }
        (JobState::Running, Some("RUNNING")) if world.finish => {
            (Some("FINISHED".into()), Lifecycle::Stable)
        }
        (JobState::Running, Some("RUNNING" | "FINISHED")) => {
            (next.state.clone(), Lifecycle::Stable)
        }
        (JobState::Running, Some("CREATED" | "RECONCILING")) => {
            (Some("RUNNING".into()), Lifecycle::Deployed)
        }
        (JobState::Running, _) => {
            next.start_time = Some(world.now_ms.to_string());
            (Some("CREATED".into()), Lifecycle::Deployed)
        }
    };
    next.state = step.0;
    Ok((next, step.1))
}

/// The job with the savepoint its upgrade mode takes: a new one for
/// `savepoint` (an error without a savepoint directory), the latest
/// checkpoint's for `last-state`, none for `stateless`.
fn with_savepoint(
    mut job: JobStatus,
    world: JobWorld,
    trigger: SnapshotTriggerType,
) -> Result<JobStatus, String> {
    match world.spec.upgrade_mode.unwrap_or(UpgradeMode::Stateless) {
        UpgradeMode::Stateless => return Ok(job),
        UpgradeMode::LastState => {
            if let Some(dir) = world.savepoint_dir {
                let checkpoints = dir.replace("/savepoints", "/checkpoints");
                let id = job.job_id.clone().unwrap_or_default();
                job.upgrade_savepoint_path =
                    Some(format!("{checkpoints}/{id}/chk-{}", world.now_ms % 1000));
            }
            return Ok(job);
        }
        UpgradeMode::Savepoint => {}
    }
    let dir = world.savepoint_dir.ok_or_else(|| {
        "Savepoint directory is not configured: set execution.checkpointing.savepoint-dir \
         (high availability with checkpoint storage)"
            .to_owned()
    })?;
    let id = job.job_id.clone().unwrap_or_default();
    let location = format!(
        "{dir}/savepoint-{}-{:012x}",
        &id[..6.min(id.len())],
        rand::random::<u64>() & 0xffff_ffff_ffff
    );
    job.upgrade_savepoint_path = Some(location.clone());
    job.savepoint_info = Some(SavepointInfo {
        last_savepoint: Some(Savepoint {
            time_stamp: Some(world.now_ms),
            location: Some(location),
            trigger_type: Some(trigger),
            format_type: Some(SavepointFormatType::Canonical),
            trigger_nonce: None,
        }),
        ..Default::default()
    });
    Ok(job)
}

/// Now, in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The merge patch (RFC 7386) turning status `current` into `next`: what
/// changed, and null for each field `next` no longer has, so that a cleared
/// `jobId` or `error` is cleared in the API server too (the operator
/// replaces its status whole).
pub(crate) fn status_change<S: serde::Serialize>(current: &S, next: &S) -> Value {
    let current = serde_json::to_value(current).unwrap_or_default();
    let next = serde_json::to_value(next).unwrap_or_default();
    json!({ "status": merge_diff(&current, &next) })
}

fn merge_diff(old: &Value, new: &Value) -> Value {
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            let mut patch = serde_json::Map::new();
            for (key, value) in new {
                match old.get(key) {
                    Some(before) if before == value => {}
                    Some(before) => {
                        patch.insert(key.clone(), merge_diff(before, value));
                    }
                    None => {
                        patch.insert(key.clone(), value.clone());
                    }
                }
            }
            for key in old.keys().filter(|k| !new.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            Value::Object(patch)
        }
        _ => new.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(spec: &JobSpec) -> JobWorld<'_> {
        JobWorld {
            spec,
            upgrading: false,
            savepoint_dir: Some("s3://flink/data/analytics/savepoints"),
            fail: None,
            finish: false,
            now_ms: 1_700_000_000_000,
        }
    }

    fn spec(state: JobState, mode: UpgradeMode) -> JobSpec {
        JobSpec {
            state: Some(state),
            upgrade_mode: Some(mode),
            ..JobSpec::default()
        }
    }

    fn states(mut status: JobStatus, world: JobWorld, steps: usize) -> (JobStatus, Vec<String>) {
        let mut seen = Vec::new();
        for _ in 0..steps {
            let (next, lifecycle) = next_job(&status, world).unwrap();
            seen.push(format!("{} {lifecycle:?}", next.state.clone().unwrap()));
            status = next;
        }
        (status, seen)
    }

    #[test]
    fn a_status_change_clears_what_is_gone() {
        let before = json!({"jobStatus": {"jobId": "a", "state": "RUNNING"}, "error": "x"});
        let after = json!({"jobStatus": {"state": "FINISHED"}});
        assert_eq!(
            status_change(&before, &after),
            json!({"status": {"jobStatus": {"jobId": null, "state": "FINISHED"}, "error": null}})
        );
    }

    #[test]
    fn a_job_is_created_then_runs() {
        let running = spec(JobState::Running, UpgradeMode::Stateless);
        let (status, seen) = states(JobStatus::default(), world(&running), 3);
        assert_eq!(
            seen,
            ["CREATED Deployed", "RUNNING Deployed", "RUNNING Stable"]
        );
        assert_eq!(status.job_id.unwrap().len(), 32, "a Flink job id");
    }

    #[test]
    fn suspending_a_savepoint_job_takes_a_savepoint_and_resuming_runs_again() {
        let running = spec(JobState::Running, UpgradeMode::Savepoint);
        let (status, _) = states(JobStatus::default(), world(&running), 2);
        let suspended = spec(JobState::Suspended, UpgradeMode::Savepoint);
        let (status, seen) = states(status, world(&suspended), 2);
        assert_eq!(seen, ["SUSPENDED Suspended", "SUSPENDED Suspended"]);
        let path = status.upgrade_savepoint_path.clone().unwrap();
        assert!(
            path.starts_with("s3://flink/data/analytics/savepoints/savepoint-"),
            "{path}"
        );
        assert_eq!(
            status
                .savepoint_info
                .as_ref()
                .unwrap()
                .last_savepoint
                .as_ref()
                .unwrap()
                .location,
            Some(path.clone())
        );
        assert_eq!(
            status
                .savepoint_info
                .as_ref()
                .unwrap()
                .last_savepoint
                .as_ref()
                .unwrap()
                .trigger_type,
            Some(SnapshotTriggerType::Manual)
        );

        let (status, seen) = states(status, world(&running), 2);
        assert_eq!(seen, ["CREATED Deployed", "RUNNING Deployed"]);
        assert_eq!(
            status.upgrade_savepoint_path.unwrap(),
            path,
            "resumed from it"
        );
    }

    #[test]
    fn an_upgrade_goes_through_a_savepoint() {
        let running = spec(JobState::Running, UpgradeMode::Savepoint);
        let (status, _) = states(JobStatus::default(), world(&running), 2);
        let upgrade = JobWorld {
            upgrading: true,
            ..world(&running)
        };
        let (status, lifecycle) = next_job(&status, upgrade).unwrap();
        assert_eq!(
            (status.state.as_deref(), lifecycle),
            (Some("RECONCILING"), Lifecycle::Upgrading)
        );
        assert_eq!(
            status
                .savepoint_info
                .unwrap()
                .last_savepoint
                .unwrap()
                .trigger_type,
            Some(SnapshotTriggerType::Upgrade)
        );
    }

    #[test]
    fn a_savepoint_without_a_directory_is_an_error_and_a_stateless_suspend_is_not() {
        let suspended = spec(JobState::Suspended, UpgradeMode::Savepoint);
        let nowhere = JobWorld {
            savepoint_dir: None,
            ..world(&suspended)
        };
        let running = JobStatus {
            state: Some("RUNNING".into()),
            ..JobStatus::default()
        };
        assert!(
            next_job(&running, nowhere)
                .unwrap_err()
                .contains("Savepoint directory")
        );

        let stateless = spec(JobState::Suspended, UpgradeMode::Stateless);
        let (status, _) = next_job(
            &running,
            JobWorld {
                savepoint_dir: None,
                ..world(&stateless)
            },
        )
        .unwrap();
        assert_eq!(status.state.as_deref(), Some("SUSPENDED"));
        assert!(status.upgrade_savepoint_path.is_none());
    }

    #[test]
    fn the_annotations_finish_or_fail_a_running_job() {
        let running_spec = spec(JobState::Running, UpgradeMode::Stateless);
        let running = JobStatus {
            state: Some("RUNNING".into()),
            ..JobStatus::default()
        };
        let finish = JobWorld {
            finish: true,
            ..world(&running_spec)
        };
        assert_eq!(
            next_job(&running, finish).unwrap().0.state.as_deref(),
            Some("FINISHED")
        );
        let fail = JobWorld {
            fail: Some("java.lang.OutOfMemoryError"),
            ..world(&running_spec)
        };
        assert_eq!(
            next_job(&running, fail).unwrap_err(),
            "java.lang.OutOfMemoryError"
        );
    }
}
