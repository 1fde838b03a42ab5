//! Periodic savepoints of a job and the retention of its savepoint history,
//! as operator 1.15 does them for a FlinkSessionJob and for an application's
//! FlinkDeployment alike (flink-kubernetes-operator release-1.15.0: both
//! reconcilers extend `AbstractJobReconciler`, and `SnapshotObserver` serves
//! both observers):
//! - **trigger** (`AbstractJobReconciler.triggerSnapshotIfNeeded`,
//!   `SnapshotUtils.shouldTriggerSnapshot` / `shouldTriggerIntervalBasedSnapshot`):
//!   while the job is `RUNNING` and `kubernetes.operator.periodic.savepoint.interval`
//!   is a non-zero duration, a savepoint is due once the last periodic trigger
//!   plus the interval is past; it becomes a FlinkStateSnapshot
//!   `<resource>-savepoint-periodic-<epoch ms>` labelled `snapshot.trigger-type:
//!   PERIODIC`, whose `jobReference` is the resource
//!   (`FlinkStateSnapshotUtils.createSavepointResource`, `JobReference.fromFlinkResource`).
//!   The last trigger is the newest PERIODIC snapshot's creation time, else the
//!   resource's creation (`SnapshotTriggerTimestampStore.getLastPeriodicTriggerInstant`;
//!   the operator keeps it in memory and counts only completed snapshots after
//!   a restart).
//!   The option also takes a Quartz cron expression: not imitated here.
//! - **retention** (`SnapshotObserver.getFlinkStateSnapshotsToCleanUp`, while
//!   `kubernetes.operator.savepoint.cleanup.enabled`, default true): among the
//!   job's PERIODIC and UPGRADE savepoints (MANUAL ones are never deleted),
//!   oldest first by creation time, every one is deleted while more than
//!   `kubernetes.operator.savepoint.history.max.count` (default 10, at
//!   least one) remain or when it is older than `…history.max.age` (default 24 h),
//!   except the newest completed one and always at least one. The files are
//!   disposed of only when the snapshot says `disposeOnDelete`
//!   (`kubernetes.operator.savepoint.dispose-on-delete`, default false), by
//!   the snapshot's own cleanup (the stand-in's [`super::snapshot::cleanup`]).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kube::api::{Api, DeleteParams, ListParams};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{Controller, watcher};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;

use super::instance::Operator;
use super::session_job::savepoints;
use super::snapshot::TRIGGER_TYPE_LABEL;
use crate::crd::{FlinkStateSnapshot, JobKind, SnapshotState};

/// `kubernetes.operator.periodic.savepoint.interval`.
pub const INTERVAL_KEY: &str = "kubernetes.operator.periodic.savepoint.interval";
/// `kubernetes.operator.savepoint.history.max.count`.
pub const MAX_COUNT_KEY: &str = "kubernetes.operator.savepoint.history.max.count";
/// `kubernetes.operator.savepoint.history.max.age`.
pub const MAX_AGE_KEY: &str = "kubernetes.operator.savepoint.history.max.age";
/// `kubernetes.operator.savepoint.cleanup.enabled`.
const CLEANUP_KEY: &str = "kubernetes.operator.savepoint.cleanup.enabled";

/// The periodic interval of `configuration`, when it is a non-zero duration.
pub fn interval(configuration: &BTreeMap<String, String>) -> Option<Duration> {
    let text = configuration.get(INTERVAL_KEY)?;
    crate::catalog::jobs::schedule::parse_flink_duration(text).filter(|d| !d.is_zero())
}

/// The retention of `configuration`: (max count, at least 1; max age).
pub fn retention(configuration: &BTreeMap<String, String>) -> (usize, Duration) {
    let count = configuration
        .get(MAX_COUNT_KEY)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(10)
        .max(1);
    let age = configuration
        .get(MAX_AGE_KEY)
        .and_then(|v| crate::catalog::jobs::schedule::parse_flink_duration(v))
        .unwrap_or(Duration::from_secs(24 * 3600));
    (count, age)
}

