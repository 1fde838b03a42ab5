//! The status the operator writes, as pure functions: the `lastReconciledSpec`
//! JSON, the lifecycle it derives, the `Running` condition, `taskManager`,
//! `clusterInfo`, and the error JSON.
//!
//! Source: flink-kubernetes-operator release-1.15.0,
//! `flink-kubernetes-operator-api/.../api/utils/SpecUtils.java` (`writeSpecWithMeta`),
//! `.../api/status/CommonStatus.java` (`getLifecycleState`),
//! `.../api/status/FlinkDeploymentStatus.java`, `.../reconciler/ReconciliationUtils.java`,
//! `.../utils/FlinkResourceExceptionUtils.java` (docs/flink-operator-facts.md §4).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::validator::parse_memory;
use crate::crd::{
    Condition, JobManagerDeploymentStatus as Jm, ReconciliationState, ReconciliationStatus,
    ResourceLifecycleState as Lifecycle,
};

/// The API version the operator records with each spec.
pub const API_VERSION: &str = "flink.apache.org/v1beta1";

/// Job fields whose change the operator applies without a redeploy
/// (`@SpecDiff(DiffType.IGNORE)` in the operator's `JobSpec`).
const IGNORED_JOB_FIELDS: [&str; 5] = [
    "upgradeMode",
    "savepointTriggerNonce",
    "checkpointTriggerNonce",
    "initialSavepointPath",
    "allowNonRestoredState",
];

/// Prefixes of `flinkConfiguration` keys whose change the operator applies
/// without a redeploy (the `DiffType.IGNORE` entries of `@SpecDiff.Config`
/// on `AbstractFlinkSpec.flinkConfiguration`): the operator's own options,
/// such as the periodic savepoint interval and the savepoint history, reach
/// the observe configuration from the current spec
/// (`FlinkConfigManager.addOperatorConfigsFromSpec`).
const IGNORED_CONFIGURATION_PREFIXES: [&str; 3] = [
    "job.autoscaler",
    "parallelism.default",
    "kubernetes.operator",
];

/// `{"spec":{...},"resource_metadata":{"apiVersion":"flink.apache.org/v1beta1","firstDeployment":…}}`.
pub fn spec_with_meta(spec: &Value, first_deployment: bool) -> String {
    json!({
        "spec": spec,
        "resource_metadata": {"apiVersion": API_VERSION, "firstDeployment": first_deployment},
    })
    .to_string()
}

/// The spec in a `lastReconciledSpec`/`lastStableSpec` text, in the wrapped
/// format or the older plain one.
pub fn read_spec(text: &str) -> Option<Value> {
    let value: Value = serde_json::from_str(text).ok()?;
    match value.get("spec") {
        Some(spec) if value.get("resource_metadata").is_some() => Some(spec.clone()),
        _ => {
            let mut plain = value;
            plain.as_object_mut()?.remove("apiVersion");
            Some(plain)
        }
    }
}

/// The spec the operator last deployed, read back from the status.
pub fn last_reconciled(status: Option<&ReconciliationStatus>) -> Option<Value> {
    read_spec(status?.last_reconciled_spec.as_deref()?)
}

/// `spec.job.state`, `running` when unset.
pub fn job_state(spec: &Value) -> &str {
    spec.pointer("/job/state")
        .and_then(Value::as_str)
        .unwrap_or("running")
}

/// A copy of `spec` with `spec.job.state` set (for specs with a job).
pub fn with_job_state(spec: &Value, state: &str) -> Value {
    let mut spec = spec.clone();
    if let Some(job) = spec.get_mut("job").and_then(Value::as_object_mut) {
        job.insert("state".into(), json!(state));
    }
    spec
}

/// The spec recorded at a first deployment: `upgradeMode` becomes `stateless`,
/// or `savepoint` with an `initialSavepointPath`
/// (`AbstractFlinkResourceReconciler.updateStatusBeforeFirstDeployment`).
pub fn first_deployment_spec(spec: &Value) -> Value {
    let mut spec = spec.clone();
    if let Some(job) = spec.get_mut("job").and_then(Value::as_object_mut) {
        let mode = if job
            .get("initialSavepointPath")
            .and_then(Value::as_str)
            .is_some_and(|p| !p.is_empty())
        {
            "savepoint"
        } else {
            "stateless"
        };
        job.insert("upgradeMode".into(), json!(mode));
    }
    spec
}

/// Whether two specs deploy the same thing: equal but for the job's state
/// and the fields the operator applies without a redeploy.
pub fn same_deployment(a: &Value, b: &Value) -> bool {
    significant(a) == significant(b)
}

