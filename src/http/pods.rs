//! An instance's pods: a pod's page with its events, its containers' logs
//! (the last lines, the previous run's, a download, followed live with
//! server-sent events), and their JSON twins. Read-only: a viewer may read them.

use askama::Template;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use futures::StreamExt;

use super::AppState;
use super::error::{ApiError, HttpError, OrPage, PageError};
use super::instances::parse_id;
use super::live::{LiveEvents, changes_on, stream_of};
use super::page::{Layout, Page};
use crate::service::{
    LOG_DOWNLOAD_BYTES, LOG_PAGE_BYTES, LOG_TAIL_LINES, LogRequest, LogView, PodDetail, PodView,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/instances/{id}/pods/{pod}", get(pod_page))
        .route("/instances/{id}/logs/{component}", get(component_log))
        .route("/instances/{id}/pods/{pod}/logs/{container}", get(log_page))
        .route(
            "/instances/{id}/pods/{pod}/logs/{container}/download",
            get(download),
        )
        .route(
            "/instances/{id}/pods/{pod}/logs/{container}/follow",
            get(follow),
        )
        .route("/instances/{id}/live/pods", get(live_pods))
        .route("/api/v1/instances/{id}/pods", get(pods_json))
        .route("/api/v1/instances/{id}/pods/{pod}", get(pod_json))
        .route(
            "/api/v1/instances/{id}/pods/{pod}/logs/{container}",
            get(log_json),
        )
}

/// `?previous=true`: the previous run's log.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct LogQuery {
    previous: Option<String>,
}

impl LogQuery {
    fn previous(&self) -> bool {
        matches!(self.previous.as_deref(), Some("true" | "1" | "on"))
    }
}

#[derive(Template)]
#[template(path = "pod.html")]
struct PodPage {
    layout: Layout,
    detail: PodDetail,
    /// The pod as the instance page's table shows it.
    pods: Vec<PodView>,
}

/// The instance page's pods panel, as the live stream sends it.
#[derive(Template)]
#[template(path = "pods_live.html")]
struct PodsFragment {
    pods: Vec<PodView>,
    instance_id: uuid::Uuid,
}

/// How often an open instance page's pods are read again when nothing
/// changed (their ages move on).
const PODS_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Template)]
#[template(path = "logs.html")]
struct LogPage {
    layout: Layout,
    view: LogView,
    tail_lines: i64,
    page_kib: i64,
    /// The log page's path.
    base: String,
}

async fn pod_page(
    State(state): State<AppState>,
    layout: Layout,
    Path((id, pod)): Path<(String, String)>,
) -> Result<Page<PodPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let detail = state.service.pod(id, &pod).await.or_page(&layout)?;
    let pods = vec![detail.pod.clone()];
    Ok(Page(PodPage {
        layout,
        detail,
        pods,
    }))
}

/// `/instances/{id}/logs/jobmanager` (or `taskmanager`): the log page of
/// Flink's main container in the cluster's pod of that component now (a
/// running one first, else the newest): one link from anywhere, e.g. a
/// failed job's page, whatever the pod is called today.
async fn component_log(
    State(state): State<AppState>,
    layout: Layout,
    Path((id, component)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let pods = state.service.instance_pods(id).await.or_page(&layout)?;
    let pod = pods
        .iter()
        .filter(|pod| pod.component.as_deref() == Some(component.as_str()))
        .max_by_key(|pod| (pod.status == "Running", pod.created))
        .ok_or_else(|| HttpError::NotFound(format!("no {component} pod of this instance now")))
        .or_page(&layout)?;
    Ok(Redirect::to(&format!(
        "/instances/{id}/pods/{}/logs/flink-main-container",
        pod.name
    )))
}

/// What a page shows of a log: its last lines, bounded.
fn page_request(previous: bool) -> LogRequest {
    LogRequest {
        previous,
        tail_lines: Some(LOG_TAIL_LINES),
        limit_bytes: Some(LOG_PAGE_BYTES),
    }
}

async fn log_page(
    State(state): State<AppState>,
    layout: Layout,
    Path((id, pod, container)): Path<(String, String, String)>,
    Query(query): Query<LogQuery>,
) -> Result<Page<LogPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let view = state
        .service
        .container_log(id, &pod, &container, page_request(query.previous()))
        .await
        .or_page(&layout)?;
    let base = format!("/instances/{id}/pods/{pod}/logs/{container}");
    Ok(Page(LogPage {
        layout,
        view,
        base,
        tail_lines: LOG_TAIL_LINES,
        page_kib: LOG_PAGE_BYTES / 1024,
    }))
}

/// The whole log (at most [`LOG_DOWNLOAD_BYTES`]) as a file.
async fn download(
    State(state): State<AppState>,
    Path((id, pod, container)): Path<(String, String, String)>,
    Query(query): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let previous = query.previous();
    let request = LogRequest {
        previous,
        tail_lines: None,
        limit_bytes: Some(LOG_DOWNLOAD_BYTES),
    };
    let view = state
        .service
        .container_log(id, &pod, &container, request)
        .await?;
    let name = format!(
        "{}-{}{}.log",
        view.pod.name,
        view.container,
        if previous { "-previous" } else { "" }
    );
    let body = match view.unavailable() {
        Some(reason) => format!("{reason}\n"),
        None => view.text().to_owned(),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// The log followed live: event `line` per line (the page's last lines
/// first), then `end` when the container ends (the page then stops
/// listening rather than reconnecting).
async fn follow(
    State(state): State<AppState>,
    Path((id, pod, container)): Path<(String, String, String)>,
) -> Result<LiveEvents, ApiError> {
    let id = parse_id(&id)?;
    let lines = state
        .service
        .follow_container_log(id, &pod, &container)
        .await?;
    let events = lines
        .map(|line| match line {
            Ok(line) => Event::default()
                .event("line")
                .data(line.trim_end_matches('\n')),
            Err(error) => Event::default().event("broken").data(error.to_string()),
        })
        .chain(futures::stream::once(async {
            Event::default().event("end").data("")
        }));
    Ok(stream_of(events))
}

/// The instance's pods panel as server-sent events: a `pods` event with the
/// panel's HTML whenever it changed, read again when the watches see the
/// instance's objects (its pods among them) change and every
/// [`PODS_REFRESH`] (ages), so the open page follows pods that come, go,
/// restart or crash-loop. A failed read sends nothing and is tried again.
async fn live_pods(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<LiveEvents, ApiError> {
    let id = parse_id(&id)?;
    // Unknown ids (and no cluster) answer before the stream starts.
    state.service.instance_pods(id).await?;
    let changed = state.service.instance_changes(id).await?;
    Ok(changes_on("pods", changed, PODS_REFRESH, move || {
        let state = state.clone();
        async move {
            let pods = state.service.instance_pods(id).await.ok()?;
            PodsFragment {
                pods,
                instance_id: id,
            }
            .render()
            .ok()
        }
    }))
}

async fn pods_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<PodView>>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.service.instance_pods(id).await?))
}

async fn pod_json(
    State(state): State<AppState>,
    Path((id, pod)): Path<(String, String)>,
) -> Result<Json<PodDetail>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.service.pod(id, &pod).await?))
}

async fn log_json(
    State(state): State<AppState>,
    Path((id, pod, container)): Path<(String, String, String)>,
    Query(query): Query<LogQuery>,
) -> Result<Json<LogView>, ApiError> {
    let id = parse_id(&id)?;
    let view = state
        .service
        .container_log(id, &pod, &container, page_request(query.previous()))
        .await?;
    Ok(Json(view))
}
