//! Rendering an app as the install form would: validate a form, then render.

use std::collections::BTreeMap;

use dataport::catalog::render::{RenderInput, Resolved, Target, labels};
use dataport::catalog::workload::GENERATED_KEYS;
use dataport::catalog::{self, Values};
use serde_json::{Value, json};
use uuid::Uuid;

/// The Flink application form used by the render and cluster tests: a
/// savepoint job from the image with HA on S3 (MinIO `minio-main`); the
/// operator reference is the caller's.
pub const APPLICATION_FORM: &[(&str, &str)] = &[
    (
        "jarURI",
        "local:///opt/flink/examples/streaming/StateMachineExample.jar",
    ),
    (
        "entryClass",
        "org.apache.flink.streaming.examples.statemachine.StateMachineExample",
    ),
    ("args", "--error-rate 0.1"),
    ("parallelism", "2"),
    ("upgradeMode", "savepoint"),
    ("highAvailability", "on"),
    ("haType", "kubernetes"),
    ("storage", "s3"),
    ("minio", "minio-main"),
];

/// The id every test render uses, so that golden files are stable.
pub const INSTANCE_ID: Uuid = Uuid::from_u128(0x5eed);

/// An instance a reference resolves to, in `namespace`.
pub fn resolved(name: &str, namespace: &str, params: Value) -> Resolved {
    Resolved {
        name: name.into(),
        namespace: namespace.into(),
        params: serde_json::from_value(params).expect("params object"),
    }
}

/// Validates `form` for the app's default version, renders it into
/// `namespace`, and checks the rules every rendered object keeps.
pub fn render(
    app: &str,
    namespace: &str,
    form: &[(&str, &str)],
    references: &[(&str, Resolved)],
) -> Vec<Value> {
    let definition = catalog::find(app).expect("app in the catalog");
    let raw: BTreeMap<String, String> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let values: Values = definition
        .validate(definition.default_version(), &raw)
        .unwrap_or_else(|errors| panic!("{app}: {errors:?}"));
    let input = RenderInput {
        target: Target {
            id: INSTANCE_ID,
            app: definition.name,
            name: format!("{app}-main").replace("flink-kubernetes-operator", "operator"),
            namespace: namespace.into(),
            version: definition.default_version().into(),
        },
        values,
        references: references
            .iter()
            .map(|(k, r)| (k.to_string(), r.clone()))
            .collect(),
    };
    let objects = (definition.render)(&input).unwrap_or_else(|e| panic!("{app}: {e}"));
    assert_eq!(
        objects,
        (definition.render)(&input).unwrap(),
        "{app}: deterministic"
    );
    check_rules(app, namespace, &objects);
    objects
}

fn check_rules(app: &str, namespace: &str, objects: &[Value]) {
    assert!(!objects.is_empty());
    for object in objects {
        let what = format!("{app}: {} {}", object["kind"], object["metadata"]["name"]);
        let labels_of = &object["metadata"]["labels"];
        assert_eq!(labels_of[labels::MANAGED_BY], "dataport", "{what}");
        assert_eq!(labels_of[labels::PART_OF], "dataport", "{what}");
        assert_eq!(labels_of[labels::NAME], app, "{what}");
        assert!(labels_of[labels::INSTANCE].is_string(), "{what}");
        assert_eq!(
            object["metadata"]["annotations"][labels::INSTANCE_ID],
            INSTANCE_ID.to_string(),
            "{what}"
        );
        assert_eq!(object["metadata"]["namespace"], namespace, "{what}");
        if object["kind"] == "Secret" {
            assert!(
                object.get("data").is_none() && object.get("stringData").is_none(),
                "{what}: no values rendered"
            );
            assert!(
                object["metadata"]["annotations"][GENERATED_KEYS].is_string(),
                "{what}"
            );
        }
        if object["kind"] == "ConfigMap" {
            let text = object["data"].to_string().to_lowercase();
            assert!(
                !text.contains("password:"),
                "{what}: no password in a ConfigMap"
            );
        }
        let name = object["metadata"]["name"].as_str().expect("a name");
        assert!(name.len() <= 63, "{what}: name fits a DNS label");
    }
    let faults = image_and_probe_faults(objects);
    assert!(faults.is_empty(), "{app}: {faults:#?}");
}

