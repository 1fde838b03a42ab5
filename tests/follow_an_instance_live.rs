//! The instance page follows its instance live: a server-sent event with the
//! status, latest operation and the Objects panel's cluster states, and
//! another each time they change.

mod common;

use std::time::Duration;

use common::{Backend, Portal, TestDatabase};
use dataport::store::{InstanceStatus, NewInstance};
use serde_json::{Value, json};

/// Reads the stream until the next complete `status` event; returns its data.
async fn next_status(response: &mut reqwest::Response, buffer: &mut String) -> Value {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|line| line.strip_prefix("data: ")) {
                assert!(event.contains("event: status"), "{event}");
                return serde_json::from_str(data).unwrap();
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn status_changes_arrive_as_server_sent_events() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let store = database.store().await;
    let (instance, _, operation) = store
        .create_instance(NewInstance {
            id: uuid::Uuid::new_v4(),
            app: "zookeeper".into(),
            name: "zk".into(),
            namespace: "data".into(),
            version: "3.9.3".into(),
            params: json!({}),
            objects: json!([]),
            actor: "test".into(),
        })
        .await
        .unwrap();
    let portal = Portal::start(database.store().await, None, Default::default()).await;

    let mut response = portal
        .http
        .get(format!("{}/instances/{}/live", portal.base, instance.id))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut buffer = String::new();
    let first = next_status(&mut response, &mut buffer).await;
    assert_eq!(first["status"], "Installing");
    assert_eq!(first["operation"]["state"], "pending");
    // The Objects panel's live part: without a cluster nothing is observed.
    assert_eq!(first["observed"].as_str().map(str::trim), Some(""));

    store.finish_operation(operation.id, None).await.unwrap();
    store
        .set_status(instance.id, InstanceStatus::Running)
        .await
        .unwrap();
    let mut latest = next_status(&mut response, &mut buffer).await;
    // The two writes may arrive as one event or two.
    if latest["status"] != "Running" {
        latest = next_status(&mut response, &mut buffer).await;
    }
    assert_eq!(latest["status"], "Running");
    assert_eq!(latest["operation"]["state"], "succeeded");

    let (status, _) = portal
        .get(&format!("/instances/{}/live", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(status, 404);
    let (_, html) = portal.get(&format!("/instances/{}", instance.id)).await;
    assert!(html.contains(&format!("data-live=\"/instances/{}/live\"", instance.id)));
}
