//! Jobs on Flink session clusters: submit, upgrade, suspend, resume and
//! delete, each kept in the store and applied as the session's
//! FlinkSessionJob in the same request (one server-side apply).
//!
//! The store is written first and put back when the cluster refuses, so a
//! refused request leaves both as they were.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use super::audit::Audited;
use super::job_views::{JobView, SESSION_APP, has_storage, validated_params};
use super::{Service, ServiceError};
use crate::catalog::jobs::savepoints::{INITIAL_SAVEPOINT, start_fields, take_start_fields};
use crate::catalog::jobs::{keeps_state, render_session_job, session_job_object_name};
use crate::catalog::render::Target;
use crate::catalog::{self};
use crate::crd::JobState;
use crate::store::{FlinkJob, Instance, JobWish, StoreError};

impl Service {
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
        let context = self.session_context(&session).await?;
        let mut raw = raw.clone();
        let start = take_start_fields(&mut raw);
        let mut params = validated_params(&context, name, &raw)?;
        self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        if let Some(path) = start.get(INITIAL_SAVEPOINT).and_then(Value::as_str) {
            self.check_start_path(&session, path).await?;
        }
        if let Some(map) = params.as_object_mut() {
            map.extend(start);
        }
        let job = self
            .store
            .create_job(id, name, params)
            .await
            .map_err(|error| match error {
                StoreError::JobNameTaken { name } => ServiceError::invalid(
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
            let context = self.session_context(&session).await?;
            let mut raw = raw.clone();
            // Where it starts from is changed by a redeploy, not an upgrade.
            take_start_fields(&mut raw);
            let mut params = validated_params(&context, name, &raw)?;
            if let Some(map) = params.as_object_mut() {
                map.extend(start_fields(&job.params));
            }
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
            return Err(ServiceError::invalid(
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
    pub(super) async fn change_job(
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
    pub(super) async fn audit_job<T>(
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

    pub(super) async fn apply_job(
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
