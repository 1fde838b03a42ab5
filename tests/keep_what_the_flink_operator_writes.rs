//! Installing the Flink operator brings CRDs that keep what the operator
//! writes: its status (reconciliation record, TaskManagers, conditions,
//! checkpoint and savepoint info) and nested `flinkConfiguration` read back
//! unchanged, all four kinds are served, and an older, narrower CRD is
//! updated; the operator release's own CRDs are left alone. Against the real
//! API server.

mod common;

use std::process::Command;

use common::cluster::{self, TestCluster};
use common::{Backend, Portal, TestDatabase};
use dataport::cluster::crds::{self, CrdOutcome};
use dataport::crd::{
    FlinkBlueGreenDeployment, FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot,
};
use dataport::http::Layout;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Resource;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// What operator 1.15.0 writes to a FlinkDeployment's status (docs/flink-operator-facts.md §4).
fn deployment_status() -> Value {
    json!({
        "jobStatus": {
            "jobName": "wordcount", "jobId": "4f2a", "state": "RUNNING",
            "startTime": "1764500000000", "updateTime": "1764500001000",
            "upgradeSavepointPath": "s3://flink/savepoints/savepoint-4f2a00-1",
            "savepointInfo": {
                "lastSavepoint": {"timeStamp": 1764500000000_i64,
                    "location": "s3://flink/savepoints/savepoint-4f2a00-1",
                    "triggerType": "UPGRADE", "formatType": "CANONICAL", "triggerNonce": 2},
                "savepointHistory": [{"timeStamp": 1764400000000_i64,
                    "location": "s3://flink/savepoints/savepoint-4f2a00-0",
                    "triggerType": "MANUAL", "formatType": "NATIVE"}],
                "triggerId": "t1", "triggerTimestamp": 1764500000500_i64,
                "triggerType": "PERIODIC", "formatType": "CANONICAL",
                "lastPeriodicSavepointTimestamp": 1764300000000_i64
            },
            "checkpointInfo": {
                "lastCheckpoint": {"timeStamp": 1764500000000_i64, "triggerType": "MANUAL",
                    "formatType": "FULL", "triggerNonce": 1},
                "triggerId": "c1", "triggerTimestamp": 1764500000600_i64,
                "triggerType": "MANUAL", "formatType": "INCREMENTAL",
                "lastPeriodicCheckpointTimestamp": 0
            }
        },
        "error": null,
        "observedGeneration": 1,
        "lifecycleState": "STABLE",
        "clusterInfo": {"flink-version": "1.20.2", "total-cpu": "2.0"},
        "jobManagerDeploymentStatus": "READY",
        "reconciliationStatus": {
            "reconciliationTimestamp": 1764500000000_i64,
            "lastReconciledSpec": "{\"spec\":{\"job\":{\"upgradeMode\":\"stateless\"}},\"resource_metadata\":{\"apiVersion\":\"flink.apache.org/v1beta1\",\"firstDeployment\":true}}",
            "lastStableSpec": "{\"spec\":{}}",
            "state": "DEPLOYED"
        },
        "taskManager": {"labelSelector": "component=taskmanager,app=wordcount", "replicas": 2},
        "conditions": [{"type": "Running", "status": "True", "reason": "Running",
            "message": "Job status RUNNING", "lastTransitionTime": "2026-11-30T14:00:00Z",
            "observedGeneration": 1}]
    })
}

/// Merge-patches `status` into the named resource's status and returns the
/// status the API server keeps.
async fn write_status<K>(api: &Api<K>, name: &str, status: &Value) -> Value
where
    K: Resource + Clone + DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .expect("patch status");
    let object = api.get(name).await.expect("read back");
    serde_json::to_value(object).expect("encode")["status"].clone()
}

fn without_nulls(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.retain(|_, v| !v.is_null());
        for v in map.values_mut() {
            *v = without_nulls(v.take());
        }
    }
    value
}

/// Creates `object` as it is (not through dataport's types, which would
/// flatten its configuration) in `namespace`.
async fn create<K>(client: &kube::Client, namespace: &str, object: Value)
where
    K: Resource<DynamicType = ()>,
{
    let raw: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &ApiResource::erase::<K>(&()));
    let object: DynamicObject = serde_json::from_value(object).expect("object");
    raw.create(&PostParams::default(), &object)
        .await
        .expect("create");
}

/// The old CRDs dataport installed (two kinds, narrower): tests/fixtures/.
fn old_dataport_crds() -> Vec<CustomResourceDefinition> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    crds::read_folder(&dir).expect("fixture CRDs")
}

async fn portal_on(cluster: &TestCluster) -> (Portal, TestDatabase) {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let portal = Portal::start(
        database.store().await,
        Some(cluster.cluster().await),
        Layout::default(),
    )
    .await;
    (portal, database)
}

