//! What a session job's spec asks of savepoints, as operator 1.15 reads it
//! (flink-kubernetes-operator release-1.15.0):
//! - `savepointTriggerNonce` changed to a new non-null value while the job
//!   runs: a manual savepoint. With snapshot resources on, a FlinkStateSnapshot
//!   `<job>-savepoint-manual-<epoch ms>` (label `snapshot.trigger-type: MANUAL`,
//!   `savepoint.path` = the savepoint directory) is created and the nonce is
//!   recorded in `lastReconciledSpec` (`AbstractJobReconciler.triggerSnapshotIfNeeded`,
//!   `SnapshotUtils.shouldTriggerSnapshot`, `FlinkStateSnapshotUtils.createSavepointResource`,
//!   `ReconciliationUtils.updateLastReconciledSnapshotTriggerNonce`); the
//!   FlinkStateSnapshot controller takes it ([`super::super::snapshot`]).
//!   Without snapshot resources the operator triggers it itself and follows
//!   it in `jobStatus.savepointInfo`: not imitated (the nonce waits).
//! - `initialSavepointPath`: the first deployment starts from it
//!   (`AbstractFlinkResourceReconciler.getInitialSnapshotPath`) and it becomes
//!   `upgradeSavepointPath` (`updateStatusBeforeFirstDeployment`).
//! - `savepointRedeployNonce` changed to a new non-null value (`@SpecDiff(value
//!   = SAVEPOINT_REDEPLOY, onNullIgnore = true)` in `api/spec/JobSpec.java`): the
//!   job is cancelled without a savepoint and submitted again from
//!   `initialSavepointPath` (`AbstractJobReconciler.redeployWithSavepoint`).
//!
//! Upgrade savepoints are recorded as FlinkStateSnapshots too
//! (`FlinkStateSnapshotUtils.createUpgradeSnapshotResource`).

use std::collections::BTreeMap;

use kube::api::{Api, PostParams};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use super::super::instance::Operator;
use super::super::snapshot::TRIGGER_TYPE_LABEL;
use crate::crd::FlinkStateSnapshot;
use crate::simulator::jobs::now_ms;

/// A nonce of the job spec (`/job/<key>`), when set.
fn nonce(spec: &Value, key: &str) -> Option<i64> {
    spec.get("job")?.get(key)?.as_i64()
}

/// The new `savepointTriggerNonce` of `target`, when it asks for a manual
/// savepoint (non-null and not the recorded one).
pub fn manual_nonce(target: &Value, recorded: &Value) -> Option<i64> {
    let asked = nonce(target, "savepointTriggerNonce")?;
    (Some(asked) != nonce(recorded, "savepointTriggerNonce")).then_some(asked)
}

/// Whether `target` asks for a redeploy from `initialSavepointPath`.
pub fn redeploy_requested(target: &Value, recorded: &Value) -> bool {
    let asked = nonce(target, "savepointRedeployNonce");
    asked.is_some() && asked != nonce(recorded, "savepointRedeployNonce")
}

/// `initialSavepointPath`, when set and not empty.
pub fn initial_savepoint(spec: &Value) -> Option<String> {
    spec.get("job")?
        .get("initialSavepointPath")?
        .as_str()
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
}

/// `spec` with `savepointTriggerNonce` set to `nonce` (or removed).
pub fn with_trigger_nonce(spec: &Value, nonce: Option<i64>) -> Value {
    let mut spec = spec.clone();
    if let Some(job) = spec.get_mut("job").and_then(Value::as_object_mut) {
        match nonce {
            Some(n) => job.insert("savepointTriggerNonce".into(), json!(n)),
            None => job.remove("savepointTriggerNonce"),
        };
    }
    spec
}

/// A `lastReconciledSpec` text with the nonce recorded, its wrapper kept.
pub fn record_trigger_nonce(text: &str, nonce: i64) -> String {
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return text.to_owned();
    };
    let job = if value.get("resource_metadata").is_some() {
        value.pointer_mut("/spec/job")
    } else {
        value.pointer_mut("/job")
    };
    if let Some(job) = job.and_then(Value::as_object_mut) {
        job.insert("savepointTriggerNonce".into(), json!(nonce));
    }
    value.to_string()
}

