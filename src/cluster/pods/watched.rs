//! Instances' pods as the watches hold them: two watches over every
//! namespace (dataport's own pods by its `managed-by` label, Flink's native
//! pods by their `type` label) instead of a list per page view, and each
//! change reported as the instance whose pod changed, so an open page
//! follows its pods without asking the API server again.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::runtime::reflector::Store;
use tokio::sync::mpsc::UnboundedSender;

use super::{FLINK_POD_TYPE, PodScope};
use crate::catalog::render::labels;
use crate::cluster::Cluster;
use crate::cluster::watch::{InstanceKey, Interruptions, Watches, key_of};
use crate::crd::FlinkDeployment;

/// How long a read waits for a watch's first list before giving up on the
/// stores (the caller then lists instead).
const FIRST_LIST: Duration = Duration::from_secs(5);

/// The reflector stores of the pods dataport shows.
#[derive(Clone)]
pub(in crate::cluster) struct PodStores {
    /// Pods of dataport's own workloads (their templates carry
    /// `app.kubernetes.io/managed-by=dataport`).
    managed: Store<Pod>,
    /// Pods Flink's native Kubernetes mode makes (`type=flink-native-kubernetes`),
    /// which carry the FlinkDeployment's name as `app`, not dataport's labels.
    flink: Store<Pod>,
}

impl Cluster {
    /// Starts the two pod watches. A Flink pod's change is reported as the
    /// instance of the FlinkDeployment (in `flink_deployments`) it is of.
    pub(in crate::cluster) fn watch_pods(
        &self,
        flink_deployments: Store<FlinkDeployment>,
        changes: UnboundedSender<InstanceKey>,
        interrupted: Interruptions,
    ) -> PodStores {
        let flink_key = move |pod: &Pod| {
            let namespace = pod.namespace()?;
            let cluster = pod.labels().get("app")?.clone();
            flink_deployments
                .state()
                .iter()
                .find(|d| d.namespace().as_deref() == Some(&namespace) && d.name_any() == cluster)
                .and_then(|d| key_of(d.as_ref()))
        };
        PodStores {
            managed: self.watch_kind(
                Some(format!("{}=dataport", labels::MANAGED_BY)),
                key_of,
                changes.clone(),
                interrupted.clone(),
            ),
            flink: self.watch_kind(
                Some(format!("type={FLINK_POD_TYPE}")),
                flink_key,
                changes,
                interrupted,
            ),
        }
    }
}

impl Watches {
    /// The pods of `scope` as the watches hold them, by name; `None` when
    /// the watches have not listed once within a few seconds (the caller
    /// lists instead).
    pub async fn pods(&self, scope: &PodScope) -> Option<Vec<Pod>> {
        let stores = &self.pods;
        let ready = async {
            stores.managed.wait_until_ready().await.ok()?;
            stores.flink.wait_until_ready().await.ok()
        };
        tokio::time::timeout(FIRST_LIST, ready).await.ok()??;
        let mut pods: Vec<Pod> = stores
            .managed
            .state()
            .into_iter()
            .chain(stores.flink.state())
            .filter(|pod| scope.holds(pod))
            .map(|pod| pod.as_ref().clone())
            .collect();
        pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        pods.dedup_by(|a, b| a.metadata.uid == b.metadata.uid);
        Some(pods)
    }
}
