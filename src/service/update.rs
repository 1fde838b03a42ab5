//! Update and rollback: a new revision of an existing instance, shown as a
//! diff of its objects before it is applied; objects it no longer renders
//! are pruned by the worker.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::audit::{Audited, param_changes};
use super::diff::{ObjectChange, ObjectDiff, object_diffs, unified_text};
use super::session_upgrade::InterruptedJob;
use super::views::param_texts;
use super::{Prepared, Service, ServiceError};
use crate::catalog::jobs::savepoints::{START_KEYS, start_fields};
use crate::catalog::render::{Object, Target};
use crate::catalog::{self, FieldErrors, Values};
use crate::store::{InstanceStatus, Operation, OperationKind, RevisionChange};

/// What an update would change, before anything is written.
#[derive(Debug, Clone, Serialize)]
pub struct UpdatePlan {
    /// The revision the change is made from.
    pub from_revision: i64,
    /// A unified diff of the objects' YAML, each object under a header that
    /// names it (`--- Kind/name (revision N)`, `+++ Kind/name (this update)`).
    pub diff: String,
    /// Each object, rendered now or before, with what happens to it.
    pub object_changes: Vec<ObjectDiff>,
    /// Whether anything changes at all.
    pub changes: bool,
    /// The objects the update applies: the same render as [`Service::update`]'s.
    pub objects: Vec<Object>,
    /// The running jobs of a session cluster the change restarts: each is
    /// suspended with a savepoint and resumed from it (stateless ones start
    /// again without state). Empty when the cluster does not restart.
    pub interrupted_jobs: Vec<InterruptedJob>,
}

impl UpdatePlan {
    /// The objects that change, in order.
    pub fn changed(&self) -> impl Iterator<Item = &ObjectDiff> {
        self.object_changes
            .iter()
            .filter(|d| d.change != ObjectChange::Unchanged)
    }

    /// `Kind name` of each object left as it is, e.g. "Service minio".
    pub fn unchanged(&self) -> Vec<String> {
        self.object_changes
            .iter()
            .filter(|d| d.change == ObjectChange::Unchanged)
            .map(|d| format!("{} {}", d.kind, d.name))
            .collect()
    }
}

impl Service {
    /// The form values of an instance's current parameters, as the form sends them.
    pub async fn current_form_values(
        &self,
        id: Uuid,
    ) -> Result<BTreeMap<String, String>, ServiceError> {
        let instance = self.instance_record(id).await?;
        let mut raw = param_texts(&instance.params);
        raw.insert("name".into(), instance.name);
        raw.insert("namespace".into(), instance.namespace);
        raw.insert("version".into(), instance.version);
        Ok(raw)
    }

    /// Renders the change and diffs it against the current revision.
    pub async fn plan_update(
        &self,
        id: Uuid,
        version: Option<String>,
        params: &BTreeMap<String, String>,
    ) -> Result<UpdatePlan, ServiceError> {
        let (from_revision, prepared, current) =
            self.render_update(id, version, params, None).await?;
        self.plan(id, from_revision, prepared, current).await
    }

    /// What rolling instance `id` back to revision `to`'s parameters would
    /// change, before anything is written (the rollback's confirmation).
    pub async fn plan_rollback(&self, id: Uuid, to: i64) -> Result<UpdatePlan, ServiceError> {
        let instance = self.instance_record(id).await?;
        let (from_revision, prepared, current) = self.render_rollback(&instance, to).await?;
        self.plan(id, from_revision, prepared, current).await
    }

    async fn plan(
        &self,
        id: Uuid,
        from_revision: i64,
        prepared: Prepared,
        current: Vec<Object>,
    ) -> Result<UpdatePlan, ServiceError> {
        let object_changes = object_diffs(&current, &prepared.objects)?;
        let instance = self.instance_record(id).await?;
        let interrupted_jobs = self
            .interrupted_jobs(&instance, &current, &prepared.objects)
            .await?;
        Ok(UpdatePlan {
            from_revision,
            diff: unified_text(from_revision, &object_changes),
            changes: object_changes
                .iter()
                .any(|d| d.change != ObjectChange::Unchanged),
            object_changes,
            objects: prepared.objects,
            interrupted_jobs,
        })
    }

