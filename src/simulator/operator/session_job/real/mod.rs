//! Session jobs run for real: on a session cluster the process node runs,
//! the stand-in does what the operator's `SessionJobReconciler` and
//! `JobStatusObserver` do (flink-kubernetes-operator release-1.15.0,
//! `reconciler/sessionjob/SessionJobReconciler.java`,
//! `reconciler/deployment/AbstractJobReconciler.java`,
//! `observer/JobStatusObserver.java`, `service/AbstractFlinkService.java`)
//! through the cluster's REST API ([`super::super::flink_rest`]):
//! - **submit**: a new job id (`JobID.generate`) is written with state
//!   `RECONCILING` before the jar is fetched, uploaded, run and deleted; a
//!   retry after a failed submit reuses that id;
//! - **observe**: `GET /jobs/:id` gives `state`, `jobName`, `startTime`
//!   (`updateTime` when the state changes, with a `JobStatusChanged` Event);
//!   a job the cluster does not know gives the `Job Not Found` error;
//! - **suspend** (and the first half of an upgrade): `savepoint` stops the
//!   job with a savepoint into the cluster's savepoint directory, `stateless`
//!   cancels it; then `state: FINISHED`, `jobId: null`
//!   (`cancelSessionJob`), the savepoint in `upgradeSavepointPath` and as an
//!   `UPGRADE` FlinkStateSnapshot (`setUpgradeSavepointPath`);
//! - **resume**: the job is submitted again from `upgradeSavepointPath`
//!   unless the upgrade mode is `stateless`;
//! - **savepoints asked in the spec** ([`super::savepoints`]): a first
//!   deployment starts from `initialSavepointPath`, a new
//!   `savepointRedeployNonce` cancels the job and submits it from that path,
//!   a new `savepointTriggerNonce` of a running job becomes a manual
//!   FlinkStateSnapshot.
//!
//! Simplifications, said here: the jar is fetched over http(s) or from a
//! `file:` path of the stand-in's own machine (the operator also reads any
//! Flink file system); a `last-state` session job is suspended with a
//! savepoint (the operator cancels and restores the latest checkpoint when
//! it is recent enough); a cancel is awaited within the reconcile instead of
//! being observed as `CANCELLING` over several.

use std::collections::BTreeMap;
use std::time::Duration;

use kube::ResourceExt;
use serde_json::Value;

use super::super::events::{record, reference};
use super::super::flink_rest::{RunRequest, SavepointProgress, SessionRest};
use super::super::instance::Operator;
use super::super::native::NativeClient;
use super::super::status::{first_deployment_spec, job_state, spec_with_meta, with_job_state};
use super::savepoints;
use crate::crd::{FlinkSessionJob, FlinkSessionJobStatus, JobSpec, ReconciliationState};
use crate::simulator::jobs::now_ms;

/// How long a stop-with-savepoint may take (`execution.checkpointing.timeout`'s default, 10 min).
const SAVEPOINT_TIMEOUT: Duration = Duration::from_secs(600);

/// How long a jar download may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

/// One reconcile of a session job whose cluster runs for real.
pub(super) struct RealJob<'a> {
    pub operator: &'a Operator,
    pub native: &'a NativeClient,
    pub job: &'a FlinkSessionJob,
    /// The spec to reconcile: the job's, or its last valid one.
    pub target: &'a Value,
    /// The spec last reconciled, if any.
    pub recorded: Option<&'a Value>,
    /// The session cluster's effective configuration with the job's own
    /// `flinkConfiguration` over it (the operator's deploy configuration).
    pub configuration: &'a BTreeMap<String, String>,
}

