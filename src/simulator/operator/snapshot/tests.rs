use serde_json::json;

use super::*;

fn snapshot(spec: Value) -> FlinkStateSnapshot {
    serde_json::from_value(json!({
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkStateSnapshot",
        "metadata": {"name": "etl-sp", "namespace": "data"},
        "spec": spec,
    }))
    .expect("a snapshot")
}

fn of_job() -> Value {
    json!({"jobReference": {"kind": "FlinkSessionJob", "name": "analytics-etl"}, "savepoint": {}})
}

#[test]
fn the_validator_wants_one_kind_a_reference_and_a_target_while_pending() {
    let both = snapshot(json!({"savepoint": {}, "checkpoint": {}}));
    assert_eq!(
        validate(&both, true, SnapshotState::TriggerPending).as_deref(),
        Some("Exactly one of checkpoint or savepoint configurations has to be set.")
    );
    let unreferenced = snapshot(json!({"savepoint": {"path": "s3://b/sp"}}));
    assert_eq!(
        validate(&unreferenced, false, SnapshotState::TriggerPending).as_deref(),
        Some("Job reference must be supplied for this snapshot")
    );
    let recorded = snapshot(json!({"savepoint": {"path": "s3://b/sp", "alreadyExists": true}}));
    assert_eq!(
        validate(&recorded, false, SnapshotState::TriggerPending),
        None
    );
    assert_eq!(
        validate(&snapshot(of_job()), false, SnapshotState::TriggerPending).as_deref(),
        Some("Target for snapshot data/analytics-etl was not found")
    );
    assert_eq!(
        validate(&snapshot(of_job()), false, SnapshotState::InProgress),
        None
    );
    assert_eq!(
        validate(&snapshot(of_job()), true, SnapshotState::TriggerPending),
        None
    );
}

#[test]
fn a_failure_is_final_under_the_default_backoff_limit_and_retried_within_a_larger_one() {
    let mut status = FlinkStateSnapshotStatus::default();
    assert_eq!(
        failed(&mut status, "e".into(), -1, "2026-01-01T00:00:00Z"),
        None
    );
    assert_eq!(status.state, Some(SnapshotState::Failed));
    assert_eq!(status.failures, Some(1));
    assert_eq!(
        status.result_timestamp.as_deref(),
        Some("2026-01-01T00:00:00Z")
    );

    let mut status = FlinkStateSnapshotStatus::default();
    assert_eq!(
        failed(&mut status, "e".into(), 2, "t"),
        Some(Duration::from_secs(10))
    );
    assert_eq!(status.state, Some(SnapshotState::TriggerPending));
    assert_eq!(
        failed(&mut status, "e".into(), 2, "t"),
        Some(Duration::from_secs(20))
    );
    assert_eq!(failed(&mut status, "e".into(), 2, "t"), None);
    assert_eq!(
        (status.state, status.failures),
        (Some(SnapshotState::Failed), Some(3))
    );
}

#[test]
fn the_error_names_the_wrapped_exception_as_the_operator_writes_it() {
    let error: Value = serde_json::from_str(&snapshot_error(
        Some("java.lang.IllegalArgumentException"),
        "no path",
    ))
    .unwrap();
    assert_eq!(
        error["type"],
        "org.apache.flink.kubernetes.operator.exception.ReconciliationException"
    );
    assert_eq!(
        error["message"],
        "java.lang.IllegalArgumentException: no path"
    );
    assert_eq!(error["throwableList"][0]["message"], "no path");
    let plain: Value = serde_json::from_str(&snapshot_error(None, "boom")).unwrap();
    assert_eq!(plain["message"], "boom");
    assert_eq!(plain["throwableList"], json!([]));
}

#[test]
fn labels_say_kind_trigger_state_and_job() {
    let labels = snapshot_labels(
        &snapshot(of_job()),
        SnapshotState::InProgress,
        Some(("FlinkSessionJob", "analytics-etl")),
    );
    assert_eq!(labels[TYPE_LABEL], "SAVEPOINT");
    assert_eq!(labels[TRIGGER_TYPE_LABEL], "MANUAL");
    assert_eq!(labels[STATE_LABEL], "IN_PROGRESS");
    assert_eq!(labels[JOB_KIND_LABEL], "FlinkSessionJob");
    assert_eq!(labels[JOB_NAME_LABEL], "analytics-etl");
    let mut upgrade = snapshot(of_job());
    upgrade.metadata.labels = Some([(TRIGGER_TYPE_LABEL.to_owned(), "UPGRADE".to_owned())].into());
    let labels = snapshot_labels(&upgrade, SnapshotState::Completed, None);
    assert_eq!(labels[TRIGGER_TYPE_LABEL], "UPGRADE");
    assert!(!labels.contains_key(JOB_NAME_LABEL));
}

