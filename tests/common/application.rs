//! A Flink application on the local cluster: installed with the operator
//! (and MinIO for its savepoints), its job and its savepoints as the portal
//! reports them.

use std::time::Duration;

use serde_json::{Value, json};

use super::Portal;

/// The job the applications run (in the stock image).
pub const JAR: &str = "local:///opt/flink/examples/streaming/StateMachineExample.jar";

/// Installs the operator (and MinIO with `storage`) and application
/// `orders` running its job, with `extra` parameters over the usual ones;
/// returns its id.
pub async fn install_application(
    portal: &Portal,
    namespace: &str,
    storage: bool,
    extra: Value,
) -> String {
    portal
        .install(json!({"app": "flink-kubernetes-operator", "name": "flink-operator", "namespace": namespace, "params": {}}))
        .await;
    let mut params = json!({"operator": "flink-operator", "jarURI": JAR, "parallelism": 1});
    if storage {
        portal
            .install(json!({"app": "minio", "name": "minio", "namespace": namespace, "params": {}}))
            .await;
        params = json!({"operator": "flink-operator", "jarURI": JAR, "parallelism": 1,
            "upgradeMode": "savepoint", "highAvailability": true, "haType": "kubernetes",
            "storage": "s3", "minio": "minio"});
    }
    if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
        params.extend(extra.clone());
    }
    let installed = portal
        .install(json!({"app": "flink-application", "name": "orders", "namespace": namespace, "params": params}))
        .await;
    let id = installed["instance"]["id"].as_str().unwrap().to_owned();
    portal
        .wait_for_instance(&id, "running its job", |instance| {
            instance["instance"]["status"] == "Running" && job(instance)["state"] == "RUNNING"
        })
        .await;
    id
}

/// The application's job as the instance JSON reports it.
pub fn job(instance: &Value) -> &Value {
    instance["observed"]
        .as_array()
        .and_then(|observed| observed.iter().find_map(|o| o.get("Flink")))
        .map_or(&Value::Null, |flink| &flink["job"])
}

/// The application's savepoints list once `done` holds for it (`within` at most).
pub async fn wait_for_snapshots(
    portal: &Portal,
    id: &str,
    what: &str,
    within: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let answer = portal
        .wait_for_json_within(
            &format!("/api/v1/instances/{id}/savepoints"),
            what,
            within,
            |list| list.as_array().is_some_and(|list| done(list)),
        )
        .await;
    answer.as_array().cloned().unwrap_or_default()
}
