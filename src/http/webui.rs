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
//! `Upgrade`) go neither way.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::any;
use futures::StreamExt;

use super::error::{HttpError, refusal};
use super::page::Layout;
use super::{AppState, MAX_BODY_BYTES};
use crate::service::{UpstreamRequest, UpstreamResponse};

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
    let query = parts
        .uri
        .query()
        .map(|query| format!("?{query}"))
        .unwrap_or_default();
    let upstream = UpstreamRequest {
        method: parts.method.clone(),
        path_and_query: format!("/{}{query}", target.rest.trim_start_matches('/')),
        headers: forwarded_headers(&parts.headers, &prefix),
        body,
    };
    match state.service.web_ui_request(id, target.ui, upstream).await {
        Ok(answer) => passed_on(answer, &prefix).await,
        Err(error) => fail(error.into()),
    }
}

/// Hop-by-hop headers (RFC 9110 §7.6.1, and `Proxy-Connection`, which old
/// clients send).
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// `headers` without hop-by-hop ones, including those `Connection` names.
fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut kept = HeaderMap::new();
    for (name, value) in headers {
        let lower = name.as_str();
        if HOP_BY_HOP.contains(&lower) || named.iter().any(|named| named == lower) {
            continue;
        }
        kept.append(name.clone(), value.clone());
    }
    kept
}

/// What is sent upstream of a request's headers: end-to-end ones without
/// dataport's credentials, `Host` (the client sets the upstream's) and
/// `Content-Length` (the body is sent whole); with `X-Forwarded-Prefix`
/// naming where the user reached it.
pub fn forwarded_headers(headers: &HeaderMap, prefix: &str) -> HeaderMap {
    let mut kept = end_to_end(headers);
    for name in [
        header::HOST,
        header::CONTENT_LENGTH,
        header::AUTHORIZATION,
        header::COOKIE,
        HeaderName::from_static(super::auth::CSRF_HEADER),
    ] {
        kept.remove(name);
    }
    let cookies: Vec<&str> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .map(str::trim)
        .filter(|pair| !pair.is_empty() && cookie_name(pair) != SESSION_COOKIE)
        .collect();
    if !cookies.is_empty()
        && let Ok(value) = HeaderValue::from_str(&cookies.join("; "))
    {
        kept.insert(header::COOKIE, value);
    }
    if let Ok(value) = HeaderValue::from_str(prefix) {
        kept.insert("x-forwarded-prefix", value);
    }
    kept
}

fn cookie_name(pair: &str) -> &str {
    pair.split('=').next().unwrap_or_default().trim()
}

/// What is passed back of an answer's headers: end-to-end ones, without a
/// cookie named like dataport's session, with `Location` moved under
/// `prefix` (see [`rewritten_location`]).
pub fn returned_headers(
    headers: &HeaderMap,
    upstream_prefixes: &[String],
    prefix: &str,
) -> HeaderMap {
    let mut kept = end_to_end(headers);
    kept.remove(header::SET_COOKIE);
    for value in headers.get_all(header::SET_COOKIE) {
        let named_ours = value
            .to_str()
            .is_ok_and(|cookie| cookie_name(cookie) == SESSION_COOKIE);
        if !named_ours {
            kept.append(header::SET_COOKIE, value.clone());
        }
    }
    if let Some(location) = headers
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        && let Ok(value) =
            HeaderValue::from_str(&rewritten_location(location, upstream_prefixes, prefix))
    {
        kept.insert(header::LOCATION, value);
    }
    kept
}