/// Whether savepoints become FlinkStateSnapshots: the CRD was there at start
/// and `kubernetes.operator.snapshot.resource.enabled` (default true) is not
/// false (`FlinkStateSnapshotUtils.isSnapshotResourceEnabled`).
pub fn snapshot_resources(operator: &Operator, configuration: &BTreeMap<String, String>) -> bool {
    operator.snapshots
        && configuration
            .get("kubernetes.operator.snapshot.resource.enabled")
            .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"))
}

/// Creates the FlinkStateSnapshot of a savepoint of the job of `job` (a
/// FlinkSessionJob, or an application's FlinkDeployment: its `jobReference`
/// is the resource, `JobReference.fromFlinkResource`)
/// (`createSavepointResource`): `trigger` is `MANUAL`, `PERIODIC` or
/// `UPGRADE` (an upgrade's exists already at `path`); no owner reference, as
/// the operator sets none.
pub async fn create_savepoint_resource<K: Resource<DynamicType = ()>>(
    operator: &Operator,
    job: &K,
    path: Option<&str>,
    trigger: &str,
    configuration: &BTreeMap<String, String>,
) -> Result<(), String> {
    let namespace = job.namespace().unwrap_or_default();
    let name = job.name_any();
    let kind = K::kind(&());
    let dispose = configuration
        .get("kubernetes.operator.savepoint.dispose-on-delete")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let format = configuration
        .get("kubernetes.operator.savepoint.format.type")
        .map_or("CANONICAL", |v| v.trim());
    let snapshot: FlinkStateSnapshot = serde_json::from_value(json!({
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkStateSnapshot",
        "metadata": {
            "name": format!("{name}-savepoint-{}-{}", trigger.to_ascii_lowercase(), now_ms()),
            "namespace": namespace,
            "labels": {TRIGGER_TYPE_LABEL: trigger},
        },
        "spec": {
            "jobReference": {"kind": kind, "name": name},
            "savepoint": {"path": path, "formatType": format,
                "disposeOnDelete": dispose, "alreadyExists": trigger == "UPGRADE"},
        },
    }))
    .map_err(|e| e.to_string())?;
    let api: Api<FlinkStateSnapshot> = Api::namespaced(operator.client.clone(), &namespace);
    api.create(&PostParams::default(), &snapshot)
        .await
        .map(drop)
        .map_err(|e| format!("Could not create the FlinkStateSnapshot: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_trigger_nonce_asks_for_a_savepoint_once() {
        let recorded = json!({"job": {"savepointTriggerNonce": 1}});
        assert_eq!(
            manual_nonce(&json!({"job": {"savepointTriggerNonce": 2}}), &recorded),
            Some(2)
        );
        assert_eq!(
            manual_nonce(&json!({"job": {"savepointTriggerNonce": 1}}), &recorded),
            None
        );
        assert_eq!(manual_nonce(&json!({"job": {}}), &recorded), None);
        let text = super::super::super::status::spec_with_meta(&recorded, false);
        let updated = record_trigger_nonce(&text, 2);
        let spec = super::super::super::status::read_spec(&updated).unwrap();
        assert_eq!(
            manual_nonce(&json!({"job": {"savepointTriggerNonce": 2}}), &spec),
            None
        );
    }

    #[test]
    fn a_redeploy_nonce_counts_when_new_and_not_null() {
        let recorded = json!({"job": {"savepointRedeployNonce": 1}});
        assert!(redeploy_requested(
            &json!({"job": {"savepointRedeployNonce": 2}}),
            &recorded
        ));
        assert!(!redeploy_requested(
            &json!({"job": {"savepointRedeployNonce": 1}}),
            &recorded
        ));
        assert!(
            !redeploy_requested(&json!({"job": {}}), &recorded),
            "onNullIgnore"
        );
        assert_eq!(
            initial_savepoint(&json!({"job": {"initialSavepointPath": "s3://b/sp"}})).as_deref(),
            Some("s3://b/sp")
        );
        assert_eq!(
            initial_savepoint(&json!({"job": {"initialSavepointPath": ""}})),
            None
        );
    }
}
