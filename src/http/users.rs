//! Users (admins): the list, adding one (confirmed by name after the form's
//! redirect) and removing one, and their JSON twins.

use askama::Template;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;

use super::AppState;
use super::account::on_id;
use super::auth::Caller;
use super::error::{ApiError, OrPage, PageError, json_body};
use super::page::{Layout, Page, render};
use crate::catalog::FieldErrors;
use crate::service::{MIN_PASSWORD_CHARS, Role, ServiceError, User};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(users_page).post(add_user_form))
        .route(
            "/users/{id}/remove",
            get(super::confirm::remove_user_page).post(remove_user),
        )
        .route("/api/v1/users", get(users_json).post(add_user_json))
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
    /// The user just added, named on the page after the form's redirect.
    added: Option<User>,
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
        added: None,
    })
}

/// `?added=<user id>`: where the add form redirects, to confirm the addition.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UsersQuery {
    added: Option<String>,
}

async fn users_page(
    State(state): State<AppState>,
    layout: Layout,
    Query(query): Query<UsersQuery>,
) -> Result<Page<UsersPage>, PageError> {
    let typed = NewUser {
        role: Role::Viewer.to_string(),
        ..NewUser::default()
    };
    let mut page = users_with(&state, layout, &typed, FieldErrors::new()).await?;
    // Only a user who is there is confirmed: an id that is not (removed
    // since, or mistyped) says nothing.
    let added = query.added.and_then(|id| id.parse::<uuid::Uuid>().ok());
    page.added = page
        .users
        .iter()
        .find(|user| Some(user.id) == added)
        .cloned();
    Ok(Page(page))
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
        Ok(user) => Ok(Redirect::to(&format!("/users?added={}", user.id)).into_response()),
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
