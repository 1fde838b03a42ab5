//! The job page: a session job's state, savepoints and checkpoints, its
//! actions and its upgrade form, with the errors of a refused action next to
//! the control that asked for it.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use uuid::Uuid;

use super::AppState;
use super::error::{OrPage, PageError};
use super::instances::parse_id;
use super::jobs::JobFields;
use super::page::{Layout, Page};
use super::savepoints::{SnapshotList, snapshot_list};
use crate::catalog::FieldErrors;
use crate::service::{JobFormView, JobView, SAVEPOINT_FIELD, START_FIELD};

/// A job: its state, savepoint and parameters, its actions and its upgrade form.
#[derive(Template)]
#[template(path = "job.html")]
pub(super) struct JobPage {
    layout: Layout,
    job: JobView,
    form: JobFormView,
    /// Why the last Suspend was refused, next to its checkbox.
    suspend_error: Option<String>,
    /// The job's savepoints and checkpoints and its periodic schedule.
    list: SnapshotList,
    /// Why the last Take savepoint was refused, next to its button.
    savepoint_error: Option<String>,
    /// Why the last start from a savepoint was refused, next to its path.
    start_error: Option<String>,
    /// The path typed for that start.
    start_path: String,
}

/// The job page, with what was typed in its upgrade form and the errors.
pub(super) async fn job_page_with(
    state: &AppState,
    layout: &Layout,
    id: Uuid,
    name: &str,
    typed: &JobFields,
    errors: &FieldErrors,
) -> Result<JobPage, PageError> {
    let job = state.service.job(id, name).await.or_page(layout)?;
    // A refused Suspend is the Suspend form's error, not the upgrade form's.
    let mut form_errors = errors.clone();
    let suspend_error = form_errors.remove("dropState");
    let savepoint_error = form_errors.remove(SAVEPOINT_FIELD);
    let start_error = form_errors.remove(START_FIELD);
    let start_path = if start_error.is_some() {
        typed.get(START_FIELD).cloned().unwrap_or_default()
    } else {
        String::new()
    };
    let typed = if start_error.is_some() {
        &BTreeMap::new()
    } else {
        typed
    };
    let form = state
        .service
        .job_form(id, Some(name), typed, &form_errors)
        .await
        .or_page(layout)?;
    let list = snapshot_list(state, id, name).await;
    Ok(JobPage {
        layout: layout.clone(),
        job,
        suspend_error,
        list,
        savepoint_error,
        start_error,
        start_path,
        form,
    })
}

pub(super) async fn job_page(
    State(state): State<AppState>,
    layout: Layout,
    Path((id, name)): Path<(String, String)>,
) -> Result<Page<JobPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let page = job_page_with(
        &state,
        &layout,
        id,
        &name,
        &BTreeMap::new(),
        &FieldErrors::new(),
    )
    .await?;
    Ok(Page(page))
}
