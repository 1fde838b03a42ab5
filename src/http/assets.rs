//! Static assets, embedded in the binary.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::AppState;

const STYLESHEET: &str = include_str!("../../static/dataport.css");
const SCRIPT: &str = include_str!("../../static/dataport.js");

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/static/dataport.css", get(stylesheet))
        .route("/static/dataport.js", get(script))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
}