fn significant(spec: &Value) -> Value {
    let mut spec = spec.clone();
    if let Some(job) = spec.get_mut("job").and_then(Value::as_object_mut) {
        job.remove("state");
        // A redeploy from a savepoint is its own kind of change
        // (`SAVEPOINT_REDEPLOY`), told apart before this comparison.
        job.remove("savepointRedeployNonce");
        for field in IGNORED_JOB_FIELDS {
            job.remove(field);
        }
    }
    if let Some(map) = spec.as_object_mut() {
        let configuration: BTreeMap<String, String> =
            super::validator::flat_configuration(&json!({
                "flinkConfiguration": map.remove("flinkConfiguration").unwrap_or(Value::Null)
            }))
            .into_iter()
            .filter(|(key, _)| {
                !IGNORED_CONFIGURATION_PREFIXES
                    .iter()
                    .any(|prefix| key.starts_with(prefix))
            })
            .collect();
        if !configuration.is_empty() {
            map.insert("flinkConfiguration".into(), json!(configuration));
        }
    }
    strip_nulls(&mut spec);
    spec
}

fn strip_nulls(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| !v.is_null());
        for v in map.values_mut() {
            strip_nulls(v);
        }
    }
}

/// What the lifecycle is derived from.
#[derive(Debug, Clone, Copy, Default)]
pub struct LifecycleInputs<'a> {
    /// `reconciliationStatus`.
    pub reconciliation: Option<&'a ReconciliationStatus>,
    /// `error`.
    pub error: Option<&'a str>,
    /// `jobStatus.state`.
    pub job_state: Option<&'a str>,
    /// `jobManagerDeploymentStatus` (FlinkDeployments).
    pub job_manager: Option<Jm>,
}

/// Error texts after which a missing JobManager means a failed resource.
const TERMINAL_ERRORS: [&str; 3] = [
    "Manual restore required.",
    "It is possible that the job has finished or terminally failed, or the configmaps have been deleted.",
    "HA metadata is not available",
];

/// `CommonStatus.getLifecycleState`.
pub fn lifecycle(inputs: LifecycleInputs) -> Lifecycle {
    let reconciliation = inputs.reconciliation;
    let Some(recorded) = reconciliation.and_then(|r| r.last_reconciled_spec.as_deref()) else {
        return if inputs.error.is_some() {
            Lifecycle::Failed
        } else {
            Lifecycle::Created
        };
    };
    let state = reconciliation.and_then(|r| r.state);
    match state {
        Some(ReconciliationState::Upgrading) => return Lifecycle::Upgrading,
        Some(ReconciliationState::RollingBack) => return Lifecycle::RollingBack,
        _ => {}
    }
    if read_spec(recorded).is_some_and(|spec| job_state(&spec) == "suspended")
        && read_spec(recorded).is_some_and(|spec| spec.get("job").is_some_and(|j| !j.is_null()))
    {
        return Lifecycle::Suspended;
    }
    if inputs.job_state == Some("FAILED") {
        return Lifecycle::Failed;
    }
    if matches!(inputs.job_manager, Some(Jm::Missing | Jm::Error))
        && inputs
            .error
            .is_some_and(|e| TERMINAL_ERRORS.iter().any(|t| e.contains(t)))
    {
        return Lifecycle::Failed;
    }
    if state == Some(ReconciliationState::RolledBack) {
        return Lifecycle::RolledBack;
    }
    if reconciliation.and_then(|r| r.last_stable_spec.as_deref()) == Some(recorded) {
        return Lifecycle::Stable;
    }
    Lifecycle::Deployed
}

/// `status.error` of a validation failure (`FlinkResourceException` JSON).
pub fn validation_error(message: &str) -> String {
    exception_json(
        "org.apache.flink.kubernetes.operator.exception.ValidationException",
        message,
    )
}

/// `status.error` of a reconciliation failure.
pub fn reconciliation_error(message: &str) -> String {
    exception_json(
        "org.apache.flink.kubernetes.operator.exception.ReconciliationException",
        message,
    )
}

/// `status.error` of a JobManager that cannot start
/// (`DeploymentFailedException.forContainerStatus`, release-1.15.0).
pub fn deployment_failed_error(message: &str) -> String {
    exception_json(
        "org.apache.flink.kubernetes.operator.exception.DeploymentFailedException",
        message,
    )
}

fn exception_json(kind: &str, message: &str) -> String {
    json!({"type": kind, "message": message, "additionalMetadata": {}, "throwableList": []})
        .to_string()
}

