//! Apps' web interfaces through dataport: which Service port an instance's
//! interface is, and whether it may be reached now.

use uuid::Uuid;

use super::{Service, ServiceError};
use crate::catalog;
use crate::cluster::ClusterError;
use crate::cluster::webui::{ServiceTarget, UpstreamRequest, UpstreamResponse};
use crate::store::InstanceStatus;

impl Service {
    /// Sends `request` to web interface `ui` (its catalog `name`, e.g.
    /// `flink-webui`) of instance `id`. Errors: [`ServiceError::InstanceNotFound`];
    /// [`ServiceError::NoWebUi`] when the app has no such interface or the
    /// instance is uninstalled; [`ServiceError::NoCluster`];
    /// [`ServiceError::Upstream`] when the interface cannot be reached.
    pub async fn web_ui_request(
        &self,
        id: Uuid,
        ui: &str,
        request: UpstreamRequest,
    ) -> Result<UpstreamResponse, ServiceError> {
        // Read at most once a second per instance, however busy the page.
        let instance = self
            .views
            .records
            .get_or_read(id, || self.instance_record(id))
            .await?;
        let web_ui = catalog::find(&instance.app)
            .and_then(|app| app.web_ui)
            .filter(|web_ui| web_ui.name == ui)
            .ok_or_else(|| {
                ServiceError::NoWebUi(format!(
                    "{} has no web interface named {ui:?}",
                    instance.name
                ))
            })?;
        if matches!(
            instance.status,
            InstanceStatus::Uninstalled | InstanceStatus::Uninstalling
        ) {
            return Err(ServiceError::NoWebUi(format!(
                "{} is {}: its {} is gone",
                instance.name,
                instance.status.as_str().to_lowercase(),
                web_ui.label
            )));
        }
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        // An app serving under the proxy path gets the whole path, and its
        // answers name that path already (through the API server, behind
        // the API server's own prefix).
        let own_path = web_ui
            .is_under_proxy_path(&instance.params)
            .then(|| web_ui.proxy_path(id).trim_end_matches('/').to_owned());
        let mut request = request;
        if let Some(path) = &own_path {
            request.path_and_query = format!("{path}{}", request.path_and_query);
        }
        let served = web_ui.service(&instance.name, &instance.namespace, &instance.params);
        let target = ServiceTarget {
            namespace: served.namespace,
            service: served.name,
            port: served.port,
        };
        let mut answer = match cluster.service_request(&target, request).await {
            Ok(answer) => answer,
            Err(ClusterError::Upstream(message)) => {
                // On the local cluster, say why rather than how it failed.
                let pods = self.instance_pods(id).await.unwrap_or_default();
                let why = if !pods.is_empty() && pods.iter().all(|pod| pod.is_simulated()) {
                    "its pods are simulated by the local cluster's node (no container runs), \
                     so it does not run here"
                        .to_owned()
                } else {
                    message
                };
                return Err(ServiceError::Upstream(format!(
                    "{} of {} cannot be reached: {why}",
                    web_ui.label, instance.name
                )));
            }
            Err(other) => return Err(other.into()),
        };
        if let Some(path) = own_path {
            answer.upstream_prefixes = answer
                .upstream_prefixes
                .iter()
                .flat_map(|upstream| [format!("{upstream}{path}"), upstream.clone()])
                .collect();
        }
        Ok(answer)
    }
}
