//! Who may do what: every request is tied to a user (an API token or a
//! browser session) before it reaches a handler, checked against the role its
//! route needs, and — when a session cookie vouches for it — against the
//! session's CSRF token.
//!
//! Bearer tokens need no CSRF token: a browser never attaches one on its own.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use subtle::ConstantTimeEq;
use tower_sessions::Session;
use uuid::Uuid;

use super::error::{ApiError, HttpError, refusal, web_ui_refusal};
use super::page::{Layout, SignedIn};
use super::{AppState, MAX_BODY_BYTES};
use crate::service::{Role, User};

/// The session key holding the signed-in user's id.
const USER_KEY: &str = "user";
/// The session key holding the session's CSRF token.
const CSRF_KEY: &str = "csrf";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The header carrying the CSRF token (for scripts using the session).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in user of a request that passed [`authenticate`].
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who.
    pub user: User,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError(HttpError::Rejected {
                status: StatusCode::UNAUTHORIZED,
                message: "log in first".to_owned(),
            })
        })
    }
}

/// The CSRF token of a request's session, when it has one.
#[derive(Debug, Clone)]
struct CsrfToken(String);

impl FromRequestParts<AppState> for Layout {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(layout_for(&parts.extensions, state))
    }
}

fn layout_for(extensions: &axum::http::Extensions, state: &AppState) -> Layout {
    Layout {
        signed_in: extensions.get::<Caller>().map(|caller| SignedIn {
            name: caller.user.name.clone(),
            role: caller.user.role,
        }),
        csrf: extensions
            .get::<CsrfToken>()
            .map(|token| token.0.clone())
            .unwrap_or_default(),
        cluster_problem: state.service.cluster_problem(),
        ..state.layout.clone()
    }
}

/// The role a request needs; `None` for what anyone may see (the login page,
/// health, metrics, static files).
pub fn required_role(method: &Method, path: &str) -> Option<Role> {
    let public = matches!(path, "/login" | "/healthz" | "/readyz" | "/metrics")
        || path.starts_with("/static/");
    if public {
        return None;
    }
    let admin_area = ["/users", "/audit", "/api/v1/users", "/api/v1/audit"]
        .iter()
        .any(|area| {
            path.strip_prefix(area)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        });
    if admin_area {
        return Some(Role::Admin);
    }
    if path == "/logout" || path == "/account" || path.starts_with("/account/") {
        return Some(Role::Viewer);
    }
    if super::webui::web_ui_path(path).is_some() {
        return Some(web_ui_role(method));
    }
    let uninstall = path.trim_end_matches('/').ends_with("/uninstall");
    // DELETE /api/v1/instances/{id}: uninstalls too (jobs' DELETE is an operator's).
    let delete_instance = *method == Method::DELETE
        && path
            .strip_prefix("/api/v1/instances/")
            .is_some_and(|id| !id.trim_end_matches('/').contains('/'));
    if uninstall || delete_instance {
        return Some(Role::Admin);
    }
    if is_safe(method) {
        Some(Role::Viewer)
    } else {
        Some(Role::Operator)
    }
}

