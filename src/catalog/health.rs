//! Health: an instance's state from the state of the objects it owns. Pure.

use serde::Serialize;

/// What the cluster reports of one object an instance owns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Observed {
    /// A Deployment or StatefulSet: ready replicas of those wanted.
    Workload {
        /// Object name.
        name: String,
        /// Replicas wanted.
        desired: i32,
        /// Replicas ready.
        ready: i32,
    },
    /// A FlinkDeployment, as its operator reports it.
    Flink {
        /// Object name.
        name: String,
        /// `status.jobManagerDeploymentStatus`.
        job_manager: Option<String>,
        /// `status.lifecycleState`.
        lifecycle: Option<String>,
        /// `status.error`.
        error: Option<String>,
        /// An application's job.
        job: Option<ObservedJob>,
    },
}

/// What the operator reports of a job: an application's, or a session job's.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObservedJob {
    /// Flink's job state (`status.jobStatus.state`): RUNNING, FINISHED, FAILED, SUSPENDED, ...
    pub state: Option<String>,
    /// Flink's id of the job now (`status.jobStatus.jobId`, 32 hex digits),
    /// as Flink's metrics label it (`job_id`).
    pub job_id: Option<String>,
    /// `status.lifecycleState`.
    pub lifecycle: Option<String>,
    /// The message of `status.error`.
    pub error: Option<String>,
    /// The last savepoint the operator reports: `savepointInfo.lastSavepoint`,
    /// else `upgradeSavepointPath` (newer operators keep only that one); for
    /// a session job, the newest completed savepoint FlinkStateSnapshot of
    /// it when there is one (the watches add it).
    pub savepoint: Option<String>,
}

impl ObservedJob {
    /// What the operator's status says of a job.
    pub fn from_status(
        job: Option<&crate::crd::JobStatus>,
        lifecycle: Option<String>,
        error: Option<&str>,
    ) -> ObservedJob {
        let savepoint = job.and_then(|job| {
            job.savepoint_info
                .as_ref()
                .and_then(|info| info.last_savepoint.as_ref())
                .and_then(|savepoint| savepoint.location.clone())
                .or_else(|| job.upgrade_savepoint_path.clone())
        });
        ObservedJob {
            state: job.and_then(|job| job.state.clone()),
            job_id: job.and_then(|job| job.job_id.clone()),
            lifecycle,
            error: error.map(error_message),
            savepoint,
        }
    }

    /// The job's state in a word, for pages: Flink's, else the operator's
    /// progress. A job the user suspended says `SUSPENDED`: the operator
    /// leaves Flink's last word, `FINISHED`, in `jobStatus.state` after a stop
    /// with savepoint (`AbstractFlinkService.cancelSessionJob`,
    /// flink-kubernetes-operator release-1.15.0) and `SUSPENDED` in the lifecycle.
    pub fn state_word(&self) -> &str {
        match (&self.error, &self.state) {
            (_, Some(state))
                if state == "FINISHED" && self.lifecycle.as_deref() == Some("SUSPENDED") =>
            {
                "SUSPENDED"
            }
            (Some(_), None) => "ERROR",
            (_, Some(state)) => state,
            (None, None) => "SUBMITTING",
        }
    }
}

impl Observed {
    /// `Kind name`, for pages.
    pub fn name(&self) -> String {
        match self {
            Observed::Workload { name, .. } => format!("workload {name}"),
            Observed::Flink { name, .. } => format!("FlinkDeployment {name}"),
        }
    }

    /// Its state in a few words, for pages.
    pub fn state(&self) -> String {
        match self {
            Observed::Workload { desired, ready, .. } => format!("{ready}/{desired} ready"),
            Observed::Flink {
                job_manager,
                lifecycle,
                job,
                ..
            } => {
                let cluster = format!(
                    "JobManager {}, {}",
                    job_manager.as_deref().unwrap_or("pending"),
                    lifecycle.as_deref().unwrap_or("not reconciled yet")
                );
                match job {
                    Some(job) => format!("{cluster}, job {}", job.state_word()),
                    None => cluster,
                }
            }
        }
    }

