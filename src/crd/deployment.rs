//! `FlinkDeployment` (`flink.apache.org/v1beta1`): a Flink cluster, a session
//! cluster without `spec.job`, an application with it.
//!
//! Source: flink-kubernetes-operator release-1.15.0,
//! helm/flink-kubernetes-operator/crds/flinkdeployments.flink.apache.org-v1.yml
//! (generated from `flink-kubernetes-operator-api/.../spec/FlinkDeploymentSpec.java`
//! and `.../status/FlinkDeploymentStatus.java`).

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::flink_configuration;
use super::job::JobSpec;
use super::status::{Condition, JobStatus, ReconciliationStatus, ResourceLifecycleState};

/// A Flink cluster: a session cluster without `job`, an application with it.
#[serde_with::skip_serializing_none]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "flink.apache.org",
    version = "v1beta1",
    kind = "FlinkDeployment",
    plural = "flinkdeployments",
    singular = "flinkdeployment",
    shortname = "flinkdep",
    namespaced,
    status = "FlinkDeploymentStatus",
    scale(
        spec_replicas_path = ".spec.taskManager.replicas",
        status_replicas_path = ".status.taskManager.replicas",
        label_selector_path = ".status.taskManager.labelSelector"
    ),
    annotation("dataport.io/flink-operator-version", "1.15.0"),
    printcolumn = r#"{"name":"Job Status","type":"string","description":"Last observed state of the job.","jsonPath":".status.jobStatus.state","priority":0}"#,
    printcolumn = r#"{"name":"Lifecycle State","type":"string","description":"Lifecycle state of the Flink resource (including being rolled back, failed etc.).","jsonPath":".status.lifecycleState","priority":0}"#
)]
#[serde(default, rename_all = "camelCase")]
pub struct FlinkDeploymentSpec {
    /// Container image, e.g. `flink:1.20`.
    pub image: Option<String>,
    /// Image pull policy of the Flink containers.
    pub image_pull_policy: Option<String>,
    /// Service account the JobManager uses to create TaskManager pods.
    pub service_account: Option<String>,
    /// Flink major version of the image.
    pub flink_version: Option<FlinkVersion>,
    /// Ingress for the WebUI.
    pub ingress: Option<IngressSpec>,
    /// Pod template shared by JobManager and TaskManager pods (a Pod).
    #[schemars(schema_with = "super::preserve_unknown_object")]
    pub pod_template: Option<serde_json::Value>,
    /// JobManager pods.
    pub job_manager: Option<JobManagerSpec>,
    /// TaskManager pods.
    pub task_manager: Option<TaskManagerSpec>,
    /// The job of an application cluster; absent for a session cluster.
    pub job: Option<JobSpec>,
    /// Changing it restarts the cluster.
    pub restart_nonce: Option<i64>,
    /// `flink-conf` entries as flat `key: "text"` pairs. The CRD accepts nested
    /// YAML and any scalar too (1.15.0); reading flattens those to dotted keys
    /// and text, see [`flink_configuration::deserialize`].
    #[serde(deserialize_with = "flink_configuration::deserialize")]
    #[schemars(schema_with = "flink_configuration::schema")]
    pub flink_configuration: Option<BTreeMap<String, String>>,
    /// Log4j configuration files by name.
    pub log_configuration: Option<BTreeMap<String, String>>,
    /// Native (Flink creates TaskManagers) or standalone deployment.
    pub mode: Option<KubernetesDeploymentMode>,
}

/// Flink versions, exactly as the 1.15.0 CRD lists them (`v1_13` ... `v2_2`).
/// The operator's Java enum also knows `v2_3` and `v2_4`, but the shipped CRD
/// does not, so the API server refuses them (docs/flink-operator-facts.md §5); and the
/// operator refuses `v1_13`/`v1_14` (`FlinkVersion.isSupported`).
#[allow(non_camel_case_types)]
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum FlinkVersion {
    /// Flink 1.13 (no longer supported by the operator).
    v1_13,
    /// Flink 1.14 (no longer supported by the operator).
    v1_14,
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
    /// Flink 2.2.
    v2_2,
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
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct Resource {
    /// CPU cores, fractions allowed.
    pub cpu: Option<f64>,
    /// Memory as a Kubernetes quantity, e.g. `2048m` or `2g`.
    pub memory: Option<String>,
    /// Ephemeral storage as a Kubernetes quantity.
    pub ephemeral_storage: Option<String>,
}

/// The JobManager's resources and replicas.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct JobManagerSpec {
    /// Resources of each JobManager pod.
    pub resource: Option<Resource>,
    /// More than one only with high availability (the operator's validator
    /// refuses less than one; the CRD does not).
    pub replicas: Option<i32>,
    /// Pod template of the JobManager pods (a Pod).
    #[schemars(schema_with = "super::preserve_unknown_object")]
    pub pod_template: Option<serde_json::Value>,
}

/// The TaskManagers' resources and replicas.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct TaskManagerSpec {
    /// Resources of each TaskManager pod.
    pub resource: Option<Resource>,
    /// Number of TaskManagers (standalone mode and session clusters); the
    /// `scale` subresource's spec replicas.
    pub replicas: Option<i32>,
    /// Pod template of the TaskManager pods (a Pod).
    #[schemars(schema_with = "super::preserve_unknown_object")]
    pub pod_template: Option<serde_json::Value>,
}

/// Ingress for the Flink WebUI.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressSpec {
    /// URL template; `{{name}}` and `{{namespace}}` are substituted.
    pub template: Option<String>,
    /// Ingress class.
    pub class_name: Option<String>,
    /// Annotations of the Ingress.
    pub annotations: Option<BTreeMap<String, String>>,
    /// Labels of the Ingress.
    pub labels: Option<BTreeMap<String, String>>,
    /// TLS of the Ingress, as in `networking.k8s.io/v1` `IngressTLS`.
    pub tls: Option<Vec<IngressTls>>,
}

/// One TLS entry of an Ingress.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressTls {
    /// Host names the certificate covers.
    pub hosts: Option<Vec<String>>,
    /// Secret holding the certificate and key.
    pub secret_name: Option<String>,
}

/// What the operator reports of a FlinkDeployment (`FlinkDeploymentStatus`).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct FlinkDeploymentStatus {
    /// The job's status (application clusters).
    pub job_status: Option<JobStatus>,
    /// Last error, as JSON text.
    pub error: Option<String>,
    /// The `metadata.generation` last reconciled.
    pub observed_generation: Option<i64>,
    /// Where the resource is in its lifecycle.
    pub lifecycle_state: Option<ResourceLifecycleState>,
    /// Flink version and revision, total CPU and memory reported by the cluster.
    pub cluster_info: Option<BTreeMap<String, String>>,
    /// State of the JobManager deployment.
    pub job_manager_deployment_status: Option<JobManagerDeploymentStatus>,
    /// The last reconciled and last stable spec.
    pub reconciliation_status: Option<ReconciliationStatus>,
    /// TaskManagers of an application cluster (the `scale` subresource's status).
    pub task_manager: Option<TaskManagerInfo>,
    /// Conditions; the operator writes one, `Running`.
    pub conditions: Option<Vec<Condition>>,
}

/// TaskManagers as the `scale` subresource reads them (`status.taskManager`).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct TaskManagerInfo {
    /// Label selector of the TaskManager pods, e.g. `component=taskmanager,app=NAME`.
    pub label_selector: Option<String>,
    /// Number of TaskManagers.
    pub replicas: Option<i32>,
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
