//! The Flink operator's custom resources as typed structs:
//! `FlinkDeployment` and `FlinkSessionJob` (`flink.apache.org/v1beta1`).
//! Types only: the catalog renders them, the cluster applies them.
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
#[serde_with::skip_serializing_none]
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
    /// Pod template shared by JobManager and TaskManager pods.
    #[schemars(schema_with = "preserve_unknown_object")]
    pub pod_template: Option<serde_json::Value>,
    /// JobManager pods.
    pub job_manager: Option<JobManagerSpec>,
    /// TaskManager pods.
    pub task_manager: Option<TaskManagerSpec>,
    /// The job of an application cluster; absent for a session cluster.
    pub job: Option<JobSpec>,
    /// Changing it restarts the cluster.
    pub restart_nonce: Option<i64>,
    /// `flink-conf` entries, all strings (older operators reject numbers).
    pub flink_configuration: Option<BTreeMap<String, String>>,
    /// Log4j configuration files by name.
    pub log_configuration: Option<BTreeMap<String, String>>,
    /// Native (Flink creates TaskManagers) or standalone deployment.
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
    /// More than one only with high availability.
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// Pod template of the JobManager pods.
    #[schemars(schema_with = "preserve_unknown_object")]
    pub pod_template: Option<serde_json::Value>,
}

/// The TaskManagers' resources and replicas.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct TaskManagerSpec {
    /// Resources of each TaskManager pod.
    pub resource: Option<Resource>,
    /// Number of TaskManagers (standalone mode and session clusters).
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// Pod template of the TaskManager pods.
    #[schemars(schema_with = "preserve_unknown_object")]
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
}

/// A Flink job: what to run and how to upgrade it.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct JobSpec {
    /// Where the job's JAR is: `local://`, `https://`, `s3://`, ...
    #[serde(rename = "jarURI")]
    pub jar_uri: Option<String>,
    /// Parallelism of the job.
    #[schemars(range(min = 1))]
    pub parallelism: Option<i32>,
    /// Main class, if the JAR's manifest does not name one.
    pub entry_class: Option<String>,
    /// Program arguments.
    pub args: Option<Vec<String>>,
    /// Desired state of the job.
    pub state: Option<JobState>,
    /// How state is carried across upgrades.
    pub upgrade_mode: Option<UpgradeMode>,
    /// Changing it triggers a savepoint.
    pub savepoint_trigger_nonce: Option<i64>,
    /// Savepoint to start the job from.
    pub initial_savepoint_path: Option<String>,
    /// Whether state that maps to no operator may be dropped on restore.
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
    /// Flink version and revision reported by the cluster.
    pub cluster_info: Option<BTreeMap<String, String>>,
    /// State of the JobManager deployment.
    pub job_manager_deployment_status: Option<JobManagerDeploymentStatus>,
}

/// What the operator reports of a FlinkSessionJob.
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
}

/// A running job as the operator sees it.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct JobStatus {
    /// Job name.
    pub job_name: Option<String>,
    /// Flink job id.
    pub job_id: Option<String>,
    /// Flink's job state: RUNNING, FINISHED, FAILED, SUSPENDED, ...
    pub state: Option<String>,
    /// Start time, epoch milliseconds as text.
    pub start_time: Option<String>,
    /// Last update, epoch milliseconds as text.
    pub update_time: Option<String>,
    /// Savepoint the last upgrade went through.
    pub upgrade_savepoint_path: Option<String>,
    /// Savepoints taken and their triggers.
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

#[cfg(test)]
mod tests {
    use kube::CustomResourceExt;
    use serde_json::{Value, json};

    use super::*;

    fn spec_schema(
        crd: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    ) -> Value {
        let schema = crd.spec.versions[0]
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref());
        serde_json::to_value(schema).unwrap()["properties"]["spec"].clone()
    }

    #[test]
    fn the_crds_carry_the_operators_enums() {
        let deployment = spec_schema(&FlinkDeployment::crd());
        let versions = &deployment["properties"]["flinkVersion"]["enum"];
        for version in ["v1_18", "v1_19", "v1_20", "v2_0", "v2_1"] {
            assert!(
                versions.as_array().unwrap().contains(&json!(version)),
                "{version}"
            );
        }
        let job = &deployment["properties"]["job"]["properties"];
        assert_eq!(
            job["upgradeMode"]["enum"],
            json!(["savepoint", "last-state", "stateless"])
        );
        assert_eq!(job["state"]["enum"], json!(["running", "suspended"]));
        assert_eq!(
            deployment["properties"]["flinkConfiguration"]["additionalProperties"]["type"],
            "string",
            "flinkConfiguration values are strings"
        );

        let session_job = spec_schema(&FlinkSessionJob::crd());
        assert_eq!(session_job["required"], json!(["deploymentName", "job"]));
    }

    #[test]
    fn a_session_cluster_serializes_without_nulls_or_a_job() {
        let deployment = FlinkDeployment::new(
            "analytics",
            FlinkDeploymentSpec {
                image: Some("flink:1.20".into()),
                flink_version: Some(FlinkVersion::v1_20),
                job_manager: Some(JobManagerSpec {
                    replicas: Some(1),
                    ..Default::default()
                }),
                ..Default::default()
            },
        );
        let value = serde_json::to_value(&deployment).unwrap();
        assert_eq!(
            value["spec"],
            json!({"image": "flink:1.20", "flinkVersion": "v1_20", "jobManager": {"replicas": 1}})
        );
        assert!(
            value.get("status").is_none(),
            "no status is sent: the operator owns it"
        );
    }
}
