//! The session upgrade as one operation, run by the worker: suspend, apply,
//! wait, resume; and on a failed cluster change, the previous revision back
//! with the jobs resumed from the same savepoints. Each step is a line of
//! the operation's progress and an audit entry.

use std::time::Duration;

use serde_json::Value;

use super::{interrupted, restarts_cluster, running};
use crate::catalog::flink_versions::RELEASES;
use crate::catalog::jobs::session_job_object_name;
use crate::service::audit::Audited;
use crate::service::job_views::SESSION_APP;
use crate::service::{Service, ServiceError};
use crate::store::{FlinkJob, Instance, JobWish, Operation, Revision, RevisionChange};

/// How long a job may take to stop with a savepoint (a large state takes
/// its time; Flink's own checkpoint timeout is 10 min).
const SUSPEND_PATIENCE: Duration = Duration::from_secs(300);

/// How long the cluster may take to be ready after a change: a JobManager
/// that has not answered by then is taken as failed.
const CLUSTER_PATIENCE: Duration = Duration::from_secs(300);

/// How long a resumed job may take to run again.
const RESUME_PATIENCE: Duration = Duration::from_secs(300);

/// What a session upgrade works with, found before it starts.
pub(crate) struct SessionUpgrade {
    /// The revision in force before the change.
    previous: Revision,
    /// The objects of the revision it applies.
    objects: Vec<Value>,
    /// The session's running jobs, as stored.
    jobs: Vec<FlinkJob>,
}

/// The job whose suspend failed, why, and the jobs suspended before it.
struct SuspendFailed {
    job: String,
    why: String,
    done: Vec<Suspended>,
}

/// A job suspended for the upgrade and the savepoint it resumes from.
struct Suspended {
    job: FlinkJob,
    savepoint: Option<String>,
}

impl Service {
    /// The session upgrade operation `operation` (an update or rollback of
    /// `instance` applying `objects`) runs as, or `None` when it is a plain
    /// apply: not a session cluster, the FlinkDeployment unchanged, or no
    /// job running.
    pub(in crate::service) async fn session_upgrade(
        &self,
        instance: &Instance,
        operation: &Operation,
        objects: &[Value],
    ) -> Result<Option<SessionUpgrade>, ServiceError> {
        if instance.app != SESSION_APP {
            return Ok(None);
        }
        let number = operation.revision.unwrap_or(instance.current_revision);
        if number < 2 {
            return Ok(None);
        }
        let previous = self.store.revision(instance.id, number - 1).await?;
        let before = previous.objects.as_array().cloned().unwrap_or_default();
        if !restarts_cluster(&before, objects) {
            return Ok(None);
        }
        let jobs = running(self.store.jobs(instance.id).await?);
        if jobs.is_empty() {
            return Ok(None);
        }
        Ok(Some(SessionUpgrade {
            previous,
            objects: objects.to_vec(),
            jobs,
        }))
    }

    /// Runs a session upgrade. Ends failed, saying why, when a job cannot be
    /// suspended (nothing changed on the cluster, the jobs resumed, the
    /// record back on the previous parameters) or the cluster change fails
    /// (the previous revision applied again and recorded, the jobs resumed
    /// from the same savepoints).
    pub(in crate::service) async fn run_session_upgrade(
        &self,
        operation: &Operation,
        instance: &Instance,
        upgrade: SessionUpgrade,
    ) -> Result<(), ServiceError> {
        let mut steps = Steps::new(operation, instance);
        let names: Vec<String> = upgrade.jobs.iter().map(|j| j.name.clone()).collect();
        steps
            .done(
                self,
                format!(
                    "the cluster restarts: suspending {} with a savepoint",
                    names.join(", ")
                ),
            )
            .await?;

        // (a) Every running job stops, each with its own savepoint.
        let suspended = match self
            .suspend_all(instance, &upgrade.jobs, &mut steps)
            .await?
        {
            Ok(suspended) => suspended,
            Err(SuspendFailed { job, why, done }) => {
                // The job that failed gets its running spec back; the others
                // resume from the savepoints they took.
                let others: Vec<Suspended> = upgrade
                    .jobs
                    .iter()
                    .filter(|other| other.name != job)
                    .map(|other| Suspended {
                        job: other.clone(),
                        savepoint: done
                            .iter()
                            .find(|d| d.job.name == other.name)
                            .and_then(|d| d.savepoint.clone()),
                    })
                    .collect();
                if let Some(failed) = upgrade.jobs.iter().find(|other| other.name == job) {
                    self.apply_job(instance, &failed.name, &failed.params, JobWish::Running)
                        .await?;
                }
                let restored = self.record_restore(instance, &upgrade, &mut steps).await?;
                let resumed = self.resume_all(instance, &others, &mut steps).await?;
                let failure = format!(
                    "job {job} could not be suspended with a savepoint: {why}. Nothing was \
                     changed on the cluster; {restored}; {resumed}"
                );
                steps.failed(self, &failure).await;
                return Err(ServiceError::Waiting(failure));
            }
        };

        // (b) and (c): the cluster change, and the cluster ready with it.
        let changed = self
            .apply_cluster(instance, &upgrade.objects, &mut steps)
            .await?;
        if let Err(why) = changed {
            steps
                .done(
                    self,
                    format!(
                        "the cluster change failed ({why}): restoring revision {}",
                        upgrade.previous.number
                    ),
                )
                .await?;
            let before = upgrade
                .previous
                .objects
                .as_array()
                .cloned()
                .unwrap_or_default();
            let back = self.apply_cluster(instance, &before, &mut steps).await?;
            let restored = self.record_restore(instance, &upgrade, &mut steps).await?;
            let resumed = self.resume_all(instance, &suspended, &mut steps).await?;
            let mut failure = format!("the cluster change failed: {why}; {restored}; {resumed}");
            if let Err(again) = back {
                failure = format!(
                    "{failure}; the previous revision did not become ready either: {again}"
                );
            }
            steps.failed(self, &failure).await;
            return Err(ServiceError::Waiting(failure));
        }

        // (d) Each job again, from its own savepoint.
        let resumed = self.resume_all(instance, &suspended, &mut steps).await?;
        if resumed.starts_with("not resumed") {
            steps.failed(self, &resumed).await;
            return Err(ServiceError::Waiting(resumed));
        }
        Ok(())
    }

