//! Apps' web interfaces through dataport: which Service port an instance's
//! interface is, and whether it may be reached now.

use uuid::Uuid;

use super::{Service, ServiceError};
use crate::catalog;
use crate::cluster::ClusterError;
use crate::cluster::webui::{ServiceTarget, UpgradeAnswer, UpstreamRequest, UpstreamResponse};
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
        let (cluster, route) = self.web_ui_route(id, ui).await?;
        match cluster
            .service_request(&route.target, route.on_upstream(request))
            .await
        {
            Ok(mut answer) => {
                answer.upstream_prefixes = route.upstream_prefixes(answer.upstream_prefixes);
                Ok(answer)
            }
            Err(error) => Err(self.unreachable(id, &route, error).await),
        }
    }

    /// Sends the WebSocket handshake `request` to web interface `ui` of
    /// instance `id`, as [`Service::web_ui_request`] sends any request;
    /// the same errors.
    pub async fn web_ui_upgrade(
        &self,
        id: Uuid,
        ui: &str,
        request: UpstreamRequest,
    ) -> Result<UpgradeAnswer, ServiceError> {
        let (cluster, route) = self.web_ui_route(id, ui).await?;
        match cluster
            .service_upgrade(&route.target, route.on_upstream(request))
            .await
        {
            Ok(UpgradeAnswer::Switched(mut switched)) => {
                switched.upstream_prefixes = route.upstream_prefixes(switched.upstream_prefixes);
                Ok(UpgradeAnswer::Switched(switched))
            }
            Ok(UpgradeAnswer::Answered(mut answer)) => {
                answer.upstream_prefixes = route.upstream_prefixes(answer.upstream_prefixes);
                Ok(UpgradeAnswer::Answered(answer))
            }
            Err(error) => Err(self.unreachable(id, &route, error).await),
        }
    }

    /// The cluster and where interface `ui` of instance `id` is served.
    async fn web_ui_route(
        &self,
        id: Uuid,
        ui: &str,
    ) -> Result<(&crate::cluster::Cluster, WebUiRoute), ServiceError> {
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
        let served = web_ui.service(&instance.name, &instance.namespace, &instance.params);
        let route = WebUiRoute {
            label: web_ui.label,
            instance: instance.name.clone(),
            target: ServiceTarget {
                namespace: served.namespace,
                service: served.name,
                port: served.port,
            },
            own_path: web_ui
                .is_under_proxy_path(&instance.params)
                .then(|| web_ui.proxy_path(id).trim_end_matches('/').to_owned()),
        };
        Ok((cluster, route))
    }

    /// Why `route` could not be reached: on the local cluster, that its pods
    /// are simulated rather than how the dial failed.
    async fn unreachable(&self, id: Uuid, route: &WebUiRoute, error: ClusterError) -> ServiceError {
        let ClusterError::Upstream(message) = error else {
            return error.into();
        };
        let pods = self.instance_pods(id).await.unwrap_or_default();
        let why = if !pods.is_empty() && pods.iter().all(|pod| pod.is_simulated()) {
            "its pods are simulated by the local cluster's node (no container runs), \
             so it does not run here"
                .to_owned()
        } else {
            message
        };
        ServiceError::Upstream(format!(
            "{} of {} cannot be reached: {why}",
            route.label, route.instance
        ))
    }
}

/// Where an instance's web interface is served.
struct WebUiRoute {
    /// The interface's label, e.g. "Flink WebUI".
    label: &'static str,
    /// The instance's name.
    instance: String,
    /// The Service port that serves it.
    target: ServiceTarget,
    /// The proxy path, for an app that serves under it.
    own_path: Option<String>,
}

impl WebUiRoute {
    /// `request` as the upstream gets it: an app serving under the proxy
    /// path gets the whole path.
    fn on_upstream(&self, mut request: UpstreamRequest) -> UpstreamRequest {
        if let Some(path) = &self.own_path {
            request.path_and_query = format!("{path}{}", request.path_and_query);
        }
        request
    }

    /// How the upstream's answers name its root: an app serving under the
    /// proxy path names that path (through the API server, behind the API
    /// server's own prefix).
    fn upstream_prefixes(&self, prefixes: Vec<String>) -> Vec<String> {
        match &self.own_path {
            Some(path) => prefixes
                .iter()
                .flat_map(|upstream| [format!("{upstream}{path}"), upstream.clone()])
                .collect(),
            None => prefixes,
        }
    }
}
