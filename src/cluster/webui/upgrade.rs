//! A connection upgraded to another protocol (a WebSocket, RFC 6455 §4) with
//! an app's web interface: the handshake sent as one HTTP/1.1 request, and,
//! when the upstream switches protocols (`101`), the raw connection to it.
//! Through the API server, its service proxy carries upgrades itself
//! (kubernetes v1.34 `pkg/registry/core/service/proxy.go` hands the request to
//! apimachinery's `UpgradeAwareHandler`, which dials the endpoint and copies
//! bytes both ways once the backend answers `101`). It drops the handshake's
//! query on the way: its upgrade path dials the Service's location, which
//! has none (apimachinery `upgradeaware.go` `tryUpgrade`; open as
//! kubernetes/kubernetes#77142), so through the API server an upstream's
//! WebSocket gets its path alone. Dialled straight, the query stays.

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::api_server::api_server_answer;
use super::direct::{direct_answer, send_direct};
use super::{ServiceDial, ServiceTarget, UpstreamRequest, UpstreamResponse, within_header_timeout};
use crate::cluster::{Cluster, ClusterError};

/// A byte stream both ways, the upstream's end of a switched connection.
pub trait UpgradedStream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> UpgradedStream for T {}

/// What an upstream made of an upgrade request.
pub enum UpgradeAnswer {
    /// It switched protocols (`101`): the connection is now the new
    /// protocol's.
    Switched(SwitchedConnection),
    /// It answered as to any request (a refusal, a redirect, a page).
    Answered(UpstreamResponse),
}

/// An upstream's `101 Switching Protocols` and the connection after it.
pub struct SwitchedConnection {
    /// The `101` answer's headers, as received (`Sec-WebSocket-Accept`,
    /// the chosen `Sec-WebSocket-Protocol`, …).
    pub headers: http::HeaderMap,
    /// As [`UpstreamResponse::upstream_prefixes`].
    pub upstream_prefixes: Vec<String>,
    /// The connection, to copy bytes to and from.
    pub stream: Box<dyn UpgradedStream>,
}

impl std::fmt::Debug for UpgradeAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpgradeAnswer::Switched(switched) => f
                .debug_struct("Switched")
                .field("headers", &switched.headers)
                .finish_non_exhaustive(),
            UpgradeAnswer::Answered(answer) => f.debug_tuple("Answered").field(answer).finish(),
        }
    }
}

impl Cluster {
    /// Sends the upgrade request `request` (its `Connection: Upgrade` and
    /// `Upgrade` headers set by the caller) to `target`, the way
    /// [`Cluster::service_request`] sends any request. Errors: as
    /// [`Cluster::service_request`]'s, and [`ClusterError::Upstream`] when the
    /// switched connection cannot be taken over.
    pub async fn service_upgrade(
        &self,
        target: &ServiceTarget,
        request: UpstreamRequest,
    ) -> Result<UpgradeAnswer, ClusterError> {
        let switched = async {
            match &self.service_dial {
                ServiceDial::ApiServer => {
                    if let Some((path, query)) = request.path_and_query.split_once('?') {
                        tracing::warn!(
                            service = %target.service,
                            path,
                            query,
                            "the API server's service proxy drops a WebSocket handshake's query \
                             (kubernetes/kubernetes#77142); the upstream gets the path alone"
                        );
                    }
                    let prefix = target.api_server_prefix();
                    let response = self.send_through_api_server(target, request).await?;
                    if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
                        return api_server_answer(response, prefix, &target.service)
                            .await
                            .map(UpgradeAnswer::Answered);
                    }
                    let headers = response.headers().clone();
                    let upgraded = hyper::upgrade::on(response)
                        .await
                        .map_err(|error| taken_over(target, &error))?;
                    Ok(UpgradeAnswer::Switched(SwitchedConnection {
                        headers,
                        upstream_prefixes: vec![prefix],
                        stream: Box::new(TokioIo::new(upgraded)),
                    }))
                }
                ServiceDial::Direct(client) => {
                    let base = target.cluster_url();
                    let response = send_direct(client, target, request).await?;
                    if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
                        return Ok(UpgradeAnswer::Answered(direct_answer(response, base)));
                    }
                    let headers = response.headers().clone();
                    let upgraded = response
                        .upgrade()
                        .await
                        .map_err(|error| taken_over(target, &error))?;
                    Ok(UpgradeAnswer::Switched(SwitchedConnection {
                        headers,
                        upstream_prefixes: vec![base],
                        stream: Box::new(upgraded),
                    }))
                }
            }
        };
        within_header_timeout(target, switched).await
    }
}

fn taken_over(target: &ServiceTarget, error: &dyn std::fmt::Display) -> ClusterError {
    ClusterError::Upstream(format!(
        "{} switched protocols, but its connection could not be taken over: {error}",
        target.service
    ))
}
