use serde_json::{Value, json};

use super::exposition::*;
use super::*;

fn config(pairs: &[(&str, &str)]) -> OperatorConfig {
    OperatorConfig {
        values: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..OperatorConfig::default()
    }
}

#[test]
fn only_a_configured_prometheus_reporter_serves_and_on_its_port() {
    let factory = "kubernetes.operator.metrics.reporter.prom.factory.class";
    assert_eq!(prometheus_port(&config(&[])), None);
    let slf4j = "org.apache.flink.metrics.slf4j.Slf4jReporterFactory";
    assert_eq!(prometheus_port(&config(&[(factory, slf4j)])), None);
    assert_eq!(
        prometheus_port(&config(&[(factory, PROMETHEUS_FACTORY)])),
        Some(9249)
    );
    let port = "kubernetes.operator.metrics.reporter.prom.port";
    assert_eq!(
        prometheus_port(&config(&[(factory, PROMETHEUS_FACTORY), (port, "9999")])),
        Some(9999)
    );
    assert_eq!(
        prometheus_port(&config(&[
            (factory, PROMETHEUS_FACTORY),
            (port, "9250-9260")
        ])),
        Some(9250)
    );
    // Flink's own (unprefixed) reporter keys configure the clusters, not the operator.
    let flinks = "metrics.reporter.prom.factory.class";
    assert_eq!(
        prometheus_port(&config(&[(flinks, PROMETHEUS_FACTORY)])),
        None
    );
}

#[test]
fn label_values_keep_only_what_flinks_reporter_keeps() {
    assert_eq!(label_value("flink-main"), "flink_main");
    assert_eq!(label_value("a.b/c:d_e9"), "a_b_c:d_e9");
}

fn deployment(status: &str, lifecycle: &str) -> Value {
    json!({"status": {"jobManagerDeploymentStatus": status, "lifecycleState": lifecycle}})
}

#[test]
fn a_namespace_counts_its_deployments_by_status_and_lifecycle() {
    let identity = vec![("host", "op-0".to_owned())];
    let mut series = Series::new();
    let resources = [
        deployment("READY", "STABLE"),
        deployment("ERROR", "DEPLOYED"),
        json!({"spec": {}}),
    ];
    gauges(
        &config(&[]),
        "FlinkDeployment",
        "data-ns",
        &resources,
        &identity,
        &mut series,
    );
    let value = |name: &str| series[name][0].1;
    assert_eq!(value("flink_k8soperator_namespace_Count"), 3.0);
    let status = |s: &str| {
        value(&format!(
            "flink_k8soperator_namespace_JmDeploymentStatus_{s}_Count"
        ))
    };
    assert_eq!(
        JOB_MANAGER_STATUSES.map(status),
        // No status yet reads MISSING, as the status class's default.
        [1.0, 0.0, 0.0, 1.0, 1.0]
    );
    let lifecycle = |s: &str| {
        value(&format!(
            "flink_k8soperator_namespace_Lifecycle_State_{s}_Count"
        ))
    };
    assert_eq!(lifecycle("STABLE"), 1.0);
    assert_eq!(lifecycle("CREATED"), 1.0);
    assert_eq!(lifecycle("FAILED"), 0.0);
    let labels = &series["flink_k8soperator_namespace_Count"][0].0;
    assert!(
        labels.contains(&("resourcens", "data_ns".to_owned())),
        "{labels:?}"
    );
    assert!(labels.contains(&("resourcetype", "FlinkDeployment".to_owned())));
}

#[test]
fn session_jobs_have_no_job_manager_status_and_switched_off_groups_are_not_written() {
    let mut series = Series::new();
    let off = config(&[(
        "kubernetes.operator.resource.lifecycle.metrics.enabled",
        "false",
    )]);
    let jobs = [json!({"status": {"lifecycleState": "STABLE"}})];
    gauges(&off, "FlinkSessionJob", "data", &jobs, &[], &mut series);
    let names: Vec<&str> = series.keys().map(String::as_str).collect();
    assert_eq!(names, ["flink_k8soperator_namespace_Count"]);
}

#[test]
fn snapshots_count_by_kind_and_state_once_they_have_a_state() {
    let mut series = Series::new();
    let snapshots = [
        json!({"spec": {"savepoint": {}}, "status": {"state": "COMPLETED"}}),
        json!({"spec": {"savepoint": {}}, "status": {"state": "IN_PROGRESS"}}),
        json!({"spec": {"checkpoint": {}}, "status": {"state": "FAILED"}}),
        json!({"spec": {"savepoint": {}}}),
    ];
    gauges(
        &config(&[]),
        "FlinkStateSnapshot",
        "data",
        &snapshots,
        &[],
        &mut series,
    );
    let value = |name: &str| series[&format!("flink_k8soperator_namespace_{name}")][0].1;
    assert_eq!(value("Savepoint_Count"), 2.0);
    assert_eq!(value("Checkpoint_Count"), 1.0);
    assert_eq!(value("Savepoint_State_COMPLETED_Count"), 1.0);
    assert_eq!(value("Checkpoint_State_FAILED_Count"), 1.0);
    assert_eq!(value("Savepoint_State_ABANDONED_Count"), 0.0);
}

#[test]
fn the_text_is_prometheus_format_with_flinks_help() {
    let mut series = Series::new();
    let labels = vec![
        ("host", "op_0".to_owned()),
        ("resourcetype", "FlinkDeployment".to_owned()),
    ];
    push(
        &mut series,
        "flink_k8soperator_namespace_Count",
        &labels,
        2.0,
    );
    let text = render(&series);
    assert!(
        text.contains(
            "# HELP flink_k8soperator_namespace_Count Count (scope: k8soperator_namespace)"
        ),
        "{text}"
    );
    assert!(
        text.contains("# TYPE flink_k8soperator_namespace_Count gauge"),
        "{text}"
    );
    assert!(
        text.contains(
            "flink_k8soperator_namespace_Count{host=\"op_0\",resourcetype=\"FlinkDeployment\"} 2.0"
        ),
        "{text}"
    );
}
