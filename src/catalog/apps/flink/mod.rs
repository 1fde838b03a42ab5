//! Apache Flink, run by the flink-kubernetes-operator: a session cluster
//! (`flink`) and an application cluster with its job (`flink-application`).
//! Both share the cluster's parameters, rules and render.

pub(super) mod application;
mod contract;
pub mod memory;
pub mod memory_rule;
mod render;
pub mod versions;

use serde_json::Value;

use crate::catalog::libraries;
use crate::catalog::params::{Choice, Param, ParamGroup, ParamKind, ShownWhen, concat};
use crate::catalog::{AppDefinition, Category, Dependency, FieldErrors, Need, Values, WebUi};

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
    versions: versions::VERSIONS,
    version_notes: versions::VERSION_NOTES,
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
    web_ui: Some(WebUi {
        name: "flink-webui",
        label: "Flink WebUI",
        service_suffix: "-rest",
        port: 8081,
        note: None,
        public_url_param: Some("ingressTemplate"),
        serves_proxy_path: false,
        service_param: None,
    }),
    homepage: "https://flink.apache.org/",
    groups: SESSION_GROUPS,
    params: &SESSION_PARAMS,
    rules,
    scope: None,
    render: render::render,
    contract: &contract::CONTRACT,
};

const HA_ON: ShownWhen = &[("highAvailability", "true")];
const HIVE_ON: ShownWhen = &[("hive", "true")];

/// A floor for both pods (a JobManager needs 577Mi, a TaskManager 982Mi, see
/// [`memory_rule`], which refuses what Flink's memory model refuses above it).
const FLINK_MEMORY: (&str, &str) = ("768Mi", "128Gi");

/// The operator and the JobManager and TaskManager pods: first on both forms.
pub(super) const CLUSTER: &[Param] = &[
    Param::reference(
        "operator",
        "Flink operator",
        "flink-kubernetes-operator",
        &[],
        "The flink-kubernetes-operator instance that runs this cluster: one that watches this \
         namespace (namespace/name when it is installed in another).",
    ),
    Param::cpu(
        "jobManagerCpu",
        "JobManager CPU",
        "1",
        "Cores per JobManager pod, e.g. 1 or 500m.",
    ),
    Param::bytes(
        "jobManagerMemory",
        "JobManager memory",
        "2Gi",
        FLINK_MEMORY,
        "Memory per JobManager pod, e.g. 2Gi.",
    ),
    Param::int(
        "jobManagerReplicas",
        "JobManager replicas",
        "1",
        (1, 3),
        "More than one (standby JobManagers) needs high availability.",
    ),
    Param::cpu(
        "taskManagerCpu",
        "TaskManager CPU",
        "1",
        "Cores per TaskManager pod.",
    ),
    Param::bytes(
        "taskManagerMemory",
        "TaskManager memory",
        "2Gi",
        FLINK_MEMORY,
        "Memory per TaskManager pod.",
    ),
    Param::int(
        "taskSlots",
        "Task slots",
        "2",
        (1, 64),
        "Slots per TaskManager: how many parallel tasks each runs.",
    ),
];

/// Only a session cluster keeps TaskManagers running; an application's come
/// and go with its job's parallelism.
const TASK_MANAGER_REPLICAS: &[Param] = &[Param::int(
    "taskManagerReplicas",
    "TaskManager replicas",
    "1",
    (1, 100),
    "TaskManagers the session cluster keeps running.",
)];

