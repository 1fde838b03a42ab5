//! Namespaces and Secrets that dataport creates once and never overwrites.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};

use super::{Cluster, ClusterError};

/// Field manager of Secret values: not `dataport`, so that applying the
/// rendered Secret (which has no values) never removes them.
const SECRET_MANAGER: &str = "dataport-secrets";

impl Cluster {
    /// Creates the namespace unless it exists.
    pub async fn ensure_namespace(&self, name: &str) -> Result<(), ClusterError> {
        let namespaces: Api<Namespace> = Api::all(self.client().clone());
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/managed-by".to_owned(),
                    "dataport".to_owned(),
                )])),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        match namespaces.create(&PostParams::default(), &namespace).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Creates the Secret `name` with these values unless it exists; an
    /// existing Secret keeps its values. Returns whether it was created.
    pub async fn ensure_secret(
        &self,
        namespace: &str,
        name: &str,
        values: BTreeMap<String, String>,
    ) -> Result<bool, ClusterError> {
        let secrets: Api<Secret> = Api::namespaced(self.client().clone(), namespace);
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                ..ObjectMeta::default()
            },
            string_data: Some(values),
            type_: Some("Opaque".into()),
            ..Secret::default()
        };
        let params = PostParams {
            field_manager: Some(SECRET_MANAGER.into()),
            ..PostParams::default()
        };
        match secrets.create(&params, &secret).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(error) => Err(error.into()),
        }
    }
}
