//! Server-side apply of rendered objects: one request per object.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::Value;

use super::crds::FIELD_MANAGER;
use super::{Cluster, ClusterError};
use crate::crd::{FlinkDeployment, FlinkSessionJob};

/// The kinds the catalog renders, all namespaced. Known up front, they need
/// no discovery round trips before an apply.
fn known_resources() -> [ApiResource; 14] {
    [
        ApiResource::erase::<ConfigMap>(&()),
        ApiResource::erase::<Secret>(&()),
        ApiResource::erase::<Service>(&()),
        ApiResource::erase::<ServiceAccount>(&()),
        ApiResource::erase::<PersistentVolumeClaim>(&()),
        ApiResource::erase::<Deployment>(&()),
        ApiResource::erase::<StatefulSet>(&()),
        ApiResource::erase::<Job>(&()),
        ApiResource::erase::<Role>(&()),
        ApiResource::erase::<RoleBinding>(&()),
        ApiResource::erase::<FlinkDeployment>(&()),
        ApiResource::erase::<FlinkSessionJob>(&()),
        prometheus_operator_kind("PodMonitor"),
        prometheus_operator_kind("PrometheusRule"),
    ]
}

/// A kind of the Prometheus Operator's (`monitoring.coreos.com/v1`, its
/// plural the lowercase kind and `s`, as its CRDs name them).
pub(super) fn prometheus_operator_kind(kind: &str) -> ApiResource {
    let gvk = GroupVersionKind::gvk("monitoring.coreos.com", "v1", kind);
    ApiResource::from_gvk_with_plural(&gvk, &format!("{}s", kind.to_ascii_lowercase()))
}

impl Cluster {
    /// Applies `objects` in the order given, each complete, with server-side
    /// apply as field manager `dataport`: one request per object. Stops at the
    /// first refusal, with the API server's own words.
    pub async fn apply(&self, objects: &[Value]) -> Result<(), ClusterError> {
        let resources = known_resources();
        let params = PatchParams::apply(FIELD_MANAGER).force();
        for object in objects {
            let (api, name) = self.api_for(&resources, object)?;
            api.patch(&name, &params, &Patch::Apply(object))
                .await
                .map_err(|error| ClusterError::Refused {
                    object: describe(object),
                    source: error,
                })?;
        }
        Ok(())
    }

    fn api_for(
        &self,
        resources: &[ApiResource],
        object: &Value,
    ) -> Result<(Api<DynamicObject>, String), ClusterError> {
        let invalid = |why: &str| ClusterError::Encode(format!("{}: {why}", describe(object)));
        let api_version = object["apiVersion"]
            .as_str()
            .ok_or_else(|| invalid("no apiVersion"))?;
        let kind = object["kind"].as_str().ok_or_else(|| invalid("no kind"))?;
        let name = object["metadata"]["name"]
            .as_str()
            .ok_or_else(|| invalid("no name"))?;
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .ok_or_else(|| invalid("no namespace"))?;
        let resource = resources
            .iter()
            .find(|r| r.api_version == api_version && r.kind == kind)
            .ok_or_else(|| invalid("not a kind dataport applies"))?;
        let api = Api::namespaced_with(self.client().clone(), namespace, resource);
        Ok((api, name.to_owned()))
    }
}

/// `Kind namespace/name`, for messages.
pub fn describe(object: &Value) -> String {
    format!(
        "{} {}/{}",
        object["kind"].as_str().unwrap_or("object"),
        object["metadata"]["namespace"].as_str().unwrap_or("-"),
        object["metadata"]["name"].as_str().unwrap_or("?")
    )
}
