//! Apps' web interfaces reached from dataport: one HTTP request to a
//! Service's port, either through the API server's service proxy (dataport
//! outside the cluster: the only way in that its credentials already give) or
//! straight to the Service's cluster DNS name (dataport inside the cluster).
//!
//! The service proxy path is the API server's `services/proxy` subresource,
//! `/api/v1/namespaces/{ns}/services/{name}:{port}/proxy/{path}` (kubernetes
//! v1.34, `pkg/registry/core/service/proxy.go`); it needs the caller to be
//! allowed `get` on `services/proxy` and the Service to have Endpoints. The
//! API server rewrites `Location` headers and absolute links of `text/html`
//! answers to that path (k8s.io/apimachinery v0.34,
//! `pkg/util/proxy/transport.go`), so answers name it in
//! [`UpstreamResponse::upstream_prefixes`] for the caller to rewrite.
//! WebSocket handshakes go the same ways ([`Cluster::service_upgrade`]).

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use http::{HeaderMap, Method, StatusCode};

use super::{Cluster, ClusterError};

mod api_server;
mod direct;
mod upgrade;

use direct::direct;

pub use upgrade::{SwitchedConnection, UpgradeAnswer, UpgradedStream};

/// How long an upstream has to answer with its headers.
pub const UPSTREAM_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// How dataport reaches a Service's port.
#[derive(Clone, Default)]
pub enum ServiceDial {
    /// Through the API server's service proxy, with the kube client's
    /// credentials (dataport outside the cluster).
    #[default]
    ApiServer,
    /// Straight to `http://{service}.{namespace}.svc:{port}` with this pooled
    /// client (dataport inside the cluster, where cluster DNS resolves it).
    Direct(reqwest::Client),
}

impl std::fmt::Debug for ServiceDial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ServiceDial::ApiServer => "ApiServer",
            ServiceDial::Direct(_) => "Direct",
        })
    }
}

impl ServiceDial {
    /// Straight to the Service, with a pooled client that never follows
    /// redirects (the browser does) and connects within 5 s.
    pub fn direct() -> Result<ServiceDial, ClusterError> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .map(ServiceDial::Direct)
            .map_err(|error| ClusterError::Upstream(error.to_string()))
    }
}

/// Which Service port a request goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTarget {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub service: String,
    /// The Service's port (its `port`, not the target port).
    pub port: u16,
}

impl ServiceTarget {
    /// The API server's service proxy path for this port, without a
    /// trailing slash.
    pub fn api_server_prefix(&self) -> String {
        format!(
            "/api/v1/namespaces/{}/services/{}:{}/proxy",
            self.namespace, self.service, self.port
        )
    }

    /// The Service's address inside the cluster, without a trailing slash.
    pub fn cluster_url(&self) -> String {
        format!(
            "http://{}.{}.svc:{}",
            self.service, self.namespace, self.port
        )
    }
}

/// One request to an upstream: already filtered by the caller.
#[derive(Debug)]
pub struct UpstreamRequest {
    /// The method.
    pub method: Method,
    /// Path and query on the upstream, starting with `/`.
    pub path_and_query: String,
    /// Headers to send (end-to-end ones only).
    pub headers: HeaderMap,
    /// The body, bounded by the caller.
    pub body: Bytes,
}

/// An upstream's answer, its body streamed.
pub struct UpstreamResponse {
    /// The upstream's status.
    pub status: StatusCode,
    /// Its headers, as received.
    pub headers: HeaderMap,
    /// Its body.
    pub body: BoxStream<'static, Result<Bytes, ClusterError>>,
    /// How absolute addresses of the upstream's root may appear in its
    /// `Location` headers and pages (e.g. the service proxy path), longest
    /// first, to be rewritten to where the user reached it.
    pub upstream_prefixes: Vec<String>,
}

impl std::fmt::Debug for UpstreamResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Dial Services this way from now on.
    pub fn with_service_dial(mut self, dial: ServiceDial) -> Cluster {
        self.service_dial = dial;
        self
    }

    /// How this handle dials Services.
    pub fn service_dial(&self) -> &ServiceDial {
        &self.service_dial
    }

    /// Sends `request` to `target`. Errors: [`ClusterError::Upstream`] when
    /// the upstream cannot be reached or answers no headers within
    /// [`UPSTREAM_HEADER_TIMEOUT`] (through the API server: its own 502/503
    /// `Status` answers, such as "no endpoints available for service"), or
    /// the API server's refusal (e.g. 403 without `services/proxy`).
    pub async fn service_request(
        &self,
        target: &ServiceTarget,
        request: UpstreamRequest,
    ) -> Result<UpstreamResponse, ClusterError> {
        let sent = match &self.service_dial {
            ServiceDial::ApiServer => self.through_api_server(target, request),
            ServiceDial::Direct(client) => Box::pin(direct(client, target, request)),
        };
        within_header_timeout(target, sent).await
    }

    /// A `GET` of `path_and_query` at `target` asking for JSON, its status
    /// and whole body: at most `max_bytes`, all read within `within`.
    /// `what` names the upstream in errors, e.g. "Prometheus". Errors:
    /// [`ClusterError::Upstream`] when it cannot be reached, answers more,
    /// or not in time.
    pub(super) async fn get_json_answer(
        &self,
        target: &ServiceTarget,
        path_and_query: String,
        what: &str,
        max_bytes: usize,
        within: Duration,
    ) -> Result<(StatusCode, Vec<u8>), ClusterError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        let request = UpstreamRequest {
            method: Method::GET,
            path_and_query,
            headers,
            body: Bytes::new(),
        };
        let read = async {
            let answer = self.service_request(target, request).await?;
            let mut body = Vec::new();
            let mut chunks = answer.body;
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk?;
                if body.len() + chunk.len() > max_bytes {
                    return Err(ClusterError::Upstream(format!(
                        "{what} answered more than {} MiB",
                        max_bytes as f64 / (1024.0 * 1024.0)
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            Ok((answer.status, body))
        };
        tokio::time::timeout(within, read).await.map_err(|_| {
            ClusterError::Upstream(format!(
                "{what} did not answer within {} s",
                within.as_secs_f64()
            ))
        })?
    }
}

/// `answer`, unless the upstream takes longer than
/// [`UPSTREAM_HEADER_TIMEOUT`] to send its headers.
async fn within_header_timeout<T>(
    target: &ServiceTarget,
    answer: impl std::future::Future<Output = Result<T, ClusterError>>,
) -> Result<T, ClusterError> {
    tokio::time::timeout(UPSTREAM_HEADER_TIMEOUT, answer)
        .await
        .map_err(|_| {
            ClusterError::Upstream(format!(
                "{} did not answer within {} s",
                target.service,
                UPSTREAM_HEADER_TIMEOUT.as_secs()
            ))
        })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_names_the_service_proxy_path_and_the_cluster_address() {
        let target = ServiceTarget {
            namespace: "streaming".to_owned(),
            service: "flink-main-rest".to_owned(),
            port: 8081,
        };
        assert_eq!(
            target.api_server_prefix(),
            "/api/v1/namespaces/streaming/services/flink-main-rest:8081/proxy"
        );
        assert_eq!(
            target.cluster_url(),
            "http://flink-main-rest.streaming.svc:8081"
        );
    }
}
