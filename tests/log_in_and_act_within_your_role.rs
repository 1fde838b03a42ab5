//! Nobody gets in without logging in; each role does what it may and no more;
//! a form without the session's CSRF token changes nothing; API tokens work
//! until revoked; every change lands in the audit log.

mod common;

use common::session::BrowserLike;
use common::{ADMIN, ADMIN_PASSWORD, Portal};
use dataport::service::Role;
use serde_json::{Value, json};

const NOBODY: &str = "00000000-0000-4000-8000-000000000000";

/// Every route that changes something, as (method, path, JSON body or form).
fn mutating_routes() -> Vec<(&'static str, String)> {
    let id = NOBODY;
    vec![
        ("POST", "/catalog/flink/install".to_owned()),
        ("POST", "/api/v1/instances".to_owned()),
        ("POST", "/api/v1/preview".to_owned()),
        ("POST", format!("/instances/{id}/update")),
        ("POST", format!("/api/v1/instances/{id}/update")),
        ("POST", format!("/api/v1/instances/{id}/diff")),
        ("POST", format!("/instances/{id}/rollback")),
        ("POST", format!("/api/v1/instances/{id}/rollback")),
        ("POST", format!("/instances/{id}/restart")),
        ("POST", format!("/api/v1/instances/{id}/restart")),
        ("POST", format!("/instances/{id}/uninstall")),
        ("POST", format!("/api/v1/instances/{id}/uninstall")),
        ("DELETE", format!("/api/v1/instances/{id}")),
        ("POST", format!("/instances/{id}/jobs")),
        ("POST", format!("/api/v1/instances/{id}/jobs")),
        ("POST", format!("/instances/{id}/jobs/etl/upgrade")),
        ("POST", format!("/instances/{id}/jobs/etl/suspend")),
        ("POST", format!("/instances/{id}/jobs/etl/resume")),
        ("POST", format!("/instances/{id}/jobs/etl/delete")),
        ("POST", format!("/api/v1/instances/{id}/jobs/etl/upgrade")),
        ("POST", format!("/api/v1/instances/{id}/jobs/etl/suspend")),
        ("POST", format!("/api/v1/instances/{id}/jobs/etl/resume")),
        ("DELETE", format!("/api/v1/instances/{id}/jobs/etl")),
        ("POST", format!("/instances/{id}/jobs/etl/savepoints")),
        (
            "POST",
            format!("/api/v1/instances/{id}/jobs/etl/savepoints"),
        ),
        ("POST", format!("/instances/{id}/jobs/etl/redeploy")),
        ("POST", format!("/api/v1/instances/{id}/jobs/etl/redeploy")),
        ("POST", "/users".to_owned()),
        ("POST", "/api/v1/users".to_owned()),
        ("POST", format!("/users/{id}/remove")),
        ("POST", "/account/tokens".to_owned()),
        ("POST", format!("/account/tokens/{id}/revoke")),
        ("POST", "/logout".to_owned()),
    ]
}

#[tokio::test]
async fn anonymous_requests_are_sent_to_log_in_and_change_nothing() {
    let (portal, database) = Portal::on_sqlite().await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (method, path) in mutating_routes() {
        let request = anonymous.request(method.parse().unwrap(), format!("{}{path}", portal.base));
        let response = if path.starts_with("/api/") {
            request.json(&json!({"app": "zookeeper", "name": "zk", "namespace": "x"}))
        } else {
            request.form(&[("name", "zk"), ("namespace", "x"), ("confirm", "zk")])
        }
        .send()
        .await
        .unwrap();
        let status = response.status().as_u16();
        if path.starts_with("/api/") {
            assert_eq!(status, 401, "{method} {path}");
            assert!(response.headers().contains_key("www-authenticate"));
        } else {
            assert_eq!(status, 303, "{method} {path}");
            let location = response.headers()["location"].to_str().unwrap();
            assert!(
                location.starts_with("/login"),
                "{method} {path}: {location}"
            );
        }
    }
    // Pages send visitors to the login page and back; health stays open.
    let response = anonymous
        .get(format!("{}/instances?app=flink", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/login?next=%2Finstances%3Fapp%3Dflink"
    );
    for open in ["/login", "/healthz", "/readyz", "/static/dataport.css"] {
        let status = anonymous
            .get(format!("{}{open}", portal.base))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status == 200 || status == 503, "{open}: {status}");
    }
    let store = database.store().await;
    assert!(store.instances(None).await.unwrap().is_empty());
    assert_eq!(store.user_count().await.unwrap(), 1, "only the admin");
    let (audit, _) = store.audit_page(100, 0).await.unwrap();
    assert!(
        audit
            .iter()
            .all(|entry| entry.action == "add user" || entry.action == "create token"),
        "nothing but the test admin's setup: {audit:?}"
    );
}

