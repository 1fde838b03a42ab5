//! One simulated operator: its start-up checks (as `FlinkOperator.run` with
//! `kubernetes.operator.startup.stop-on-informer-error: true`) and its
//! controllers over the namespaces it watches.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::{Client, Config, ResourceExt};

use super::config::{ConfigError, OperatorConfig, Watched};
use super::events::Reporter;
use super::metrics::{self, OperatorMetrics};
use super::native::NativeClient;
use super::{deployment, impersonating, session_job, snapshot};

/// How long a crashed operator pod waits before it starts again (a crash loop's pace).
const RESTART_AFTER: Duration = Duration::from_secs(10);

/// What each controller of one operator works with.
pub(super) struct Operator {
    /// The client acting as the operator's ServiceAccount.
    pub client: Client,
    /// Its configuration.
    pub config: OperatorConfig,
    /// Where what stops it is reported.
    pub reporter: Reporter,
    /// `system:serviceaccount:<ns>:<name>`, for messages.
    pub identity: String,
    /// Its namespace and ServiceAccount (Flink's client acts as them).
    pub service_account: (String, String),
    /// Deploying for real, when the process node runs Flink.
    pub native: Option<Arc<NativeClient>>,
    /// Whether snapshot resources are on: the FlinkStateSnapshot CRD could
    /// be listed at start (`FlinkOperator.run`, `KubernetesClientUtils.isCrdInstalled`).
    pub snapshots: bool,
    /// The namespaces it serves (`None`: all of them).
    pub scopes: Vec<Option<String>>,
    /// What it counts for its metrics endpoint.
    pub metrics: OperatorMetrics,
}

/// Runs the operator of `deployment` until aborted.
pub(super) async fn run(
    admin: Client,
    base: Config,
    deployment: Deployment,
    service_account: String,
    config: Result<OperatorConfig, ConfigError>,
    native: Option<Arc<NativeClient>>,
) {
    let reporter = Reporter::new(admin.clone(), &deployment);
    let namespace = deployment.namespace().unwrap_or_default();
    let config = match config {
        Ok(config) => config,
        Err(error) => {
            reporter
                .report(
                    None,
                    &format!("cannot load its configuration, so it does not start: {error}"),
                )
                .await;
            return;
        }
    };
    let identity = format!("system:serviceaccount:{namespace}:{service_account}");
    let client = match impersonating(&base, &namespace, &service_account) {
        Ok(client) => client,
        Err(error) => {
            reporter
                .report(None, &format!("cannot act as {identity}: {error}"))
                .await;
            return;
        }
    };
    let watched = config.watched();
    tracing::info!(
        operator = %reporter.operator(), configuration = %config.source, ?watched, %identity,
        "starting a simulated flink-kubernetes-operator"
    );
    let snapshots = loop {
        match start_up(&client, &namespace, &watched, &identity).await {
            Ok(snapshots) => break snapshots,
            Err(message) => {
                reporter.report(None, &message).await;
                tokio::time::sleep(RESTART_AFTER).await;
            }
        }
    };
    reporter.clear();
    let scopes: Vec<Option<String>> = match watched {
        Watched::All => vec![None],
        Watched::Some(namespaces) => namespaces.into_iter().map(Some).collect(),
    };
    let operator = Arc::new(Operator {
        client: client.clone(),
        config,
        reporter,
        identity,
        service_account: (namespace.clone(), service_account.clone()),
        native,
        snapshots,
        scopes: scopes.clone(),
        metrics: OperatorMetrics::default(),
    });
    let mut controllers = vec![tokio::spawn(metrics::serve(
        admin,
        deployment,
        operator.clone(),
    ))];
    for scope in scopes {
        controllers.push(tokio::spawn(deployment::run(
            operator.clone(),
            scope.clone(),
        )));
        controllers.push(tokio::spawn(session_job::run(
            operator.clone(),
            scope.clone(),
        )));
        if snapshots {
            controllers.push(tokio::spawn(snapshot::run(operator.clone(), scope)));
        }
    }
    // Aborting this task must end the controllers too.
    let _guard = AbortOnDrop(controllers.iter().map(|c| c.abort_handle()).collect());
    join_all(controllers).await;
}

struct AbortOnDrop(Vec<tokio::task::AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}

/// A Flink kind by name, for listing without a typed struct.
pub(super) fn flink_kind(kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("flink.apache.org", "v1beta1", kind))
}

/// The informers' first lists: every kind the controllers watch, in every
/// watched namespace (or cluster-wide). A missing CRD or a refused list stops
/// the start, with the reason; a missing FlinkStateSnapshot CRD only
/// disables snapshots (`Ok(false)`).
async fn start_up(
    client: &Client,
    own_namespace: &str,
    watched: &Watched,
    identity: &str,
) -> Result<bool, String> {
    let scopes: Vec<Option<&str>> = match watched {
        Watched::All => vec![None],
        Watched::Some(namespaces) => namespaces.iter().map(|n| Some(n.as_str())).collect(),
    };
    let one = ListParams::default().limit(1);
    for scope in &scopes {
        let where_ = match scope {
            Some(namespace) => format!("namespace {namespace}"),
            None => "all namespaces (no kubernetes.operator.watched.namespaces: watching all \
                     namespaces needs cluster-wide list and watch rights, a ClusterRole)"
                .to_owned(),
        };
        for kind in [
            "FlinkDeployment",
            "FlinkSessionJob",
            "FlinkBlueGreenDeployment",
        ] {
            let resource = flink_kind(kind);
            let api: Api<DynamicObject> = match scope {
                Some(namespace) => Api::namespaced_with(client.clone(), namespace, &resource),
                None => Api::all_with(client.clone(), &resource),
            };
            if let Err(error) = api.list(&one).await {
                return Err(refusal(&resource.plural, &where_, identity, &error));
            }
        }
        let deployments: Api<Deployment> = match scope {
            Some(namespace) => Api::namespaced(client.clone(), namespace),
            None => Api::all(client.clone()),
        };
        if let Err(error) = deployments.list(&one).await {
            return Err(refusal("deployments.apps", &where_, identity, &error));
        }
    }
    let snapshots: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        own_namespace,
        &flink_kind("FlinkStateSnapshot"),
    );
    if snapshots.list(&one).await.is_err() {
        tracing::info!(
            "FlinkStateSnapshot CRD was not installed, snapshot resources will be disabled!"
        );
        return Ok(false);
    }
    Ok(true)
}

fn refusal(plural: &str, where_: &str, identity: &str, error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if status.code == 404 => format!(
            "the CRD {plural}.flink.apache.org is not installed: it cannot watch {plural}, and \
             its start stops (kubernetes.operator.startup.stop-on-informer-error)"
        ),
        kube::Error::Api(status) if status.code == 403 => format!(
            "{identity} may not list {plural} in {where_}: {}; its start stops \
             (kubernetes.operator.startup.stop-on-informer-error), it serves no namespace",
            status.message
        ),
        other => format!("cannot list {plural} in {where_}: {other}; its start stops"),
    }
}
