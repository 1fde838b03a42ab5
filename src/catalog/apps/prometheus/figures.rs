//! The key figures an instance page charts from Prometheus, and which
//! Prometheus and which alerts belong to an instance.
//!
//! Every series Prometheus scrapes from a dataport pod carries the labels
//! [`configuration`](super::configuration) gives it: `namespace`, `instance`
//! (the dataport instance; for Flink's own pods the FlinkDeployment named by
//! their `app` label) and, on Flink's native pods, `flink_cluster` (that
//! FlinkDeployment), which the alerting rules (`alerts.rs`) keep. An
//! instance's figures and alerts are those with its namespace and its name
//! in `flink_cluster` (or, for other apps, `instance`).

use crate::catalog::Values;
use crate::catalog::apps::flink_operator::watched_namespaces;

/// How a figure's numbers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureUnit {
    /// A count (jobs, restarts).
    Count,
    /// Milliseconds.
    Milliseconds,
    /// Events per second.
    PerSecond,
}

/// One figure: a PromQL expression over a cluster's series, summed or
/// maximised to one series.
#[derive(Debug, Clone, Copy)]
pub struct KeyFigure {
    /// Stable key, e.g. `running_jobs` (JSON, test ids).
    pub key: &'static str,
    /// What the page calls it.
    pub label: &'static str,
    /// How its values read.
    pub unit: FigureUnit,
    /// The expression, `{selector}` standing for the instance's label
    /// matchers (inside a selector's braces: `metric{{selector}}`).
    expression: &'static str,
    /// The label naming the instance in its series: `flink_cluster` on
    /// Flink's pods, `instance` on others.
    instance_label: &'static str,
}

impl KeyFigure {
    /// The PromQL query for instance `name` in `namespace` (both DNS
    /// labels: nothing in them needs escaping in a PromQL string).
    pub fn query(&self, namespace: &str, name: &str) -> String {
        self.expression.replace(
            "{selector}",
            &format!(
                "namespace=\"{namespace}\",{}=\"{name}\"",
                self.instance_label
            ),
        )
    }
}

/// The figures of a Flink cluster, as Flink's Prometheus reporter names its
/// metrics: scope and name joined by `_`, prefixed `flink_` (apache/flink
/// release-1.20 `flink-metrics-prometheus`
/// `AbstractPrometheusReporter.getScopedName`; the metrics themselves in
/// docs/content/docs/ops/metrics.md: `numRunningJobs` of the JobManager,
/// `numRestarts` and `lastCheckpointDuration` of a job on the JobManager,
/// `numRecordsIn` of a task, a counter whose
/// per-second rate this takes).
pub const FLINK_FIGURES: &[KeyFigure] = &[
    KeyFigure {
        key: "running_jobs",
        label: "Running jobs",
        unit: FigureUnit::Count,
        expression: "sum(flink_jobmanager_numRunningJobs{{selector}})",
        instance_label: "flink_cluster",
    },
    KeyFigure {
        key: "restarts",
        label: "Job restarts",
        unit: FigureUnit::Count,
        expression: "sum(flink_jobmanager_job_numRestarts{{selector}})",
        instance_label: "flink_cluster",
    },
    KeyFigure {
        key: "checkpoint_duration",
        label: "Last checkpoint duration",
        unit: FigureUnit::Milliseconds,
        expression: "max(flink_jobmanager_job_lastCheckpointDuration{{selector}})",
        instance_label: "flink_cluster",
    },
    KeyFigure {
        key: "records_in",
        label: "Records in, all tasks",
        unit: FigureUnit::PerSecond,
        expression: "sum(rate(flink_taskmanager_job_task_numRecordsIn{{selector}}[1m]))",
        instance_label: "flink_cluster",
    },
];

