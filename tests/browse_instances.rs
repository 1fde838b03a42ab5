//! A user lists instances: filters by app, namespace and status, 50 a page,
//! with a JSON twin; bad page numbers and unknown filters show empty pages,
//! never errors.

mod common;

use common::{Backend, Portal, TestDatabase};
use dataport::store::{InstanceStatus, NewInstance};
use serde_json::json;

#[tokio::test]
async fn the_instances_list_filters_and_pages() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let store = database.store().await;
    for i in 0..120 {
        let (app, namespace) = if i % 3 == 0 {
            ("zookeeper", "coordination")
        } else {
            ("flink", "streaming")
        };
        let (instance, _, _) = store
            .create_instance(NewInstance {
                id: uuid::Uuid::new_v4(),
                app: app.into(),
                name: format!("{app}-{i:03}"),
                namespace: namespace.into(),
                version: "1".into(),
                params: json!({}),
                objects: json!([]),
                actor: "test".into(),
            })
            .await
            .unwrap();
        if i % 10 == 0 {
            store
                .set_status(instance.id, InstanceStatus::Failed)
                .await
                .unwrap();
        }
    }
    let portal = Portal::start(store, None, Default::default()).await;

    let (status, page) = portal.get_json("/api/v1/instances").await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 120);
    assert_eq!(page["pages"], 3);
    assert_eq!(page["instances"].as_array().unwrap().len(), 50);
    let (_, last) = portal.get_json("/api/v1/instances?page=3").await;
    assert_eq!(last["instances"].as_array().unwrap().len(), 20);

    let (_, zookeepers) = portal.get_json("/api/v1/instances?app=zookeeper").await;
    assert_eq!(zookeepers["total"], 40);
    let (_, failed) = portal
        .get_json("/api/v1/instances?status=Failed&namespace=coordination")
        .await;
    assert_eq!(failed["total"], 4, "i = 0, 30, 60, 90");
    assert!(
        failed["instances"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "Failed" && i["app"] == "zookeeper")
    );

    let (status, html) = portal.get("/instances?app=flink&page=2").await;
    assert_eq!(status, 200);
    assert!(html.contains("80 instances"));
    assert!(html.contains("Page 2 of 2"));
    assert!(
        html.contains("href=\"/instances?app=flink&#38;page=1\""),
        "the pager keeps the filter"
    );
    assert!(html.contains("<option value=\"flink\" selected>"));

    for odd in [
        "/instances?page=-4",
        "/instances?page=abc",
        "/instances?status=Bogus",
        "/instances?namespace=%3Cscript%3E",
    ] {
        let (status, html) = portal.get(odd).await;
        assert_eq!(status, 200, "{odd}");
        assert!(!html.contains("<script>"), "{odd}: escaped");
    }
    let (_, bogus) = portal.get_json("/api/v1/instances?status=Bogus").await;
    assert_eq!(bogus["total"], 0);
}
