//! Flink session cluster → FlinkDeployment, its service account and role, and
//! the Hadoop and Hive configuration it mounts.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::{Value, json};

use crate::catalog::jobs::job_spec;
use crate::catalog::jobs::schedule::schedule_configuration;
use crate::catalog::libraries;
use crate::catalog::quantity::{Quantity, QuantityKind};
use crate::catalog::render::{Object, RenderError, RenderInput, Resolved, in_apply_order, object};
use crate::catalog::workload::{env_from_secret, service_account_with_role};
use crate::crd::{
    FlinkDeployment, FlinkDeploymentSpec, IngressSpec, JobManagerSpec, JobSpec, JobState, Resource,
    TaskManagerSpec,
};

use super::versions::release;

/// Port of the Prometheus reporter, exposed as the container port `metrics`.
const METRICS_PORT: i32 = 9249;
/// Where the Hive configuration is mounted.
const HIVE_CONF_DIR: &str = "/opt/hive-conf";
/// The image's library folder, on every Flink process's classpath
/// (apache/flink-docker: FLINK_HOME=/opt/flink).
const FLINK_LIB_DIR: &str = "/opt/flink/lib";

fn encode(value: &impl serde::Serialize) -> Result<Value, RenderError> {
    serde_json::to_value(value).map_err(|e| RenderError::Encode {
        kind: "pod template",
        message: e.to_string(),
    })
}