    /// Suspends each job and waits for each one's savepoint; on the first
    /// that fails, says which, why, and which were suspended before it.
    async fn suspend_all(
        &self,
        instance: &Instance,
        jobs: &[FlinkJob],
        steps: &mut Steps,
    ) -> Result<Result<Vec<Suspended>, SuspendFailed>, ServiceError> {
        // All are asked at once: their savepoints are taken side by side.
        for job in jobs {
            if let Err(error) = self
                .apply_job(instance, &job.name, &job.params, JobWish::Suspended)
                .await
            {
                return Ok(Err(SuspendFailed {
                    job: job.name.clone(),
                    why: error.to_string(),
                    done: Vec::new(),
                }));
            }
        }
        let mut suspended = Vec::new();
        for job in jobs {
            let keeps_state = interrupted(job).keeps_state;
            let object = session_job_object_name(&instance.name, &job.name);
            match self
                .wait_suspended(&instance.namespace, &object, keeps_state, SUSPEND_PATIENCE)
                .await?
            {
                Ok(savepoint) => {
                    let note = match &savepoint {
                        Some(path) => format!("job {} suspended with savepoint {path}", job.name),
                        None => format!("job {} stopped without a savepoint (stateless)", job.name),
                    };
                    steps.done(self, note).await?;
                    suspended.push(Suspended {
                        job: job.clone(),
                        savepoint,
                    });
                }
                Err(why) => {
                    return Ok(Err(SuspendFailed {
                        job: job.name.clone(),
                        why,
                        done: suspended,
                    }));
                }
            }
        }
        Ok(Ok(suspended))
    }

