//! The Prometheus app on a cluster whose Prometheus is the Prometheus
//! Operator's: instead of a server of its own, a PodMonitor that makes that
//! Prometheus scrape the same pods with the same labels, and a
//! PrometheusRule with the same alerting rules; dataport reads figures and
//! alerts from that Prometheus's Service.
//!
//! Kinds and fields as prometheus-operator v0.85.0 serves them
//! (`example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml`
//! and `…_prometheusrules.yaml`, `monitoring.coreos.com/v1`): a PodMonitor's
//! `selector` (required; empty selects every pod), `namespaceSelector.matchNames`
//! and `podMetricsEndpoints[].port` (a container port's name) and
//! `relabelings` (Prometheus's relabel configuration in camelCase:
//! `sourceLabels`, `targetLabel`); a PrometheusRule's `spec.groups`, as in a
//! rules file. A Prometheus resource picks them by its `podMonitorSelector`
//! and `ruleSelector` (kube-prometheus-stack's default: label `release`
//! naming its release), hence the labels the form adds.

use serde_json::{Value, json};

use super::alerts::rule_groups;
use super::configuration::relabel_configs;
use crate::catalog::params::is_dns_label;
use crate::catalog::render::{Object, RenderError, RenderInput};

/// The form's value of `configuredBy` that selects this way.
pub const PROMETHEUS_OPERATOR: &str = "prometheus-operator";

/// The CRDs this mode's objects need, by name.
pub const REQUIRED_CRDS: [&str; 2] = [
    "podmonitors.monitoring.coreos.com",
    "prometheusrules.monitoring.coreos.com",
];

/// The API version of both kinds.
const API_VERSION: &str = "monitoring.coreos.com/v1";

/// Parses labels `key=value, …` (empty: none) as Kubernetes accepts them:
/// a key is an optional DNS-subdomain prefix and `/`, then a name of 1 to
/// 63 letters, digits, `-`, `_` and `.` starting and ending alphanumeric; a
/// value the same, or empty.
pub(super) fn parse_labels(raw: &str) -> Result<Vec<(String, String)>, String> {
    let name_ok = |name: &str| {
        name.len() <= 63
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    let mut labels = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let wrong =
            || format!("{pair:?} is not a label key=value, e.g. release=kube-prometheus-stack");
        let (key, value) = pair.split_once('=').ok_or_else(wrong)?;
        let (key, value) = (key.trim(), value.trim());
        let name = match key.rsplit_once('/') {
            Some((prefix, name)) => {
                let prefix_ok =
                    prefix.len() <= 253 && prefix.split('.').all(|part| is_dns_label(part, 63));
                if !prefix_ok {
                    return Err(wrong());
                }
                name
            }
            None => key,
        };
        if name.is_empty() || !name_ok(name) || !(value.is_empty() || name_ok(value)) {
            return Err(wrong());
        }
        labels.push((key.to_owned(), value.to_owned()));
    }
    Ok(labels)
}

/// The PodMonitor and the PrometheusRule, both named after the instance in
/// its namespace, with its labels and the form's `monitorLabels`; the
/// PodMonitor over the `watched` namespaces' pods.
pub(super) fn render(input: &RenderInput, watched: &[String]) -> Result<Vec<Object>, RenderError> {
    let mut labels = json!(input.labels());
    for (key, value) in parse_labels(input.text("monitorLabels").unwrap_or_default())
        .map_err(|_| RenderError::Missing("monitorLabels"))?
    {
        labels[key] = value.into();
    }
    let metadata = json!({
        "name": input.target.name,
        "namespace": input.target.namespace,
        "labels": labels,
    });
    let relabelings: Vec<Value> = relabel_configs().into_iter().map(camel_case).collect();
    let pod_monitor = json!({
        "apiVersion": API_VERSION,
        "kind": "PodMonitor",
        "metadata": metadata,
        "spec": {
            "selector": {},
            "namespaceSelector": {"matchNames": watched},
            "podMetricsEndpoints": [{"port": super::METRICS_PORT_NAME, "relabelings": relabelings}],
        },
    });
    let rule = json!({
        "apiVersion": API_VERSION,
        "kind": "PrometheusRule",
        "metadata": metadata,
        "spec": {"groups": rule_groups()},
    });
    Ok(vec![pod_monitor, rule])
}

/// A relabel step of `prometheus.yml` in the PodMonitor's spelling.
fn camel_case(step: Value) -> Value {
    let Value::Object(fields) = step else {
        return step;
    };
    let renamed = fields.into_iter().map(|(key, value)| {
        let key = match key.as_str() {
            "source_labels" => "sourceLabels".to_owned(),
            "target_label" => "targetLabel".to_owned(),
            _ => key,
        };
        (key, value)
    });
    Value::Object(renamed.collect())
}