impl RealJob<'_> {
    /// Moves `next` one step on; `Err` is the reconciliation error to record.
    pub async fn step(&self, next: &mut FlinkSessionJobStatus) -> Result<(), String> {
        let rest = self.rest()?;
        let desired = job_state(self.target);
        let Some(recorded) = self.recorded else {
            if desired == "running" {
                let initial = savepoints::initial_savepoint(self.target);
                if let Some(path) = &initial {
                    next.job_status
                        .get_or_insert_default()
                        .upgrade_savepoint_path = Some(path.clone());
                }
                self.submit(&rest, next, initial.as_deref()).await?;
            }
            self.record(next, &first_deployment_spec(self.target), true);
            return Ok(());
        };
        if savepoints::redeploy_requested(self.target, recorded) {
            return self.redeploy(&rest, next).await;
        }
        let upgrading = next
            .reconciliation_status
            .as_ref()
            .and_then(|r| r.state.as_ref())
            == Some(&ReconciliationState::Upgrading);
        let changed = !super::super::status::same_deployment(self.target, recorded)
            || job_state(recorded) != desired
            || upgrading;
        if !changed {
            if job_state(recorded) == "running" {
                self.observe(&rest, next).await;
                self.manual_savepoint(recorded, next).await?;
            }
            return Ok(());
        }
        if job_state(recorded) == "running" {
            self.suspend(&rest, next).await?;
            if desired == "running" {
                // The first half of an upgrade: recorded as suspended and
                // upgrading, the next step resumes with the new spec.
                self.record(next, &with_job_state(self.target, "suspended"), false);
                if let Some(status) = next.reconciliation_status.as_mut() {
                    status.state = Some(ReconciliationState::Upgrading);
                }
                return Ok(());
            }
        } else if desired == "running" {
            let savepoint = match self.spec().upgrade_mode {
                Some(crate::crd::UpgradeMode::Stateless) | None => None,
                Some(_) => next
                    .job_status
                    .as_ref()
                    .and_then(|j| j.upgrade_savepoint_path.clone()),
            };
            self.submit(&rest, next, savepoint.as_deref()).await?;
        }
        self.record(next, self.target, false);
        Ok(())
    }

    /// The deletion of the FlinkSessionJob: a running job is cancelled
    /// (`cleanupInternal` with `kubernetes.operator.savepoint.on-deletion: false`).
    pub async fn cancel_for_deletion(&self) -> Result<(), String> {
        let Some(job_id) = self
            .job
            .status
            .as_ref()
            .and_then(|s| s.job_status.as_ref())
            .and_then(|j| j.job_id.clone())
        else {
            return Ok(());
        };
        let Ok(rest) = self.rest() else {
            // The session is gone: the job went with it.
            return Ok(());
        };
        rest.cancel(&job_id).await.map(drop)
    }

    fn rest(&self) -> Result<SessionRest, String> {
        let name = &self.job.spec.deployment_name;
        let namespace = self.job.namespace().unwrap_or_default();
        self.native
            .session_rest(name, &namespace, self.configuration)
            .ok_or_else(|| format!("the REST Service {name}-rest.{namespace} has no endpoint"))
    }

    fn spec(&self) -> JobSpec {
        self.target
            .get("job")
            .and_then(|j| serde_json::from_value(j.clone()).ok())
            .unwrap_or_default()
    }

    fn record(&self, next: &mut FlinkSessionJobStatus, spec: &Value, first: bool) {
        let reconciliation = next.reconciliation_status.get_or_insert_default();
        reconciliation.last_reconciled_spec = Some(spec_with_meta(spec, first));
        reconciliation.reconciliation_timestamp = Some(now_ms());
        reconciliation.state = Some(ReconciliationState::Deployed);
        if job_state(spec) == "suspended" {
            // A suspended job is stable as the user asked for it.
            reconciliation.last_stable_spec = reconciliation.last_reconciled_spec.clone();
        }
    }

    /// `SessionJobReconciler.deploy` + `submitJobToSessionCluster`.
    async fn submit(
        &self,
        rest: &SessionRest,
        next: &mut FlinkSessionJobStatus,
        savepoint: Option<&str>,
    ) -> Result<(), String> {
        self.event("Normal", "Submit", "Starting deployment", "Job")
            .await;
        let job_status = next.job_status.get_or_insert_default();
        let job_id = match (&job_status.job_id, job_status.state.as_deref()) {
            (Some(id), Some("RECONCILING")) => id.clone(),
            _ => {
                let id = uuid::Uuid::new_v4().simple().to_string();
                job_status.job_id = Some(id.clone());
                job_status.state = Some("RECONCILING".into());
                id
            }
        };
        let spec = self.spec();
        let jar_uri = spec.jar_uri.clone().unwrap_or_default();
        let jar = fetch_jar(&self.native.http, &jar_uri).await?;
        let file_name = jar_uri.rsplit('/').next().unwrap_or("job.jar").to_owned();
        let jar_id = rest.upload_jar(&file_name, jar).await?;
        let request = RunRequest {
            entry_class: spec.entry_class.as_deref(),
            args: spec.args.as_deref(),
            parallelism: spec.parallelism.map(i64::from),
            job_id: &job_id,
            allow_non_restored_state: spec.allow_non_restored_state,
            savepoint_path: savepoint,
            configuration: self.configuration,
        };
        let ran = rest.run_jar(&jar_id, &request).await;
        let _ = rest.delete_jar(&jar_id).await;
        ran.map_err(|e| format!("Failed to submit job to session cluster: {e}"))
    }

    /// `JobStatusObserver.observe` for one job.
    async fn observe(&self, rest: &SessionRest, next: &mut FlinkSessionJobStatus) {
        let Some(job_id) = next.job_status.as_ref().and_then(|j| j.job_id.clone()) else {
            return;
        };
        let previous = next.job_status.as_ref().and_then(|j| j.state.clone());
        match rest.job(&job_id).await {
            Ok(Some(details)) => {
                let job_status = next.job_status.get_or_insert_default();
                job_status.job_name = Some(details.name);
                job_status.start_time = Some(details.start_time.to_string());
                if previous.as_deref() != Some(details.state.as_str()) {
                    job_status.state = Some(details.state.clone());
                    job_status.update_time = Some(now_ms().to_string());
                    let message = match &previous {
                        None => format!("Job status changed to {}", details.state),
                        Some(from) => {
                            format!("Job status changed from {from} to {}", details.state)
                        }
                    };
                    self.event("Normal", "JobStatusChanged", &message, "Job")
                        .await;
                }
                if details.state == "RUNNING"
                    && let Some(reconciliation) = next.reconciliation_status.as_mut()
                    && reconciliation.state == Some(ReconciliationState::Deployed)
                {
                    // `checkAndUpdateStableSpec`.
                    reconciliation.last_stable_spec = reconciliation.last_reconciled_spec.clone();
                }
                if next
                    .error
                    .as_deref()
                    .is_some_and(|e| e.contains("Job Not Found"))
                {
                    next.error = None;
                }
            }
            Ok(None) => {
                self.event("Warning", "Missing", "Job Not Found", "Job")
                    .await;
                if let Some(job_status) = next.job_status.as_mut() {
                    job_status.state = Some("RECONCILING".into());
                }
                next.error = Some("Job Not Found".into());
            }
            Err(_) if previous.as_deref() == Some("RUNNING") => {
                // The REST API did not answer: no longer sure it runs.
                if let Some(job_status) = next.job_status.as_mut() {
                    job_status.state = Some("RECONCILING".into());
                }
            }
            Err(_) => {}
        }
    }

    /// `cancelSessionJob` with the suspend mode of the job's upgrade mode.
    async fn suspend(
        &self,
        rest: &SessionRest,
        next: &mut FlinkSessionJobStatus,
    ) -> Result<(), String> {
        let Some(job_id) = next.job_status.as_ref().and_then(|j| j.job_id.clone()) else {
            return Ok(());
        };
        self.event(
            "Normal",
            "Suspended",
            "Suspending existing deployment.",
            "JobManagerDeployment",
        )
        .await;
        // The suspend mode follows the spec's upgrade mode (`getJobUpgrade`),
        // not the recorded one (a first deployment is recorded as stateless).
        let stateless = matches!(
            self.spec().upgrade_mode,
            Some(crate::crd::UpgradeMode::Stateless) | None
        );
        let savepoint = if stateless {
            rest.cancel(&job_id).await?;
            self.await_end(rest, &job_id).await?;
            None
        } else {
            Some(self.stop_with_savepoint(rest, &job_id).await?)
        };
        let job_status = next.job_status.get_or_insert_default();
        job_status.state = Some("FINISHED".into());
        job_status.job_id = None;
        job_status.update_time = Some(now_ms().to_string());
        if let Some(location) = savepoint {
            job_status.upgrade_savepoint_path = Some(location.clone());
            self.upgrade_snapshot(&location).await;
        }
        Ok(())
    }

    /// `savepointJobOrError`: stop with a savepoint, wait for its location.
    async fn stop_with_savepoint(
        &self,
        rest: &SessionRest,
        job_id: &str,
    ) -> Result<String, String> {
        let directory = super::super::validator::savepoint_dir(self.configuration)
            .ok_or("Savepoint directory is not configured")?;
        let drain = self
            .configuration
            .get("kubernetes.operator.job.drain-on-savepoint-deletion")
            .is_some_and(|v| v == "true");
        let trigger = rest
            .stop_with_savepoint(job_id, directory, drain)
            .await
            .map_err(|e| format!("Savepoint Error: {e}"))?;
        let deadline = tokio::time::Instant::now() + SAVEPOINT_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            match rest.savepoint_progress(job_id, &trigger).await {
                Ok(SavepointProgress::Completed(location)) => return Ok(location),
                Ok(SavepointProgress::Failed(cause)) => {
                    return Err(format!("Savepoint Error: {cause}"));
                }
                Ok(SavepointProgress::InProgress) | Err(_) => {}
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Err(format!(
            "Timed out stopping the job {job_id} with savepoint, please configure a larger \
             timeout via 'execution.checkpointing.timeout'"
        ))
    }

    /// Waits until a cancelled job has ended.
    async fn await_end(&self, rest: &SessionRest, job_id: &str) -> Result<(), String> {
        for _ in 0..120 {
            match rest.job(job_id).await? {
                None => return Ok(()),
                Some(d) if ["CANCELED", "FINISHED", "FAILED"].contains(&d.state.as_str()) => {
                    return Ok(());
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
        Err(format!(
            "Cancellation of job {job_id} did not end within 60 s"
        ))
    }

    async fn event(&self, kind: &str, reason: &str, message: &str, component: &str) {
        let object = reference(self.job);
        if let Err(error) = record(
            &self.operator.client,
            &object,
            kind,
            reason,
            message,
            component,
        )
        .await
        {
            tracing::debug!(%error, reason, "session job Event not recorded");
        }
    }
}

/// The jar at `uri`: http(s) as the operator's `HttpArtifactFetcher`, or a
/// `file:` path of this machine.
async fn fetch_jar(http: &reqwest::Client, uri: &str) -> Result<Vec<u8>, String> {
    let url = url::Url::parse(uri).map_err(|e| format!("jarURI is not a valid URI: {e}"))?;
    match url.scheme() {
        "http" | "https" => {
            let answer = http
                .get(url.clone())
                .timeout(FETCH_TIMEOUT)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| format!("Could not fetch {uri}: {e}"))?;
            let bytes = answer
                .bytes()
                .await
                .map_err(|e| format!("Could not fetch {uri}: {e}"))?;
            Ok(bytes.to_vec())
        }
        "file" => {
            let path = url
                .to_file_path()
                .map_err(|()| format!("Could not fetch {uri}: not a local path"))?;
            tokio::fs::read(&path)
                .await
                .map_err(|e| format!("Could not fetch {uri}: {e}"))
        }
        other => Err(format!(
            "The local cluster's stand-in operator fetches http, https and file jars; \
             '{other}' is read through Flink's file systems by the real operator"
        )),
    }
}

mod savepoint_steps;

#[cfg(test)]
mod tests;
