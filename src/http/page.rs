//! Rendering askama pages inside the portal's frame.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::service::Role;

/// What every page's frame (`base.html`) shows. Handlers take it as an
/// extractor: the portal's part comes from the state, the rest from the request.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The cluster is the local test control plane with simulated workloads.
    pub local_cluster: bool,
    /// ... whose node runs Flink's pods as real Flink processes.
    pub real_flink: bool,
    /// Who is signed in, when someone is.
    pub signed_in: Option<SignedIn>,
    /// The session's CSRF token, for every form of the page (empty without a session).
    pub csrf: String,
    /// Why the cluster cannot be followed now, when it cannot.
    pub cluster_problem: Option<String>,
}

/// The signed-in user, as the frame shows them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Login name.
    pub name: String,
    /// Their role.
    pub role: Role,
}

impl Layout {
    /// Whether the user may install, update, restart, roll back and run jobs.
    pub fn may_operate(&self) -> bool {
        self.has(Role::Operator)
    }

    /// Whether the user may uninstall, manage users and read the audit log.
    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    fn has(&self, role: Role) -> bool {
        self.signed_in
            .as_ref()
            .is_some_and(|user| user.role >= role)
    }
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
