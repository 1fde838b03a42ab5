//! An instance's pods, a pod's events and its containers' logs.
//!
//! Read from the cluster on each request (pods and events are not in the
//! watches' stores); a pod outside the instance is not found, so its page
//! and logs are reachable only through the instance it belongs to.

use futures::{Stream, StreamExt};

use serde::Serialize;
use uuid::Uuid;

use super::{Service, ServiceError};
use crate::cluster::events::EventView;
use crate::cluster::pods::{LogRequest, LogText, PodScope, PodView};
use crate::store::Instance;

/// Lines a logs page shows: the last ones.
pub const LOG_TAIL_LINES: i64 = 500;

/// Bytes a logs page shows at most (from where its last lines start).
pub const LOG_PAGE_BYTES: i64 = 256 * 1024;

/// Bytes a download holds at most.
pub const LOG_DOWNLOAD_BYTES: i64 = 16 * 1024 * 1024;

/// Lines of a failing run's log looked through for its cause.
const CAUSE_TAIL_LINES: i64 = 300;
const CAUSE_BYTES: i64 = 128 * 1024;

/// The line of a log that says why a JVM's run ended: the last `Caused by:`
/// (the root cause of the last stack trace), else the last exception line
/// of a trace (`some.Class Exception: message` at a line's start), else the
/// last `ERROR` line; without `Caused by: ` or the leading date.
fn cause_in_log(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let exception = |line: &&str| {
        let head = line.split(": ").next().unwrap_or_default();
        !line.starts_with(char::is_whitespace)
            && line.contains(": ")
            && !head.contains(' ')
            && (head.ends_with("Exception") || head.ends_with("Error"))
    };
    let cause = lines
        .iter()
        .rev()
        .find_map(|line| line.strip_prefix("Caused by: "))
        .or_else(|| lines.iter().rev().find(|line| exception(line)).copied())
        .or_else(|| lines.iter().rev().find(|l| l.contains(" ERROR ")).copied())?;
    Some(cause.chars().take(2000).collect())
}

/// One pod of an instance with its events.
#[derive(Debug, Clone, Serialize)]
pub struct PodDetail {
    /// The instance.
    pub instance: Instance,
    /// The pod.
    pub pod: PodView,
    /// Events about it, newest first, or why they could not be read.
    pub events: Result<Vec<EventView>, String>,
}

/// A container's log and what it is of.
#[derive(Debug, Clone, Serialize)]
pub struct LogView {
    /// The instance.
    pub instance: Instance,
    /// The pod.
    pub pod: PodView,
    /// The container.
    pub container: String,
    /// Whether it is the previous run's log.
    pub previous: bool,
    /// The text, or why there is none.
    pub log: LogText,
}

impl LogView {
    /// The log's text, empty when there is none.
    pub fn text(&self) -> &str {
        match &self.log {
            LogText::Text(text) => text,
            LogText::Unavailable(_) => "",
        }
    }

    /// Why there is no log, if there is none.
    pub fn unavailable(&self) -> Option<&str> {
        match &self.log {
            LogText::Text(_) => None,
            LogText::Unavailable(reason) => Some(reason),
        }
    }

    /// Whether the text fills the page's bound (older lines are not shown).
    pub fn is_cut(&self) -> bool {
        let text = self.text();
        text.lines().count() as i64 >= LOG_TAIL_LINES || text.len() as i64 >= LOG_PAGE_BYTES
    }
}

impl Service {
    /// Which pods are `instance`'s: its workloads' (by its labels) and, when
    /// it is a Flink cluster, those Flink's native mode creates (labelled
    /// with the FlinkDeployment's name).
    async fn pod_scope(&self, instance: &Instance) -> Result<PodScope, ServiceError> {
        let revision = self
            .store
            .revision(instance.id, instance.current_revision)
            .await?;
        let flink_cluster = revision.objects.as_array().and_then(|objects| {
            objects
                .iter()
                .find(|o| o["kind"] == "FlinkDeployment")
                .and_then(|o| o["metadata"]["name"].as_str())
                .map(str::to_owned)
        });
        Ok(PodScope {
            namespace: instance.namespace.clone(),
            instance: instance.name.clone(),
            app: instance.app.clone(),
            flink_cluster,
        })
    }

