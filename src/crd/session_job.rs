//! `FlinkSessionJob` (`flink.apache.org/v1beta1`): a job submitted to an
//! existing session cluster.
//!
//! Source: flink-kubernetes-operator release-1.15.0,
//! helm/flink-kubernetes-operator/crds/flinksessionjobs.flink.apache.org-v1.yml
//! (generated from `flink-kubernetes-operator-api/.../spec/FlinkSessionJobSpec.java`
//! and `.../status/FlinkSessionJobStatus.java`).

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::flink_configuration;
use super::job::JobSpec;
use super::status::{JobStatus, ReconciliationStatus, ResourceLifecycleState};

/// A job submitted to an existing session cluster.
///
/// `deploymentName` and `job` are not required by the CRD (the operator's
/// validator refuses a job without them), so they default when absent.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "flink.apache.org",
    version = "v1beta1",
    kind = "FlinkSessionJob",
    plural = "flinksessionjobs",
    singular = "flinksessionjob",
    shortname = "sessionjob",
    namespaced,
    status = "FlinkSessionJobStatus",
    annotation("dataport.io/flink-operator-version", "1.15.0"),
    printcolumn = r#"{"name":"Job Status","type":"string","description":"Last observed state of the job.","jsonPath":".status.jobStatus.state","priority":0}"#,
    printcolumn = r#"{"name":"Lifecycle State","type":"string","description":"Lifecycle state of the Flink resource (including being rolled back, failed etc.).","jsonPath":".status.lifecycleState","priority":0}"#
)]
#[serde(rename_all = "camelCase")]
pub struct FlinkSessionJobSpec {
    /// Name of the FlinkDeployment (session cluster) that runs the job.
    #[serde(default)]
    pub deployment_name: String,
    /// The job.
    #[serde(default)]
    pub job: JobSpec,
    /// Changing it restarts the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_nonce: Option<i64>,
    /// Job-level configuration as flat `key: "text"` pairs; nested YAML and
    /// other scalars read as in [`flink_configuration::deserialize`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flink_configuration::deserialize"
    )]
    #[schemars(schema_with = "flink_configuration::schema")]
    pub flink_configuration: Option<BTreeMap<String, String>>,
}

/// What the operator reports of a FlinkSessionJob (`FlinkSessionJobStatus`).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct FlinkSessionJobStatus {
    /// The job's status.
    pub job_status: Option<JobStatus>,
    /// Last error, as JSON text.
    pub error: Option<String>,
    /// The `metadata.generation` last reconciled.
    pub observed_generation: Option<i64>,
    /// Where the resource is in its lifecycle.
    pub lifecycle_state: Option<ResourceLifecycleState>,
    /// The last reconciled and last stable spec.
    pub reconciliation_status: Option<ReconciliationStatus>,
}
