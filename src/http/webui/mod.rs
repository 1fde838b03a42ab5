//! Apps' web interfaces through dataport: an authenticated reverse proxy at
//! `/instances/{id}/ui/{name}/…` (Flink WebUI, MinIO console, StreamPark,
//! HDFS namenode UI, Grafana). Who may do what is [`super::auth`]'s: a viewer
//! may look (GET, HEAD), an operator or admin may act.
//!
//! What is forwarded: the method, the path under the interface's root, the
//! query, end-to-end headers without dataport's own credentials (its session
//! cookie, `Authorization`, `X-CSRF-Token`) and the body (at most
//! [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES)). What comes back: the status,
//! end-to-end headers (a `Location` moved under the proxy path, no cookie
//! named like dataport's), the body streamed (at most [`MAX_UI_RESPONSE_BYTES`]).
//! Hop-by-hop headers (RFC 9110 §7.6.1: `Connection` and the headers it
//! names, `Keep-Alive`, `Proxy-*`, `TE`, `Trailer`, `Transfer-Encoding`,
//! `Upgrade`) go neither way ([`headers`]), except a WebSocket handshake's
//! pair: WebSockets are relayed whole ([`upgrade`]).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::any;
use futures::StreamExt;

use super::error::{HttpError, refusal};
use super::page::Layout;
use super::{AppState, MAX_BODY_BYTES};
use crate::service::{UpstreamRequest, UpstreamResponse};

mod headers;
mod upgrade;

use headers::{forwarded_headers, returned_headers};
pub use upgrade::is_websocket_handshake;

/// The session cookie's name, never forwarded nor taken from an upstream.
pub const SESSION_COOKIE: &str = "dataport_session";

/// Largest answer body passed on; past it the answer is cut off.
pub const MAX_UI_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Largest HTML page rewritten for the API server's links.
const MAX_REWRITTEN_PAGE_BYTES: usize = 8 * 1024 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/instances/{id}/ui/{ui}", any(to_root))
        .route("/instances/{id}/ui/{ui}/", any(proxy))
        .route("/instances/{id}/ui/{ui}/{*rest}", any(proxy))
}

/// Where a request for a web interface goes: the instance, the interface,
/// and the path under its root (starting with `/`).
#[derive(Debug, PartialEq, Eq)]
pub struct WebUiPath<'a> {
    /// The instance id as written.
    pub id: &'a str,
    /// The interface's name.
    pub ui: &'a str,
    /// The path on the upstream, starting with `/` (empty for the bare root).
    pub rest: &'a str,
}

impl WebUiPath<'_> {
    /// The public prefix, `/instances/{id}/ui/{ui}`, without a trailing slash.
    pub fn prefix(&self) -> String {
        format!("/instances/{}/ui/{}", self.id, self.ui)
    }

    /// The path under the interface's root with `uri`'s query, as the
    /// upstream is asked for it (starting with `/`).
    pub fn upstream_path_and_query(&self, uri: &axum::http::Uri) -> String {
        let query = uri
            .query()
            .map(|query| format!("?{query}"))
            .unwrap_or_default();
        format!("/{}{query}", self.rest.trim_start_matches('/'))
    }
}

/// `path` split as a web interface request, when it is one.
pub fn web_ui_path(path: &str) -> Option<WebUiPath<'_>> {
    let rest = path.strip_prefix("/instances/")?;
    let (id, rest) = rest.split_once('/')?;
    let rest = rest.strip_prefix("ui/")?;
    let (ui, rest) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    (!id.is_empty() && !ui.is_empty()).then_some(WebUiPath { id, ui, rest })
}

/// Whether a request would rather have a page than JSON (a browser's
/// navigation), to answer errors and anonymous visitors the way it reads them.
pub fn wants_page(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

async fn to_root(request: Request) -> Response {
    let path = request.uri().path();
    let query = request
        .uri()
        .query()
        .map(|query| format!("?{query}"))
        .unwrap_or_default();
    Redirect::temporary(&format!("{path}/{query}")).into_response()
}

async fn proxy(State(state): State<AppState>, layout: Layout, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let page = wants_page(&parts.headers);
    let fail = |error: HttpError| refusal(error, !page, layout.clone());
    let path = parts.uri.path().to_owned();
    let Some(target) = web_ui_path(&path) else {
        return fail(HttpError::NotFound(format!("no page at {path}")));
    };
    let Ok(id) = target.id.parse::<uuid::Uuid>() else {
        return fail(HttpError::NotFound(format!("no instance {}", target.id)));
    };
    if is_websocket_handshake(&parts.method, &parts.headers) {
        return match upgrade::relayed(&state, id, &target, parts).await {
            Ok(response) => response,
            Err(error) => fail(error),
        };
    }
    let prefix = target.prefix();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return fail(HttpError::Rejected {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "Requests through dataport carry at most {} KiB",
                MAX_BODY_BYTES / 1024
            ),
        });
    };
    let upstream = UpstreamRequest {
        method: parts.method.clone(),
        path_and_query: target.upstream_path_and_query(&parts.uri),
        headers: forwarded_headers(&parts.headers, &prefix),
        body,
    };
    match state.service.web_ui_request(id, target.ui, upstream).await {
        Ok(answer) => passed_on(answer, &prefix).await,
        Err(error) => fail(error.into()),
    }
}

