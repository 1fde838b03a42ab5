//! What each app renders to, as golden files (tests/snapshots/), for every
//! app and every combination of Flink's toggles; and the rules every rendered
//! object keeps: the four labels, the instance annotation, no secret values.

mod common;

use common::render::{FLINK_HA_CHOICES, FLINK_HIVE_ON, flink_references, other_apps, render};
use serde_json::{Value, json};

const NAMESPACE: &str = "data";

fn snapshot(name: &str, objects: &[Value]) {
    insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_yaml_snapshot!(name, objects);
    });
}

#[test]
fn flink_renders_every_combination_of_its_toggles() {
    let references = flink_references(NAMESPACE);
    for (ha_name, ha) in FLINK_HA_CHOICES {
        for hive in [false, true] {
            let mut form = vec![("operator", "operator-main")];
            form.extend_from_slice(ha);
            if hive {
                form.extend(FLINK_HIVE_ON);
            }
            let objects = render("flink", NAMESPACE, &form, &references);
            snapshot(
                &format!("flink-{ha_name}-hive-{}", if hive { "on" } else { "off" }),
                &objects,
            );
        }
    }
}

#[test]
fn flink_with_zookeeper_ha_on_s3_is_wired_to_both() {
    let objects = render(
        "flink",
        NAMESPACE,
        &[
            ("operator", "operator-main"),
            ("highAvailability", "on"),
            ("haType", "zookeeper"),
            ("zookeeper", "zk"),
            ("storage", "s3"),
            ("minio", "minio-main"),
            ("jobManagerReplicas", "2"),
        ],
        &flink_references(NAMESPACE),
    );
    let deployment = objects
        .iter()
        .find(|o| o["kind"] == "FlinkDeployment")
        .unwrap();
    let conf = &deployment["spec"]["flinkConfiguration"];
    assert_eq!(conf["high-availability.type"], "zookeeper");
    assert_eq!(
        conf["high-availability.zookeeper.quorum"],
        "zk.data.svc:2181"
    );
    assert_eq!(
        conf["high-availability.storageDir"],
        "s3://checkpoints/data/flink-main/ha"
    );
    assert_eq!(
        conf["execution.checkpointing.dir"],
        "s3://checkpoints/data/flink-main/checkpoints"
    );
    assert_eq!(conf["s3.endpoint"], "http://minio-main.data.svc:9000");
    assert_eq!(conf["s3.path.style.access"], "true");
    assert_eq!(conf["metrics.reporter.prom.port"], "9249");
    assert!(
        conf.as_object().unwrap().values().all(Value::is_string),
        "flinkConfiguration values are strings"
    );
    assert!(
        !conf.to_string().to_lowercase().contains("secret"),
        "no credentials in flinkConfiguration"
    );
    assert_eq!(deployment["spec"]["jobManager"]["replicas"], 2);
    assert_eq!(deployment["spec"]["image"], "flink:1.20.5");
    assert_eq!(deployment["spec"]["flinkVersion"], "v1_20");
    let container = &deployment["spec"]["podTemplate"]["spec"]["containers"][0];
    assert_eq!(container["name"], "flink-main-container");
    assert_eq!(container["ports"][0]["name"], "metrics");
    let env = container["env"].as_array().unwrap();
    assert!(env.contains(
        &json!({"name": "ENABLE_BUILT_IN_PLUGINS", "value": "flink-s3-fs-presto-1.20.5.jar"})
    ));
    assert!(env.contains(&json!({"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "minio-main-credentials", "key": "root-password"}}})));
    assert!(deployment.get("status").is_none());
}

#[test]
fn every_other_app_renders_its_objects() {
    for (app, form, references) in other_apps(NAMESPACE) {
        let objects = render(app, NAMESPACE, &form, &references);
        snapshot(app, &objects);
    }
}
