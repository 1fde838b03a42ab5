//! Watching what dataport applied: one watch per kind over every namespace,
//! selecting dataport's objects by label, feeding in-memory reflector stores.
//! Changes are reported per instance; status is read from the stores, never
//! by polling the API server per instance.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::UnboundedSender;

use super::Cluster;
use super::pods::PodStores;
use crate::catalog::health::{Observed, ObservedJob};
use crate::catalog::jobs::JOB_LABEL;
use crate::catalog::render::labels;
use crate::crd::{FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot, JobKind, SnapshotState};

/// An instance, by namespace and name, whose objects changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceKey {
    /// Namespace.
    pub namespace: String,
    /// Instance name (the `app.kubernetes.io/instance` label).
    pub name: String,
}

/// The reflector stores of the watched kinds.
#[derive(Clone)]
pub struct Watches {
    deployments: Store<Deployment>,
    stateful_sets: Store<StatefulSet>,
    flink_deployments: Store<FlinkDeployment>,
    flink_session_jobs: Store<FlinkSessionJob>,
    /// Every FlinkStateSnapshot, dataport's or not: the operator makes the
    /// periodic and upgrade ones without dataport's labels.
    flink_state_snapshots: Store<FlinkStateSnapshot>,
    /// The pods of dataport's workloads and of Flink's clusters.
    pub(in crate::cluster) pods: PodStores,
    interrupted: Interruptions,
}

/// Which watches are interrupted now, and the last error each saw with when:
/// how pages learn that the API server is unreachable without asking it
/// themselves.
#[derive(Clone, Default)]
pub(in crate::cluster) struct Interruptions(Arc<Mutex<BTreeMap<String, (String, Instant)>>>);

/// How long a watch's last error stands without a new one. A watch that
/// resumes after an outage says nothing until an object changes (kube-runtime
/// 5's `watcher` yields no event when a resumed watch starts), while one that
/// still fails says so at each retry: `DefaultBackoff` waits at most 30 s,
/// and its jitter adds up to as much again. An error older than that was
/// followed by a retry that worked.
const ERROR_STANDS: Duration = Duration::from_secs(65);

impl Interruptions {
    /// The slot of the watch of `kind` on objects with `labels`: one per
    /// watch, so that one watch going well does not clear the error of
    /// another of the same kind (the pods are watched twice).
    fn slot(kind: &str, labels: Option<&str>) -> String {
        match labels {
            Some(labels) => format!("{kind} ({labels})"),
            None => kind.to_owned(),
        }
    }

    fn set(&self, slot: &str, error: Option<String>) {
        // A poisoned lock only means a panic elsewhere: the map is still whole.
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match error {
            Some(error) => {
                map.insert(slot.to_owned(), (error, Instant::now()));
            }
            None => {
                map.remove(slot);
            }
        }
    }
}

impl Watches {
    /// Why the watches cannot follow the cluster now, if they cannot: the
    /// last error of an interrupted watch (they retry on their own).
    pub fn interrupted(&self) -> Option<String> {
        let map = self
            .interrupted
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.values()
            .find(|(_, at)| at.elapsed() < ERROR_STANDS)
            .map(|(error, _)| error.clone())
    }
}

impl Cluster {
    /// Starts the watches on the current runtime; every change is sent as the
    /// key of the instance whose object changed.
    pub fn watch_instances(&self, changes: UnboundedSender<InstanceKey>) -> Watches {
        let interrupted = Interruptions::default();
        let dataports = Some(format!("{}=dataport", labels::MANAGED_BY));
        let flink_session_jobs: Store<FlinkSessionJob> = self.watch_kind(
            dataports.clone(),
            key_of,
            changes.clone(),
            interrupted.clone(),
        );
        // A snapshot changes the instance of the session job it is of.
        let jobs = flink_session_jobs.clone();
        let snapshot_key = move |snapshot: &FlinkStateSnapshot| {
            let namespace = snapshot.namespace()?;
            let job = session_job_of(snapshot)?;
            jobs.state()
                .iter()
                .find(|j| j.namespace().as_deref() == Some(&namespace) && j.name_any() == job)
                .and_then(|j| key_of(j.as_ref()))
        };
        let flink_deployments: Store<FlinkDeployment> = self.watch_kind(
            dataports.clone(),
            key_of,
            changes.clone(),
            interrupted.clone(),
        );
        Watches {
            pods: self.watch_pods(
                flink_deployments.clone(),
                changes.clone(),
                interrupted.clone(),
            ),
            deployments: self.watch_kind(
                dataports.clone(),
                key_of,
                changes.clone(),
                interrupted.clone(),
            ),
            stateful_sets: self.watch_kind(
                dataports.clone(),
                key_of,
                changes.clone(),
                interrupted.clone(),
            ),
            flink_deployments,
            flink_session_jobs,
            flink_state_snapshots: self.watch_kind(
                None,
                snapshot_key,
                changes,
                interrupted.clone(),
            ),
            interrupted,
        }
    }

