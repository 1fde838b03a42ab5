//! The portal is killed (SIGKILL) in the middle of an install and started
//! again: the worker resumes the stored operation and the install completes.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, TestDatabase};
use serde_json::{Value, json};

fn start_portal(database: &str, kubeconfig: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dataport"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            database,
        ])
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dataport")
}

async fn wait_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status().is_success())
        .ok()
        != Some(true)
    {
        assert!(Instant::now() < deadline, "portal not ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_killed_portal_resumes_its_install_at_the_next_start() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("crash").await;
    let database = TestDatabase::new(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let token = common::add_user_with_token(
        &database.url,
        common::ADMIN,
        common::ADMIN_PASSWORD,
        dataport::service::Role::Admin,
    )
    .await;
    let http = common::client_with_token(&token, true);

    let mut portal = start_portal(&database.url, &cluster.kubeconfig, port);
    wait_ready(&http, &base).await;
    // The install is stored; the portal dies before (or while) its worker applies it.
    let created: Value = http
        .post(format!("{base}/api/v1/instances"))
        .json(&json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    portal.kill().expect("SIGKILL");
    portal.wait().unwrap();

    // Make the crash certain: whatever the worker managed, the operation is
    // back to running, as a kill in the middle of the apply leaves it.
    let store = database.store().await;
    let id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let operation = store.operations(id).await.unwrap().remove(0);
    store.start_operation(operation.id).await.unwrap();
    assert_eq!(store.unfinished_operations().await.unwrap().len(), 1);

    let mut portal = start_portal(&database.url, &cluster.kubeconfig, port);
    wait_ready(&http, &base).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let instance: Value = http
            .get(format!("{base}/api/v1/instances/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if instance["operations"][0]["state"] == "succeeded" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the install was not resumed: {instance}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    portal.kill().unwrap();
    portal.wait().unwrap();
}
