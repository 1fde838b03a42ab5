//! Apache Hadoop HDFS: a namenode and datanodes.

use crate::catalog::params::Param;
use serde_json::Value;

use crate::catalog::{AppDefinition, Category, FieldErrors, Values};

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
    params: &[
        Param::int(
            "datanodes",
            "Datanodes",
            "3",
            (1, 50),
            "Datanodes holding the blocks.",
        ),
        Param::int(
            "replication",
            "Replication",
            "3",
            (1, 5),
            "Copies of each block (dfs.replication), at most the number of datanodes.",
        ),
        Param::bytes(
            "namenodeMemory",
            "Namenode memory",
            "2Gi",
            ("512Mi", "64Gi"),
            "Memory of the namenode.",
        ),
        Param::bytes(
            "datanodeStorage",
            "Storage per datanode",
            "50Gi",
            ("1Gi", "100Ti"),
            "Persistent volume per datanode.",
        ),
    ],
    rules,
};

/// Each block's copies live on different datanodes.
fn rules(_version: &str, values: &Values) -> FieldErrors {
    let count = |key: &str| values.get(key).and_then(Value::as_i64);
    let mut errors = FieldErrors::new();
    if let (Some(replication), Some(datanodes)) = (count("replication"), count("datanodes"))
        && replication > datanodes
    {
        errors.insert(
            "replication".into(),
            format!("Replication ({replication}) cannot exceed the datanodes ({datanodes})"),
        );
    }
    errors
}
