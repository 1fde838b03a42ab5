//! The alerting rules Prometheus evaluates (`alerts.yml`, next to
//! `prometheus.yml` in its ConfigMap): what breaks a streaming job, read
//! from the metrics Flink's Prometheus reporter exports.
//!
//! Metric names as Flink 1.20.0 and 2.0.0 register them (both releases'
//! `flink-runtime`: `MetricNames`, `UpTimeGauge`, `DefaultCheckpointStatsTracker`,
//! `MetricUtils`), flattened by the reporter to `flink_<scope>_<name>`
//! (flink-metrics-prometheus `AbstractPrometheusReporter`). The real run in
//! `tests/monitor_a_flink_session_with_prometheus.rs` reads them from a
//! live Flink 1.20 session.
//!
//! Every alert carries, for a reader of Prometheus's `/api/v1/alerts` (the
//! portal's instance page), stable labels:
//!
//! | label | value |
//! |---|---|
//! | `alertname` | one of the rules of [`alerting_rules`]: `FlinkJobManagerDown`, `FlinkJobNotRunning`, `FlinkJobGone`, `FlinkJobRestarting`, `FlinkCheckpointsFailing`, `FlinkCheckpointTooOld`, `FlinkTaskManagersLost`, `FlinkBackPressureHigh`; of the operator: `FlinkOperatorDown`, `FlinkOperatorReconcileFailing`, `FlinkResourceFailed`, `FlinkJobManagerDeploymentError` |
//! | `severity` | `critical` (data is not flowing) or `warning` (degraded) |
//! | `namespace` | the Flink cluster's namespace |
//! | `flink_cluster` | the FlinkDeployment's name (Flink's pod label `app`), the dataport instance's name |
//! | `job_name`, `job_id` | the Flink job (job alerts; `FlinkJobGone` has `job_name` only); Flink's reporter writes `_` for every character of a name outside `[a-zA-Z0-9_:]` (its `filterLabelValueCharacters`, on by default: job `dataport-test-job` is `dataport_test_job`) |
//! | `task_name` | the task (`FlinkBackPressureHigh` only) |
//!
//! and the annotations `summary` (one line) and `description` (what it
//! means and where to look).
//!
//! A second group alerts on the flink-kubernetes-operator, from its own
//! metrics as release-1.15.0 exports them through the same reporter
//! (`flink_k8soperator_…`, listed in `simulator::operator::metrics`, whose
//! stand-in serves them on the local cluster) and its target's `up`. Those
//! alerts carry the operator's `namespace` and `instance` (its dataport
//! instance), so they show on the operator's page, and `resourcens` (the
//! namespace of the Flink resources concerned, written as Flink's reporter
//! writes label values: `-` becomes `_`).

use serde_json::{Value, json};

use crate::catalog::render::RenderError;

/// The rules file's name in the ConfigMap, next to `prometheus.yml` (which
/// names it relatively, so it is found wherever both are put).
pub(super) const RULES_FILE: &str = "alerts.yml";

/// The labels a job alert keeps.
const JOB: &str = "namespace, flink_cluster, job_name, job_id";

/// One alerting rule.
fn alert(
    name: &str,
    expr: String,
    hold: &str,
    severity: &str,
    summary: &str,
    description: &str,
) -> Value {
    let mut rule = json!({
        "alert": name,
        "expr": expr,
        "labels": {"severity": severity},
        "annotations": {"summary": summary, "description": description},
    });
    if hold != "0s" {
        rule["for"] = json!(hold);
    }
    rule
}

