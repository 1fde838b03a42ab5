//! Server-side apply of rendered objects, whatever their kind.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{Discovery, Scope};
use serde_json::Value;

use super::crds::FIELD_MANAGER;
use super::{Cluster, ClusterError};

impl Cluster {
    /// Applies `objects` in the order given, each complete, with server-side
    /// apply as field manager `dataport`. Stops at the first refusal, with the
    /// API server's own words.
    pub async fn apply(&self, objects: &[Value]) -> Result<(), ClusterError> {
        let discovery = Discovery::new(self.client().clone()).run().await?;
        let params = PatchParams::apply(FIELD_MANAGER).force();
        for object in objects {
            let (api, name) = self.api_for(&discovery, object)?;
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
        discovery: &Discovery,
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
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, capabilities) = discovery
            .resolve_gvk(&gvk)
            .ok_or_else(|| invalid("the API server does not serve this kind"))?;
        let api = match (capabilities.scope, object["metadata"]["namespace"].as_str()) {
            (Scope::Namespaced, Some(namespace)) => {
                Api::namespaced_with(self.client().clone(), namespace, &resource)
            }
            (Scope::Namespaced, None) => return Err(invalid("no namespace")),
            (Scope::Cluster, _) => Api::all_with(self.client().clone(), &resource),
        };
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
