use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Value, json};

use super::coverage::{Loss, LossReason, crd_losses, in_pod_template};
use super::*;

/// The CRDs flink-kubernetes-operator 1.15.0 ships
/// (helm/flink-kubernetes-operator/crds/*.yml at release-1.15.0), kept
/// outside the project for tests.
fn official(plural: &str) -> CustomResourceDefinition {
    let path = format!(
        "{}/../shared/upstream/flink-kubernetes-operator-1.15.0/crds/{plural}.flink.apache.org-v1.yml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap()
}

fn ours(plural: &str) -> CustomResourceDefinition {
    definitions()
        .into_iter()
        .find(|crd| crd.spec.names.plural == plural)
        .unwrap()
}

const PLURALS: [&str; 4] = [
    "flinkdeployments",
    "flinksessionjobs",
    "flinkstatesnapshots",
    "flinkbluegreendeployments",
];

fn spec_schema(crd: &CustomResourceDefinition) -> Value {
    let schema = crd.spec.versions[0]
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref());
    serde_json::to_value(schema).unwrap()["properties"]["spec"].clone()
}

#[test]
fn dataports_crds_keep_everything_the_operators_keep() {
    for plural in PLURALS {
        let losses = crd_losses(&official(plural), &ours(plural));
        let text: Vec<String> = losses.iter().map(Loss::to_string).collect();
        assert!(
            losses.is_empty(),
            "{plural}: dataport's CRD loses\n  {}",
            text.join("\n  ")
        );
    }
}

#[test]
fn the_operators_crds_keep_everything_dataports_keep_but_open_pod_templates() {
    for plural in PLURALS {
        let losses = crd_losses(&ours(plural), &official(plural));
        let text: Vec<String> = losses
            .iter()
            .filter(|loss| !in_pod_template(loss))
            .map(Loss::to_string)
            .collect();
        assert!(
            text.is_empty(),
            "{plural}: the operator's CRD loses\n  {}",
            text.join("\n  ")
        );
    }
}

#[test]
fn the_check_finds_a_removed_field() {
    let official = official("flinkdeployments");
    let mut trimmed = serde_json::to_value(ours("flinkdeployments")).unwrap();
    let status = &mut trimmed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
        ["properties"];
    status
        .as_object_mut()
        .unwrap()
        .remove("reconciliationStatus");
    status["jobStatus"]["properties"]["savepointInfo"]["properties"]["lastSavepoint"]["properties"]
        ["triggerType"]["enum"] = json!(["MANUAL"]);
    let trimmed: CustomResourceDefinition = serde_json::from_value(trimmed).unwrap();
    let losses = crd_losses(&official, &trimmed);
    assert_eq!(
        losses,
        [
            Loss {
                path: "v1beta1.status.jobStatus.savepointInfo.lastSavepoint.triggerType".into(),
                reason: LossReason::Enum {
                    missing: vec![json!("PERIODIC"), json!("UNKNOWN"), json!("UPGRADE")]
                },
            },
            Loss {
                path: "v1beta1.status.reconciliationStatus".into(),
                reason: LossReason::Pruned,
            },
        ]
    );
}

#[test]
fn names_columns_and_subresources_are_the_operators() {
    for plural in PLURALS {
        let (official, ours) = (official(plural), ours(plural));
        assert_eq!(official.metadata.name, ours.metadata.name);
        assert_eq!(official.spec.names, ours.spec.names, "{plural}");
        assert_eq!(official.spec.scope, ours.spec.scope, "{plural}");
        let (theirs, mine) = (&official.spec.versions[0], &ours.spec.versions[0]);
        assert_eq!(theirs.name, mine.name);
        assert_eq!(
            theirs.additional_printer_columns, mine.additional_printer_columns,
            "{plural}"
        );
        assert_eq!(theirs.subresources, mine.subresources, "{plural}");
        assert_eq!(
            ours.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(OPERATOR_VERSION_ANNOTATION))
                .map(String::as_str),
            Some(OPERATOR_VERSION)
        );
    }
}

