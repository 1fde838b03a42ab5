//! Apache Hive metastore, the table catalog behind Flink on Hive.

use crate::catalog::params::Param;
use crate::catalog::{AppDefinition, Category, Dependency, Need, no_rules};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "hive-metastore",
    display_name: "Apache Hive Metastore",
    icon: "HM",
    category: Category::Metadata,
    summary: "Table metadata service (thrift on port 9083) for Flink on Hive.",
    description: "A standalone Hive metastore. Flink SQL jobs with the Hive catalog read \
        table definitions from it and read and write the tables' data in the warehouse on \
        HDFS. It keeps its schema in MySQL.",
    versions: &["4.0.1", "3.1.3"],
    dependencies: &[
        Dependency {
            app: "mysql",
            need: Need::Required,
            purpose: "the metastore's own database",
        },
        Dependency {
            app: "hdfs",
            need: Need::Optional,
            purpose: "the warehouse directory holding table data",
        },
    ],
    web_ui: None,
    homepage: "https://hive.apache.org/",
    params: &[
        Param::reference(
            "mysql",
            "MySQL",
            "mysql",
            &[],
            "The MySQL instance that holds the metastore's schema.",
        ),
        Param::toggle(
            "warehouseOnHdfs",
            "Warehouse on HDFS",
            "Keep table data under hdfs://.../user/hive/warehouse.",
        ),
        Param::reference(
            "hdfs",
            "HDFS",
            "hdfs",
            &[("warehouseOnHdfs", "true")],
            "The HDFS instance holding the warehouse.",
        ),
        Param::bytes(
            "memory",
            "Memory",
            "2Gi",
            ("512Mi", "32Gi"),
            "Memory of the metastore.",
        ),
    ],
    rules: no_rules,
};
