//! Instance status from watched objects: the cluster's watches report which
//! instance changed; its health decides its status.

use std::collections::HashSet;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::{broadcast, mpsc};

use super::{Service, ServiceError};
use crate::catalog::health::{Health, health};
use crate::cluster::watch::{InstanceKey, Watches};
use crate::store::{InstanceStatus, OperationState};

/// How many instance changes an open page may fall behind by before it
/// hears "something changed" instead of each one.
pub(super) const CHANGES_KEPT: usize = 256;

impl Service {
    /// Starts the watches and the task that keeps instance statuses in step
    /// with them, if a cluster is configured.
    pub fn spawn_status_sync(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let cluster = self.cluster.as_ref()?;
        let (changes, mut changed) = mpsc::unbounded_channel();
        let watches = cluster.watch_instances(changes);
        // Pages read the same stores: what they show is what the status came from.
        let _ = self.watches.set(watches.clone());
        let service = self.clone();
        Some(tokio::spawn(async move {
            loop {
                let mut keys = tokio::select! {
                    first = changed.recv() => match first {
                        Some(first) => HashSet::from([first]),
                        None => return,
                    },
                    // A new leader catches up with everything the stores hold.
                    _ = service.leadership_changed() => watches.instance_keys(),
                };
                // A burst of events (a rollout, the initial list) is one pass.
                while let Ok(more) = changed.try_recv() {
                    keys.insert(more);
                }
                // Pages show what the stores hold: their cached views go as
                // the objects change, on every replica.
                service.views.clear();
                for key in &keys {
                    // Nobody may be listening: that is no error.
                    let _ = service.changed.send(key.clone());
                }
                // Every replica watches; only the leader writes statuses.
                if !service.is_leader() {
                    continue;
                }
                for key in keys {
                    if let Err(error) = service.sync_status(&watches, &key).await {
                        tracing::warn!(%error, namespace = %key.namespace, instance = %key.name, "status sync failed");
                    }
                }
            }
        }))
    }

