//! The cluster: everything dataport says to the Kubernetes API server.

mod apply;
mod checkpoints;
pub mod crds;
pub mod events;
mod flink;
pub mod instances;
mod jobs;
pub mod leader;
pub mod pods;
pub mod prometheus;
mod secrets;
pub mod snapshots;
pub mod watch;
pub mod webui;

pub use apply::describe;
pub use instances::flink_ha_selector;

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use thiserror::Error;

/// Errors of the cluster layer.
#[derive(Debug, Error)]
pub enum ClusterError {
    /// The kubeconfig could not be read or understood.
    #[error("cannot use kubeconfig {path}: {message}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// What was wrong with it.
        message: String,
    },
    /// No kubeconfig was given and the process is not inside a cluster.
    #[error("no cluster configured: pass --kubeconfig or set KUBECONFIG")]
    NotConfigured,
    /// The API server answered with an error or could not be reached.
    #[error("Kubernetes API: {0}")]
    Api(#[from] kube::Error),
    /// The API server refused an object.
    #[error("{object}: {source}")]
    Refused {
        /// Which object.
        object: String,
        /// The API server's answer.
        source: kube::Error,
    },
    /// The API server did not reach the expected state in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// An object could not be encoded.
    #[error("cannot encode object: {0}")]
    Encode(String),
    /// The leader election's Lease could not be used.
    #[error("leader election: {0}")]
    Lease(String),
    /// A followed container log broke off.
    #[error("container log: {0}")]
    Log(String),
    /// An app's web interface could not be reached (see [`webui`]).
    #[error("{0}")]
    Upstream(String),
}

impl ClusterError {
    /// Whether the API server could not be reached at all (rather than refusing).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            ClusterError::Api(kube::Error::HyperError(_) | kube::Error::Service(_))
                | ClusterError::Refused {
                    source: kube::Error::HyperError(_) | kube::Error::Service(_),
                    ..
                }
                | ClusterError::Timeout(_)
        )
    }
}

/// A connection to one Kubernetes API server.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    /// The same credentials without the kube client's retries of 503 and
    /// 504 answers: through the API server's service proxy those mean the
    /// app does not answer, and retrying them would hold a page for the
    /// whole upstream timeout before saying so.
    proxy_client: Client,
    requests: RequestCounter,
    /// How apps' web interfaces are reached.
    service_dial: webui::ServiceDial,
}

/// Counts the requests sent to the API server (exported as a metric).
pub type RequestCounter = prometheus_client::metrics::counter::Counter;

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects with the kubeconfig at `path`, or with the in-cluster service
    /// account when `path` is `None` and the process runs in a pod. `Ok(None)`
    /// when neither is there: the portal then runs without a cluster.
    pub async fn connect(path: Option<&Path>) -> Result<Option<Cluster>, ClusterError> {
        install_crypto_provider();
        let config = match path {
            Some(path) => {
                // Parser errors quote the input over several lines: the first says it.
                let kubeconfig_error = |message: String| ClusterError::Kubeconfig {
                    path: path.display().to_string(),
                    message: message.lines().next().unwrap_or_default().to_owned(),
                };
                let kubeconfig =
                    Kubeconfig::read_from(path).map_err(|e| kubeconfig_error(e.to_string()))?;
                Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                    .await
                    .map_err(|e| kubeconfig_error(e.to_string()))?
            }
            None => match Config::incluster() {
                Ok(config) => config,
                Err(_) => return Ok(None),
            },
        };
        Cluster::from_config(config).map(Some)
    }

    /// A cluster handle from a client configuration (for example one that
    /// impersonates dataport's service account).
    pub fn from_config(config: Config) -> Result<Cluster, ClusterError> {
        install_crypto_provider();
        let requests = RequestCounter::default();
        let counted = |config: Config| -> Result<Client, ClusterError> {
            let counter = requests.clone();
            Ok(kube::client::ClientBuilder::try_from(config)?
                .with_layer(&tower::util::MapRequestLayer::new(move |request| {
                    counter.inc();
                    request
                }))
                .build())
        };
        let mut without_retries = config.clone();
        without_retries.default_retry = false;
        let proxy_client = counted(without_retries)?;
        let client = counted(config)?;
        Ok(Cluster {
            client,
            proxy_client,
            requests,
            service_dial: webui::ServiceDial::default(),
        })
    }

    /// Like [`Cluster::connect`], but a missing cluster is an error.
    pub async fn connect_required(path: Option<&Path>) -> Result<Cluster, ClusterError> {
        Cluster::connect(path)
            .await?
            .ok_or(ClusterError::NotConfigured)
    }

    /// Checks that the API server answers; returns its version.
    pub async fn ping(&self) -> Result<String, ClusterError> {
        let info = self.client.apiserver_version().await?;
        Ok(info.git_version)
    }

    /// The counter of requests sent to the API server.
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
    }

    /// The kube client, for the simulator and the layers below `service`.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The client for the API server's service proxy (no retries).
    pub(crate) fn proxy_client(&self) -> &Client {
        &self.proxy_client
    }
}

/// rustls needs one process-wide crypto provider; several crates in the tree
/// enable one, so name ours. A second call is a no-op.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
