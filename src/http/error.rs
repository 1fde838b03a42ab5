//! The HTTP error type and its two faces: an error page and a JSON body.

use std::any::Any;

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;
use thiserror::Error;

use super::page::{Layout, render};
use crate::service::ServiceError;
use crate::store::StoreError;

/// Errors of the HTTP layer, each mapped to one status code.
#[derive(Debug, Error)]
pub enum HttpError {
    /// Nothing at this address.
    #[error("{0}")]
    NotFound(String),
    /// The request itself was refused (wrong content type, bad JSON, too large).
    #[error("{message}")]
    Rejected {
        /// The status to answer with.
        status: StatusCode,
        /// Why.
        message: String,
    },
    /// The service layer failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl HttpError {
    /// The status code this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            HttpError::NotFound(_)
            | HttpError::Service(
                ServiceError::AppNotFound(_)
                | ServiceError::InstanceNotFound(_)
                | ServiceError::JobNotFound(_)
                | ServiceError::SnapshotNotFound(_)
                | ServiceError::PodNotFound(_)
                | ServiceError::UserNotFound(_)
                | ServiceError::TokenNotFound(_)
                | ServiceError::NoWebUi(_),
            ) => StatusCode::NOT_FOUND,
            HttpError::Service(ServiceError::Upstream(_)) => StatusCode::BAD_GATEWAY,
            HttpError::Rejected { status, .. } => *status,
            HttpError::Service(ServiceError::Invalid(_)) => StatusCode::BAD_REQUEST,
            HttpError::Service(
                ServiceError::Store(StoreError::NameTaken { .. } | StoreError::Changed { .. })
                | ServiceError::Conflict(_),
            ) => StatusCode::CONFLICT,
            HttpError::Service(ServiceError::NoCluster) => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Service(ServiceError::NotAllowed(_)) => StatusCode::FORBIDDEN,
            HttpError::Service(ServiceError::Store(error)) if error.is_unavailable() => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            HttpError::Service(ServiceError::Cluster(error)) if error.is_unavailable() => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            HttpError::Service(
                ServiceError::Store(_)
                | ServiceError::Cluster(_)
                | ServiceError::Render(_)
                | ServiceError::Encode(_)
                | ServiceError::Waiting(_),
            ) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the user is told: the error itself when it is theirs to fix, a
    /// generic line (the details go to the log) when it is ours.
    fn public_message(&self) -> String {
        match self.status() {
            StatusCode::SERVICE_UNAVAILABLE => {
                tracing::warn!(error = %self, "dependency unavailable");
                match self {
                    HttpError::Service(ServiceError::NoCluster) => self.to_string(),
                    HttpError::Service(ServiceError::Cluster(_)) => {
                        "The Kubernetes API server is unreachable right now; try again shortly."
                            .to_owned()
                    }
                    _ => "The portal's database is unreachable right now; try again shortly."
                        .to_owned(),
                }
            }
            // An app's web interface is down: what failed is the user's to know.
            StatusCode::BAD_GATEWAY => {
                tracing::warn!(error = %self, "web interface unreachable");
                self.to_string()
            }
            status if status.is_server_error() => {
                tracing::error!(error = %self, "request failed");
                "Something went wrong on our side; the details are in the portal's log.".to_owned()
            }
            _ => self.to_string(),
        }
    }
}

/// An [`HttpError`] answered as a JSON body: `{"error": {"status", "message"}}`.
#[derive(Debug)]
pub struct ApiError(pub HttpError);

impl<E: Into<HttpError>> From<E> for ApiError {
    fn from(error: E) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let mut body =
            json!({"error": {"status": status.as_u16(), "message": self.0.public_message()}});
        // Invalid fields come back one by one, as the form shows them.
        if let HttpError::Service(ServiceError::Invalid(fields)) = &self.0 {
            body["error"]["fields"] = json!(fields);
        }
        (status, Json(body)).into_response()
    }
}

