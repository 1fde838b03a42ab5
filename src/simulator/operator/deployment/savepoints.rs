//! An application's savepoints as the operator 1.15 handles them
//! (flink-kubernetes-operator release-1.15.0):
//! - **upgrade and suspend savepoints** become FlinkStateSnapshots that refer
//!   to the FlinkDeployment (`AbstractJobReconciler.setUpgradeSavepointPath`,
//!   called from `ApplicationReconciler.cancelJob`, creates one through
//!   `FlinkStateSnapshotUtils.createUpgradeSnapshotResource` with trigger type
//!   `UPGRADE` when snapshot resources are on; then the savepoint is not
//!   recorded in the deprecated `jobStatus.savepointInfo`, only in
//!   `upgradeSavepointPath`);
//! - **a new `savepointRedeployNonce`** (`DiffType.SAVEPOINT_REDEPLOY`) makes
//!   `AbstractJobReconciler.redeployWithSavepoint` cancel the job without a
//!   savepoint, set `upgradeMode: savepoint` and `upgradeSavepointPath` to
//!   `initialSavepointPath`, deploy from it when the job is to run, record
//!   the spec (`updateStatusForDeployedSpec`) and mark it stable, whatever
//!   the upgrade mode was.

use serde_json::{Value, json};

use crate::crd::{
    FlinkDeploymentStatus, JobManagerDeploymentStatus as Jm, JobStatus, ReconciliationState,
    TaskManagerInfo,
};
use crate::simulator::jobs::now_ms;
use crate::simulator::operator::session_job::savepoints::initial_savepoint;
use crate::simulator::operator::status::{job_state, spec_with_meta};

/// Where the savepoint that this step's upgrade or suspend took is, when it
/// took one (a savepoint-mode upgrade: `savepointInfo` got a new last one).
pub(super) fn new_upgrade_savepoint(
    before: Option<&JobStatus>,
    after: Option<&JobStatus>,
) -> Option<String> {
    let last = |job: Option<&JobStatus>| {
        job.and_then(|j| j.savepoint_info.as_ref())
            .and_then(|info| info.last_savepoint.as_ref())
            .and_then(|savepoint| savepoint.location.clone())
    };
    let taken = last(after)?;
    (last(before).as_deref() != Some(taken.as_str())).then_some(taken)
}

/// `redeployWithSavepoint` for an application `name` whose spec is now
/// `target` and whose TaskManagers number `task_managers`: the next status,
/// and the spec to deploy (none when its job is to stay suspended).
pub(super) fn redeploy(
    name: &str,
    next: &mut FlinkDeploymentStatus,
    target: &Value,
    task_managers: i64,
) -> Option<Value> {
    let mut spec = target.clone();
    if let Some(job) = spec.get_mut("job").and_then(Value::as_object_mut) {
        job.insert("upgradeMode".into(), json!("savepoint"));
    }
    let mut job = next.job_status.clone().unwrap_or_default();
    job.job_name.get_or_insert_with(|| name.to_owned());
    job.upgrade_savepoint_path = initial_savepoint(target);
    let run = job_state(target) == "running";
    if run {
        // A new cluster whose job restores from the savepoint.
        job.job_id = Some(uuid::Uuid::new_v4().simple().to_string());
        job.state = Some("RECONCILING".into());
        job.start_time = Some(now_ms().to_string());
        job.update_time = job.start_time.clone();
        next.job_manager_deployment_status = Some(Jm::Deploying);
        next.task_manager = Some(TaskManagerInfo {
            label_selector: Some(format!("component=taskmanager,app={name}")),
            replicas: Some(task_managers as i32),
        });
    } else {
        job.state = Some("FINISHED".into());
        next.job_manager_deployment_status = Some(Jm::Missing);
    }
    next.job_status = Some(job);
    let reconciliation = next.reconciliation_status.get_or_insert_default();
    reconciliation.state = Some(ReconciliationState::Deployed);
    reconciliation.last_reconciled_spec = Some(spec_with_meta(&spec, false));
    reconciliation.last_stable_spec = reconciliation.last_reconciled_spec.clone();
    reconciliation.reconciliation_timestamp = Some(now_ms());
    run.then_some(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{Savepoint, SavepointInfo};

    fn with_last(location: &str) -> JobStatus {
        JobStatus {
            savepoint_info: Some(SavepointInfo {
                last_savepoint: Some(Savepoint {
                    location: Some(location.into()),
                    ..Savepoint::default()
                }),
                ..SavepointInfo::default()
            }),
            ..JobStatus::default()
        }
    }

    #[test]
    fn only_a_savepoint_taken_in_this_step_is_new() {
        let old = with_last("s3://b/sp-1");
        let new = with_last("s3://b/sp-2");
        assert_eq!(
            new_upgrade_savepoint(Some(&old), Some(&new)).as_deref(),
            Some("s3://b/sp-2")
        );
        assert_eq!(new_upgrade_savepoint(Some(&new), Some(&new)), None);
        assert_eq!(
            new_upgrade_savepoint(None, Some(&JobStatus::default())),
            None
        );
    }

    #[test]
    fn a_redeploy_starts_a_new_job_from_the_initial_savepoint_as_a_savepoint_upgrade() {
        let target = json!({"job": {"upgradeMode": "stateless", "state": "running",
            "initialSavepointPath": "s3://b/sp-1", "savepointRedeployNonce": 1}});
        let mut next = FlinkDeploymentStatus {
            job_status: Some(JobStatus {
                job_id: Some("old".into()),
                state: Some("RUNNING".into()),
                ..JobStatus::default()
            }),
            ..FlinkDeploymentStatus::default()
        };
        let deployed = redeploy("orders", &mut next, &target, 2).expect("deployed again");
        assert_eq!(deployed["job"]["upgradeMode"], "savepoint");
        let job = next.job_status.as_ref().unwrap();
        assert_ne!(job.job_id.as_deref(), Some("old"));
        assert_eq!(job.state.as_deref(), Some("RECONCILING"));
        assert_eq!(job.upgrade_savepoint_path.as_deref(), Some("s3://b/sp-1"));
        let reconciliation = next.reconciliation_status.as_ref().unwrap();
        assert_eq!(reconciliation.state, Some(ReconciliationState::Deployed));
        assert_eq!(
            reconciliation.last_stable_spec,
            reconciliation.last_reconciled_spec
        );
        let suspended =
            json!({"job": {"state": "suspended", "initialSavepointPath": "s3://b/sp-1"}});
        assert_eq!(redeploy("orders", &mut next, &suspended, 2), None);
    }
}
