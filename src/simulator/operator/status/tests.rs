use serde_json::json;

use super::*;

fn recorded(spec: &Value, state: ReconciliationState, stable: bool) -> ReconciliationStatus {
    let text = spec_with_meta(spec, true);
    ReconciliationStatus {
        reconciliation_timestamp: Some(1),
        last_stable_spec: stable.then(|| text.clone()),
        last_reconciled_spec: Some(text),
        state: Some(state),
    }
}

#[test]
fn the_reconciled_spec_is_wrapped_with_its_metadata_and_reads_back() {
    let spec = json!({"flinkVersion": "v1_20", "job": {"state": "running"}});
    let text = spec_with_meta(&spec, true);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value["resource_metadata"],
        json!({"apiVersion": "flink.apache.org/v1beta1", "firstDeployment": true})
    );
    assert_eq!(read_spec(&text), Some(spec.clone()));
    // The older format: the plain spec with an apiVersion.
    let old = json!({"flinkVersion": "v1_20", "job": {"state": "running"}, "apiVersion": "flink.apache.org/v1beta1"});
    assert_eq!(read_spec(&old.to_string()), Some(spec));
}

#[test]
fn a_first_deployment_records_a_stateless_or_savepoint_upgrade_mode() {
    let spec = json!({"job": {"upgradeMode": "last-state"}});
    assert_eq!(
        first_deployment_spec(&spec)["job"]["upgradeMode"],
        "stateless"
    );
    let restored =
        json!({"job": {"upgradeMode": "last-state", "initialSavepointPath": "s3://x/sp"}});
    assert_eq!(
        first_deployment_spec(&restored)["job"]["upgradeMode"],
        "savepoint"
    );
    assert!(same_deployment(&spec, &first_deployment_spec(&spec)));
    assert!(!same_deployment(&spec, &json!({"job": {"parallelism": 2}})));
}

#[test]
fn the_lifecycle_is_derived_from_the_status() {
    let session = json!({"flinkVersion": "v1_20"});
    let app = json!({"flinkVersion": "v1_20", "job": {"state": "running"}});
    let derive = |reconciliation: Option<&ReconciliationStatus>, error, job_state, jm| {
        lifecycle(LifecycleInputs {
            reconciliation,
            error,
            job_state,
            job_manager: jm,
        })
    };
    assert_eq!(derive(None, None, None, None), Lifecycle::Created);
    assert_eq!(derive(None, Some("bad"), None, None), Lifecycle::Failed);
    let upgrading = recorded(&session, ReconciliationState::Upgrading, false);
    assert_eq!(
        derive(Some(&upgrading), None, None, None),
        Lifecycle::Upgrading
    );
    let deployed = recorded(&session, ReconciliationState::Deployed, false);
    assert_eq!(
        derive(Some(&deployed), None, None, Some(Jm::Deploying)),
        Lifecycle::Deployed
    );
    let stable = recorded(&session, ReconciliationState::Deployed, true);
    assert_eq!(
        derive(Some(&stable), Some("validation"), None, Some(Jm::Ready)),
        Lifecycle::Stable,
        "a rejected spec leaves the last one stable"
    );
    let suspended = recorded(
        &with_job_state(&app, "suspended"),
        ReconciliationState::Deployed,
        false,
    );
    assert_eq!(
        derive(Some(&suspended), None, None, None),
        Lifecycle::Suspended
    );
    let running = recorded(&app, ReconciliationState::Deployed, true);
    assert_eq!(
        derive(Some(&running), None, Some("FAILED"), Some(Jm::Ready)),
        Lifecycle::Failed
    );
    assert_eq!(
        derive(
            Some(&running),
            Some("HA metadata is not available to restore from the last state."),
            None,
            Some(Jm::Missing)
        ),
        Lifecycle::Failed
    );
}

#[test]
fn the_running_condition_follows_the_job_or_the_job_manager() {
    let app = running_condition(true, Some("RUNNING"), Some(Jm::Ready), None, "t1");
    assert_eq!(
        (
            app.status.as_deref(),
            app.reason.as_deref(),
            app.message.as_deref()
        ),
        (Some("True"), Some("Running"), Some("Job status RUNNING"))
    );
    let session = running_condition(false, None, Some(Jm::DeployedNotReady), None, "t1");
    assert_eq!(
        (session.status.as_deref(), session.reason.as_deref()),
        (Some("False"), Some("DeployedNotReady"))
    );
    let kept = running_condition(
        false,
        None,
        Some(Jm::Deploying),
        Some(std::slice::from_ref(&session)),
        "t2",
    );
    assert_eq!(kept.last_transition_time.as_deref(), Some("t1"));
    let changed = running_condition(
        false,
        None,
        Some(Jm::Ready),
        Some(std::slice::from_ref(&session)),
        "t2",
    );
    assert_eq!(changed.last_transition_time.as_deref(), Some("t2"));
}

#[test]
fn task_managers_follow_parallelism_and_slots() {
    let two_slots = BTreeMap::from([("taskmanager.numberOfTaskSlots".to_owned(), "2".to_owned())]);
    assert_eq!(
        task_managers(&json!({"job": {"parallelism": 3}}), &two_slots),
        2
    );
    assert_eq!(
        task_managers(
            &json!({"taskManager": {"replicas": 4}, "job": {"parallelism": 1}}),
            &two_slots
        ),
        4
    );
    let info = cluster_info(
        &json!({"flinkVersion": "v1_20", "jobManager": {"resource": {"cpu": 1.0, "memory": "1g"}}, "taskManager": {"resource": {"cpu": 0.5, "memory": "2g"}}}),
        &two_slots,
        2,
    );
    assert_eq!(info["flink-version"], "1.20");
    assert_eq!(info["total-cpu"], "2.0");
    assert_eq!(info["total-memory"], (5u64 << 30).to_string());
}

#[test]
fn the_operators_own_options_change_without_a_redeploy() {
    let with = |configuration: Value| json!({"job": {"parallelism": 1}, "flinkConfiguration": configuration});
    assert!(same_deployment(
        &with(json!({"kubernetes.operator.periodic.savepoint.interval": "30 s"})),
        &json!({"job": {"parallelism": 1}})
    ));
    assert!(same_deployment(
        &with(json!({"kubernetes.operator.savepoint.history.max.count": "2", "a": "1"})),
        &with(json!({"a": "1"}))
    ));
    assert!(!same_deployment(
        &with(json!({"taskmanager.numberOfTaskSlots": "2"})),
        &with(json!({"taskmanager.numberOfTaskSlots": "4"}))
    ));
}