fn created(snapshot: &FlinkStateSnapshot) -> DateTime<Utc> {
    snapshot
        .creation_timestamp()
        .map_or(DateTime::<Utc>::MIN_UTC, |t| {
            DateTime::<Utc>::from_timestamp(t.0.as_second(), 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
        })
}

fn trigger_type(snapshot: &FlinkStateSnapshot) -> &str {
    snapshot
        .labels()
        .get(TRIGGER_TYPE_LABEL)
        .map_or("UNKNOWN", String::as_str)
}

/// When the last periodic savepoint of a job created at `job_created` was
/// triggered, from its `snapshots`.
pub fn last_periodic(
    snapshots: &[FlinkStateSnapshot],
    job_created: DateTime<Utc>,
) -> DateTime<Utc> {
    snapshots
        .iter()
        .filter(|s| s.spec.savepoint.is_some() && trigger_type(s) == "PERIODIC")
        .map(created)
        .max()
        .unwrap_or(job_created)
}

/// The names of the savepoints to delete from `snapshots` under `(max_count,
/// max_age)` at `now` (`getFlinkStateSnapshotsToCleanUp`).
pub fn to_clean_up(
    snapshots: &[FlinkStateSnapshot],
    (max_count, max_age): (usize, Duration),
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut list: Vec<&FlinkStateSnapshot> = snapshots
        .iter()
        .filter(|s| s.metadata.deletion_timestamp.is_none())
        .filter(|s| matches!(trigger_type(s), "PERIODIC" | "UPGRADE"))
        .filter(|s| s.spec.savepoint.is_some())
        .collect();
    list.sort_by_key(|s| created(s));
    if list.len() < 2 {
        return Vec::new();
    }
    let last_complete = list
        .iter()
        .filter(|s| s.status.as_ref().and_then(|st| st.state) == Some(SnapshotState::Completed))
        .max_by_key(|s| created(s))
        .map(|s| s.name_any());
    let oldest_kept = now - chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
    let mut result = Vec::new();
    for snapshot in &list {
        let name = snapshot.name_any();
        if Some(&name) == last_complete.as_ref() {
            continue;
        }
        if result.len() == list.len() - 1 {
            break;
        }
        if list.len() - result.len() > max_count || created(snapshot) < oldest_kept {
            result.push(name);
        }
    }
    result
}

/// The kind a snapshot's `jobReference` names for a resource of kind `K`.
fn job_kind<K: Resource<DynamicType = ()>>() -> Option<JobKind> {
    match K::kind(&()).as_ref() {
        "FlinkSessionJob" => Some(JobKind::FlinkSessionJob),
        "FlinkDeployment" => Some(JobKind::FlinkDeployment),
        _ => None,
    }
}

/// Whether `snapshot` refers to the job of resource `name` of kind `K`.
fn refers_to<K: Resource<DynamicType = ()>>(snapshot: &FlinkStateSnapshot, name: &str) -> bool {
    snapshot.spec.job_reference.as_ref().is_some_and(|r| {
        r.kind.is_some() && r.kind == job_kind::<K>() && r.name.as_deref() == Some(name)
    })
}

/// The resource of kind `K` whose job `snapshot` is of: a snapshot's change
/// reconciles its job, as the informer both job controllers add does
/// (`EventSourceUtils.getStateSnapshotForFlinkResourceInformerEventSource`,
/// in `FlinkDeploymentController` and `FlinkSessionJobController`), so that
/// a completed periodic savepoint lets the retention run at once. (The
/// operator's informer sees PERIODIC and UPGRADE snapshots only; a manual
/// one's change reconciling the job too changes nothing the job does.)
pub fn job_of<K: Resource<DynamicType = ()>>(snapshot: FlinkStateSnapshot) -> Option<ObjectRef<K>> {
    let reference = snapshot.spec.job_reference.as_ref()?;
    if reference.kind.is_none() || reference.kind != job_kind::<K>() {
        return None;
    }
    let name = reference.name.as_deref()?;
    Some(ObjectRef::<K>::new(name).within(&snapshot.namespace()?))
}

/// `controller` woken also by the FlinkStateSnapshots (of `namespace`,
/// else of all) of its jobs, when the operator keeps snapshots as resources:
/// a snapshot that completes or goes lets the job's periodic step run.
pub fn woken_by_snapshots<K>(
    controller: Controller<K>,
    operator: &Operator,
    namespace: Option<&str>,
) -> Controller<K>
where
    K: Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    if !operator.snapshots {
        return controller;
    }
    let snapshots: Api<FlinkStateSnapshot> = match namespace {
        Some(ns) => Api::namespaced(operator.client.clone(), ns),
        None => Api::all(operator.client.clone()),
    };
    controller.watches(snapshots, watcher::Config::default(), job_of)
}

