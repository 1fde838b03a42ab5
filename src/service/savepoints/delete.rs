//! Deleting one savepoint of a job (a session job's, or an application's):
//! the FlinkStateSnapshot and, through the operator, its files.
//!
//! What the operator does on deletion (flink-kubernetes-operator
//! release-1.15.0, `reconciler/snapshot/StateSnapshotReconciler.java`
//! `cleanup`, `controller/FlinkStateSnapshotController.java` `cleanup`): its
//! finalizer `flinkstatesnapshots.flink.apache.org/finalizer` holds the
//! object until it disposed of a **completed** savepoint with
//! `disposeOnDelete` (`POST /savepoint-disposal` to the job's cluster). It
//! cannot while the referenced job is missing or not `RUNNING` (Warning
//! Event `CleanupFailed`, retried each reconcile interval) or while Flink's
//! REST API does not answer, and it waits for one `IN_PROGRESS`. Pending,
//! failed and abandoned savepoints go without disposal; checkpoints are
//! never disposed of.
//!
//! So the portal refuses what would only hang: a savepoint still pending or
//! in progress, and a completed one while its job does not run. A checkpoint
//! is refused too: Flink retains and removes its own checkpoints.
//!
//! The snapshot controller's cleanup is the same whether the snapshot's
//! `jobReference` is a FlinkSessionJob or a FlinkDeployment
//! (`StateSnapshotReconciler.cleanup` finds the job's cluster through
//! `getFlinkDeployment` either way), so are the refusals.
//!
//! A savepoint the job's `initialSavepointPath` points at is deleted only
//! when the caller says so ([`START_POINT_FIELD`]): the job has restored from
//! it already and runs on its own checkpoints, but starting it from that
//! savepoint again (a redeploy, a new job copied from it) would fail. The
//! list marks such a savepoint and the confirmation asks for the tick; the
//! portal does not clear `initialSavepointPath` itself (the job's spec is the
//! user's). An application's start savepoint is its install's or last
//! redeploy's `initialSavepointPath`.

use uuid::Uuid;

use super::super::audit::Audited;
use super::SnapshotView;
use crate::catalog::jobs::session_job_object_name;
use crate::crd::JobStatus;
use crate::service::{Service, ServiceError};
use crate::store::Instance;

/// Whose savepoints: a session job of the instance (a session cluster), or
/// the instance's own job (an application).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SavepointsOf {
    /// Job `name` of a session cluster.
    SessionJob(String),
    /// An application's job.
    Application,
}

/// The form field a refused deletion is shown next to (the Delete button).
pub const DELETE_FIELD: &str = "delete";

/// The checkbox (and JSON/query flag) that agrees to delete the job's start
/// savepoint.
pub const START_POINT_FIELD: &str = "deleteStartSavepoint";

/// Why `snapshot` of job `job` may not be deleted now, if it may not.
/// `job_running`: the job's `status.jobStatus.state` is `RUNNING`;
/// `start_point_agreed`: the caller agreed to delete the job's start
/// savepoint. Errors are [`ServiceError::Conflict`] (409) for the
/// snapshot's state and [`ServiceError::Invalid`] ([`START_POINT_FIELD`],
/// 400) for the missing agreement.
pub fn delete_refusal(
    snapshot: &SnapshotView,
    job: &str,
    job_running: bool,
    start_point_agreed: bool,
) -> Option<ServiceError> {
    let name = &snapshot.name;
    if snapshot.kind != "savepoint" {
        return Some(ServiceError::Conflict(format!(
            "{name} is a checkpoint: Flink retains and removes its checkpoints itself, and the \
             operator never disposes of one. Only savepoints are deleted here"
        )));
    }
    match snapshot.state {
        "pending" | "in progress" => {
            return Some(ServiceError::Conflict(format!(
                "{name} is still {}: delete it once it has completed or failed",
                snapshot.state
            )));
        }
        "deleting" => {
            return Some(ServiceError::Conflict(format!(
                "{name} is being deleted already: the operator lets it go once it has \
                 disposed of its files"
            )));
        }
        "completed" if !job_running => {
            return Some(ServiceError::Conflict(format!(
                "{job} is not running: the operator disposes of a savepoint's files through its \
                 job's running cluster and holds the deletion until it can. Resume {job}, then \
                 delete {name}"
            )));
        }
        _ => {}
    }
    if snapshot.start_point && !start_point_agreed {
        return Some(ServiceError::invalid(
            START_POINT_FIELD,
            format!(
                "{job} started from this savepoint (its initialSavepointPath points here). It \
                 keeps running on its own checkpoints, but starting it from this savepoint \
                 again will fail once the files are gone: tick the box to delete it anyway"
            ),
        ));
    }
    None
}

