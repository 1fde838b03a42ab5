//! Upgrading a Flink session cluster together with its jobs.
//!
//! A change to a session cluster's FlinkDeployment spec makes the operator
//! redeploy its JobManager and TaskManagers, which would end every job
//! running on it. So the update (or rollback) first says which jobs it
//! interrupts and what happens to their state, then runs as one operation
//! ([`run`]): suspend every running job with a savepoint, apply the cluster
//! change, wait for the cluster, resume each job from its own savepoint; and
//! if the cluster change fails, restore the previous revision and resume the
//! jobs from the same savepoints.

mod run;
mod wait;

use serde::Serialize;
use serde_json::Value;

use super::job_views::SESSION_APP;
use super::{Service, ServiceError};
use crate::catalog::{self, jobs::keeps_state};
use crate::store::{FlinkJob, Instance, JobWish};

/// A job on a session cluster that an update would interrupt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InterruptedJob {
    /// The job's name.
    pub name: String,
    /// Whether it is suspended with a savepoint and resumed from it
    /// (upgrade mode savepoint or last-state); otherwise it is cancelled and
    /// starts again without state (stateless).
    pub keeps_state: bool,
}

impl InterruptedJob {
    /// What happens to the job, in a sentence.
    pub fn fate(&self) -> String {
        if self.keeps_state {
            format!(
                "Job {} is suspended with a savepoint before the change and resumed from that \
                 savepoint once the cluster is ready.",
                self.name
            )
        } else {
            format!(
                "Job {} is stateless: it is stopped without a savepoint before the change and \
                 starts again without its state once the cluster is ready.",
                self.name
            )
        }
    }
}

/// Whether applying `next` where `current` is applied restarts a Flink
/// cluster: any change to a FlinkDeployment's spec (or one added or
/// removed). Conservative on purpose: the operator redeploys the cluster for
/// a spec change its `ReflectiveDiffBuilder` classes as `DiffType.UPGRADE`,
/// the class of every field without a `@SpecDiff` annotation
/// (flink-kubernetes-operator release-1.15.0); the few fields it ignores or
/// applies in place count here too, since a needless savepoint round costs
/// less than a job lost without one.
pub(crate) fn restarts_cluster(current: &[Value], next: &[Value]) -> bool {
    fn specs(objects: &[Value]) -> Vec<(&str, &Value)> {
        let mut specs: Vec<(&str, &Value)> = objects
            .iter()
            .filter(|object| object["kind"] == "FlinkDeployment")
            .map(|object| {
                (
                    object["metadata"]["name"].as_str().unwrap_or_default(),
                    &object["spec"],
                )
            })
            .collect();
        specs.sort_by_key(|(name, _)| *name);
        specs
    }
    specs(current) != specs(next)
}

/// The jobs among `jobs` that run (as asked) and so are interrupted.
fn running(jobs: Vec<FlinkJob>) -> Vec<FlinkJob> {
    jobs.into_iter()
        .filter(|job| job.state == JobWish::Running)
        .collect()
}

fn interrupted(job: &FlinkJob) -> InterruptedJob {
    let values: catalog::Values = serde_json::from_value(job.params.clone()).unwrap_or_default();
    InterruptedJob {
        name: job.name.clone(),
        keeps_state: keeps_state(&values),
    }
}

impl Service {
    /// The jobs of session cluster `instance` that applying `next` over
    /// `current` interrupts: none unless it is a session cluster whose
    /// FlinkDeployment changes; then each job it runs.
    pub(super) async fn interrupted_jobs(
        &self,
        instance: &Instance,
        current: &[Value],
        next: &[Value],
    ) -> Result<Vec<InterruptedJob>, ServiceError> {
        if instance.app != SESSION_APP || !restarts_cluster(current, next) {
            return Ok(Vec::new());
        }
        let jobs = running(self.store.jobs(instance.id).await?);
        Ok(jobs.iter().map(interrupted).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(memory: &str) -> Value {
        json!({"kind": "FlinkDeployment", "metadata": {"name": "analytics"},
            "spec": {"taskManager": {"resource": {"memory": memory}}}})
    }

    #[test]
    fn a_change_to_the_flink_deployment_spec_restarts_the_cluster() {
        let role = json!({"kind": "Role", "metadata": {"name": "analytics-flink"}, "rules": []});
        let before = vec![role.clone(), deployment("1280Mi")];
        assert!(!restarts_cluster(&before, &before.clone()));
        assert!(restarts_cluster(
            &before,
            &[role.clone(), deployment("1536Mi")]
        ));
        let other_role = json!({"kind": "Role", "metadata": {"name": "analytics-flink"},
            "rules": [{"verbs": ["get"]}]});
        assert!(
            !restarts_cluster(&before, &[other_role, deployment("1280Mi")]),
            "objects beside the FlinkDeployment are applied without a redeploy"
        );
        assert!(restarts_cluster(&before, &[role]), "removed");
    }

    #[test]
    fn each_job_says_what_happens_to_its_state() {
        let job = |mode: &str| FlinkJob {
            id: uuid::Uuid::nil(),
            instance_id: uuid::Uuid::nil(),
            name: "etl".into(),
            params: json!({"upgradeMode": mode}),
            state: JobWish::Running,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let stateful = interrupted(&job("savepoint"));
        assert!(stateful.keeps_state);
        assert!(stateful.fate().contains("suspended with a savepoint"));
        let stateless = interrupted(&job("stateless"));
        assert!(!stateless.keeps_state);
        assert!(stateless.fate().contains("without its state"));
        let suspended = FlinkJob {
            state: JobWish::Suspended,
            ..job("savepoint")
        };
        assert!(running(vec![suspended, job("savepoint")]).len() == 1);
    }
}
