//! An instance's objects, found by their labels: deleted in teardown order, or rolled.

use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams};
use serde::Serialize;

use super::{Cluster, ClusterError};
use crate::catalog::render::labels;

/// An object still there after its deletion was asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remaining {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// The finalizers holding it, if it is being deleted.
    pub finalizers: Vec<String>,
}

impl Remaining {
    /// What the deletion waits for, in words.
    pub fn describe(&self) -> String {
        match self.finalizers.first() {
            Some(finalizer) => format!(
                "Waiting for finalizer {finalizer} on {} {}",
                self.kind, self.name
            ),
            None => format!("Waiting for {} {} to go", self.kind, self.name),
        }
    }
}

/// Where one instance's objects are, and how to tell them from another
/// instance's of the same name in a namespace it shares (an operator's
/// grants in a watched namespace).
#[derive(Debug, Clone)]
pub struct ObjectScope {
    /// The instance's id, in the `dataport.io/instance-id` annotation of
    /// each of its objects.
    pub id: uuid::Uuid,
    /// The instance's name, in the `app.kubernetes.io/instance` label.
    pub name: String,
    /// The instance's own namespace.
    pub namespace: String,
    /// Every namespace its objects may be in, its own first.
    pub namespaces: Vec<String>,
}

impl ObjectScope {
    /// Whether `object`, found by the instance label, is this instance's:
    /// an object carrying another instance's id is not.
    fn owns(&self, object: &DynamicObject) -> bool {
        object
            .metadata
            .annotations
            .as_ref()
            .and_then(|annotations| annotations.get(labels::INSTANCE_ID))
            .is_none_or(|id| *id == self.id.to_string())
    }
}

/// The label selector of instance `name`'s objects.
fn instance_selector(name: &str) -> String {
    format!(
        "{}={name},{}=dataport",
        labels::INSTANCE,
        labels::MANAGED_BY
    )
}

/// Teardown order: Flink jobs, then clusters (their operator's finalizer
/// needs the operator still running), then workloads, then what they use.
fn teardown_order() -> Vec<ApiResource> {
    use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
    use k8s_openapi::api::batch::v1::Job;
    use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};

    use crate::crd::{FlinkDeployment, FlinkSessionJob};
    vec![
        ApiResource::erase::<FlinkSessionJob>(&()),
        ApiResource::erase::<FlinkDeployment>(&()),
        ApiResource::erase::<Deployment>(&()),
        ApiResource::erase::<StatefulSet>(&()),
        ApiResource::erase::<Job>(&()),
        super::apply::prometheus_operator_kind("PodMonitor"),
        super::apply::prometheus_operator_kind("PrometheusRule"),
        ApiResource::erase::<Service>(&()),
        ApiResource::erase::<ConfigMap>(&()),
        ApiResource::erase::<Secret>(&()),
        ApiResource::erase::<RoleBinding>(&()),
        ApiResource::erase::<Role>(&()),
        ApiResource::erase::<ServiceAccount>(&()),
    ]
}

impl Cluster {
    /// The objects of one kind that `selector` picks in `namespace`, and the
    /// API to act on them; none for a kind the cluster does not serve (no
    /// Flink CRDs).
    async fn instance_objects(
        &self,
        namespace: &str,
        selector: &str,
        resource: &ApiResource,
    ) -> Result<(Api<DynamicObject>, Vec<DynamicObject>), ClusterError> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.client().clone(), namespace, resource);
        match api.list(&ListParams::default().labels(selector)).await {
            Ok(list) => Ok((api, list.items)),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok((api, Vec::new())),
            Err(error) => Err(error.into()),
        }
    }

    /// This instance's objects of one kind, in every namespace of `scope`.
    async fn scoped_objects(
        &self,
        scope: &ObjectScope,
        resource: &ApiResource,
    ) -> Result<Vec<(Api<DynamicObject>, DynamicObject)>, ClusterError> {
        let selector = instance_selector(&scope.name);
        let mut found = Vec::new();
        for namespace in &scope.namespaces {
            let (api, objects) = self
                .instance_objects(namespace, &selector, resource)
                .await?;
            found.extend(
                objects
                    .into_iter()
                    .filter(|object| scope.owns(object))
                    .map(|object| (api.clone(), object)),
            );
        }
        Ok(found)
    }

    /// Asks for the deletion of every object of the instance, in its own
    /// namespace and the others of `scope`, kind by kind in teardown order,
    /// and returns what is still there (held by a finalizer, or not yet
    /// collected). Empty: all gone.
    pub async fn delete_instance(
        &self,
        scope: &ObjectScope,
    ) -> Result<Vec<Remaining>, ClusterError> {
        let mut remaining = Vec::new();
        for resource in teardown_order() {
            for (api, object) in self.scoped_objects(scope, &resource).await? {
                let object_name = object.metadata.name.clone().unwrap_or_default();
                if object.metadata.deletion_timestamp.is_none() {
                    match api.delete(&object_name, &DeleteParams::background()).await {
                        Ok(_) => {}
                        Err(kube::Error::Api(status)) if status.code == 404 => continue,
                        Err(error) => return Err(error.into()),
                    }
                }
                // Still there after the delete call, or already being deleted.
                if let Ok(Some(now)) = api.get_opt(&object_name).await {
                    remaining.push(Remaining {
                        kind: resource.kind.clone(),
                        name: object_name,
                        finalizers: now.metadata.finalizers.unwrap_or_default(),
                    });
                }
            }
            // Later kinds wait for earlier ones: jobs and clusters go before
            // anything their operator needs.
            if remaining.iter().any(|r| {
                r.kind == resource.kind
                    && matches!(r.kind.as_str(), "FlinkSessionJob" | "FlinkDeployment")
            }) {
                return Ok(remaining);
            }
        }
        Ok(remaining)
    }
}

