//! Instance pages: `/instances/{id}` and its JSON twin.

use askama::Template;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, HttpError, OrPage, PageError, json_body};
use super::page::{Layout, Page};
use crate::catalog::FieldErrors;
use crate::service::{
    APPLICATION_APP, DELETE_SAVEPOINTS_FIELD, Dependant, FlinkLeftovers, InstanceView,
    InstancesView, SAVEPOINT_FIELD, START_FIELD, ServiceError,
};
use crate::store::InstanceFilter;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/instances", get(list_page))
        .route("/api/v1/instances", get(list_json))
        .route("/instances/{id}", get(instance_page))
        .route("/instances/{id}/live", get(live))
        .route(
            "/instances/{id}/uninstall",
            get(uninstall_page).post(uninstall_form),
        )
        .route("/api/v1/instances/{id}/uninstall", post(uninstall_json))
        .route(
            "/instances/{id}/restart",
            get(super::confirm::restart_page)
                .post(|State(s), c, l, Path(id)| Queued::Restart.form(s, c, l, id)),
        )
        .route(
            "/api/v1/instances/{id}/restart",
            post(|State(s), c, Path(id)| Queued::Restart.json(s, c, id)),
        )
        .route(
            "/instances/{id}/retry",
            post(|State(s), c, l, Path(id)| Queued::Retry.form(s, c, l, id)),
        )
        .route(
            "/api/v1/instances/{id}/retry",
            post(|State(s), c, Path(id)| Queued::Retry.json(s, c, id)),
        )
        .route("/api/v1/instances/{id}", get(instance_json))
}

#[derive(Template)]
#[template(path = "instance.html")]
pub(super) struct InstancePage {
    layout: Layout,
    view: std::sync::Arc<InstanceView>,
    /// A session job just deleted from this page's jobs, to say so.
    deleted_job: Option<String>,
    /// Its pods now (read on each page load), or why they could not be
    /// read; `None` without a cluster or once it is gone.
    pods: Option<Result<Vec<crate::service::PodView>, String>>,
    /// Its numbers from Prometheus, or why they could not be read; `None`
    /// when no Prometheus scrapes it (or its app has no key figures).
    figures: Option<Result<super::figures::FiguresPanel, String>>,
    /// An application's savepoints and checkpoints; `None` for other apps.
    list: Option<super::savepoints::SnapshotList>,
    /// Why Take savepoint was refused.
    savepoint_error: Option<String>,
    /// Why Redeploy from savepoint was refused, and the path typed.
    start_error: Option<String>,
    start_path: String,
}

/// `?deleted_job=NAME`: where a job's Delete lands.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct InstanceQuery {
    deleted_job: Option<String>,
}

#[derive(Template)]
#[template(path = "instances.html")]
struct InstancesPage {
    layout: Layout,
    view: std::sync::Arc<InstancesView>,
}

/// `?app=&namespace=&status=&page=`: the filters and the page.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct ListQuery {
    #[serde(flatten)]
    filter: InstanceFilter,
    page: Option<String>,
}

impl ListQuery {
    /// The page asked for; anything that is not a page number is page 1.
    fn page(&self) -> i64 {
        self.page
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
    }
}

async fn list_page(
    State(state): State<AppState>,
    layout: Layout,
    Query(query): Query<ListQuery>,
) -> Result<Page<InstancesPage>, PageError> {
    let page = query.page();
    let view = state
        .service
        .instances(query.filter, page)
        .await
        .or_page(&layout)?;
    Ok(Page(InstancesPage { layout, view }))
}

async fn list_json(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<std::sync::Arc<InstancesView>>, ApiError> {
    let page = query.page();
    Ok(Json(state.service.instances(query.filter, page).await?))
}

/// An instance id from a path: anything that is not one is a page not found.
pub(super) fn parse_id(id: &str) -> Result<Uuid, HttpError> {
    id.parse()
        .map_err(|_| HttpError::NotFound(format!("no instance with id {id:?}")))
}

async fn instance_page(
    State(state): State<AppState>,
    layout: Layout,
    Path(id): Path<String>,
    Query(query): Query<InstanceQuery>,
) -> Result<Page<InstancePage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let page = instance_page_with(
        &state,
        layout,
        id,
        query.deleted_job,
        &FieldErrors::new(),
        "",
    )
    .await?;
    Ok(Page(page))
}