/// The rules, with why each threshold is what it is:
///
/// - **FlinkJobManagerDown** (critical): a Flink cluster's JobManager
///   target has failed its scrapes for 2 minutes (`up == 0`). Its pod runs
///   but does not answer, so nothing else about the cluster can be seen. Two
///   minutes ride out a slow scrape or a JVM pause.
/// - **FlinkJobNotRunning** (critical): a job the JobManager holds has not
///   been RUNNING for 5 minutes (`flink_jobmanager_job_uptime` is 0 in
///   every state but RUNNING and the terminal ones): waiting for slots,
///   restarting, initializing. Five minutes cover a restart with a state
///   restore of a usual size.
/// - **FlinkJobGone** (warning): a job (by name) a cluster ran in the last
///   10 minutes no longer shows: it failed for good, was cancelled or
///   suspended, or finished. Flink's metrics do not tell these apart, so a
///   job stopped on purpose shows here too for 10 minutes; a job
///   resubmitted under the same name (an upgrade) does not.
/// - **FlinkJobRestarting** (warning): more than 2 restarts in 10 minutes
///   (`increase(flink_jobmanager_job_numRestarts[10m])`), of a job still
///   there. One restart (a lost TaskManager, a failed checkpoint) is Flink
///   doing its job; three in ten minutes is a crash loop (Flink's default
///   exponential-delay strategy waits 1 s, then 1.5 times longer up to a
///   minute, so a loop reaches three within a minute). It clears as soon as
///   the job is gone or 10 minutes pass without a restart.
/// - **FlinkCheckpointsFailing** (warning): a checkpoint failed in the last
///   15 minutes (`numberOfFailedCheckpoints` rose). Flink tolerates no
///   failed checkpoint by default
///   (`execution.checkpointing.tolerable-failed-checkpoints` 0), so the job
///   has restarted or will, from an older checkpoint.
/// - **FlinkCheckpointTooOld** (critical): for 30 minutes checkpoints were
///   triggered (`totalNumberOfCheckpoints` rose) but none completed
///   (`numberOfCompletedCheckpoints` did not), in a job older than that: a
///   restart would go back further and further. Flink exports no timestamp
///   of the last completed checkpoint (1.20, 2.0), hence the counters; right
///   for checkpoint intervals up to 15 minutes (dataport's default is 60 s).
/// - **FlinkTaskManagersLost** (warning): a cluster has had fewer
///   registered TaskManagers than its highest count of the last 10 minutes,
///   for 2 minutes: a replaced TaskManager registers within about a minute.
///   A cluster scaled down on purpose, or a session releasing idle
///   TaskManagers, shows here for up to 10 minutes.
/// - **FlinkBackPressureHigh** (warning): a task was back-pressured more
///   than half of the time (`backPressuredTimeMsPerSecond` above 500,
///   averaged over 5 minutes) for 10 minutes: the job falls behind its
///   input. Short peaks (a checkpoint, a burst) do not count.
///
/// And of the operator ([`operator_rules`]):
///
/// - **FlinkOperatorDown** (critical): the operator's metrics target (its
///   pod's `metrics` port; `component` is `flink-kubernetes-operator`, its
///   `app.kubernetes.io/name`) has failed its scrapes for 2 minutes: nothing
///   deploys, upgrades or savepoints the Flink resources it watches.
/// - **FlinkOperatorReconcileFailing** (warning): more than 2 failed
///   reconciliations of one resource in 10 minutes (JOSDK's
///   `Reconciliation.failed` counter): the operator keeps failing on it and
///   retrying. One failure retried (a conflicting write) is routine.
/// - **FlinkResourceFailed** (critical): a FlinkDeployment or
///   FlinkSessionJob is in lifecycle state FAILED (its job failed
///   terminally) in a namespace.
/// - **FlinkJobManagerDeploymentError** (critical): a FlinkDeployment's
///   JobManager deployment status has been ERROR for 5 minutes (it cannot
///   start: image, resources, configuration).
pub(super) fn alerting_rules() -> Result<String, RenderError> {
    let file = json!({"groups": rule_groups()});
    let text = serde_yaml_ng::to_string(&file).map_err(|e| RenderError::Encode {
        kind: "ConfigMap",
        message: e.to_string(),
    })?;
    Ok(format!(
        "# Written by dataport: alerts on what breaks Flink's streaming jobs and their operator.\n{text}"
    ))
}

