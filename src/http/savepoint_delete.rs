//! Deleting one savepoint of a session job or of an application's job: the
//! confirmation (GET), the form (POST, the same without scripts) and the
//! JSON API (`DELETE`), under the job's page (`/instances/{id}/jobs/{job}`)
//! or the application's (`/instances/{id}`). What
//! is refused and why is the service's ([`crate::service::delete_refusal`]):
//! a refusal of the savepoint's state is shown next to the confirming
//! button (409), the missing tick for the job's start savepoint next to its
//! checkbox (400).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::confirm::{ConfirmPage, instance_crumbs, job_crumbs};
use super::error::{ApiError, OrPage, PageError};
use super::instances::parse_id;
use super::page::{Layout, render};
use crate::service::{START_POINT_FIELD, SavepointsOf, ServiceError, SnapshotView};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/instances/{id}/jobs/{job}/savepoints/{snapshot}/delete",
            get(job_confirm_page).post(job_delete_form),
        )
        .route(
            "/api/v1/instances/{id}/jobs/{job}/savepoints/{snapshot}",
            axum::routing::delete(job_delete_json),
        )
        .route(
            "/instances/{id}/savepoints/{snapshot}/delete",
            get(app_confirm_page).post(app_delete_form),
        )
        .route(
            "/api/v1/instances/{id}/savepoints/{snapshot}",
            axum::routing::delete(app_delete_json),
        )
}

/// The page that lists the savepoints of `of` on instance `id`.
pub(super) fn list_page(id: uuid::Uuid, of: &SavepointsOf) -> String {
    match of {
        SavepointsOf::SessionJob(job) => format!("/instances/{id}/jobs/{job}"),
        SavepointsOf::Application => format!("/instances/{id}"),
    }
}

async fn job_confirm_page(
    State(state): State<AppState>,
    layout: Layout,
    Path((id, job, snapshot)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    confirm_page(state, layout, &id, SavepointsOf::SessionJob(job), &snapshot).await
}

async fn app_confirm_page(
    State(state): State<AppState>,
    layout: Layout,
    Path((id, snapshot)): Path<(String, String)>,
) -> Result<Response, PageError> {
    confirm_page(state, layout, &id, SavepointsOf::Application, &snapshot).await
}

async fn job_delete_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path((id, job, snapshot)): Path<(String, String, String)>,
    Form(agreement): Form<Agreement>,
) -> Result<Response, PageError> {
    let of = SavepointsOf::SessionJob(job);
    delete_form(state, caller, layout, &id, of, &snapshot, agreement).await
}

async fn app_delete_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path((id, snapshot)): Path<(String, String)>,
    Form(agreement): Form<Agreement>,
) -> Result<Response, PageError> {
    let of = SavepointsOf::Application;
    delete_form(state, caller, layout, &id, of, &snapshot, agreement).await
}

/// `DELETE /api/v1/instances/{id}/jobs/{job}/savepoints/{snapshot}`: see [`delete_json`].
async fn job_delete_json(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, job, snapshot)): Path<(String, String, String)>,
    Query(agreement): Query<Agreement>,
) -> Result<(StatusCode, Json<SnapshotView>), ApiError> {
    let of = SavepointsOf::SessionJob(job);
    delete_json(state, caller, &id, of, &snapshot, agreement).await
}

/// `DELETE /api/v1/instances/{id}/savepoints/{snapshot}` (an application's):
/// see [`delete_json`].
async fn app_delete_json(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, snapshot)): Path<(String, String)>,
    Query(agreement): Query<Agreement>,
) -> Result<(StatusCode, Json<SnapshotView>), ApiError> {
    let of = SavepointsOf::Application;
    delete_json(state, caller, &id, of, &snapshot, agreement).await
}

/// The tick that agrees to delete the job's start savepoint (form field and
/// query parameter [`START_POINT_FIELD`]: `true` or `on`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Agreement {
    #[serde(rename = "deleteStartSavepoint")]
    start_point: Option<String>,
}

impl Agreement {
    fn agreed(&self) -> bool {
        matches!(self.start_point.as_deref(), Some("true" | "on"))
    }
}

async fn confirm_page(
    state: AppState,
    layout: Layout,
    id: &str,
    of: SavepointsOf,
    snapshot: &str,
) -> Result<Response, PageError> {
    let id = parse_id(id).or_page(&layout)?;
    let page = confirmation(&state, layout, id, &of, snapshot, None).await?;
    Ok(render(&page))
}