/// The instance page, with the refusals of an application's savepoint forms
/// (`errors`, and the path typed into Redeploy from savepoint).
pub(super) async fn instance_page_with(
    state: &AppState,
    layout: Layout,
    id: Uuid,
    deleted_job: Option<String>,
    errors: &FieldErrors,
    typed_path: &str,
) -> Result<InstancePage, PageError> {
    let view = state.service.instance(id).await.or_page(&layout)?;
    // Only a job this session really had: the text is not taken from the address as is.
    let deleted_job = deleted_job
        .filter(|name| view.jobs.is_some() && crate::catalog::params::is_dns_label(name, 63));
    let pods = if view.is_gone() {
        None
    } else {
        match state.service.instance_pods(id).await {
            Ok(pods) => Some(Ok(pods)),
            Err(ServiceError::NoCluster) => None,
            Err(error) => Some(Err(error.to_string())),
        }
    };
    let figures = super::figures::figures_panel(state, &view).await;
    let list = if view.instance.app == APPLICATION_APP && !view.is_gone() {
        Some(super::app_savepoints::snapshot_list(state, id).await)
    } else {
        None
    };
    let start_error = errors.get(START_FIELD).cloned();
    Ok(InstancePage {
        layout,
        view,
        deleted_job,
        pods,
        figures,
        list,
        savepoint_error: errors.get(SAVEPOINT_FIELD).cloned(),
        start_path: start_error
            .as_ref()
            .map(|_| typed_path.to_owned())
            .unwrap_or_default(),
        start_error,
    })
}

async fn instance_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<std::sync::Arc<InstanceView>>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.service.instance(id).await?))
}

#[derive(Template)]
#[template(path = "uninstall.html")]
struct UninstallPage {
    layout: Layout,
    crumbs: Vec<super::confirm::Crumb>,
    view: std::sync::Arc<InstanceView>,
    /// For a Flink cluster, what its uninstall leaves.
    leftovers: Option<FlinkLeftovers>,
    dependants: Vec<Dependant>,
    typed: String,
    error: Option<String>,
    /// Whether the savepoints checkbox is ticked, and why it was refused.
    delete_savepoints: bool,
    delete_error: Option<String>,
    conflict: Option<String>,
}

async fn uninstall_page(
    State(state): State<AppState>,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Page<UninstallPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let view = state.service.instance(id).await.or_page(&layout)?;
    let dependants = state
        .service
        .dependants(&view.instance)
        .await
        .or_page(&layout)?;
    let mut crumbs = super::confirm::instance_crumbs(&id, &view.instance.name);
    crumbs.push(("Uninstall".into(), None));
    let leftovers = state.service.uninstall_leftovers(&view).await;
    Ok(Page(UninstallPage {
        layout,
        crumbs,
        view,
        leftovers,
        dependants,
        typed: String::new(),
        error: None,
        delete_savepoints: false,
        delete_error: None,
        conflict: None,
    }))
}

/// The uninstall form: the typed name, and the savepoints checkbox (`on`
/// when ticked, absent otherwise, as browsers send a checkbox).
#[derive(Debug, serde::Deserialize)]
struct Confirm {
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    delete_savepoints: Option<String>,
}

/// The JSON API's uninstall: the typed name and whether to delete a Flink
/// cluster's savepoints too (default false).
#[derive(Debug, serde::Deserialize)]
struct ConfirmJson {
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    delete_savepoints: bool,
}

