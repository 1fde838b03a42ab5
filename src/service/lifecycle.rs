//! Uninstall and restart, stored as operations and run by the worker.
//! Uninstall is refused while other instances use the instance; it deletes in
//! teardown order until every object is gone, and keeps the record, as
//! Uninstalled, with its history.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::audit::Audited;
use super::{Service, ServiceError};
use crate::catalog::params::{reference_target, reference_value};
use crate::catalog::{self, ParamKind};
use crate::store::{Instance, InstanceStatus, Operation, OperationKind, OperationState};

/// How long the worker waits for an instance's objects to go before it
/// reports what holds them and lets the user retry.
const TEARDOWN_PATIENCE: Duration = Duration::from_secs(60);

/// An instance that uses another through one of its parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Dependant {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its app's display name.
    pub app: &'static str,
    /// The parameter that refers to the other instance.
    pub through: &'static str,
}

/// The instances among `instances` (not uninstalled, in any namespace) whose
/// reference parameters name instance `name` of app `app` in `namespace`.
pub(super) fn referring(
    app: &str,
    namespace: &str,
    name: &str,
    instances: &[Instance],
) -> Vec<Dependant> {
    let mut dependants = Vec::new();
    for other in instances {
        if other.status == InstanceStatus::Uninstalled {
            continue;
        }
        let Some(other_app) = catalog::find(&other.app) else {
            continue;
        };
        for param in other_app.params {
            let ParamKind::Reference { app: wanted } = param.kind else {
                continue;
            };
            let Some(value) = other.params.get(param.key).and_then(Value::as_str) else {
                continue;
            };
            let (ns, referred) = reference_target(value, &other.namespace);
            if wanted == app && ns == namespace && referred == name {
                dependants.push(Dependant {
                    id: other.id,
                    name: other.name.clone(),
                    namespace: other.namespace.clone(),
                    app: other_app.display_name,
                    through: param.label,
                });
            }
        }
    }
    dependants
}

impl Service {
    /// The instances (not uninstalled, in any namespace) whose parameters
    /// refer to `instance`: for an operator, the Flink instances in the
    /// namespaces it watches that picked it.
    pub async fn dependants(&self, instance: &Instance) -> Result<Vec<Dependant>, ServiceError> {
        let instances = self.store.instances(None).await?;
        Ok(referring(
            &instance.app,
            &instance.namespace,
            &instance.name,
            &instances,
        ))
    }

    /// Queues the uninstall of an instance, after the user typed its name;
    /// with `delete_savepoints`, a Flink cluster's savepoint directory goes
    /// too once the cluster is gone (refused, field
    /// [`super::savepoints::DELETE_SAVEPOINTS_FIELD`], where dataport cannot
    /// delete it: [`Service::savepoint_store`]). Refused (409) while other
    /// instances depend on it.
    pub async fn uninstall(
        &self,
        id: Uuid,
        confirm: &str,
        delete_savepoints: bool,
        actor: &str,
    ) -> Result<Operation, ServiceError> {
        let instance = self.instance_record(id).await?;
        let result = self
            .queue_uninstall(&instance, confirm, delete_savepoints, actor)
            .await;
        let mut entry = Audited::new("uninstall", instance.target()).instance(Some(id));
        if let Ok(Operation {
            deletes_savepoints: Some(dir),
            ..
        }) = &result
        {
            entry = entry.detail(format!("and delete its savepoints under {dir}"));
        }
        self.audited(actor, entry, result).await
    }

    async fn queue_uninstall(
        &self,
        instance: &Instance,
        confirm: &str,
        delete_savepoints: bool,
        actor: &str,
    ) -> Result<Operation, ServiceError> {
        let id = instance.id;
        if confirm.trim() != instance.name {
            return Err(ServiceError::invalid(
                "confirm",
                format!("Type the instance's name, {}, to confirm", instance.name),
            ));
        }
        if matches!(
            instance.status,
            InstanceStatus::Uninstalled | InstanceStatus::Uninstalling
        ) {
            return Err(ServiceError::Conflict(format!(
                "{} is already {}",
                instance.name, instance.status
            )));
        }
        let dependants = self.dependants(instance).await?;
        if !dependants.is_empty() {
            let users: Vec<String> = dependants
                .iter()
                .map(|d| {
                    let who = reference_value(&d.namespace, &d.name, &instance.namespace);
                    format!("{who} ({}, as its {})", d.app, d.through)
                })
                .collect();
            return Err(ServiceError::Conflict(format!(
                "{} is used by {}: uninstall or change those first",
                instance.name,
                users.join(", ")
            )));
        }
        self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let deletes_savepoints = match delete_savepoints {
            true => Some(self.savepoint_store(instance).await?.dir),
            false => None,
        };
        let operation = self
            .store
            .queue_uninstall(id, actor, deletes_savepoints)
            .await?;
        self.views.clear();
        self.work.notify_one();
        Ok(operation)
    }

