//! Status types the operator writes, shared by several kinds: the job's
//! status (with its savepoints and checkpoints), the reconciliation record,
//! the lifecycle state and conditions.
//!
//! Sources: flink-kubernetes-operator release-1.15.0,
//! helm/flink-kubernetes-operator/crds/*.yml (`status`), generated from
//! `flink-kubernetes-operator-api/.../status/` (`JobStatus`, `SavepointInfo`,
//! `CheckpointInfo`, `Savepoint`, `Checkpoint`, `ReconciliationStatus`,
//! `ReconciliationState`, `ResourceLifecycleState`, `SnapshotTriggerType`,
//! `SavepointFormatType`, `CheckpointType`); what the operator writes there
//! is described in docs/flink-docs/flink-operator-facts.md §4.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A running job as the operator sees it (`status.jobStatus`).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct JobStatus {
    /// Job name.
    pub job_name: Option<String>,
    /// Flink job id.
    pub job_id: Option<String>,
    /// Flink's job state: RUNNING, FINISHED, FAILED, SUSPENDED, ... (text,
    /// so a newer Flink's state still reads; the CRD lists the known ones).
    #[schemars(schema_with = "flink_job_state_schema")]
    pub state: Option<String>,
    /// Start time, epoch milliseconds as text.
    pub start_time: Option<String>,
    /// Last update, epoch milliseconds as text.
    pub update_time: Option<String>,
    /// Savepoint the last upgrade went through.
    pub upgrade_savepoint_path: Option<String>,
    /// Savepoints taken and their triggers (deprecated by the operator in
    /// favour of FlinkStateSnapshot resources, still written).
    pub savepoint_info: Option<SavepointInfo>,
    /// Checkpoints triggered through the operator.
    pub checkpoint_info: Option<CheckpointInfo>,
}

/// Flink's job states (`org.apache.flink.api.common.JobStatus`) as the CRD
/// lists them for `status.jobStatus.state`.
pub const FLINK_JOB_STATES: [&str; 11] = [
    "CANCELED",
    "CANCELLING",
    "CREATED",
    "FAILED",
    "FAILING",
    "FINISHED",
    "INITIALIZING",
    "RECONCILING",
    "RESTARTING",
    "RUNNING",
    "SUSPENDED",
];

fn flink_job_state_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "enum": FLINK_JOB_STATES })
}

/// Savepoints of a job (`status.jobStatus.savepointInfo`).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct SavepointInfo {
    /// The last completed savepoint.
    pub last_savepoint: Option<Savepoint>,
    /// Id of the savepoint being taken.
    pub trigger_id: Option<String>,
    /// When the pending savepoint was triggered, epoch milliseconds.
    pub trigger_timestamp: Option<i64>,
    /// Why the pending savepoint was triggered.
    pub trigger_type: Option<SnapshotTriggerType>,
    /// Format of the pending savepoint.
    pub format_type: Option<SavepointFormatType>,
    /// Savepoints kept, oldest first.
    pub savepoint_history: Option<Vec<Savepoint>>,
    /// When the last periodic savepoint was triggered, epoch milliseconds.
    pub last_periodic_savepoint_timestamp: Option<i64>,
}

/// One savepoint.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct Savepoint {
    /// When it completed, epoch milliseconds.
    pub time_stamp: Option<i64>,
    /// Where it is, e.g. `s3://bucket/savepoints/savepoint-1a2b3c-...`.
    pub location: Option<String>,
    /// Why it was taken.
    pub trigger_type: Option<SnapshotTriggerType>,
    /// Its format.
    pub format_type: Option<SavepointFormatType>,
    /// The `savepointTriggerNonce` that asked for it (manual savepoints).
    pub trigger_nonce: Option<i64>,
}

