//! A session job's savepoints and checkpoints: the list on its page (read
//! live from its FlinkStateSnapshots), taking a savepoint, and starting the
//! job again from one.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::job_views::JobView;
use super::{Service, ServiceError};
use crate::catalog::jobs::savepoints::{
    INITIAL_SAVEPOINT, redeploy_fields, savepoint_path_refusal,
};
use crate::catalog::jobs::session_job_object_name;
use crate::crd::{FlinkStateSnapshot, JobKind, SnapshotState};
use crate::store::{Instance, JobWish};

mod application;
mod delete;
mod directory;
mod schedule;
mod size;

pub use application::APPLICATION_APP;
pub use delete::{DELETE_FIELD, START_POINT_FIELD, SavepointsOf, delete_refusal};
pub use directory::{DELETE_SAVEPOINTS_FIELD, SavepointStore};

use schedule::parse_time;
pub use schedule::{SavepointSchedule, readable_time, savepoint_schedule, time_ago};
pub use size::readable_size;

/// The form field a savepoint refusal is shown next to.
pub const SAVEPOINT_FIELD: &str = "savepoint";

/// The form field a refused start path is shown next to.
pub const START_FIELD: &str = INITIAL_SAVEPOINT;

/// One savepoint or checkpoint of a job, as its page lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SnapshotView {
    /// The FlinkStateSnapshot's name.
    pub name: String,
    /// `savepoint` or `checkpoint`.
    pub kind: &'static str,
    /// What asked for it: `manual`, `periodic`, `upgrade` (label
    /// `snapshot.trigger-type`), or `unknown`.
    pub trigger: String,
    /// `pending`, `in progress`, `completed`, `failed` or `abandoned`.
    pub state: &'static str,
    /// Where it is, once completed.
    pub path: Option<String>,
    /// Why it failed or was abandoned: the operator's message.
    pub error: Option<String>,
    /// When it was asked for (RFC 3339): the FlinkStateSnapshot's creation,
    /// else its trigger time.
    pub time: Option<String>,
    /// When it completed, failed or was abandoned (RFC 3339).
    pub finished: Option<String>,
    /// Its size in bytes, when the job's running cluster reports it (Flink's
    /// checkpoint history: the savepoints of the job's current run).
    pub size: Option<u64>,
    /// Whether the job's `initialSavepointPath` points at it: the job
    /// started (or starts) from it.
    pub start_point: bool,
}

impl SnapshotView {
    /// Whether a job can start from it: a completed savepoint with a path.
    pub fn restorable(&self) -> bool {
        self.state == "completed" && self.path.as_deref().is_some_and(|p| !p.is_empty())
    }

    /// Whether the list offers to delete it: a savepoint that is not
    /// pending, in progress or being deleted already (the service refuses
    /// the rest, see [`delete_refusal`]).
    pub fn deletable(&self) -> bool {
        self.kind == "savepoint" && matches!(self.state, "completed" | "failed" | "abandoned")
    }

    /// Its size as people read it (`3.4 KiB`), blank when not known.
    pub fn size_text(&self) -> String {
        self.size.map(readable_size).unwrap_or_default()
    }

    /// When it was asked for, as people read it: `2026-12-01 03:10:05 UTC`.
    pub fn time_text(&self) -> String {
        self.time.as_deref().map(readable_time).unwrap_or_default()
    }

    /// How long ago it was asked for: `45 s ago`, `3 min ago`, `2 h ago`, `4 d ago`.
    pub fn age_text(&self) -> String {
        self.time
            .as_deref()
            .and_then(parse_time)
            .map(|t| time_ago(t, chrono::Utc::now()))
            .unwrap_or_default()
    }
}

/// Whether two savepoint paths name the same place (a trailing `/` aside).
pub(super) fn same_path(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// Marks the savepoints of `views` that the `initialSavepointPath` of a
/// job's stored `params` (a session job's, an application's) points at.
fn mark_start_points(views: &mut [SnapshotView], params: &Value) {
    let start = params.get(INITIAL_SAVEPOINT).and_then(Value::as_str);
    for view in views {
        view.start_point = view
            .path
            .as_deref()
            .zip(start)
            .is_some_and(|(path, start)| same_path(path, start));
    }
}

/// The operator's error text in words: the `message` of its JSON when it is
/// one, else the text.
fn error_words(error: &str) -> String {
    serde_json::from_str::<Value>(error)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| error.to_owned())
}

