//! CSRF defence for browser sessions: a token per session, sent back in a
//! header or form field, and — for apps' own pages, which carry none — the
//! browser's word that a request comes from this origin.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::session_unavailable;
use crate::http::MAX_BODY_BYTES;
use crate::http::error::HttpError;

/// The session key holding the session's CSRF token.
pub(super) const CSRF_KEY: &str = "csrf";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The header carrying the CSRF token (for scripts using the session).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Whether a browser says the request comes from a page of this portal:
/// `Sec-Fetch-Site: same-origin`, else an `Origin` whose host is the
/// request's `Host`. Apps' own pages send no CSRF token, and browsers send
/// `Origin` with every same-origin request that is not a GET or HEAD.
pub fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return site == "same-origin";
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (Some(origin), Some(host)) => url::Url::parse(origin).is_ok_and(|origin| {
            let origin_host = match (origin.host_str(), origin.port()) {
                (Some(name), Some(port)) => format!("{name}:{port}"),
                (Some(name), None) => name.to_owned(),
                _ => return false,
            };
            origin_host.eq_ignore_ascii_case(host)
        }),
        _ => false,
    }
}

/// The session's CSRF token, when it has one.
pub(super) async fn session_csrf(session: &Session) -> Option<String> {
    session.get::<String>(CSRF_KEY).await.ok().flatten()
}

/// Gives `session` a CSRF token unless it has one; returns it.
pub async fn ensure_csrf(session: &Session) -> Result<String, HttpError> {
    if let Some(token) = session_csrf(session).await {
        return Ok(token);
    }
    let token = new_csrf_token();
    session
        .insert(CSRF_KEY, &token)
        .await
        .map_err(session_unavailable)?;
    Ok(token)
}

/// A new random CSRF token: 32 bytes, base64url.
pub(super) fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The request again when its CSRF token (header, or form field, which is
/// taken out of the form) matches `expected`; its extensions and why not otherwise.
pub(super) async fn checked_csrf(
    request: Request,
    expected: Option<&str>,
) -> Result<Request, (axum::http::Extensions, String)> {
    const EXPIRED: &str = "This form has expired or did not come from this portal's page: \
                           nothing was changed. Go back, reload the page and try again.";
    let matches = |sent: &str| {
        expected.is_some_and(|token| bool::from(token.as_bytes().ct_eq(sent.as_bytes())))
    };
    if let Some(sent) = request.headers().get(CSRF_HEADER) {
        let ok = sent.to_str().is_ok_and(matches);
        return if ok {
            Ok(request)
        } else {
            Err((request.extensions().clone(), EXPIRED.to_owned()))
        };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let (parts, body) = request.into_parts();
    if !is_form {
        return Err((
            parts.extensions,
            "Send the session's CSRF token in the X-CSRF-Token header, or use an API token"
                .to_owned(),
        ));
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return Err((parts.extensions, "The form could not be read".to_owned()));
    };
    let mut sent = None;
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(&bytes) {
        if key == CSRF_FIELD {
            sent = Some(value.into_owned());
        } else {
            rest.append_pair(&key, &value);
        }
    }
    if !sent.as_deref().is_some_and(matches) {
        return Err((parts.extensions, EXPIRED.to_owned()));
    }
    Ok(Request::from_parts(parts, Body::from(rest.finish())))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn same_origin_is_what_the_browser_says() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = axum::http::HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://portal:8080"),
            ("host", "portal:8080")
        ])));
        assert!(same_origin(&headers(&[
            ("origin", "http://portal:8080"),
            ("host", "portal:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "portal:8080")
        ])));
        assert!(!same_origin(&headers(&[("host", "portal:8080")])));
    }
}
