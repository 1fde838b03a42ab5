//! A user sends bad input to the install form and the JSON API: each case
//! gets 400, 409, 413 or 415 with a message naming the field, and nothing is
//! written (no instance, revision or operation).

mod common;

use common::{Backend, Portal, TestDatabase};
use dataport::store::Store;
use serde_json::{Value, json};

async fn fixtures(store: &Store) {
    for (app, name, namespace) in [
        ("flink-kubernetes-operator", "op", "data"),
        ("zookeeper", "zk", "other"),
        ("minio", "minio", "data"),
    ] {
        common::seed_instance(store, app, name, namespace).await;
    }
}

/// A form case: name, fields, expected status, a marker expected on the page.
type FormCase = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    u16,
    &'static str,
);

/// A valid Flink install, changed by `change`.
fn flink(change: impl FnOnce(&mut Value)) -> Value {
    let mut body = json!({"app": "flink", "name": "analytics", "namespace": "data", "params": {"operator": "op"}});
    change(&mut body);
    body
}

fn param(key: &'static str, value: Value) -> impl FnOnce(&mut Value) {
    move |body| body["params"][key] = value
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field_and_writes_nothing() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let store = database.store().await;
    fixtures(&store).await;
    let portal = Portal::start(database.store().await, None, Default::default()).await;
    let long_name = "a".repeat(41);
    let long_namespace = "n".repeat(64);

    // (case, body, expected status, field the message names)
    let json_cases: Vec<(&str, Value, u16, &str)> = vec![
        ("empty name", flink(|b| b["name"] = json!("")), 400, "name"),
        (
            "name too long",
            flink(|b| b["name"] = json!(long_name)),
            400,
            "name",
        ),
        (
            "uppercase name",
            flink(|b| b["name"] = json!("Analytics")),
            400,
            "name",
        ),
        (
            "underscore in name",
            flink(|b| b["name"] = json!("my_flink")),
            400,
            "name",
        ),
        (
            "name starts with a digit",
            flink(|b| b["name"] = json!("1flink")),
            400,
            "name",
        ),
        (
            "name ends with a hyphen",
            flink(|b| b["name"] = json!("flink-")),
            400,
            "name",
        ),
        (
            "dot in name",
            flink(|b| b["name"] = json!("flink.main")),
            400,
            "name",
        ),
        (
            "script in name",
            flink(|b| b["name"] = json!("<script>alert(1)</script>")),
            400,
            "name",
        ),
        (
            "empty namespace",
            flink(|b| b["namespace"] = json!("")),
            400,
            "namespace",
        ),
        (
            "uppercase namespace",
            flink(|b| b["namespace"] = json!("Data")),
            400,
            "namespace",
        ),
        (
            "namespace too long",
            flink(|b| b["namespace"] = json!(long_namespace)),
            400,
            "namespace",
        ),
        (
            "2Gb is not a quantity",
            flink(param("jobManagerMemory", json!("2Gb"))),
            400,
            "jobManagerMemory",
        ),
        (
            "negative memory",
            flink(param("jobManagerMemory", json!("-1Gi"))),
            400,
            "jobManagerMemory",
        ),
        (
            "huge memory",
            flink(param("taskManagerMemory", json!("999Ti"))),
            400,
            "taskManagerMemory",
        ),
        (
            "too little memory",
            flink(param("jobManagerMemory", json!("100Mi"))),
            400,
            "jobManagerMemory",
        ),
        (
            "zero CPU",
            flink(param("taskManagerCpu", json!("0"))),
            400,
            "taskManagerCpu",
        ),
        (
            "huge CPU",
            flink(param("taskManagerCpu", json!("1000"))),
            400,
            "taskManagerCpu",
        ),
        (
            "CPU in words",
            flink(param("taskManagerCpu", json!("abc"))),
            400,
            "taskManagerCpu",
        ),
        (
            "zero slots",
            flink(param("taskSlots", json!(0))),
            400,
            "taskSlots",
        ),
        (
            "negative slots",
            flink(param("taskSlots", json!(-3))),
            400,
            "taskSlots",
        ),
        (
            "too many slots",
            flink(param("taskSlots", json!(1000))),
            400,
            "taskSlots",
        ),
        (
            "slots in words",
            flink(param("taskSlots", json!("two"))),
            400,
            "taskSlots",
        ),
        (
            "too many TaskManagers",
            flink(param("taskManagerReplicas", json!(101))),
            400,
            "taskManagerReplicas",
        ),
        (
            "fractional replicas",
            flink(param("taskManagerReplicas", json!(1.5))),
            400,
            "taskManagerReplicas",
        ),
        (
            "unknown HA type",
            flink(|b| {
                b["params"]["highAvailability"] = json!(true);
                b["params"]["haType"] = json!("etcd");
                b["params"]["minio"] = json!("minio");
            }),
            400,
            "haType",
        ),
        (
            "unknown storage",
            flink(|b| {
                b["params"]["highAvailability"] = json!(true);
                b["params"]["storage"] = json!("gcs");
            }),
            400,
            "storage",
        ),
        (
            "unknown version",
            flink(|b| b["version"] = json!("1.9")),
            400,
            "version",
        ),
        (
            "unknown parameter",
            flink(param("parallelism", json!(4))),
            400,
            "parallelism",
        ),
        (
            "missing operator instance",
            flink(param("operator", json!("nope"))),
            400,
            "operator",
        ),
        (
            "operator left empty",
            flink(param("operator", json!(""))),
            400,
            "operator",
        ),
        (
            "ZooKeeper in another namespace",
            flink(|b| {
                b["params"]["highAvailability"] = json!(true);
                b["params"]["haType"] = json!("zookeeper");
                b["params"]["zookeeper"] = json!("zk");
                b["params"]["minio"] = json!("minio");
            }),
            400,
            "zookeeper",
        ),
        (
            "reference to the wrong app",
            flink(|b| {
                b["params"]["highAvailability"] = json!(true);
                b["params"]["haType"] = json!("zookeeper");
                b["params"]["zookeeper"] = json!("minio");
                b["params"]["minio"] = json!("minio");
            }),
            400,
            "zookeeper",
        ),
        (
            "ZooKeeper HA without ZooKeeper",
            flink(|b| {
                b["params"]["highAvailability"] = json!(true);
                b["params"]["haType"] = json!("zookeeper");
                b["params"]["minio"] = json!("minio");
            }),
            400,
            "zookeeper",
        ),
        (
            "S3 storage without MinIO",
            flink(|b| b["params"]["highAvailability"] = json!(true)),
            400,
            "minio",
        ),
        (
            "Hive with Flink 2.0",
            flink(|b| {
                b["version"] = json!("2.0");
                b["params"]["hive"] = json!(true);
                b["params"]["hiveMetastore"] = json!("x");
                b["params"]["hiveHdfs"] = json!("y");
            }),
            400,
            "hive",
        ),
        (
            "2 JobManagers without HA",
            flink(param("jobManagerReplicas", json!(2))),
            400,
            "jobManagerReplicas",
        ),
        (
            "toggle that is neither on nor off",
            flink(param("highAvailability", json!("maybe"))),
            400,
            "highAvailability",
        ),
        (
            "parameter as an object",
            flink(param("taskSlots", json!({"n": 2}))),
            400,
            "taskSlots",
        ),
        (
            "short MinIO password",
            json!({"app": "minio", "name": "m2", "namespace": "data", "params": {"rootPassword": "short"}}),
            400,
            "rootPassword",
        ),
        (
            "bad bucket name",
            json!({"app": "minio", "name": "m2", "namespace": "data", "params": {"bucket": "No_Caps"}}),
            400,
            "bucket",
        ),
        (
            "replication above datanodes",
            json!({"app": "hdfs", "name": "h", "namespace": "data", "params": {"datanodes": 1, "replication": 3}}),
            400,
            "replication",
        ),
        (
            "HDFS storage with the stock image, which has no Hadoop",
            flink(|b| {
                b["params"]["highAvailability"] = json!(true);
                b["params"]["storage"] = json!("hdfs");
                b["params"]["hdfs"] = json!("h");
            }),
            400,
            "storage",
        ),
        (
            "an extra library that is not an https jar",
            flink(param("extraLibraries", json!("http://repo.example/a.jar"))),
            400,
            "extraLibraries",
        ),
        (
            "a custom image without a tag",
            flink(param("image", json!("registry.example/flink"))),
            400,
            "image",
        ),
        ("name taken", flink(|b| b["name"] = json!("op")), 409, "op"),
    ];
    for (case, body, status, field) in &json_cases {
        for path in ["/api/v1/instances", "/api/v1/preview"] {
            let (got, answer) = portal.post_json(path, body).await;
            assert_eq!(got, *status, "{case} on {path}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            if *status == 400 {
                assert!(
                    answer["error"]["fields"][field].is_string(),
                    "{case}: error for {field} in {answer}"
                );
            } else {
                assert!(message.contains(field), "{case}: {message}");
            }
        }
    }

    // Requests that are wrong before any field is read.
    let client = portal.http.clone();
    let url = format!("{}/api/v1/instances", portal.base);
    let plain = client
        .post(&url)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status().as_u16(), 415, "wrong content type");
    let broken = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"app\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status().as_u16(), 400, "malformed JSON");
    let missing = client
        .post(&url)
        .json(&json!({"app": "flink"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 400, "missing name and namespace");
    let huge = json!({"app": "flink", "name": "x", "namespace": "data", "params": {"pad": "x".repeat(1_100_000)}});
    let too_large = client.post(&url).json(&huge).send().await.unwrap();
    assert_eq!(too_large.status().as_u16(), 413, "body over 1 MiB");

    // The HTML form: errors next to the fields, everything typed kept.
    let form_cases: Vec<FormCase> = vec![
        (
            "form: empty name",
            vec![("name", ""), ("namespace", "data"), ("operator", "op")],
            400,
            "e-name",
        ),
        (
            "form: 2Gb",
            vec![
                ("name", "f1"),
                ("namespace", "data"),
                ("operator", "op"),
                ("jobManagerMemory", "2Gb"),
            ],
            400,
            "e-jobManagerMemory",
        ),
        (
            "form: Hive on 2.x",
            vec![
                ("name", "f1"),
                ("namespace", "data"),
                ("version", "2.1"),
                ("operator", "op"),
                ("hive", "true"),
                ("hiveMetastore", "a"),
                ("hiveHdfs", "b"),
            ],
            400,
            "e-hive",
        ),
        (
            "form: HDFS storage with the stock image",
            vec![
                ("name", "f1"),
                ("namespace", "data"),
                ("operator", "op"),
                ("highAvailability", "true"),
                ("storage", "hdfs"),
                ("hdfs", "h"),
            ],
            400,
            "e-storage",
        ),
        (
            "form: 2 JobManagers without HA",
            vec![
                ("name", "f1"),
                ("namespace", "data"),
                ("operator", "op"),
                ("jobManagerReplicas", "2"),
            ],
            400,
            "e-jobManagerReplicas",
        ),
        (
            "form: name taken",
            vec![("name", "op"), ("namespace", "data"), ("operator", "op")],
            409,
            // Next to the name field, like every other error.
            "id=\"e-name\"",
        ),
    ];
    for (case, fields, status, marker) in &form_cases {
        for action in ["install", "preview"] {
            let mut fields = fields.clone();
            fields.push(("action", action));
            let (got, _, html) = portal.post_form("/catalog/flink/install", &fields).await;
            assert_eq!(got, *status, "{case} ({action})");
            assert!(
                html.contains(marker),
                "{case} ({action}): {marker} on the page"
            );
            for (key, value) in &fields {
                if !value.is_empty() && !matches!(*key, "action" | "version" | "hive") {
                    assert!(
                        html.contains(&format!("value=\"{value}\"")),
                        "{case}: {key}={value} kept"
                    );
                }
            }
        }
    }

    let cases = json_cases.len() * 2 + 4 + form_cases.len() * 2;
    assert!(cases >= 40, "{cases} bad inputs tried");
    // Nothing was written: only the three fixtures, their revision and their operation.
    assert_eq!(store.instances(None).await.unwrap().len(), 3);
    assert_eq!(store.unfinished_operations().await.unwrap().len(), 3);
    for instance in store.instances(None).await.unwrap() {
        assert_eq!(store.revisions(instance.id).await.unwrap().len(), 1);
    }
}
