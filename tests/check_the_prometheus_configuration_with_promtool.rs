//! Prometheus's own checker, `promtool check config`, accepts the scrape
//! configuration dataport renders for its Prometheus app (its own namespace,
//! and a list of watched namespaces) with the alerting rules it names, and
//! refuses it once broken: the check is Prometheus's, not a look at the
//! text. `promtool check rules` accepts the rules, and `promtool test rules`
//! runs them over made-up Flink series: the alerts fire when and only when
//! they should, with the labels the portal reads.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::render::INSTANCE_ID;
use dataport::catalog::{
    self,
    render::{RenderInput, Target},
};

/// The files of the prometheus app's ConfigMap (`prometheus.yml`,
/// `alerts.yml`) rendered from `form` (as instance `prometheus-main` in
/// `data`; its Roles may be elsewhere, so the render is the catalog's own,
/// without the one-namespace rule of `common::render`).
fn rendered_files(form: &[(&str, &str)]) -> BTreeMap<String, String> {
    rendered_config_map(form, "prometheus-main-config")
}

/// The files of ConfigMap `config_map` rendered from `form`, as [`rendered_files`].
fn rendered_config_map(form: &[(&str, &str)], config_map: &str) -> BTreeMap<String, String> {
    let definition = catalog::find("prometheus").expect("the prometheus app");
    let raw: BTreeMap<String, String> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let values = definition
        .validate(definition.default_version(), &raw)
        .expect("a valid form");
    let input = RenderInput {
        target: Target {
            id: INSTANCE_ID,
            app: definition.name,
            name: "prometheus-main".into(),
            namespace: "data".into(),
            version: definition.default_version().into(),
        },
        values,
        references: BTreeMap::new(),
    };
    let objects = (definition.render)(&input).expect("rendered");
    let config = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == config_map)
        .expect("the configuration's ConfigMap");
    serde_json::from_value(config["data"].clone()).expect("the ConfigMap's files")
}

/// The `prometheus.yml` rendered from `form`.
fn rendered_configuration(form: &[(&str, &str)]) -> String {
    rendered_files(form)["prometheus.yml"].clone()
}

/// `promtool check config` of `text`, with the rendered alerting rules next
/// to it: whether it passed, and what it said.
fn check(promtool: &Path, text: &str) -> (bool, String) {
    let mut files = rendered_files(&[]);
    files.insert("prometheus.yml".into(), text.into());
    promtool_on(promtool, &files, &["check", "config", "prometheus.yml"])
}

/// Runs `promtool args` in a folder holding `files` (name, content):
/// whether it passed, and what it said.
fn promtool_on(promtool: &Path, files: &BTreeMap<String, String>, args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temporary folder");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write a file");
    }
    let output = Command::new(promtool)
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("run promtool");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn promtool_accepts_the_rendered_scrape_configuration() {
    let promtool = common::prometheus::built().join("promtool");
    for form in [vec![], vec![("watchedNamespaces", "data, analytics")]] {
        let text = rendered_configuration(&form);
        let (passed, said) = check(&promtool, &text);
        assert!(passed, "promtool refused {form:?}:\n{said}\n{text}");
        assert!(said.contains("SUCCESS"), "{said}");
        // It found and checked the rules file the configuration names.
        assert!(said.contains("SUCCESS: 12 rules found"), "{said}");
    }
}

#[test]
fn promtool_accepts_the_rendered_alerting_rules() {
    let promtool = common::prometheus::built().join("promtool");
    let files = rendered_files(&[]);
    let (passed, said) = promtool_on(&promtool, &files, &["check", "rules", "alerts.yml"]);
    assert!(
        passed,
        "promtool refused the rules:\n{said}\n{}",
        files["alerts.yml"]
    );
    assert!(said.contains("SUCCESS: 12 rules found"), "{said}");
    // And refuses them once broken: a rule whose query does not parse.
    let mut broken = files.clone();
    let text = files["alerts.yml"].replace("increase(", "increase((");
    assert_ne!(text, files["alerts.yml"]);
    broken.insert("alerts.yml".into(), text);
    let (passed, said) = promtool_on(&promtool, &broken, &["check", "rules", "alerts.yml"]);
    assert!(!passed, "promtool accepted a broken query:\n{said}");
}

