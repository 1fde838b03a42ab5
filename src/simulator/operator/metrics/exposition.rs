//! What a scrape of the operator's metrics answers: the namespace gauges,
//! computed from the resources it sees now, and the reconciliation
//! counters it kept, in the names and labels of the table in
//! [`super`]'s documentation.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use kube::ResourceExt;
use kube::api::{Api, DynamicObject, ListParams};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::Value;

use super::super::config::OperatorConfig;
use super::super::instance::{Operator, flink_kind};

/// `JobManagerDeploymentStatus`'s values (api `status/JobManagerDeploymentStatus`).
pub(super) const JOB_MANAGER_STATUSES: [&str; 5] = [
    "READY",
    "DEPLOYED_NOT_READY",
    "DEPLOYING",
    "MISSING",
    "ERROR",
];
/// `ResourceLifecycleState`'s values (api `lifecycle/ResourceLifecycleState`).
pub(super) const LIFECYCLE_STATES: [&str; 10] = [
    "CREATED",
    "SUSPENDED",
    "UPGRADING",
    "DEPLOYED",
    "STABLE",
    "ROLLING_BACK",
    "ROLLED_BACK",
    "FAILED",
    "DELETING",
    "DELETED",
];
/// `FlinkStateSnapshotStatus.State`'s values.
pub(super) const SNAPSHOT_STATES: [&str; 5] = [
    "COMPLETED",
    "FAILED",
    "IN_PROGRESS",
    "TRIGGER_PENDING",
    "ABANDONED",
];
/// Whether the operator option `kubernetes.operator.<key>` (boolean,
/// default `true`) is on.
pub(super) fn enabled(config: &OperatorConfig, key: &str) -> bool {
    config
        .values
        .get(&format!("kubernetes.operator.{key}"))
        .is_none_or(|value| !value.trim().eq_ignore_ascii_case("false"))
}

