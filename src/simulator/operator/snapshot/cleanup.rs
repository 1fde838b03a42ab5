//! What the snapshot controller's finalizer does with a deleted
//! FlinkStateSnapshot (flink-kubernetes-operator release-1.15.0,
//! `reconciler/snapshot/StateSnapshotReconciler.java` `cleanup`,
//! `getFlinkDeployment`, `handleSnapshotCleanup`;
//! `controller/FlinkStateSnapshotController.java` `cleanup`;
//! `service/AbstractFlinkService.java` `disposeSavepoint`):
//! - a checkpoint, a savepoint without `disposeOnDelete` (the API's default
//!   is `true`), or one without a job reference goes at once;
//! - an `IN_PROGRESS` savepoint is held, looked at again after the
//!   reconcile interval;
//! - a `COMPLETED` one is disposed of through its job's cluster — held with
//!   a Warning `CleanupFailed` Event (component `Snapshot`) while the job is
//!   missing ("Cannot dispose of snapshot because referenced Flink job
//!   cannot be found!") or not `RUNNING` ("… is not running!"); without a
//!   `status.path` it goes without disposal; disposal is `POST
//!   /savepoint-disposal` (`SavepointDisposalTriggerHeaders`), and the
//!   finalizer goes once Flink accepted the request (the operator does not
//!   wait for the disposal itself); when Flink's REST API fails, it is held
//!   (logged, no Event) and tried again after the reconcile interval;
//! - `FAILED`, `TRIGGER_PENDING`, `ABANDONED` go without disposal.

use kube::ResourceExt;

use super::{SNAPSHOT_FINALIZER, Target};
use crate::crd::{FlinkStateSnapshot, SnapshotState};

/// The finalizer's decision for a snapshot being deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// Remove the finalizer (JOSDK `DeleteControl.defaultDelete`).
    Release,
    /// Dispose of the savepoint at this path, then remove the finalizer.
    Dispose(String),
    /// Keep the finalizer and look again after the reconcile interval
    /// (`noFinalizerRemoval().rescheduleAfter`), with the message of the
    /// Warning `CleanupFailed` Event to record, if any.
    Hold(Option<String>),
}

/// Whether `snapshot` is being deleted and still carries the operator's
/// finalizer.
pub fn being_deleted(snapshot: &FlinkStateSnapshot) -> bool {
    snapshot.metadata.deletion_timestamp.is_some()
        && snapshot
            .finalizers()
            .iter()
            .any(|f| f == SNAPSHOT_FINALIZER)
}

/// `StateSnapshotReconciler.cleanup` for `snapshot`, whose job is
/// `job_running` (`None`: its resource was not found).
pub fn cleanup(snapshot: &FlinkStateSnapshot, job_running: Option<bool>) -> Cleanup {
    let spec = &snapshot.spec;
    let Some(savepoint) = &spec.savepoint else {
        return Cleanup::Release;
    };
    if !savepoint.dispose_on_delete.unwrap_or(true) {
        return Cleanup::Release;
    }
    if spec
        .job_reference
        .as_ref()
        .and_then(|r| r.name.as_ref())
        .is_none()
    {
        return Cleanup::Release;
    }
    let status = snapshot.status.clone().unwrap_or_default();
    match status.state.unwrap_or(SnapshotState::TriggerPending) {
        SnapshotState::InProgress => Cleanup::Hold(None),
        SnapshotState::Completed => match job_running {
            None => Cleanup::Hold(Some(
                "Cannot dispose of snapshot because referenced Flink job cannot be found!".into(),
            )),
            Some(false) => Cleanup::Hold(Some(
                "Cannot dispose of snapshot because referenced Flink job is not running!".into(),
            )),
            Some(true) => match status.path {
                Some(path) => Cleanup::Dispose(path),
                None => Cleanup::Release,
            },
        },
        SnapshotState::Failed | SnapshotState::TriggerPending | SnapshotState::Abandoned => {
            Cleanup::Release
        }
    }
}

/// Carries out a [`Cleanup::Dispose`] against `target`'s cluster: the
/// decision that follows it.
pub(super) async fn dispose(path: &str, target: Option<&Target>) -> Cleanup {
    let Some(target) = target else {
        return Cleanup::Hold(None);
    };
    if !target.real {
        // A simulated cluster has no Flink to ask and wrote no files:
        // everything the operator does but the REST call.
        return Cleanup::Release;
    }
    let Some(rest) = &target.rest else {
        tracing::info!(path, "savepoint not disposed: the JobManager is not ready");
        return Cleanup::Hold(None);
    };
    match rest.dispose_savepoint(path).await {
        Ok(_) => Cleanup::Release,
        Err(error) => {
            tracing::info!(path, %error, "savepoint disposal failed");
            Cleanup::Hold(None)
        }
    }
}
