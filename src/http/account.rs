//! Logging in and out, one's API tokens, users (admins) and the audit log
//! (admins), with JSON twins for the lists.

use askama::Template;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use tower_sessions::Session;

use super::AppState;
use super::auth::{Caller, ensure_csrf, sign_in, sign_out};
use super::error::{ApiError, OrPage, PageError, json_body};
use super::instances::parse_id;
use super::page::{Layout, Page, render};
use crate::catalog::FieldErrors;
use crate::service::{ApiToken, AuditPage, MIN_PASSWORD_CHARS, Role, ServiceError, User};

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
        .route("/users", get(users_page).post(add_user_form))
        .route(
            "/users/{id}/remove",
            get(super::confirm::remove_user_page).post(remove_user),
        )
        .route("/audit", get(audit_page))
        .route("/api/v1/users", get(users_json).post(add_user_json))
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
async fn on_id<F, Fut>(
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

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    roles: [Role; 3],
    min_password: usize,
    typed_name: String,
    typed_role: String,
    errors: FieldErrors,
}

impl UsersPage {
    /// Whether `user` is the one looking (who cannot remove themselves).
    fn is_me(&self, user: &User) -> bool {
        self.layout
            .signed_in
            .as_ref()
            .is_some_and(|me| me.name == user.name)
    }
}

async fn users_with(
    state: &AppState,
    layout: Layout,
    typed: &NewUser,
    errors: FieldErrors,
) -> Result<UsersPage, PageError> {
    let users = state.service.users().await.or_page(&layout)?;
    Ok(UsersPage {
        layout,
        users,
        roles: Role::ALL,
        min_password: MIN_PASSWORD_CHARS,
        typed_name: typed.name.clone(),
        typed_role: typed.role.clone(),
        errors,
    })
}

async fn users_page(
    State(state): State<AppState>,
    layout: Layout,
) -> Result<Page<UsersPage>, PageError> {
    let typed = NewUser {
        role: Role::Viewer.to_string(),
        ..NewUser::default()
    };
    Ok(Page(
        users_with(&state, layout, &typed, FieldErrors::new()).await?,
    ))
}

/// A user to add: the form's fields and the JSON body alike.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewUser {
    name: String,
    password: String,
    role: String,
}

impl NewUser {
    fn role(&self) -> Result<Role, ServiceError> {
        self.role
            .parse()
            .map_err(|()| ServiceError::invalid("role", "Choose viewer, operator or admin"))
    }

    async fn add(&self, state: &AppState, caller: &Caller) -> Result<User, ServiceError> {
        let role = self.role()?;
        state
            .service
            .add_user(&caller.user.name, self.name.trim(), &self.password, role)
            .await
    }
}

async fn add_user_form(
    State(state): State<AppState>,
    layout: Layout,
    caller: Caller,
    Form(form): Form<NewUser>,
) -> Result<Response, PageError> {
    match form.add(&state, &caller).await {
        Ok(_) => Ok(Redirect::to("/users").into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let page = users_with(&state, layout, &form, errors).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(other) => Err(PageError::new(other, layout)),
    }
}

async fn remove_user(
    State(state): State<AppState>,
    layout: Layout,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Redirect, PageError> {
    on_id(layout, &id, "/users", |id| async move {
        state.service.remove_user(&caller.user, id).await
    })
    .await
}

async fn users_json(State(state): State<AppState>) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(state.service.users().await?))
}

async fn add_user_json(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let body = json_body(body)?;
    Ok((StatusCode::CREATED, Json(body.add(&state, &caller).await?)))
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
