//! What a session upgrade waits for, read from the operator's status of
//! the FlinkSessionJobs and the FlinkDeployment: each step is done once the
//! operator has observed the generation the step applied
//! (`status.observedGeneration`, written with every reconciled spec,
//! flink-kubernetes-operator release-1.15.0) and reports the step's result.

use std::time::{Duration, Instant};

use crate::catalog::health::ObservedJob;
use crate::crd::{JobManagerDeploymentStatus as Jm, ResourceLifecycleState as Lifecycle};
use crate::service::{Service, ServiceError};

/// How often the status is read again.
const POLL: Duration = Duration::from_millis(500);

/// How long the operator may keep reporting an error for a suspend before
/// the suspend counts as failed. The operator retries a failed
/// stop-with-savepoint on its next reconcile, and Flink refuses one while a
/// job that reports RUNNING is still deploying its tasks ("Not all required
/// tasks are currently running"), as a job resumed moments ago is.
const SUSPEND_ERROR_PATIENCE: Duration = Duration::from_secs(45);

/// What a wait ended with: done (with what it found), or why not.
pub(super) type Waited<T> = Result<T, String>;

/// Whether a resource's status speaks of its current spec.
fn observed(generation: Option<i64>, observed: Option<i64>) -> bool {
    generation.is_some() && observed >= generation
}

/// The message of an operator `status.error` (JSON with `message`, or text).
fn message(error: &str) -> String {
    ObservedJob::from_status(None, None, Some(error))
        .error
        .unwrap_or_else(|| error.to_owned())
}

impl Service {
    /// Waits until FlinkSessionJob `object` in `namespace` is suspended as
    /// asked; returns the savepoint it was suspended with
    /// (`status.jobStatus.upgradeSavepointPath`, `None` for a stateless
    /// job). Ends with the operator's error as soon as it reports one for the
    /// suspended spec for [`SUSPEND_ERROR_PATIENCE`], or after `patience`.
    pub(super) async fn wait_suspended(
        &self,
        namespace: &str,
        object: &str,
        keeps_state: bool,
        patience: Duration,
    ) -> Result<Waited<Option<String>>, ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let started = Instant::now();
        let mut last = String::from("the operator has not reconciled it yet");
        let mut failing_since: Option<Instant> = None;
        while started.elapsed() < patience {
            let Some(job) = cluster.flink_session_job(namespace, object).await? else {
                return Ok(Err(format!("FlinkSessionJob {object} is gone")));
            };
            let status = job.status.unwrap_or_default();
            if status.error.is_none() {
                failing_since = None;
            }
            if observed(job.metadata.generation, status.observed_generation) {
                let savepoint = status
                    .job_status
                    .as_ref()
                    .and_then(|j| j.upgrade_savepoint_path.clone());
                match (status.lifecycle_state, &status.error) {
                    (Some(Lifecycle::Suspended), _) if !keeps_state => return Ok(Ok(None)),
                    (Some(Lifecycle::Suspended), _) if savepoint.is_some() => {
                        return Ok(Ok(savepoint));
                    }
                    (_, Some(error)) => {
                        let since = *failing_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= SUSPEND_ERROR_PATIENCE {
                            return Ok(Err(message(error)));
                        }
                        last = format!("the operator reports: {}", message(error));
                    }
                    (Some(Lifecycle::Failed), None) => {
                        return Ok(Err("the operator reports it FAILED".into()));
                    }
                    (lifecycle, None) => {
                        last = format!("its lifecycle is {lifecycle:?}");
                    }
                }
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(Err(format!(
            "not suspended within {} s: {last}",
            patience.as_secs()
        )))
    }

    /// Waits until FlinkSessionJob `object` in `namespace` runs as asked
    /// (Flink's job state RUNNING for its current spec); returns its job id.
    pub(super) async fn wait_job_running(
        &self,
        namespace: &str,
        object: &str,
        patience: Duration,
    ) -> Result<Waited<String>, ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let started = Instant::now();
        let mut last = String::from("the operator has not reconciled it yet");
        while started.elapsed() < patience {
            let Some(job) = cluster.flink_session_job(namespace, object).await? else {
                return Ok(Err(format!("FlinkSessionJob {object} is gone")));
            };
            let status = job.status.unwrap_or_default();
            if observed(job.metadata.generation, status.observed_generation) {
                let flink = status.job_status.clone().unwrap_or_default();
                let running = flink.state.as_deref() == Some("RUNNING")
                    && status.lifecycle_state != Some(Lifecycle::Suspended);
                match (running, flink.job_id) {
                    (true, Some(id)) => return Ok(Ok(id)),
                    _ => {
                        last = match &status.error {
                            Some(error) => format!("the operator reports: {}", message(error)),
                            None => format!("Flink's job state is {:?}", flink.state),
                        };
                    }
                }
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(Err(format!(
            "not running within {} s: {last}",
            patience.as_secs()
        )))
    }

    /// Waits until session cluster `name` in `namespace` is ready with its
    /// current spec: the JobManager READY and the lifecycle STABLE or
    /// DEPLOYED (as the instance's health reads it). Ends with the
    /// operator's error as soon as the JobManager is in ERROR or the
    /// lifecycle FAILED for that spec, or after `patience`.
    pub(super) async fn wait_cluster_ready(
        &self,
        namespace: &str,
        name: &str,
        patience: Duration,
    ) -> Result<Waited<()>, ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let started = Instant::now();
        let mut last = String::from("the operator has not reconciled it yet");
        while started.elapsed() < patience {
            let Some(deployment) = cluster.flink_deployment(namespace, name).await? else {
                return Ok(Err(format!("FlinkDeployment {name} is gone")));
            };
            let status = deployment.status.unwrap_or_default();
            if observed(deployment.metadata.generation, status.observed_generation) {
                let jm = status.job_manager_deployment_status;
                let lifecycle = status.lifecycle_state;
                let error = status.error.as_deref().map(message);
                match (jm, lifecycle) {
                    (Some(Jm::Ready), Some(Lifecycle::Stable | Lifecycle::Deployed)) => {
                        return Ok(Ok(()));
                    }
                    (Some(Jm::Error), _) | (_, Some(Lifecycle::Failed)) => {
                        return Ok(Err(error.unwrap_or_else(|| {
                            format!("the JobManager is {jm:?}, the lifecycle {lifecycle:?}")
                        })));
                    }
                    _ => {
                        last = format!("the JobManager is {jm:?}, the lifecycle {lifecycle:?}");
                        if let Some(error) = error {
                            last = format!("{last}; the operator reports: {error}");
                        }
                    }
                }
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(Err(format!(
            "not ready within {} s: {last}",
            patience.as_secs()
        )))
    }
}