/// One periodic step of `job` (a FlinkSessionJob, or an application's
/// FlinkDeployment): its old savepoints cleaned up, a periodic one created
/// when due while it runs. Returns the time until the next one is due, when
/// periodic savepoints are on.
pub async fn step<K: Resource<DynamicType = ()>>(
    operator: &Operator,
    job: &K,
    configuration: &BTreeMap<String, String>,
    running: bool,
) -> Option<Duration> {
    if !savepoints::snapshot_resources(operator, configuration) {
        return None;
    }
    let namespace = job.namespace().unwrap_or_default();
    let api: Api<FlinkStateSnapshot> = Api::namespaced(operator.client.clone(), &namespace);
    let name = job.name_any();
    let snapshots: Vec<FlinkStateSnapshot> = match api.list(&ListParams::default()).await {
        Ok(list) => list
            .items
            .into_iter()
            .filter(|s| refers_to::<K>(s, &name))
            .collect(),
        Err(error) => {
            tracing::debug!(%error, "snapshots not listed");
            return None;
        }
    };
    let now = Utc::now();
    let cleanup = configuration
        .get(CLEANUP_KEY)
        .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
    if cleanup {
        for old in to_clean_up(&snapshots, retention(configuration), now) {
            if let Err(error) = api.delete(&old, &DeleteParams::default()).await {
                tracing::debug!(%error, old, "old savepoint not deleted");
            }
        }
    }
    let every = interval(configuration)?;
    let job_created = job
        .creation_timestamp()
        .and_then(|t| DateTime::<Utc>::from_timestamp(t.0.as_second(), 0))
        .unwrap_or(now);
    let due = last_periodic(&snapshots, job_created)
        + chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
    if running && due < now {
        let directory = super::validator::savepoint_dir(configuration);
        if let Err(error) = savepoints::create_savepoint_resource(
            operator,
            job,
            directory,
            "PERIODIC",
            configuration,
        )
        .await
        {
            tracing::debug!(%error, "periodic savepoint not created");
        }
        return Some(every);
    }
    Some((due - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn snapshot(name: &str, trigger: &str, at: &str, state: &str) -> FlinkStateSnapshot {
        serde_json::from_value(json!({
            "apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkStateSnapshot",
            "metadata": {"name": name, "creationTimestamp": at,
                "labels": {"snapshot.trigger-type": trigger}},
            "spec": {"savepoint": {}, "jobReference": {"kind": "FlinkSessionJob", "name": "a-etl"}},
            "status": {"state": state},
        }))
        .unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_history_keeps_max_count_and_never_manual_ones() {
        let snapshots = [
            snapshot("p1", "PERIODIC", "2026-12-01T03:00:00Z", "COMPLETED"),
            snapshot("m1", "MANUAL", "2026-12-01T03:00:10Z", "COMPLETED"),
            snapshot("p2", "PERIODIC", "2026-12-01T03:00:30Z", "COMPLETED"),
            snapshot("u1", "UPGRADE", "2026-12-01T03:00:45Z", "COMPLETED"),
            snapshot("p3", "PERIODIC", "2026-12-01T03:01:00Z", "IN_PROGRESS"),
        ];
        let now = at("2026-12-01T03:01:05Z");
        let day = Duration::from_secs(86_400);
        assert_eq!(to_clean_up(&snapshots, (2, day), now), ["p1", "p2"]);
        assert!(to_clean_up(&snapshots, (10, day), now).is_empty());
        // Max age: all older than 30 s go, but the newest completed stays.
        assert_eq!(
            to_clean_up(&snapshots, (10, Duration::from_secs(30)), now),
            ["p1", "p2"]
        );
        assert_eq!(
            to_clean_up(&snapshots, (10, Duration::from_secs(1)), now),
            ["p1", "p2", "p3"],
            "the newest complete one (u1) is kept"
        );
    }

    #[test]
    fn a_snapshot_reconciles_the_job_of_the_kind_it_refers_to() {
        let mut of_application = snapshot("p1", "PERIODIC", "2026-12-01T03:00:00Z", "COMPLETED");
        of_application.metadata.namespace = Some("team".into());
        of_application.spec.job_reference = Some(crate::crd::JobReference {
            kind: Some(JobKind::FlinkDeployment),
            name: Some("orders".into()),
        });
        assert!(refers_to::<crate::crd::FlinkDeployment>(
            &of_application,
            "orders"
        ));
        assert!(!refers_to::<crate::crd::FlinkSessionJob>(
            &of_application,
            "orders"
        ));
        assert_eq!(
            job_of::<crate::crd::FlinkDeployment>(of_application.clone()),
            Some(ObjectRef::new("orders").within("team"))
        );
        assert_eq!(job_of::<crate::crd::FlinkSessionJob>(of_application), None);
    }

    #[test]
    fn the_last_periodic_trigger_is_the_newest_periodic_snapshot_or_the_job() {
        let job = at("2026-12-01T02:00:00Z");
        assert_eq!(last_periodic(&[], job), job);
        let snapshots = [
            snapshot("p1", "PERIODIC", "2026-12-01T03:00:00Z", "COMPLETED"),
            snapshot("m1", "MANUAL", "2026-12-01T03:05:00Z", "COMPLETED"),
        ];
        assert_eq!(last_periodic(&snapshots, job), at("2026-12-01T03:00:00Z"));
        let configuration = BTreeMap::from([(INTERVAL_KEY.to_owned(), "30 s".to_owned())]);
        assert_eq!(interval(&configuration), Some(Duration::from_secs(30)));
        let off = BTreeMap::from([(INTERVAL_KEY.to_owned(), "0".to_owned())]);
        assert_eq!(interval(&off), None);
        assert_eq!(
            retention(&BTreeMap::new()),
            (10, Duration::from_secs(86_400))
        );
    }
}
