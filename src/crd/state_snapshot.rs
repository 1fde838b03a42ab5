//! `FlinkStateSnapshot` (`flink.apache.org/v1beta1`): a savepoint or
//! checkpoint of a job, asked for or recorded as a resource of its own.
//!
//! Source: flink-kubernetes-operator release-1.15.0,
//! helm/flink-kubernetes-operator/crds/flinkstatesnapshots.flink.apache.org-v1.yml
//! (generated from `flink-kubernetes-operator-api/.../spec/FlinkStateSnapshotSpec.java`
//! and `.../status/FlinkStateSnapshotStatus.java`; docs/flink-operator-facts.md §4).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::status::SavepointFormatType;

/// A savepoint or checkpoint of the job `jobReference` names.
#[serde_with::skip_serializing_none]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "flink.apache.org",
    version = "v1beta1",
    kind = "FlinkStateSnapshot",
    plural = "flinkstatesnapshots",
    singular = "flinkstatesnapshot",
    shortname = "flinksnp",
    namespaced,
    status = "FlinkStateSnapshotStatus",
    annotation("dataport.io/flink-operator-version", "1.15.0"),
    printcolumn = r#"{"name":"Path","type":"string","description":"Final path of the snapshot.","jsonPath":".status.path","priority":0}"#,
    printcolumn = r#"{"name":"Result Timestamp","type":"string","description":"Timestamp when the snapshot was last created/failed.","jsonPath":".status.resultTimestamp","priority":0}"#,
    printcolumn = r#"{"name":"Snapshot State","type":"string","description":"Current state of the snapshot.","jsonPath":".status.state","priority":0}"#
)]
#[serde(default, rename_all = "camelCase")]
pub struct FlinkStateSnapshotSpec {
    /// The FlinkDeployment or FlinkSessionJob whose job is snapshotted.
    pub job_reference: Option<JobReference>,
    /// Set for a savepoint.
    pub savepoint: Option<SavepointSpec>,
    /// Set (empty) for a checkpoint.
    pub checkpoint: Option<CheckpointSpec>,
    /// Retries before the snapshot is marked failed.
    pub backoff_limit: Option<i32>,
}

/// The resource whose job a snapshot is of.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct JobReference {
    /// Its kind.
    pub kind: Option<JobKind>,
    /// Its name, in the snapshot's namespace.
    pub name: Option<String>,
}

/// Kinds a snapshot can refer to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum JobKind {
    /// An application cluster's job.
    FlinkDeployment,
    /// A session job.
    FlinkSessionJob,
}

/// A savepoint to take, or one that already exists.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct SavepointSpec {
    /// Where to write it (or where it is, with `alreadyExists`).
    pub path: Option<String>,
    /// Its format.
    pub format_type: Option<SavepointFormatType>,
    /// Whether deleting the resource deletes the savepoint's files.
    pub dispose_on_delete: Option<bool>,
    /// The savepoint exists already: record it, take nothing.
    pub already_exists: Option<bool>,
}

/// A checkpoint to take; the CRD gives it no fields.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct CheckpointSpec {}

/// What the operator reports of a snapshot (`FlinkStateSnapshotStatus`).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct FlinkStateSnapshotStatus {
    /// Where the snapshot is.
    pub state: Option<SnapshotState>,
    /// Flink's trigger id of the pending snapshot.
    pub trigger_id: Option<String>,
    /// When it was triggered (Kubernetes time text).
    pub trigger_timestamp: Option<String>,
    /// When it completed or last failed (Kubernetes time text).
    pub result_timestamp: Option<String>,
    /// Where the finished snapshot is.
    pub path: Option<String>,
    /// Last error, as JSON text.
    pub error: Option<String>,
    /// Failed attempts so far.
    pub failures: Option<i32>,
}

/// Where a snapshot is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SnapshotState {
    /// Done.
    Completed,
    /// Failed past its backoff limit.
    Failed,
    /// Triggered, not done.
    InProgress,
    /// Waiting to be triggered (the default).
    TriggerPending,
    /// Its job went away before it finished.
    Abandoned,
}
