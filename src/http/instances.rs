//! Instance pages: `/instances/{id}` and its JSON twin.

use askama::Template;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, HttpError, OrPage, PageError};
use super::page::{Layout, Page};
use crate::service::InstanceView;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/instances/{id}", get(instance_page))
        .route("/api/v1/instances/{id}", get(instance_json))
}

#[derive(Template)]
#[template(path = "instance.html")]
struct InstancePage {
    layout: Layout,
    view: InstanceView,
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
