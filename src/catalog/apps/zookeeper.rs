//! Apache ZooKeeper, for Flink's ZooKeeper high availability.

use crate::catalog::{AppDefinition, Category};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "zookeeper",
    display_name: "Apache ZooKeeper",
    icon: "ZK",
    category: Category::Coordination,
    summary: "Coordination service: leader election for Flink high availability.",
    description: "A ZooKeeper ensemble (a StatefulSet with a headless Service on port 2181). \
        Flink clusters with ZooKeeper high availability elect their JobManager leader and \
        keep pointers to their HA metadata in it.",
    versions: &["3.9.3", "3.8.4"],
    dependencies: &[],
    web_ui: None,
    homepage: "https://zookeeper.apache.org/",
};
