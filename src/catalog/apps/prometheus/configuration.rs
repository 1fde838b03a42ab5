//! What Prometheus reads: its scrape configuration (`prometheus.yml`) and
//! the retention size its flag takes.

use serde_json::{Value, json};

use super::METRICS_PORT_NAME;
use super::alerts::RULES_FILE;
use crate::catalog::quantity::{Quantity, QuantityKind};
use crate::catalog::render::RenderError;

/// `--storage.tsdb.retention.size` for a volume of `storage`: 80 % of it, so
/// the head block and the write-ahead log still fit, in the flag's units
/// (kingpin's `BytesVar`, alecthomas/units `ParseBase2Bytes`: `MB` is 2^20
/// bytes; prometheus/prometheus `cmd/prometheus/main.go`).
pub(super) fn retention_size(storage: &str) -> Result<String, RenderError> {
    let bytes = Quantity::parse(storage, QuantityKind::Bytes)
        .map_err(|_| RenderError::Missing("storage"))?
        .value;
    let megabytes = (bytes * 0.8 / 1_048_576.0).floor();
    Ok(format!("{megabytes:.0}MB"))
}

/// The scrape configuration (`prometheus.yml`): one job discovering pods
/// (`kubernetes_sd_configs` role `pod`, in-cluster, limited to `namespaces`),
/// keeping the targets of container ports named `metrics` of pods that have
/// not finished, labelled `namespace`, `pod`, `instance` (the dataport
/// instance, `app.kubernetes.io/instance`, else Flink's cluster label `app`)
/// and `component` (Flink's `component`, else `app.kubernetes.io/component`,
/// else `app.kubernetes.io/name`), and on Flink's own pods (label `type` is
/// `flink-native-kubernetes`, as flink-kubernetes `Constants` at
/// release-1.20 and release-2.0 names it) `flink_cluster`, their label `app`:
/// the cluster id, i.e. the FlinkDeployment's name. Meta labels as
/// prometheus/prometheus `discovery/kubernetes/pod.go` (release-2.42 and
/// release-3.5) names them. It evaluates the alerting rules of
/// [`super::alerts::alerting_rules`] from [`RULES_FILE`] next to it.
pub fn configuration(namespaces: &[String]) -> Result<String, RenderError> {
    let config = json!({
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "rule_files": [RULES_FILE],
        "scrape_configs": [job(namespaces)],
    });
    written(&config)
}

/// The scrape job alone, as a file of `scrape_configs` that a Prometheus
/// configured by hand names in its `scrape_config_files` (Prometheus 2.43
/// and later: prometheus/prometheus `config/config.go`, `ScrapeConfigFiles`,
/// added in v2.43.0); its discovery acts as that Prometheus's ServiceAccount.
pub(super) fn scrape_job(namespaces: &[String]) -> Result<String, RenderError> {
    written(&json!({"scrape_configs": [job(namespaces)]}))
}

/// The one scrape job, over the pods of `namespaces`.
fn job(namespaces: &[String]) -> Value {
    json!({
        "job_name": "dataport-pods",
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": namespaces}}],
        "relabel_configs": relabel_configs(),
    })
}

fn written(config: &Value) -> Result<String, RenderError> {
    let text = serde_yaml_ng::to_string(config).map_err(|e| RenderError::Encode {
        kind: "ConfigMap",
        message: e.to_string(),
    })?;
    Ok(format!(
        "# Written by dataport: scrape every pod's container port named {METRICS_PORT_NAME} in the watched namespaces.\n{text}"
    ))
}

/// The relabelling of [`configuration`]'s scrape job, in `prometheus.yml`'s
/// spelling: which targets it keeps and the labels it gives them.
pub(super) fn relabel_configs() -> Vec<Value> {
    let relabel = json!([
        {"source_labels": ["__meta_kubernetes_pod_container_port_name"], "action": "keep", "regex": METRICS_PORT_NAME},
        {"source_labels": ["__meta_kubernetes_pod_phase"], "action": "drop", "regex": "Succeeded|Failed"},
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        {
            "source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_instance", "__meta_kubernetes_pod_label_app"],
            "regex": "(.+);.*|;(.+)",
            "replacement": "$1$2",
            "target_label": "instance",
        },
        {
            "source_labels": [
                "__meta_kubernetes_pod_label_component",
                "__meta_kubernetes_pod_label_app_kubernetes_io_component",
                "__meta_kubernetes_pod_label_app_kubernetes_io_name",
            ],
            "regex": "(.+);.*;.*|;(.+);.*|;;(.+)",
            "replacement": "$1$2$3",
            "target_label": "component",
        },
        {
            "source_labels": ["__meta_kubernetes_pod_label_type", "__meta_kubernetes_pod_label_app"],
            "regex": "flink-native-kubernetes;(.+)",
            "target_label": "flink_cluster",
        },
    ]);
    relabel.as_array().cloned().unwrap_or_default()
}
