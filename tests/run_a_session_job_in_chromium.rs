//! In real headless Chromium: from a Flink session's page, submit a job, see
//! it turn RUNNING live, suspend it and see the savepoint the operator took.

mod common;

use common::Portal;
use common::browser::{Browser, JavaScript};
use dataport::http::Layout;

/// A JAR on a public https host: what an operator with default settings fetches.
/// An IP literal (RFC 5737 documentation range): a public address the
/// operator needs no DNS for (it refuses a host it cannot resolve).
const JAR: &str = "https://198.51.100.7/jobs/etl.jar";

#[tokio::test]
async fn submit_a_job_see_it_run_suspend_it_and_see_its_savepoint() {
    let (portal, _database, namespace) = Portal::on_test_cluster_with(
        "browser-jobs",
        Layout {
            local_cluster: true,
            ..Layout::default()
        },
    )
    .await;
    let id = portal.install_flink_session(&namespace, true).await;

    let browser = Browser::start(JavaScript::On).await;

    browser.log_in_as_admin(&portal.base).await;
    browser
        .client
        .goto(&format!("{}/instances/{id}", portal.base))
        .await
        .unwrap();
    assert_eq!(browser.text("[data-no-jobs]").await, "No jobs yet.");
    browser.click_to_load("[data-submit-job]").await;
    browser.wait_for("form[data-job-form]").await;
    browser.fill("f-name", "orders-etl").await;
    browser.fill("f-jarURI", JAR).await;
    browser.fill("f-parallelism", "2").await;
    browser.choose("upgradeMode", "savepoint").await;
    browser.screenshot("job-submit-form").await;
    browser
        .click_to_load("form[data-job-form] button[type=submit]")
        .await;

    browser.wait_for_url_containing("/jobs/orders-etl").await;
    browser
        .wait_for_text("h1 + p [data-job-state]", "RUNNING", |state| {
            state == "RUNNING"
        })
        .await;
    browser.screenshot("job-running").await;

    browser.click_to_load("[data-suspend]").await;
    // Suspending interrupts the job: the portal asks first.
    assert_eq!(browser.text("h1").await, "Suspend job orders-etl?");
    browser.click_to_load("[data-confirm]").await;
    browser.wait_for("[data-resume]").await;
    let savepoint = browser
        .wait_for_text("[data-job-savepoint]", "a savepoint", |text| {
            text.starts_with("s3://")
        })
        .await;
    assert!(
        savepoint.starts_with(&format!(
            "s3://flink/{namespace}/analytics/savepoints/savepoint-"
        )),
        "{savepoint}"
    );
    browser
        .wait_for_text("h1 + p [data-job-state]", "SUSPENDED", |state| {
            state == "SUSPENDED"
        })
        .await;
    browser.screenshot("job-suspended").await;

    browser
        .client
        .goto(&format!("{}/instances/{id}#jobs", portal.base))
        .await
        .unwrap();
    assert_eq!(
        browser
            .text("tr[data-job=orders-etl] [data-job-savepoint]")
            .await,
        savepoint
    );
    browser.screenshot("session-jobs").await;
    browser.close().await;
}