/// A FlinkStateSnapshot as the job page shows it.
pub fn snapshot_view(snapshot: &FlinkStateSnapshot) -> SnapshotView {
    let status = snapshot.status.clone().unwrap_or_default();
    let deleting = snapshot.metadata.deletion_timestamp.is_some();
    let state = match status.state.unwrap_or(SnapshotState::TriggerPending) {
        _ if deleting => "deleting",
        SnapshotState::TriggerPending => "pending",
        SnapshotState::InProgress => "in progress",
        SnapshotState::Completed => "completed",
        SnapshotState::Failed => "failed",
        SnapshotState::Abandoned => "abandoned",
    };
    let trigger = snapshot
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("snapshot.trigger-type"))
        .map_or_else(|| "unknown".to_owned(), |t| t.to_ascii_lowercase());
    SnapshotView {
        name: snapshot.metadata.name.clone().unwrap_or_default(),
        kind: if snapshot.spec.checkpoint.is_some() {
            "checkpoint"
        } else {
            "savepoint"
        },
        trigger,
        state,
        path: status.path.filter(|p| !p.is_empty()),
        error: status.error.as_deref().map(error_words),
        time: snapshot
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string())
            .or(status.trigger_timestamp),
        finished: status.result_timestamp,
        size: None,
        start_point: false,
    }
}

impl Service {
    /// The periodic savepoints of job `name` of session cluster `id`, given
    /// its `snapshots` (newest first).
    pub async fn job_savepoint_schedule(
        &self,
        id: Uuid,
        name: &str,
        snapshots: &[SnapshotView],
    ) -> Result<SavepointSchedule, ServiceError> {
        let session = self.instance_record(id).await?;
        let job = self.stored_job(id, name).await?;
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let configuration = cluster
            .session_configuration(&session.namespace, &session.name)
            .await?;
        Ok(savepoint_schedule(
            &job.params,
            &configuration,
            snapshots,
            job.created_at,
            job.state == JobWish::Running,
        ))
    }

    /// The savepoints and checkpoints of job `name` of session cluster `id`,
    /// newest first, read live from the cluster.
    pub async fn job_snapshots(
        &self,
        id: Uuid,
        name: &str,
    ) -> Result<Vec<SnapshotView>, ServiceError> {
        let session = self.instance_record(id).await?;
        let job = self.stored_job(id, name).await?;
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let object = session_job_object_name(&session.name, name);
        let snapshots = cluster
            .job_snapshots(&session.namespace, JobKind::FlinkSessionJob, &object)
            .await?;
        let mut views: Vec<SnapshotView> = snapshots.iter().map(snapshot_view).collect();
        mark_start_points(&mut views, &job.params);
        self.fill_sizes(&session, &object, &mut views).await;
        Ok(views)
    }

    /// What instance `view`'s uninstall leaves (see
    /// [`super::views::InstanceView::flink_leftovers`]), with its savepoint
    /// directory read live: `None` for other apps. A directory that cannot
    /// be read (the cluster away, the FlinkDeployment gone) is left out.
    pub async fn uninstall_leftovers(
        &self,
        view: &super::views::InstanceView,
    ) -> Option<super::views::FlinkLeftovers> {
        let mut leftovers = view.flink_leftovers()?;
        // Where the uninstall can delete them, the store read the directory.
        match self.savepoint_store(&view.instance).await {
            Ok(store) => {
                leftovers.savepoint_dir = Some(store.dir);
                leftovers.deletable_on = Some(store.minio.name);
            }
            Err(_) => {
                leftovers.savepoint_dir = self.savepoint_dir(&view.instance).await.ok().flatten();
            }
        }
        Some(leftovers)
    }

