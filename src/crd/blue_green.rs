//! `FlinkBlueGreenDeployment` (`flink.apache.org/v1beta1`): two
//! FlinkDeployments (blue and green) the operator switches between on each
//! spec change.
//!
//! Source: flink-kubernetes-operator release-1.15.0,
//! helm/flink-kubernetes-operator/crds/flinkbluegreendeployments.flink.apache.org-v1.yml
//! (generated from `flink-kubernetes-operator-api/.../spec/FlinkBlueGreenDeploymentSpec.java`
//! and `.../status/FlinkBlueGreenDeploymentStatus.java`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::deployment::{FlinkDeploymentSpec, IngressSpec};
use super::status::JobStatus;

/// A blue/green pair of FlinkDeployments made from one template.
#[serde_with::skip_serializing_none]
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "flink.apache.org",
    version = "v1beta1",
    kind = "FlinkBlueGreenDeployment",
    plural = "flinkbluegreendeployments",
    singular = "flinkbluegreendeployment",
    shortname = "flinkbgdep",
    namespaced,
    status = "FlinkBlueGreenDeploymentStatus",
    annotation("dataport.io/flink-operator-version", "1.15.0"),
    printcolumn = r#"{"name":"Job Status","type":"string","jsonPath":".status.jobStatus.state","priority":0}"#
)]
#[serde(default, rename_all = "camelCase")]
pub struct FlinkBlueGreenDeploymentSpec {
    /// Blue/green settings (`kubernetes.operator.bluegreen.*`), all text.
    pub configuration: Option<BTreeMap<String, String>>,
    /// Ingress for the active deployment's WebUI.
    pub ingress: Option<IngressSpec>,
    /// The FlinkDeployment both colours are made from.
    pub template: Option<FlinkDeploymentTemplate>,
}

/// Metadata and spec of the FlinkDeployments a blue/green deployment makes.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct FlinkDeploymentTemplate {
    /// Object metadata (labels, annotations, ...) of the made deployments.
    #[schemars(schema_with = "template_metadata_schema")]
    pub metadata: Option<ObjectMeta>,
    /// Their spec.
    pub spec: Option<FlinkDeploymentSpec>,
}

/// What the operator reports of a blue/green deployment.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct FlinkBlueGreenDeploymentStatus {
    /// The active deployment's job.
    pub job_status: Option<JobStatus>,
    /// Which colour is active, or the transition under way.
    pub blue_green_state: Option<FlinkBlueGreenDeploymentState>,
    /// The last reconciled spec, as JSON text.
    pub last_reconciled_spec: Option<String>,
    /// When the spec was last reconciled (text).
    pub last_reconciled_timestamp: Option<String>,
    /// When the new deployment became ready (text).
    pub deployment_ready_timestamp: Option<String>,
    /// When a transition was aborted (text).
    pub abort_timestamp: Option<String>,
    /// Trigger id of the savepoint taken before a transition.
    pub savepoint_trigger_id: Option<String>,
    /// Last error, as JSON text.
    pub error: Option<String>,
}

/// Where a blue/green deployment is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FlinkBlueGreenDeploymentState {
    /// Deploying the first (blue) deployment.
    InitializingBlue,
    /// Blue is active.
    ActiveBlue,
    /// Green is active.
    ActiveGreen,
    /// Moving from green to blue.
    TransitioningToBlue,
    /// Moving from blue to green.
    TransitioningToGreen,
    /// Taking a savepoint of blue before a transition.
    SavepointingBlue,
    /// Taking a savepoint of green before a transition.
    SavepointingGreen,
}

/// The CRD's schema of `spec.template.metadata`: an `ObjectMeta` as Fabric8
/// writes it (no required fields, `fieldsV1` an object without fields).
fn template_metadata_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let string = || serde_json::json!({ "type": "string" });
    let integer = || serde_json::json!({ "type": "integer" });
    let boolean = || serde_json::json!({ "type": "boolean" });
    let strings = || serde_json::json!({ "type": "array", "items": { "type": "string" } });
    let string_map =
        || serde_json::json!({ "type": "object", "additionalProperties": { "type": "string" } });
    schemars::json_schema!({
        "type": "object",
        "properties": {
            "annotations": string_map(),
            "creationTimestamp": string(),
            "deletionGracePeriodSeconds": integer(),
            "deletionTimestamp": string(),
            "finalizers": strings(),
            "generateName": string(),
            "generation": integer(),
            "labels": string_map(),
            "managedFields": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "apiVersion": string(),
                        "fieldsType": string(),
                        "fieldsV1": { "type": "object" },
                        "manager": string(),
                        "operation": string(),
                        "subresource": string(),
                        "time": string(),
                    }
                }
            },
            "name": string(),
            "namespace": string(),
            "ownerReferences": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "apiVersion": string(),
                        "blockOwnerDeletion": boolean(),
                        "controller": boolean(),
                        "kind": string(),
                        "name": string(),
                        "uid": string(),
                    }
                }
            },
            "resourceVersion": string(),
            "selfLink": string(),
            "uid": string(),
        }
    })
}
