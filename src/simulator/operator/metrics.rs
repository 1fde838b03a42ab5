//! The stand-in's own metrics, served as flink-kubernetes-operator 1.15.0
//! serves them when its configuration names Flink's Prometheus reporter
//! (`kubernetes.operator.metrics.reporter.<name>.factory.class:
//! org.apache.flink.metrics.prometheus.PrometheusReporterFactory`, on the
//! reporter's `port`, default 9249): at its pod's address, `/metrics`, in
//! Prometheus's text format. Without that reporter it serves nothing, as
//! the real one.
//!
//! What it exports, as the operator's release-1.15.0 sources register it
//! (`metrics/FlinkDeploymentMetrics`, `FlinkSessionJobMetrics`,
//! `FlinkStateSnapshotMetrics`, `lifecycle/LifecycleMetrics`,
//! `OperatorJosdkMetrics`; the groups `KubernetesOperatorMetricGroup`
//! "k8soperator", `KubernetesResourceNamespaceMetricGroup` "namespace",
//! `KubernetesResourceMetricGroup` "resource") and Flink's reporter names it
//! (`AbstractPrometheusReporter`: `flink_`, the logical scope and the name
//! joined by `_`; the scope variables as labels, whose values keep only
//! `[a-zA-Z0-9_:]`, any other character written `_`). Every series carries
//! the operator's `host`, `name` and `namespace` (env `HOSTNAME`, the pod's
//! name; `OPERATOR_NAME`; `OPERATOR_NAMESPACE`, as
//! `OperatorMetricUtils.initOperatorMetrics` reads them):
//!
//! | series | other labels |
//! |---|---|
//! | `flink_k8soperator_namespace_Count` | `resourcens`, `resourcetype` (`FlinkDeployment`, `FlinkSessionJob`) |
//! | `flink_k8soperator_namespace_JmDeploymentStatus_<status>_Count` | `resourcens`, `resourcetype` `FlinkDeployment`; the five `JobManagerDeploymentStatus` values |
//! | `flink_k8soperator_namespace_Lifecycle_State_<state>_Count` | `resourcens`, `resourcetype` (both kinds); the ten `ResourceLifecycleState` values |
//! | `flink_k8soperator_namespace_{Savepoint,Checkpoint}_Count`, `…_{Savepoint,Checkpoint}_State_<state>_Count` | `resourcens`, `resourcetype` `FlinkStateSnapshot`; the five `FlinkStateSnapshotStatus.State` values |
//! | `flink_k8soperator_namespace_resource_JOSDK_Reconciliation_Count`, `…_finished_Count`, `…_failed_Count` | `resourcens`, `resourcename`, `resourcetype`: counters since it started, each created at its first increment |
//!
//! A namespace's gauges of a kind appear with its first resource of that
//! kind and stay, at 0, after the last is gone (the sources register them
//! once). Switched off by `kubernetes.operator.resource.metrics.enabled`,
//! `…resource.lifecycle.metrics.enabled` and `…josdk.metrics.enabled`
//! (all default `true`, `KubernetesOperatorMetricOptions`).
//!
//! Not exported: the JVM's metrics (the stand-in runs no JVM), the
//! Kubernetes client's, the lifecycle time histograms, Flink versions and
//! resource usage.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::runtime::controller::Action;
use kube::{Client, Resource, ResourceExt};

use super::config::OperatorConfig;
use super::instance::Operator;
use crate::simulator::SimulationError;
use exposition::{exposition, label_value};

/// The reporter factory that makes the operator serve Prometheus's format.
const PROMETHEUS_FACTORY: &str = "org.apache.flink.metrics.prometheus.PrometheusReporterFactory";
/// The reporter's port when none is given (`PrometheusReporterFactory`, `ARG_PORT`).
const DEFAULT_PORT: u16 = 9249;
/// How often the endpoint looks whether its pod's address changed.
const LOOK_EVERY: Duration = Duration::from_secs(5);

/// The port of the Prometheus reporter `config` names, if any: the first
/// `kubernetes.operator.metrics.reporter.<name>.factory.class` naming
/// [`PROMETHEUS_FACTORY`], its `…<name>.port` (the first of a range
/// `9250-9260`), else [`DEFAULT_PORT`]. `None` for a port that is no number.
pub fn prometheus_port(config: &OperatorConfig) -> Option<u16> {
    let reporter = config.values.iter().find_map(|(key, value)| {
        let name = key
            .strip_prefix("kubernetes.operator.metrics.reporter.")?
            .strip_suffix(".factory.class")?;
        (value.trim() == PROMETHEUS_FACTORY).then_some(name)
    })?;
    match config.values.get(&format!(
        "kubernetes.operator.metrics.reporter.{reporter}.port"
    )) {
        None => Some(DEFAULT_PORT),
        Some(port) => port.split('-').next()?.trim().parse().ok(),
    }
}

/// One resource's reconciliations since the operator started.
#[derive(Debug, Default, Clone, Copy)]
struct Outcomes {
    started: u64,
    finished: u64,
    failed: u64,
}