#[tokio::test]
async fn each_role_may_do_its_part_and_is_refused_the_rest() {
    let (portal, database, namespace) = Portal::on_test_cluster("roles").await;
    let viewer = portal.client_as(&database.url, "vera", Role::Viewer).await;
    let operator = portal
        .client_as(&database.url, "otto", Role::Operator)
        .await;
    let zookeeper = json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}});

    // A viewer reads everything but installs nothing, by API or by form;
    // the form, reached by its address, says so before it is filled in.
    let page = common::text_of(
        &viewer,
        &format!("{}/catalog/zookeeper/install", portal.base),
    )
    .await;
    assert!(
        page.contains(
            "vera, a viewer: you may look at this form, but installing needs the operator role"
        ),
        "the install form tells a viewer"
    );
    let page = common::text_of(
        &operator,
        &format!("{}/catalog/zookeeper/install", portal.base),
    )
    .await;
    assert!(!page.contains("data-needs-operator"), "not an operator");
    let listed = viewer
        .get(format!("{}/api/v1/instances", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let refused = viewer
        .post(format!("{}/api/v1/instances", portal.base))
        .json(&zookeeper)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let message: Value = refused.json().await.unwrap();
    assert!(
        message["error"]["message"]
            .as_str()
            .unwrap()
            .contains("operator role"),
        "{message}"
    );
    let form = viewer
        .post(format!("{}/catalog/zookeeper/install", portal.base))
        .form(&[("name", "zk"), ("namespace", namespace.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 403);
    assert!(
        form.text()
            .await
            .unwrap()
            .contains("This needs the operator role")
    );
    assert!(
        database
            .store()
            .await
            .instances(None)
            .await
            .unwrap()
            .is_empty()
    );

    // An operator installs and restarts, but does not uninstall.
    let created = operator
        .post(format!("{}/api/v1/instances", portal.base))
        .json(&zookeeper)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    portal
        .wait_for_instance(&id, "installed", |i| {
            i["operations"][0]["state"] == "succeeded"
        })
        .await;
    let restart = operator
        .post(format!("{}/api/v1/instances/{id}/restart", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(restart.status(), 202);
    let uninstall = operator
        .post(format!("{}/api/v1/instances/{id}/uninstall", portal.base))
        .json(&json!({"confirm": "zk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(uninstall.status(), 403);
    let audit = operator
        .get(format!("{}/api/v1/audit", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(audit.status(), 403, "the audit log is for admins");

    // The admin uninstalls; the audit log says who did what.
    let (status, _) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/uninstall"),
            &json!({"confirm": "zk"}),
        )
        .await;
    assert_eq!(status, 202);
    let (status, audit) = portal.get_json("/api/v1/audit").await;
    assert_eq!(status, 200);
    let entries = audit["entries"].as_array().unwrap();
    let find = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {audit}"))
    };
    assert_eq!(find("install")["actor"], "otto");
    assert_eq!(find("install")["instance_id"], id.as_str());
    assert_eq!(find("install")["target"], format!("{namespace}/zk"));
    assert!(
        find("install")["detail"]
            .as_str()
            .unwrap()
            .contains("replicas=1")
    );
    assert_eq!(find("install")["result"], "ok");
    assert_eq!(find("restart")["actor"], "otto");
    assert_eq!(find("uninstall")["actor"], ADMIN);
    let (status, page) = portal.get("/audit").await;
    assert_eq!(status, 200);
    assert!(page.contains("otto") && page.contains(&format!("{namespace}/zk")));
}

#[tokio::test]
async fn a_session_logs_in_and_its_forms_need_the_csrf_token() {
    let (portal, database) = Portal::on_sqlite().await;
    let store = database.store().await;
    let mut tab = BrowserLike::new(&portal.base);
    // An API client may open the login page too (it always has a session).
    assert_eq!(portal.get("/login").await.0, 200);

    // The login page starts a session cookie: HttpOnly, SameSite=Lax.
    let login = tab.get("/login").await;
    assert_eq!(login.status, 200);
    let cookie = login
        .cookies
        .iter()
        .find(|c| c.starts_with("dataport_session="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");

    // A login form without its token, or with a wrong password, gets nowhere.
    let forged = tab
        .post_raw("/login", &[("name", ADMIN), ("password", ADMIN_PASSWORD)])
        .await;
    assert_eq!(forged.status, 403);
    let wrong = tab
        .post(
            "/login",
            &[("name", ADMIN), ("password", "not the password")],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong user name or password"));
    assert!(
        wrong.body.contains(&format!("value=\"{ADMIN}\"")),
        "name kept"
    );
    let unknown = tab
        .post(
            "/login",
            &[("name", "nobody"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(unknown.status, 401, "same answer for an unknown name");

    let before = tab.csrf.clone();
    let ok = tab.log_in(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location.as_deref(), Some("/"));
    assert!(
        ok.cookies
            .iter()
            .any(|c| c.starts_with("dataport_session=")),
        "a new session id at login"
    );
    assert_ne!(tab.csrf, before, "a new CSRF token at login");
    let account = tab.get("/account").await;
    assert!(account.body.contains("data-signed-in=\"admin\""));

    // Adding a user: refused without the token and with another session's,
    // done with the right one.
    let fields = [
        ("name", "carol"),
        ("role", "operator"),
        ("password", "carol's long password"),
    ];
    let missing = tab.post_raw("/users", &fields).await;
    assert_eq!(missing.status, 403);
    assert!(missing.body.contains("nothing was changed"));
    let mut other = BrowserLike::new(&portal.base);
    other.get("/login").await;
    let mut with_other = fields.to_vec();
    with_other.push(("csrf_token", &other.csrf));
    assert_eq!(tab.post_raw("/users", &with_other).await.status, 403);
    assert_eq!(store.user_count().await.unwrap(), 1, "nobody added");
    let short = tab
        .post(
            "/users",
            &[("name", "dave"), ("role", "viewer"), ("password", "short")],
        )
        .await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("data-error=\"password\""));
    let added = tab.post("/users", &fields).await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(store.user_count().await.unwrap(), 2);

    // A token made on the account page works as a Bearer token until revoked.
    let made = tab.post("/account/tokens", &[("name", "ci")]).await;
    assert_eq!(made.status, 201);
    let token = made
        .body
        .split("data-token>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("token shown once")
        .to_owned();
    assert!(token.starts_with("dpt_"));
    let bearer = common::client_with_token(&token, false);
    let read = bearer
        .get(format!("{}/api/v1/instances", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let token_id = store
        .tokens_of(store.user_with_password(ADMIN).await.unwrap().unwrap().0.id)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "ci")
        .unwrap()
        .id;
    tab.get("/account").await;
    let revoked = tab
        .post(&format!("/account/tokens/{token_id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, 303);
    let refused = bearer
        .get(format!("{}/api/v1/instances", portal.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "a revoked token is refused at once");
    // A token or user that is gone: a page that says so, with 404.
    let gone = tab.get(&format!("/account/tokens/{token_id}/revoke")).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert!(gone.body.contains("no API token with id"), "{}", gone.body);
    let nobody = tab
        .get(&format!("/users/{}/remove", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(nobody.status, 404, "{}", nobody.body);
    assert!(nobody.body.contains("no user with id"), "{}", nobody.body);

    // Changing one's password needs the current one.
    let new_password = "a brand new admin password";
    let wrong = tab
        .post(
            "/account/password",
            &[("current", "guess"), ("password", new_password)],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("data-error=\"current\""));
    let changed = tab
        .post(
            "/account/password",
            &[("current", ADMIN_PASSWORD), ("password", new_password)],
        )
        .await;
    assert_eq!(changed.status, 200);
    assert!(changed.body.contains("data-password-changed"));

    // Logging out ends the session; only the new password logs in again.
    let out = tab.post("/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(tab.get("/account").await.status, 303);
    assert_eq!(tab.log_in(ADMIN, ADMIN_PASSWORD).await.status, 401);
    assert_eq!(tab.log_in(ADMIN, new_password).await.status, 303);

    let (entries, _) = store.audit_page(100, 0).await.unwrap();
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.result.as_str()))
        .collect();
    for expected in [
        ("login", "ok"),
        ("add user", "ok"),
        ("create token", "ok"),
        ("revoke token", "ok"),
        ("change password", "ok"),
        ("logout", "ok"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
    assert!(
        actions
            .iter()
            .any(|(a, r)| *a == "login" && r.starts_with("failed")),
        "failed logins are written: {actions:?}"
    );
    assert!(
        entries
            .iter()
            .all(|e| !e.detail.contains("carol's long password")),
        "no password in the log"
    );
}

#[tokio::test]
async fn session_cookies_are_secure_behind_tls() {
    use tower::ServiceExt;
    let database = common::TestDatabase::new(common::Backend::Sqlite).await;
    let service = dataport::service::Service::new(database.store().await, None);
    let mut state = dataport::http::AppState::new(std::sync::Arc::new(service), Default::default());
    state.secure_cookies = true;
    let response = dataport::http::router(state)
        .oneshot(
            axum::http::Request::get("/login")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}
