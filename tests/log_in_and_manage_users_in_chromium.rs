//! In real headless Chromium, with and without JavaScript: a visitor is sent
//! to the login page, a wrong password is refused by the field, the admin
//! logs in, adds an operator, reads the audit log and logs out; the operator
//! sees no Uninstall and no admin pages.

mod common;

use common::browser::{Browser, JavaScript};
use common::{ADMIN, ADMIN_PASSWORD, Portal};
use dataport::http::Layout;
use serde_json::json;

async fn journey(javascript: JavaScript, suffix: &str) {
    let (portal, _database, namespace) = Portal::on_test_cluster_with(
        &format!("browser-users-{suffix}"),
        Layout {
            local_cluster: true,
            ..Layout::default()
        },
    )
    .await;
    let zk = portal
        .install(json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}}))
        .await;
    let id = zk["instance"]["id"].as_str().unwrap().to_owned();
    let browser = Browser::start(javascript).await;

    browser
        .client
        .goto(&format!("{}/instances/{id}", portal.base))
        .await
        .unwrap();
    browser.wait_for_url_containing("/login?next=").await;
    browser.fill("f-name", ADMIN).await;
    browser.fill("f-password", "not the password").await;
    browser.click_to_load("[data-login]").await;
    assert_eq!(
        browser.text("[data-error=password]").await,
        "Wrong user name or password"
    );
    browser.screenshot(&format!("login-refused-{suffix}")).await;
    browser.fill("f-password", ADMIN_PASSWORD).await;
    browser.click_to_load("[data-login]").await;
    // Back where the visitor was going.
    browser
        .wait_for_url_containing(&format!("/instances/{id}"))
        .await;
    browser.wait_for("[data-signed-in=admin]").await;

    let operator = format!("otto-{suffix}");
    browser
        .client
        .goto(&format!("{}/users", portal.base))
        .await
        .unwrap();
    browser.fill("f-name", &operator).await;
    browser.choose("role", "operator").await;
    browser.fill("f-password", "short").await;
    browser.click_to_load("[data-add-user]").await;
    assert!(
        browser
            .text("[data-error=password]")
            .await
            .contains("at least 12")
    );
    browser.fill("f-password", "operator's long password").await;
    browser.click_to_load("[data-add-user]").await;
    browser
        .wait_for(&format!("[data-user=\"{operator}\"]"))
        .await;
    browser.screenshot(&format!("users-{suffix}")).await;

    browser
        .client
        .goto(&format!("{}/audit", portal.base))
        .await
        .unwrap();
    let audit = browser.text("[data-audit]").await;
    assert!(
        audit.contains("add user") && audit.contains(&operator),
        "{audit}"
    );
    assert!(audit.contains(&format!("{namespace}/zk")), "{audit}");
    browser.screenshot(&format!("audit-{suffix}")).await;

    browser.click_to_load("[data-logout]").await;
    browser.wait_for_url_containing("/login").await;
    browser
        .log_in(&portal.base, &operator, "operator's long password")
        .await;
    browser
        .client
        .goto(&format!("{}/instances/{id}", portal.base))
        .await
        .unwrap();
    let operations = browser.text("[data-more-operations]").await;
    assert!(operations.contains("Update") && operations.contains("Restart"));
    assert!(!operations.contains("Uninstall"), "{operations}");
    assert_eq!(browser.count_displayed_now("a[href='/audit']").await, 0);
    browser
        .screenshot(&format!("instance-as-operator-{suffix}"))
        .await;
    browser
        .client
        .goto(&format!("{}/audit", portal.base))
        .await
        .unwrap();
    assert!(
        browser
            .text("main")
            .await
            .contains("This needs the admin role")
    );
    browser.close().await;
}

#[tokio::test]
async fn log_in_add_an_operator_and_read_the_audit_log() {
    journey(JavaScript::On, "js").await;
}

#[tokio::test]
async fn without_javascript_the_same_forms_work() {
    journey(JavaScript::Off, "nojs").await;
}