    /// The pods of instance `id` now: from the watches once they run and
    /// follow the cluster (see [`Service::spawn_status_sync`]), else listed.
    /// Errors: no such instance, or no cluster; an unreachable API server is
    /// the cluster error.
    pub async fn instance_pods(&self, id: Uuid) -> Result<Vec<PodView>, ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let instance = self.instance_record(id).await?;
        let scope = self.pod_scope(&instance).await?;
        // While a watch is interrupted its store may be stale: a list then
        // says what is there, or that the API server cannot be reached.
        let watched = match self.watches.get() {
            Some(watches) if watches.interrupted().is_none() => watches.pods(&scope).await,
            _ => None,
        };
        let pods = match watched {
            Some(pods) => pods,
            None => cluster.instance_pods(&scope).await?,
        };
        let mut views: Vec<PodView> = pods.iter().map(PodView::of).collect();
        for view in views.iter_mut().filter(|view| view.is_failing()) {
            view.crash_cause = self.crash_cause(&instance.namespace, view).await;
        }
        Ok(views)
    }

    /// Why a failing pod's last run ended, in its own words: the root cause
    /// in the end of that run's log. A log that cannot be read says nothing.
    async fn crash_cause(&self, namespace: &str, pod: &PodView) -> Option<String> {
        let cluster = self.cluster.as_ref()?;
        let ended = pod.last_termination.as_ref()?;
        let container = pod.containers.iter().find(|c| c.name == ended.container)?;
        // A running container's ended run is the previous one; a waiting or
        // terminated container's log is its last run already (the kubelet's choice).
        let request = LogRequest {
            previous: container.state == "Running",
            tail_lines: Some(CAUSE_TAIL_LINES),
            limit_bytes: Some(CAUSE_BYTES),
        };
        match cluster
            .container_log(namespace, &pod.name, &container.name, request)
            .await
        {
            Ok(LogText::Text(text)) => cause_in_log(&text),
            _ => None,
        }
    }

    /// Pod `name` of instance `id`, and the cluster handle; `PodNotFound`
    /// when the instance has no such pod.
    async fn scoped_pod(&self, id: Uuid, name: &str) -> Result<(Instance, PodView), ServiceError> {
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let instance = self.instance_record(id).await?;
        let scope = self.pod_scope(&instance).await?;
        let pod = cluster
            .instance_pod(&scope, name)
            .await?
            .ok_or_else(|| ServiceError::PodNotFound(name.to_owned()))?;
        Ok((instance, PodView::of(&pod)))
    }

    /// Pod `name` of instance `id` with its events.
    pub async fn pod(&self, id: Uuid, name: &str) -> Result<PodDetail, ServiceError> {
        let (instance, pod) = self.scoped_pod(id, name).await?;
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let events = cluster
            .pod_events(&instance.namespace, name)
            .await
            .map_err(|error| error.to_string());
        Ok(PodDetail {
            instance,
            pod,
            events,
        })
    }

    /// The log of `container` of pod `pod` of instance `id` (the previous
    /// run's with `previous`), at most `limit_bytes` from where its last
    /// `tail_lines` start (all lines with `None`).
    pub async fn container_log(
        &self,
        id: Uuid,
        pod: &str,
        container: &str,
        request: LogRequest,
    ) -> Result<LogView, ServiceError> {
        let (instance, view) = self.scoped_pod(id, pod).await?;
        if !view.containers.iter().any(|c| c.name == container) {
            return Err(ServiceError::PodNotFound(format!("{pod}/{container}")));
        }
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let log = cluster
            .container_log(&instance.namespace, pod, container, request)
            .await?;
        Ok(LogView {
            instance,
            pod: view,
            container: container.to_owned(),
            previous: request.previous,
            log,
        })
    }

    /// The log of `container` followed: the page's last lines, then each new
    /// line until the container ends.
    pub async fn follow_container_log(
        &self,
        id: Uuid,
        pod: &str,
        container: &str,
    ) -> Result<impl Stream<Item = Result<String, ServiceError>> + Send + use<>, ServiceError> {
        let (instance, view) = self.scoped_pod(id, pod).await?;
        if !view.containers.iter().any(|c| c.name == container) {
            return Err(ServiceError::PodNotFound(format!("{pod}/{container}")));
        }
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let request = LogRequest {
            previous: false,
            tail_lines: Some(LOG_TAIL_LINES),
            limit_bytes: None,
        };
        let lines = cluster
            .follow_container_log(&instance.namespace, pod, container, request)
            .await?;
        Ok(lines.map(|line| line.map_err(ServiceError::from)))
    }
}

#[cfg(test)]
mod tests {
    use super::cause_in_log;

    #[test]
    fn the_root_cause_of_the_last_trace_is_the_cause() {
        let log = "2026-11-30 10:00:00,000 INFO  org.apache.flink.runtime.entrypoint.ClusterEntrypoint [] - Starting\n\
            2026-11-30 10:00:01,000 ERROR org.apache.flink.runtime.entrypoint.ClusterEntrypoint [] - Could not start cluster entrypoint\n\
            org.apache.flink.runtime.entrypoint.ClusterEntrypointException: Failed to initialize the cluster entrypoint\n\
            \tat org.apache.flink.Foo.bar(Foo.java:1)\n\
            Caused by: org.apache.flink.configuration.IllegalConfigurationException: Sum of configured memory exceeds\n\
            \t... 3 more\n";
        assert_eq!(
            cause_in_log(log).as_deref(),
            Some(
                "org.apache.flink.configuration.IllegalConfigurationException: Sum of configured memory exceeds"
            )
        );
        assert_eq!(
            cause_in_log("java.lang.IllegalStateException: broken\n\tat x.y(Z.java:1)\n")
                .as_deref(),
            Some("java.lang.IllegalStateException: broken")
        );
        assert_eq!(cause_in_log("all fine\n"), None);
    }
}