    /// The last savepoint of an application's job, if the operator reports one.
    pub fn savepoint(&self) -> Option<&str> {
        match self {
            Observed::Flink { job: Some(job), .. } => job.savepoint.as_deref(),
            _ => None,
        }
    }

    /// Whether this object is ready.
    pub fn is_ready(&self) -> bool {
        object_health(self) == Health::Ready
    }

    /// The operator's error on the object (`status.error`'s message), if any.
    pub fn error(&self) -> Option<String> {
        match self {
            Observed::Flink {
                error: Some(error), ..
            } => Some(error_message(error)),
            _ => None,
        }
    }
}

/// An instance's health, as its objects tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Health {
    /// Every object is ready.
    Ready,
    /// Some object is not ready yet (or no longer).
    Progressing,
    /// An object reports a failure, with its words.
    Failed(String),
    /// An application's job is suspended as asked (lifecycle `SUSPENDED`:
    /// its JobManager is gone until it resumes), and nothing else is amiss.
    Suspended,
}

/// The kinds an instance's health is observed from (the workloads and
/// Flink clusters the watches follow).
pub const OBSERVED_KINDS: [&str; 3] = ["Deployment", "StatefulSet", "FlinkDeployment"];

/// Whether rendered `objects` run anything whose health is observed: an
/// instance of none (a PodMonitor and its rules, say) is ready once its
/// objects are applied, with nothing to wait for.
pub fn runs_workloads(objects: &[serde_json::Value]) -> bool {
    objects
        .iter()
        .any(|object| OBSERVED_KINDS.iter().any(|kind| object["kind"] == *kind))
}

/// The health of an instance whose objects are `observed`: failed when any
/// object failed, progressing when one is not ready yet, suspended when a
/// job is suspended and the rest ready, else ready. An instance with no
/// workload yet is progressing.
pub fn health(observed: &[Observed]) -> Health {
    let mut ready = !observed.is_empty();
    let mut suspended = false;
    for object in observed {
        match object_health(object) {
            Health::Failed(message) => return Health::Failed(message),
            Health::Progressing => ready = false,
            Health::Suspended => suspended = true,
            Health::Ready => {}
        }
    }
    match (ready, suspended) {
        (false, _) => Health::Progressing,
        (true, true) => Health::Suspended,
        (true, false) => Health::Ready,
    }
}

fn object_health(object: &Observed) -> Health {
    match object {
        Observed::Workload { desired, ready, .. } => {
            if ready >= desired {
                Health::Ready
            } else {
                Health::Progressing
            }
        }
        // The Flink operator's own rule: ready = READY and STABLE or DEPLOYED;
        // failed = FAILED, ERROR, or an error set.
        Observed::Flink {
            name,
            job_manager,
            lifecycle,
            error,
            job,
        } => {
            let job_manager = job_manager.as_deref();
            let lifecycle = lifecycle.as_deref();
            let job_failed = job.as_ref().and_then(|j| j.state.as_deref()) == Some("FAILED");
            if job_failed && error.is_none() {
                Health::Failed(format!("FlinkDeployment {name}: job FAILED"))
            } else if lifecycle == Some("FAILED") || job_manager == Some("ERROR") || error.is_some()
            {
                let detail = error
                    .as_deref()
                    .map(error_message)
                    .unwrap_or_else(|| "failed".to_owned());
                Health::Failed(format!("FlinkDeployment {name}: {detail}"))
            } else if job_manager == Some("READY")
                && matches!(lifecycle, Some("STABLE" | "DEPLOYED"))
            {
                Health::Ready
            } else if lifecycle == Some("SUSPENDED") {
                // Suspended as asked: an application without its cluster.
                Health::Suspended
            } else {
                Health::Progressing
            }
        }
    }
}

