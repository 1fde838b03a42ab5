//! The Flink form's rules: fields, HA, Hive, and what the stock image lacks.

use super::*;
use crate::catalog::params::raw;

#[test]
fn defaults_fill_what_is_left_empty() {
    let values = DEFINITION
        .validate("1.20", &raw(&[("operator", "flink-operator")]))
        .unwrap();
    assert_eq!(values["jobManagerMemory"], "2Gi");
    assert_eq!(values["taskSlots"], 2);
    assert_eq!(values["highAvailability"], false);
    assert!(!values.contains_key("haType"), "hidden fields are dropped");
}

#[test]
fn ha_with_zookeeper_and_s3_reveals_and_requires_its_pickers() {
    let form = raw(&[
        ("operator", "op"),
        ("highAvailability", "on"),
        ("haType", "zookeeper"),
        ("storage", "s3"),
        ("jobManagerReplicas", "2"),
    ]);
    let errors = DEFINITION.validate("1.20", &form).unwrap_err();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["minio", "zookeeper"]);
    assert_eq!(errors["zookeeper"], "ZooKeeper is required");

    let mut complete = form.clone();
    complete.insert("zookeeper".into(), "zk".into());
    complete.insert("minio".into(), "minio".into());
    let values = DEFINITION.validate("1.20", &complete).unwrap();
    assert_eq!(values["zookeeper"], "zk");
    assert_eq!(values["jobManagerReplicas"], 2);
    assert!(!values.contains_key("hdfs"));
}

#[test]
fn every_error_comes_at_once_with_the_rules() {
    let form = raw(&[
        ("operator", ""),
        ("jobManagerMemory", "2Gb"),
        ("taskManagerCpu", "-1"),
        ("taskSlots", "0"),
        ("jobManagerReplicas", "2"),
        ("hive", "on"),
        ("hiveMetastore", "metastore"),
        ("hiveHdfs", "Not A Name"),
        ("bogus", "x"),
    ]);
    let errors = DEFINITION.validate("2.0", &form).unwrap_err();
    assert_eq!(
        errors.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "bogus",
            "hive",
            "hiveHdfs",
            "jobManagerMemory",
            "jobManagerReplicas",
            "operator",
            "taskManagerCpu",
            "taskSlots"
        ]
    );
    assert!(errors["hive"].contains("needs Flink 1.x"));
    assert!(errors["jobManagerReplicas"].contains("needs high availability"));
    assert!(errors["jobManagerMemory"].contains("\"2Gb\" is not a quantity"));
    assert_eq!(errors["taskSlots"], "Task slots must be between 1 and 64");
    assert_eq!(
        errors["bogus"],
        "Unknown parameter \"bogus\": this app has no such field."
    );
}

const HADOOP_LIBRARIES: &str = "https://repo.example/hadoop-client-api-3.4.1.jar, \
    https://repo.example/hadoop-client-runtime-3.4.1.jar";

fn hdfs_form(extra: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    let mut form = vec![
        ("operator", "op"),
        ("highAvailability", "on"),
        ("storage", "hdfs"),
        ("hdfs", "hdfs"),
    ];
    form.extend_from_slice(extra);
    raw(&form)
}

#[test]
fn hdfs_storage_with_the_stock_image_is_refused_at_the_storage_field_with_the_remedy() {
    let errors = DEFINITION.validate("1.20", &hdfs_form(&[])).unwrap_err();
    assert_eq!(errors.keys().collect::<Vec<_>>(), ["storage"]);
    assert_eq!(
        errors["storage"],
        "HDFS storage needs Hadoop's client classes, which the stock image flink:1.20.5 \
         lacks: add hadoop-client-api-3.4.1.jar and hadoop-client-runtime-3.4.1.jar (Maven \
         org.apache.hadoop) under Extra libraries, or give an image with Hadoop"
    );
    let two = DEFINITION.validate("2.1", &hdfs_form(&[])).unwrap_err();
    assert!(
        two["storage"].contains("flink:2.1.3"),
        "names the chosen version's image"
    );
}

#[test]
fn hdfs_storage_runs_with_the_hadoop_jars_or_a_custom_image() {
    let with_jars = hdfs_form(&[("extraLibraries", HADOOP_LIBRARIES)]);
    assert!(DEFINITION.validate("1.20", &with_jars).is_ok());
    let only_api = hdfs_form(&[(
        "extraLibraries",
        "https://repo.example/hadoop-client-api-3.4.1.jar",
    )]);
    assert!(DEFINITION.validate("1.20", &only_api).is_err());
    let custom = hdfs_form(&[("image", "registry.example/flink-hadoop:1.20.5")]);
    assert!(DEFINITION.validate("1.20", &custom).is_ok());
    let floating = hdfs_form(&[("image", "registry.example/flink-hadoop")]);
    let errors = DEFINITION.validate("1.20", &floating).unwrap_err();
    assert!(errors["image"].contains("no tag"), "{errors:?}");
}

#[test]
fn flink_on_hive_names_the_connector_of_the_chosen_version() {
    let form = |extra: &[(&str, &str)]| {
        let mut form = vec![
            ("operator", "op"),
            ("hive", "on"),
            ("hiveMetastore", "metastore"),
            ("hiveHdfs", "hdfs"),
        ];
        form.extend_from_slice(extra);
        raw(&form)
    };
    let errors = DEFINITION.validate("1.19", &form(&[])).unwrap_err();
    assert!(
        errors["hive"].contains("flink-sql-connector-hive-3.1.3_2.12-1.19.3.jar"),
        "{errors:?}"
    );
    assert!(errors["hive"].contains("hadoop-client-runtime-3.4.1.jar"));
    let connector = format!(
        "{HADOOP_LIBRARIES} https://repo.example/flink-sql-connector-hive-3.1.3_2.12-1.19.3.jar"
    );
    assert!(
        DEFINITION
            .validate("1.19", &form(&[("extraLibraries", &connector)]))
            .is_ok()
    );
    let bad = DEFINITION
        .validate(
            "1.20",
            &form(&[("extraLibraries", "ftp://x.example/a.jar")]),
        )
        .unwrap_err();
    assert_eq!(bad.keys().collect::<Vec<_>>(), ["extraLibraries"]);
}

#[test]
fn an_unknown_version_is_refused() {
    let errors = DEFINITION
        .validate("1.9", &raw(&[("operator", "op")]))
        .unwrap_err();
    assert_eq!(
        errors["version"],
        "version must be one of 1.20, 1.19, 2.0, 2.1, 2.2"
    );
}

#[test]
fn the_ha_toggle_names_what_it_reveals() {
    let toggle = SESSION_PARAMS
        .iter()
        .find(|p| p.key == "highAvailability")
        .unwrap();
    assert_eq!(
        toggle.reveals(&SESSION_PARAMS),
        [
            "haType",
            "zookeeper",
            "storage",
            "minio",
            "hdfs",
            "checkpointInterval"
        ]
    );
    let hive = SESSION_PARAMS.iter().find(|p| p.key == "hive").unwrap();
    assert_eq!(hive.reveals(&SESSION_PARAMS), ["hiveMetastore", "hiveHdfs"]);
}
