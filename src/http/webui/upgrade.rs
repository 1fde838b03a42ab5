//! WebSockets through the proxy (MinIO's object browser, Grafana Live): the
//! handshake is passed on like any request, and once the upstream switches
//! protocols (`101`) both connections are joined and bytes copied each way
//! until either side closes. dataport reads no frame: as the API server's own
//! proxy, it relays the connection, not its messages.
//!
//! Who may: a WebSocket carries whatever the page sends, reads and changes
//! alike, so opening one is an operator's ([`super::super::auth`]); and the
//! handshake must come from a page of this portal (`Origin`), since browsers
//! send cookies with any site's WebSocket handshake (cross-site WebSocket
//! hijacking).

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::headers::{forwarded_headers, returned_headers};
use super::{WebUiPath, passed_on};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::service::{SwitchedConnection, UpgradeAnswer, UpstreamRequest};

/// Whether a request opens a WebSocket: a `GET` with `Upgrade: websocket`
/// and `Connection: Upgrade` (RFC 6455 §4.1). Other upgrades (`h2c`) are
/// not passed on.
pub fn is_websocket_handshake(method: &Method, headers: &HeaderMap) -> bool {
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|word| word.trim().eq_ignore_ascii_case(token))
    };
    *method == Method::GET
        && has_token(header::UPGRADE, "websocket")
        && has_token(header::CONNECTION, "upgrade")
}

/// The handshake's headers as sent upstream: the end-to-end ones the proxy
/// forwards, with the upgrade's own hop-by-hop pair put back.
fn handshake_headers(headers: &HeaderMap, prefix: &str) -> HeaderMap {
    let mut sent = forwarded_headers(headers, prefix);
    with_upgrade(&mut sent);
    sent
}

fn with_upgrade(headers: &mut HeaderMap) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
}

/// Passes the WebSocket handshake `parts` on to interface `target` of
/// instance `id`; on `101`, joins the two connections.
pub(super) async fn relayed(
    state: &AppState,
    id: uuid::Uuid,
    target: &WebUiPath<'_>,
    mut parts: Parts,
) -> Result<Response, HttpError> {
    // Only a connection hyper can hand over has one (HTTP/1.1).
    let client = parts
        .extensions
        .remove::<OnUpgrade>()
        .ok_or_else(|| HttpError::Rejected {
            status: StatusCode::BAD_REQUEST,
            message: "This connection cannot be upgraded to a WebSocket (HTTP/1.1 only)".to_owned(),
        })?;
    let prefix = target.prefix();
    let handshake = UpstreamRequest {
        method: Method::GET,
        path_and_query: target.upstream_path_and_query(&parts.uri),
        headers: handshake_headers(&parts.headers, &prefix),
        body: Bytes::new(),
    };
    match state
        .service
        .web_ui_upgrade(id, target.ui, handshake)
        .await?
    {
        UpgradeAnswer::Answered(answer) => Ok(passed_on(answer, &prefix).await),
        UpgradeAnswer::Switched(upstream) => Ok(switched(client, upstream, &prefix)),
    }
}

/// The `101` for the browser, and the copying once it has switched.
fn switched(client: OnUpgrade, upstream: SwitchedConnection, prefix: &str) -> Response {
    let mut headers = returned_headers(&upstream.headers, &upstream.upstream_prefixes, prefix);
    with_upgrade(&mut headers);
    let mut upstream_stream = upstream.stream;
    tokio::spawn(async move {
        let mut client_stream = match client.await {
            Ok(upgraded) => TokioIo::new(upgraded),
            Err(error) => {
                tracing::debug!(%error, "the browser's WebSocket connection was not handed over");
                return;
            }
        };
        match tokio::io::copy_bidirectional(&mut client_stream, &mut upstream_stream).await {
            Ok((sent, received)) => {
                tracing::debug!(sent, received, "WebSocket through the proxy closed");
            }
            Err(error) => tracing::debug!(%error, "WebSocket through the proxy broke off"),
        }
    });
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use super::super::tests::headers;
    use super::*;

    #[test]
    fn a_websocket_handshake_is_a_get_asking_to_upgrade_to_websocket() {
        let handshake = headers(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "WebSocket"),
        ]);
        assert!(is_websocket_handshake(&Method::GET, &handshake));
        assert!(!is_websocket_handshake(&Method::POST, &handshake));
        let h2c = headers(&[
            ("connection", "Upgrade, HTTP2-Settings"),
            ("upgrade", "h2c"),
        ]);
        assert!(!is_websocket_handshake(&Method::GET, &h2c));
        // `Upgrade` without `Connection: Upgrade` asks for nothing.
        assert!(!is_websocket_handshake(
            &Method::GET,
            &headers(&[("upgrade", "websocket")])
        ));
    }

    #[test]
    fn the_handshake_keeps_its_websocket_headers_and_drops_dataports() {
        let sent = handshake_headers(
            &headers(&[
                ("connection", "Upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("sec-websocket-version", "13"),
                ("sec-websocket-protocol", "grafana-live"),
                ("cookie", "dataport_session=secret; grafana_session=g"),
                ("origin", "http://portal:8080"),
            ]),
            "/instances/i/ui/grafana",
        );
        assert_eq!(sent["connection"], "Upgrade");
        assert_eq!(sent["upgrade"], "websocket");
        assert_eq!(sent["sec-websocket-key"], "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(sent["sec-websocket-protocol"], "grafana-live");
        assert_eq!(sent["cookie"], "grafana_session=g");
        assert_eq!(sent["origin"], "http://portal:8080");
    }
}