/// A refusal of a script's request through an app's web interface: the
/// [`ApiError`] body with Flink REST's own error field beside it,
/// `{"error": {…}, "errors": [message]}`. Flink's dashboard shows `errors[0]`
/// of any failed answer as a notification (flink-runtime-web
/// `app.interceptor.ts`; the REST API's `ErrorResponseBody`), so a viewer
/// whose click is refused reads why instead of seeing nothing happen.
pub fn web_ui_refusal(error: HttpError) -> Response {
    let status = error.status();
    let message = error.public_message();
    let body = json!({
        "error": {"status": status.as_u16(), "message": message},
        "errors": [message],
    });
    (status, Json(body)).into_response()
}

/// The body of a JSON request, or the request's refusal as an [`ApiError`]:
/// 415 for another content type, 413 past the size limit, 400 for JSON that
/// does not parse or lacks a field (axum says 422 for the latter).
pub fn json_body<T>(
    body: Result<axum::Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    body.map(|axum::Json(body)| body).map_err(|rejection| {
        let status = match rejection.status() {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            other => other,
        };
        ApiError(HttpError::Rejected {
            status,
            message: rejection.body_text(),
        })
    })
}

/// An [`HttpError`] answered as an error page inside the portal's frame.
#[derive(Debug)]
pub struct PageError {
    error: HttpError,
    // Boxed: every handler's `Result` carries this on its error side.
    layout: Box<Layout>,
}

impl PageError {
    /// The error, to be shown in this frame.
    pub fn new(error: impl Into<HttpError>, layout: Layout) -> Self {
        PageError {
            error: error.into(),
            layout: Box::new(layout),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    reason: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.error.status();
        let page = ErrorPage {
            layout: *self.layout,
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message: self.error.public_message(),
        };
        (status, render(&page)).into_response()
    }
}

/// An error answered where it was asked: as JSON under `/api/` (`api`), as
/// an error page in `layout` elsewhere.
pub fn refusal(error: HttpError, api: bool, layout: Layout) -> Response {
    if api {
        ApiError(error).into_response()
    } else {
        PageError::new(error, layout).into_response()
    }
}

/// Extension for handlers: `.or_page(&layout)` turns any error into an error page.
pub trait OrPage<T> {
    /// The value, or the error as a page in this frame.
    fn or_page(self, layout: &Layout) -> Result<T, PageError>;
}

impl<T, E: Into<HttpError>> OrPage<T> for Result<T, E> {
    fn or_page(self, layout: &Layout) -> Result<T, PageError> {
        self.map_err(|error| PageError::new(error, layout.clone()))
    }
}

/// A panic in a handler becomes a plain 500 without the panic's text.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html(
            "<!doctype html><title>Error</title><h1>500 Internal Server Error</h1>\
              <p>Something went wrong on our side; the details are in the portal's log.</p>",
        ),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::ClusterError;

    fn status_of(error: impl Into<ServiceError>) -> StatusCode {
        HttpError::Service(error.into()).status()
    }

    #[test]
    fn errors_map_to_their_status_codes() {
        assert_eq!(
            HttpError::NotFound("x".into()).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status_of(ServiceError::AppNotFound("kafka".into())),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status_of(StoreError::Database(sqlx::Error::PoolTimedOut)),
            StatusCode::SERVICE_UNAVAILABLE,
            "an unreachable database is a 503"
        );
        assert_eq!(
            status_of(ClusterError::Timeout("no answer".into())),
            StatusCode::SERVICE_UNAVAILABLE,
            "an unreachable cluster is a 503"
        );
        assert_eq!(
            status_of(StoreError::Corrupt {
                column: "status",
                value: "?".into()
            }),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn internal_errors_are_not_shown_to_users() {
        let error = HttpError::Service(ServiceError::Store(StoreError::Corrupt {
            column: "params",
            value: "secret-looking-text".into(),
        }));
        assert!(!error.public_message().contains("secret-looking-text"));
        let missing = HttpError::Service(ServiceError::AppNotFound("kafka".into()));
        assert!(
            missing.public_message().contains("kafka"),
            "user errors are shown"
        );
    }
}
