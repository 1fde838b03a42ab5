//! What the pages show of a session cluster's jobs: the stored record with
//! what the operator reports, and the submit and upgrade forms.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::form::{FieldView, field_view};
use super::views::param_texts;
use super::{Service, ServiceError};
use crate::catalog::health::ObservedJob;
use crate::catalog::jobs::savepoints::START_KEYS;
use crate::catalog::jobs::{
    ArtifactRules, SESSION_JOB_PARAMS, SessionContext, keeps_state, session_job_object_name,
    validate_session_job,
};
use crate::catalog::params::reference_target;
use crate::catalog::{self, FieldErrors};
use crate::cluster::watch::InstanceKey;
use crate::store::{FlinkJob, Instance, InstanceStatus, JobWish, StoreError};

/// The app whose instances run session jobs.
pub(super) const SESSION_APP: &str = "flink";

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
    /// The savepoint a new job starts from, as typed (submit form only).
    pub start_path: String,
    /// Whether "allow non-restored state" is ticked.
    pub allow_non_restored: bool,
}

impl JobFormView {
    /// The error of the name, if any.
    pub fn name_error(&self) -> Option<&String> {
        self.errors.get("name")
    }

    /// The error of the savepoint to start from, if any.
    pub fn start_error(&self) -> Option<&String> {
        self.errors.get(START_KEYS[0])
    }

    /// Whether any field has an error.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.fields.iter().any(|field| field.error.is_some())
    }
}

/// Whether a session cluster keeps checkpoints and savepoints somewhere:
/// its HA storage.
pub(super) fn has_storage(session: &Instance) -> bool {
    session.params["highAvailability"] == Value::Bool(true)
}

/// Job `name`'s parameters checked against its session cluster and
/// operator (`context`), as they are stored.
pub(super) fn validated_params(
    context: &SessionContext,
    name: &str,
    raw: &BTreeMap<String, String>,
) -> Result<Value, ServiceError> {
    let values = validate_session_job(name, raw, context).map_err(ServiceError::Invalid)?;
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

impl Service {
    /// What session cluster `session`'s jobs are checked against: its
    /// storage, and the artifact rules of the operator it picked (the
    /// operator's defaults when that operator is gone).
    pub(super) async fn session_context(
        &self,
        session: &Instance,
    ) -> Result<SessionContext, ServiceError> {
        let reference = session.params["operator"].as_str().unwrap_or_default();
        let (namespace, name) = reference_target(reference, &session.namespace);
        let operator = self
            .store
            .instance_named(&namespace, &name)
            .await?
            .filter(|i| i.app == catalog::flink_operator::APP);
        let artifacts = operator.map_or_else(ArtifactRules::default, |operator| {
            catalog::flink_operator::artifact_rules(&super::install::params_of(&operator.params))
        });
        Ok(SessionContext {
            has_storage: has_storage(session),
            artifacts,
            operator: format!("{namespace}/{name}"),
        })
    }

    /// The session cluster `id`, which must be a Flink session cluster that is
    /// not uninstalled.
    pub(super) async fn session(&self, id: Uuid) -> Result<Instance, ServiceError> {
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
    pub(super) fn observed_jobs(&self, session: &Instance) -> BTreeMap<String, ObservedJob> {
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
    pub(super) fn job_views(&self, session: &Instance, jobs: Vec<FlinkJob>) -> Vec<JobView> {
        let mut observed = self.observed_jobs(session);
        jobs.into_iter()
            .map(|job| {
                let seen = observed.remove(&job.name).unwrap_or_default();
                job_view(session, job, seen)
            })
            .collect()
    }

    /// One job of session cluster `session`, with what the watches report.
    pub(super) fn one_job_view(&self, session: &Instance, job: FlinkJob) -> JobView {
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

    pub(super) async fn stored_job(&self, id: Uuid, name: &str) -> Result<FlinkJob, ServiceError> {
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
        let context = self.session_context(&session).await?;
        let jar_help = context.artifacts.help(&context.operator);
        let start_path = if job.is_some() {
            String::new()
        } else {
            raw.get(START_KEYS[0]).cloned().unwrap_or_default()
        };
        let allow_non_restored = raw
            .get(START_KEYS[1])
            .is_some_and(|v| matches!(v.as_str(), "on" | "true"));
        Ok(JobFormView {
            start_path,
            allow_non_restored,
            has_storage: has_storage(&session),
            session,
            name: job
                .map(str::to_owned)
                .or_else(|| raw.get("name").cloned())
                .unwrap_or_default(),
            upgrade: job.is_some(),
            fields: SESSION_JOB_PARAMS
                .iter()
                .map(|param| {
                    let mut field = field_view(param, SESSION_JOB_PARAMS, raw, errors, &[]);
                    if param.key == "jarURI" {
                        field.help = jar_help.clone();
                    }
                    field
                })
                .collect(),
            errors: errors
                .iter()
                .filter(|(key, _)| !SESSION_JOB_PARAMS.iter().any(|p| p.key == key.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }
}