/// The operator's `status.error` is JSON text with a `message`; other text is kept as it is.
fn error_message(error: &str) -> String {
    serde_json::from_str::<serde_json::Value>(error)
        .ok()
        .and_then(|value| value["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| error.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(ready: i32) -> Observed {
        Observed::Workload {
            name: "w".into(),
            desired: 2,
            ready,
        }
    }

    fn flink(job_manager: &str, lifecycle: &str, error: Option<&str>) -> Observed {
        Observed::Flink {
            name: "f".into(),
            job_manager: Some(job_manager.into()),
            lifecycle: Some(lifecycle.into()),
            error: error.map(str::to_owned),
            job: None,
        }
    }

    #[test]
    fn a_job_stopped_with_a_savepoint_reads_suspended() {
        let job = |state: &str, lifecycle: &str| ObservedJob {
            state: Some(state.into()),
            lifecycle: Some(lifecycle.into()),
            ..ObservedJob::default()
        };
        assert_eq!(job("FINISHED", "SUSPENDED").state_word(), "SUSPENDED");
        assert_eq!(job("FINISHED", "STABLE").state_word(), "FINISHED");
        assert_eq!(job("RUNNING", "STABLE").state_word(), "RUNNING");
    }

    #[test]
    fn workloads_are_ready_when_all_replicas_are() {
        assert_eq!(health(&[workload(2), workload(2)]), Health::Ready);
        assert_eq!(health(&[workload(2), workload(1)]), Health::Progressing);
        assert_eq!(health(&[]), Health::Progressing, "nothing observed yet");
    }

    #[test]
    fn flink_follows_the_operators_states() {
        assert_eq!(health(&[flink("READY", "STABLE", None)]), Health::Ready);
        assert_eq!(health(&[flink("READY", "DEPLOYED", None)]), Health::Ready);
        assert_eq!(
            health(&[flink("DEPLOYING", "DEPLOYED", None)]),
            Health::Progressing
        );
        assert_eq!(
            health(&[flink("READY", "UPGRADING", None)]),
            Health::Progressing
        );
        let failed = health(&[flink(
            "ERROR",
            "FAILED",
            Some(r#"{"type":"x","message":"image pull failed"}"#),
        )]);
        assert_eq!(
            failed,
            Health::Failed("FlinkDeployment f: image pull failed".into())
        );
        assert!(
            matches!(health(&[flink("READY", "STABLE", Some("plain text"))]), Health::Failed(m) if m.ends_with("plain text"))
        );
    }

    #[test]
    fn an_application_fails_with_its_job_and_rests_when_suspended() {
        let with_job = |job_manager: &str, lifecycle: &str, state: &str| {
            let Observed::Flink {
                name,
                job_manager,
                lifecycle,
                error,
                ..
            } = flink(job_manager, lifecycle, None)
            else {
                unreachable!()
            };
            Observed::Flink {
                name,
                job_manager,
                lifecycle,
                error,
                job: Some(ObservedJob {
                    state: Some(state.into()),
                    ..ObservedJob::default()
                }),
            }
        };
        let running = with_job("READY", "STABLE", "RUNNING");
        assert_eq!(health(std::slice::from_ref(&running)), Health::Ready);
        assert_eq!(running.state(), "JobManager READY, STABLE, job RUNNING");
        assert_eq!(
            health(&[with_job("READY", "STABLE", "FAILED")]),
            Health::Failed("FlinkDeployment f: job FAILED".into())
        );
        let suspended = with_job("MISSING", "SUSPENDED", "SUSPENDED");
        assert_eq!(health(std::slice::from_ref(&suspended)), Health::Suspended);
        // A suspended job does not hide a workload that is not ready yet.
        let starting = Observed::Workload {
            name: "w".into(),
            desired: 1,
            ready: 0,
        };
        assert_eq!(health(&[suspended, starting]), Health::Progressing);
    }

    #[test]
    fn an_instance_of_no_workload_has_nothing_to_wait_for() {
        let rules = [
            serde_json::json!({"kind": "PodMonitor"}),
            serde_json::json!({"kind": "PrometheusRule"}),
        ];
        assert!(!runs_workloads(&rules));
        let server = [
            serde_json::json!({"kind": "ConfigMap"}),
            serde_json::json!({"kind": "StatefulSet"}),
        ];
        assert!(runs_workloads(&server));
    }

    #[test]
    fn one_failure_fails_the_instance() {
        assert!(matches!(
            health(&[workload(2), flink("ERROR", "DEPLOYED", None)]),
            Health::Failed(_)
        ));
    }
}
