//! The savepoint steps of a real session job: its upgrade savepoint as a
//! FlinkStateSnapshot, a manual savepoint asked by `savepointTriggerNonce`,
//! and a redeploy from `initialSavepointPath` ([`super::super::savepoints`]).

use serde_json::{Value, json};

use super::super::super::validator::savepoint_dir;
use super::super::savepoints;
use super::{RealJob, SessionRest, job_state};
use crate::crd::FlinkSessionJobStatus;
use crate::simulator::jobs::now_ms;

impl RealJob<'_> {
    /// `FlinkStateSnapshotUtils.createUpgradeSnapshotResource`: the savepoint
    /// as a FlinkStateSnapshot, unless snapshot resources are off or the CRD
    /// is missing (then only `upgradeSavepointPath` holds it).
    pub(super) async fn upgrade_snapshot(&self, location: &str) {
        if !savepoints::snapshot_resources(self.operator, self.configuration) {
            return;
        }
        if let Err(error) = savepoints::create_savepoint_resource(
            self.operator,
            self.job,
            Some(location),
            "UPGRADE",
            self.configuration,
        )
        .await
        {
            tracing::debug!(%error, "no FlinkStateSnapshot for the upgrade savepoint");
        }
    }

    /// `triggerSnapshotIfNeeded` for a manual savepoint: a new
    /// `savepointTriggerNonce` of a running job becomes a FlinkStateSnapshot
    /// and is recorded as reconciled.
    pub(super) async fn manual_savepoint(
        &self,
        recorded: &Value,
        next: &mut FlinkSessionJobStatus,
    ) -> Result<(), String> {
        let Some(nonce) = savepoints::manual_nonce(self.target, recorded) else {
            return Ok(());
        };
        let running = next.job_status.as_ref().and_then(|j| j.state.as_deref()) == Some("RUNNING");
        if !running || !savepoints::snapshot_resources(self.operator, self.configuration) {
            return Ok(());
        }
        let directory =
            savepoint_dir(self.configuration).ok_or("Savepoint directory is not configured")?;
        savepoints::create_savepoint_resource(
            self.operator,
            self.job,
            Some(directory),
            "MANUAL",
            self.configuration,
        )
        .await?;
        if let Some(reconciliation) = next.reconciliation_status.as_mut()
            && let Some(text) = &reconciliation.last_reconciled_spec
        {
            reconciliation.last_reconciled_spec =
                Some(savepoints::record_trigger_nonce(text, nonce));
            reconciliation.reconciliation_timestamp = Some(now_ms());
        }
        Ok(())
    }

    /// `redeployWithSavepoint`: cancel without a savepoint, then submit from
    /// `initialSavepointPath`; recorded with upgrade mode `savepoint` and
    /// marked stable.
    pub(super) async fn redeploy(
        &self,
        rest: &SessionRest,
        next: &mut FlinkSessionJobStatus,
    ) -> Result<(), String> {
        if let Some(job_id) = next.job_status.as_ref().and_then(|j| j.job_id.clone())
            && rest.cancel(&job_id).await?
        {
            self.await_end(rest, &job_id).await?;
        }
        let initial = savepoints::initial_savepoint(self.target);
        let job_status = next.job_status.get_or_insert_default();
        job_status.job_id = None;
        job_status.state = Some("FINISHED".into());
        job_status.upgrade_savepoint_path = initial.clone();
        if job_state(self.target) == "running" {
            self.submit(rest, next, initial.as_deref()).await?;
        }
        let mut spec = self.target.clone();
        if let Some(job) = spec.get_mut("job").and_then(Value::as_object_mut) {
            job.insert("upgradeMode".into(), json!("savepoint"));
        }
        self.record(next, &spec, false);
        if let Some(reconciliation) = next.reconciliation_status.as_mut() {
            reconciliation.last_stable_spec = reconciliation.last_reconciled_spec.clone();
        }
        Ok(())
    }
}