    /// Where Flink cluster `session` (session or application) keeps savepoints, read live.
    async fn savepoint_dir(&self, session: &Instance) -> Result<Option<String>, ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        Ok(cluster
            .savepoint_dir(&session.namespace, &session.name)
            .await?)
    }

    /// Takes a savepoint of job `name` of session cluster `id`: a
    /// FlinkStateSnapshot owned by its FlinkSessionJob, which the operator
    /// triggers and follows. Refused (field [`SAVEPOINT_FIELD`]) when the
    /// cluster keeps no savepoints. Returns the snapshot's name.
    pub async fn take_savepoint(
        &self,
        id: Uuid,
        name: &str,
        actor: &str,
    ) -> Result<String, ServiceError> {
        let result = async {
            let session = self.session(id).await?;
            let job = self.stored_job(id, name).await?;
            self.refuse_savepoint(&session, name, job.state == JobWish::Running)
                .await?;
            let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
            let object = session_job_object_name(&session.name, name);
            Ok(cluster
                .create_savepoint(&session.namespace, JobKind::FlinkSessionJob, &object)
                .await?)
        }
        .await;
        self.audit_job(actor, "take savepoint", id, name, String::new(), result)
            .await
    }

    /// Starts job `name` of session cluster `id` again from savepoint
    /// `path` (one of its list, or typed; checked against the cluster's
    /// savepoint directory): the operator cancels it and submits it from
    /// there. `allow_non_restored` skips state that maps to no operator.
    pub async fn redeploy_from_savepoint(
        &self,
        id: Uuid,
        name: &str,
        path: &str,
        allow_non_restored: bool,
        actor: &str,
    ) -> Result<JobView, ServiceError> {
        let path = path.trim();
        let result = async {
            let session = self.session(id).await?;
            let job = self.stored_job(id, name).await?;
            self.check_start_path(&session, path).await?;
            let mut params = job.params.clone();
            if let Some(map) = params.as_object_mut() {
                map.extend(redeploy_fields(&job.params, path, allow_non_restored));
            }
            self.change_job(&session, job, params, Some(JobWish::Running))
                .await
        }
        .await;
        let detail = format!("from {path}, allow non-restored state: {allow_non_restored}");
        self.audit_job(actor, "start job from savepoint", id, name, detail, result)
            .await
    }

    /// Refuses (field [`SAVEPOINT_FIELD`]) a savepoint of job `job` of Flink
    /// cluster `cluster` (a session, or the application itself) when the job
    /// is not asked to run or the cluster keeps no savepoints.
    pub(super) async fn refuse_savepoint(
        &self,
        cluster: &Instance,
        job: &str,
        running: bool,
    ) -> Result<(), ServiceError> {
        if !running {
            return Err(ServiceError::invalid(
                SAVEPOINT_FIELD,
                format!("{job} is suspended: resume it to take a savepoint"),
            ));
        }
        if self.savepoint_dir(cluster).await?.is_none() {
            return Err(ServiceError::invalid(
                SAVEPOINT_FIELD,
                format!(
                    "{} keeps no savepoints: it has no savepoint directory \
                     (execution.checkpointing.savepoint-dir). Turn high availability on in \
                     its update to give it one",
                    cluster.name
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a start path that is not a savepoint of `session`'s storage.
    pub(super) async fn check_start_path(
        &self,
        session: &Instance,
        path: &str,
    ) -> Result<(), ServiceError> {
        if path.is_empty() {
            return Err(ServiceError::invalid(
                START_FIELD,
                "Choose a savepoint of the list or type its path",
            ));
        }
        let dir = self.savepoint_dir(session).await?;
        match savepoint_path_refusal(path, dir.as_deref()) {
            Some(refusal) => Err(ServiceError::invalid(START_FIELD, refusal)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_snapshot_reads_as_its_state_trigger_and_error_words() {
        let snapshot: FlinkStateSnapshot = serde_json::from_value(json!({
            "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkStateSnapshot",
            "metadata": {"name": "a-etl-savepoint-upgrade-1", "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": {"snapshot.trigger-type": "UPGRADE"}},
            "spec": {"savepoint": {"alreadyExists": true}},
            "status": {"state": "FAILED", "resultTimestamp": "2026-01-01T00:05:00Z",
                "error": "{\"type\":\"x\",\"message\":\"java.lang.IllegalArgumentException: no dir\"}"},
        }))
        .unwrap();
        let view = snapshot_view(&snapshot);
        assert_eq!(
            (view.kind, view.trigger.as_str(), view.state),
            ("savepoint", "upgrade", "failed")
        );
        assert_eq!(
            view.error.as_deref(),
            Some("java.lang.IllegalArgumentException: no dir")
        );
        assert_eq!(view.time.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(view.time_text(), "2026-01-01 00:00:00 UTC");
        assert_eq!(view.finished.as_deref(), Some("2026-01-01T00:05:00Z"));
        assert!(!view.restorable());
    }
}