/// High availability, storage, ingress and Hive: last on both forms.
pub(super) const HA_INGRESS_HIVE: &[Param] = &[
    Param::toggle(
        "highAvailability",
        "High availability",
        "Keep the JobManager's leadership and metadata outside the pod, so a restart resumes its jobs.",
    ),
    Param {
        key: "haType",
        label: "HA type",
        help: "Where the leader is elected: Kubernetes ConfigMaps or a ZooKeeper ensemble.",
        kind: ParamKind::Choice {
            options: &[
                Choice {
                    value: "kubernetes",
                    label: "Kubernetes",
                },
                Choice {
                    value: "zookeeper",
                    label: "ZooKeeper",
                },
            ],
        },
        default: Some("kubernetes"),
        shown_when: HA_ON,
    },
    Param::reference(
        "zookeeper",
        "ZooKeeper",
        "zookeeper",
        &[("highAvailability", "true"), ("haType", "zookeeper")],
        "The ZooKeeper instance that elects the leader.",
    ),
    Param {
        key: "storage",
        label: "HA and checkpoint storage",
        help: "Where HA metadata, checkpoints and savepoints are kept.",
        kind: ParamKind::Choice {
            options: &[
                Choice {
                    value: "s3",
                    label: "S3 (MinIO)",
                },
                Choice {
                    value: "hdfs",
                    label: "HDFS",
                },
            ],
        },
        default: Some("s3"),
        shown_when: HA_ON,
    },
    Param::reference(
        "minio",
        "MinIO",
        "minio",
        &[("highAvailability", "true"), ("storage", "s3")],
        "The MinIO instance holding the s3:// paths.",
    ),
    Param::reference(
        "hdfs",
        "HDFS",
        "hdfs",
        &[("highAvailability", "true"), ("storage", "hdfs")],
        "The HDFS instance holding the hdfs:// paths.",
    ),
    Param {
        key: "checkpointInterval",
        label: "Checkpoint interval (seconds)",
        help: "How often jobs take a checkpoint into this storage, so that a restart resumes \
            from at most this far back; 0 takes none.",
        kind: ParamKind::Int {
            min: 0,
            max: 86_400,
        },
        default: Some("60"),
        shown_when: HA_ON,
    },
    Param {
        key: "ingressTemplate",
        label: "Ingress URL template",
        help: "Public WebUI address through an ingress, e.g. {{name}}.{{namespace}}.flink.example.com; empty for none.",
        kind: ParamKind::Text { max_len: 200 },
        default: Some(""),
        shown_when: &[],
    },
    Param {
        key: "ingressClass",
        label: "Ingress class",
        help: "Ingress class for the WebUI ingress; empty for the cluster's default.",
        kind: ParamKind::Text { max_len: 63 },
        default: Some(""),
        shown_when: &[],
    },
    Param::toggle(
        "hive",
        "Flink on Hive",
        "Let SQL jobs use Hive tables through a Hive metastore (Flink 1.x only).",
    ),
    Param::reference(
        "hiveMetastore",
        "Hive metastore",
        "hive-metastore",
        HIVE_ON,
        "The Hive metastore instance with the table definitions.",
    ),
    Param::reference(
        "hiveHdfs",
        "Hive warehouse HDFS",
        "hdfs",
        HIVE_ON,
        "The HDFS instance holding the Hive warehouse.",
    ),
];

/// The image and what it lacks: last on both forms, after the features
/// (HDFS, Hive) that need them.
pub(super) const IMAGE_AND_LIBRARIES: &[Param] = &[
    Param {
        key: "image",
        label: "Image",
        help: "Empty for the stock flink image of the chosen version. A custom image must be \
            built on that Flink version (the cluster keeps its flinkVersion) and name a fixed \
            tag, e.g. registry.example/flink-hive:1.20.5.",
        kind: ParamKind::Text { max_len: 200 },
        default: Some(""),
        shown_when: &[],
    },
    Param {
        key: "extraLibraries",
        label: "Extra libraries",
        help: "Jars the stock image lacks, fetched into /opt/flink/lib of every pod before \
            Flink starts: https URLs separated by commas or spaces, each optionally ending in \
            #sha256=<hex>. HDFS storage needs Hadoop's client (hadoop-client-api and \
            hadoop-client-runtime); Flink on Hive the Hive connector \
            (flink-sql-connector-hive-3.1.3_2.12-<Flink version>).",
        kind: ParamKind::Text { max_len: 4000 },
        default: Some(""),
        shown_when: &[],
    },
];

/// The groups of the features after the cluster (and, on the application
/// form, the job): high availability, ingress, Hive, the image.
pub(super) const FEATURE_GROUPS: [ParamGroup; 4] = [
    ParamGroup {
        title: "High availability",
        first: "highAvailability",
    },
    ParamGroup {
        title: "Ingress",
        first: "ingressTemplate",
    },
    ParamGroup {
        title: "Flink on Hive",
        first: "hive",
    },
    ParamGroup {
        title: "Image and libraries",
        first: "image",
    },
];

