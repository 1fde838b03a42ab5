//! What each app renders to, as golden files (tests/snapshots/), for every
//! app and every combination of Flink's toggles; and the rules every rendered
//! object keeps: the four labels, the instance annotation, no secret values.

mod common;

use common::render::{
    FLINK_HA_CHOICES, FLINK_HIVE_ON, HADOOP_LIBRARIES, flink_references, image_and_probe_faults,
    is_pinned, other_apps, render,
};
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

/// Every render of every app (the forms above: each Flink toggle
/// combination and every other app), and nothing else.
fn every_render() -> Vec<(String, Vec<Value>)> {
    let references = flink_references(NAMESPACE);
    let mut renders = Vec::new();
    for (ha_name, ha) in FLINK_HA_CHOICES {
        for hive in [false, true] {
            let mut form = vec![("operator", "operator-main")];
            form.extend_from_slice(ha);
            if hive {
                form.extend(FLINK_HIVE_ON);
            }
            renders.push((
                format!("flink {ha_name} hive {hive}"),
                render("flink", NAMESPACE, &form, &references),
            ));
        }
    }
    for (app, form, references) in other_apps(NAMESPACE) {
        renders.push((app.to_owned(), render(app, NAMESPACE, &form, &references)));
    }
    renders
}

#[test]
fn every_image_is_pinned_and_every_long_running_container_is_probed() {
    for (name, objects) in every_render() {
        let faults = image_and_probe_faults(&objects);
        assert!(faults.is_empty(), "{name}: {faults:#?}");
    }
}

#[test]
fn an_unpinned_image_or_a_missing_probe_is_caught() {
    for image in ["minio/mc:latest", "minio/mc", "mysql:8.4", "zookeeper:3"] {
        assert!(!is_pinned(image), "{image}");
    }
    for image in [
        "minio/mc:RELEASE.2025-04-16T18-13-26Z",
        "mysql:8.4.10",
        "flink:1.20.5-java17",
        "registry.example:5000/flink:1.20.5",
        "busybox@sha256:0123",
    ] {
        assert!(is_pinned(image), "{image}");
    }
    let mut objects = render("minio", NAMESPACE, &[], &[]);
    let job = objects.iter_mut().find(|o| o["kind"] == "Job").unwrap();
    job["spec"]["template"]["spec"]["containers"][0]["image"] = json!("minio/mc:latest");
    let job_name = job["metadata"]["name"].clone();
    let server = objects
        .iter_mut()
        .find(|o| o["kind"] == "StatefulSet")
        .unwrap();
    let container = &mut server["spec"]["template"]["spec"]["containers"][0];
    container.as_object_mut().unwrap().remove("livenessProbe");
    let mut faults = image_and_probe_faults(&objects);
    faults.sort();
    assert_eq!(
        faults,
        [
            format!(
                "\"Job\" {job_name} containers/\"create-bucket\": image \"minio/mc:latest\" is not pinned"
            ),
            "\"StatefulSet\" \"minio-main\" containers/\"minio\": no livenessProbe".to_owned(),
        ]
    );
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

fn hdfs_form(extra: (&'static str, &'static str)) -> Vec<(&'static str, &'static str)> {
    vec![
        ("operator", "operator-main"),
        ("highAvailability", "on"),
        ("storage", "hdfs"),
        ("hdfs", "hdfs-main"),
        extra,
    ]
}

fn flink_deployment(objects: &[Value]) -> &Value {
    objects
        .iter()
        .find(|o| o["kind"] == "FlinkDeployment")
        .expect("a FlinkDeployment")
}

#[test]
fn hdfs_storage_with_the_hadoop_jars_fetches_them_into_flinks_lib_before_it_starts() {
    let objects = render(
        "flink",
        NAMESPACE,
        &hdfs_form(("extraLibraries", HADOOP_LIBRARIES)),
        &flink_references(NAMESPACE),
    );
    let spec = &flink_deployment(&objects)["spec"];
    assert_eq!(spec["image"], "flink:1.20.5", "the stock image");
    let pod = &spec["podTemplate"]["spec"];
    let fetcher = &pod["initContainers"][0];
    assert_eq!(fetcher["name"], "fetch-libraries");
    assert_eq!(fetcher["image"], "curlimages/curl:8.11.1");
    let urls: Vec<&str> = HADOOP_LIBRARIES.split_whitespace().collect();
    let command: Vec<&str> = fetcher["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(command[3..], ["fetch", urls[0], "-", urls[1], "-"]);
    assert_eq!(
        fetcher["volumeMounts"],
        json!([{"name": "extra-libraries", "mountPath": "/extra-libraries"}])
    );
    assert!(
        pod["volumes"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "extra-libraries", "emptyDir": {}}))
    );
    let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
    for jar in [
        "hadoop-client-api-3.4.1.jar",
        "hadoop-client-runtime-3.4.1.jar",
    ] {
        assert!(
            mounts.contains(
                &json!({"name": "extra-libraries", "mountPath": format!("/opt/flink/lib/{jar}"),
                "subPath": jar, "readOnly": true})
            ),
            "{jar} in {mounts:?}"
        );
    }
}

#[test]
fn a_custom_image_replaces_the_stock_one_and_keeps_the_versions_flink_version() {
    let objects = render(
        "flink",
        NAMESPACE,
        &hdfs_form(("image", "registry.example/team/flink-hadoop:1.20.5-2")),
        &flink_references(NAMESPACE),
    );
    let spec = &flink_deployment(&objects)["spec"];
    assert_eq!(spec["image"], "registry.example/team/flink-hadoop:1.20.5-2");
    assert_eq!(spec["flinkVersion"], "v1_20");
    assert!(spec["podTemplate"]["spec"].get("initContainers").is_none());
}

/// Whether `selector` (a Service's `spec.selector`) selects pods labelled `labels`.
fn selects(selector: &serde_json::Map<String, Value>, labels: &Value) -> bool {
    selector.iter().all(|(key, value)| labels[key] == *value)
}

/// A Service routes to its server's pods only: a Job's pod (MinIO's bucket
/// Job) is never among its endpoints.
#[test]
fn every_service_selects_only_its_servers_pods() {
    for (name, objects) in every_render() {
        for service in objects.iter().filter(|o| o["kind"] == "Service") {
            let Some(selector) = service["spec"]["selector"].as_object() else {
                continue;
            };
            for job in objects.iter().filter(|o| o["kind"] == "Job") {
                assert!(
                    !selects(selector, &job["spec"]["template"]["metadata"]["labels"]),
                    "{name}: Service {} selects the pods of Job {}",
                    service["metadata"]["name"],
                    job["metadata"]["name"]
                );
            }
        }
    }
    let objects = render("minio", NAMESPACE, &[], &[]);
    let service = objects
        .iter()
        .find(|o| o["kind"] == "Service" && o["metadata"]["name"] == "minio-main")
        .unwrap();
    let server = objects.iter().find(|o| o["kind"] == "StatefulSet").unwrap();
    assert!(selects(
        service["spec"]["selector"].as_object().unwrap(),
        &server["spec"]["template"]["metadata"]["labels"]
    ));
}
