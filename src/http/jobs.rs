//! Jobs on a Flink session cluster: the submit form, the job page with its
//! upgrade form and Suspend / Resume / Delete, and their JSON twins.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::Value;
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, OrPage, PageError, json_body};
use super::install::params_from_json;
use super::instances::parse_id;
use super::job_page::job_page_with;
use super::page::{Layout, Page, render};
use crate::catalog::FieldErrors;
use crate::service::{JobFormView, JobView, START_FIELD, ServiceError};
use crate::store::JobWish;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/instances/{id}/jobs/new", get(new_job_page))
        .route("/instances/{id}/jobs", post(submit_form))
        .route("/instances/{id}/jobs/{job}", get(super::job_page::job_page))
        .route("/instances/{id}/jobs/{job}/upgrade", post(upgrade_form))
        .route(
            "/instances/{id}/jobs/{job}/suspend",
            get(super::confirm::suspend_page).post(suspend_form),
        )
        .route("/instances/{id}/jobs/{job}/resume", post(resume_form))
        .route(
            "/instances/{id}/jobs/{job}/delete",
            get(super::confirm::delete_page).post(delete_form),
        )
        .route(
            "/api/v1/instances/{id}/jobs",
            get(list_json).post(submit_json),
        )
        .route(
            "/api/v1/instances/{id}/jobs/{job}",
            get(job_json).delete(delete_json),
        )
        .route(
            "/api/v1/instances/{id}/jobs/{job}/upgrade",
            post(upgrade_json),
        )
        .route(
            "/api/v1/instances/{id}/jobs/{job}/suspend",
            post(suspend_json),
        )
        .route(
            "/api/v1/instances/{id}/jobs/{job}/resume",
            post(resume_json),
        )
        .merge(super::savepoints::router())
}

/// The submit form, alone on its page.
#[derive(Template)]
#[template(path = "job_new.html")]
struct NewJobPage {
    layout: Layout,
    form: JobFormView,
}

/// A submitted job form: the name and every parameter field, as typed.
pub(super) type JobFields = BTreeMap<String, String>;

/// Splits a form into the job's name and its parameters (no action keys).
fn split_name(mut fields: JobFields) -> (String, JobFields) {
    let name = fields.remove("name").unwrap_or_default().trim().to_owned();
    (name, fields)
}

/// `?savepoint=<path>`: the new job starts from that savepoint.
#[derive(Debug, Default, serde::Deserialize)]
struct NewJobQuery {
    savepoint: Option<String>,
}

async fn new_job_page(
    State(state): State<AppState>,
    layout: Layout,
    Path(id): Path<String>,
    Query(query): Query<NewJobQuery>,
) -> Result<Page<NewJobPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let mut typed = BTreeMap::new();
    if let Some(path) = query.savepoint {
        typed.insert(START_FIELD.to_owned(), path);
    }
    let form = state
        .service
        .job_form(id, None, &typed, &FieldErrors::new())
        .await
        .or_page(&layout)?;
    Ok(Page(NewJobPage { layout, form }))
}

async fn submit_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path(id): Path<String>,
    Form(fields): Form<JobFields>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let (name, params) = split_name(fields);
    match state
        .service
        .submit_job(id, &name, &params, &caller.user.name)
        .await
    {
        Ok(job) => Ok(Redirect::to(&format!("/instances/{id}/jobs/{}", job.name)).into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let mut typed = params;
            typed.insert("name".into(), name);
            let form = state
                .service
                .job_form(id, None, &typed, &errors)
                .await
                .or_page(&layout)?;
            let page = NewJobPage { layout, form };
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(other) => Err(PageError::new(other, layout)),
    }
}

/// After a job action: back to its page, or the page again with the errors (400).
pub(super) async fn after_action(
    state: &AppState,
    layout: &Layout,
    id: Uuid,
    name: &str,
    typed: &JobFields,
    result: Result<JobView, ServiceError>,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/instances/{id}/jobs/{name}")).into_response()),
        Err(ServiceError::Invalid(errors)) => {
            let page = job_page_with(state, layout, id, name, typed, &errors).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)).into_response())
        }
        Err(other) => Err(PageError::new(other, layout.clone())),
    }
}

