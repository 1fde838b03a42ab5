//! What the operator deletes of a cluster's high-availability metadata when
//! it deletes the cluster for good (a FlinkDeployment deleted, a stateless
//! suspend): flink-kubernetes-operator release-1.15.0,
//! `AbstractFlinkService.deleteHAData` — with Kubernetes HA the ConfigMaps
//! labelled for the cluster (`FlinkUtils.deleteKubernetesHAMetadata`), with
//! ZooKeeper HA the cluster's ZooKeeper node and everything under it
//! (`FlinkUtils.deleteZookeeperHAMetadata`: Curator rooted at
//! `ZooKeeperUtils.generateZookeeperPath(high-availability.zookeeper.path.root,
//! high-availability.cluster-id)`, `delete().deletingChildrenIfNeeded().forPath("/")`;
//! a failure is logged and the deletion goes on).

use std::collections::BTreeMap;
use std::time::Duration;

use zookeeper_async::{ZkError, ZooKeeper, ZooKeeperExt};

use crate::simulator::node::process::ClusterDns;

/// How long the deletion may take before it is given up, as the operator's
/// Curator gives up: Flink's `high-availability.zookeeper.client.connection-timeout`
/// default (15 s).
const ZOOKEEPER_TIMEOUT: Duration = Duration::from_secs(15);

/// Which HA metadata a cluster keeps, from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HaMetadata {
    /// No HA: nothing is kept.
    None,
    /// Kubernetes HA: ConfigMaps labelled `app=<cluster id>,configmap-type=high-availability`.
    Kubernetes,
    /// ZooKeeper HA: the node `path` on the ensemble `quorum` (`host:port,…`).
    ZooKeeper { quorum: String, path: String },
}

/// The HA metadata of cluster `name` with the flat Flink `configuration`
/// it was deployed with. The HA type is `high-availability.type` (or its
/// older key `high-availability`), `zookeeper` and `kubernetes` by name, or
/// Kubernetes HA's factory class (Flink's `HighAvailabilityMode.fromConfig`);
/// the cluster id defaults to the resource's name, as the operator sets it.
pub fn ha_metadata(name: &str, configuration: &BTreeMap<String, String>) -> HaMetadata {
    let kind = configuration
        .get("high-availability.type")
        .or_else(|| configuration.get("high-availability"))
        .map(|kind| kind.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match kind.as_str() {
        "" | "none" => HaMetadata::None,
        "zookeeper" => {
            let root = configuration
                .get("high-availability.zookeeper.path.root")
                .map_or("/flink", String::as_str);
            let cluster_id = configuration
                .get("high-availability.cluster-id")
                .map_or(name, String::as_str);
            HaMetadata::ZooKeeper {
                quorum: configuration
                    .get("high-availability.zookeeper.quorum")
                    .cloned()
                    .unwrap_or_default(),
                path: zookeeper_path(&[root, cluster_id]),
            }
        }
        // `kubernetes` or `…KubernetesHaServicesFactory`; another factory
        // class keeps metadata the operator does not know to delete.
        kind if kind == "kubernetes" || kind.ends_with("kuberneteshaservicesfactory") => {
            HaMetadata::Kubernetes
        }
        _ => HaMetadata::None,
    }
}

/// The parts joined as Flink's `ZooKeeperUtils.generateZookeeperPath` joins
/// them: slashes trimmed, empty parts dropped, one `/` before each.
fn zookeeper_path(parts: &[&str]) -> String {
    let joined: Vec<&str> = parts
        .iter()
        .map(|part| part.trim_matches('/'))
        .filter(|part| !part.is_empty())
        .collect();
    format!("/{}", joined.join("/"))
}

/// Deletes `path` and everything under it on the ensemble `quorum`, whose
/// cluster DNS names `dns` resolves (the stand-in runs outside the pods'
/// network namespace, so it asks the node's DNS as a pod's resolver would).
/// A missing node is no error. `Err` is what the operator would log.
pub async fn delete_zookeeper_path(
    dns: &ClusterDns,
    quorum: &str,
    path: &str,
) -> Result<(), String> {
    let servers: Vec<String> = quorum
        .split(',')
        .filter_map(|server| {
            let (host, port) = server.trim().rsplit_once(':')?;
            Some(format!("{}:{port}", dns.lookup(host)?))
        })
        .collect();
    if servers.is_empty() {
        return Err(format!(
            "no server of the ZooKeeper quorum {quorum:?} resolves in the cluster"
        ));
    }
    let deletion = async {
        let client = ZooKeeper::connect(&servers.join(","), ZOOKEEPER_TIMEOUT, |_| {})
            .await
            .map_err(|error| format!("connecting to {quorum}: {error}"))?;
        let deleted = match client.delete_recursive(path).await {
            Ok(()) | Err(ZkError::NoNode) => Ok(()),
            Err(error) => Err(format!("deleting {path}: {error}")),
        };
        let _ = client.close().await;
        deleted
    };
    tokio::time::timeout(ZOOKEEPER_TIMEOUT, deletion)
        .await
        .map_err(|_| format!("ZooKeeper {quorum} did not answer within {ZOOKEEPER_TIMEOUT:?}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configuration(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn zookeeper_ha_is_rooted_at_the_root_and_the_cluster_id() {
        let ha = ha_metadata(
            "analytics",
            &configuration(&[
                ("high-availability.type", "ZooKeeper"),
                (
                    "high-availability.zookeeper.quorum",
                    "zk.streaming.svc:2181",
                ),
                (
                    "high-availability.zookeeper.path.root",
                    "/flink/streaming/analytics/",
                ),
            ]),
        );
        assert_eq!(
            ha,
            HaMetadata::ZooKeeper {
                quorum: "zk.streaming.svc:2181".into(),
                path: "/flink/streaming/analytics/analytics".into(),
            }
        );
        let defaults = ha_metadata(
            "analytics",
            &configuration(&[
                ("high-availability", "zookeeper"),
                ("high-availability.cluster-id", "/ours"),
            ]),
        );
        assert!(matches!(defaults, HaMetadata::ZooKeeper { path, .. } if path == "/flink/ours"));
    }

    #[test]
    fn kubernetes_ha_by_name_or_factory_and_no_ha() {
        for kind in [
            "kubernetes",
            "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory",
        ] {
            let ha = ha_metadata("a", &configuration(&[("high-availability.type", kind)]));
            assert_eq!(ha, HaMetadata::Kubernetes, "{kind}");
        }
        assert_eq!(ha_metadata("a", &configuration(&[])), HaMetadata::None);
        assert_eq!(
            ha_metadata("a", &configuration(&[("high-availability.type", "NONE")])),
            HaMetadata::None
        );
    }
}
