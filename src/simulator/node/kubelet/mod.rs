//! The node's kubelet endpoint: where the API server sends `pods/log`.
//!
//! The API server answers `GET /api/v1/namespaces/NS/pods/NAME/log` by
//! proxying to the node the pod is bound to: HTTPS to the node's address of
//! `Node.status.addresses` (by `--kubelet-preferred-address-types`) and port
//! `Node.status.daemonEndpoints.kubeletEndpoint.Port`, path
//! `/containerLogs/NS/POD/CONTAINER` with the query `follow`, `previous`,
//! `timestamps`, `sinceSeconds`, `sinceTime`, `tailLines`, `limitBytes`
//! (kubernetes v1.34, `pkg/registry/core/pod/strategy.go` `LogLocation`,
//! `pkg/kubelet/client/kubelet_client.go`). It answers a non-2xx status with
//! the body's text as the message of its own error of that status
//! (`pods/log`'s response checker), as `kubectl logs` shows it.
//!
//! This endpoint serves that path the way the kubelet's does
//! (`pkg/kubelet/server/server.go` `containerLogs`): the output a container of
//! the process node really wrote ([`logs`]); for a container that is only
//! simulated, a 400 saying so, as the kubelet answers for a container that has
//! no log. It speaks TLS with a self-signed certificate (the API server checks
//! a kubelet's certificate only when given `--kubelet-certificate-authority`)
//! and requires a client certificate signed by the cluster's CA, the one the
//! API server presents with `--kubelet-client-certificate` (see
//! `testenv/controlplane.sh`): only the API server reads logs here, and the
//! API server has authorized the caller's `get pods/log` already.

mod logs;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use kube::Client;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::process::ProcessNode;
use crate::error::StartError;

/// What the endpoint's handlers reach.
#[derive(Clone)]
struct Kubelet {
    client: Client,
    node_name: String,
    processes: Option<Arc<ProcessNode>>,
}

/// The endpoint, bound and ready to serve.
pub struct Endpoint {
    listener: TlsListener,
    router: Router,
    /// The port it listens on (127.0.0.1), for `daemonEndpoints`.
    pub port: u16,
}

/// Binds the endpoint on a free port of 127.0.0.1 (the node's InternalIP),
/// trusting client certificates signed by one of `client_ca` (DER; the
/// cluster's CA from the node's kubeconfig). Errors: the port cannot be bound,
/// or the certificate or CA cannot be used.
pub async fn bind(
    client: Client,
    node_name: &str,
    client_ca: &[Vec<u8>],
    processes: Option<Arc<ProcessNode>>,
) -> Result<Endpoint, StartError> {
    let tls = tls_config(node_name, client_ca).map_err(StartError::Refused)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    let tcp = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let port = tcp
        .local_addr()
        .map_err(|source| StartError::Listen { addr, source })?
        .port();
    let kubelet = Kubelet {
        client,
        node_name: node_name.to_owned(),
        processes,
    };
    let router = Router::new()
        .route(
            "/containerLogs/{namespace}/{pod}/{container}",
            get(logs::container_logs),
        )
        .with_state(kubelet);
    Ok(Endpoint {
        listener: TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(tls)),
        },
        router,
        port,
    })
}

impl Endpoint {
    /// Serves until the process ends.
    pub async fn serve(self) -> Result<(), StartError> {
        axum::serve(self.listener, self.router)
            .await
            .map_err(StartError::Serve)
    }
}

/// A self-signed serving certificate for 127.0.0.1 and the node's name; a
/// client certificate from `client_ca` required; HTTP/1.1 (the API server's
/// log proxy streams over either).
fn tls_config(node_name: &str, client_ca: &[Vec<u8>]) -> Result<rustls::ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let names = vec![
        "127.0.0.1".to_owned(),
        "localhost".to_owned(),
        node_name.to_owned(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("kubelet serving certificate: {e}"))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let mut roots = rustls::RootCertStore::empty();
    for der in client_ca {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| format!("the cluster CA for kubelet clients: {e}"))?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| {
        format!("kubelet client verification (does the kubeconfig name the cluster's CA?): {e}")
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .map_err(|e| format!("kubelet serving certificate: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// TCP connections that completed a TLS handshake with a trusted client.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

/// How long a client may take over its handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, addr) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::debug!(%error, "kubelet endpoint: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            match tokio::time::timeout(HANDSHAKE, self.acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => return (tls, addr),
                Ok(Err(error)) => {
                    tracing::debug!(%error, %addr, "kubelet endpoint: TLS handshake refused")
                }
                Err(_) => tracing::debug!(%addr, "kubelet endpoint: TLS handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