pub(in crate::catalog::apps) fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let name = &input.target.name;
    let release = release(&input.target.version).ok_or(RenderError::Missing("version"))?;
    let service_account = format!("{name}-flink");
    // The JobManager creates TaskManager pods and, with Kubernetes HA, leader
    // ConfigMaps: it needs its own account and a role in its namespace.
    let mut objects = service_account_with_role(
        input,
        &service_account,
        &[
            (&[""], &["pods", "configmaps", "services"]),
            (&["apps"], &["deployments", "deployments/finalizers"]),
        ],
    )?;
    let mut configuration = base_configuration(input)?;
    if !input.values.contains_key("jarURI") && input.values.contains_key("taskManagerReplicas") {
        // In native mode the operator hands a session's `taskManager.replicas`
        // to no one (`FlinkConfigBuilder.applyTaskManagerSpec` sets a key only
        // standalone mode reads, release-1.15.0): TaskManagers come when jobs
        // ask for slots. The slot manager's minimum (Flink 1.18+) makes the
        // JobManager start the TaskManagers the form asked for and keep them.
        let slots = input.int("taskSlots")? * input.int("taskManagerReplicas")?;
        configuration.insert("slotmanager.number-of-slots.min".into(), slots.to_string());
    }
    if input.values.contains_key("jarURI") {
        // An application's periodic savepoints: the operator reads them from
        // the FlinkDeployment's configuration (`FlinkConfigManager.getObserveConfig`).
        configuration.extend(schedule_configuration(&input.values).unwrap_or_default());
    }
    let mut env: Vec<Value> = Vec::new();
    let mut volumes: Vec<Value> = Vec::new();
    let mut mounts: Vec<Value> = Vec::new();

    if input.is_on("highAvailability") {
        let storage = storage_base(input)?;
        configuration.insert(
            "high-availability.type".into(),
            input.text("haType")?.to_owned(),
        );
        configuration.insert(
            "high-availability.storageDir".into(),
            format!("{storage}/ha"),
        );
        if input.text("haType")? == "zookeeper" {
            let zookeeper = input.reference("zookeeper")?;
            configuration.insert(
                "high-availability.zookeeper.quorum".into(),
                format!("{}.{}.svc:2181", zookeeper.name, zookeeper.namespace),
            );
            configuration.insert(
                "high-availability.zookeeper.path.root".into(),
                format!("/flink/{}/{name}", input.target.namespace),
            );
        }
        configuration.insert(
            release.checkpoint_dir_key.into(),
            format!("{storage}/checkpoints"),
        );
        configuration.insert(
            release.savepoint_dir_key.into(),
            format!("{storage}/savepoints"),
        );
        // Checkpoint storage takes no checkpoint by itself: Flink checkpoints
        // periodically only with an interval (`execution.checkpointing.interval`,
        // unset by default in 1.20 and 2.0).
        if let Some(seconds) = input.int_if_set("checkpointInterval").filter(|s| *s > 0) {
            configuration.insert(
                "execution.checkpointing.interval".into(),
                format!("{seconds}s"),
            );
        }
        match input.text("storage")? {
            "s3" => {
                let minio = input.reference("minio")?;
                configuration.insert(
                    "s3.endpoint".into(),
                    format!("http://{}.{}.svc:9000", minio.name, minio.namespace),
                );
                configuration.insert("s3.path.style.access".into(), "true".into());
                env.push(
                    json!({"name": "ENABLE_BUILT_IN_PLUGINS", "value": release.s3_plugin_jar()}),
                );
                // The S3 file system reads the AWS credential chain: credentials
                // come from MinIO's Secret, never from flinkConfiguration.
                let secret = format!("{}-credentials", minio.name);
                env.push(secret_env("AWS_ACCESS_KEY_ID", &secret, "root-user"));
                env.push(secret_env(
                    "AWS_SECRET_ACCESS_KEY",
                    &secret,
                    "root-password",
                ));
            }
            _ => {
                let hdfs = input.reference("hdfs")?;
                objects.push(hadoop_config_map(input, hdfs)?);
                configuration.insert(
                    "kubernetes.hadoop.conf.config-map.name".into(),
                    format!("{name}-hadoop-conf"),
                );
            }
        }
    }

    if input.is_on("hive") {
        let metastore = input.reference("hiveMetastore")?;
        let hdfs = input.reference("hiveHdfs")?;
        objects.push(hive_config_map(input, metastore, hdfs)?);
        if !configuration.contains_key("kubernetes.hadoop.conf.config-map.name") {
            objects.push(hadoop_config_map(input, hdfs)?);
            configuration.insert(
                "kubernetes.hadoop.conf.config-map.name".into(),
                format!("{name}-hadoop-conf"),
            );
        }
        env.push(json!({"name": "HIVE_CONF_DIR", "value": HIVE_CONF_DIR}));
        volumes
            .push(json!({"name": "hive-conf", "configMap": {"name": format!("{name}-hive-conf")}}));
        mounts.push(json!({"name": "hive-conf", "mountPath": HIVE_CONF_DIR, "readOnly": true}));
    }

    // Jars the image lacks, fetched before Flink starts into its lib/.
    let listed = libraries::parse(input.text_or_empty("extraLibraries"))
        .map_err(|_| RenderError::Missing("extraLibraries"))?;
    let mut init_containers: Vec<Value> = Vec::new();
    if let Some((fetcher, volume, jar_mounts)) = libraries::fetch(&listed, FLINK_LIB_DIR) {
        init_containers.push(encode(&fetcher)?);
        volumes.push(encode(&volume)?);
        for mount in jar_mounts {
            mounts.push(encode(&mount)?);
        }
    }

    let mut container = json!({
        "name": "flink-main-container",
        "ports": [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}],
    });
    if !env.is_empty() {
        container["env"] = Value::from(env);
    }
    if !mounts.is_empty() {
        container["volumeMounts"] = Value::from(mounts);
    }
    let mut pod_spec = json!({"containers": [container]});
    if !init_containers.is_empty() {
        pod_spec["initContainers"] = Value::from(init_containers);
    }
    if !volumes.is_empty() {
        pod_spec["volumes"] = Value::from(volumes);
    }
    let pod_template = json!({
        "metadata": {"labels": input.labels()},
        "spec": pod_spec,
    });

    let mut deployment = FlinkDeployment::new(
        name,
        FlinkDeploymentSpec {
            // A custom image keeps the release's flinkVersion.
            image: Some(match input.text_or_empty("image").trim() {
                "" => release.image(),
                custom => custom.to_owned(),
            }),
            flink_version: Some(release.flink_version),
            service_account: Some(service_account),
            flink_configuration: Some(configuration),
            pod_template: Some(pod_template),
            job_manager: Some(JobManagerSpec {
                resource: Some(resource(input, "jobManagerCpu", "jobManagerMemory")?),
                replicas: Some(count(input, "jobManagerReplicas")?),
                pod_template: None,
            }),
            task_manager: Some(TaskManagerSpec {
                resource: Some(resource(input, "taskManagerCpu", "taskManagerMemory")?),
                // An application's TaskManagers follow its job's parallelism.
                replicas: match input.values.contains_key("taskManagerReplicas") {
                    true => Some(count(input, "taskManagerReplicas")?),
                    false => None,
                },
                pod_template: None,
            }),
            job: job(input),
            ingress: ingress(input)?,
            ..FlinkDeploymentSpec::default()
        },
    );
    deployment.metadata = input.metadata(name.clone());
    // Without a status: the operator owns it.
    objects.push(
        serde_json::to_value(&deployment).map_err(|e| RenderError::Encode {
            kind: "FlinkDeployment",
            message: e.to_string(),
        })?,
    );
    Ok(in_apply_order(objects))
}

/// An application cluster's job; none for a session cluster.
fn job(input: &RenderInput) -> Option<JobSpec> {
    input.values.contains_key("jarURI").then(|| {
        let state = match input.values.get("jobState").and_then(Value::as_str) {
            Some("suspended") => JobState::Suspended,
            _ => JobState::Running,
        };
        job_spec(&input.values, state)
    })
}