async fn uninstall_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    Path(id): Path<String>,
    Form(form): Form<Confirm>,
) -> Result<Response, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let delete_savepoints = form.delete_savepoints.is_some();
    let (status, error, delete_error, conflict) = match state
        .service
        .uninstall(id, &form.confirm, delete_savepoints, &caller.user.name)
        .await
    {
        Ok(_) => return Ok(Redirect::to(&format!("/instances/{id}")).into_response()),
        Err(ServiceError::Invalid(mut errors)) => (
            StatusCode::BAD_REQUEST,
            errors.remove("confirm"),
            errors.remove(DELETE_SAVEPOINTS_FIELD),
            None,
        ),
        Err(ServiceError::Conflict(message)) => (StatusCode::CONFLICT, None, None, Some(message)),
        Err(other) => return Err(PageError::new(other, layout)),
    };
    let view = state.service.instance(id).await.or_page(&layout)?;
    let dependants = state
        .service
        .dependants(&view.instance)
        .await
        .or_page(&layout)?;
    let mut crumbs = super::confirm::instance_crumbs(&id, &view.instance.name);
    crumbs.push(("Uninstall".into(), None));
    let leftovers = state.service.uninstall_leftovers(&view).await;
    let page = UninstallPage {
        layout,
        crumbs,
        view,
        leftovers,
        dependants,
        typed: form.confirm,
        error,
        delete_savepoints,
        delete_error,
        conflict,
    };
    Ok((status, super::page::render(&page)).into_response())
}

async fn uninstall_json(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ConfirmJson>, JsonRejection>,
) -> Result<(StatusCode, Json<crate::store::Operation>), ApiError> {
    let id = parse_id(&id)?;
    let body = json_body(body)?;
    let operation = state
        .service
        .uninstall(id, &body.confirm, body.delete_savepoints, &caller.user.name)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(operation)))
}

/// The More operations buttons that queue an operation without a form.
#[derive(Debug, Clone, Copy)]
enum Queued {
    /// A rolling restart.
    Restart,
    /// The last, failed operation again.
    Retry,
}

impl Queued {
    async fn queue(
        self,
        state: &AppState,
        caller: &Caller,
        id: &str,
    ) -> Result<crate::store::Operation, HttpError> {
        let id = parse_id(id)?;
        let actor = &caller.user.name;
        Ok(match self {
            Queued::Restart => state.service.restart(id, actor).await?,
            Queued::Retry => {
                let may_uninstall = caller.user.role >= crate::service::Role::Admin;
                state.service.retry(id, actor, may_uninstall).await?
            }
        })
    }

    async fn form(
        self,
        state: AppState,
        caller: Caller,
        layout: Layout,
        id: String,
    ) -> Result<Redirect, PageError> {
        let operation = self.queue(&state, &caller, &id).await.or_page(&layout)?;
        Ok(Redirect::to(&format!(
            "/instances/{}",
            operation.instance_id
        )))
    }

    async fn json(
        self,
        state: AppState,
        caller: Caller,
        id: String,
    ) -> Result<(StatusCode, Json<crate::store::Operation>), ApiError> {
        Ok((
            StatusCode::ACCEPTED,
            Json(self.queue(&state, &caller, &id).await?),
        ))
    }
}

/// Server-sent events for the instance page: its status and latest operation,
/// sent when they change (read from the store each second, never from the
/// cluster). The page's script updates itself from them.
async fn live(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<super::live::LiveEvents, ApiError> {
    let id = parse_id(&id)?;
    // Unknown ids answer 404 before the stream starts.
    state.service.live_status(id).await?;
    Ok(super::live::changes(
        "status",
        std::time::Duration::from_secs(1),
        move || {
            let state = state.clone();
            // The store is away: say nothing and try again.
            async move {
                let live = state.service.live_status(id).await.ok()?;
                let observed = ObservedFragment {
                    observed: &live.observed,
                }
                .render()
                .ok()?;
                serde_json::to_string(&LiveStatusEvent { live, observed }).ok()
            }
        },
    ))
}

/// A `status` event's data: the status, operation and jobs, and the Objects
/// panel's live part as HTML (`observed`), so it follows the cluster too.
#[derive(serde::Serialize)]
struct LiveStatusEvent {
    #[serde(flatten)]
    live: crate::service::LiveStatus,
    observed: String,
}

/// The Objects panel's live part, as the status stream sends it.
#[derive(Template)]
#[template(path = "observed_live.html")]
struct ObservedFragment<'a> {
    observed: &'a [crate::catalog::health::Observed],
}