impl Service {
    /// Savepoint `snapshot` of `of` (a job of session cluster `id`, or
    /// application `id`'s job) as its deletion would find it, and why it may
    /// not be deleted now (a conflict of its state; the start-savepoint
    /// agreement aside), for the confirmation page.
    pub async fn savepoint_to_delete(
        &self,
        id: Uuid,
        of: &SavepointsOf,
        snapshot: &str,
    ) -> Result<(SnapshotView, Option<String>), ServiceError> {
        let facts = self.deletion_facts(id, of, snapshot).await?;
        let refusal = match delete_refusal(&facts.view, &facts.job, facts.running, true) {
            Some(ServiceError::Conflict(why)) => Some(why),
            _ => None,
        };
        Ok((facts.view, refusal))
    }

    /// Deletes savepoint `snapshot` of `of` (a job of session cluster `id`,
    /// or application `id`'s job): `disposeOnDelete` set, then the
    /// FlinkStateSnapshot deleted, so that the operator disposes of a
    /// completed savepoint's files before it lets the object go. Refused as
    /// [`delete_refusal`] says; unknown snapshots are
    /// [`ServiceError::SnapshotNotFound`]. Returns the snapshot as it was
    /// listed. Audited as "delete savepoint".
    pub async fn delete_savepoint(
        &self,
        id: Uuid,
        of: &SavepointsOf,
        snapshot: &str,
        start_point_agreed: bool,
        actor: &str,
    ) -> Result<SnapshotView, ServiceError> {
        let result = async {
            let facts = self.deletion_facts(id, of, snapshot).await?;
            let refusal =
                delete_refusal(&facts.view, &facts.job, facts.running, start_point_agreed);
            if let Some(refusal) = refusal {
                return Err(refusal);
            }
            let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
            cluster
                .delete_savepoint(&facts.instance.namespace, snapshot)
                .await?;
            Ok(facts.view)
        }
        .await;
        let detail = match &result {
            Ok(view) => match &view.path {
                Some(path) => format!("{snapshot} ({} savepoint) at {path}", view.state),
                None => format!("{snapshot} ({} savepoint)", view.state),
            },
            Err(_) => snapshot.to_owned(),
        };
        match of {
            SavepointsOf::SessionJob(name) => {
                self.audit_job(actor, "delete savepoint", id, name, detail, result)
                    .await
            }
            SavepointsOf::Application => {
                let target = match self.store.instance(id).await {
                    Ok(instance) => instance.target(),
                    Err(_) => id.to_string(),
                };
                let entry = Audited::new("delete savepoint", target)
                    .instance(Some(id))
                    .detail(detail);
                self.audited(actor, entry, result).await
            }
        }
    }

