//! Apache Hive metastore, the table catalog behind Flink on Hive.

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order};
use crate::catalog::workload::{Workload, env, run_as, tcp_probe, timed};

use crate::catalog::contract::{Check, ContainerContract, Contract};
use crate::catalog::libraries;
use crate::catalog::params::{IMAGE_LAST, Param, ParamKind};
use crate::catalog::{AppDefinition, Category, Dependency, FieldErrors, Need, Values};

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
    groups: IMAGE_LAST,
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
        Param {
            key: "image",
            label: "Image",
            help: "Empty for the stock apache/hive image of the chosen version. A custom image \
                must be built on it and name a fixed tag.",
            kind: ParamKind::Text { max_len: 200 },
            default: Some(""),
            shown_when: &[],
        },
        Param {
            key: "extraLibraries",
            label: "Extra libraries",
            help: "Jars the stock image lacks, fetched into /opt/hive/lib before the metastore \
                starts: https URLs separated by commas or spaces, each optionally ending in \
                #sha256=<hex>. The stock image has no MySQL JDBC driver: give mysql-connector-j.",
            kind: ParamKind::Text { max_len: 4000 },
            default: Some(""),
            shown_when: &[],
        },
    ],
    rules,
    scope: None,
    render,
    contract: &CONTRACT,
};

/// Hive 3.x's entrypoint runs `schematool -initSchema` on every start unless
/// IS_RESUME=true, and that fails once the schema exists: a restarted
/// metastore would never come back. Before the image's entrypoint, ask
/// schematool whether the schema is there (with the same connection options
/// the entrypoint passes) and resume if it is. Hive 4's
/// `-initOrUpgradeSchema` needs none of this.
const RESUME_WHEN_SCHEMA_EXISTS: &str = "if HADOOP_CLIENT_OPTS=\"$SERVICE_OPTS\" \
    /opt/hive/bin/schematool -dbType \"$DB_DRIVER\" -info >/dev/null 2>&1; \
    then export IS_RESUME=true; fi; exec /entrypoint.sh";

/// The image's library folder (HIVE_HOME=/opt/hive).
const HIVE_LIB_DIR: &str = "/opt/hive/lib";

