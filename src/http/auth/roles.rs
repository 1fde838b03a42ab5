//! Which role each request needs: the portal's own routes by path and
//! method, an app's web interface by method alone.

use axum::http::Method;

use crate::service::Role;

/// The role a request needs; `None` for what anyone may see (the login page,
/// health, metrics, static files).
pub fn required_role(method: &Method, path: &str) -> Option<Role> {
    let public = matches!(path, "/login" | "/healthz" | "/readyz" | "/metrics")
        || path.starts_with("/static/");
    if public {
        return None;
    }
    let admin_area = ["/users", "/audit", "/api/v1/users", "/api/v1/audit"]
        .iter()
        .any(|area| {
            path.strip_prefix(area)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        });
    if admin_area {
        return Some(Role::Admin);
    }
    if path == "/logout" || path == "/account" || path.starts_with("/account/") {
        return Some(Role::Viewer);
    }
    if crate::http::webui::web_ui_path(path).is_some() {
        return Some(web_ui_role(method));
    }
    let uninstall = path.trim_end_matches('/').ends_with("/uninstall");
    // DELETE /api/v1/instances/{id}: uninstalls too (jobs' DELETE is an operator's).
    let delete_instance = *method == Method::DELETE
        && path
            .strip_prefix("/api/v1/instances/")
            .is_some_and(|id| !id.trim_end_matches('/').contains('/'));
    if uninstall || delete_instance {
        return Some(Role::Admin);
    }
    if is_safe(method) {
        Some(Role::Viewer)
    } else {
        Some(Role::Operator)
    }
}

/// The role a request through an app's web interface needs: a viewer may
/// look (GET, HEAD); anything else (a Flink job's cancel is `PATCH
/// /jobs/{id}`, a MinIO upload is `PUT`, even `OPTIONS`) is an operator's,
/// and so is a WebSocket handshake, though a GET ([`authenticate`](super::authenticate) sees it).
pub fn web_ui_role(method: &Method) -> Role {
    if matches!(*method, Method::GET | Method::HEAD) {
        Role::Viewer
    } else {
        Role::Operator
    }
}

/// Whether a method only reads (what a viewer may send to dataport's routes).
pub(super) fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_the_roles_the_issue_names() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(required_role(&get, "/login"), None);
        assert_eq!(required_role(&post, "/login"), None);
        assert_eq!(required_role(&get, "/readyz"), None);
        assert_eq!(required_role(&get, "/static/dataport.css"), None);
        assert_eq!(required_role(&get, "/"), Some(Role::Viewer));
        assert_eq!(required_role(&get, "/instances/x"), Some(Role::Viewer));
        assert_eq!(
            required_role(&post, "/catalog/flink/install"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role(&post, "/api/v1/instances"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role(&post, "/instances/x/restart"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role(&post, "/instances/x/uninstall"),
            Some(Role::Admin)
        );
        assert_eq!(
            required_role(&get, "/instances/x/uninstall"),
            Some(Role::Admin)
        );
        assert_eq!(
            required_role(&Method::DELETE, "/api/v1/instances/x"),
            Some(Role::Admin)
        );
        assert_eq!(
            required_role(&Method::DELETE, "/api/v1/instances/x/jobs/y"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role(&Method::DELETE, "/api/v1/instances/x/jobs/y/savepoints/z"),
            Some(Role::Operator)
        );
        assert_eq!(
            required_role(&Method::DELETE, "/api/v1/instances/x/savepoints/z"),
            Some(Role::Operator)
        );
        assert_eq!(required_role(&get, "/audit"), Some(Role::Admin));
        assert_eq!(required_role(&get, "/api/v1/audit"), Some(Role::Admin));
        assert_eq!(required_role(&post, "/users"), Some(Role::Admin));
        assert_eq!(required_role(&get, "/usersx"), Some(Role::Viewer));
        assert_eq!(required_role(&post, "/account/tokens"), Some(Role::Viewer));
        assert_eq!(required_role(&post, "/logout"), Some(Role::Viewer));
    }

    #[test]
    fn through_a_web_interface_a_viewer_may_only_look() {
        let ui = "/instances/x/ui/flink-webui/jobs/j1";
        assert_eq!(required_role(&Method::GET, ui), Some(Role::Viewer));
        assert_eq!(required_role(&Method::HEAD, ui), Some(Role::Viewer));
        for method in [
            Method::PATCH,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            assert_eq!(required_role(&method, ui), Some(Role::Operator), "{method}");
        }
        // A path of the app that ends like one of dataport's stays the app's.
        assert_eq!(
            required_role(&Method::POST, "/instances/x/ui/streampark/uninstall"),
            Some(Role::Operator)
        );
        assert!(Role::Viewer < web_ui_role(&Method::PATCH));
    }
}
