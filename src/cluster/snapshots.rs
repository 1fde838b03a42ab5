//! A job's savepoints and checkpoints as FlinkStateSnapshot resources: read
//! them, ask for a new savepoint, and read where its session keeps them.
//!
//! Facts: flink-kubernetes-operator release-1.15.0,
//! `utils/FlinkStateSnapshotUtils.java` (names `<job>-savepoint-<trigger>-<epoch ms>`,
//! label `snapshot.trigger-type`), `reconciler/snapshot/StateSnapshotReconciler.java`
//! (a savepoint without `path` goes to the cluster's
//! `execution.checkpointing.savepoint-dir`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde_json::json;

use super::{Cluster, ClusterError};
use crate::crd::{FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot, JobKind};

/// The savepoint directory keys, newest first (Flink 1.20's name, then the
/// old one; `CheckpointingOptions.SAVEPOINT_DIRECTORY` and its deprecated keys).
const SAVEPOINT_DIR_KEYS: [&str; 3] = [
    "execution.checkpointing.savepoint-dir",
    "state.savepoints.dir",
    "savepoints.state.backend.fs.dir",
];

/// Retries of a savepoint asked for from the portal. Flink refuses a
/// savepoint while any task of a job that reports RUNNING is still being
/// deployed ("Not all required tasks are currently running"); the operator
/// tries again after 10 s, then 20 s (`FlinkStateSnapshotController.updateErrorStatus`).
/// Its default, −1, never retries (`failures > backoffLimit`).
const BACKOFF_LIMIT: i32 = 2;

impl Cluster {
    /// The FlinkStateSnapshots of the job of resource `kind` `job` in
    /// `namespace` (a FlinkSessionJob, or an application's FlinkDeployment;
    /// by `spec.jobReference`, so that those the operator has not labelled
    /// yet count too), newest first.
    pub async fn job_snapshots(
        &self,
        namespace: &str,
        kind: JobKind,
        job: &str,
    ) -> Result<Vec<FlinkStateSnapshot>, ClusterError> {
        let api: Api<FlinkStateSnapshot> = Api::namespaced(self.client().clone(), namespace);
        let mut found: Vec<FlinkStateSnapshot> = api
            .list(&ListParams::default())
            .await?
            .items
            .into_iter()
            .filter(|snapshot| {
                snapshot
                    .spec
                    .job_reference
                    .as_ref()
                    .is_some_and(|r| r.kind == Some(kind) && r.name.as_deref() == Some(job))
            })
            .collect();
        found.sort_by_key(|s| std::cmp::Reverse(s.creation_timestamp().map(|t| t.0)));
        Ok(found)
    }

    /// Asks for a savepoint of the job of resource `kind` `job` in
    /// `namespace` (a FlinkSessionJob, or an application's FlinkDeployment):
    /// a FlinkStateSnapshot named as the operator names a manual one, owned
    /// by that resource (it goes when the resource goes; its files stay:
    /// `disposeOnDelete: false`), into the cluster's savepoint directory.
    /// Returns its name.
    pub async fn create_savepoint(
        &self,
        namespace: &str,
        kind: JobKind,
        job: &str,
    ) -> Result<String, ClusterError> {
        let owner_reference = match kind {
            JobKind::FlinkSessionJob => self.owner::<FlinkSessionJob>(namespace, job).await?,
            JobKind::FlinkDeployment => self.owner::<FlinkDeployment>(namespace, job).await?,
        };
        let kind_name = owner_reference.kind.clone();
        let name = format!(
            "{job}-savepoint-manual-{}",
            chrono::Utc::now().timestamp_millis()
        );
        let snapshot: FlinkStateSnapshot = serde_json::from_value(json!({
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkStateSnapshot",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {"snapshot.trigger-type": "MANUAL"},
                "ownerReferences": [owner_reference],
            },
            "spec": {
                "jobReference": {"kind": kind_name, "name": job},
                "savepoint": {"formatType": "CANONICAL", "disposeOnDelete": false,
                    "alreadyExists": false},
                "backoffLimit": BACKOFF_LIMIT,
            },
        }))
        .map_err(|e| ClusterError::Encode(e.to_string()))?;
        let api: Api<FlinkStateSnapshot> = Api::namespaced(self.client().clone(), namespace);
        api.create(&PostParams::default(), &snapshot)
            .await
            .map_err(|source| ClusterError::Refused {
                object: format!("FlinkStateSnapshot {namespace}/{name}"),
                source,
            })?;
        Ok(name)
    }

    /// Deletes savepoint FlinkStateSnapshot `name` in `namespace` and,
    /// through the operator, its files: sets `spec.savepoint.disposeOnDelete`
    /// first, so that the operator's finalizer
    /// (`flinkstatesnapshots.flink.apache.org/finalizer`) disposes of a
    /// completed savepoint through its job's cluster (`POST
    /// /savepoint-disposal`) before it lets the object go
    /// (`StateSnapshotReconciler.cleanup`, flink-kubernetes-operator
    /// release-1.15.0). Returns at once: the object stays, with its
    /// `deletionTimestamp`, until the operator released it.
    pub async fn delete_savepoint(&self, namespace: &str, name: &str) -> Result<(), ClusterError> {
        let api: Api<FlinkStateSnapshot> = Api::namespaced(self.client().clone(), namespace);
        let object = format!("FlinkStateSnapshot {namespace}/{name}");
        let refused = |source| ClusterError::Refused {
            object: object.clone(),
            source,
        };
        api.patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"savepoint": {"disposeOnDelete": true}}})),
        )
        .await
        .map_err(refused)?;
        api.delete(name, &DeleteParams::default())
            .await
            .map_err(refused)?;
        Ok(())
    }

    /// An owner reference to resource `name` of kind `K` in `namespace`.
    async fn owner<K>(&self, namespace: &str, name: &str) -> Result<OwnerReference, ClusterError>
    where
        K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        let api: Api<K> = Api::namespaced(self.client().clone(), namespace);
        let owner = api.get(name).await?;
        Ok(OwnerReference {
            api_version: K::api_version(&()).into_owned(),
            kind: K::kind(&()).into_owned(),
            name: owner.name_any(),
            uid: owner.uid().unwrap_or_default(),
            ..OwnerReference::default()
        })
    }

    /// Where Flink cluster `session` (session or application) in `namespace` keeps savepoints, as
    /// its FlinkDeployment's `flinkConfiguration` says; `None` when it says
    /// nothing (or the FlinkDeployment is gone).
    pub async fn savepoint_dir(
        &self,
        namespace: &str,
        session: &str,
    ) -> Result<Option<String>, ClusterError> {
        let configuration = self.session_configuration(namespace, session).await?;
        Ok(SAVEPOINT_DIR_KEYS
            .iter()
            .find_map(|key| configuration.get(*key))
            .filter(|dir| !dir.trim().is_empty())
            .cloned())
    }

    /// The `flinkConfiguration` of session cluster `session` in `namespace`,
    /// flattened (`a.b: c`); empty when the FlinkDeployment is gone.
    pub async fn session_configuration(
        &self,
        namespace: &str,
        session: &str,
    ) -> Result<BTreeMap<String, String>, ClusterError> {
        let api: Api<FlinkDeployment> = Api::namespaced(self.client().clone(), namespace);
        let Some(deployment) = api.get_opt(session).await? else {
            return Ok(BTreeMap::new());
        };
        Ok(serde_json::to_value(&deployment.spec.flink_configuration)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .map(crate::crd::flink_configuration::flat)
            .unwrap_or_default())
    }
}
