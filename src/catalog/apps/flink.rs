//! Apache Flink session cluster, run by the flink-kubernetes-operator.

use crate::catalog::{AppDefinition, Category, Dependency, Need};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "flink",
    display_name: "Apache Flink",
    icon: "Fl",
    category: Category::Compute,
    summary: "Stateful stream processing: a Flink session cluster managed by the Flink operator.",
    description: "A Flink session cluster (a FlinkDeployment without a job) that runs the \
        jobs you submit to it. High availability keeps the JobManager's leadership in \
        Kubernetes ConfigMaps or ZooKeeper and its metadata, checkpoints and savepoints on \
        HDFS or S3 (MinIO). Flink on Hive lets SQL jobs read and write Hive tables through a \
        Hive metastore.",
    versions: &["1.20", "1.19", "1.18", "2.1", "2.0"],
    dependencies: &[
        Dependency {
            app: "flink-kubernetes-operator",
            need: Need::Required,
            purpose: "creates and runs the cluster from its FlinkDeployment",
        },
        Dependency {
            app: "zookeeper",
            need: Need::Optional,
            purpose: "leader election when high availability uses ZooKeeper",
        },
        Dependency {
            app: "hdfs",
            need: Need::Optional,
            purpose: "HA storage, checkpoints and savepoints on HDFS; the Hive warehouse",
        },
        Dependency {
            app: "minio",
            need: Need::Optional,
            purpose: "HA storage, checkpoints and savepoints on S3",
        },
        Dependency {
            app: "hive-metastore",
            need: Need::Optional,
            purpose: "table metadata for Flink on Hive (Flink 1.x only)",
        },
    ],
    web_ui: Some("Flink WebUI (port 8081)"),
    homepage: "https://flink.apache.org/",
};
