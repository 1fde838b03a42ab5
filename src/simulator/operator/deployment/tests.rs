use serde_json::json;

use super::*;
use crate::crd::{FlinkDeploymentStatus, ResourceLifecycleState as Lifecycle, TaskManagerInfo};

fn session_spec() -> Value {
    json!({
        "image": "flink:1.20",
        "flinkVersion": "v1_20",
        "serviceAccount": "flink",
        "jobManager": {"replicas": 1, "resource": {"memory": "1g", "cpu": 1}},
        "taskManager": {"resource": {"memory": "2g", "cpu": 1}},
        "flinkConfiguration": {
            "taskmanager.numberOfTaskSlots": "2",
            "execution.checkpointing.dir": "s3://flink/f/checkpoints",
            "execution.checkpointing.savepoint-dir": "s3://flink/f/savepoints",
        },
    })
}

fn application_spec() -> Value {
    let mut spec = session_spec();
    spec["job"] = json!({"jarURI": "local:///opt/flink/job.jar", "parallelism": 2, "upgradeMode": "savepoint", "state": "running"});
    spec
}

fn seen(spec: &Value, generation: i64) -> Seen<'_> {
    Seen {
        name: "f",
        generation,
        spec,
        fail: None,
        finish: false,
        job_manager: None,
    }
}

fn walk(
    spec: &Value,
    mut status: FlinkDeploymentStatus,
    steps: usize,
) -> (FlinkDeploymentStatus, Vec<(Option<Jm>, Lifecycle)>) {
    let mut trail = Vec::new();
    for _ in 0..steps {
        status = step(&seen(spec, 1), &status, &OperatorConfig::default()).status;
        trail.push((
            status.job_manager_deployment_status,
            status.lifecycle_state.unwrap(),
        ));
    }
    (status, trail)
}

#[test]
fn a_session_cluster_is_recorded_deployed_then_walks_to_ready_and_stable() {
    let (status, trail) = walk(&session_spec(), FlinkDeploymentStatus::default(), 6);
    assert_eq!(
        trail,
        [
            (Some(Jm::Missing), Lifecycle::Upgrading),
            (Some(Jm::Deploying), Lifecycle::Deployed),
            (Some(Jm::DeployedNotReady), Lifecycle::Deployed),
            (Some(Jm::Ready), Lifecycle::Deployed),
            (Some(Jm::Ready), Lifecycle::Stable),
            (Some(Jm::Ready), Lifecycle::Stable),
        ]
    );
    let reconciliation = status.reconciliation_status.clone().unwrap();
    assert_eq!(reconciliation.state, Some(ReconciliationState::Deployed));
    let recorded: Value =
        serde_json::from_str(reconciliation.last_reconciled_spec.as_deref().unwrap()).unwrap();
    assert_eq!(recorded["spec"], session_spec());
    assert_eq!(recorded["resource_metadata"]["firstDeployment"], true);
    assert_eq!(
        reconciliation.last_stable_spec,
        reconciliation.last_reconciled_spec
    );
    let conditions = status.conditions.unwrap();
    assert_eq!(conditions.len(), 1);
    assert_eq!(conditions[0].reason.as_deref(), Some("JobManagerReady"));
    assert_eq!(status.cluster_info.unwrap()["flink-version"], "1.20");
    assert!(
        status.task_manager.is_none(),
        "sessions have no taskManager"
    );
}

