//! An application's job (a FlinkDeployment with `spec.job`): its savepoints
//! and checkpoints, taking a savepoint, and redeploying it from one. The
//! rules are the session job's ([`super`]); what differs is the resource
//! the snapshots refer to (the FlinkDeployment itself) and that a redeploy is
//! an update of the instance (a revision, so it shows in its history and can
//! be rolled back).
//!
//! The operator reads the start fields from the FlinkDeployment's job spec as
//! it does from a session job's (flink-kubernetes-operator release-1.15.0,
//! `reconciler/deployment/AbstractJobReconciler.java` `redeployWithSavepoint`:
//! a new `savepointRedeployNonce` cancels the job without a savepoint and
//! deploys it from `initialSavepointPath`, whatever its `upgradeMode`).

use uuid::Uuid;

use super::super::audit::Audited;
use super::super::views::param_texts;
use super::{
    SavepointSchedule, Service, ServiceError, SnapshotView, mark_start_points, savepoint_schedule,
    snapshot_view,
};
use crate::catalog::jobs::savepoints::redeploy_fields;
use crate::crd::JobKind;
use crate::store::{Instance, InstanceStatus, Operation, OperationKind};

/// The catalog app whose instances are applications.
pub const APPLICATION_APP: &str = "flink-application";

/// The parameter that says whether an application's job runs.
const JOB_STATE: &str = "jobState";

/// Whether stored application parameters ask its job to run.
fn asked_to_run(params: &serde_json::Value) -> bool {
    params.get(JOB_STATE).and_then(serde_json::Value::as_str) != Some("suspended")
}

impl Service {
    /// Instance `id`, when it is an application that is not (being) uninstalled.
    pub(super) async fn application(&self, id: Uuid) -> Result<Instance, ServiceError> {
        let instance = self.instance_record(id).await?;
        if instance.app != APPLICATION_APP {
            return Err(ServiceError::Conflict(format!(
                "{} is not a Flink application: its savepoints are its jobs'",
                instance.name
            )));
        }
        if matches!(
            instance.status,
            InstanceStatus::Uninstalled | InstanceStatus::Uninstalling
        ) {
            return Err(ServiceError::Conflict(format!(
                "{} is {}: it runs no job",
                instance.name, instance.status
            )));
        }
        Ok(instance)
    }

    /// The savepoints and checkpoints of application `id`'s job, newest
    /// first, read live: the FlinkStateSnapshots that refer to its
    /// FlinkDeployment (manual, periodic, and the operator's upgrade and
    /// suspend savepoints, `FlinkStateSnapshotUtils.createUpgradeSnapshotResource`).
    pub async fn application_snapshots(&self, id: Uuid) -> Result<Vec<SnapshotView>, ServiceError> {
        let instance = self.application(id).await?;
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let snapshots = cluster
            .job_snapshots(
                &instance.namespace,
                JobKind::FlinkDeployment,
                &instance.name,
            )
            .await?;
        let mut views: Vec<SnapshotView> = snapshots.iter().map(snapshot_view).collect();
        // Its start savepoint: the install's or the last redeploy's
        // `initialSavepointPath`, kept in its parameters.
        mark_start_points(&mut views, &instance.params);
        Ok(views)
    }

    /// The periodic savepoints of application `id`, given its `snapshots`
    /// (newest first): its own fields over its FlinkDeployment's
    /// configuration, read live; the next one due counts from its install.
    pub async fn application_savepoint_schedule(
        &self,
        id: Uuid,
        snapshots: &[SnapshotView],
    ) -> Result<SavepointSchedule, ServiceError> {
        let instance = self.application(id).await?;
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let configuration = cluster
            .session_configuration(&instance.namespace, &instance.name)
            .await?;
        let mut schedule = savepoint_schedule(
            &instance.params,
            &configuration,
            snapshots,
            instance.created_at,
            asked_to_run(&instance.params),
        );
        // An application's own form is where its job's fields are.
        if schedule.set_on == "job" {
            schedule.set_on = "application";
        }
        Ok(schedule)
    }

    /// Takes a savepoint of application `id`'s job: a FlinkStateSnapshot
    /// owned by its FlinkDeployment. Refused (field [`super::SAVEPOINT_FIELD`])
    /// as a session job's is: when the job is suspended or the cluster keeps
    /// no savepoints. Returns the snapshot's name.
    pub async fn take_application_savepoint(
        &self,
        id: Uuid,
        actor: &str,
    ) -> Result<String, ServiceError> {
        let instance = self.instance_record(id).await?;
        let result = async {
            let instance = self.application(id).await?;
            self.refuse_savepoint(&instance, &instance.name, asked_to_run(&instance.params))
                .await?;
            let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
            Ok(cluster
                .create_savepoint(
                    &instance.namespace,
                    JobKind::FlinkDeployment,
                    &instance.name,
                )
                .await?)
        }
        .await;
        let entry = Audited::new("take savepoint", instance.target()).instance(Some(id));
        self.audited(actor, entry, result).await
    }

    /// Redeploys application `id`'s job from savepoint `path` (one of its
    /// list, or typed; checked against its savepoint directory) as a new
    /// revision: `initialSavepointPath`, `allowNonRestoredState` and a new
    /// `savepointRedeployNonce` in its job spec, the job asked to run.
    pub async fn redeploy_application_from_savepoint(
        &self,
        id: Uuid,
        path: &str,
        allow_non_restored: bool,
        actor: &str,
    ) -> Result<Operation, ServiceError> {
        let path = path.trim();
        let before = self.instance_record(id).await?;
        let result = async {
            let instance = self.application(id).await?;
            self.check_start_path(&instance, path).await?;
            let mut raw = param_texts(&instance.params);
            raw.insert(JOB_STATE.into(), "running".into());
            let start = redeploy_fields(&instance.params, path, allow_non_restored);
            let (from, prepared, _) = self.render_update(id, None, &raw, Some(start)).await?;
            self.add_revision(id, from, OperationKind::Update, prepared, actor)
                .await
        }
        .await;
        let entry = Audited::new("redeploy from savepoint", before.target())
            .instance(Some(id))
            .detail(format!(
                "from revision {}: from {path}, allow non-restored state: {allow_non_restored}",
                before.current_revision
            ));
        self.audited(actor, entry, result).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_a_suspended_application_is_not_asked_to_run() {
        assert!(asked_to_run(&json!({"jarURI": "local:///x.jar"})));
        assert!(asked_to_run(&json!({"jobState": "running"})));
        assert!(!asked_to_run(&json!({"jobState": "suspended"})));
    }
}