/// The role a request through an app's web interface needs: a viewer may
/// look (GET, HEAD); anything else (a Flink job's cancel is `PATCH
/// /jobs/{id}`, a MinIO upload is `PUT`, even `OPTIONS`) is an operator's,
/// and so is a WebSocket handshake, though a GET ([`authenticate`] sees it).
pub fn web_ui_role(method: &Method) -> Role {
    if matches!(*method, Method::GET | Method::HEAD) {
        Role::Viewer
    } else {
        Role::Operator
    }
}

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

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Where a page route sends anonymous visitors: the login page, then back.
fn to_login(path_and_query: &str) -> Response {
    let next = url::form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect::<String>();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// Ties the request to a user, checks its role and its CSRF token.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let web_ui = super::webui::web_ui_path(&path).is_some();
    // Through an app's web interface, its scripts' requests get JSON answers.
    let api = path.starts_with("/api/") || (web_ui && !super::webui::wants_page(request.headers()));
    let method = request.method().clone();
    let session = request.extensions().get::<Session>().cloned();

    let refuse = |status: StatusCode, message: String, extensions: &axum::http::Extensions| {
        let error = HttpError::Rejected { status, message };
        if web_ui && api {
            web_ui_refusal(error)
        } else {
            refusal(error, api, layout_for(extensions, &state))
        }
    };

    let bearer = bearer_token(request.headers()).map(str::to_owned);
    let user = match &bearer {
        Some(token) => match state.service.user_for_token(token).await {
            Ok(Some(user)) => Some(user),
            Ok(None) => {
                return unauthorized("The API token is unknown or revoked", api, &state);
            }
            Err(error) => return refusal(error.into(), api, state.layout.clone()),
        },
        None => match session_user(&state, session.as_ref()).await {
            Ok(user) => user,
            Err(error) => return refusal(error, api, state.layout.clone()),
        },
    };
    let csrf = match (&bearer, &session) {
        (None, Some(session)) => session_csrf(session).await.map(CsrfToken),
        _ => None,
    };
    if let Some(csrf) = &csrf {
        request.extensions_mut().insert(csrf.clone());
    }
    if let Some(user) = &user {
        request
            .extensions_mut()
            .insert(Caller { user: user.clone() });
    }

    let websocket = web_ui && super::webui::is_websocket_handshake(&method, request.headers());
    let needed = match required_role(&method, &path) {
        // A WebSocket's messages may change anything: a viewer may not open one.
        Some(_) if websocket => Some(Role::Operator),
        needed => needed,
    };
    if let Some(needed) = needed {
        match &user {
            None if api => {
                return unauthorized(
                    "Log in or send an API token (Authorization: Bearer)",
                    true,
                    &state,
                );
            }
            None => {
                let target = request
                    .uri()
                    .path_and_query()
                    .map_or(path.as_str(), |pq| pq.as_str())
                    .to_owned();
                return to_login(if is_safe(&method) { &target } else { "/" });
            }
            Some(user) if user.role < needed => {
                let message = format!(
                    "This needs the {needed} role; {} is {}. Ask an admin.",
                    user.name, user.role
                );
                return refuse(StatusCode::FORBIDDEN, message, request.extensions());
            }
            Some(_) => {}
        }
    }

    if bearer.is_none() && web_ui && (websocket || !matches!(method, Method::GET | Method::HEAD)) {
        // The app's own pages carry no CSRF token: the browser's word that
        // the request comes from this origin stands in for it. A browser
        // sends cookies with any site's WebSocket handshake, so that too.
        if same_origin(request.headers()) {
            next.run(request).await
        } else {
            let what = if websocket {
                "WebSockets through an app's web interface must be opened from its page"
            } else {
                "Changes through an app's web interface must come from its page"
            };
            let message =
                format!("{what} in this portal (a same-origin request), or use an API token");
            refuse(StatusCode::FORBIDDEN, message, request.extensions())
        }
    } else if bearer.is_none() && !is_safe(&method) {
        let expected = csrf.map(|token| token.0);
        match checked_csrf(request, expected.as_deref()).await {
            Ok(request) => next.run(request).await,
            Err((extensions, message)) => refuse(StatusCode::FORBIDDEN, message, &extensions),
        }
    } else {
        next.run(request).await
    }
}

/// The user a session is signed in as; `None` for anonymous sessions and
/// for users removed since.
async fn session_user(
    state: &AppState,
    session: Option<&Session>,
) -> Result<Option<User>, HttpError> {
    let Some(session) = session else {
        return Ok(None);
    };
    match session
        .get::<Uuid>(USER_KEY)
        .await
        .map_err(session_unavailable)?
    {
        Some(id) => Ok(state.service.user(id).await?),
        None => Ok(None),
    }
}

