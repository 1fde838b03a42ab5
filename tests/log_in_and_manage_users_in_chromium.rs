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
    let added = browser.text("[data-user-added]").await;
    assert!(
        added.contains(&format!("{operator} was added as an operator")),
        "the page confirms the addition: {added}"
    );
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

/// Whether the API answers `token` (a live token) or refuses it (401).
async fn api_status(portal: &Portal, token: &str) -> u16 {
    common::client_with_token(token, false)
        .get(format!("{}/api/v1/instances", portal.base))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// Removing a user and revoking an API token each ask first, saying what
/// they do to whom; Cancel leaves everything as it was; only confirming acts.
async fn removing_and_revoking_ask_first(javascript: JavaScript) {
    let (portal, database) = Portal::on_sqlite().await;
    let bob_token = common::add_user_with_token(
        &database.url,
        "bob",
        "bob's long password",
        dataport::service::Role::Operator,
    )
    .await;
    let browser = Browser::start(javascript).await;
    browser.log_in_as_admin(&portal.base).await;
    browser
        .client
        .goto(&format!("{}/users", portal.base))
        .await
        .unwrap();
    browser.click_to_load("[data-remove-user=bob]").await;
    assert_eq!(browser.text("h1").await, "Remove user bob?");
    let what = browser.text("[data-confirm-what]").await;
    assert_eq!(
        what,
        "bob (operator) can no longer log in: their sessions end and their API token stops working."
    );
    assert_eq!(
        api_status(&portal, &bob_token).await,
        200,
        "not before confirming"
    );
    browser.screenshot("confirm-remove-user").await;
    browser.click_to_load("[data-cancel]").await;
    browser.wait_for("[data-user=bob]").await;
    browser.click_to_load("[data-remove-user=bob]").await;
    browser.click_to_load("[data-confirm]").await;
    browser.wait_for("[data-users]").await;
    assert!(
        browser.all_now("[data-user=bob]").await.is_empty(),
        "bob is removed"
    );
    assert_eq!(api_status(&portal, &bob_token).await, 401);

    browser
        .client
        .goto(&format!("{}/account", portal.base))
        .await
        .unwrap();
    browser.fill("f-token-name", "ci").await;
    browser.click_to_load("[data-create-token]").await;
    let token = browser.text("[data-token]").await;
    browser.click_to_load("[data-revoke=ci]").await;
    assert_eq!(browser.text("h1").await, "Revoke token ci?");
    let what = browser.text("[data-confirm-what]").await;
    assert!(
        what.starts_with("Your API token ci (created ")
            && what.ends_with("stops working at once: scripts that send it are refused."),
        "{what}"
    );
    assert_eq!(
        api_status(&portal, &token).await,
        200,
        "not before confirming"
    );
    browser.screenshot("confirm-revoke-token").await;
    browser.click_to_load("[data-confirm]").await;
    browser.wait_for("[data-create-token]").await;
    assert!(
        browser.all_now("[data-revoke=ci]").await.is_empty(),
        "ci is revoked"
    );
    assert_eq!(api_status(&portal, &token).await, 401);
    browser.close().await;
}

#[tokio::test]
async fn removing_a_user_and_revoking_a_token_ask_first_with_javascript() {
    removing_and_revoking_ask_first(JavaScript::On).await;
}

#[tokio::test]
async fn removing_a_user_and_revoking_a_token_ask_first_without_javascript() {
    removing_and_revoking_ask_first(JavaScript::Off).await;
}