/// The labels an operator alert about a namespace's resources keeps.
const OPERATOR: &str = "namespace, instance, resourcens";

/// The operator's rules (see [`alerting_rules`]).
fn operator_rules() -> Vec<Value> {
    vec![
        alert(
            "FlinkOperatorDown",
            "max by (namespace, instance) (up{component=\"flink-kubernetes-operator\"}) == 0"
                .into(),
            "2m",
            "critical",
            "Flink operator {{ $labels.instance }} in {{ $labels.namespace }} does not answer",
            "Prometheus has not reached the operator's metrics port for 2 minutes: nothing \
             deploys, upgrades or savepoints the Flink resources it watches. Look at the \
             operator pod's state and log.",
        ),
        alert(
            "FlinkOperatorReconcileFailing",
            format!(
                "max by ({OPERATOR}, resourcetype, resourcename) \
                 (increase(flink_k8soperator_namespace_resource_JOSDK_Reconciliation_failed_Count[10m])) > 2"
            ),
            "0s",
            "warning",
            "Flink operator {{ $labels.instance }} keeps failing on {{ $labels.resourcetype }} {{ $labels.resourcename }} in {{ $labels.resourcens }}",
            "Its reconciliations of this resource failed more than twice in 10 minutes and \
             are retried. Look at the resource's events and the operator's log.",
        ),
        alert(
            "FlinkResourceFailed",
            format!(
                "max by ({OPERATOR}, resourcetype) \
                 (flink_k8soperator_namespace_Lifecycle_State_FAILED_Count) > 0"
            ),
            "0s",
            "critical",
            "{{ $labels.resourcens }}: {{ $value | printf \"%.0f\" }} {{ $labels.resourcetype }}(s) failed",
            "A Flink resource's job failed terminally (lifecycle state FAILED). Look at the \
             resource's status error and its job's exceptions, then upgrade or resume it.",
        ),
        alert(
            "FlinkJobManagerDeploymentError",
            format!(
                "max by ({OPERATOR}) \
                 (flink_k8soperator_namespace_JmDeploymentStatus_ERROR_Count) > 0"
            ),
            "5m",
            "critical",
            "{{ $labels.resourcens }}: {{ $value | printf \"%.0f\" }} Flink cluster(s) cannot start their JobManager",
            "A FlinkDeployment's JobManager deployment has been in ERROR for 5 minutes \
             (an image that cannot be pulled, resources that cannot be scheduled, a crash at \
             start). Look at the FlinkDeployment's status error and the JobManager pod.",
        ),
    ]
}

