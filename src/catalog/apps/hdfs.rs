//! Apache Hadoop HDFS: a namenode and datanodes.

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order};
use crate::catalog::workload::{Workload, env, http_probe, run_as, timed};

use crate::catalog::params::Param;
use k8s_openapi::api::core::v1::PodSecurityContext;
use serde_json::Value;

use crate::catalog::contract::{Check, ContainerContract, Contract};
use crate::catalog::{AppDefinition, Category, FieldErrors, Values, WebUi};

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
    version_notes: &[],
    dependencies: &[],
    web_ui: Some(WebUi {
        name: "hdfs",
        label: "HDFS namenode UI",
        service_suffix: "-namenode",
        port: 9870,
        note: None,
        public_url_param: None,
        serves_proxy_path: false,
        service_param: None,
    }),
    homepage: "https://hadoop.apache.org/",
    groups: &[],
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
    scope: None,
    render,
    contract: &CONTRACT,
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

/// The image's user `hadoop` (uid 1000, group `users`, gid 100).
fn hadoop_user() -> PodSecurityContext {
    run_as(1000, 100, 100)
}

/// A namenode and a StatefulSet of datanodes, configured through the
/// apache/hadoop image's `<FILE>_<property>` environment variables.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let name = &input.target.name;
    let default_fs = format!("hdfs://{name}-namenode.{}.svc:8020", input.target.namespace);
    let common = vec![
        env("CORE-SITE.XML_fs.defaultFS", default_fs),
        env(
            "HDFS-SITE.XML_dfs.replication",
            input.int("replication")?.to_string(),
        ),
        env("HDFS-SITE.XML_dfs.namenode.name.dir", "/data/name"),
        env("HDFS-SITE.XML_dfs.datanode.data.dir", "/data/blocks"),
        env("HDFS-SITE.XML_dfs.namenode.rpc-bind-host", "0.0.0.0"),
        env("HDFS-SITE.XML_dfs.namenode.http-bind-host", "0.0.0.0"),
    ];
    let mut namenode_env = common.clone();
    // The image formats the namenode's directory on first start.
    namenode_env.push(env("ENSURE_NAMENODE_DIR", "/data/name"));
    let image = format!("apache/hadoop:{}", input.target.version);
    let namenode = Workload {
        component: "namenode",
        replicas: 1,
        image: image.clone(),
        args: vec!["hdfs".into(), "namenode".into()],
        ports: vec![("rpc", 8020), ("http", 9870)],
        env: namenode_env,
        memory: Some(input.text("namenodeMemory")?.into()),
        storage: Some(("10Gi".into(), "/data")),
        readiness: Some(http_probe("/", "http")),
        liveness: Some(timed(http_probe("/", "http"), 30, 10, 3)),
        pod_security: Some(hadoop_user()),
        ..Workload::default()
    };
    let datanodes = Workload {
        component: "datanode",
        replicas: i32::try_from(input.int("datanodes")?)
            .map_err(|_| RenderError::Missing("datanodes"))?,
        image,
        args: vec!["hdfs".into(), "datanode".into()],
        ports: vec![("data", 9866), ("http", 9864)],
        env: common,
        storage: Some((input.text("datanodeStorage")?.into(), "/data")),
        readiness: Some(http_probe("/", "http")),
        liveness: Some(timed(http_probe("/", "http"), 30, 10, 3)),
        pod_security: Some(hadoop_user()),
        ..Workload::default()
    };
    let mut objects = namenode.render(input)?;
    objects.extend(datanodes.render(input)?);
    Ok(in_apply_order(objects))
}

/// What the namenode reads: the configuration and where to format.
const NAMENODE_ENV: &[&str] = &[
    "CORE-SITE.XML_fs.defaultFS",
    "HDFS-SITE.XML_dfs.replication",
    "HDFS-SITE.XML_dfs.namenode.name.dir",
    "HDFS-SITE.XML_dfs.datanode.data.dir",
    "HDFS-SITE.XML_dfs.namenode.rpc-bind-host",
    "HDFS-SITE.XML_dfs.namenode.http-bind-host",
    "ENSURE_NAMENODE_DIR",
];

/// What a datanode reads: the configuration (`<FILE>_<property>`).
const HADOOP_ENV: &[&str] = &[
    "CORE-SITE.XML_fs.defaultFS",
    "HDFS-SITE.XML_dfs.replication",
    "HDFS-SITE.XML_dfs.namenode.name.dir",
    "HDFS-SITE.XML_dfs.datanode.data.dir",
    "HDFS-SITE.XML_dfs.namenode.rpc-bind-host",
    "HDFS-SITE.XML_dfs.namenode.http-bind-host",
];

/// HDFS's contract with the `apache/hadoop` image.
///
/// | | namenode (StatefulSet) | datanodes (StatefulSet) |
/// |---|---|---|
/// | image | `apache/hadoop:<major.minor.patch>` | the same |
/// | entrypoint | the image's: `dumb-init -- /opt/starter.sh`, then args `hdfs namenode` | args `hdfs datanode` |
/// | env | `<FILE>_<property>` (written into the file by `envtoconf.py`), `ENSURE_NAMENODE_DIR` | `<FILE>_<property>` |
/// | files | `/data` (`/data/name`) | `/data` (`/data/blocks`) |
/// | ports | `rpc` 8020, `http` 9870 | `data` 9866, `http` 9864 |
/// | user | 1000 (`hadoop`), fsGroup 100 (`users`) | the same |
/// | probes | the web UI (`/` on `http`) | the same |
pub(super) const CONTRACT: Contract = Contract {
    tags: "the offered major.minor.patch tag",
    first_start: "starter.sh formats the namenode when ENSURE_NAMENODE_DIR does not exist yet",
    lacks: "nothing dataport asks of it",
    sources: &[
        "apache/hadoop (docker-hadoop-runner) Dockerfile @02cf9518 (uid 1000, gid 100, \
         ENTRYPOINT dumb-init -- /opt/starter.sh, VOLUME /data)",
        "apache/hadoop (docker-hadoop-runner) scripts/starter.sh @2a89d85e (envtoconf.py, \
         ENSURE_NAMENODE_DIR)",
    ],
    containers: &[
        ContainerContract {
            kind: "StatefulSet",
            suffix: "-namenode",
            container: "namenode",
            image: "apache/hadoop",
            command: &[],
            args: &["hdfs", "namenode"],
            env: NAMENODE_ENV,
            mounts: &["/data"],
            library_dir: None,
            ports: &[("rpc", 8020), ("http", 9870)],
            user: Some(1000),
            fs_group: Some(100),
            readiness: Check::Http("/", "http"),
            liveness: Check::Http("/", "http"),
        },
        ContainerContract {
            kind: "StatefulSet",
            suffix: "-datanode",
            container: "datanode",
            image: "apache/hadoop",
            command: &[],
            args: &["hdfs", "datanode"],
            env: HADOOP_ENV,
            mounts: &["/data"],
            library_dir: None,
            ports: &[("data", 9866), ("http", 9864)],
            user: Some(1000),
            fs_group: Some(100),
            readiness: Check::Http("/", "http"),
            liveness: Check::Http("/", "http"),
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::contract::testing::render;
    use crate::catalog::contract::{Coverage, violations};

    #[test]
    fn hdfs_keeps_its_contract() {
        let objects = render(&DEFINITION, &[], &[]);
        let faults = violations(&CONTRACT, "hdfs-main", &objects, Coverage::Exact);
        assert!(faults.is_empty(), "{faults:#?}");
    }
}
