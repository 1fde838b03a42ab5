//! `/healthz`, `/readyz` and `/metrics`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use super::AppState;
use crate::service::Readiness;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/health", get(health_page))
        .route("/metrics", get(metrics))
}

/// The process is up and serving.
async fn healthz() -> &'static str {
    "ok\n"
}

/// The database (and the cluster, when configured) answer: 200, else 503.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let readiness = state.service.readiness().await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness))
}

/// The portal's readiness as a page: what `/readyz` answers, for people.
#[derive(askama::Template)]
#[template(path = "health.html")]
struct HealthPage {
    layout: super::page::Layout,
    readiness: Readiness,
}

async fn health_page(
    State(state): State<AppState>,
    layout: super::page::Layout,
) -> (StatusCode, axum::response::Response) {
    let readiness = state.service.readiness().await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        super::page::render(&HealthPage { layout, readiness }),
    )
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match state.metrics.encode() {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        ),
        Err(error) => {
            tracing::error!(%error, "metrics failed to encode");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                String::from("metrics failed to encode\n"),
            )
        }
    }
}