/// The figures of a flink-kubernetes-operator, from the metrics its
/// release 1.15.0 exports through Flink's reporter (its
/// `FlinkDeploymentMetrics`, `FlinkSessionJobMetrics` and JOSDK's
/// reconciliation counter, named as `simulator::operator::metrics` lists
/// them), over every namespace it watches.
pub const OPERATOR_FIGURES: &[KeyFigure] = &[
    KeyFigure {
        key: "flink_deployments",
        label: "FlinkDeployments managed",
        unit: FigureUnit::Count,
        expression: "sum(flink_k8soperator_namespace_Count{{selector},resourcetype=\"FlinkDeployment\"})",
        instance_label: "instance",
    },
    KeyFigure {
        key: "flink_session_jobs",
        label: "FlinkSessionJobs managed",
        unit: FigureUnit::Count,
        expression: "sum(flink_k8soperator_namespace_Count{{selector},resourcetype=\"FlinkSessionJob\"})",
        instance_label: "instance",
    },
    KeyFigure {
        key: "job_managers_in_error",
        label: "JobManager deployments in ERROR",
        unit: FigureUnit::Count,
        expression: "sum(flink_k8soperator_namespace_JmDeploymentStatus_ERROR_Count{{selector}})",
        instance_label: "instance",
    },
    KeyFigure {
        key: "reconciliations",
        label: "Reconciliations",
        unit: FigureUnit::PerSecond,
        expression: "sum(rate(flink_k8soperator_namespace_resource_JOSDK_Reconciliation_Count{{selector}}[1m]))",
        instance_label: "instance",
    },
];

/// The key figures of an instance of `app`; empty for apps without any.
pub fn key_figures(app: &str) -> &'static [KeyFigure] {
    match app {
        "flink" | "flink-application" => FLINK_FIGURES,
        "flink-kubernetes-operator" => OPERATOR_FIGURES,
        _ => &[],
    }
}

/// Whether a Prometheus instance in `own_namespace` with `values` scrapes
/// the pods of `namespace` (its watched namespaces; none listed: its own).
pub fn watches(own_namespace: &str, values: &Values, namespace: &str) -> bool {
    watched_namespaces(own_namespace, values)
        .iter()
        .any(|watched| watched == namespace)
}

/// Whether an alert with `labels` is about instance `name` in `namespace`:
/// its `namespace` label, and its `flink_cluster` or `instance` label, name
/// them (names are unique in a namespace, so either says which).
pub fn is_about<'a>(
    labels: impl Iterator<Item = (&'a str, &'a str)>,
    namespace: &str,
    name: &str,
) -> bool {
    let (mut same_namespace, mut same_instance) = (false, false);
    for (key, value) in labels {
        match key {
            "namespace" => same_namespace = value == namespace,
            "flink_cluster" | "instance" if value == name => same_instance = true,
            _ => {}
        }
    }
    same_namespace && same_instance
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figures_query_selects_the_instance_by_namespace_and_name() {
        let running = &FLINK_FIGURES[0];
        assert_eq!(
            running.query("data", "analytics"),
            r#"sum(flink_jobmanager_numRunningJobs{namespace="data",flink_cluster="analytics"})"#
        );
        assert!(key_figures("minio").is_empty());
        let managed = &key_figures("flink-kubernetes-operator")[0];
        assert_eq!(
            managed.query("data", "flink-operator"),
            r#"sum(flink_k8soperator_namespace_Count{namespace="data",instance="flink-operator",resourcetype="FlinkDeployment"})"#
        );
        assert_eq!(key_figures("flink-application").len(), FLINK_FIGURES.len());
    }

    #[test]
    fn a_prometheus_watches_its_own_namespace_unless_told_others() {
        let none = Values::new();
        assert!(watches("monitoring", &none, "monitoring"));
        assert!(!watches("monitoring", &none, "data"));
        let listed = Values::from([("watchedNamespaces".into(), "data, analytics".into())]);
        assert!(watches("monitoring", &listed, "analytics"));
        assert!(!watches("monitoring", &listed, "monitoring"));
    }

    #[test]
    fn an_alert_belongs_to_the_instance_its_namespace_and_instance_labels_name() {
        let by_instance = [("namespace", "data"), ("instance", "analytics")];
        assert!(is_about(by_instance.into_iter(), "data", "analytics"));
        let labels = [
            ("alertname", "X"),
            ("namespace", "data"),
            ("flink_cluster", "analytics"),
        ];
        assert!(is_about(labels.into_iter(), "data", "analytics"));
        assert!(!is_about(labels.into_iter(), "other", "analytics"));
        assert!(!is_about(labels[..2].iter().copied(), "data", "analytics"));
    }
}
