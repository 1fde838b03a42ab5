//! Instance pages: `/instances/{id}` and its JSON twin.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, HttpError, OrPage, PageError};
use super::page::{Layout, Page};
use crate::service::{InstanceView, InstancesView};
use crate::store::InstanceFilter;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/instances", get(list_page))
        .route("/api/v1/instances", get(list_json))
        .route("/instances/{id}", get(instance_page))
        .route("/api/v1/instances/{id}", get(instance_json))
}

#[derive(Template)]
#[template(path = "instance.html")]
struct InstancePage {
    layout: Layout,
    view: InstanceView,
}

#[derive(Template)]
#[template(path = "instances.html")]
struct InstancesPage {
    layout: Layout,
    view: InstancesView,
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
    Query(query): Query<ListQuery>,
) -> Result<Page<InstancesPage>, PageError> {
    let page = query.page();
    let view = state
        .service
        .instances(query.filter, page)
        .await
        .or_page(&state.layout)?;
    Ok(Page(InstancesPage {
        layout: state.layout,
        view,
    }))
}

async fn list_json(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<InstancesView>, ApiError> {
    let page = query.page();
    Ok(Json(state.service.instances(query.filter, page).await?))
}

fn parse_id(id: &str) -> Result<Uuid, HttpError> {
    id.parse()
        .map_err(|_| HttpError::NotFound(format!("no instance with id {id:?}")))
}

async fn instance_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Page<InstancePage>, PageError> {
    let id = parse_id(&id).or_page(&state.layout)?;
    let view = state.service.instance(id).await.or_page(&state.layout)?;
    Ok(Page(InstancePage {
        layout: state.layout,
        view,
    }))
}

async fn instance_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<InstanceView>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.service.instance(id).await?))
}