/// With the stock image the MySQL JDBC driver is among the libraries.
fn rules(version: &str, values: &Values) -> FieldErrors {
    libraries::mysql_driver_rules(values, &format!("apache/hive:{version}"))
}

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
    let listed = libraries::parse(input.text_or_empty("extraLibraries"))
        .map_err(|_| RenderError::Missing("extraLibraries"))?;
    let (init_containers, volumes) = match libraries::fetch(&listed, HIVE_LIB_DIR) {
        Some((fetcher, volume, mounts)) => (
            vec![fetcher],
            mounts
                .into_iter()
                .map(|mount| (volume.clone(), mount))
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let metastore = Workload {
        command: match input.target.version.starts_with("3.") {
            true => vec!["sh".into(), "-c".into(), RESUME_WHEN_SCHEMA_EXISTS.into()],
            false => Vec::new(),
        },
        replicas: 1,
        image: match input.text_or_empty("image").trim() {
            "" => format!("apache/hive:{}", input.target.version),
            custom => custom.to_owned(),
        },
        init_containers,
        volumes,
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

/// The Hive metastore's contract with the `apache/hive` image.
///
/// | | metastore (Deployment) |
/// |---|---|
/// | image | `apache/hive:<major.minor.patch>`, the offered release |
/// | entrypoint | the image's: `sh -c /entrypoint.sh` (schematool, then `hive --service $SERVICE_NAME`); for 3.x wrapped to set `IS_RESUME` once the schema exists |
/// | env | `SERVICE_NAME=metastore`, `DB_DRIVER=mysql` (schematool's `-dbType`), `SERVICE_OPTS` (the `javax.jdo.option.*` connection as `-D`), `MYSQL_PASSWORD` (expanded into `SERVICE_OPTS`) |
/// | files | none (configuration through `SERVICE_OPTS`) |
/// | ports | `thrift` 9083 (`METASTORE_PORT`) |
/// | user | 1000 (`hive`, the image's USER) |
/// | probes | the thrift port (no HTTP endpoint) |
pub(super) const CONTRACT: Contract = Contract {
    tags: "the offered major.minor.patch tag",
    first_start: "the entrypoint runs schematool on every start unless IS_RESUME=true: \
                  4.x -initOrUpgradeSchema (idempotent); 3.x -initSchema, which fails once \
                  the schema exists, so for 3.x dataport's command sets IS_RESUME when \
                  schematool -info finds the schema, then runs the entrypoint",
    lacks: "a MySQL JDBC driver: the image holds Hive, Hadoop and Tez only (and empties \
            Hive's jdbc/ folder); com.mysql.cj.jdbc.Driver must be added to /opt/hive/lib",
    sources: &[
        "apache/hive packaging/src/docker/Dockerfile @05b3a6e6 (USER hive uid 1000, \
         ENTRYPOINT sh -c /entrypoint.sh, EXPOSE 9083, no JDBC driver)",
        "apache/hive packaging/src/docker/entrypoint.sh @1592b744 (DB_DRIVER, SERVICE_OPTS, \
         SERVICE_NAME, IS_RESUME, schematool commands)",
    ],
    containers: &[ContainerContract {
        kind: "Deployment",
        suffix: "",
        container: "hive-metastore",
        image: "apache/hive",
        command: &[],
        args: &[],
        env: &[
            "MYSQL_PASSWORD",
            "SERVICE_NAME",
            "DB_DRIVER",
            "SERVICE_OPTS",
        ],
        mounts: &[],
        library_dir: Some(HIVE_LIB_DIR),
        ports: &[("thrift", 9083)],
        user: Some(1000),
        fs_group: Some(1000),
        readiness: Check::Tcp("thrift"),
        liveness: Check::Tcp("thrift"),
    }],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::contract::testing::{render, resolved};
    use crate::catalog::contract::{Coverage, violations};
    use crate::catalog::params::raw;
    use serde_json::json;

    #[test]
    fn hive_metastore_keeps_its_contract() {
        let objects = render(
            &DEFINITION,
            &[
                ("mysql", "mysql-main"),
                ("warehouseOnHdfs", "on"),
                ("hdfs", "hdfs-main"),
                ("extraLibraries", DRIVER_URL),
            ],
            &[
                ("mysql", resolved("mysql-main", json!({}))),
                ("hdfs", resolved("hdfs-main", json!({}))),
            ],
        );
        let faults = violations(&CONTRACT, "hive-metastore-main", &objects, Coverage::Exact);
        assert!(faults.is_empty(), "{faults:#?}");
    }

    const DRIVER_URL: &str =
        "https://repo.example/maven2/com/mysql/mysql-connector-j/8.4.0/mysql-connector-j-8.4.0.jar";

    #[test]
    fn the_stock_image_needs_the_mysql_driver_next_to_the_libraries_field() {
        let form = |extra: &[(&'static str, &'static str)]| {
            let mut form = vec![("mysql", "mysql-main")];
            form.extend_from_slice(extra);
            raw(&form)
        };
        let errors = DEFINITION.validate("4.0.1", &form(&[])).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["extraLibraries"]);
        assert!(errors["extraLibraries"].contains("mysql-connector-j-8.4.0.jar"));
        assert!(errors["extraLibraries"].contains("apache/hive:4.0.1"));
        assert!(
            DEFINITION
                .validate("4.0.1", &form(&[("extraLibraries", DRIVER_URL)]))
                .is_ok()
        );
        let custom = form(&[("image", "registry.example/hive-mysql:4.0.1")]);
        assert!(DEFINITION.validate("4.0.1", &custom).is_ok());
        let latest = form(&[("image", "registry.example/hive-mysql:latest")]);
        assert!(
            DEFINITION.validate("4.0.1", &latest).unwrap_err()["image"].contains("fixed release")
        );
    }

    #[test]
    fn hive_3_resumes_when_its_schema_exists_and_hive_4_runs_the_entrypoint_as_is() {
        use crate::catalog::contract::testing::render_version;
        let form = [("mysql", "mysql-main"), ("extraLibraries", DRIVER_URL)];
        let references = [("mysql", resolved("mysql-main", json!({})))];
        let command = |version: &str| {
            let objects = render_version(&DEFINITION, version, &form, &references);
            let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
            deployment["spec"]["template"]["spec"]["containers"][0]["command"].clone()
        };
        let three = command("3.1.3");
        assert_eq!(three[0], "sh");
        let script = three[2].as_str().unwrap();
        assert!(script.contains("schematool -dbType \"$DB_DRIVER\" -info"));
        assert!(script.contains("export IS_RESUME=true"));
        assert!(script.ends_with("exec /entrypoint.sh"));
        assert!(command("4.0.1").is_null());
    }

    #[test]
    fn the_driver_is_fetched_into_hives_lib_folder() {
        let objects = render(
            &DEFINITION,
            &[("mysql", "mysql-main"), ("extraLibraries", DRIVER_URL)],
            &[("mysql", resolved("mysql-main", json!({})))],
        );
        let pod = &objects.iter().find(|o| o["kind"] == "Deployment").unwrap()["spec"]["template"]
            ["spec"];
        assert_eq!(pod["initContainers"][0]["name"], "fetch-libraries");
        assert_eq!(
            pod["volumes"],
            json!([{"name": "extra-libraries", "emptyDir": {}}])
        );
        assert_eq!(
            pod["containers"][0]["volumeMounts"],
            json!([{"name": "extra-libraries", "mountPath": "/opt/hive/lib/mysql-connector-j-8.4.0.jar",
                    "subPath": "mysql-connector-j-8.4.0.jar", "readOnly": true}])
        );
    }
}