/// Annotation on pod templates whose change rolls the pods.
pub const RESTARTED_AT: &str = "dataport.io/restarted-at";

impl Cluster {
    /// Rolls every workload of instance `name`: a new pod-template annotation
    /// for Deployments and StatefulSets, a new `restartNonce` for Flink
    /// clusters (the operator's own restart switch). Returns how many.
    pub async fn restart_instance(
        &self,
        namespace: &str,
        name: &str,
        stamp: i64,
    ) -> Result<usize, ClusterError> {
        use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
        use kube::api::{Patch, PatchParams};

        use crate::crd::FlinkDeployment;

        // A field manager of its own: the next apply by `dataport` leaves these fields alone.
        let params = PatchParams::apply("dataport-restart").force();
        let template = serde_json::json!({
            "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp.to_string()}}}},
        });
        let rolls = [
            (ApiResource::erase::<Deployment>(&()), template.clone()),
            (ApiResource::erase::<StatefulSet>(&()), template),
            (
                ApiResource::erase::<FlinkDeployment>(&()),
                serde_json::json!({"spec": {"restartNonce": stamp}}),
            ),
        ];
        let selector = instance_selector(name);
        let mut restarted = 0;
        for (resource, change) in rolls {
            let (api, objects) = self
                .instance_objects(namespace, &selector, &resource)
                .await?;
            for object in objects {
                let mut patch = change.clone();
                patch["apiVersion"] = resource.api_version.clone().into();
                patch["kind"] = resource.kind.clone().into();
                let object_name = object.metadata.name.unwrap_or_default();
                api.patch(&object_name, &params, &Patch::Apply(patch))
                    .await?;
                restarted += 1;
            }
        }
        Ok(restarted)
    }
}

impl Cluster {
    /// Deletes the instance's objects, in every namespace of `scope`, that
    /// are not in `keep` (the objects of the revision just applied): what an
    /// update no longer renders, such as the grants in a namespace an
    /// operator stopped watching. Returns `Kind name` of each object deleted
    /// (`Kind namespace/name` outside the instance's namespace). Session jobs are the session cluster's, not its
    /// revision's: they are never pruned.
    pub async fn prune(
        &self,
        scope: &ObjectScope,
        keep: &[serde_json::Value],
    ) -> Result<Vec<String>, ClusterError> {
        let kept = |kind: &str, namespace: &str, object: &str| {
            keep.iter().any(|k| {
                k["kind"] == kind
                    && k["metadata"]["name"] == object
                    && k["metadata"]["namespace"] == namespace
            })
        };
        let mut pruned = Vec::new();
        for resource in teardown_order()
            .into_iter()
            .filter(|resource| resource.kind != "FlinkSessionJob")
        {
            for (api, object) in self.scoped_objects(scope, &resource).await? {
                let object_name = object.metadata.name.clone().unwrap_or_default();
                let namespace = object.metadata.namespace.clone().unwrap_or_default();
                if kept(&resource.kind, &namespace, &object_name)
                    || object.metadata.deletion_timestamp.is_some()
                {
                    continue;
                }
                match api.delete(&object_name, &DeleteParams::background()).await {
                    Ok(_) if namespace == scope.namespace => {
                        pruned.push(format!("{} {object_name}", resource.kind));
                    }
                    Ok(_) => pruned.push(format!("{} {namespace}/{object_name}", resource.kind)),
                    Err(kube::Error::Api(status)) if status.code == 404 => {}
                    Err(error) => return Err(error.into()),
                }
            }
        }
        Ok(pruned)
    }
}

impl Cluster {
    /// Asks for the deletion of FlinkSessionJob `name` in `namespace` (its
    /// operator cancels the job, then releases its finalizer). Gone already
    /// counts as deleted.
    pub async fn delete_session_job(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<(), ClusterError> {
        let api: Api<crate::crd::FlinkSessionJob> =
            Api::namespaced(self.client().clone(), namespace);
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

/// The label selector of the ConfigMaps Flink's Kubernetes HA keeps for
/// cluster `cluster_id` (leaders, job graphs, checkpoint pointers): apache/flink
/// `flink-kubernetes/src/main/java/org/apache/flink/kubernetes/utils/Constants.java`
/// (`LABEL_CONFIGMAP_TYPE_KEY = "configmap-type"`,
/// `LABEL_CONFIGMAP_TYPE_HIGH_AVAILABILITY = "high-availability"`) and
/// `KubernetesUtils.getConfigMapLabels` (with `app=<cluster id>`).
pub fn flink_ha_selector(cluster_id: &str) -> String {
    format!("app={cluster_id},configmap-type=high-availability")
}

impl Cluster {
    /// Deletes the ConfigMaps Flink's Kubernetes HA left for cluster
    /// `cluster_id` in `namespace` (they outlive the FlinkDeployment when the
    /// operator did not clean up, and a new cluster of the same name would
    /// resume their jobs). Returns their names.
    pub async fn delete_flink_ha_config_maps(
        &self,
        namespace: &str,
        cluster_id: &str,
    ) -> Result<Vec<String>, ClusterError> {
        let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
            Api::namespaced(self.client().clone(), namespace);
        let selector = flink_ha_selector(cluster_id);
        let found = api.list(&ListParams::default().labels(&selector)).await?;
        let mut deleted = Vec::new();
        for config_map in found.items {
            let Some(name) = config_map.metadata.name else {
                continue;
            };
            match api.delete(&name, &DeleteParams::background()).await {
                Ok(_) => deleted.push(name),
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(deleted)
    }
}