#[test]
fn an_application_records_its_first_deploy_as_stateless_and_runs_its_job() {
    let spec = application_spec();
    let (status, _) = walk(&spec, FlinkDeploymentStatus::default(), 1);
    let recorded: Value = serde_json::from_str(
        status
            .reconciliation_status
            .as_ref()
            .unwrap()
            .last_reconciled_spec
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(recorded["spec"]["job"]["upgradeMode"], "stateless");
    assert_eq!(recorded["spec"]["job"]["state"], "suspended");

    let (status, _) = walk(&spec, status, 6);
    assert_eq!(
        status.job_status.as_ref().unwrap().state.as_deref(),
        Some("RUNNING")
    );
    assert_eq!(status.lifecycle_state, Some(Lifecycle::Stable));
    assert_eq!(
        status.task_manager,
        Some(TaskManagerInfo {
            label_selector: Some("component=taskmanager,app=f".into()),
            replicas: Some(1),
        })
    );
    let condition = &status.conditions.as_ref().unwrap()[0];
    assert_eq!(
        (condition.status.as_deref(), condition.reason.as_deref()),
        (Some("True"), Some("Running"))
    );

    // Suspending goes through a savepoint into the savepoint directory.
    let mut suspended = spec.clone();
    suspended["job"]["state"] = json!("suspended");
    let (status, _) = walk(&suspended, status, 1);
    assert_eq!(status.lifecycle_state, Some(Lifecycle::Suspended));
    assert_eq!(status.job_manager_deployment_status, Some(Jm::Missing));
    let job = status.job_status.clone().unwrap();
    assert_eq!(job.state.as_deref(), Some("SUSPENDED"));
    assert!(
        job.upgrade_savepoint_path
            .unwrap()
            .starts_with("s3://flink/f/savepoints/savepoint-")
    );
}

#[test]
fn a_changed_spec_upgrades_and_an_invalid_one_keeps_the_last_running() {
    let (stable, _) = walk(&session_spec(), FlinkDeploymentStatus::default(), 5);
    assert_eq!(stable.lifecycle_state, Some(Lifecycle::Stable));

    let mut bigger = session_spec();
    bigger["taskManager"]["resource"]["memory"] = json!("4g");
    let upgraded = step(&seen(&bigger, 2), &stable, &OperatorConfig::default()).status;
    assert_eq!(upgraded.lifecycle_state, Some(Lifecycle::Upgrading));
    assert_eq!(upgraded.observed_generation, Some(2));

    let mut forbidden = session_spec();
    forbidden["flinkConfiguration"]["kubernetes.cluster-id"] = json!("mine");
    let kept = step(&seen(&forbidden, 3), &stable, &OperatorConfig::default());
    assert_eq!(
        kept.events,
        [(
            "Warning",
            "ValidationError",
            "Forbidden Flink config key: kubernetes.cluster-id".to_owned()
        )]
    );
    let error: Value = serde_json::from_str(kept.status.error.as_deref().unwrap()).unwrap();
    assert_eq!(
        error,
        json!({"type": "org.apache.flink.kubernetes.operator.exception.ValidationException",
               "message": "Forbidden Flink config key: kubernetes.cluster-id",
               "additionalMetadata": {}, "throwableList": []})
    );
    assert_eq!(kept.status.lifecycle_state, Some(Lifecycle::Stable));
    assert_eq!(
        kept.status.reconciliation_status,
        stable.reconciliation_status
    );
    assert_eq!(kept.status.observed_generation, Some(1));
    assert!(kept.deploy.is_none());
}

#[test]
fn an_invalid_new_deployment_fails_without_deploying_and_an_old_version_is_only_warned() {
    let mut nameless = session_spec();
    nameless.as_object_mut().unwrap().remove("serviceAccount");
    let failed = step(
        &seen(&nameless, 1),
        &FlinkDeploymentStatus::default(),
        &OperatorConfig::default(),
    );
    assert_eq!(failed.status.lifecycle_state, Some(Lifecycle::Failed));
    assert!(failed.status.reconciliation_status.is_none());
    assert!(failed.status.job_manager_deployment_status.is_none());

    let mut old = session_spec();
    old["flinkVersion"] = json!("v1_14");
    let warned = step(
        &seen(&old, 1),
        &FlinkDeploymentStatus::default(),
        &OperatorConfig::default(),
    );
    assert_eq!(warned.status, FlinkDeploymentStatus::default());
    assert_eq!(warned.events[0].1, "UnsupportedFlinkVersion");
}

#[test]
fn without_its_reconciliation_status_it_redeploys_forever() {
    let mut status = FlinkDeploymentStatus::default();
    for _ in 0..6 {
        status = step(
            &seen(&session_spec(), 1),
            &status,
            &OperatorConfig::default(),
        )
        .status;
        // A CRD that prunes reconciliationStatus drops what was written.
        status.reconciliation_status = None;
        assert_ne!(status.lifecycle_state, Some(Lifecycle::Stable));
    }
}

#[test]
fn the_failure_annotation_fails_with_its_message() {
    let (stable, _) = walk(&session_spec(), FlinkDeploymentStatus::default(), 5);
    let spec = session_spec();
    let failing = Seen {
        fail: Some("image pull failed"),
        ..seen(&spec, 1)
    };
    let next = step(&failing, &stable, &OperatorConfig::default()).status;
    assert_eq!(next.job_manager_deployment_status, Some(Jm::Error));
    assert_eq!(next.lifecycle_state, Some(Lifecycle::Failed));
    assert!(next.error.unwrap().contains("image pull failed"));
}