#[tokio::test]
async fn installing_the_operator_updates_narrower_crds_and_they_keep_what_it_writes() {
    let cluster = cluster::bare("keep-status");
    let client = cluster.client().await;
    // An older dataport installed its two narrower CRDs.
    let reports = crds::install(&cluster.cluster().await, &old_dataport_crds())
        .await
        .expect("install the old CRDs");
    assert!(
        reports.iter().all(|r| r.outcome == CrdOutcome::Installed),
        "{reports:?}"
    );

    let namespace = cluster.namespace("keep-status").await;
    let (portal, _database) = portal_on(&cluster).await;
    let operator = portal
        .install(json!({"app": "flink-kubernetes-operator", "name": "flink-operator", "namespace": namespace, "params": {}}))
        .await;
    let operation = &operator["operations"][0];
    assert_eq!(operation["state"], "succeeded", "{operator}");
    assert_eq!(
        operation["progress"], "Flink CRDs: 2 installed, 2 updated",
        "{operator}"
    );

    // All four kinds are served.
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client.clone(), &namespace);
    snapshots
        .list(&Default::default())
        .await
        .expect("snapshots served");
    let blue_green: Api<FlinkBlueGreenDeployment> = Api::namespaced(client.clone(), &namespace);
    blue_green
        .list(&Default::default())
        .await
        .expect("blue/green served");

    // A FlinkDeployment keeps its nested configuration and the operator's status.
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let configuration = json!({"taskmanager": {"numberOfTaskSlots": 2}, "parallelism.default": 4});
    create::<FlinkDeployment>(
        &client,
        &namespace,
        json!({"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
            "metadata": {"name": "wordcount"},
            "spec": {"image": "flink:1.20", "flinkVersion": "v1_20", "flinkConfiguration": configuration,
                "job": {"jarURI": "local:///opt/flink/examples/streaming/WordCount.jar",
                    "upgradeMode": "savepoint", "savepointRedeployNonce": 1,
                    "checkpointTriggerNonce": 1, "autoscalerResetNonce": 1},
                "ingress": {"template": "{{name}}.example.com",
                    "tls": [{"hosts": ["wordcount.example.com"], "secretName": "wordcount-tls"}]}}}),
    )
    .await;
    let raw: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        &namespace,
        &ApiResource::erase::<FlinkDeployment>(&()),
    );
    let stored = raw.get("wordcount").await.expect("read raw");
    assert_eq!(stored.data["spec"]["flinkConfiguration"], configuration);
    assert_eq!(stored.data["spec"]["job"]["autoscalerResetNonce"], 1);
    assert_eq!(
        stored.data["spec"]["ingress"]["tls"][0]["secretName"],
        "wordcount-tls"
    );
    let typed = deployments.get("wordcount").await.expect("typed read");
    assert_eq!(
        typed.spec.flink_configuration.unwrap()["taskmanager.numberOfTaskSlots"],
        "2"
    );
    let status = deployment_status();
    assert_eq!(
        write_status(&deployments, "wordcount", &status).await,
        without_nulls(status)
    );

    // A FlinkSessionJob keeps its reconciliation record and job status.
    let jobs: Api<FlinkSessionJob> = Api::namespaced(client.clone(), &namespace);
    create::<FlinkSessionJob>(
        &client,
        &namespace,
        json!({"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkSessionJob",
            "metadata": {"name": "sessionjob"},
            "spec": {"deploymentName": "analytics", "flinkConfiguration": {"pipeline": {"name": "x"}},
                "job": {"jarURI": "https://example.com/job.jar", "parallelism": 1}}}),
    )
    .await;
    let full = deployment_status();
    let status = json!({
        "jobStatus": full["jobStatus"],
        "observedGeneration": 1,
        "lifecycleState": "STABLE",
        "reconciliationStatus": full["reconciliationStatus"],
    });
    assert_eq!(write_status(&jobs, "sessionjob", &status).await, status);

    // Installing again changes nothing.
    let again = cluster
        .cluster()
        .await
        .ensure_flink_crds()
        .await
        .expect("install again");
    assert_eq!(
        crds::summary(&again),
        "Flink CRDs: left as they are (the cluster's are equal or newer)"
    );
}

#[tokio::test]
async fn installing_over_the_operators_own_crds_leaves_them_alone() {
    // The shared control plane carries the operator release's CRDs.
    let cluster = cluster::shared();
    let api: Api<CustomResourceDefinition> = Api::all(cluster.client().await);
    let versions = || async {
        let mut versions = Vec::new();
        for crd in crds::definitions() {
            let name = crd.metadata.name.unwrap();
            let existing = api.get(&name).await.expect("official CRD installed");
            versions.push((name, existing.metadata.resource_version));
        }
        versions
    };
    let before = versions().await;

    let output = Command::new(env!("CARGO_BIN_EXE_dataport"))
        .args(["crds", "--install", "--kubeconfig"])
        .arg(&cluster.kubeconfig)
        .output()
        .expect("run dataport crds --install");
    assert!(output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    for (name, _) in &before {
        assert!(
            said.contains(&format!("{name}: left alone, {}", crds::EQUAL_OR_NEWER)),
            "{said}"
        );
    }

    let namespace = cluster.namespace("official-crds").await;
    let (portal, _database) = portal_on(cluster).await;
    let operator = portal
        .install(json!({"app": "flink-kubernetes-operator", "name": "flink-operator", "namespace": namespace, "params": {}}))
        .await;
    assert_eq!(
        operator["operations"][0]["progress"],
        "Flink CRDs: left as they are (the cluster's are equal or newer)",
        "{operator}"
    );
    assert_eq!(versions().await, before, "the CRDs were not touched");
}