    /// Deletes the instance's objects and waits until they are gone, keeping
    /// the operation's progress up to date with what it waits for.
    pub(super) async fn run_uninstall(&self, operation: &Operation) -> Result<(), ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let instance = self.store.instance(operation.instance_id).await?;
        let scope = self.object_scope(&instance).await?;
        let started = Instant::now();
        loop {
            let remaining = cluster.delete_instance(&scope).await?;
            let Some(first) = remaining.first() else {
                // The last progress line is what the operation ends with.
                let mut done = "All its objects are gone".to_owned();
                if matches!(instance.app.as_str(), "flink" | "flink-application") {
                    // What Flink's Kubernetes HA keeps would make a new
                    // cluster of this name resume the old jobs.
                    let gone = cluster
                        .delete_flink_ha_config_maps(&instance.namespace, &instance.name)
                        .await?;
                    if !gone.is_empty() {
                        tracing::info!(instance = %instance.target(), config_maps = ?gone,
                            "deleted Flink's HA ConfigMaps");
                        done = format!(
                            "{done}, and Flink's high-availability ConfigMaps too ({})",
                            gone.join(", ")
                        );
                    }
                }
                if let Some(dir) = &operation.deletes_savepoints {
                    let deleting = format!("Deleting its savepoints under {dir}");
                    self.store.set_progress(operation.id, &deleting).await?;
                    // The cluster is gone either way: a failure is said, not fatal.
                    done = match self.delete_savepoint_dir(&instance, dir).await {
                        Ok(0) => format!("{done}; there were no savepoints under {dir}"),
                        Ok(1) => format!("{done}; its savepoints under {dir} are deleted (1 file)"),
                        Ok(files) => format!(
                            "{done}; its savepoints under {dir} are deleted ({files} files)"
                        ),
                        Err(error) => {
                            tracing::warn!(instance = %instance.target(), %dir, %error,
                                "savepoints not deleted");
                            format!("{done}; its savepoints under {dir} were NOT deleted: {error}")
                        }
                    };
                }
                self.store.set_progress(operation.id, &done).await?;
                // Its session jobs went first, with its other objects.
                self.store.delete_jobs_of(instance.id).await?;
                self.store
                    .set_status(instance.id, InstanceStatus::Uninstalled)
                    .await?;
                return Ok(());
            };
            let waiting = first.describe();
            self.store.set_progress(operation.id, &waiting).await?;
            self.views.clear();
            if started.elapsed() > TEARDOWN_PATIENCE {
                return Err(ServiceError::Waiting(waiting));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The instance record, or `InstanceNotFound`.
    pub(super) async fn instance_record(&self, id: Uuid) -> Result<Instance, ServiceError> {
        self.store.instance(id).await.map_err(|error| match error {
            crate::store::StoreError::NotFound { .. } => ServiceError::InstanceNotFound(id),
            other => other.into(),
        })
    }
}

impl Service {
    /// Queues a rolling restart of an instance's workloads.
    pub async fn restart(&self, id: Uuid, actor: &str) -> Result<Operation, ServiceError> {
        let instance = self.instance_record(id).await?;
        let result = self.queue_restart(&instance, actor).await;
        let entry = Audited::new("restart", instance.target()).instance(Some(id));
        self.audited(actor, entry, result).await
    }

    async fn queue_restart(
        &self,
        instance: &Instance,
        actor: &str,
    ) -> Result<Operation, ServiceError> {
        let id = instance.id;
        if matches!(
            instance.status,
            InstanceStatus::Uninstalled | InstanceStatus::Uninstalling
        ) {
            return Err(ServiceError::Conflict(format!(
                "{} is {}: nothing to restart",
                instance.name, instance.status
            )));
        }
        self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let operation = self
            .store
            .queue_operation(id, OperationKind::Restart, instance.status, actor)
            .await?;
        self.views.clear();
        self.work.notify_one();
        Ok(operation)
    }

    /// Rolls the instance's workloads.
    pub(super) async fn run_restart(&self, operation: &Operation) -> Result<(), ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let instance = self.store.instance(operation.instance_id).await?;
        let stamp = operation.created_at.timestamp();
        let restarted = cluster
            .restart_instance(&instance.namespace, &instance.name, stamp)
            .await?;
        self.store
            .set_progress(
                operation.id,
                &format!(
                    "Restarted {restarted} workload{}",
                    if restarted == 1 { "" } else { "s" }
                ),
            )
            .await?;
        Ok(())
    }
}

impl Service {
    /// Runs the instance's last operation again when it failed (after the
    /// cluster came back, say): the same kind on the current revision. A
    /// failed uninstall is retried only when `may_uninstall`.
    pub async fn retry(
        &self,
        id: Uuid,
        actor: &str,
        may_uninstall: bool,
    ) -> Result<Operation, ServiceError> {
        let instance = self.instance_record(id).await?;
        let last = self.store.operations(id).await?.into_iter().next();
        let result = match &last {
            Some(failed) if failed.state == OperationState::Failed => {
                if failed.kind == OperationKind::Uninstall && !may_uninstall {
                    Err(ServiceError::NotAllowed(
                        "Retrying an uninstall needs the admin role".to_owned(),
                    ))
                } else {
                    self.queue_retry(&instance, failed.kind, actor).await
                }
            }
            _ => Err(ServiceError::Conflict(format!(
                "{}'s last operation did not fail: nothing to retry",
                instance.name
            ))),
        };
        let detail = last.map_or_else(String::new, |op| format!("the failed {}", op.kind));
        let entry = Audited::new("retry", instance.target())
            .instance(Some(id))
            .detail(detail);
        self.audited(actor, entry, result).await
    }

    async fn queue_retry(
        &self,
        instance: &Instance,
        kind: OperationKind,
        actor: &str,
    ) -> Result<Operation, ServiceError> {
        self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let status = match kind {
            OperationKind::Install => InstanceStatus::Installing,
            OperationKind::Update | OperationKind::Rollback => InstanceStatus::Updating,
            OperationKind::Uninstall => InstanceStatus::Uninstalling,
            OperationKind::Restart => instance.status,
        };
        let operation = self
            .store
            .queue_operation(instance.id, kind, status, actor)
            .await?;
        self.views.clear();
        self.work.notify_one();
        Ok(operation)
    }
}