/// The operator's ingress for the WebUI, when a URL template is given.
fn ingress(input: &RenderInput) -> Result<Option<IngressSpec>, RenderError> {
    let template = input.text("ingressTemplate")?;
    if template.is_empty() {
        return Ok(None);
    }
    let class = input.text("ingressClass")?;
    Ok(Some(IngressSpec {
        template: Some(template.to_owned()),
        class_name: (!class.is_empty()).then(|| class.to_owned()),
        annotations: None,
        labels: Some(input.labels()),
        ..Default::default()
    }))
}

fn count(input: &RenderInput, key: &'static str) -> Result<i32, RenderError> {
    i32::try_from(input.int(key)?).map_err(|_| RenderError::Missing(key))
}

/// Flink's configuration shared by every variant: slots and the Prometheus reporter.
fn base_configuration(input: &RenderInput) -> Result<BTreeMap<String, String>, RenderError> {
    Ok(BTreeMap::from([
        (
            "taskmanager.numberOfTaskSlots".to_owned(),
            input.int("taskSlots")?.to_string(),
        ),
        (
            "metrics.reporter.prom.factory.class".to_owned(),
            "org.apache.flink.metrics.prometheus.PrometheusReporterFactory".to_owned(),
        ),
        (
            "metrics.reporter.prom.port".to_owned(),
            METRICS_PORT.to_string(),
        ),
    ]))
}

/// Where HA metadata, checkpoints and savepoints of this cluster live.
fn storage_base(input: &RenderInput) -> Result<String, RenderError> {
    let namespace = &input.target.namespace;
    let name = &input.target.name;
    Ok(match input.text("storage")? {
        "s3" => {
            let minio = input.reference("minio")?;
            let bucket = minio
                .params
                .get("bucket")
                .and_then(Value::as_str)
                .unwrap_or("flink");
            format!("s3://{bucket}/{namespace}/{name}")
        }
        _ => {
            let hdfs = input.reference("hdfs")?;
            format!("{}/flink/{namespace}/{name}", namenode_uri(hdfs))
        }
    })
}

fn namenode_uri(hdfs: &Resolved) -> String {
    format!("hdfs://{}-namenode.{}.svc:8020", hdfs.name, hdfs.namespace)
}

/// CPU as cores and memory in Flink's own notation (mebibytes, `2048m`),
/// which every operator version reads.
fn resource(
    input: &RenderInput,
    cpu: &'static str,
    memory: &'static str,
) -> Result<Resource, RenderError> {
    let cores = Quantity::parse(input.text(cpu)?, QuantityKind::Cpu)
        .map_err(|_| RenderError::Missing(cpu))?;
    let bytes = Quantity::parse(input.text(memory)?, QuantityKind::Bytes)
        .map_err(|_| RenderError::Missing(memory))?;
    Ok(Resource {
        cpu: Some(cores.value),
        memory: Some(format!(
            "{}m",
            (bytes.value / (1024.0 * 1024.0)).round() as i64
        )),
        ephemeral_storage: None,
    })
}

fn secret_env(name: &str, secret: &str, key: &str) -> Value {
    serde_json::to_value(env_from_secret(name, secret, key)).unwrap_or_default()
}

fn hadoop_config_map(input: &RenderInput, hdfs: &Resolved) -> Result<Object, RenderError> {
    let core_site = xml_configuration(&[("fs.defaultFS", &namenode_uri(hdfs))]);
    let hdfs_site = xml_configuration(&[("dfs.client.use.datanode.hostname", "true")]);
    let config_map = ConfigMap {
        metadata: input.metadata(format!("{}-hadoop-conf", input.target.name)),
        data: Some(BTreeMap::from([
            ("core-site.xml".to_owned(), core_site),
            ("hdfs-site.xml".to_owned(), hdfs_site),
        ])),
        ..ConfigMap::default()
    };
    object(&config_map)
}

fn hive_config_map(
    input: &RenderInput,
    metastore: &Resolved,
    hdfs: &Resolved,
) -> Result<Object, RenderError> {
    let uris = format!(
        "thrift://{}.{}.svc:9083",
        metastore.name, metastore.namespace
    );
    let warehouse = format!("{}/user/hive/warehouse", namenode_uri(hdfs));
    let hive_site = xml_configuration(&[
        ("hive.metastore.uris", &uris),
        ("hive.metastore.warehouse.dir", &warehouse),
    ]);
    let config_map = ConfigMap {
        metadata: input.metadata(format!("{}-hive-conf", input.target.name)),
        data: Some(BTreeMap::from([("hive-site.xml".to_owned(), hive_site)])),
        ..ConfigMap::default()
    };
    object(&config_map)
}

/// A Hadoop-style `<configuration>` file. Values are our own addresses (DNS
/// labels and fixed paths), so they need no XML escaping.
fn xml_configuration(properties: &[(&str, &str)]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<configuration>\n");
    for (name, value) in properties {
        xml.push_str(&format!(
            "  <property>\n    <name>{name}</name>\n    <value>{value}</value>\n  </property>\n"
        ));
    }
    xml.push_str("</configuration>\n");
    xml
}
