//! A **stand-in** for flink-kubernetes-operator 1.15.0, as strict as the real
//! one about what it is given, and acting only as deployed.
//!
//! What it imitates: it finds the operator Deployments in the cluster
//! (container image `apache/flink-kubernetes-operator:*` or
//! `ghcr.io/apache/flink-kubernetes-operator*`) and, for each one with an
//! available replica, runs one simulated operator that
//! - reads its configuration as the real one does ([`config`]): `FLINK_CONF_DIR`,
//!   the volume mounted there and the ConfigMap items it projects,
//!   `flink-conf.yaml` before `config.yaml`, `WATCH_NAMESPACES` over the key;
//! - acts under the Deployment's ServiceAccount through impersonation, so that a
//!   missing RBAC rule fails as in a cluster (reported: [`events::Reporter`]);
//! - refuses to start while a CRD it needs is missing or a namespace cannot be
//!   listed (`kubernetes.operator.startup.stop-on-informer-error: true`), and
//!   disables snapshots without the FlinkStateSnapshot CRD;
//! - validates every resource as `DefaultValidator` ([`validator`]) and reports
//!   failures as the controller does (`status.error`, a `ValidationError` Event,
//!   the last valid spec kept running);
//! - writes the status the real one writes and decides upgrades by reading
//!   `lastReconciledSpec` back ([`status`]), and creates the `<name>-rest` and
//!   `<name>` Services and the `flink-config-<name>` ConfigMap.
//!
//! With the process node it deploys session clusters for real ([`native`]):
//! Flink's own client creates the JobManager Deployment, whose JobManager
//! creates its TaskManagers; the JobManager's status is observed, not walked.
//! Deleting such a cluster, it waits for the JobManager to be gone and then
//! deletes its HA metadata: Kubernetes HA's ConfigMaps or ZooKeeper HA's node
//! ([`ha_data`]), as the operator's `deleteHAData`.
//! Session jobs on such a cluster run for real too: fetched, uploaded, run,
//! observed, stopped with a savepoint and resumed through Flink's REST API
//! ([`flink_rest`], `session_job::real`).
//!
//! What it does not: application clusters (and session jobs of a simulated
//! session) run no Flink process and their statuses walk on a timer; no webhook, leader election, autoscaler, rollback, health probe
//! or blue/green. Its metrics are its own counts, in the real one's names
//! ([`metrics`]), without the JVM's. Savepoints asked for as FlinkStateSnapshots are
//! taken ([`snapshot`]): for real on a real session, walked elsewhere.
//!
//! Facts: docs/flink-operator-facts.md, read from flink-kubernetes-operator
//! tag release-1.15.0 (paths cited in each module).

pub mod config;
mod deployment;
pub mod events;
mod flink_rest;
mod ha_data;
mod instance;
pub mod metrics;
pub mod native;
mod periodic;
mod session_job;
pub mod snapshot;
pub mod status;
pub mod validator;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use kube::{Client, Config, ResourceExt};
use tokio::task::JoinHandle;

use crate::cluster::ClusterError;

/// How often the supervisor looks at the operator Deployments.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// What one simulated operator is started from; a change restarts it.
#[derive(Debug, Clone, PartialEq)]
struct Launch {
    uid: String,
    generation: Option<i64>,
    service_account: String,
    config: Result<config::OperatorConfig, config::ConfigError>,
}

/// Runs one simulated operator per available operator Deployment, until
/// the process stops. `admin` is the simulator's own client, `base` the
/// configuration it was made from (impersonation is added to copies of it).
pub async fn run(
    admin: Client,
    base: Config,
    native: Option<Arc<native::NativeClient>>,
) -> Result<(), ClusterError> {
    let mut running: BTreeMap<(String, String), (Launch, JoinHandle<()>)> = BTreeMap::new();
    loop {
        match operator_deployments(&admin).await {
            Ok(found) => {
                running.retain(|key, (_, task)| {
                    let keep = found.contains_key(key);
                    if !keep {
                        tracing::info!(operator = %format!("{}/{}", key.0, key.1), "operator Deployment gone or unavailable: stopping its simulated operator");
                        task.abort();
                    }
                    keep
                });
                for (key, (deployment, launch)) in found {
                    if running.get(&key).is_some_and(|(old, _)| *old == launch) {
                        continue;
                    }
                    if let Some((_, task)) = running.remove(&key) {
                        tracing::info!(operator = %format!("{}/{}", key.0, key.1), "operator Deployment or configuration changed: restarting its simulated operator");
                        task.abort();
                    }
                    let task = tokio::spawn(instance::run(
                        admin.clone(),
                        base.clone(),
                        deployment,
                        launch.service_account.clone(),
                        launch.config.clone(),
                        native.clone(),
                    ));
                    running.insert(key, (launch, task));
                }
            }
            Err(error) => tracing::warn!(%error, "cannot list operator Deployments"),
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

type Found = BTreeMap<(String, String), (Deployment, Launch)>;

/// The operator Deployments with an available replica, with what each
/// operator would start from.
async fn operator_deployments(admin: &Client) -> Result<Found, kube::Error> {
    let deployments: Api<Deployment> = Api::all(admin.clone());
    let mut found = BTreeMap::new();
    for deployment in deployments.list(&ListParams::default()).await? {
        if config::operator_container(&deployment).is_none() {
            continue;
        }
        let available = deployment
            .status
            .as_ref()
            .and_then(|s| s.available_replicas)
            .unwrap_or(0);
        if available < 1 {
            continue;
        }
        let namespace = deployment.namespace().unwrap_or_default();
        let config_maps: Api<ConfigMap> = Api::namespaced(admin.clone(), &namespace);
        let mut fetched: BTreeMap<String, Option<ConfigMap>> = BTreeMap::new();
        for name in mounted_config_maps(&deployment) {
            let config_map = config_maps.get_opt(&name).await?;
            fetched.insert(name, config_map);
        }
        let config = config::read(&deployment, &|name| fetched.get(name).cloned().flatten());
        let service_account = deployment
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|p| p.service_account_name.clone())
            .unwrap_or_else(|| "default".to_owned());
        let launch = Launch {
            uid: deployment.uid().unwrap_or_default(),
            generation: deployment.metadata.generation,
            service_account,
            config,
        };
        found.insert((namespace, deployment.name_any()), (deployment, launch));
    }
    Ok(found)
}

fn mounted_config_maps(deployment: &Deployment) -> Vec<String> {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| v.config_map.as_ref().map(|c| c.name.clone()))
        .collect()
}

/// A client that acts as `system:serviceaccount:<namespace>:<name>`.
fn impersonating(base: &Config, namespace: &str, name: &str) -> Result<Client, kube::Error> {
    let mut config = base.clone();
    config.auth_info.impersonate = Some(format!("system:serviceaccount:{namespace}:{name}"));
    config.auth_info.impersonate_groups = Some(vec![
        "system:serviceaccounts".to_owned(),
        format!("system:serviceaccounts:{namespace}"),
        "system:authenticated".to_owned(),
    ]);
    config.default_namespace = namespace.to_owned();
    Client::try_from(config)
}
