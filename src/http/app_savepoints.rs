//! An application's savepoints, on its instance page: Take savepoint (form
//! and JSON), the list as JSON and live (server-sent events with the list's
//! HTML), and Redeploy from savepoint (form and JSON; an update of the
//! instance). The session job's twin is [`super::savepoints`].

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, OrPage, PageError, json_body};
use super::instances::{instance_page_with, parse_id};
use super::page::{Layout, render};
use super::savepoints::{RedeployBody, RedeployFields, SnapshotList, Taken, live_fragments};
use crate::service::{ServiceError, SnapshotView};
use crate::store::Operation;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/instances/{id}/savepoints", post(take_form))
        .route("/instances/{id}/redeploy", post(redeploy_form))
        .route("/instances/{id}/live/savepoints", get(live_list))
        .route(
            "/api/v1/instances/{id}/savepoints",
            get(list_json).post(take_json),
        )
        .route("/api/v1/instances/{id}/redeploy", post(redeploy_json))
}

/// Application `id`'s list, read now.
pub(super) async fn snapshot_list(state: &AppState, id: uuid::Uuid) -> SnapshotList {
    let (snapshots, error) = match state.service.application_snapshots(id).await {
        Ok(snapshots) => (snapshots, None),
        Err(error) => (Vec::new(), Some(error.to_string())),
    };
    let schedule = state
        .service
        .application_savepoint_schedule(id, &snapshots)
        .await
        .ok();
    SnapshotList {
        instance_id: id,
        snapshots,
        error,
        schedule,
        session_job: None,
    }
}

/// Server-sent events of the instance page's savepoints: the list's HTML
/// whenever it changed (read every 2 s).
async fn live_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<super::live::LiveEvents, ApiError> {
    let id = parse_id(&id)?;
    // Not an application (and no cluster) answers before the stream starts.
    state.service.application_snapshots(id).await?;
    Ok(live_fragments(move || {
        let state = state.clone();
        async move { snapshot_list(&state, id).await }
    }))
}

/// The instance page again after a form: to its savepoints when done, with
/// the refusal next to the form when refused.
async fn after_form<T>(
    state: &AppState,
    layout: Layout,
    id: uuid::Uuid,
    typed_path: &str,
    result: Result<T, ServiceError>,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/instances/{id}#savepoints")).into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let page = instance_page_with(state, layout, id, None, &errors, typed_path).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(other) => Err(PageError::new(other, layout)),
    }
}

async fn take_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let result = state
        .service
        .take_application_savepoint(id, &caller.user.name)
        .await;
    after_form(&state, layout, id, "", result).await
}

async fn take_json(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Taken>), ApiError> {
    let id = parse_id(&id)?;
    let name = state
        .service
        .take_application_savepoint(id, &caller.user.name)
        .await?;
    Ok((StatusCode::CREATED, Json(Taken { name })))
}

async fn list_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<SnapshotView>>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.service.application_snapshots(id).await?))
}

async fn redeploy_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path(id): Path<String>,
    Form(fields): Form<RedeployFields>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let result = state
        .service
        .redeploy_application_from_savepoint(id, fields.path(), fields.allow(), &caller.user.name)
        .await;
    after_form(&state, layout, id, fields.path(), result).await
}

/// `{"initialSavepointPath": "s3://…", "allowNonRestoredState": false}`:
/// the update's operation (202).
async fn redeploy_json(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<RedeployBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Operation>), ApiError> {
    let id = parse_id(&id)?;
    let body = json_body(body)?;
    let operation = state
        .service
        .redeploy_application_from_savepoint(
            id,
            &body.initial_savepoint_path,
            body.allow_non_restored_state,
            &caller.user.name,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(operation)))
}