/// The confirmation of deleting `snapshot` of `of` on instance `id`, with
/// why the last try was refused (`refused`: the service's error).
async fn confirmation(
    state: &AppState,
    layout: Layout,
    id: uuid::Uuid,
    of: &SavepointsOf,
    snapshot: &str,
    refused: Option<&ServiceError>,
) -> Result<ConfirmPage, PageError> {
    let view = state.service.instance(id).await.or_page(&layout)?;
    let (savepoint, conflict) = state
        .service
        .savepoint_to_delete(id, of, snapshot)
        .await
        .or_page(&layout)?;
    let instance = &view.instance.name;
    let (mut crumbs, job) = match of {
        SavepointsOf::SessionJob(job) => (job_crumbs(&id, instance, job), job.as_str()),
        SavepointsOf::Application => (instance_crumbs(&id, instance), instance.as_str()),
    };
    crumbs.push(("Delete savepoint".into(), None));
    let page = list_page(id, of);
    let mut what = vec![what_happens(&savepoint)];
    let agree = savepoint.start_point.then(|| {
        what.push(format!(
            "{job} started from this savepoint: its initialSavepointPath points here. It keeps \
             running on its own checkpoints, but starting it from this savepoint again fails \
             once the files are gone."
        ));
        (
            START_POINT_FIELD.to_owned(),
            format!("Delete {job}'s start savepoint anyway"),
        )
    });
    // A refusal of the savepoint's state goes next to the button, even
    // where there is a checkbox: ticking it would not help.
    let (agree, error) = match refused {
        Some(ServiceError::Invalid(fields)) => (agree, fields.get(START_POINT_FIELD).cloned()),
        Some(other) => (None, Some(other.to_string())),
        None if conflict.is_some() => (None, conflict),
        None => (agree, None),
    };
    Ok(ConfirmPage {
        layout,
        crumbs,
        title: format!("Delete savepoint {snapshot}?"),
        what,
        action: format!("{page}/savepoints/{snapshot}/delete"),
        hidden: Vec::new(),
        agree,
        error,
        button: "Delete savepoint and its files".into(),
        cancel: format!("{page}#savepoints"),
    })
}

/// What deleting `savepoint` does, in one sentence.
fn what_happens(savepoint: &SnapshotView) -> String {
    let name = &savepoint.name;
    match (savepoint.state, &savepoint.path) {
        ("completed", Some(path)) => {
            let size = match savepoint.size_text() {
                size if size.is_empty() => String::new(),
                size => format!(" ({size})"),
            };
            format!(
                "The FlinkStateSnapshot {name} is deleted, and the Flink operator disposes of \
                 the savepoint's files at {path}{size} through the job's cluster before it lets \
                 the object go. This cannot be undone."
            )
        }
        (state, _) => format!(
            "The FlinkStateSnapshot {name} ({state}) is deleted. It has no files to dispose of."
        ),
    }
}

async fn delete_form(
    state: AppState,
    caller: Caller,
    layout: Layout,
    id: &str,
    of: SavepointsOf,
    snapshot: &str,
    agreement: Agreement,
) -> Result<Response, PageError> {
    let id = parse_id(id).or_page(&layout)?;
    let result = state
        .service
        .delete_savepoint(id, &of, snapshot, agreement.agreed(), &caller.user.name)
        .await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!(
            "{}?deleted_savepoint={snapshot}#savepoints",
            list_page(id, &of)
        ))
        .into_response()),
        Err(error @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let status = match error {
                ServiceError::Invalid(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::CONFLICT,
            };
            let page = confirmation(&state, layout, id, &of, snapshot, Some(&error)).await?;
            Ok((status, render(&page)).into_response())
        }
        Err(other) => Err(PageError::new(other, layout)),
    }
}

/// The JSON deletion (`?deleteStartSavepoint=true` for the job's start
/// savepoint): 202 with the savepoint as it was listed; the operator lets
/// the FlinkStateSnapshot go once it has disposed of its files.
async fn delete_json(
    state: AppState,
    caller: Caller,
    id: &str,
    of: SavepointsOf,
    snapshot: &str,
    agreement: Agreement,
) -> Result<(StatusCode, Json<SnapshotView>), ApiError> {
    let id = parse_id(id)?;
    let deleted = state
        .service
        .delete_savepoint(id, &of, snapshot, agreement.agreed(), &caller.user.name)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(deleted)))
}