/// The session cluster's form: the cluster, then [`FEATURE_GROUPS`].
const SESSION_GROUPS: &[ParamGroup] = &[
    ParamGroup {
        title: "Cluster",
        first: "operator",
    },
    FEATURE_GROUPS[0],
    FEATURE_GROUPS[1],
    FEATURE_GROUPS[2],
    FEATURE_GROUPS[3],
];

/// The session cluster's form.
static SESSION_PARAMS: [Param; 22] = concat(&[
    CLUSTER,
    TASK_MANAGER_REPLICAS,
    HA_INGRESS_HIVE,
    IMAGE_AND_LIBRARIES,
]);

pub(super) fn is_on(values: &Values, key: &str) -> bool {
    values.get(key) == Some(&Value::Bool(true))
}

/// Rules across fields: standby JobManagers need HA; Hive needs Flink 1.x;
/// memory Flink's memory model accepts ([`memory_rule`]).
pub(super) fn rules(version: &str, values: &Values) -> FieldErrors {
    let mut errors = memory_rule::memory_errors(values);
    let job_managers = values
        .get("jobManagerReplicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    if job_managers > 1 && !is_on(values, "highAvailability") {
        errors.insert(
            "jobManagerReplicas".into(),
            "More than one JobManager needs high availability: turn it on, or use 1".into(),
        );
    }
    if is_on(values, "hive") && version.starts_with("2.") {
        errors.insert(
            "hive".into(),
            format!(
                "Flink on Hive needs Flink 1.x: the Hive connector is not released for Flink {version}"
            ),
        );
    }
    errors.extend(image_rules(version, values));
    errors
}

/// The custom image and the extra libraries are well formed, and what the
/// stock image lacks is given: Hadoop's client for HDFS storage, the Hive
/// connector (and Hadoop's client) for Flink on Hive. Refusals name the jars
/// for the chosen version and sit next to the field that needs them.
fn image_rules(version: &str, values: &Values) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let text = |key: &str| values.get(key).and_then(Value::as_str).unwrap_or("").trim();
    let image = text("image");
    if !image.is_empty()
        && let Some(error) = libraries::image_error(image)
    {
        errors.insert("image".into(), error);
    }
    let listed = match libraries::parse(text("extraLibraries")) {
        Ok(listed) => listed,
        Err(error) => {
            errors.insert("extraLibraries".into(), error);
            return errors;
        }
    };
    let Some(release) = versions::release(version) else {
        return errors;
    };
    if !image.is_empty() {
        return errors; // a custom image is the user's to have built with what it needs
    }
    let stock = release.image();
    let hadoop = libraries::has_hadoop(&listed);
    let hdfs_storage = is_on(values, "highAvailability")
        && values.get("storage").and_then(Value::as_str) == Some("hdfs");
    if hdfs_storage && !hadoop {
        errors.insert(
            "storage".into(),
            format!(
                "HDFS storage needs Hadoop's client classes, which the stock image {stock} \
                 lacks: add {} under Extra libraries, or give an image with Hadoop",
                libraries::HADOOP_JARS
            ),
        );
    }
    if is_on(values, "hive") && !version.starts_with("2.") {
        let connector = release.hive_connector_jar();
        let has_connector = listed
            .iter()
            .any(|l| l.file.starts_with("flink-sql-connector-hive-"));
        let mut missing = Vec::new();
        if !has_connector {
            missing.push(format!("{connector} (Maven org.apache.flink)"));
        }
        if !hadoop {
            missing.push(libraries::HADOOP_JARS.to_owned());
        }
        if !missing.is_empty() {
            errors.insert(
                "hive".into(),
                format!(
                    "Flink on Hive needs the Hive connector and Hadoop's client, which the \
                     stock image {stock} lacks: add {} under Extra libraries, or give an image \
                     with them",
                    missing.join(" and ")
                ),
            );
        }
    }
    errors
}

#[cfg(test)]
mod tests;
