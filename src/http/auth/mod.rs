//! Who may do what: every request is tied to a user (an API token or a
//! browser session) before it reaches a handler, checked against the role its
//! route needs, and — when a session cookie vouches for it — against the
//! session's CSRF token.
//!
//! Bearer tokens need no CSRF token: a browser never attaches one on its own.

mod csrf;
mod roles;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, HttpError, refusal, web_ui_refusal};
use super::page::{Layout, SignedIn};
use crate::service::{Role, User};
pub use csrf::{CSRF_HEADER, ensure_csrf};
use csrf::{CSRF_KEY, checked_csrf, new_csrf_token, same_origin, session_csrf};
use roles::{is_safe, required_role};

/// The session key holding the signed-in user's id.
const USER_KEY: &str = "user";

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