/// Checkpoints triggered through the operator (`status.jobStatus.checkpointInfo`).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct CheckpointInfo {
    /// The last completed checkpoint.
    pub last_checkpoint: Option<Checkpoint>,
    /// Id of the checkpoint being taken.
    pub trigger_id: Option<String>,
    /// When the pending checkpoint was triggered, epoch milliseconds.
    pub trigger_timestamp: Option<i64>,
    /// Why the pending checkpoint was triggered.
    pub trigger_type: Option<SnapshotTriggerType>,
    /// Type of the pending checkpoint.
    pub format_type: Option<CheckpointType>,
    /// When the last periodic checkpoint was triggered, epoch milliseconds.
    pub last_periodic_checkpoint_timestamp: Option<i64>,
}

/// One checkpoint.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct Checkpoint {
    /// When it completed, epoch milliseconds.
    pub time_stamp: Option<i64>,
    /// Why it was taken.
    pub trigger_type: Option<SnapshotTriggerType>,
    /// Full or incremental.
    pub format_type: Option<CheckpointType>,
    /// The `checkpointTriggerNonce` that asked for it (manual checkpoints).
    pub trigger_nonce: Option<i64>,
}

/// Why a savepoint or checkpoint was taken.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SnapshotTriggerType {
    /// Asked for by a nonce or a FlinkStateSnapshot.
    Manual,
    /// By the periodic snapshot interval.
    Periodic,
    /// Before an upgrade or a suspend.
    Upgrade,
    /// Not known (e.g. taken outside the operator).
    Unknown,
}

/// Format of a savepoint.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SavepointFormatType {
    /// Flink's portable format.
    Canonical,
    /// The state backend's own format.
    Native,
    /// Not known.
    Unknown,
}

/// Type of a checkpoint.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckpointType {
    /// A full checkpoint.
    Full,
    /// An incremental checkpoint.
    Incremental,
    /// Not known.
    Unknown,
}

/// The operator's record of the last reconciled spec
/// (`status.reconciliationStatus` of FlinkDeployment and FlinkSessionJob).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ReconciliationStatus {
    /// When the spec was last reconciled, epoch milliseconds.
    pub reconciliation_timestamp: Option<i64>,
    /// The last reconciled spec as JSON text:
    /// `{"spec":{...},"resource_metadata":{"apiVersion":...,"firstDeployment":...}}`.
    pub last_reconciled_spec: Option<String>,
    /// The last spec that ran stable, same format.
    pub last_stable_spec: Option<String>,
    /// Where the reconciliation of that spec is.
    pub state: Option<ReconciliationState>,
}

/// Where the reconciliation of the last spec is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReconciliationState {
    /// The spec is deployed.
    Deployed,
    /// The spec is being deployed (the default before the first deploy).
    Upgrading,
    /// Rolling back to the last stable spec.
    RollingBack,
    /// Rolled back to the last stable spec.
    RolledBack,
}

/// Where a Flink resource is in its lifecycle.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceLifecycleState {
    /// Just created.
    Created,
    /// Suspended by the user.
    Suspended,
    /// Being upgraded.
    Upgrading,
    /// Deployed, not yet stable.
    Deployed,
    /// Deployed and stable.
    Stable,
    /// Rolling back a failed upgrade.
    RollingBack,
    /// Rolled back.
    RolledBack,
    /// Failed.
    Failed,
    /// Being deleted.
    Deleting,
    /// Deleted.
    Deleted,
}

/// A status condition (`status.conditions[]` of FlinkDeployment; the operator
/// writes one, `type: Running`). Every field is optional, as in the CRD.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct Condition {
    /// The condition's type, e.g. `Running`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// `True`, `False` or `Unknown`.
    pub status: Option<String>,
    /// Why, in one CamelCase word.
    pub reason: Option<String>,
    /// Why, for people.
    pub message: Option<String>,
    /// When the status last changed, RFC 3339 text.
    pub last_transition_time: Option<String>,
    /// The `metadata.generation` it was computed from.
    pub observed_generation: Option<i64>,
}
