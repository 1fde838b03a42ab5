//! A user installs a Flink application (a cluster with its job), sees its job
//! run, upgrades it through a savepoint and suspends it through another, each
//! savepoint shown on its page. Against the real API server, with the
//! simulated Flink operator.

mod common;

use common::Portal;
use dataport::crd::FlinkDeployment;
use kube::api::Api;
use serde_json::{Value, json};

const JAR: &str = "local:///opt/flink/examples/streaming/StateMachineExample.jar";

/// The application's job as the instance JSON reports it.
fn job(instance: &Value) -> &Value {
    instance["observed"]
        .as_array()
        .and_then(|observed| observed.iter().find_map(|o| o.get("Flink")))
        .map_or(&Value::Null, |flink| &flink["job"])
}

#[tokio::test]
async fn an_application_runs_its_job_and_upgrades_and_suspends_through_savepoints() {
    let (portal, _database, namespace) = Portal::on_test_cluster("application").await;
    for (app, name) in [
        ("flink-kubernetes-operator", "flink-operator"),
        ("minio", "minio"),
    ] {
        portal
            .install(json!({"app": app, "name": name, "namespace": namespace, "params": {}}))
            .await;
    }
    let mut params = json!({
        "operator": "flink-operator", "jarURI": JAR, "parallelism": 2, "upgradeMode": "savepoint",
        "highAvailability": true, "haType": "kubernetes", "storage": "s3", "minio": "minio",
    });
    let installed = portal
        .install(json!({"app": "flink-application", "name": "orders", "namespace": namespace, "params": params}))
        .await;
    let id = installed["instance"]["id"].as_str().unwrap().to_owned();
    let client = common::cluster::shared().client().await;
    let deployments: Api<FlinkDeployment> = Api::namespaced(client, &namespace);
    let deployment = deployments.get("orders").await.unwrap();
    let spec_job = deployment.spec.job.expect("an application has its job");
    assert_eq!(spec_job.jar_uri.as_deref(), Some(JAR));
    assert_eq!(spec_job.parallelism, Some(2));

    portal
        .wait_for_instance(&id, "running its job", |instance| {
            instance["instance"]["status"] == "Running" && job(instance)["state"] == "RUNNING"
        })
        .await;

    // Upgrade: the operator takes a savepoint first; the page shows it.
    params["parallelism"] = json!(3);
    portal.update(&id, 1, &params).await;
    let upgraded = portal
        .wait_for_instance(&id, "upgraded through a savepoint", |instance| {
            job(instance)["state"] == "RUNNING" && job(instance)["savepoint"].is_string()
        })
        .await;
    let savepoint = job(&upgraded)["savepoint"].as_str().unwrap().to_owned();
    assert!(
        savepoint.starts_with(&format!(
            "s3://flink/{namespace}/orders/savepoints/savepoint-"
        )),
        "{savepoint}"
    );
    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    assert!(page.contains("Last savepoint") && page.contains(&savepoint));

    // Suspend: another savepoint; the instance rests as asked.
    params["jobState"] = json!("suspended");
    portal.update(&id, 2, &params).await;
    let suspended = portal
        .wait_for_instance(&id, "suspended with its update done", |instance| {
            job(instance)["state"] == "SUSPENDED"
                && job(instance)["savepoint"].as_str() != Some(savepoint.as_str())
                && instance["operations"][0]["state"] == "succeeded"
                // Suspended as asked, not Running (once the status sync has
                // seen the update rolled out: it may lag a loaded machine).
                && instance["instance"]["status"] == "Suspended"
        })
        .await;
    assert_eq!(suspended["instance"]["status"], "Suspended");
    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    assert!(page.contains("job SUSPENDED"));
    assert!(page.contains(r#"<span class="status status-suspended" data-status>Suspended</span>"#));
    assert!(page.contains(job(&suspended)["savepoint"].as_str().unwrap()));
}
