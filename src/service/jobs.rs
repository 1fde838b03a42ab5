//! Jobs on Flink session clusters: submit, upgrade, suspend, resume and
//! delete, each kept in the store and applied as the session's
//! FlinkSessionJob in the same request (one server-side apply).
//!
//! The store is written first and put back when the cluster refuses, so a
//! refused request leaves both as they were.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::audit::Audited;
use super::form::{FieldView, field_view};
use super::views::param_texts;
use super::{Service, ServiceError};
use crate::catalog::health::ObservedJob;
use crate::catalog::jobs::{
    JOB_PARAMS, keeps_state, render_session_job, session_job_object_name, validate_session_job,
};
use crate::catalog::render::Target;
use crate::catalog::{self, FieldErrors};
use crate::cluster::watch::InstanceKey;
use crate::crd::JobState;
use crate::store::{FlinkJob, Instance, InstanceStatus, JobWish, StoreError};

/// The app whose instances run session jobs.
const SESSION_APP: &str = "flink";

/// A job on a session cluster: what was asked and what the operator reports.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    /// The job's name.
    pub name: String,
    /// The FlinkSessionJob's name.
    pub object: String,
    /// What was asked of it last: running or suspended.
    pub wish: JobWish,
    /// Its parameters.
    pub params: Value,
    /// Whether its upgrade mode keeps state (savepoint, last-state).
    pub keeps_state: bool,
    /// What the operator reports (empty until it has reconciled it).
    pub observed: ObservedJob,
    /// Flink's job state in a word, e.g. RUNNING.
    pub state: String,
    /// When it was submitted.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl JobView {
    /// The parameters as `key = value` lines, in key order.
    pub fn param_lines(&self) -> Vec<(String, String)> {
        param_texts(&self.params).into_iter().collect()
    }

    /// Whether the page offers Resume rather than Suspend.
    pub fn is_suspended(&self) -> bool {
        self.wish == JobWish::Suspended
    }
}

/// The form that submits or upgrades a job.
#[derive(Debug, Clone, Serialize)]
pub struct JobFormView {
    /// The session cluster.
    pub session: Instance,
    /// The job's name as typed (fixed for an upgrade).
    pub name: String,
    /// Whether the form upgrades an existing job.
    pub upgrade: bool,
    /// The job's fields.
    pub fields: Vec<FieldView>,
    /// The name's error, or the form's.
    pub errors: FieldErrors,
    /// Whether the session cluster has checkpoint storage (HA).
    pub has_storage: bool,
}

impl JobFormView {
    /// The error of the name, if any.
    pub fn name_error(&self) -> Option<&String> {
        self.errors.get("name")
    }

    /// Whether any field has an error.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.fields.iter().any(|field| field.error.is_some())
    }
}

/// Whether a session cluster keeps checkpoints and savepoints somewhere:
/// its HA storage.
fn has_storage(session: &Instance) -> bool {
    session.params["highAvailability"] == Value::Bool(true)
}

/// Job `name`'s parameters checked against `session`, as they are stored.
fn validated_params(
    session: &Instance,
    name: &str,
    raw: &BTreeMap<String, String>,
) -> Result<Value, ServiceError> {
    let values =
        validate_session_job(name, raw, has_storage(session)).map_err(ServiceError::Invalid)?;
    serde_json::to_value(&values).map_err(|e| ServiceError::Encode(e.to_string()))
}

/// A job as its pages show it.
fn job_view(session: &Instance, job: FlinkJob, observed: ObservedJob) -> JobView {
    let values: catalog::Values = serde_json::from_value(job.params.clone()).unwrap_or_default();
    JobView {
        object: session_job_object_name(&session.name, &job.name),
        keeps_state: keeps_state(&values),
        state: observed.state_word().to_owned(),
        observed,
        name: job.name,
        wish: job.state,
        params: job.params,
        created_at: job.created_at,
    }
}

fn invalid(key: &str, message: String) -> ServiceError {
    ServiceError::Invalid(FieldErrors::from([(key.to_owned(), message)]))
}

impl Service {
    /// The session cluster `id`, which must be a Flink session cluster that is
    /// not uninstalled.
    async fn session(&self, id: Uuid) -> Result<Instance, ServiceError> {
        let instance = self.instance_record(id).await?;
        if instance.app != SESSION_APP {
            return Err(ServiceError::Conflict(format!(
                "{} is not a Flink session cluster: jobs are submitted to those",
                instance.name
            )));
        }
        if matches!(
            instance.status,
            InstanceStatus::Uninstalled | InstanceStatus::Uninstalling
        ) {
            return Err(ServiceError::Conflict(format!(
                "{} is {}: it runs no jobs",
                instance.name, instance.status
            )));
        }
        Ok(instance)
    }

    /// What the watches report of the session jobs of `session`, by job name.
    fn observed_jobs(&self, session: &Instance) -> BTreeMap<String, ObservedJob> {
        let key = InstanceKey {
            namespace: session.namespace.clone(),
            name: session.name.clone(),
        };
        self.watches
            .get()
            .map(|watches| watches.session_jobs(&key))
            .unwrap_or_default()
    }