    /// What a deletion of `snapshot` of `of` goes by.
    async fn deletion_facts(
        &self,
        id: Uuid,
        of: &SavepointsOf,
        snapshot: &str,
    ) -> Result<DeletionFacts, ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let (instance, job, views, status) = match of {
            SavepointsOf::SessionJob(name) => {
                let session = self.session(id).await?;
                let views = self.job_snapshots(id, name).await?;
                let object = session_job_object_name(&session.name, name);
                let status = cluster
                    .flink_session_job(&session.namespace, &object)
                    .await?
                    .and_then(|j| j.status)
                    .and_then(|s| s.job_status);
                (session, name.clone(), views, status)
            }
            SavepointsOf::Application => {
                let application = self.application(id).await?;
                let views = self.application_snapshots(id).await?;
                let status = cluster
                    .flink_deployment(&application.namespace, &application.name)
                    .await?
                    .and_then(|d| d.status)
                    .and_then(|s| s.job_status);
                let job = application.name.clone();
                (application, job, views, status)
            }
        };
        let view = views
            .into_iter()
            .find(|s| s.name == snapshot)
            .ok_or_else(|| ServiceError::SnapshotNotFound(snapshot.to_owned()))?;
        Ok(DeletionFacts {
            instance,
            job,
            view,
            running: job_running(status.as_ref()),
        })
    }
}

/// What a deletion goes by.
struct DeletionFacts {
    /// The session cluster, or the application.
    instance: Instance,
    /// The job's name, for messages.
    job: String,
    /// The snapshot as listed (start point and size filled in).
    view: SnapshotView,
    /// Whether its job runs now.
    running: bool,
}

/// Whether a job whose status is `status` runs (`ReconciliationUtils.isJobRunning`:
/// `jobStatus.state` is `RUNNING`), as the operator's cleanup asks.
fn job_running(status: Option<&JobStatus>) -> bool {
    status.and_then(|j| j.state.as_deref()) == Some("RUNNING")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn savepoint(state: &'static str, start_point: bool) -> SnapshotView {
        SnapshotView {
            name: "a-etl-savepoint-manual-1".into(),
            kind: "savepoint",
            trigger: "manual".into(),
            state,
            path: Some("s3://f/sp/savepoint-1".into()),
            error: None,
            time: None,
            finished: None,
            size: None,
            start_point,
        }
    }

    fn message(error: Option<ServiceError>) -> (u16, String) {
        match error {
            Some(ServiceError::Conflict(m)) => (409, m),
            Some(ServiceError::Invalid(fields)) => (400, fields[START_POINT_FIELD].clone()),
            Some(other) => (0, other.to_string()),
            None => (200, String::new()),
        }
    }

    #[test]
    fn savepoints_in_flight_or_of_a_stopped_job_are_refused() {
        for state in ["pending", "in progress"] {
            let (code, why) = message(delete_refusal(&savepoint(state, false), "etl", true, false));
            assert_eq!(code, 409);
            assert!(why.contains(&format!("is still {state}")), "{why}");
        }
        let (code, why) = message(delete_refusal(
            &savepoint("completed", false),
            "etl",
            false,
            false,
        ));
        assert_eq!(code, 409);
        assert!(why.starts_with("etl is not running"), "{why}");
        // Without files to dispose of, the job's state does not matter.
        for state in ["failed", "abandoned"] {
            assert_eq!(
                message(delete_refusal(
                    &savepoint(state, false),
                    "etl",
                    false,
                    false
                ))
                .0,
                200
            );
        }
        assert_eq!(
            message(delete_refusal(
                &savepoint("deleting", false),
                "etl",
                true,
                true
            ))
            .0,
            409
        );
        let mut checkpoint = savepoint("completed", false);
        checkpoint.kind = "checkpoint";
        assert_eq!(
            message(delete_refusal(&checkpoint, "etl", true, true)).0,
            409
        );
    }

    #[test]
    fn the_jobs_start_savepoint_needs_the_tick() {
        let start = savepoint("completed", true);
        let (code, why) = message(delete_refusal(&start, "etl", true, false));
        assert_eq!(code, 400);
        assert!(why.contains("initialSavepointPath"), "{why}");
        assert_eq!(message(delete_refusal(&start, "etl", true, true)).0, 200);
        assert!(start.deletable() && !savepoint("in progress", false).deletable());
    }
}
