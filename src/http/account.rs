//! Logging in and out, one's API tokens and the audit log
//! (admins), with JSON twins for the lists.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use tower_sessions::Session;

use super::AppState;
use super::auth::{Caller, ensure_csrf, sign_in, sign_out};
use super::error::{ApiError, OrPage, PageError};
use super::instances::parse_id;
use super::page::{Layout, Page, render};
use crate::catalog::FieldErrors;
use crate::service::{ApiToken, AuditPage, ServiceError, User};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/account", get(account_page))
        .route("/account/tokens", post(create_token))
        .route("/account/password", post(change_password))
        .route(
            "/account/tokens/{id}/revoke",
            get(super::confirm::revoke_token_page).post(revoke_token),
        )
        .route("/audit", get(audit_page))
        .route("/api/v1/audit", get(audit_json))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    has_users: bool,
    next: String,
    name: String,
    error: Option<String>,
}

/// `?next=/where/to/go` after logging in.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NextQuery {
    next: String,
}

/// Only a path on this portal: never an open redirect to another site.
fn local_path(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

async fn login_page(
    State(state): State<AppState>,
    mut layout: Layout,
    session: Session,
    Query(query): Query<NextQuery>,
) -> Result<Page<LoginPage>, PageError> {
    layout.csrf = ensure_csrf(&session).await.or_page(&layout)?;
    let has_users = state.service.has_users().await.or_page(&layout)?;
    Ok(Page(LoginPage {
        layout,
        has_users,
        next: local_path(&query.next),
        name: String::new(),
        error: None,
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    name: String,
    password: String,
    next: String,
}

async fn login(
    State(state): State<AppState>,
    mut layout: Layout,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let user = state
        .service
        .login(form.name.trim(), &form.password)
        .await
        .or_page(&layout)?;
    let Some(user) = user else {
        layout.csrf = ensure_csrf(&session).await.or_page(&layout)?;
        let page = LoginPage {
            layout,
            has_users: true,
            next: local_path(&form.next),
            name: form.name,
            error: Some("Wrong user name or password".to_owned()),
        };
        return Ok((StatusCode::UNAUTHORIZED, render(&page)).into_response());
    };
    sign_in(&session, &user).await.or_page(&layout)?;
    Ok(Redirect::to(&local_path(&form.next)).into_response())
}

async fn logout(
    State(state): State<AppState>,
    layout: Layout,
    caller: Caller,
    session: Session,
) -> Result<Redirect, PageError> {
    sign_out(&session).await.or_page(&layout)?;
    state.service.logged_out(&caller.user).await;
    Ok(Redirect::to("/login"))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    user: User,
    tokens: Vec<ApiToken>,
    new_token: Option<String>,
    typed_name: String,
    error: Option<String>,
    password_changed: bool,
    password_errors: FieldErrors,
}

/// The account page of `user`, with nothing typed and no message yet.
async fn account_of(
    state: &AppState,
    layout: Layout,
    user: User,
) -> Result<AccountPage, PageError> {
    let tokens = state.service.tokens(&user).await.or_page(&layout)?;
    Ok(AccountPage {
        layout,
        user,
        tokens,
        new_token: None,
        typed_name: String::new(),
        error: None,
        password_changed: false,
        password_errors: FieldErrors::new(),
    })
}

async fn account_page(
    State(state): State<AppState>,
    layout: Layout,
    caller: Caller,
) -> Result<Page<AccountPage>, PageError> {
    Ok(Page(account_of(&state, layout, caller.user).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    current: String,
    password: String,
}

async fn change_password(
    State(state): State<AppState>,
    layout: Layout,
    caller: Caller,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let changed = state
        .service
        .change_password(&caller.user, &form.current, &form.password)
        .await;
    let mut page = account_of(&state, layout.clone(), caller.user).await?;
    match changed {
        Ok(()) => {
            page.password_changed = true;
            Ok(render(&page))
        }
        Err(ServiceError::Invalid(errors)) => {
            page.password_errors = errors;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(other) => Err(PageError::new(other, layout)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenForm {
    name: String,
}

/// Shows the new token once, on the answer to the form (never in a URL).
async fn create_token(
    State(state): State<AppState>,
    layout: Layout,
    caller: Caller,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let created = state.service.create_token(&caller.user, &form.name).await;
    let mut page = account_of(&state, layout.clone(), caller.user).await?;
    match created {
        Ok((_, token)) => {
            page.new_token = Some(token);
            Ok((StatusCode::CREATED, render(&page)).into_response())
        }
        Err(ServiceError::Invalid(mut errors)) => {
            page.error = errors.remove("name");
            page.typed_name = form.name;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(other) => Err(PageError::new(other, layout)),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    layout: Layout,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Redirect, PageError> {
    on_id(layout, &id, "/account", |id| async move {
        state.service.revoke_token(&caller.user, id).await
    })
    .await
}

/// A button on a list (revoke a token, remove a user): parses the row's id
/// from the path, runs `action` on it and goes back to the list at `back`.
pub(super) async fn on_id<F, Fut>(
    layout: Layout,
    id: &str,
    back: &str,
    action: F,
) -> Result<Redirect, PageError>
where
    F: FnOnce(uuid::Uuid) -> Fut,
    Fut: Future<Output = Result<(), ServiceError>>,
{
    let id = parse_id(id).or_page(&layout)?;
    action(id).await.or_page(&layout)?;
    Ok(Redirect::to(back))
}

/// `?page=N`, from 1.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PageQuery {
    // Text: numbers do not survive `flatten` in a query string.
    page: Option<String>,
    #[serde(flatten)]
    filter: crate::store::AuditFilter,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditLogPage {
    layout: Layout,
    view: AuditPage,
}

/// A query that does not parse is the first page, not an error.
fn page_number(
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> (crate::store::AuditFilter, i64) {
    query.map_or((crate::store::AuditFilter::default(), 1), |Query(query)| {
        let page = query.page.and_then(|page| page.parse().ok()).unwrap_or(1);
        (query.filter, page)
    })
}

async fn audit_page(
    State(state): State<AppState>,
    layout: Layout,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Page<AuditLogPage>, PageError> {
    let (filter, page) = page_number(query);
    let view = state
        .service
        .audit_log(filter, page)
        .await
        .or_page(&layout)?;
    Ok(Page(AuditLogPage { layout, view }))
}

async fn audit_json(
    State(state): State<AppState>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let (filter, page) = page_number(query);
    Ok(Json(state.service.audit_log(filter, page).await?))
}
