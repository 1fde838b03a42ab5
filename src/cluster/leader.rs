//! Leader election among replicas through a `coordination.k8s.io` Lease
//! (with the `kube-lease-manager` crate): one replica at a time holds it and
//! runs the worker and the status sync; the others serve pages and queue
//! operations in the shared database.

use std::time::Duration;

use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

use super::{Cluster, ClusterError};

/// Which Lease to hold, as whom, and for how long.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity (the pod name in a Deployment).
    pub identity: String,
    /// How long a holder keeps the Lease without renewing it: a killed
    /// leader is replaced within this time.
    pub duration: Duration,
}

impl Cluster {
    /// Starts competing for the Lease; the receiver says, and is told when it
    /// changes, whether this replica holds it. Competing goes on until the
    /// receiver (and every clone of it) is dropped.
    pub async fn lead(
        &self,
        settings: &LeaseSettings,
    ) -> Result<watch::Receiver<bool>, ClusterError> {
        let seconds = settings.duration.as_secs().max(3);
        let manager = LeaseManagerBuilder::new(self.client().clone(), &settings.name)
            .with_namespace(&settings.namespace)
            .with_identity(&settings.identity)
            .with_duration(seconds)
            // Renew a third of the duration early: room for clock skew and a slow API server.
            .with_grace((seconds / 3).max(1))
            .build()
            .await
            .map_err(|error| ClusterError::Lease(error.to_string()))?;
        let (leading, _task) = manager.watch().await;
        Ok(leading)
    }
}