/// Whether `image` names one fixed build: a digest, or a release tag that
/// does not move (`major.minor.patch`, optionally with a suffix, or MinIO's
/// `RELEASE.<timestamp>`). `latest`, no tag, and moving tags such as `8.4`
/// or `3` are not pinned.
pub fn is_pinned(image: &str) -> bool {
    if image.contains("@sha256:") {
        return true;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    let Some((_, tag)) = last.split_once(':') else {
        return false;
    };
    if tag.starts_with("RELEASE.") {
        return true;
    }
    let version = tag.trim_start_matches('v');
    let numbers: Vec<&str> = version
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .split('.')
        .collect();
    numbers.len() >= 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Every container of `object` with where it sits: `(path, container, long_running)`.
fn containers(object: &Value) -> Vec<(String, &Value, bool)> {
    let kind = object["kind"].as_str().unwrap_or("");
    let pod = match kind {
        "Deployment" | "StatefulSet" | "Job" => &object["spec"]["template"]["spec"],
        "FlinkDeployment" => &object["spec"]["podTemplate"]["spec"],
        _ => return Vec::new(),
    };
    let long_running = matches!(kind, "Deployment" | "StatefulSet");
    let mut found = Vec::new();
    for (list, runs) in [("containers", long_running), ("initContainers", false)] {
        for container in pod[list].as_array().into_iter().flatten() {
            found.push((format!("{list}/{}", container["name"]), container, runs));
        }
    }
    found
}

/// What breaks the image and probe rules in `objects`: an image that is not
/// pinned ([`is_pinned`]; a FlinkDeployment's `spec.image` too), or a
/// Deployment or StatefulSet container without both a readiness and a
/// liveness probe. Empty when every object keeps them.
pub fn image_and_probe_faults(objects: &[Value]) -> Vec<String> {
    let mut faults = Vec::new();
    for object in objects {
        let what = format!("{} {}", object["kind"], object["metadata"]["name"]);
        if object["kind"] == "FlinkDeployment" {
            match object["spec"]["image"].as_str() {
                Some(image) if is_pinned(image) => {}
                image => faults.push(format!("{what}: spec.image {image:?} is not pinned")),
            }
        }
        for (path, container, long_running) in containers(object) {
            // A FlinkDeployment's main container takes spec.image.
            if let Some(image) = container["image"].as_str() {
                if !is_pinned(image) {
                    faults.push(format!("{what} {path}: image {image:?} is not pinned"));
                }
            } else if object["kind"] != "FlinkDeployment" {
                faults.push(format!("{what} {path}: no image"));
            }
            if long_running {
                for probe in ["readinessProbe", "livenessProbe"] {
                    if container.get(probe).is_none() {
                        faults.push(format!("{what} {path}: no {probe}"));
                    }
                }
            }
        }
    }
    faults
}

/// What Flink's reference parameters resolve to in the tests.
pub fn flink_references(namespace: &str) -> Vec<(&'static str, Resolved)> {
    vec![
        ("operator", resolved("operator-main", namespace, json!({}))),
        ("zookeeper", resolved("zk", namespace, json!({}))),
        (
            "minio",
            resolved("minio-main", namespace, json!({"bucket": "checkpoints"})),
        ),
        ("hdfs", resolved("hdfs-main", namespace, json!({}))),
        ("hiveMetastore", resolved("metastore", namespace, json!({}))),
        ("hiveHdfs", resolved("hdfs-main", namespace, json!({}))),
    ]
}

/// Hadoop's shaded client, which the stock Flink image lacks for HDFS storage.
pub const HADOOP_LIBRARIES: &str = "https://repo.example/maven2/org/apache/hadoop/hadoop-client-api/3.4.1/hadoop-client-api-3.4.1.jar \
    https://repo.example/maven2/org/apache/hadoop/hadoop-client-runtime/3.4.1/hadoop-client-runtime-3.4.1.jar";

/// Hadoop's client and the Hive connector of Flink 1.20.5, for Flink on Hive.
pub const HIVE_LIBRARIES: &str = "https://repo.example/maven2/org/apache/hadoop/hadoop-client-api/3.4.1/hadoop-client-api-3.4.1.jar \
    https://repo.example/maven2/org/apache/hadoop/hadoop-client-runtime/3.4.1/hadoop-client-runtime-3.4.1.jar \
    https://repo.example/maven2/org/apache/flink/flink-sql-connector-hive-3.1.3_2.12/1.20.5/flink-sql-connector-hive-3.1.3_2.12-1.20.5.jar#sha256=5f0c1c3e1ab8a3e4b2a2f0a8f45cc1c2a6c2e1f8a3d9b8c7e6f5a4b3c2d1e0f9";

/// The MySQL JDBC driver, which the stock Hive image lacks.
pub const MYSQL_DRIVER: &str =
    "https://repo.example/maven2/com/mysql/mysql-connector-j/8.4.0/mysql-connector-j-8.4.0.jar";

/// Flink's HA choices by name: every combination the form allows.
pub const FLINK_HA_CHOICES: [(&str, &[(&str, &str)]); 5] = [
    ("ha-off", &[("highAvailability", "false")]),
    (
        "ha-kubernetes-s3",
        &[
            ("highAvailability", "on"),
            ("haType", "kubernetes"),
            ("storage", "s3"),
            ("minio", "minio-main"),
        ],
    ),
    (
        "ha-kubernetes-hdfs",
        &[
            ("highAvailability", "on"),
            ("haType", "kubernetes"),
            ("storage", "hdfs"),
            ("hdfs", "hdfs-main"),
            ("extraLibraries", HADOOP_LIBRARIES),
        ],
    ),
    (
        "ha-zookeeper-s3",
        &[
            ("highAvailability", "on"),
            ("haType", "zookeeper"),
            ("zookeeper", "zk"),
            ("storage", "s3"),
            ("minio", "minio-main"),
        ],
    ),
    (
        "ha-zookeeper-hdfs",
        &[
            ("highAvailability", "on"),
            ("haType", "zookeeper"),
            ("zookeeper", "zk"),
            ("storage", "hdfs"),
            ("hdfs", "hdfs-main"),
            ("extraLibraries", HADOOP_LIBRARIES),
        ],
    ),
];

/// Flink's Hive fields when the toggle is on, with the jars the stock image
/// lacks (they include HDFS storage's, so they may replace its list).
pub const FLINK_HIVE_ON: [(&str, &str); 4] = [
    ("hive", "on"),
    ("hiveMetastore", "metastore"),
    ("hiveHdfs", "hdfs-main"),
    ("extraLibraries", HIVE_LIBRARIES),
];

/// An app, the form it is installed with, and what its references resolve to.
pub type AppCase = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<(&'static str, Resolved)>,
);

/// Every other app: its form and what its references resolve to.
pub fn other_apps(namespace: &str) -> Vec<AppCase> {
    let mysql = ("mysql", resolved("mysql-main", namespace, json!({})));
    let references = flink_references(namespace);
    let flink_reference = |key: &str| {
        references
            .iter()
            .find(|(k, _)| *k == key)
            .cloned()
            .expect("a Flink reference")
    };
    vec![
        (
            "flink-application",
            [("operator", "operator-main")]
                .into_iter()
                .chain(APPLICATION_FORM.iter().copied())
                // Periodic savepoints: operator keys in its configuration.
                .chain([
                    ("periodicSavepointInterval", "1 h"),
                    ("savepointHistoryMaxCount", "5"),
                ])
                .collect(),
            vec![flink_reference("operator"), flink_reference("minio")],
        ),
        ("flink-kubernetes-operator", vec![], vec![]),
        (
            "streampark",
            vec![("mysql", "mysql-main"), ("extraLibraries", MYSQL_DRIVER)],
            vec![mysql.clone()],
        ),
        ("zookeeper", vec![], vec![]),
        ("hdfs", vec![], vec![]),
        ("minio", vec![], vec![]),
        (
            "hive-metastore",
            vec![("mysql", "mysql-main"), ("extraLibraries", MYSQL_DRIVER)],
            vec![mysql],
        ),
        ("mysql", vec![], vec![]),
        ("prometheus", vec![], vec![]),
        ("monitoring", vec![], vec![]),
    ]
}