async fn upgrade_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path((id, name)): Path<(String, String)>,
    Form(fields): Form<JobFields>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let (_, params) = split_name(fields);
    let result = state
        .service
        .upgrade_job(id, &name, &params, &caller.user.name)
        .await;
    after_action(&state, &layout, id, &name, &params, result).await
}

/// The Suspend form: whether the user agreed to drop a stateless job's state.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SuspendFields {
    drop_state: Option<String>,
}

impl SuspendFields {
    fn agreed(&self) -> bool {
        matches!(self.drop_state.as_deref(), Some("true" | "on"))
    }
}

async fn suspend_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path((id, name)): Path<(String, String)>,
    Form(fields): Form<SuspendFields>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let result = state
        .service
        .set_job_wish(
            id,
            &name,
            JobWish::Suspended,
            fields.agreed(),
            &caller.user.name,
        )
        .await;
    // Refused for want of the yes: the confirmation again, saying so.
    if let Err(ServiceError::Invalid(errors)) = &result
        && let Some(error) = errors.get("dropState")
    {
        let page =
            super::confirm::suspend_confirmation(&state, layout, id, &name, Some(error.clone()))
                .await?;
        return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
    }
    after_action(&state, &layout, id, &name, &BTreeMap::new(), result).await
}

async fn resume_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let result = state
        .service
        .set_job_wish(id, &name, JobWish::Running, false, &caller.user.name)
        .await;
    after_action(&state, &layout, id, &name, &BTreeMap::new(), result).await
}

async fn delete_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path((id, name)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    state
        .service
        .delete_job(id, &name, &caller.user.name)
        .await
        .or_page(&layout)?;
    Ok(Redirect::to(&format!(
        "/instances/{id}?deleted_job={name}#jobs"
    )))
}

async fn list_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<JobView>>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.service.jobs(id).await?))
}

async fn job_json(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<JobView>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.service.job(id, &name).await?))
}

/// `{"name": "etl", "params": {"jarURI": "...", "parallelism": 2, ...}}`.
#[derive(Debug, serde::Deserialize)]
struct SubmitBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    params: serde_json::Map<String, Value>,
}

async fn submit_json(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<SubmitBody>, JsonRejection>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let id = parse_id(&id)?;
    let body = json_body(body)?;
    let params = params_from_json(body.params)?;
    let job = state
        .service
        .submit_job(id, &body.name, &params, &caller.user.name)
        .await?;
    Ok((StatusCode::CREATED, Json(job)))
}

/// `{"params": {...}}`: the job's new parameters.
#[derive(Debug, serde::Deserialize)]
struct UpgradeBody {
    #[serde(default)]
    params: serde_json::Map<String, Value>,
}

async fn upgrade_json(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
    body: Result<Json<UpgradeBody>, JsonRejection>,
) -> Result<Json<JobView>, ApiError> {
    let id = parse_id(&id)?;
    let params = params_from_json(json_body(body)?.params)?;
    Ok(Json(
        state
            .service
            .upgrade_job(id, &name, &params, &caller.user.name)
            .await?,
    ))
}

/// `{"dropState": true}` to suspend a stateless job; the body may be left out.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SuspendBody {
    drop_state: bool,
}

async fn suspend_json(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
    body: Option<Json<SuspendBody>>,
) -> Result<Json<JobView>, ApiError> {
    let id = parse_id(&id)?;
    let drop_state = body.map(|Json(body)| body.drop_state).unwrap_or_default();
    Ok(Json(
        state
            .service
            .set_job_wish(id, &name, JobWish::Suspended, drop_state, &caller.user.name)
            .await?,
    ))
}

async fn resume_json(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<JobView>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(
        state
            .service
            .set_job_wish(id, &name, JobWish::Running, false, &caller.user.name)
            .await?,
    ))
}

async fn delete_json(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    state
        .service
        .delete_job(id, &name, &caller.user.name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
