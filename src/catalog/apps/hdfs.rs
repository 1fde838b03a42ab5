//! Apache Hadoop HDFS: a namenode and datanodes.

use crate::catalog::{AppDefinition, Category};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "hdfs",
    display_name: "Apache Hadoop HDFS",
    icon: "HD",
    category: Category::Storage,
    summary: "Distributed file system for checkpoints, savepoints and the Hive warehouse.",
    description: "An HDFS namenode (RPC on port 8020, web UI on 9870) and datanodes. Flink \
        keeps HA metadata, checkpoints and savepoints under hdfs:// paths, and Hive tables \
        live in its warehouse directory.",
    versions: &["3.4.1", "3.3.6"],
    dependencies: &[],
    web_ui: Some("HDFS namenode UI (port 9870)"),
    homepage: "https://hadoop.apache.org/",
};