/// A redirect's target as the user reaches it: an address of the upstream's
/// root (a path from `/`, the Service's address, or the API server's proxy
/// path, with or without the API server's host) moved under `prefix`;
/// relative targets and other hosts' addresses as they are.
pub fn rewritten_location(location: &str, upstream_prefixes: &[String], prefix: &str) -> String {
    // An app serving under the proxy path names it itself.
    if location
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
    {
        return location.to_owned();
    }
    for upstream in upstream_prefixes {
        if let Some(rest) = location.strip_prefix(upstream.as_str())
            && (rest.is_empty() || rest.starts_with(['/', '?']))
        {
            return format!("{prefix}{}", if rest.is_empty() { "/" } else { rest });
        }
    }
    if let Ok(url) = url::Url::parse(location) {
        // The API server puts its own host in front of its proxy path.
        let path = &location[url[..url::Position::BeforePath].len()..];
        let through_api_server = upstream_prefixes
            .iter()
            .any(|upstream| upstream.starts_with('/') && path.starts_with(upstream.as_str()));
        return if through_api_server {
            rewritten_location(path, upstream_prefixes, prefix)
        } else {
            location.to_owned()
        };
    }
    if location.starts_with('/') && !location.starts_with("//") {
        return format!("{prefix}{location}");
    }
    location.to_owned()
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
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
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
    fn dataports_credentials_and_hop_by_hop_headers_stay_behind() {
        let sent = headers(&[
            (
                "cookie",
                "grafana_session=g1; dataport_session=secret; lang=en",
            ),
            ("authorization", "Bearer dpt_secret"),
            ("x-csrf-token", "token"),
            ("connection", "keep-alive, x-private-hop"),
            ("x-private-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("upgrade", "h2c"),
            ("proxy-authorization", "Basic x"),
            ("host", "dataport.example.com"),
            ("content-length", "3"),
            ("accept", "application/json"),
            ("content-type", "application/json"),
        ]);
        let forwarded = forwarded_headers(&sent, "/instances/i/ui/flink-webui");
        assert_eq!(forwarded["cookie"], "grafana_session=g1; lang=en");
        assert_eq!(forwarded["accept"], "application/json");
        assert_eq!(forwarded["content-type"], "application/json");
        assert_eq!(
            forwarded["x-forwarded-prefix"],
            "/instances/i/ui/flink-webui"
        );
        for gone in [
            "authorization",
            "x-csrf-token",
            "connection",
            "x-private-hop",
            "keep-alive",
            "te",
            "upgrade",
            "proxy-authorization",
            "host",
            "content-length",
        ] {
            assert!(!forwarded.contains_key(gone), "{gone} was forwarded");
        }
        let only_ours = forwarded_headers(&headers(&[("cookie", "dataport_session=s")]), "/p");
        assert!(!only_ours.contains_key("cookie"));
    }

    #[test]
    fn answers_keep_their_own_cookies_but_never_one_named_like_dataports() {
        let answer = headers(&[
            ("set-cookie", "grafana_session=abc; Path=/; HttpOnly"),
            ("set-cookie", "dataport_session=forged; Path=/"),
            ("transfer-encoding", "chunked"),
            ("connection", "close"),
            ("content-type", "text/plain"),
        ]);
        let returned = returned_headers(&answer, &[], "/instances/i/ui/grafana");
        let cookies: Vec<_> = returned.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["grafana_session=abc; Path=/; HttpOnly"]);
        assert!(!returned.contains_key("transfer-encoding"));
        assert!(!returned.contains_key("connection"));
        assert_eq!(returned["content-type"], "text/plain");
    }

    #[test]
    fn redirects_stay_under_the_proxy_path() {
        let prefix = "/instances/i/ui/flink-webui";
        let api = "/api/v1/namespaces/streaming/services/flink-main-rest:8081/proxy".to_owned();
        let direct = "http://flink-main-rest.streaming.svc:8081".to_owned();
        let both = [api.clone(), direct.clone()];
        let cases = [
            ("/#/overview", "/instances/i/ui/flink-webui/#/overview"),
            ("jobs/x", "jobs/x"),
            (
                "http://flink-main-rest.streaming.svc:8081/jobs?x=1",
                "/instances/i/ui/flink-webui/jobs?x=1",
            ),
            (
                "http://flink-main-rest.streaming.svc:8081",
                "/instances/i/ui/flink-webui/",
            ),
            (
                "https://127.0.0.1:6443/api/v1/namespaces/streaming/services/flink-main-rest:8081/proxy/login",
                "/instances/i/ui/flink-webui/login",
            ),
            (
                "/api/v1/namespaces/streaming/services/flink-main-rest:8081/proxy/",
                "/instances/i/ui/flink-webui/",
            ),
            (
                "https://github.com/apache/flink",
                "https://github.com/apache/flink",
            ),
            ("//evil.example/x", "//evil.example/x"),
            (
                "http://flink-main-rest.streaming.svc:80819/x",
                "http://flink-main-rest.streaming.svc:80819/x",
            ),
        ];
        for (location, expected) in cases {
            assert_eq!(
                rewritten_location(location, &both, prefix),
                expected,
                "{location}"
            );
        }
    }

    #[test]
    fn an_app_serving_under_the_proxy_path_keeps_its_own_addresses() {
        let prefix = "/instances/i/ui/grafana";
        let api = "/api/v1/namespaces/m/services/grafana:3000/proxy";
        // As the service layer names the upstream of such an app: its own path first.
        let upstream = [format!("{api}{prefix}"), api.to_owned()];
        let cases = [
            (
                "/instances/i/ui/grafana/login",
                "/instances/i/ui/grafana/login",
            ),
            ("/instances/i/ui/grafana?x=1", "/instances/i/ui/grafana?x=1"),
            (
                "/api/v1/namespaces/m/services/grafana:3000/proxy/instances/i/ui/grafana/login",
                "/instances/i/ui/grafana/login",
            ),
            (
                "/instances/i/ui/grafanax",
                "/instances/i/ui/grafana/instances/i/ui/grafanax",
            ),
        ];
        for (location, expected) in cases {
            assert_eq!(
                rewritten_location(location, &upstream, prefix),
                expected,
                "{location}"
            );
        }
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
