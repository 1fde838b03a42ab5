//! Kubernetes events about an instance's objects, as its page lists them.

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};

use super::{Cluster, ClusterError};

/// A Kubernetes event about one of an instance's objects.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EventView {
    /// When it last happened (RFC 3339), if the event says.
    pub at: String,
    /// `Normal` or `Warning`.
    pub kind: String,
    /// The short reason, e.g. `SuccessfulCreate`.
    pub reason: String,
    /// `Kind/name` of the object.
    pub object: String,
    /// What happened.
    pub message: String,
}

/// Whether `object` is named after instance `name` (`name` or `name-…`)
/// rather than after a neighbour with a longer name that `name` starts
/// (`flink` and `flink-kubernetes-operator` in one namespace).
fn named_after(object: &str, name: &str, neighbours: &[String]) -> bool {
    let of = |instance: &str| object == instance || object.starts_with(&format!("{instance}-"));
    of(name)
        && !neighbours
            .iter()
            .any(|other| other.len() > name.len() && of(other))
}

impl Cluster {
    /// The latest events (at most `limit`, newest first) about the objects
    /// of instance `name`: the objects themselves and their pods (named
    /// after the instance), but not those of `neighbours` (the other
    /// instances of the namespace) whose names start the same way. One list
    /// call per page view.
    pub async fn instance_events(
        &self,
        namespace: &str,
        name: &str,
        neighbours: &[String],
        limit: usize,
    ) -> Result<Vec<EventView>, ClusterError> {
        let events: Api<Event> = Api::namespaced(self.client().clone(), namespace);
        let mut found: Vec<EventView> = events
            .list(&ListParams::default())
            .await?
            .into_iter()
            .filter(|event| {
                let object = event.involved_object.name.as_deref().unwrap_or_default();
                named_after(object, name, neighbours)
            })
            .map(EventView::of)
            .collect();
        found.sort_by(|a, b| b.at.cmp(&a.at));
        found.truncate(limit);
        Ok(found)
    }
}

#[cfg(test)]
mod named_after_tests {
    use super::named_after;

    #[test]
    fn an_event_belongs_to_the_instance_with_the_longest_matching_name() {
        let neighbours = vec!["flink-kubernetes-operator".to_owned()];
        assert!(named_after("flink", "flink", &neighbours));
        assert!(named_after("flink-5755d6857d-g5wzx", "flink", &neighbours));
        assert!(!named_after(
            "flink-kubernetes-operator-cf8cbd84d",
            "flink",
            &neighbours
        ));
        assert!(named_after(
            "flink-kubernetes-operator-cf8cbd84d",
            "flink-kubernetes-operator",
            &["flink".to_owned()]
        ));
        assert!(!named_after("flinkx", "flink", &[]));
    }
}
