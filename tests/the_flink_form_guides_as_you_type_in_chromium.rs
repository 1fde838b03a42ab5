//! The install forms guide a new user before a submit, in real headless
//! Chromium: Flink's memory fields say, as they are typed, what the server
//! would (its refusal or Flink's breakdown), and without JavaScript the
//! same words come after a submit; a version's note shows only for that
//! version; the suggested name stays free in the namespace typed.

mod common;

use common::Portal;
use common::browser::{Browser, JavaScript};

/// Opens `path` on the portal.
async fn open(browser: &Browser, portal: &Portal, path: &str) {
    browser.open(&portal.base, path).await;
}

#[tokio::test]
async fn the_memory_fields_answer_as_they_are_typed_with_javascript() {
    let (portal, _database) = Portal::on_sqlite().await;
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, "/catalog/flink/install").await;
    browser.wait_for("[data-field=taskManagerMemory]").await;

    browser.fill("f-taskManagerMemory", "900Mi").await;
    let refusal = browser
        .wait_for_text("#e-taskManagerMemory", "refused 900Mi", |t| {
            t.starts_with("900Mi leaves Flink no task heap: the other parts take 949 MiB")
        })
        .await;
    assert!(
        refusal.contains("A TaskManager needs at least 982Mi"),
        "{refusal}"
    );
    browser
        .wait_for_displayed("[data-field=taskManagerMemory].invalid", 1)
        .await;
    assert_eq!(browser.count_displayed_now("#n-taskManagerMemory").await, 0);
    let url = browser.client.current_url().await.unwrap();
    assert!(
        url.path().ends_with("/catalog/flink/install"),
        "nothing was submitted: {url}"
    );
    assert!(
        browser.all_now("[data-errors]").await.is_empty(),
        "no submit"
    );
    browser.screenshot("memory-refused-as-typed").await;

    browser.fill("f-taskManagerMemory", "1280Mi").await;
    browser
        .wait_for_text("#n-taskManagerMemory", "split 1280Mi", |t| {
            t.starts_with("Flink splits 1280Mi into task heap 160 MiB")
        })
        .await;
    browser
        .wait_for_displayed("[data-field=taskManagerMemory].invalid", 0)
        .await;
    browser.wait_for_displayed("#e-taskManagerMemory", 0).await;
    browser.close().await;
}

#[tokio::test]
async fn the_memory_fields_answer_after_a_submit_without_javascript() {
    let (portal, _database) = Portal::on_sqlite().await;
    let browser = Browser::start(JavaScript::Off).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, "/catalog/flink/install").await;
    browser.fill("f-taskManagerMemory", "900Mi").await;
    assert!(browser.all_now("#e-taskManagerMemory").await.is_empty());
    browser.click_to_load("button[value=preview]").await;
    let refusal = browser.text("#e-taskManagerMemory").await;
    assert!(
        refusal.starts_with("900Mi leaves Flink no task heap"),
        "{refusal}"
    );
    browser.close().await;
}

/// The versions whose note is displayed now.
async fn displayed_notes(browser: &Browser) -> Vec<String> {
    let mut noted = Vec::new();
    for note in browser.all_now("[data-version-note]").await {
        if note.is_displayed().await.unwrap_or(false) {
            noted.push(note.attr("data-version-note").await.unwrap().unwrap());
        }
    }
    noted
}

#[tokio::test]
async fn a_versions_note_shows_only_while_it_is_chosen_with_javascript() {
    let (portal, _database) = Portal::on_sqlite().await;
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, "/catalog/flink/install").await;
    browser.wait_for("#f-version").await;
    assert_eq!(
        browser
            .client
            .execute("return document.querySelector('#f-version').value", vec![])
            .await
            .unwrap(),
        "1.20"
    );
    assert!(displayed_notes(&browser).await.is_empty());

    browser.choose("version", "1.19").await;
    browser.wait_for_displayed("[data-version-note]", 1).await;
    assert_eq!(displayed_notes(&browser).await, ["1.19"]);
    let note = browser.text("[data-version-note='1.19']").await;
    assert!(note.contains("No longer maintained"), "{note}");

    browser.choose("version", "2.2").await;
    browser.wait_for_displayed("[data-version-note]", 0).await;
    browser.choose("version", "2.0").await;
    browser.wait_for_displayed("[data-version-note]", 1).await;
    assert_eq!(displayed_notes(&browser).await, ["2.0"]);
    browser.close().await;
}

#[tokio::test]
async fn a_versions_note_shows_for_the_version_asked_without_javascript() {
    let (portal, _database) = Portal::on_sqlite().await;
    let browser = Browser::start(JavaScript::Off).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, "/catalog/flink/install").await;
    browser.wait_for("#f-version").await;
    assert!(
        displayed_notes(&browser).await.is_empty(),
        "1.20 has no note"
    );

    open(&browser, &portal, "/catalog/flink/install?version=1.19").await;
    browser.wait_for("#f-version").await;
    assert_eq!(displayed_notes(&browser).await, ["1.19"]);

    // The submitted form keeps its version and that version's note.
    open(&browser, &portal, "/catalog/flink/install").await;
    browser.choose("version", "2.0").await;
    browser.click_to_load("button[value=preview]").await;
    browser.wait_for("#f-version").await;
    assert_eq!(displayed_notes(&browser).await, ["2.0"]);
    browser.close().await;
}

/// The value of the field with id `id` now.
async fn value_of(browser: &Browser, id: &str) -> String {
    browser
        .client
        .execute(
            &format!("return document.getElementById('{id}').value"),
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The suggested name is free in the namespace typed, until the user types
/// a name of their own.
#[tokio::test]
async fn the_suggested_name_follows_the_namespace_with_javascript() {
    let (portal, database) = Portal::on_sqlite().await;
    common::seed_instance(&database.store().await, "minio", "minio", "storage").await;
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, "/catalog/minio/install?namespace=data").await;
    browser.wait_for("#f-name").await;
    assert_eq!(value_of(&browser, "f-name").await, "minio");

    browser.fill("f-namespace", "storage").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while value_of(&browser, "f-name").await != "minio-2" {
        assert!(
            std::time::Instant::now() < deadline,
            "the name never followed the namespace"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    browser.fill("f-name", "store").await;
    browser.fill("f-namespace", "data").await;
    browser.wait_for("form[data-namespace-followed=data]").await;
    assert_eq!(value_of(&browser, "f-name").await, "store", "typed stays");
    browser.close().await;
}
