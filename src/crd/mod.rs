//! The Flink operator's custom resources as typed structs
//! (`flink.apache.org/v1beta1`): [`FlinkDeployment`], [`FlinkSessionJob`],
//! [`FlinkStateSnapshot`] and [`FlinkBlueGreenDeployment`]. Types only: the
//! catalog renders them, the cluster applies them.
//!
//! The structs cover every field of the CRDs flink-kubernetes-operator 1.15.0
//! ships (helm/flink-kubernetes-operator/crds/*.yml at release-1.15.0), spec
//! and status, with the operator's own names and enums, so the CRDs printed
//! from them ([`definitions`]) keep whatever the operator writes and reject
//! what its CRDs reject; [`coverage`] checks that against the official files.
//! Pod templates are the one part left open: an object that keeps any field,
//! where the official CRDs spell out a Pod.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

mod blue_green;
pub mod coverage;
mod deployment;
pub mod flink_configuration;
mod job;
mod session_job;
mod state_snapshot;
mod status;

pub use blue_green::{
    FlinkBlueGreenDeployment, FlinkBlueGreenDeploymentSpec, FlinkBlueGreenDeploymentState,
    FlinkBlueGreenDeploymentStatus, FlinkDeploymentTemplate,
};
pub use deployment::{
    FlinkDeployment, FlinkDeploymentSpec, FlinkDeploymentStatus, FlinkVersion, IngressSpec,
    IngressTls, JobManagerDeploymentStatus, JobManagerSpec, KubernetesDeploymentMode, Resource,
    TaskManagerInfo, TaskManagerSpec,
};
pub use job::{JobSpec, JobState, UpgradeMode};
pub use session_job::{FlinkSessionJob, FlinkSessionJobSpec, FlinkSessionJobStatus};
pub use state_snapshot::{
    CheckpointSpec, FlinkStateSnapshot, FlinkStateSnapshotSpec, FlinkStateSnapshotStatus, JobKind,
    JobReference, SavepointSpec, SnapshotState,
};
pub use status::{
    Checkpoint, CheckpointInfo, CheckpointType, Condition, FLINK_JOB_STATES, JobStatus,
    ReconciliationState, ReconciliationStatus, ResourceLifecycleState, Savepoint,
    SavepointFormatType, SavepointInfo, SnapshotTriggerType,
};

/// The operator's finalizer on every FlinkDeployment it manages.
pub const OPERATOR_FINALIZER: &str = "flinkdeployments.flink.apache.org/finalizer";

/// The flink-kubernetes-operator release whose CRDs these structs match.
pub const OPERATOR_VERSION: &str = "1.15.0";

/// Annotation on dataport's CRDs naming the operator release they match
/// ([`OPERATOR_VERSION`]).
pub const OPERATOR_VERSION_ANNOTATION: &str = "dataport.io/flink-operator-version";

/// The API group of the Flink custom resources.
pub const GROUP: &str = "flink.apache.org";

/// dataport's CRDs of the four kinds, as they are installed.
///
/// kube's derive marks `spec` required at the top; the operator's CRDs
/// require nothing, so that is taken out (a narrower CRD would refuse what
/// the operator's accepts).
pub fn definitions() -> Vec<CustomResourceDefinition> {
    let mut crds = vec![
        FlinkDeployment::crd(),
        FlinkSessionJob::crd(),
        FlinkStateSnapshot::crd(),
        FlinkBlueGreenDeployment::crd(),
    ];
    for crd in &mut crds {
        for version in &mut crd.spec.versions {
            if let Some(schema) = version
                .schema
                .as_mut()
                .and_then(|s| s.open_api_v3_schema.as_mut())
            {
                schema.required = None;
            }
        }
    }
    crds
}

/// An object schema that keeps whatever fields it is given (pod templates):
/// wider than the operator's Pod schema, never narrower; the API server
/// validates the pods the operator makes from them.
fn preserve_unknown_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

#[cfg(test)]
mod tests;
