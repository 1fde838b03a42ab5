//! The Flink operator's custom resources as typed structs:
//! `FlinkDeployment` and `FlinkSessionJob` (`flink.apache.org/v1beta1`).
//!
//! The fields are the operator's own names and enums, so the CRD printed from
//! these structs makes the API server reject what the operator would reject.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The operator's finalizer on every Flink resource it manages.
pub const OPERATOR_FINALIZER: &str = "flinkdeployments.flink.apache.org/finalizer";

/// A Flink cluster: a session cluster without `job`, an application with it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "flink.apache.org",
    version = "v1beta1",
    kind = "FlinkDeployment",
    plural = "flinkdeployments",
    shortname = "flinkdep",
    namespaced,
    status = "FlinkDeploymentStatus",
    printcolumn = r#"{"name":"Job Status","type":"string","jsonPath":".status.jobStatus.state"}"#,
    printcolumn = r#"{"name":"Lifecycle State","type":"string","jsonPath":".status.lifecycleState"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct FlinkDeploymentSpec {
    /// Container image, e.g. `flink:1.20`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Image pull policy of the Flink containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<String>,
    /// Service account the JobManager uses to create TaskManager pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    /// Flink major version of the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flink_version: Option<FlinkVersion>,
    /// Ingress for the WebUI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressSpec>,
    /// Pod template shared by JobManager and TaskManager pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_object")]
    pub pod_template: Option<serde_json::Value>,
    /// JobManager pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_manager: Option<JobManagerSpec>,
    /// TaskManager pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_manager: Option<TaskManagerSpec>,
    /// The job of an application cluster; absent for a session cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobSpec>,
    /// Changing it restarts the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_nonce: Option<i64>,
    /// `flink-conf` entries, all strings (older operators reject numbers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flink_configuration: Option<BTreeMap<String, String>>,
    /// Log4j configuration files by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_configuration: Option<BTreeMap<String, String>>,
    /// Native (Flink creates TaskManagers) or standalone deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<KubernetesDeploymentMode>,
}

/// A job submitted to an existing session cluster.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "flink.apache.org",
    version = "v1beta1",
    kind = "FlinkSessionJob",
    plural = "flinksessionjobs",
    shortname = "sessionjob",
    namespaced,
    status = "FlinkSessionJobStatus",
    printcolumn = r#"{"name":"Job Status","type":"string","jsonPath":".status.jobStatus.state"}"#,
    printcolumn = r#"{"name":"Lifecycle State","type":"string","jsonPath":".status.lifecycleState"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct FlinkSessionJobSpec {
    /// Name of the FlinkDeployment (session cluster) that runs the job.
    pub deployment_name: String,
    /// The job.
    pub job: JobSpec,
    /// Changing it restarts the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_nonce: Option<i64>,
    /// Job-level configuration, all strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flink_configuration: Option<BTreeMap<String, String>>,
}

/// Flink versions the operator knows.
#[allow(non_camel_case_types)]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum FlinkVersion {
    /// Flink 1.15.
    v1_15,
    /// Flink 1.16.
    v1_16,
    /// Flink 1.17.
    v1_17,
    /// Flink 1.18.
    v1_18,
    /// Flink 1.19.
    v1_19,
    /// Flink 1.20.
    v1_20,
    /// Flink 2.0.
    v2_0,
    /// Flink 2.1.
    v2_1,
}

/// How TaskManagers are created.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KubernetesDeploymentMode {
    /// Flink's ResourceManager creates TaskManager pods.
    Native,
    /// The operator creates a TaskManager Deployment.
    Standalone,
}

/// CPU, memory and disk of one Flink pod.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// CPU cores, fractions allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<f64>,
    /// Memory as a Kubernetes quantity, e.g. `2048m` or `2g`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// Ephemeral storage as a Kubernetes quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<String>,
}

/// The JobManager's resources and replicas.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobManagerSpec {
    /// Resources of each JobManager pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// More than one only with high availability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// Pod template of the JobManager pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_object")]
    pub pod_template: Option<serde_json::Value>,
}

/// The TaskManagers' resources and replicas.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskManagerSpec {
    /// Resources of each TaskManager pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// Number of TaskManagers (standalone mode and session clusters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// Pod template of the TaskManager pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_object")]
    pub pod_template: Option<serde_json::Value>,
}

/// Ingress for the Flink WebUI.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    /// URL template; `{{name}}` and `{{namespace}}` are substituted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Ingress class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// Annotations of the Ingress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels of the Ingress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// A Flink job: what to run and how to upgrade it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    /// Where the job's JAR is: `local://`, `https://`, `s3://`, ...
    #[serde(default, rename = "jarURI", skip_serializing_if = "Option::is_none")]
    pub jar_uri: Option<String>,
    /// Parallelism of the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub parallelism: Option<i32>,
    /// Main class, if the JAR's manifest does not name one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_class: Option<String>,
    /// Program arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Desired state of the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<JobState>,
    /// How state is carried across upgrades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_mode: Option<UpgradeMode>,
    /// Changing it triggers a savepoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub savepoint_trigger_nonce: Option<i64>,
    /// Savepoint to start the job from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_savepoint_path: Option<String>,
    /// Whether state that maps to no operator may be dropped on restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_non_restored_state: Option<bool>,
}

/// Desired state of a job.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// The job runs.
    Running,
    /// The job is stopped (with a savepoint where the upgrade mode keeps state).
    Suspended,
}

/// How a job's state is carried across upgrades and suspends.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UpgradeMode {
    /// A savepoint is taken and restored.
    Savepoint,
    /// The latest checkpoint is restored (needs HA).
    LastState,
    /// State is dropped.
    Stateless,
}

/// What the operator reports of a FlinkDeployment.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlinkDeploymentStatus {
    /// The job's status (application clusters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<JobStatus>,
    /// Last error, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The `metadata.generation` last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Where the resource is in its lifecycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_state: Option<ResourceLifecycleState>,
    /// Flink version and revision reported by the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_info: Option<BTreeMap<String, String>>,
    /// State of the JobManager deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_manager_deployment_status: Option<JobManagerDeploymentStatus>,
}

/// What the operator reports of a FlinkSessionJob.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlinkSessionJobStatus {
    /// The job's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<JobStatus>,
    /// Last error, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The `metadata.generation` last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Where the resource is in its lifecycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_state: Option<ResourceLifecycleState>,
}

/// A running job as the operator sees it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    /// Job name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    /// Flink job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Flink's job state: RUNNING, FINISHED, FAILED, SUSPENDED, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Start time, epoch milliseconds as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Last update, epoch milliseconds as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
    /// Savepoint the last upgrade went through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_savepoint_path: Option<String>,
    /// Savepoints taken and their triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "preserve_unknown_object")]
    pub savepoint_info: Option<serde_json::Value>,
}

/// State of the JobManager deployment.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobManagerDeploymentStatus {
    /// The JobManager is up and its REST endpoint answers.
    Ready,
    /// Deployed, not answering yet.
    DeployedNotReady,
    /// Being deployed.
    Deploying,
    /// Not there.
    Missing,
    /// Failed to deploy.
    Error,
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

/// An object schema that keeps whatever fields it is given (pod templates,
/// savepoint info): the API server validates those parts, not this CRD.
fn preserve_unknown_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}