    /// Applies `objects` as the session's objects (pruning what they no
    /// longer have) and waits for the cluster to be ready with them.
    async fn apply_cluster(
        &self,
        instance: &Instance,
        objects: &[Value],
        steps: &mut Steps,
    ) -> Result<Result<(), String>, ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        if let Err(error) = cluster.apply(objects).await {
            return Ok(Err(format!("the API server refused it: {error}")));
        }
        let scope = self.object_scope(instance).await?;
        let pruned = cluster.prune(&scope, objects).await?;
        let mut note = "cluster change applied".to_owned();
        if !pruned.is_empty() {
            note = format!("{note}; pruned {}", pruned.join(", "));
        }
        steps.done(self, note).await?;
        let name = objects
            .iter()
            .find(|o| o["kind"] == "FlinkDeployment")
            .and_then(|o| o["metadata"]["name"].as_str())
            .unwrap_or(&instance.name);
        let ready = self
            .wait_cluster_ready(&instance.namespace, name, CLUSTER_PATIENCE)
            .await?;
        if ready.is_ok() {
            steps.done(self, "cluster ready".to_owned()).await?;
        }
        Ok(ready)
    }

    /// Resumes each job (each restores from its own savepoint, the
    /// operator's `upgradeSavepointPath`) and waits until each runs. Returns
    /// what happened, in words: "jobs … resumed", or "not resumed: …".
    async fn resume_all(
        &self,
        instance: &Instance,
        jobs: &[Suspended],
        steps: &mut Steps,
    ) -> Result<String, ServiceError> {
        let mut failures = Vec::new();
        for Suspended { job, .. } in jobs {
            if let Err(error) = self
                .apply_job(instance, &job.name, &job.params, JobWish::Running)
                .await
            {
                failures.push(format!("{}: {error}", job.name));
            }
        }
        for Suspended { job, savepoint } in jobs {
            let object = session_job_object_name(&instance.name, &job.name);
            match self
                .wait_job_running(&instance.namespace, &object, RESUME_PATIENCE)
                .await?
            {
                Ok(_) => {
                    let from = match savepoint {
                        Some(path) => format!("from savepoint {path}"),
                        None => "without state".to_owned(),
                    };
                    steps
                        .done(self, format!("job {} running again, {from}", job.name))
                        .await?;
                }
                Err(why) => failures.push(format!("{}: {why}", job.name)),
            }
        }
        let names: Vec<&str> = jobs.iter().map(|s| s.job.name.as_str()).collect();
        Ok(if failures.is_empty() {
            format!("jobs {} resumed from the same savepoints", names.join(", "))
        } else {
            format!("not resumed: {}", failures.join("; "))
        })
    }

    /// Records the previous revision's parameters and objects as the
    /// instance's new revision (with a finished rollback operation), so the
    /// record says what runs; returns it in words.
    async fn record_restore(
        &self,
        instance: &Instance,
        upgrade: &SessionUpgrade,
        steps: &mut Steps,
    ) -> Result<String, ServiceError> {
        let now = self.store.instance(instance.id).await?;
        let change = RevisionChange {
            kind: crate::store::OperationKind::Rollback,
            version: version_of(&upgrade.previous.objects).unwrap_or(now.version.clone()),
            params: upgrade.previous.params.clone(),
            objects: upgrade.previous.objects.clone(),
            actor: steps.operation.actor.clone(),
        };
        let (revision, _) = self
            .store
            .record_restored_revision(instance.id, now.current_revision, change)
            .await?;
        self.views.clear();
        let restored = format!(
            "rolled back: revision {} restores revision {}'s parameters",
            revision.number, upgrade.previous.number
        );
        steps.done(self, restored.clone()).await?;
        Ok(restored)
    }
}

/// The Flink version (the form's, e.g. `1.20`) the FlinkDeployment among
/// `objects` runs, from its `spec.flinkVersion`.
fn version_of(objects: &Value) -> Option<String> {
    let wanted = objects
        .as_array()?
        .iter()
        .find(|o| o["kind"] == "FlinkDeployment")?
        .pointer("/spec/flinkVersion")?
        .clone();
    RELEASES
        .iter()
        .find(|release| serde_json::to_value(release.flink_version).ok() == Some(wanted.clone()))
        .map(|release| release.version.to_owned())
}

/// The steps of one session upgrade: each is added to the operation's
/// progress (one line each) and written to the audit log.
struct Steps {
    operation: Operation,
    target: String,
    instance_id: uuid::Uuid,
    lines: Vec<String>,
}

impl Steps {
    fn new(operation: &Operation, instance: &Instance) -> Steps {
        Steps {
            operation: operation.clone(),
            target: instance.target(),
            instance_id: instance.id,
            lines: Vec::new(),
        }
    }

    /// Records a step that is done.
    async fn done(&mut self, service: &Service, step: String) -> Result<(), ServiceError> {
        self.lines.push(step.clone());
        service
            .store
            .set_progress(self.operation.id, &self.lines.join("\n"))
            .await?;
        service.views.clear();
        let entry = Audited::new("session upgrade", &self.target)
            .instance(Some(self.instance_id))
            .detail(format!(
                "{} {}: {step}",
                self.operation.kind,
                short(&self.operation)
            ));
        service.audited(&self.operation.actor, entry, Ok(())).await
    }

    /// Records how the upgrade failed (its audit entry says failed).
    async fn failed(&mut self, service: &Service, failure: &str) {
        let entry = Audited::new("session upgrade", &self.target)
            .instance(Some(self.instance_id))
            .detail(format!(
                "{} {}",
                self.operation.kind,
                short(&self.operation)
            ));
        let _ = service
            .audited::<()>(
                &self.operation.actor,
                entry,
                Err(ServiceError::Waiting(failure.to_owned())),
            )
            .await;
    }
}

/// The operation's revision, as the audit names it.
fn short(operation: &Operation) -> String {
    match operation.revision {
        Some(revision) => format!("to revision {revision}"),
        None => "of the current revision".to_owned(),
    }
}