async fn passed_on(answer: UpstreamResponse, prefix: &str) -> Response {
    let mut headers = returned_headers(&answer.headers, &answer.upstream_prefixes, prefix);
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let encoded = headers.contains_key(header::CONTENT_ENCODING);
    let api_server_paths: Vec<&String> = answer
        .upstream_prefixes
        .iter()
        .filter(|upstream| upstream.starts_with('/'))
        .collect();
    let body = if html && !encoded && !api_server_paths.is_empty() {
        // The API server wrote its proxy path into the page's absolute links.
        let mut page = Vec::new();
        let mut chunks = answer.body;
        while let Some(chunk) = chunks.next().await {
            let Ok(chunk) = chunk else { break };
            if page.len() + chunk.len() > MAX_REWRITTEN_PAGE_BYTES {
                break;
            }
            page.extend_from_slice(&chunk);
        }
        for upstream in api_server_paths {
            page = replace_all(&page, upstream.as_bytes(), prefix.as_bytes());
        }
        headers.remove(header::CONTENT_LENGTH);
        Body::from(page)
    } else {
        let mut sent = 0usize;
        Body::from_stream(answer.body.map(move |chunk| {
            let chunk: Bytes = chunk?;
            sent += chunk.len();
            if sent > MAX_UI_RESPONSE_BYTES {
                return Err(crate::service::ServiceError::Upstream(format!(
                    "answer larger than {} MiB cut off",
                    MAX_UI_RESPONSE_BYTES / 1024 / 1024
                )));
            }
            Ok(chunk)
        }))
    };
    let mut response = Response::new(body);
    *response.status_mut() = answer.status;
    *response.headers_mut() = headers;
    response
}

/// `text` with every `from` replaced by `to`.
fn replace_all(text: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        if !from.is_empty() && text[at..].starts_with(from) {
            out.extend_from_slice(to);
            at += from.len();
        } else {
            out.push(text[at]);
            at += 1;
        }
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};

    /// A header map of `pairs`, for the proxy's tests.
    pub(in crate::http::webui) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn a_proxy_path_splits_into_instance_interface_and_rest() {
        let id = "9f1c2e3a-0000-4000-8000-000000000001";
        let path = format!("/instances/{id}/ui/flink-webui/jobs/overview");
        let split = web_ui_path(&path).unwrap();
        assert_eq!(
            (split.id, split.ui, split.rest),
            (id, "flink-webui", "/jobs/overview")
        );
        assert_eq!(split.prefix(), format!("/instances/{id}/ui/flink-webui"));
        assert_eq!(web_ui_path("/instances/x/ui/grafana").unwrap().rest, "");
        assert_eq!(web_ui_path("/instances/x/ui/").map(|p| p.ui), None);
        assert_eq!(web_ui_path("/instances/x/pods/p"), None);
        assert_eq!(web_ui_path("/api/v1/instances/x/ui/y"), None);
    }

    #[test]
    fn the_api_servers_links_in_a_page_become_the_proxy_path() {
        let page = br#"<a href="/api/v1/x/proxy/jobs">jobs</a><img src="/api/v1/x/proxy/a.png">"#;
        let out = replace_all(page, b"/api/v1/x/proxy", b"/instances/i/ui/hdfs");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"<a href="/instances/i/ui/hdfs/jobs">jobs</a><img src="/instances/i/ui/hdfs/a.png">"#
        );
    }

    #[test]
    fn browsers_navigating_want_pages_and_scripts_want_json() {
        assert!(wants_page(&headers(&[(
            "accept",
            "text/html,application/xhtml+xml,*/*;q=0.8"
        )])));
        assert!(!wants_page(&headers(&[(
            "accept",
            "application/json, text/plain, */*"
        )])));
        assert!(!wants_page(&HeaderMap::new()));
    }
}
