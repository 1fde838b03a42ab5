//! A session job's savepoints: Take savepoint (form and JSON), the list as
//! JSON and live on the job page (server-sent events with the list's HTML),
//! and Start from savepoint (form and JSON). The page itself is
//! [`super::job_page`].

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, OrPage, PageError, json_body};
use super::instances::parse_id;
use super::job_page::job_page_with;
use super::jobs::after_action;
use super::page::{Layout, render};
use crate::service::{JobView, START_FIELD, SavepointSchedule, ServiceError, SnapshotView};

/// How often an open page's savepoints are read again.
const SAVEPOINTS_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// A job's savepoints and checkpoints as its page shows them.
pub(super) struct SnapshotList {
    /// The session cluster, for links.
    pub instance_id: uuid::Uuid,
    /// Newest first.
    pub snapshots: Vec<SnapshotView>,
    /// Why they could not be read.
    pub error: Option<String>,
    /// Its periodic savepoints, when they could be read.
    pub schedule: Option<SavepointSchedule>,
    /// The session job's name when it is one's: each completed savepoint
    /// then links to a new session job from it (an application has its one
    /// job).
    pub session_job: Option<String>,
}

impl SnapshotList {
    /// The page the list is on (a session job's, an application's): its
    /// savepoints' deletions are under it.
    pub fn page(&self) -> String {
        let of = match &self.session_job {
            Some(job) => crate::service::SavepointsOf::SessionJob(job.clone()),
            None => crate::service::SavepointsOf::Application,
        };
        super::savepoint_delete::list_page(self.instance_id, &of)
    }
}

/// The list of job `name` of session cluster `id`, read now.
pub(super) async fn snapshot_list(state: &AppState, id: uuid::Uuid, name: &str) -> SnapshotList {
    let (snapshots, error) = match state.service.job_snapshots(id, name).await {
        Ok(snapshots) => (snapshots, None),
        Err(error) => (Vec::new(), Some(error.to_string())),
    };
    let schedule = state
        .service
        .job_savepoint_schedule(id, name, &snapshots)
        .await
        .ok();
    SnapshotList {
        instance_id: id,
        snapshots,
        error,
        schedule,
        session_job: Some(name.to_owned()),
    }
}

/// The live part of a page's savepoints (a session job's, an application's).
#[derive(askama::Template)]
#[template(path = "savepoints_live.html")]
struct SavepointsFragment {
    list: SnapshotList,
}

/// Server-sent events of the job page's savepoints: the list's HTML
/// whenever it changed (read every 2 s).
async fn live_list(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> Result<super::live::LiveEvents, ApiError> {
    let id = parse_id(&id)?;
    // Unknown jobs (and no cluster) answer before the stream starts.
    state.service.job_snapshots(id, &name).await?;
    Ok(live_fragments(move || {
        let state = state.clone();
        let name = name.clone();
        async move { snapshot_list(&state, id, &name).await }
    }))
}

/// Server-sent events of a page's savepoints (a session job's, an
/// application's): the HTML of the list `read` gives, whenever it changed
/// (read every 2 s).
pub(super) fn live_fragments<F, Fut>(read: F) -> super::live::LiveEvents
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = SnapshotList> + Send,
{
    super::live::changes("savepoints", SAVEPOINTS_REFRESH, move || {
        let list = read();
        async move { askama::Template::render(&SavepointsFragment { list: list.await }).ok() }
    })
}

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/instances/{id}/jobs/{job}/savepoints", post(take_form))
        .route("/instances/{id}/jobs/{job}/redeploy", post(redeploy_form))
        .route(
            "/instances/{id}/jobs/{job}/live/savepoints",
            axum::routing::get(live_list),
        )
        .route(
            "/api/v1/instances/{id}/jobs/{job}/savepoints",
            axum::routing::get(list_json).post(take_json),
        )
        .route(
            "/api/v1/instances/{id}/jobs/{job}/redeploy",
            post(redeploy_json),
        )
        .merge(super::savepoint_delete::router())
}

async fn take_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    match state
        .service
        .take_savepoint(id, &name, &caller.user.name)
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/instances/{id}/jobs/{name}#savepoints")).into_response())
        }
        Err(ServiceError::Invalid(errors)) => {
            let page = job_page_with(&state, &layout, id, &name, &BTreeMap::new(), &errors).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(other) => Err(PageError::new(other, layout)),
    }
}

/// The savepoint asked for.
#[derive(Debug, Serialize)]
pub(super) struct Taken {
    /// The FlinkStateSnapshot's name.
    pub name: String,
}

async fn take_json(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Taken>), ApiError> {
    let id = parse_id(&id)?;
    let taken = state
        .service
        .take_savepoint(id, &name, &caller.user.name)
        .await?;
    Ok((StatusCode::CREATED, Json(Taken { name: taken })))
}

async fn list_json(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Vec<SnapshotView>>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.service.job_snapshots(id, &name).await?))
}

/// The Start from savepoint form: a savepoint of the list (`chosen`) or a
/// typed path, and the explicit "allow non-restored state".
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct RedeployFields {
    chosen: String,
    initial_savepoint_path: String,
    allow_non_restored_state: Option<String>,
}

impl RedeployFields {
    /// Whether "allow non-restored state" is ticked.
    pub(super) fn allow(&self) -> bool {
        matches!(
            self.allow_non_restored_state.as_deref(),
            Some("true" | "on")
        )
    }

    /// The chosen savepoint, else the typed one.
    pub(super) fn path(&self) -> &str {
        if self.chosen.trim().is_empty() {
            self.initial_savepoint_path.trim()
        } else {
            self.chosen.trim()
        }
    }
}

async fn redeploy_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path((id, name)): Path<(String, String)>,
    Form(fields): Form<RedeployFields>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let allow = fields.allow();
    let result = state
        .service
        .redeploy_from_savepoint(id, &name, fields.path(), allow, &caller.user.name)
        .await;
    let typed = BTreeMap::from([(START_FIELD.to_owned(), fields.path().to_owned())]);
    after_action(&state, &layout, id, &name, &typed, result).await
}

/// `{"initialSavepointPath": "s3://…", "allowNonRestoredState": false}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RedeployBody {
    #[serde(default)]
    pub initial_savepoint_path: String,
    /// Required: the choice is the caller's to make.
    pub allow_non_restored_state: bool,
}

async fn redeploy_json(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
    body: Result<Json<RedeployBody>, JsonRejection>,
) -> Result<Json<JobView>, ApiError> {
    let id = parse_id(&id)?;
    let body = json_body(body)?;
    Ok(Json(
        state
            .service
            .redeploy_from_savepoint(
                id,
                &name,
                &body.initial_savepoint_path,
                body.allow_non_restored_state,
                &caller.user.name,
            )
            .await?,
    ))
}
