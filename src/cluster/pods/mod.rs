//! An instance's pods, their events and their containers' logs, read from the
//! API server (`pods/log` is what `kubectl logs` reads: the API server asks
//! the pod's node).

use futures::{AsyncBufReadExt, Stream, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, LogParams};
use serde::Serialize;

use super::events::EventView;
use super::{Cluster, ClusterError};
use crate::catalog::render::labels;

mod view;
mod watched;

pub use view::{ContainerView, PodView, SIMULATED_RUNTIME, Termination};
pub(in crate::cluster) use watched::PodStores;

/// Labels Flink's native Kubernetes mode puts on the JobManager and
/// TaskManager pods of cluster `app` (apache/flink release-1.20,
/// `flink-kubernetes` `Constants`: `LABEL_TYPE_KEY`=`type`,
/// `LABEL_TYPE_NATIVE_TYPE`=`flink-native-kubernetes`, `LABEL_APP_KEY`=`app`,
/// `LABEL_COMPONENT_KEY`=`component`).
pub const FLINK_POD_TYPE: &str = "flink-native-kubernetes";

/// Which pods belong to an instance.
#[derive(Debug, Clone)]
pub struct PodScope {
    /// The instance's namespace.
    pub namespace: String,
    /// The instance's name (the `app.kubernetes.io/instance` label).
    pub instance: String,
    /// The instance's app (the `app.kubernetes.io/name` label).
    pub app: String,
    /// The Flink cluster it runs, if any: the FlinkDeployment's name, which
    /// Flink's pods carry as `app`.
    pub flink_cluster: Option<String>,
}

impl PodScope {
    fn selectors(&self) -> Vec<String> {
        let mut selectors = vec![format!(
            "{}={},{}={}",
            labels::INSTANCE,
            self.instance,
            labels::NAME,
            self.app
        )];
        if let Some(cluster) = &self.flink_cluster {
            selectors.push(format!("app={cluster},type={FLINK_POD_TYPE}"));
        }
        selectors
    }

    /// Whether `pod` is one of the instance's.
    pub fn holds(&self, pod: &Pod) -> bool {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let label = |key: &str| labels.get(key).map(String::as_str);
        let own = label(labels::INSTANCE) == Some(self.instance.as_str())
            && label(labels::NAME) == Some(self.app.as_str());
        let flink = self.flink_cluster.as_deref().is_some_and(|cluster| {
            label("app") == Some(cluster) && label("type") == Some(FLINK_POD_TYPE)
        });
        pod.metadata.namespace.as_deref() == Some(self.namespace.as_str()) && (own || flink)
    }
}

/// A container's log as the API server gave it, or why it has none.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogText {
    /// The text (bounded by the request).
    Text(String),
    /// The node's reason it has no log (the API server's 400, e.g. a
    /// container waiting to start, or one only simulated).
    Unavailable(String),
}

/// What part of a log to ask for.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogRequest {
    /// The previous run's log.
    pub previous: bool,
    /// Lines from the end.
    pub tail_lines: Option<i64>,
    /// Bytes at most.
    pub limit_bytes: Option<i64>,
}

impl LogRequest {
    fn params(&self, container: &str, follow: bool) -> LogParams {
        LogParams {
            container: Some(container.to_owned()),
            follow,
            previous: self.previous,
            tail_lines: self.tail_lines,
            limit_bytes: self.limit_bytes,
            ..LogParams::default()
        }
    }
}

impl Cluster {
    /// Every pod of `scope`, by name.
    pub async fn instance_pods(&self, scope: &PodScope) -> Result<Vec<Pod>, ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client().clone(), &scope.namespace);
        let mut pods: Vec<Pod> = Vec::new();
        for selector in scope.selectors() {
            for pod in api.list(&ListParams::default().labels(&selector)).await? {
                if !pods.iter().any(|p| p.metadata.uid == pod.metadata.uid) {
                    pods.push(pod);
                }
            }
        }
        pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        Ok(pods)
    }

    /// Pod `name` of `scope`; `None` when there is none or it is not the instance's.
    pub async fn instance_pod(
        &self,
        scope: &PodScope,
        name: &str,
    ) -> Result<Option<Pod>, ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client().clone(), &scope.namespace);
        Ok(api.get_opt(name).await?.filter(|pod| scope.holds(pod)))
    }

    /// The events about pod `name` in `namespace`, newest first.
    pub async fn pod_events(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<EventView>, ClusterError> {
        let api: Api<Event> = Api::namespaced(self.client().clone(), namespace);
        let selector = format!("involvedObject.kind=Pod,involvedObject.name={name}");
        let mut events: Vec<EventView> = api
            .list(&ListParams::default().fields(&selector))
            .await?
            .into_iter()
            .map(EventView::of)
            .collect();
        events.sort_by(|a, b| b.at.cmp(&a.at));
        Ok(events)
    }

    /// The log of `container` of pod `pod`, through the API server's `pods/log`.
    pub async fn container_log(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        request: LogRequest,
    ) -> Result<LogText, ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client().clone(), namespace);
        match api.logs(pod, &request.params(container, false)).await {
            Ok(text) => Ok(LogText::Text(text)),
            Err(kube::Error::Api(status)) if status.code == 400 => {
                Ok(LogText::Unavailable(status.message))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The log of `container` followed: what `request` selects, then each
    /// line as it is written, until the container ends. Lines keep their
    /// newline; invalid UTF-8 is replaced.
    pub async fn follow_container_log(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        request: LogRequest,
    ) -> Result<impl Stream<Item = Result<String, ClusterError>> + Send + use<>, ClusterError> {
        let api: Api<Pod> = Api::namespaced(self.client().clone(), namespace);
        let reader = api
            .log_stream(pod, &request.params(container, true))
            .await?;
        Ok(reader
            .lines()
            .map_ok(|line| format!("{line}\n"))
            .map_err(|error| ClusterError::Log(error.to_string()))
            .boxed())
    }
}

impl EventView {
    /// The view of a core/v1 Event.
    pub fn of(event: Event) -> EventView {
        EventView {
            at: event
                .last_timestamp
                .map(|t| t.0.to_string())
                .or_else(|| event.event_time.map(|t| t.0.to_string()))
                .unwrap_or_default(),
            kind: event.type_.unwrap_or_default(),
            reason: event.reason.unwrap_or_default(),
            object: format!(
                "{}/{}",
                event.involved_object.kind.unwrap_or_default(),
                event.involved_object.name.unwrap_or_default()
            ),
            message: event.message.unwrap_or_default(),
        }
    }
}
