//! The Prometheus app's form: which Prometheus does the work (a server of
//! this instance, or the cluster's own, told what to scrape through its
//! Prometheus Operator or by hand) and what each way needs.

use super::operator_mode::{PROMETHEUS_OPERATOR, parse_labels};
use crate::catalog::apps::flink_operator::namespace_list_error;
use crate::catalog::params::{Choice, Param, ParamKind, parse_namespaced_name, parse_service};
use crate::catalog::render::RenderError;
use crate::catalog::{FieldErrors, Values};

/// The form's value of `server` for the cluster's own Prometheus.
pub const EXISTING: &str = "existing";
/// The form's value of `configuredBy` for a Prometheus configured by hand.
const BY_HAND: &str = "file";

/// Shown when this instance runs its own server.
const OWN_SERVER: &[(&str, &str)] = &[("server", "dataport")];
/// Shown for the cluster's own Prometheus.
const CLUSTERS: &[(&str, &str)] = &[("server", EXISTING)];
/// Shown when its Prometheus Operator configures it.
const THROUGH_OPERATOR: &[(&str, &str)] =
    &[("server", EXISTING), ("configuredBy", PROMETHEUS_OPERATOR)];
/// Shown when it is configured by hand.
const THROUGH_FILES: &[(&str, &str)] = &[("server", EXISTING), ("configuredBy", BY_HAND)];

/// The fields, in form order.
pub(super) const PARAMS: &[Param] = &[
    Param {
        key: "watchedNamespaces",
        label: "Watched namespaces",
        help: "Namespaces whose pods are scraped, separated by commas, e.g. data,analytics \
            (at most 20). Empty: this instance's namespace. Its Prometheus gets a role reading \
            pods in each.",
        kind: ParamKind::Text { max_len: 1300 },
        default: Some(""),
        shown_when: &[],
    },
    Param {
        key: "server",
        label: "Prometheus server",
        help: "Run a Prometheus server of this instance, or have the cluster's own Prometheus \
            scrape the same pods with the same labels and evaluate the same alerts.",
        kind: ParamKind::Choice {
            options: &[
                Choice {
                    value: "dataport",
                    label: "Run a Prometheus server",
                },
                Choice {
                    value: EXISTING,
                    label: "The cluster's Prometheus",
                },
            ],
        },
        default: Some("dataport"),
        shown_when: &[],
    },
    Param {
        shown_when: OWN_SERVER,
        ..Param::int(
            "retentionDays",
            "Retention (days)",
            "15",
            (1, 3650),
            "How long samples are kept (--storage.tsdb.retention.time).",
        )
    },
    Param {
        shown_when: OWN_SERVER,
        ..Param::bytes(
            "storage",
            "Storage",
            "10Gi",
            ("1Gi", "1Ti"),
            "Persistent volume of the time series. Prometheus deletes the oldest blocks \
             before they fill 80 % of it (--storage.tsdb.retention.size).",
        )
    },
    Param {
        key: "prometheusService",
        label: "The cluster's Prometheus",
        help: "Its Service as namespace/name:port, where dataport reads the figures and \
            alerts of instance pages and opens its web interface (the Prometheus Operator's is \
            prometheus-operated on 9090 in the Prometheus's namespace).",
        kind: ParamKind::Text { max_len: 140 },
        default: Some("monitoring/prometheus-operated:9090"),
        shown_when: CLUSTERS,
    },
    Param {
        key: "configuredBy",
        label: "How it is told what to scrape",
        help: "The Prometheus Operator: a PodMonitor and a PrometheusRule (the cluster must \
            have their CRDs). By hand: a ConfigMap with a scrape configuration file and the \
            rules, to add to its configuration (scrape_config_files, rule_files), and roles \
            letting its ServiceAccount read the pods.",
        kind: ParamKind::Choice {
            options: &[
                Choice {
                    value: PROMETHEUS_OPERATOR,
                    label: "Its Prometheus Operator",
                },
                Choice {
                    value: BY_HAND,
                    label: "By hand, from files dataport writes",
                },
            ],
        },
        default: Some(PROMETHEUS_OPERATOR),
        shown_when: CLUSTERS,
    },
    Param {
        key: "monitorLabels",
        label: "Labels its Prometheus selects",
        help: "Put on the PodMonitor and the PrometheusRule so that the Prometheus resource's \
            podMonitorSelector and ruleSelector pick them: key=value separated by commas, e.g. \
            release=kube-prometheus-stack (that chart's default selectors match its release \
            name). Empty: none.",
        kind: ParamKind::Text { max_len: 300 },
        default: Some(""),
        shown_when: THROUGH_OPERATOR,
    },
    Param {
        key: "prometheusServiceAccount",
        label: "Its ServiceAccount",
        help: "The ServiceAccount the cluster's Prometheus runs as, as namespace/name: it gets \
            a role reading pods in each watched namespace, which its pod discovery needs.",
        kind: ParamKind::Text { max_len: 127 },
        default: Some("monitoring/prometheus"),
        shown_when: THROUGH_FILES,
    },
];

/// How the cluster's own Prometheus is told what to scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Through its Prometheus Operator: a PodMonitor and a PrometheusRule.
    PrometheusOperator,
    /// By hand, from the files dataport writes into a ConfigMap.
    ByHand,
}

/// Whether an instance with `values` uses the cluster's Prometheus, and
/// how it tells it what to scrape; `None` for a server of its own.
pub fn existing(values: &Values) -> Option<Existing> {
    let text = |key: &str| values.get(key).and_then(|v| v.as_str());
    if text("server") != Some(EXISTING) {
        return None;
    }
    Some(match text("configuredBy") {
        Some(BY_HAND) => Existing::ByHand,
        _ => Existing::PrometheusOperator,
    })
}

/// Parses `namespace/name` of a ServiceAccount (both DNS labels).
fn parse_account(raw: &str) -> Result<(String, String), String> {
    parse_namespaced_name(raw).ok_or_else(|| {
        format!("{raw:?} is not a ServiceAccount as namespace/name, e.g. monitoring/prometheus")
    })
}

/// The ServiceAccount of a Prometheus configured by hand.
pub(super) fn service_account(values: &Values) -> Result<(String, String), RenderError> {
    let raw = values
        .get("prometheusServiceAccount")
        .and_then(|v| v.as_str())
        .ok_or(RenderError::Missing("prometheusServiceAccount"))?;
    parse_account(raw).map_err(|_| RenderError::Missing("prometheusServiceAccount"))
}

/// The rules across fields: the watched namespaces, and what the way the
/// cluster's Prometheus is used needs, each on its field.
pub(super) fn rules(_version: &str, values: &Values) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let text = |key: &str| values.get(key).and_then(|v| v.as_str()).unwrap_or("");
    if let Some(error) = namespace_list_error(text("watchedNamespaces")) {
        errors.insert("watchedNamespaces".into(), error);
    }
    let Some(way) = existing(values) else {
        return errors;
    };
    if let Err(error) = parse_service(text("prometheusService")) {
        errors.insert("prometheusService".into(), error);
    }
    let checked = match way {
        Existing::PrometheusOperator => {
            ("monitorLabels", parse_labels(text("monitorLabels")).err())
        }
        Existing::ByHand => (
            "prometheusServiceAccount",
            parse_account(text("prometheusServiceAccount")).err(),
        ),
    };
    if let (field, Some(error)) = checked {
        errors.insert(field.into(), error);
    }
    errors
}