#[test]
fn the_crds_carry_the_operators_enums() {
    let deployment = spec_schema(&FlinkDeployment::crd());
    let versions = &deployment["properties"]["flinkVersion"]["enum"];
    assert_eq!(
        versions,
        &json!([
            "v1_13", "v1_14", "v1_15", "v1_16", "v1_17", "v1_18", "v1_19", "v1_20", "v2_0", "v2_1",
            "v2_2"
        ])
    );
    let job = &deployment["properties"]["job"]["properties"];
    assert_eq!(
        job["upgradeMode"]["enum"],
        json!(["savepoint", "last-state", "stateless"])
    );
    assert_eq!(job["state"]["enum"], json!(["running", "suspended"]));
    let configuration = &deployment["properties"]["flinkConfiguration"];
    assert_eq!(
        (
            &configuration["x-kubernetes-preserve-unknown-fields"],
            configuration.get("type")
        ),
        (&json!(true), None),
        "flinkConfiguration keeps nested YAML, as the operator's CRD does"
    );

    let session_job = spec_schema(&FlinkSessionJob::crd());
    assert!(
        session_job.get("required").is_none(),
        "the operator's CRD requires nothing"
    );
}

#[test]
fn a_session_cluster_serializes_without_nulls_or_a_job() {
    let deployment = FlinkDeployment::new(
        "analytics",
        FlinkDeploymentSpec {
            image: Some("flink:1.20".into()),
            flink_version: Some(FlinkVersion::v1_20),
            job_manager: Some(JobManagerSpec {
                replicas: Some(1),
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    let value = serde_json::to_value(&deployment).unwrap();
    assert_eq!(
        value["spec"],
        json!({"image": "flink:1.20", "flinkVersion": "v1_20", "jobManager": {"replicas": 1}})
    );
    assert!(
        value.get("status").is_none(),
        "no status is sent: the operator owns it"
    );
}

#[test]
fn the_status_the_operator_writes_reads_back_typed() {
    let status = json!({
        "jobStatus": {
            "jobName": "wordcount", "jobId": "a1", "state": "RUNNING",
            "startTime": "1700000000000", "updateTime": "1700000001000",
            "savepointInfo": {
                "lastSavepoint": {"timeStamp": 1700000000000_i64, "location": "s3://b/sp-1",
                    "triggerType": "UPGRADE", "formatType": "CANONICAL", "triggerNonce": 3},
                "savepointHistory": [], "lastPeriodicSavepointTimestamp": 0
            },
            "checkpointInfo": {
                "lastCheckpoint": {"timeStamp": 1700000000000_i64, "triggerType": "PERIODIC",
                    "formatType": "FULL"},
                "lastPeriodicCheckpointTimestamp": 0
            }
        },
        "lifecycleState": "STABLE",
        "jobManagerDeploymentStatus": "READY",
        "reconciliationStatus": {
            "reconciliationTimestamp": 1700000000000_i64,
            "lastReconciledSpec": "{\"spec\":{}}",
            "state": "DEPLOYED"
        },
        "taskManager": {"labelSelector": "component=taskmanager,app=wordcount", "replicas": 2},
        "conditions": [{"type": "Running", "status": "True", "reason": "Running",
            "message": "Job status RUNNING", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
        "clusterInfo": {"flink-version": "1.20.2"},
        "observedGeneration": 2
    });
    let typed: FlinkDeploymentStatus = serde_json::from_value(status.clone()).unwrap();
    let job = typed.job_status.as_ref().unwrap();
    let savepoint = job.savepoint_info.as_ref().unwrap().last_savepoint.as_ref();
    assert_eq!(
        savepoint.unwrap().trigger_type,
        Some(SnapshotTriggerType::Upgrade)
    );
    assert_eq!(
        typed.reconciliation_status.as_ref().unwrap().state,
        Some(ReconciliationState::Deployed)
    );
    assert_eq!(
        typed.conditions.as_ref().unwrap()[0].type_.as_deref(),
        Some("Running")
    );
    assert_eq!(serde_json::to_value(&typed).unwrap(), status);
}