/// What the operator has counted and seen, shared by its controllers and
/// its endpoint.
#[derive(Debug, Default)]
pub(super) struct OperatorMetrics {
    /// `(kind, namespace, name)` → its reconciliations.
    reconciliations: Mutex<BTreeMap<(String, String, String), Outcomes>>,
    /// `(kind, namespace)` whose gauges are registered.
    registered: Mutex<BTreeSet<(&'static str, String)>>,
}

/// Runs `reconcile` on `object` and counts it, with how it ended, as JOSDK
/// tells the operator's metrics (`reconcileCustomResource`, then
/// `finishedReconciliation` or `failedReconciliation`).
pub(super) async fn counted<K, F, Fut>(
    object: Arc<K>,
    operator: Arc<Operator>,
    reconcile: F,
) -> Result<Action, SimulationError>
where
    K: Resource<DynamicType = ()>,
    F: FnOnce(Arc<K>, Arc<Operator>) -> Fut,
    Fut: Future<Output = Result<Action, SimulationError>>,
{
    let key = (
        K::kind(&()).into_owned(),
        object.namespace().unwrap_or_default(),
        object.name_any(),
    );
    let result = reconcile(object, operator.clone()).await;
    operator.metrics.reconciled(key, result.is_ok());
    result
}

impl OperatorMetrics {
    fn reconciled(&self, key: (String, String, String), ok: bool) {
        let mut all = self
            .reconciliations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let outcomes = all.entry(key).or_default();
        outcomes.started += 1;
        if ok {
            outcomes.finished += 1;
        } else {
            outcomes.failed += 1;
        }
    }
}

/// Serves `operator`'s metrics at the address of a running pod of
/// `deployment`, moving when that address changes, until aborted. Nothing
/// when its configuration names no Prometheus reporter; retried when the
/// address is not this machine's (a node that only simulates pods).
pub(super) async fn serve(admin: Client, deployment: Deployment, operator: Arc<Operator>) {
    let Some(port) = prometheus_port(&operator.config) else {
        tracing::info!("no Prometheus reporter configured: the operator serves no metrics");
        return;
    };
    loop {
        let Some((address, host)) = pod_address(&admin, &deployment).await else {
            tokio::time::sleep(LOOK_EVERY).await;
            continue;
        };
        let listener = match tokio::net::TcpListener::bind((address, port)).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::debug!(%address, port, %error, "the operator's metrics cannot listen there");
                tokio::time::sleep(LOOK_EVERY * 6).await;
                continue;
            }
        };
        tracing::info!(%address, port, "the operator serves its metrics (Prometheus reporter)");
        let labels = identity(&deployment, &host);
        let state = operator.clone();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let (operator, labels) = (state.clone(), labels.clone());
                async move { exposition(&operator, &labels).await }
            }),
        );
        let (admin, deployment) = (admin.clone(), deployment.clone());
        let moved = async move {
            loop {
                tokio::time::sleep(LOOK_EVERY).await;
                if pod_address(&admin, &deployment).await.map(|(a, _)| a) != Some(address) {
                    return;
                }
            }
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(moved)
            .await
        {
            tracing::warn!(%error, "the operator's metrics endpoint stopped");
        }
    }
}

/// The address and name of a running pod of `deployment` (its selector's
/// `matchLabels`), if one has an IP.
async fn pod_address(admin: &Client, deployment: &Deployment) -> Option<(IpAddr, String)> {
    let selector = deployment.spec.as_ref()?.selector.match_labels.as_ref()?;
    let selector: Vec<String> = selector.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let pods: Api<Pod> = Api::namespaced(admin.clone(), &deployment.namespace()?);
    let listed = pods
        .list(&ListParams::default().labels(&selector.join(",")))
        .await
        .ok()?;
    listed.items.into_iter().find_map(|pod| {
        let status = pod.status.as_ref()?;
        if status.phase.as_deref() != Some("Running") || pod.metadata.deletion_timestamp.is_some() {
            return None;
        }
        let address = status.pod_ip.as_deref()?.parse().ok()?;
        Some((address, pod.name_any()))
    })
}

/// The operator's own labels: `host` (the pod's name, its `HOSTNAME`),
/// `name` (env `OPERATOR_NAME`, default `flink-kubernetes-operator`) and
/// `namespace` (env `OPERATOR_NAMESPACE`, default `default`; a `fieldRef`
/// to `metadata.namespace` is the pod's).
fn identity(deployment: &Deployment, host: &str) -> Vec<(&'static str, String)> {
    let env = super::config::operator_container(deployment)
        .and_then(|c| c.env.clone())
        .unwrap_or_default();
    let value = |name: &str| {
        let var = env.iter().find(|var| var.name == name)?;
        match (&var.value, &var.value_from) {
            (Some(value), _) => Some(value.clone()),
            (None, Some(from))
                if from
                    .field_ref
                    .as_ref()
                    .is_some_and(|f| f.field_path == "metadata.namespace") =>
            {
                deployment.namespace()
            }
            _ => None,
        }
    };
    vec![
        ("host", label_value(host)),
        (
            "name",
            label_value(&value("OPERATOR_NAME").unwrap_or("flink-kubernetes-operator".into())),
        ),
        (
            "namespace",
            label_value(&value("OPERATOR_NAMESPACE").unwrap_or("default".into())),
        ),
    ]
}

mod exposition;

#[cfg(test)]
mod tests;
