//! Updating and rolling back an instance: the install form pre-filled, a
//! diff before anything is applied, and the JSON twins.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, HttpError, OrPage, PageError, json_body};
use super::install::{InstallPage, params_from_json};
use super::instances::parse_id;
use super::page::Layout;
use super::page::render;
use crate::service::{ServiceError, UpdateContext, UpdatePlan};
use crate::store::{Operation, StoreError};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/instances/{id}/update", get(form_page).post(submit_form))
        .route(
            "/instances/{id}/rollback",
            get(super::confirm::rollback_page).post(rollback_form),
        )
        .route("/api/v1/instances/{id}/update", post(update_json))
        .route("/api/v1/instances/{id}/diff", post(diff_json))
        .route("/api/v1/instances/{id}/rollback", post(rollback_json))
}

/// The update form: the instance's parameters, what changed, errors.
async fn page(
    state: &AppState,
    layout: &Layout,
    id: Uuid,
    raw: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
    revision: i64,
) -> Result<InstallPage, PageError> {
    let instance = state
        .service
        .instance(id)
        .await
        .or_page(layout)?
        .instance
        .clone();
    let mut view = state
        .service
        .install_form(&instance.app, raw, errors)
        .await
        .or_page(layout)?;
    // Name and namespace are the instance's, whatever the form sent.
    view.name = instance.name;
    view.namespace = instance.namespace;
    view.update = Some(UpdateContext { id, revision });
    Ok(InstallPage {
        layout: layout.clone(),
        view,
    })
}

async fn form_page(
    State(state): State<AppState>,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let raw = state
        .service
        .current_form_values(id)
        .await
        .or_page(&layout)?;
    let revision = state
        .service
        .instance(id)
        .await
        .or_page(&layout)?
        .instance
        .current_revision;
    Ok(render(
        &page(&state, &layout, id, &raw, &BTreeMap::new(), revision).await?,
    ))
}

async fn submit_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let mut raw: BTreeMap<String, String> = fields.into_iter().collect();
    let action = raw.remove("action").unwrap_or_default();
    let revision: i64 = raw
        .remove("revision")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let version = raw.get("version").cloned();
    // Name and namespace are the instance's own; the form shows them read-only.
    let mut params = raw.clone();
    for key in ["name", "namespace", "version"] {
        params.remove(key);
    }
    let outcome = if action == "diff" {
        state
            .service
            .plan_update(id, version, &params)
            .await
            .map(Some)
    } else {
        state
            .service
            .update(id, revision, version, &params, &caller.user.name)
            .await
            .map(|_| None)
    };
    let (status, errors, diff, conflict) = match outcome {
        Ok(None) => return Ok(Redirect::to(&format!("/instances/{id}")).into_response()),
        Ok(Some(plan)) => (StatusCode::OK, BTreeMap::new(), Some(plan), None),
        Err(ServiceError::Invalid(errors)) => (StatusCode::BAD_REQUEST, errors, None, None),
        Err(
            error @ (ServiceError::Store(StoreError::Changed { .. }) | ServiceError::Conflict(_)),
        ) => (
            StatusCode::CONFLICT,
            BTreeMap::new(),
            None,
            Some(format!(
                "{error}. Reload the form to see the current parameters"
            )),
        ),
        Err(other) => return Err(PageError::new(other, layout)),
    };
    let mut page = page(&state, &layout, id, &raw, &errors, revision).await?;
    page.view.diff = diff;
    page.view.conflict = conflict;
    Ok((status, render(&page)).into_response())
}

#[derive(Debug, Deserialize)]
struct RollbackForm {
    revision: String,
}

async fn rollback_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<RollbackForm>,
) -> Result<Redirect, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let to = form
        .revision
        .parse()
        .map_err(|_| HttpError::Rejected {
            status: StatusCode::BAD_REQUEST,
            message: "revision must be a number".into(),
        })
        .or_page(&layout)?;
    state
        .service
        .rollback(id, to, &caller.user.name)
        .await
        .or_page(&layout)?;
    Ok(Redirect::to(&format!("/instances/{id}")))
}

/// The JSON body of an update: the revision read, and the parameters.
#[derive(Debug, Deserialize)]
struct ApiUpdate {
    #[serde(default)]
    revision: i64,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    params: serde_json::Map<String, serde_json::Value>,
}

async fn update_json(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    request: Result<Json<ApiUpdate>, JsonRejection>,
) -> Result<(StatusCode, Json<Operation>), ApiError> {
    let id = parse_id(&id)?;
    let request = json_body(request)?;
    let params = params_from_json(request.params)?;
    let operation = state
        .service
        .update(
            id,
            request.revision,
            request.version,
            &params,
            &caller.user.name,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(operation)))
}

async fn diff_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Result<Json<ApiUpdate>, JsonRejection>,
) -> Result<Json<UpdatePlan>, ApiError> {
    let id = parse_id(&id)?;
    let request = json_body(request)?;
    let params = params_from_json(request.params)?;
    Ok(Json(
        state
            .service
            .plan_update(id, request.version, &params)
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
struct ApiRollback {
    revision: i64,
}

async fn rollback_json(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    request: Result<Json<ApiRollback>, JsonRejection>,
) -> Result<(StatusCode, Json<Operation>), ApiError> {
    let id = parse_id(&id)?;
    let request = json_body(request)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(
            state
                .service
                .rollback(id, request.revision, &caller.user.name)
                .await?,
        ),
    ))
}