async fn session_csrf(session: &Session) -> Option<String> {
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

/// Signs `session` in as `user`: a new session id (no fixation), a new CSRF token.
pub async fn sign_in(session: &Session, user: &User) -> Result<(), HttpError> {
    session.cycle_id().await.map_err(session_unavailable)?;
    session
        .insert(USER_KEY, user.id)
        .await
        .map_err(session_unavailable)?;
    session
        .insert(CSRF_KEY, new_csrf_token())
        .await
        .map_err(session_unavailable)?;
    Ok(())
}

/// Ends `session`: its row is deleted and its cookie cleared.
pub async fn sign_out(session: &Session) -> Result<(), HttpError> {
    session.flush().await.map_err(session_unavailable)
}

fn session_unavailable(error: tower_sessions::session::Error) -> HttpError {
    tracing::warn!(%error, "session store failed");
    HttpError::Rejected {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: "The portal's database is unreachable right now; try again shortly.".to_owned(),
    }
}

fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The API token a request carries (`Authorization: Bearer TOKEN`), if any.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn unauthorized(message: &str, api: bool, state: &AppState) -> Response {
    let error = HttpError::Rejected {
        status: StatusCode::UNAUTHORIZED,
        message: message.to_owned(),
    };
    let mut response = refusal(error, api, state.layout.clone());
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"dataport\""),
    );
    response
}

/// The request again when its CSRF token (header, or form field, which is
/// taken out of the form) matches `expected`; its extensions and why not otherwise.
async fn checked_csrf(
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
    use super::*;

    #[test]
    fn routes_need_the_roles_the_issue_names() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(required_role(&get, "/login"), None);
        assert_eq!(required_role(&post, "/login"), None);
        assert_eq!(required_role(&get, "/readyz"), None);
        assert_eq!(required_role(&get, "/static/dataport.css"), None);
        assert_eq!(required_role(&get, "/"), Some(Role::Viewer));
        assert_eq!(required_role(&get, "/instances/x"), Some(Role::Viewer));
        assert_eq!(
            required_role(&post, "/catalog/flink/install"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role(&post, "/api/v1/instances"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role(&post, "/instances/x/restart"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role(&post, "/instances/x/uninstall"),
            Some(Role::Admin)
        );
        assert_eq!(
            required_role(&get, "/instances/x/uninstall"),
            Some(Role::Admin)
        );
        assert_eq!(
            required_role(&Method::DELETE, "/api/v1/instances/x"),
            Some(Role::Admin)
        );
        assert_eq!(
            required_role(&Method::DELETE, "/api/v1/instances/x/jobs/y"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role(&Method::DELETE, "/api/v1/instances/x/jobs/y/savepoints/z"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role(&Method::DELETE, "/api/v1/instances/x/savepoints/z"),
            Some(Role::Operator)
        );
        assert_eq!(required_role(&get, "/audit"), Some(Role::Admin));
        assert_eq!(required_role(&get, "/api/v1/audit"), Some(Role::Admin));
        assert_eq!(required_role(&post, "/users"), Some(Role::Admin));
        assert_eq!(required_role(&get, "/usersx"), Some(Role::Viewer));
        assert_eq!(required_role(&post, "/account/tokens"), Some(Role::Viewer));
        assert_eq!(required_role(&post, "/logout"), Some(Role::Viewer));
    }

    #[test]
    fn through_a_web_interface_a_viewer_may_only_look() {
        let ui = "/instances/x/ui/flink-webui/jobs/j1";
        assert_eq!(required_role(&Method::GET, ui), Some(Role::Viewer));
        assert_eq!(required_role(&Method::HEAD, ui), Some(Role::Viewer));
        for method in [
            Method::PATCH,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            assert_eq!(required_role(&method, ui), Some(Role::Operator), "{method}");
        }
        // A path of the app that ends like one of dataport's stays the app's.
        assert_eq!(
            required_role(&Method::POST, "/instances/x/ui/streampark/uninstall"),
            Some(Role::Operator)
        );
        assert!(Role::Viewer < web_ui_role(&Method::PATCH));
    }

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
