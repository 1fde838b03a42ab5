//! The catalog: `/`, `/catalog`, `/catalog/{app}` and their JSON twins.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use super::error::{ApiError, OrPage, PageError};
use super::page::{Layout, Page};
use crate::service::{AppView, CatalogQuery, CatalogView};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(catalog_page))
        .route("/catalog", get(catalog_page))
        .route("/catalog/{app}", get(app_page))
        .route("/api/v1/apps", get(catalog_json))
        .route("/api/v1/apps/{app}", get(app_json))
        .route("/api/v1/apps/{app}/schema", get(app_schema_json))
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogPage {
    layout: Layout,
    view: CatalogView,
}

#[derive(Template)]
#[template(path = "app.html")]
struct AppPage {
    layout: Layout,
    view: AppView,
}

async fn catalog_page(
    State(state): State<AppState>,
    layout: Layout,
    Query(query): Query<CatalogQuery>,
) -> Result<Page<CatalogPage>, PageError> {
    let view = state.service.catalog(&query).await.or_page(&layout)?;
    Ok(Page(CatalogPage { layout, view }))
}

async fn app_page(
    State(state): State<AppState>,
    layout: Layout,
    Path(app): Path<String>,
) -> Result<Page<AppPage>, PageError> {
    let view = state.service.app(&app).await.or_page(&layout)?;
    Ok(Page(AppPage { layout, view }))
}

async fn catalog_json(
    State(state): State<AppState>,
    Query(query): Query<CatalogQuery>,
) -> Result<Json<CatalogView>, ApiError> {
    Ok(Json(state.service.catalog(&query).await?))
}

async fn app_json(
    State(state): State<AppState>,
    Path(app): Path<String>,
) -> Result<Json<AppView>, ApiError> {
    Ok(Json(state.service.app(&app).await?))
}

async fn app_schema_json(
    State(state): State<AppState>,
    Path(app): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.service.app_schema(&app)?))
}
