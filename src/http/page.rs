//! Rendering askama pages inside the portal's frame.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// What every page's frame (`base.html`) shows.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The cluster is the local test control plane with simulated workloads.
    pub local_cluster: bool,
}

/// A page ready to be sent: any askama template.
pub struct Page<T>(pub T);

impl<T: Template> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        render(&self.0)
    }
}

/// Renders a template to an HTML response; a render failure is logged and
/// answered with a bare 500 (templates are compiled in, so this is a bug).
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}