    /// The jobs of session cluster `session`, with what the watches report.
    fn job_views(&self, session: &Instance, jobs: Vec<FlinkJob>) -> Vec<JobView> {
        let mut observed = self.observed_jobs(session);
        jobs.into_iter()
            .map(|job| {
                let seen = observed.remove(&job.name).unwrap_or_default();
                job_view(session, job, seen)
            })
            .collect()
    }

    /// One job of session cluster `session`, with what the watches report.
    fn one_job_view(&self, session: &Instance, job: FlinkJob) -> JobView {
        let seen = self
            .observed_jobs(session)
            .remove(&job.name)
            .unwrap_or_default();
        job_view(session, job, seen)
    }

    /// The jobs of session cluster `id`, oldest first (none for other apps).
    pub async fn jobs(&self, id: Uuid) -> Result<Vec<JobView>, ServiceError> {
        let instance = self.instance_record(id).await?;
        Ok(self.jobs_of(&instance).await?.unwrap_or_default())
    }

    /// The jobs of `instance`, oldest first, if it is a session cluster.
    pub(super) async fn jobs_of(
        &self,
        instance: &Instance,
    ) -> Result<Option<Vec<JobView>>, ServiceError> {
        if instance.app != SESSION_APP {
            return Ok(None);
        }
        let jobs = self.store.jobs(instance.id).await?;
        Ok(Some(self.job_views(instance, jobs)))
    }

    /// Job `name` of session cluster `id`.
    pub async fn job(&self, id: Uuid, name: &str) -> Result<JobView, ServiceError> {
        let session = self.instance_record(id).await?;
        let job = self.stored_job(id, name).await?;
        Ok(self.one_job_view(&session, job))
    }

    async fn stored_job(&self, id: Uuid, name: &str) -> Result<FlinkJob, ServiceError> {
        self.store.job(id, name).await.map_err(|error| match error {
            StoreError::JobNotFound { name } => ServiceError::JobNotFound(name),
            other => other.into(),
        })
    }