    /// The changes of instance `id`'s watched objects (its workloads, its
    /// Flink resources and snapshots, its pods), one `()` per burst of
    /// them, for a page that follows them. It yields nothing when no
    /// cluster is watched. Errors: no such instance.
    pub async fn instance_changes(
        &self,
        id: uuid::Uuid,
    ) -> Result<futures::stream::BoxStream<'static, ()>, ServiceError> {
        let instance = self.instance_record(id).await?;
        let key = InstanceKey {
            namespace: instance.namespace,
            name: instance.name,
        };
        let receiver = self.changed.subscribe();
        Ok(futures::stream::unfold(receiver, move |mut receiver| {
            let key = key.clone();
            async move {
                loop {
                    match receiver.recv().await {
                        Ok(changed) if changed == key => return Some(((), receiver)),
                        Ok(_) => {}
                        // Missed some: one of them may have been this one.
                        Err(broadcast::error::RecvError::Lagged(_)) => return Some(((), receiver)),
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        })
        .boxed())
    }

    async fn sync_status(&self, watches: &Watches, key: &InstanceKey) -> Result<(), ServiceError> {
        let Some(instance) = self.store.instance_named(&key.namespace, &key.name).await? else {
            return Ok(());
        };
        if instance.status == InstanceStatus::Updating {
            // The operation owns Updating until it has finished; then the
            // rollout does (as in `settle_update`).
            let operations = self.store.operations(instance.id).await?;
            let finished = operations
                .first()
                .is_some_and(|op| op.state == OperationState::Succeeded);
            return match rolled_out_status(&health(&watches.observed(key))) {
                Some(next) if finished => self.write_status(&instance, next).await,
                _ => Ok(()),
            };
        }
        let Some(next) = next_status(instance.status, &health(&watches.observed(key))) else {
            return Ok(());
        };
        if next == instance.status {
            return Ok(());
        }
        self.write_status(&instance, next).await
    }

    /// Once an update or rollback applied its objects: the instance stays
    /// Updating while they roll out, and is Running (or Failed) once their
    /// health says so, rather than Running at once and Degraded while the
    /// new pods start. Called by the worker when the operation finished; the
    /// status sync does the same as the objects change after it.
    pub(super) async fn settle_update(&self, instance_id: uuid::Uuid) -> Result<(), ServiceError> {
        let instance = self.store.instance(instance_id).await?;
        if instance.status != InstanceStatus::Updating {
            return Ok(());
        }
        let Some(watches) = self.watches.get() else {
            // Nothing to tell a rollout by: the operation's success stands.
            return self.write_status(&instance, InstanceStatus::Running).await;
        };
        let key = InstanceKey {
            namespace: instance.namespace.clone(),
            name: instance.name.clone(),
        };
        match rolled_out_status(&health(&watches.observed(&key))) {
            Some(next) => self.write_status(&instance, next).await,
            None => Ok(()),
        }
    }

    async fn write_status(
        &self,
        instance: &crate::store::Instance,
        next: InstanceStatus,
    ) -> Result<(), ServiceError> {
        if instance.status == InstanceStatus::Failed {
            // A failed operation keeps the instance Failed, whatever the
            // objects it did apply say, until an operation succeeds.
            let operations = self.store.operations(instance.id).await?;
            if operations
                .first()
                .is_some_and(|op| op.state != OperationState::Succeeded)
            {
                return Ok(());
            }
        }
        tracing::info!(instance = %instance.name, from = %instance.status, to = %next, "status");
        self.store.set_status(instance.id, next).await?;
        self.views.clear();
        Ok(())
    }
}

/// The status of an updated instance whose objects have this health, or
/// `None` while they still roll out.
fn rolled_out_status(health: &Health) -> Option<InstanceStatus> {
    match health {
        Health::Ready => Some(InstanceStatus::Running),
        Health::Suspended => Some(InstanceStatus::Suspended),
        Health::Failed(_) => Some(InstanceStatus::Failed),
        Health::Progressing => None,
    }
}

/// The status an instance moves to given its objects' health, or `None` to
/// keep it: operations own Updating, Uninstalling and Uninstalled.
fn next_status(current: InstanceStatus, health: &Health) -> Option<InstanceStatus> {
    use InstanceStatus::*;
    match (current, health) {
        (Updating | Uninstalling | Uninstalled, _) => None,
        (_, Health::Ready) => Some(Running),
        (_, Health::Suspended) => Some(Suspended),
        (_, Health::Failed(_)) => Some(Failed),
        (Running | Degraded, Health::Progressing) => Some(Degraded),
        // Resuming: the job's cluster starts again.
        (Suspended, Health::Progressing) => None,
        (Installing | Failed, Health::Progressing) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceStatus::*;

    #[test]
    fn health_moves_statuses_the_way_users_expect() {
        assert_eq!(next_status(Installing, &Health::Progressing), None);
        assert_eq!(next_status(Installing, &Health::Ready), Some(Running));
        assert_eq!(next_status(Running, &Health::Progressing), Some(Degraded));
        assert_eq!(next_status(Degraded, &Health::Ready), Some(Running));
        assert_eq!(next_status(Running, &Health::Suspended), Some(Suspended));
        assert_eq!(next_status(Suspended, &Health::Progressing), None);
        assert_eq!(next_status(Suspended, &Health::Ready), Some(Running));
        assert_eq!(
            next_status(Running, &Health::Failed("x".into())),
            Some(Failed)
        );
        assert_eq!(
            next_status(Updating, &Health::Ready),
            None,
            "the update operation owns it"
        );
        assert_eq!(next_status(Uninstalled, &Health::Ready), None);
    }

    #[test]
    fn an_update_ends_when_its_objects_have_rolled_out() {
        assert_eq!(rolled_out_status(&Health::Progressing), None);
        assert_eq!(rolled_out_status(&Health::Ready), Some(Running));
        assert_eq!(rolled_out_status(&Health::Failed("x".into())), Some(Failed));
    }
}
