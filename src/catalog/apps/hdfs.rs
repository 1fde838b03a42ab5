//! Apache Hadoop HDFS: a namenode and datanodes.

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order};
use crate::catalog::workload::{Workload, env, http_probe, run_as, timed};

use crate::catalog::params::Param;
use k8s_openapi::api::core::v1::PodSecurityContext;
use serde_json::Value;

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
        label: "HDFS namenode UI",
        service_suffix: "-namenode",
        port: 9870,
        note: None,
        public_url_param: None,
    }),
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
    scope: None,
    render,
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
