//! Apache Hive metastore, the table catalog behind Flink on Hive.

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order};
use crate::catalog::workload::{Workload, env, run_as, tcp_probe, timed};

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
    version_notes: &[],
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
    scope: None,
    render,
};

/// A standalone metastore keeping its schema in the referenced MySQL, in a
/// database of its own (`hive_<name>`, created on first start).
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let mysql = input.reference("mysql")?;
    let database = format!("hive_{}", input.target.name.replace('-', "_"));
    let mut options = vec![
        "-Djavax.jdo.option.ConnectionDriverName=com.mysql.cj.jdbc.Driver".to_owned(),
        format!(
            "-Djavax.jdo.option.ConnectionURL={}",
            super::mysql::jdbc_url(mysql, &database)
        ),
        "-Djavax.jdo.option.ConnectionUserName=root".to_owned(),
        // Kubernetes expands $(MYSQL_PASSWORD) from the variable above it.
        "-Djavax.jdo.option.ConnectionPassword=$(MYSQL_PASSWORD)".to_owned(),
    ];
    if input.is_on("warehouseOnHdfs") {
        let hdfs = input.reference("hdfs")?;
        options.push(format!(
            "-Dhive.metastore.warehouse.dir=hdfs://{}-namenode.{}.svc:8020/user/hive/warehouse",
            hdfs.name, hdfs.namespace
        ));
    }
    let metastore = Workload {
        replicas: 1,
        image: format!("apache/hive:{}", input.target.version),
        ports: vec![("thrift", 9083)],
        env: vec![
            super::mysql::root_password_env("MYSQL_PASSWORD", mysql),
            env("SERVICE_NAME", "metastore"),
            env("DB_DRIVER", "mysql"),
            env("SERVICE_OPTS", options.join(" ")),
        ],
        memory: Some(input.text("memory")?.into()),
        // The metastore speaks thrift only: its port is its health check. The
        // first start initialises the schema before it listens.
        readiness: Some(tcp_probe("thrift")),
        liveness: Some(timed(tcp_probe("thrift"), 60, 10, 6)),
        pod_security: Some(run_as(1000, 1000, 1000)),
        ..Workload::default()
    };
    Ok(in_apply_order(metastore.render(input)?))
}