    /// Watches kind `K` (objects matching `labels`, if given) into a store;
    /// each change is sent as the key of the instance `key` finds for it.
    pub(in crate::cluster) fn watch_kind<K>(
        &self,
        labels: Option<String>,
        key: impl Fn(&K) -> Option<InstanceKey> + Send + 'static,
        changes: UnboundedSender<InstanceKey>,
        interrupted: Interruptions,
    ) -> Store<K>
    where
        K: Resource<DynamicType = ()>
            + Clone
            + std::fmt::Debug
            + DeserializeOwned
            + Send
            + Sync
            + 'static,
    {
        let (reader, writer) = reflector::store();
        let api: Api<K> = Api::all(self.client().clone());
        let slot = Interruptions::slot(&K::kind(&()), labels.as_deref());
        let config = match labels {
            Some(labels) => watcher::Config::default().labels(&labels),
            None => watcher::Config::default(),
        };
        // Nothing reads who wrote which field: the stores keep less without.
        let stream = watcher(api, config)
            .default_backoff()
            .modify(|object| object.managed_fields_mut().clear())
            .reflect(writer);
        let store = reader.clone();
        tokio::spawn(async move {
            futures::pin_mut!(stream);
            while let Some(event) = stream.next().await {
                interrupted.set(&slot, event.as_ref().err().map(ToString::to_string));
                let keys: Vec<InstanceKey> = match event {
                    Ok(watcher::Event::Apply(object) | watcher::Event::Delete(object)) => {
                        key(&object).into_iter().collect()
                    }
                    // The store holds the full list once it is complete.
                    Ok(watcher::Event::InitDone) => store
                        .state()
                        .iter()
                        .filter_map(|o| key(o.as_ref()))
                        .collect(),
                    Ok(_) => Vec::new(),
                    Err(error) => {
                        tracing::debug!(%error, kind = %K::kind(&()), "watch interrupted; retrying");
                        Vec::new()
                    }
                };
                for key in keys {
                    if changes.send(key).is_err() {
                        return;
                    }
                }
            }
        });
        reader
    }
}

/// The FlinkSessionJob a snapshot is of, by name.
fn session_job_of(snapshot: &FlinkStateSnapshot) -> Option<String> {
    let reference = snapshot.spec.job_reference.as_ref()?;
    (reference.kind == Some(JobKind::FlinkSessionJob))
        .then(|| reference.name.clone())
        .flatten()
}

/// The path of the newest completed savepoint among `snapshots` of session
/// job `job` in `namespace`. With snapshot resources on (operator 1.10 and
/// later, the default), the operator keeps manual and periodic savepoints
/// only as FlinkStateSnapshots, not in the job's `savepointInfo`
/// (flink-kubernetes-operator release-1.15.0, `SnapshotObserver`).
fn newest_savepoint(
    snapshots: &Store<FlinkStateSnapshot>,
    namespace: &str,
    job: &str,
) -> Option<String> {
    snapshots
        .state()
        .iter()
        .filter(|s| s.namespace().as_deref() == Some(namespace))
        .filter(|s| s.spec.savepoint.is_some() && session_job_of(s).as_deref() == Some(job))
        .filter_map(|s| {
            let status = s.status.as_ref()?;
            let path = status.path.clone().filter(|p| !p.is_empty())?;
            (status.state == Some(SnapshotState::Completed))
                .then(|| (s.creation_timestamp().map(|t| t.0), path))
        })
        .max_by_key(|(created, _)| *created)
        .map(|(_, path)| path)
}

