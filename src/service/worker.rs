//! The background worker: runs stored operations against the cluster.
//!
//! Operations are stored before they act; the worker takes up every pending
//! or running one, oldest first, at start-up (resuming what a crash
//! interrupted), when woken, and every few seconds.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::{Service, ServiceError};
use crate::catalog::health::runs_workloads;
use crate::cluster::Cluster;
use crate::cluster::instances::ObjectScope;
use crate::store::{Instance, InstanceStatus, Operation, OperationKind};

/// The catalog app that is the Flink operator: its instances come with the
/// Flink CRDs (catalog/apps/flink_operator.rs names it).
const FLINK_OPERATOR_APP: &str = "flink-kubernetes-operator";

/// How often the worker looks for operations it was not woken for.
const POLL: Duration = Duration::from_secs(5);

impl Service {
    /// Starts the worker on the current runtime, if a cluster is configured.
    pub fn spawn_worker(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        self.cluster.as_ref()?;
        let service = self.clone();
        Some(tokio::spawn(async move {
            loop {
                // Followers only queue; the leader runs what anyone queued.
                if service.is_leader()
                    && let Err(error) = service.run_pending().await
                {
                    tracing::warn!(%error, "worker pass failed; retrying");
                }
                tokio::select! {
                    _ = service.work.notified() => {}
                    _ = service.leadership_changed() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        }))
    }

    /// Runs every unfinished operation once.
    async fn run_pending(&self) -> Result<(), ServiceError> {
        for operation in self.store.unfinished_operations().await? {
            self.store.start_operation(operation.id).await?;
            self.views.clear();
            let outcome = self.run(&operation).await;
            let error = outcome.as_ref().err().map(ToString::to_string);
            if let Some(error) = &error {
                tracing::warn!(operation = %operation.id, %error, "operation failed");
                self.store
                    .set_status(operation.instance_id, InstanceStatus::Failed)
                    .await?;
            }
            self.store
                .finish_operation(operation.id, error.as_deref())
                .await?;
            if error.is_none()
                && matches!(
                    operation.kind,
                    OperationKind::Install | OperationKind::Update | OperationKind::Rollback
                )
            {
                let (instance, objects) = self.revision_objects(&operation).await?;
                if !runs_workloads(&objects) {
                    // No watched object will ever report on it: applied is running.
                    self.store
                        .set_status(instance.id, InstanceStatus::Running)
                        .await?;
                } else if operation.kind != OperationKind::Install {
                    self.settle_update(operation.instance_id).await?;
                }
            }
            self.views.clear();
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(operation = %operation.id, kind = %operation.kind))]
    async fn run(&self, operation: &Operation) -> Result<(), ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        match operation.kind {
            OperationKind::Install => {
                let (instance, objects) = self.revision_objects(operation).await?;
                self.ensure_crds_for(&instance, operation).await?;
                // The install request created the instance's namespace; an
                // operator's watched namespaces are created here.
                ensure_namespaces(cluster, &objects).await?;
                cluster.apply(&objects).await?;
                tracing::info!(instance = %instance.name, objects = objects.len(), "applied");
                Ok(())
            }
            OperationKind::Update | OperationKind::Rollback => {
                let (instance, objects) = self.revision_objects(operation).await?;
                // A session cluster that restarts takes its jobs through savepoints.
                if let Some(upgrade) = self.session_upgrade(&instance, operation, &objects).await? {
                    return self
                        .run_session_upgrade(operation, &instance, upgrade)
                        .await;
                }
                let crds = self.ensure_crds_for(&instance, operation).await?;
                ensure_namespaces(cluster, &objects).await?;
                cluster.apply(&objects).await?;
                let scope = self.object_scope(&instance).await?;
                let pruned = cluster.prune(&scope, &objects).await?;
                if !pruned.is_empty() {
                    let pruned = format!("pruned {}", pruned.join(", "));
                    let note = match crds {
                        Some(crds) => format!("{crds}; {pruned}"),
                        None => pruned,
                    };
                    self.store.set_progress(operation.id, &note).await?;
                }
                // Updating until the objects have rolled out (settle_update).
                Ok(())
            }
            OperationKind::Uninstall => self.run_uninstall(operation).await,
            OperationKind::Restart => self.run_restart(operation).await,
        }
    }

    /// Before the Flink operator is installed or updated: installs the Flink
    /// CRDs it needs, never narrowing the cluster's (CRDs are cluster-wide and
    /// shared by every operator, so uninstalling never deletes them). The
    /// outcome is the operation's progress note, and is returned.
    async fn ensure_crds_for(
        &self,
        instance: &Instance,
        operation: &Operation,
    ) -> Result<Option<String>, ServiceError> {
        if instance.app != FLINK_OPERATOR_APP {
            return Ok(None);
        }
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let reports = cluster.ensure_flink_crds().await?;
        for report in &reports {
            tracing::info!(instance = %instance.name, "CRD {report}");
        }
        let note = crate::cluster::crds::summary(&reports);
        self.store.set_progress(operation.id, &note).await?;
        Ok(Some(note))
    }

    /// Where instance `instance`'s objects are: its namespace and every
    /// namespace any of its revisions rendered into (an operator's watched
    /// namespaces, past and present), so that prune and uninstall find them.
    pub(super) async fn object_scope(
        &self,
        instance: &Instance,
    ) -> Result<ObjectScope, ServiceError> {
        let mut namespaces = vec![instance.namespace.clone()];
        for revision in self.store.revisions(instance.id).await? {
            for object in revision.objects.as_array().into_iter().flatten() {
                if let Some(namespace) = object["metadata"]["namespace"].as_str()
                    && !namespaces.iter().any(|n| n == namespace)
                {
                    namespaces.push(namespace.to_owned());
                }
            }
        }
        Ok(ObjectScope {
            id: instance.id,
            name: instance.name.clone(),
            namespace: instance.namespace.clone(),
            namespaces,
        })
    }

    /// The instance an operation acts on and the objects of the revision it applies.
    async fn revision_objects(
        &self,
        operation: &Operation,
    ) -> Result<(Instance, Vec<Value>), ServiceError> {
        let instance = self.store.instance(operation.instance_id).await?;
        let number = operation.revision.unwrap_or(instance.current_revision);
        let revision = self.store.revision(instance.id, number).await?;
        let objects = match revision.objects {
            Value::Array(objects) => objects,
            _ => Vec::new(),
        };
        Ok((instance, objects))
    }
}

/// Creates every namespace `objects` go into that does not exist yet.
async fn ensure_namespaces(cluster: &Cluster, objects: &[Value]) -> Result<(), ServiceError> {
    let mut seen: Vec<&str> = Vec::new();
    for namespace in objects
        .iter()
        .filter_map(|object| object["metadata"]["namespace"].as_str())
    {
        if !seen.contains(&namespace) {
            seen.push(namespace);
            cluster.ensure_namespace(namespace).await?;
        }
    }
    Ok(())
}