/// The rule groups of [`alerting_rules`]: `dataport-flink` and
/// `dataport-flink-operator`, as a rules file's `groups`.
pub(super) fn rule_groups() -> Value {
    let rules = vec![
        alert(
            "FlinkJobManagerDown",
            "max by (namespace, flink_cluster) (up{component=\"jobmanager\", flink_cluster!=\"\"}) == 0"
                .into(),
            "2m",
            "critical",
            "Flink cluster {{ $labels.flink_cluster }} in {{ $labels.namespace }}: its JobManager does not answer",
            "Prometheus has not reached the JobManager's metrics port for 2 minutes; the \
             cluster's jobs and TaskManagers cannot be seen. Look at the JobManager pod's \
             state and log.",
        ),
        alert(
            "FlinkJobNotRunning",
            format!("max by ({JOB}) (flink_jobmanager_job_uptime) == 0"),
            "5m",
            "critical",
            "Flink job {{ $labels.job_name }} on {{ $labels.flink_cluster }} is not running",
            "The JobManager has held the job for 5 minutes without it RUNNING (waiting for \
             task slots, restarting or initializing). Look at the job's exceptions in the Flink WebUI \
             and at the TaskManagers.",
        ),
        alert(
            "FlinkJobGone",
            "group by (namespace, flink_cluster, job_name) \
             (last_over_time(flink_jobmanager_job_uptime[10m])) \
             unless on (namespace, flink_cluster, job_name) flink_jobmanager_job_uptime"
                .into(),
            "0s",
            "warning",
            "Flink job {{ $labels.job_name }} on {{ $labels.flink_cluster }} is gone",
            "A job that ran on this cluster in the last 10 minutes is no longer there: it \
             failed for good, was cancelled or suspended, or finished. If it was not stopped \
             on purpose, look at its last exceptions in the Flink WebUI.",
        ),
        alert(
            "FlinkJobRestarting",
            format!(
                "max by ({JOB}) (increase(flink_jobmanager_job_numRestarts[10m]) \
                 and flink_jobmanager_job_numRestarts) > 2"
            ),
            "0s",
            "warning",
            "Flink job {{ $labels.job_name }} on {{ $labels.flink_cluster }} restarted {{ $value | printf \"%.0f\" }} times in 10 minutes",
            "The job keeps failing and restarting (a crash loop): look at its exceptions in \
             the Flink WebUI or the TaskManagers' logs.",
        ),
        alert(
            "FlinkCheckpointsFailing",
            format!(
                "max by ({JOB}) (increase(flink_jobmanager_job_numberOfFailedCheckpoints[15m]) \
                 and flink_jobmanager_job_numberOfFailedCheckpoints) > 0"
            ),
            "0s",
            "warning",
            "Flink job {{ $labels.job_name }} on {{ $labels.flink_cluster }}: checkpoints failed in the last 15 minutes",
            "A failed checkpoint restarts the job unless it tolerates failed checkpoints, and \
             a restart goes back to an older one. Look at the job's checkpoint history in the \
             Flink WebUI (timeouts, storage errors).",
        ),
        alert(
            "FlinkCheckpointTooOld",
            format!(
                "max by ({JOB}) ((increase(flink_jobmanager_job_totalNumberOfCheckpoints[30m]) > 0) \
                 and (increase(flink_jobmanager_job_numberOfCompletedCheckpoints[30m]) == 0) \
                 and (flink_jobmanager_job_numberOfCompletedCheckpoints offset 30m))"
            ),
            "0s",
            "critical",
            "Flink job {{ $labels.job_name }} on {{ $labels.flink_cluster }}: no checkpoint completed in 30 minutes",
            "Checkpoints are triggered but none completed for 30 minutes, so a restart would \
             lose that much progress. Look at the checkpoint history (failures, timeouts, \
             back pressure slowing the barriers).",
        ),
        alert(
            "FlinkTaskManagersLost",
            "max by (namespace, flink_cluster) (max_over_time(flink_jobmanager_numRegisteredTaskManagers[10m])) \
             - max by (namespace, flink_cluster) (flink_jobmanager_numRegisteredTaskManagers) > 0"
                .into(),
            "2m",
            "warning",
            "Flink cluster {{ $labels.flink_cluster }} in {{ $labels.namespace }} lost {{ $value | printf \"%.0f\" }} TaskManagers",
            "Fewer TaskManagers are registered than in the last 10 minutes, for 2 minutes: \
             jobs may lack task slots. Look at the TaskManager pods (evicted, out of memory, \
             not scheduled). A cluster scaled down on purpose shows here too.",
        ),
        alert(
            "FlinkBackPressureHigh",
            "max by (namespace, flink_cluster, job_name, task_name) \
             (avg_over_time(flink_taskmanager_job_task_backPressuredTimeMsPerSecond[5m])) > 500"
                .into(),
            "10m",
            "warning",
            "Flink job {{ $labels.job_name }} on {{ $labels.flink_cluster }}: task {{ $labels.task_name }} back-pressured",
            "The task has been back-pressured more than half of the time for 15 minutes: a \
             task downstream of it cannot keep up, and the job falls behind its input.",
        ),
    ];
    json!([
        {"name": "dataport-flink", "rules": rules},
        {"name": "dataport-flink-operator", "rules": operator_rules()},
    ])
}
