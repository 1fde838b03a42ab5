//! Which headers go through the proxy, each way, and where an upstream's
//! redirects lead: RFC 9110's hop-by-hop headers and dataport's own
//! credentials stay behind; an upstream's addresses move under the proxy path.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

use super::SESSION_COOKIE;

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
        HeaderName::from_static(crate::http::auth::CSRF_HEADER),
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

#[cfg(test)]
mod tests {
    use super::super::tests::headers;
    use super::*;

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
}