/// The one `Running` condition after a reconcile (`setRunningConditionIfRequired`):
/// for an application from its job's state, for a session from its
/// JobManager's; `lastTransitionTime` kept while the status stays.
pub fn running_condition(
    application: bool,
    job_state: Option<&str>,
    job_manager: Option<Jm>,
    previous: Option<&[Condition]>,
    now: &str,
) -> Condition {
    let (status, reason, message) = if application {
        let state = job_state.unwrap_or("RECONCILING");
        (
            state == "RUNNING",
            camel(state),
            format!("Job status {state}"),
        )
    } else {
        let (reason, message) = match job_manager.unwrap_or(Jm::Missing) {
            Jm::Ready => (
                "JobManagerReady",
                "JobManager is running and ready to receive REST API calls",
            ),
            Jm::DeployedNotReady => (
                "DeployedNotReady",
                "JobManager is running but not yet ready to receive REST API calls",
            ),
            Jm::Deploying => ("JobManagerIsDeploying", "JobManager process is starting up"),
            Jm::Missing => (
                "JobManagerDeploymentMissing",
                "JobManager deployment not found",
            ),
            Jm::Error => ("Error", "JobManager deployment failed"),
        };
        (
            job_manager == Some(Jm::Ready),
            reason.to_owned(),
            message.to_owned(),
        )
    };
    let status = if status { "True" } else { "False" }.to_owned();
    let kept = previous
        .into_iter()
        .flatten()
        .find(|c| c.type_.as_deref() == Some("Running") && c.status.as_deref() == Some(&status))
        .and_then(|c| c.last_transition_time.clone());
    Condition {
        type_: Some("Running".into()),
        status: Some(status),
        reason: Some(reason),
        message: Some(message),
        last_transition_time: Some(kept.unwrap_or_else(|| now.to_owned())),
        observed_generation: None,
    }
}

fn camel(state: &str) -> String {
    let lower = state.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `taskmanager.numberOfTaskSlots`, 1 by default.
fn slots(configuration: &BTreeMap<String, String>) -> i64 {
    configuration
        .get("taskmanager.numberOfTaskSlots")
        .and_then(|s| s.trim().parse().ok())
        .filter(|s: &i64| *s > 0)
        .unwrap_or(1)
}

/// TaskManagers an application runs: `ceil(parallelism / slots)`, where the
/// parallelism is `taskManager.replicas × slots` if replicas are set, else
/// `job.parallelism` (`FlinkConfigBuilder.getParallelism`).
pub fn task_managers(spec: &Value, configuration: &BTreeMap<String, String>) -> i64 {
    let slots = slots(configuration);
    let parallelism = match spec
        .pointer("/taskManager/replicas")
        .and_then(Value::as_i64)
    {
        Some(replicas) => replicas * slots,
        None => spec
            .pointer("/job/parallelism")
            .and_then(Value::as_i64)
            .unwrap_or(1),
    };
    (parallelism + slots - 1) / slots
}

/// `clusterInfo` as the JobManager's REST API would fill it; the revision
/// says that no Flink process answered.
pub fn cluster_info(
    spec: &Value,
    configuration: &BTreeMap<String, String>,
    task_managers: i64,
) -> BTreeMap<String, String> {
    let version = spec
        .get("flinkVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim_start_matches('v')
        .replace('_', ".");
    let resource = |part: &str, key: &str| spec.get(part).and_then(|p| p.pointer(key)).cloned();
    let cpu = |part: &str| {
        resource(part, "/resource/cpu")
            .and_then(|c| c.as_f64())
            .unwrap_or(1.0)
    };
    let memory = |part: &str, flink_key: &str| {
        resource(part, "/resource/memory")
            .and_then(|m| m.as_str().map(str::to_owned))
            .or_else(|| configuration.get(flink_key).cloned())
            .and_then(|m| parse_memory(&m).ok())
            .unwrap_or(0)
    };
    let jm_replicas = resource("jobManager", "/replicas")
        .and_then(|r| r.as_i64())
        .unwrap_or(1);
    let total_cpu =
        cpu("jobManager") * jm_replicas as f64 + cpu("taskManager") * task_managers as f64;
    let total_memory = memory("jobManager", "jobmanager.memory.process.size") as i64 * jm_replicas
        + memory("taskManager", "taskmanager.memory.process.size") as i64 * task_managers;
    BTreeMap::from([
        ("flink-version".to_owned(), version),
        (
            "flink-revision".to_owned(),
            "simulated by dataport (no Flink process)".to_owned(),
        ),
        ("total-cpu".to_owned(), format!("{total_cpu:?}")),
        ("total-memory".to_owned(), total_memory.to_string()),
    ])
}

#[cfg(test)]
mod tests;