    /// Stores revision `expected_revision + 1` and queues its apply. Refused
    /// (409) when the instance changed since `expected_revision` was read.
    pub async fn update(
        &self,
        id: Uuid,
        expected_revision: i64,
        version: Option<String>,
        params: &BTreeMap<String, String>,
        actor: &str,
    ) -> Result<Operation, ServiceError> {
        let before = self.instance_record(id).await?;
        let result = async {
            let (_, prepared, _) = self
                .render_update(id, version.clone(), params, None)
                .await?;
            self.add_revision(
                id,
                expected_revision,
                OperationKind::Update,
                prepared,
                actor,
            )
            .await
        }
        .await;
        let mut detail = param_changes(&before.app, &before.params, params);
        if let Some(version) = version.filter(|v| *v != before.version) {
            detail = format!("version: {:?} → {version:?}\n{detail}", before.version);
        }
        let entry = Audited::new("update", before.target())
            .instance(Some(id))
            .detail(format!("from revision {expected_revision}\n{detail}"));
        self.audited(actor, entry, result).await
    }

    /// Makes a new revision from an earlier one's parameters and queues its apply.
    pub async fn rollback(
        &self,
        id: Uuid,
        to: i64,
        actor: &str,
    ) -> Result<Operation, ServiceError> {
        let instance = self.instance_record(id).await?;
        let result = self.queue_rollback(&instance, to, actor).await;
        let entry = Audited::new("rollback", instance.target())
            .instance(Some(id))
            .detail(format!(
                "from revision {} to the parameters of revision {to}",
                instance.current_revision
            ));
        self.audited(actor, entry, result).await
    }

    async fn queue_rollback(
        &self,
        instance: &crate::store::Instance,
        to: i64,
        actor: &str,
    ) -> Result<Operation, ServiceError> {
        let (_, prepared, _) = self.render_rollback(instance, to).await?;
        self.add_revision(
            instance.id,
            instance.current_revision,
            OperationKind::Rollback,
            prepared,
            actor,
        )
        .await
    }

    /// Renders revision `to`'s parameters for the instance (at its current
    /// version); as [`Self::render_update`].
    async fn render_rollback(
        &self,
        instance: &crate::store::Instance,
        to: i64,
    ) -> Result<(i64, Prepared, Vec<Object>), ServiceError> {
        let id = instance.id;
        let old = self.store.revision(id, to).await.map_err(|_| {
            ServiceError::invalid(
                "revision",
                format!("{} has no revision {to}", instance.name),
            )
        })?;
        let params = param_texts(&old.params);
        // The version in force at that revision is the one its FlinkDeployment or images carry;
        // the record keeps the current one, so the old parameters render at the current version.
        self.render_update(id, Some(instance.version.clone()), &params, None)
            .await
    }

    /// Renders `params` for the existing instance; returns the current
    /// revision number, the rendered change and the current objects. An
    /// application's savepoint to start from is not a form field: `start`
    /// gives new start fields, else the current ones are kept (a later update
    /// or rollback does not redeploy from a savepoint again).
    pub(super) async fn render_update(
        &self,
        id: Uuid,
        version: Option<String>,
        params: &BTreeMap<String, String>,
        start: Option<Values>,
    ) -> Result<(i64, Prepared, Vec<Object>), ServiceError> {
        let instance = self.instance_record(id).await?;
        if matches!(
            instance.status,
            InstanceStatus::Uninstalled | InstanceStatus::Uninstalling
        ) {
            return Err(ServiceError::Conflict(format!(
                "{} is {}",
                instance.name, instance.status
            )));
        }
        let app = catalog::find(&instance.app)
            .ok_or_else(|| ServiceError::AppNotFound(instance.app.clone()))?;
        let version = version.unwrap_or_else(|| instance.version.clone());
        let target = Target {
            id: instance.id,
            app: app.name,
            name: instance.name.clone(),
            namespace: instance.namespace.clone(),
            version,
        };
        let mut params = params.clone();
        for key in START_KEYS {
            params.remove(key);
        }
        let start = start.unwrap_or_else(|| start_fields(&instance.params));
        let prepared = self
            .validate_and_render(app, target, &params, FieldErrors::new(), start)
            .await?;
        let current = self.store.revision(id, instance.current_revision).await?;
        let current_objects = current.objects.as_array().cloned().unwrap_or_default();
        Ok((instance.current_revision, prepared, current_objects))
    }

    pub(super) async fn add_revision(
        &self,
        id: Uuid,
        expected: i64,
        kind: OperationKind,
        prepared: Prepared,
        actor: &str,
    ) -> Result<Operation, ServiceError> {
        self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let change = RevisionChange {
            kind,
            version: prepared.target.version,
            params: Value::Object(prepared.values.into_iter().collect()),
            objects: Value::Array(prepared.objects),
            actor: actor.to_owned(),
        };
        let (_, operation) = self.store.add_revision(id, expected, change).await?;
        self.views.clear();
        self.work.notify_one();
        Ok(operation)
    }
}
