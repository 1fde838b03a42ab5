//! A user picks HDFS storage on the Flink form: with the stock image the form
//! refuses it at the storage field, naming the jars to add; with Hadoop's
//! client jars, or a custom image, the preview shows the init container that
//! fetches them and their mounts, or the image.

mod common;

use common::render::HADOOP_LIBRARIES;
use common::{Backend, Portal, TestDatabase};
use dataport::store::Store;
use serde_json::json;

async fn fixtures(store: &Store) {
    for (app, name) in [("flink-kubernetes-operator", "op"), ("hdfs", "h")] {
        common::seed_instance(store, app, name, "data").await;
    }
}

fn form(extra: (&'static str, &'static str)) -> Vec<(&'static str, &'static str)> {
    vec![
        ("name", "analytics"),
        ("namespace", "data"),
        ("operator", "op"),
        ("highAvailability", "true"),
        ("storage", "hdfs"),
        ("hdfs", "h"),
        extra,
        ("action", "preview"),
    ]
}

#[tokio::test]
async fn hdfs_storage_is_refused_with_the_stock_image_and_previewed_with_what_it_lacks() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    fixtures(&database.store().await).await;
    let portal = Portal::start(database.store().await, None, Default::default()).await;

    let (status, _, html) = portal
        .post_form("/catalog/flink/install", &form(("image", "")))
        .await;
    assert_eq!(status, 400);
    assert!(
        html.contains("e-storage"),
        "the refusal sits at the storage field"
    );
    for words in [
        "HDFS storage needs Hadoop",
        "flink:1.20.5",
        "hadoop-client-api-3.4.1.jar and hadoop-client-runtime-3.4.1.jar",
    ] {
        assert!(html.contains(words), "{words} on the page");
    }

    let (status, _, html) = portal
        .post_form(
            "/catalog/flink/install",
            &form(("extraLibraries", HADOOP_LIBRARIES)),
        )
        .await;
    assert_eq!(status, 200, "{html}");
    for shown in [
        "fetch-libraries",
        "curlimages/curl:8.11.1",
        "/opt/flink/lib/hadoop-client-api-3.4.1.jar",
        "/opt/flink/lib/hadoop-client-runtime-3.4.1.jar",
        "flink:1.20.5",
    ] {
        assert!(html.contains(shown), "the preview shows {shown}");
    }

    let (status, _, html) = portal
        .post_form(
            "/catalog/flink/install",
            &form(("image", "registry.example/flink-hadoop:1.20.5")),
        )
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("registry.example/flink-hadoop:1.20.5"));
    assert!(!html.contains("fetch-libraries"));

    let (status, answer) = portal
        .post_json(
            "/api/v1/preview",
            &json!({"app": "flink", "name": "analytics", "namespace": "data", "params": {
                "operator": "op", "highAvailability": true, "storage": "hdfs", "hdfs": "h",
                "extraLibraries": HADOOP_LIBRARIES}}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.to_string().contains("fetch-libraries"), "{answer}");
}