/// `promtool test rules` over series as Flink's reporter names and labels
/// them (after the scrape's relabelling): a job of cluster `analytics` in
/// `data` restarting every minute from minute 5, a job whose checkpoints are
/// triggered but stop completing, a cluster losing one of its two
/// TaskManagers, and a job that goes away; and an operator `flink-operator`
/// in `data` that stops answering, fails on a FlinkDeployment of
/// namespace `analytics-ns` (`analytics_ns` in its labels), counts a failed
/// session job there and a JobManager deployment in ERROR.
const UNIT_TESTS: &str = r#"
rule_files: [alerts.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'flink_jobmanager_job_numRestarts{namespace="data", flink_cluster="analytics", pod="analytics-6d9f-x", job_name="counting", job_id="a1"}'
        values: '0x4 1 2 3 4 5 6 7 8 9 10 stale'
      - series: 'flink_jobmanager_job_uptime{namespace="data", flink_cluster="analytics", pod="analytics-6d9f-x", job_name="counting", job_id="a1"}'
        values: '60000+60000x15 stale'
    alert_rule_test:
      - eval_time: 5m
        alertname: FlinkJobRestarting
        exp_alerts: []
      - eval_time: 10m
        alertname: FlinkJobRestarting
        exp_alerts:
          - exp_labels: {severity: warning, namespace: data, flink_cluster: analytics, job_name: counting, job_id: a1}
            exp_annotations:
              summary: 'Flink job counting on analytics restarted 6 times in 10 minutes'
              description: 'The job keeps failing and restarting (a crash loop): look at its exceptions in the Flink WebUI or the TaskManagers'' logs.'
      # Gone: the restarts alert clears with the job; the job is missed.
      - eval_time: 16m
        alertname: FlinkJobRestarting
        exp_alerts: []
      - eval_time: 17m
        alertname: FlinkJobGone
        exp_alerts:
          - exp_labels: {severity: warning, namespace: data, flink_cluster: analytics, job_name: counting}
            exp_annotations:
              summary: 'Flink job counting on analytics is gone'
              description: 'A job that ran on this cluster in the last 10 minutes is no longer there: it failed for good, was cancelled or suspended, or finished. If it was not stopped on purpose, look at its last exceptions in the Flink WebUI.'
      - eval_time: 28m
        alertname: FlinkJobGone
        exp_alerts: []
  - interval: 1m
    input_series:
      - series: 'flink_jobmanager_job_totalNumberOfCheckpoints{namespace="data", flink_cluster="analytics", pod="p", job_name="counting", job_id="b2"}'
        values: '0+1x80'
      - series: 'flink_jobmanager_job_numberOfCompletedCheckpoints{namespace="data", flink_cluster="analytics", pod="p", job_name="counting", job_id="b2"}'
        values: '0+1x40 40x40'
    alert_rule_test:
      - eval_time: 40m
        alertname: FlinkCheckpointTooOld
        exp_alerts: []
      - eval_time: 75m
        alertname: FlinkCheckpointTooOld
        exp_alerts:
          - exp_labels: {severity: critical, namespace: data, flink_cluster: analytics, job_name: counting, job_id: b2}
            exp_annotations:
              summary: 'Flink job counting on analytics: no checkpoint completed in 30 minutes'
              description: 'Checkpoints are triggered but none completed for 30 minutes, so a restart would lose that much progress. Look at the checkpoint history (failures, timeouts, back pressure slowing the barriers).'
  - interval: 1m
    input_series:
      - series: 'flink_jobmanager_numRegisteredTaskManagers{namespace="data", flink_cluster="analytics", pod="p"}'
        values: '2x10 1x20'
    alert_rule_test:
      - eval_time: 11m
        alertname: FlinkTaskManagersLost
        exp_alerts: []
      - eval_time: 14m
        alertname: FlinkTaskManagersLost
        exp_alerts:
          - exp_labels: {severity: warning, namespace: data, flink_cluster: analytics}
            exp_annotations:
              summary: 'Flink cluster analytics in data lost 1 TaskManagers'
              description: 'Fewer TaskManagers are registered than in the last 10 minutes, for 2 minutes: jobs may lack task slots. Look at the TaskManager pods (evicted, out of memory, not scheduled). A cluster scaled down on purpose shows here too.'
  - interval: 1m
    input_series:
      - series: 'up{namespace="data", instance="flink-operator", component="flink-kubernetes-operator", pod="flink-operator-7c9-x"}'
        values: '1x5 0x6'
      - series: 'flink_k8soperator_namespace_resource_JOSDK_Reconciliation_failed_Count{namespace="data", instance="flink-operator", pod="p", resourcens="analytics_ns", resourcetype="FlinkDeployment", resourcename="analytics"}'
        values: '0x5 1 2 3 4 5 6x12'
      - series: 'flink_k8soperator_namespace_Lifecycle_State_FAILED_Count{namespace="data", instance="flink-operator", pod="p", resourcens="analytics_ns", resourcetype="FlinkSessionJob"}'
        values: '0x5 1x5'
      - series: 'flink_k8soperator_namespace_JmDeploymentStatus_ERROR_Count{namespace="data", instance="flink-operator", pod="p", resourcens="analytics_ns", resourcetype="FlinkDeployment"}'
        values: '0x2 1x10'
    alert_rule_test:
      - eval_time: 5m
        alertname: FlinkOperatorDown
        exp_alerts: []
      - eval_time: 9m
        alertname: FlinkOperatorDown
        exp_alerts:
          - exp_labels: {severity: critical, namespace: data, instance: flink-operator}
            exp_annotations:
              summary: 'Flink operator flink-operator in data does not answer'
              description: 'Prometheus has not reached the operator''s metrics port for 2 minutes: nothing deploys, upgrades or savepoints the Flink resources it watches. Look at the operator pod''s state and log.'
      - eval_time: 5m
        alertname: FlinkOperatorReconcileFailing
        exp_alerts: []
      - eval_time: 9m
        alertname: FlinkOperatorReconcileFailing
        exp_alerts:
          - exp_labels: {severity: warning, namespace: data, instance: flink-operator, resourcens: analytics_ns, resourcetype: FlinkDeployment, resourcename: analytics}
            exp_annotations:
              summary: 'Flink operator flink-operator keeps failing on FlinkDeployment analytics in analytics_ns'
              description: 'Its reconciliations of this resource failed more than twice in 10 minutes and are retried. Look at the resource''s events and the operator''s log.'
      - eval_time: 22m
        alertname: FlinkOperatorReconcileFailing
        exp_alerts: []
      - eval_time: 3m
        alertname: FlinkResourceFailed
        exp_alerts: []
      - eval_time: 7m
        alertname: FlinkResourceFailed
        exp_alerts:
          - exp_labels: {severity: critical, namespace: data, instance: flink-operator, resourcens: analytics_ns, resourcetype: FlinkSessionJob}
            exp_annotations:
              summary: 'analytics_ns: 1 FlinkSessionJob(s) failed'
              description: 'A Flink resource''s job failed terminally (lifecycle state FAILED). Look at the resource''s status error and its job''s exceptions, then upgrade or resume it.'
      - eval_time: 6m
        alertname: FlinkJobManagerDeploymentError
        exp_alerts: []
      - eval_time: 9m
        alertname: FlinkJobManagerDeploymentError
        exp_alerts:
          - exp_labels: {severity: critical, namespace: data, instance: flink-operator, resourcens: analytics_ns}
            exp_annotations:
              summary: 'analytics_ns: 1 Flink cluster(s) cannot start their JobManager'
              description: 'A FlinkDeployment''s JobManager deployment has been in ERROR for 5 minutes (an image that cannot be pulled, resources that cannot be scheduled, a crash at start). Look at the FlinkDeployment''s status error and the JobManager pod.'
"#;

#[test]
fn promtools_unit_tests_see_the_alerts_fire_and_clear() {
    let promtool = common::prometheus::built().join("promtool");
    let mut files = rendered_files(&[]);
    files.insert("alerts_test.yml".into(), UNIT_TESTS.into());
    let (passed, said) = promtool_on(&promtool, &files, &["test", "rules", "alerts_test.yml"]);
    assert!(passed, "{said}");
    assert!(said.contains("SUCCESS"), "{said}");
}

/// The cluster's Prometheus configured by hand: its own configuration
/// naming dataport's files (`scrape_config_files`, `rule_files`) passes
/// `promtool check config`, which reads both.
#[test]
fn promtool_accepts_the_files_a_prometheus_configured_by_hand_includes() {
    let promtool = common::prometheus::built().join("promtool");
    let mut files = rendered_config_map(
        &[
            ("server", "existing"),
            ("configuredBy", "file"),
            ("watchedNamespaces", "analytics, data"),
        ],
        "prometheus-main-scrape-config",
    );
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["alerts.yml", "dataport-scrape.yml"]
    );
    let own = "global:\n  scrape_interval: 30s\nscrape_config_files: [dataport-scrape.yml]\nrule_files: [alerts.yml]\n";
    files.insert("prometheus.yml".into(), own.into());
    let (passed, said) = promtool_on(&promtool, &files, &["check", "config", "prometheus.yml"]);
    assert!(passed, "{said}");
    assert!(said.contains("SUCCESS: 12 rules found"), "{said}");
    // It reads the scrape file: a broken one fails the check.
    files.insert(
        "dataport-scrape.yml".into(),
        files["dataport-scrape.yml"].replace("role: pod", "role: pods"),
    );
    let (passed, said) = promtool_on(&promtool, &files, &["check", "config", "prometheus.yml"]);
    assert!(!passed, "promtool accepted a pods role:\n{said}");
}

#[test]
fn promtool_refuses_the_configuration_once_broken() {
    let promtool = common::prometheus::built().join("promtool");
    let text = rendered_configuration(&[]);
    // A role kubernetes_sd_configs does not have.
    let broken = text.replace("role: pod", "role: pods");
    assert_ne!(broken, text);
    let (passed, said) = check(&promtool, &broken);
    assert!(!passed, "promtool accepted a pods role:\n{said}");
}