/// The instance `object` is of, by its namespace and instance label.
pub(in crate::cluster) fn key_of<K: Resource>(object: &K) -> Option<InstanceKey> {
    Some(InstanceKey {
        namespace: object.meta().namespace.clone()?,
        name: object.labels().get(labels::INSTANCE)?.clone(),
    })
}

/// An operator enum as the word it is written as, e.g. `READY`.
fn word<T: serde::Serialize>(value: Option<T>) -> Option<String> {
    serde_json::to_value(value?)
        .ok()?
        .as_str()
        .map(str::to_owned)
}

fn belongs<K: Resource>(object: &K, key: &InstanceKey) -> bool {
    key_of(object).as_ref() == Some(key)
}

impl std::fmt::Debug for Watches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watches").finish_non_exhaustive()
    }
}

impl Watches {
    /// What the stores hold of an instance's workloads.
    pub fn observed(&self, key: &InstanceKey) -> Vec<Observed> {
        let mut observed = Vec::new();
        for deployment in self
            .deployments
            .state()
            .iter()
            .filter(|d| belongs(d.as_ref(), key))
        {
            let desired = deployment
                .spec
                .as_ref()
                .and_then(|s| s.replicas)
                .unwrap_or(1);
            let ready = deployment
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0);
            observed.push(Observed::Workload {
                name: deployment.name_any(),
                desired,
                ready,
            });
        }
        for set in self
            .stateful_sets
            .state()
            .iter()
            .filter(|s| belongs(s.as_ref(), key))
        {
            let desired = set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let ready = set
                .status
                .as_ref()
                .and_then(|s| s.ready_replicas)
                .unwrap_or(0);
            observed.push(Observed::Workload {
                name: set.name_any(),
                desired,
                ready,
            });
        }
        for flink in self
            .flink_deployments
            .state()
            .iter()
            .filter(|f| belongs(f.as_ref(), key))
        {
            let status = flink.status.clone().unwrap_or_default();
            observed.push(Observed::Flink {
                name: flink.name_any(),
                job_manager: word(status.job_manager_deployment_status),
                lifecycle: word(status.lifecycle_state),
                job: flink
                    .spec
                    .job
                    .as_ref()
                    .map(|_| ObservedJob::from_status(status.job_status.as_ref(), None, None)),
                error: status.error,
            });
        }
        observed
    }
}

impl Watches {
    /// Every instance the stores hold an object of.
    pub fn instance_keys(&self) -> std::collections::HashSet<InstanceKey> {
        fn keys<K: Resource<DynamicType = ()> + Clone + 'static>(
            store: &Store<K>,
        ) -> Vec<InstanceKey> {
            store
                .state()
                .iter()
                .filter_map(|o| key_of(o.as_ref()))
                .collect()
        }
        [
            keys(&self.deployments),
            keys(&self.stateful_sets),
            keys(&self.flink_deployments),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// What the operator reports of the session jobs on session cluster
    /// `key`, by job name.
    pub fn session_jobs(&self, key: &InstanceKey) -> BTreeMap<String, ObservedJob> {
        self.flink_session_jobs
            .state()
            .iter()
            .filter(|job| belongs(job.as_ref(), key))
            .filter_map(|job| {
                let name = job.labels().get(JOB_LABEL)?.clone();
                let status = job.status.clone().unwrap_or_default();
                let mut observed = ObservedJob::from_status(
                    status.job_status.as_ref(),
                    word(status.lifecycle_state),
                    status.error.as_deref(),
                );
                if let Some(path) =
                    newest_savepoint(&self.flink_state_snapshots, &key.namespace, &job.name_any())
                {
                    observed.savepoint = Some(path);
                }
                Some((name, observed))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_watch_going_well_leaves_another_of_its_kind_interrupted() {
        let watches = Interruptions::default();
        let flink_pods = Interruptions::slot("Pod", Some("type=flink-native-kubernetes"));
        let dataport_pods =
            Interruptions::slot("Pod", Some("app.kubernetes.io/managed-by=dataport"));
        watches.set(&flink_pods, Some("connection refused".into()));
        watches.set(&dataport_pods, None);
        let map = watches.0.lock().unwrap();
        assert_eq!(
            map.get(&flink_pods).map(|(error, _)| error.as_str()),
            Some("connection refused")
        );
    }
}