#[test]
fn flink_durations_parse() {
    assert_eq!(parse_duration("15 s"), Some(Duration::from_secs(15)));
    assert_eq!(parse_duration("1 min"), Some(Duration::from_secs(60)));
    assert_eq!(parse_duration("500"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("soon"), None);
}

#[test]
fn a_retry_waits_for_its_backoff_after_the_failure() {
    let status = FlinkStateSnapshotStatus {
        state: Some(SnapshotState::TriggerPending),
        failures: Some(2),
        result_timestamp: Some("2026-01-01T00:00:00Z".into()),
        ..FlinkStateSnapshotStatus::default()
    };
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    assert_eq!(
        backoff_left(&status, at("2026-01-01T00:00:05Z")),
        Some(Duration::from_secs(15))
    );
    assert_eq!(backoff_left(&status, at("2026-01-01T00:00:21Z")), None);
    let first = FlinkStateSnapshotStatus {
        failures: Some(0),
        ..status
    };
    assert_eq!(backoff_left(&first, at("2026-01-01T00:00:05Z")), None);
}

fn deleted(spec: Value, status: Value) -> FlinkStateSnapshot {
    serde_json::from_value(json!({
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkStateSnapshot",
        "metadata": {"name": "etl-sp", "namespace": "data",
            "deletionTimestamp": "2026-12-01T06:00:00Z", "finalizers": [SNAPSHOT_FINALIZER]},
        "spec": spec,
        "status": status,
    }))
    .expect("a snapshot")
}

fn disposing() -> Value {
    json!({"jobReference": {"kind": "FlinkSessionJob", "name": "analytics-etl"},
        "savepoint": {"disposeOnDelete": true}})
}

#[test]
fn a_completed_savepoint_is_disposed_of_through_its_running_job() {
    let completed = json!({"state": "COMPLETED", "path": "s3://b/sp/savepoint-1"});
    let snapshot = deleted(disposing(), completed.clone());
    assert!(being_deleted(&snapshot));
    assert_eq!(
        cleanup(&snapshot, Some(true)),
        Cleanup::Dispose("s3://b/sp/savepoint-1".into())
    );
    // The job gone or stopped: held, with the operator's CleanupFailed words.
    assert_eq!(
        cleanup(&snapshot, None),
        Cleanup::Hold(Some(
            "Cannot dispose of snapshot because referenced Flink job cannot be found!".into()
        ))
    );
    assert_eq!(
        cleanup(&snapshot, Some(false)),
        Cleanup::Hold(Some(
            "Cannot dispose of snapshot because referenced Flink job is not running!".into()
        ))
    );
    // No path recorded: nothing to dispose of.
    let no_path = deleted(disposing(), json!({"state": "COMPLETED"}));
    assert_eq!(cleanup(&no_path, Some(true)), Cleanup::Release);
    // disposeOnDelete is true unless said otherwise (the API's default).
    let unsaid = deleted(
        json!({"jobReference": {"kind": "FlinkSessionJob", "name": "analytics-etl"}, "savepoint": {}}),
        completed.clone(),
    );
    assert!(matches!(cleanup(&unsaid, Some(true)), Cleanup::Dispose(_)));
    let kept = deleted(
        json!({"jobReference": {"kind": "FlinkSessionJob", "name": "analytics-etl"},
            "savepoint": {"disposeOnDelete": false}}),
        completed,
    );
    assert_eq!(cleanup(&kept, None), Cleanup::Release);
}

#[test]
fn only_an_in_progress_savepoint_waits_and_checkpoints_are_never_disposed_of() {
    let in_progress = deleted(
        disposing(),
        json!({"state": "IN_PROGRESS", "triggerId": "t"}),
    );
    assert_eq!(cleanup(&in_progress, Some(true)), Cleanup::Hold(None));
    for state in ["FAILED", "ABANDONED", "TRIGGER_PENDING"] {
        let snapshot = deleted(disposing(), json!({"state": state, "path": "s3://b/x"}));
        assert_eq!(cleanup(&snapshot, None), Cleanup::Release, "{state}");
    }
    let checkpoint = deleted(
        json!({"jobReference": {"kind": "FlinkSessionJob", "name": "analytics-etl"},
            "checkpoint": {}}),
        json!({"state": "COMPLETED", "path": "s3://b/cp/chk-1"}),
    );
    assert_eq!(cleanup(&checkpoint, Some(true)), Cleanup::Release);
    let unreferenced = deleted(
        json!({"savepoint": {"disposeOnDelete": true, "path": "s3://b/sp", "alreadyExists": true}}),
        json!({"state": "COMPLETED", "path": "s3://b/sp"}),
    );
    assert_eq!(cleanup(&unreferenced, None), Cleanup::Release);
    let alive = snapshot(disposing());
    assert!(!being_deleted(&alive));
}