    /// The submit form of session cluster `id` (`job` set: the upgrade form of
    /// that job), filled with `raw` and its `errors`.
    pub async fn job_form(
        &self,
        id: Uuid,
        job: Option<&str>,
        raw: &BTreeMap<String, String>,
        errors: &FieldErrors,
    ) -> Result<JobFormView, ServiceError> {
        let session = self.session(id).await?;
        let stored;
        let raw = match job {
            Some(name) if raw.is_empty() => {
                stored = param_texts(&self.stored_job(id, name).await?.params);
                &stored
            }
            _ => raw,
        };
        Ok(JobFormView {
            has_storage: has_storage(&session),
            session,
            name: job
                .map(str::to_owned)
                .or_else(|| raw.get("name").cloned())
                .unwrap_or_default(),
            upgrade: job.is_some(),
            fields: JOB_PARAMS
                .iter()
                .map(|param| field_view(param, raw, errors, &[]))
                .collect(),
            errors: errors
                .iter()
                .filter(|(key, _)| !JOB_PARAMS.iter().any(|p| p.key == key.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    /// Submits job `name` with `raw` parameters to session cluster `id`.
    pub async fn submit_job(
        &self,
        id: Uuid,
        name: &str,
        raw: &BTreeMap<String, String>,
        actor: &str,
    ) -> Result<JobView, ServiceError> {
        let result = self.submit_job_now(id, name, raw).await;
        self.audit_job(actor, "submit job", id, name, job_detail(raw), result)
            .await
    }

    async fn submit_job_now(
        &self,
        id: Uuid,
        name: &str,
        raw: &BTreeMap<String, String>,
    ) -> Result<JobView, ServiceError> {
        let session = self.session(id).await?;
        let params = validated_params(&session, name, raw)?;
        self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let job = self
            .store
            .create_job(id, name, params)
            .await
            .map_err(|error| match error {
                StoreError::JobNameTaken { name } => invalid(
                    "name",
                    format!(
                        "A job named {name} exists already on {}: choose another name",
                        session.name
                    ),
                ),
                other => other.into(),
            })?;
        if let Err(error) = self
            .apply_job(&session, &job.name, &job.params, JobWish::Running)
            .await
        {
            self.store
                .update_job(job.id, &job.params, JobWish::Deleted)
                .await?;
            return Err(error);
        }
        Ok(self.one_job_view(&session, job))
    }

    /// Upgrades job `name` of session cluster `id` to `raw` parameters; the
    /// operator carries its state over as its upgrade mode says.
    pub async fn upgrade_job(
        &self,
        id: Uuid,
        name: &str,
        raw: &BTreeMap<String, String>,
        actor: &str,
    ) -> Result<JobView, ServiceError> {
        let result = async {
            let session = self.session(id).await?;
            let job = self.stored_job(id, name).await?;
            let params = validated_params(&session, name, raw)?;
            self.change_job(&session, job, params, None).await
        }
        .await;
        self.audit_job(actor, "upgrade job", id, name, job_detail(raw), result)
            .await
    }

    /// Suspends (`wish` suspended) or resumes (running) job `name` of session
    /// cluster `id`. Suspending a stateless job drops its state: refused
    /// unless `drop_state` says the user agreed.
    pub async fn set_job_wish(
        &self,
        id: Uuid,
        name: &str,
        wish: JobWish,
        drop_state: bool,
        actor: &str,
    ) -> Result<JobView, ServiceError> {
        let result = self.set_job_wish_now(id, name, wish, drop_state).await;
        let action = match wish {
            JobWish::Suspended => "suspend job",
            _ => "resume job",
        };
        let detail = if drop_state {
            "without a savepoint"
        } else {
            ""
        };
        self.audit_job(actor, action, id, name, detail.to_owned(), result)
            .await
    }

    async fn set_job_wish_now(
        &self,
        id: Uuid,
        name: &str,
        wish: JobWish,
        drop_state: bool,
    ) -> Result<JobView, ServiceError> {
        let session = self.session(id).await?;
        let job = self.stored_job(id, name).await?;
        let values: catalog::Values =
            serde_json::from_value(job.params.clone()).unwrap_or_default();
        if wish == JobWish::Suspended && !keeps_state(&values) && !drop_state {
            let storage = if has_storage(&session) {
                "its upgrade mode is stateless"
            } else {
                "it is stateless and its cluster has no checkpoint storage"
            };
            return Err(invalid(
                "dropState",
                format!(
                    "{name} takes no savepoint: {storage}, so suspending drops its state and \
                     resuming starts it afresh. Tick \"Suspend without a savepoint\" to go on"
                ),
            ));
        }
        let params = job.params.clone();
        self.change_job(&session, job, params, Some(wish)).await
    }

    /// Stores a job's new parameters (and wish), applies it, and puts the
    /// record back when the cluster refuses.
    async fn change_job(
        &self,
        session: &Instance,
        job: FlinkJob,
        params: Value,
        wish: Option<JobWish>,
    ) -> Result<JobView, ServiceError> {
        self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let wish = wish.unwrap_or(job.state);
        self.store.update_job(job.id, &params, wish).await?;
        if let Err(error) = self.apply_job(session, &job.name, &params, wish).await {
            self.store
                .update_job(job.id, &job.params, job.state)
                .await?;
            return Err(error);
        }
        let changed = FlinkJob {
            params,
            state: wish,
            ..job
        };
        Ok(self.one_job_view(session, changed))
    }

    /// Deletes job `name` of session cluster `id`: its FlinkSessionJob goes
    /// (the operator cancels the job), its record stays as deleted.
    pub async fn delete_job(&self, id: Uuid, name: &str, actor: &str) -> Result<(), ServiceError> {
        let result = self.delete_job_now(id, name).await;
        self.audit_job(actor, "delete job", id, name, String::new(), result)
            .await
    }

    /// Writes an audit entry for a job action on session cluster `id`.
    async fn audit_job<T>(
        &self,
        actor: &str,
        action: &'static str,
        id: Uuid,
        name: &str,
        detail: String,
        result: Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let target = match self.store.instance(id).await {
            Ok(session) => format!("{} job {name}", session.target()),
            Err(_) => format!("{id} job {name}"),
        };
        let entry = Audited::new(action, target)
            .instance(Some(id))
            .detail(detail);
        self.audited(actor, entry, result).await
    }

    async fn delete_job_now(&self, id: Uuid, name: &str) -> Result<(), ServiceError> {
        let session = self.instance_record(id).await?;
        let job = self.stored_job(id, name).await?;
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        cluster
            .delete_session_job(
                &session.namespace,
                &session_job_object_name(&session.name, name),
            )
            .await?;
        self.store
            .update_job(job.id, &job.params, JobWish::Deleted)
            .await?;
        self.views.clear();
        Ok(())
    }

    async fn apply_job(
        &self,
        session: &Instance,
        name: &str,
        params: &Value,
        wish: JobWish,
    ) -> Result<(), ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let target = Target {
            id: session.id,
            app: SESSION_APP,
            name: session.name.clone(),
            namespace: session.namespace.clone(),
            version: session.version.clone(),
        };
        let values: catalog::Values = serde_json::from_value(params.clone())
            .map_err(|e| ServiceError::Encode(e.to_string()))?;
        let state = match wish {
            JobWish::Suspended => JobState::Suspended,
            _ => JobState::Running,
        };
        let object = render_session_job(&target, name, &values, state)?;
        cluster.apply(&[object]).await?;
        self.views.clear();
        Ok(())
    }
}

/// `key=value` lines of a job's parameters as sent (jobs have no secret fields).
fn job_detail(raw: &BTreeMap<String, String>) -> String {
    raw.iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("\n")
}