/// Series being written: metric name → (labels, value).
pub(super) type Series = BTreeMap<String, Vec<(Vec<(&'static str, String)>, f64)>>;

/// The resources an operator sees in one namespace of one kind, as JSON.
type Seen = BTreeMap<(&'static str, String), Vec<Value>>;

/// A label value as Flink's reporter writes it (`filterLabelValueCharacters`,
/// on by default): every character outside `[a-zA-Z0-9_:]` becomes `_`.
pub(super) fn label_value(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The text a scrape answers: the gauges from the resources the operator
/// sees now (listed as it is allowed to), the counters it kept.
pub(super) async fn exposition(operator: &Operator, identity: &[(&'static str, String)]) -> String {
    let seen = seen(operator).await;
    let mut series = Series::new();
    {
        let mut registered = operator
            .metrics
            .registered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        registered.extend(seen.keys().cloned());
        for (kind, namespace) in registered.iter() {
            let resources = seen
                .get(&(*kind, namespace.clone()))
                .map(Vec::as_slice)
                .unwrap_or_default();
            gauges(
                &operator.config,
                kind,
                namespace,
                resources,
                identity,
                &mut series,
            );
        }
    }
    if enabled(&operator.config, "josdk.metrics.enabled") {
        let all = operator
            .metrics
            .reconciliations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for ((kind, namespace, name), outcomes) in all.iter() {
            let mut labels = identity.to_vec();
            labels.push(("resourcens", label_value(namespace)));
            labels.push(("resourcename", label_value(name)));
            labels.push(("resourcetype", kind.clone()));
            let prefix = "flink_k8soperator_namespace_resource_JOSDK_Reconciliation";
            for (suffix, count) in [
                ("_Count", outcomes.started),
                ("_finished_Count", outcomes.finished),
                ("_failed_Count", outcomes.failed),
            ] {
                if count > 0 || suffix == "_Count" {
                    let value = count as f64;
                    push(&mut series, &format!("{prefix}{suffix}"), &labels, value);
                }
            }
        }
    }
    render(&series)
}

/// Every FlinkDeployment, FlinkSessionJob and (when on) FlinkStateSnapshot
/// in the namespaces the operator watches, by kind and namespace.
async fn seen(operator: &Operator) -> Seen {
    let mut kinds = vec!["FlinkDeployment", "FlinkSessionJob"];
    if operator.snapshots {
        kinds.push("FlinkStateSnapshot");
    }
    let mut seen = Seen::new();
    for scope in &operator.scopes {
        for kind in &kinds {
            let resource = flink_kind(kind);
            let api: Api<DynamicObject> = match scope {
                Some(namespace) => {
                    Api::namespaced_with(operator.client.clone(), namespace, &resource)
                }
                None => Api::all_with(operator.client.clone(), &resource),
            };
            let Ok(listed) = api.list(&ListParams::default()).await else {
                continue;
            };
            for object in listed.items {
                let namespace = object.namespace().unwrap_or_default();
                seen.entry((*kind, namespace))
                    .or_default()
                    .push(object.data);
            }
        }
    }
    seen
}

/// The namespace gauges of `kind` in `namespace`.
pub(super) fn gauges(
    config: &OperatorConfig,
    kind: &'static str,
    namespace: &str,
    resources: &[Value],
    identity: &[(&'static str, String)],
    series: &mut Series,
) {
    let mut labels = identity.to_vec();
    labels.push(("resourcens", label_value(namespace)));
    labels.push(("resourcetype", kind.to_owned()));
    let count = |pointer: &str, wanted: &str, default: &str| {
        resources
            .iter()
            .filter(|r| {
                r.pointer(pointer)
                    .and_then(Value::as_str)
                    .unwrap_or(default)
                    == wanted
            })
            .count() as f64
    };
    let scope = "flink_k8soperator_namespace";
    if kind == "FlinkStateSnapshot" {
        for (group, savepoint) in [("Checkpoint", false), ("Savepoint", true)] {
            let of_kind: Vec<Value> = resources
                .iter()
                .filter(|r| r.pointer("/spec/savepoint").is_some() == savepoint)
                .filter(|r| r.pointer("/status/state").is_some())
                .cloned()
                .collect();
            let name = format!("{scope}_{group}_Count");
            push(series, &name, &labels, of_kind.len() as f64);
            for state in SNAPSHOT_STATES {
                let value = of_kind
                    .iter()
                    .filter(|r| r.pointer("/status/state").and_then(Value::as_str) == Some(state))
                    .count() as f64;
                push(
                    series,
                    &format!("{scope}_{group}_State_{state}_Count"),
                    &labels,
                    value,
                );
            }
        }
        return;
    }
    if enabled(config, "resource.metrics.enabled") {
        push(
            series,
            &format!("{scope}_Count"),
            &labels,
            resources.len() as f64,
        );
        if kind == "FlinkDeployment" {
            for status in JOB_MANAGER_STATUSES {
                let value = count("/status/jobManagerDeploymentStatus", status, "MISSING");
                let name = format!("{scope}_JmDeploymentStatus_{status}_Count");
                push(series, &name, &labels, value);
            }
        }
    }
    if enabled(config, "resource.lifecycle.metrics.enabled") {
        for state in LIFECYCLE_STATES {
            let value = count("/status/lifecycleState", state, "CREATED");
            push(
                series,
                &format!("{scope}_Lifecycle_State_{state}_Count"),
                &labels,
                value,
            );
        }
    }
}

pub(super) fn push(series: &mut Series, name: &str, labels: &[(&'static str, String)], value: f64) {
    series
        .entry(name.to_owned())
        .or_default()
        .push((labels.to_vec(), value));
}

/// The text format, as Flink's reporter describes its families: each
/// one's help is the metric's name and logical scope, and its type gauge
/// (Flink exports gauges and counters alike as gauges).
pub(super) fn render(series: &Series) -> String {
    let mut registry = Registry::default();
    for (name, samples) in series {
        let (scope, metric) = name
            .strip_prefix("flink_")
            .and_then(|rest| rest.rsplit_once('_'))
            .unwrap_or((name, name));
        let family = Family::<Vec<(&'static str, String)>, Gauge<f64, AtomicU64>>::default();
        for (labels, value) in samples {
            family.get_or_create(labels).set(*value);
        }
        registry.register(name, format!("{metric} (scope: {scope})"), family);
    }
    let mut text = String::new();
    if let Err(error) = encode(&mut text, &registry) {
        tracing::warn!(%error, "cannot write the operator's metrics");
    }
    text
}
