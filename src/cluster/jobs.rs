//! Running a one-off Kubernetes Job to its end: what dataport does in the
//! cluster that needs the cluster's network (such as removing objects from an
//! in-cluster S3 server).

use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};

use super::{Cluster, ClusterError};

/// How long a Job may run before it counts as failed.
const JOB_PATIENCE: Duration = Duration::from_secs(180);

/// How much of a failed Job's pod log the error quotes.
const LOG_LINES: i64 = 5;

/// How much of a completed Job's pod log is read (256 KiB).
pub const LOG_BYTES: i64 = 256 * 1024;

impl Cluster {
    /// Creates Job `job` (a rendered object naming its namespace), waits until
    /// it completes or fails (at most 3 minutes), then deletes it and its pods.
    /// A Job of the same name left by an earlier attempt is replaced. Returns
    /// the log of its pod that completed (at most [`LOG_BYTES`]). `Err` says
    /// why it failed: the Job's `Failed` condition and the last lines of its
    /// pod's log, or [`ClusterError::Timeout`].
    pub async fn run_job_to_completion(
        &self,
        job: &serde_json::Value,
    ) -> Result<String, ClusterError> {
        let job: Job = serde_json::from_value(job.clone())
            .map_err(|error| ClusterError::Encode(error.to_string()))?;
        let namespace = job.metadata.namespace.clone().unwrap_or_default();
        let name = job.metadata.name.clone().unwrap_or_default();
        let jobs: Api<Job> = Api::namespaced(self.client().clone(), &namespace);
        let started = Instant::now();
        // Background propagation: the Job's pods go with it.
        let delete = DeleteParams::background();
        loop {
            match jobs.create(&PostParams::default(), &job).await {
                Ok(_) => break,
                Err(kube::Error::Api(status)) if status.code == 409 => {
                    // Still there from an earlier attempt, or still going.
                    let _ = jobs.delete(&name, &delete).await;
                    if started.elapsed() > JOB_PATIENCE {
                        return Err(ClusterError::Timeout(format!(
                            "Job {namespace}/{name} from an earlier attempt is still being deleted"
                        )));
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(error) => {
                    return Err(ClusterError::Refused {
                        object: format!("Job {namespace}/{name}"),
                        source: error,
                    });
                }
            }
        }
        let outcome = self.job_outcome(&jobs, &namespace, &name, started).await;
        let _ = jobs.delete(&name, &delete).await;
        outcome
    }

    /// Waits for Job `name`'s end: once it completed, the log of its pod
    /// that did.
    async fn job_outcome(
        &self,
        jobs: &Api<Job>,
        namespace: &str,
        name: &str,
        started: Instant,
    ) -> Result<String, ClusterError> {
        loop {
            let status = jobs.get(name).await?.status.unwrap_or_default();
            if status.succeeded.unwrap_or(0) > 0 {
                return Ok(self
                    .completed_log(namespace, name)
                    .await
                    .unwrap_or_default());
            }
            let failed = status
                .conditions
                .iter()
                .flatten()
                .find(|condition| condition.type_ == "Failed" && condition.status == "True");
            if let Some(condition) = failed {
                let reason = condition
                    .message
                    .clone()
                    .or_else(|| condition.reason.clone())
                    .unwrap_or_else(|| "failed".into());
                let log = self.last_log_lines(namespace, name).await;
                return Err(ClusterError::Upstream(match log {
                    Some(log) => format!("Job {name}: {reason}; its log ends: {log}"),
                    None => format!("Job {name}: {reason}"),
                }));
            }
            if started.elapsed() > JOB_PATIENCE {
                return Err(ClusterError::Timeout(format!(
                    "Job {name} did not finish within {} s",
                    JOB_PATIENCE.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The log of Job `name`'s pod that succeeded, at most [`LOG_BYTES`].
    async fn completed_log(&self, namespace: &str, name: &str) -> Option<String> {
        let pods: Api<Pod> = Api::namespaced(self.client().clone(), namespace);
        let listed = pods
            .list(&ListParams::default().labels(&format!("job-name={name}")))
            .await
            .ok()?;
        let pod = listed.items.into_iter().find(|pod| {
            pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded")
        })?;
        let params = LogParams {
            limit_bytes: Some(LOG_BYTES),
            ..LogParams::default()
        };
        match pods.logs(pod.metadata.name.as_deref()?, &params).await {
            Ok(log) => Some(log),
            Err(error) => {
                tracing::warn!(job = %name, %error, "the completed Job's log could not be read");
                None
            }
        }
    }

    /// The last lines of the log of one of Job `name`'s pods (by the
    /// `job-name` label its controller sets), joined by " / ".
    async fn last_log_lines(&self, namespace: &str, name: &str) -> Option<String> {
        let pods: Api<Pod> = Api::namespaced(self.client().clone(), namespace);
        let listed = pods
            .list(&ListParams::default().labels(&format!("job-name={name}")))
            .await
            .ok()?;
        let pod = listed.items.last()?.metadata.name.clone()?;
        let params = LogParams {
            tail_lines: Some(LOG_LINES),
            ..LogParams::default()
        };
        let log = pods.logs(&pod, &params).await.ok()?;
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        (!lines.is_empty()).then(|| lines.join(" / "))
    }
}
