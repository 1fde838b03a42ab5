//! A user browses the catalog in real headless Chromium: with scripts the
//! search filters as they type; without scripts the same form filters on the
//! server. Screenshots land in target/screenshots/.

mod common;

use common::Portal;
use common::browser::{Browser, JavaScript};

#[tokio::test]
async fn search_filters_as_the_user_types_and_the_app_page_opens() {
    let (portal, _db) = Portal::on_sqlite().await;
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    let page = &browser.client;

    page.goto(&format!("{}/", portal.base)).await.unwrap();
    browser.wait_for_displayed(".card", 11).await;
    assert_eq!(browser.text("[data-count]").await, "11 apps");
    browser.screenshot("catalog").await;

    browser.fill("f-q", "zoo").await;
    // Filtered without a reload.
    browser.wait_for_displayed(".card", 1).await;
    assert_eq!(browser.text("[data-count]").await, "1 app");
    assert!(
        page.current_url().await.unwrap().as_str().contains("q=zoo"),
        "the URL keeps the search"
    );

    browser.fill("f-q", "").await;
    browser.choose("category", "Storage").await;
    // HDFS and MinIO.
    browser.wait_for_displayed(".card", 2).await;

    page.goto(&format!("{}/catalog", portal.base))
        .await
        .unwrap();
    browser.click_to_load("a[href='/catalog/flink']").await;
    assert_eq!(browser.text("h1").await, "Apache Flink");
    assert!(
        browser
            .text(".deps")
            .await
            .contains("Flink Kubernetes Operator")
    );
    browser.screenshot("app-flink").await;

    page.set_window_size(390, 844).await.unwrap();
    page.goto(&format!("{}/catalog", portal.base))
        .await
        .unwrap();
    browser.screenshot("catalog-phone").await;
    let overflow: serde_json::Value = page
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, false, "no sideways scrolling at phone width");
    browser.close().await;
}

#[tokio::test]
async fn without_javascript_the_filter_form_submits_to_the_server() {
    let (portal, _db) = Portal::on_sqlite().await;
    let browser = Browser::start(JavaScript::Off).await;
    browser.log_in_as_admin(&portal.base).await;
    let page = &browser.client;

    page.goto(&format!("{}/catalog", portal.base))
        .await
        .unwrap();
    browser.fill("f-q", "zoo").await;
    assert_eq!(
        browser.count_displayed_now(".card").await,
        11,
        "no script, no live filter"
    );

    browser
        .click_to_load("form.filters button[type=submit]")
        .await;
    browser.wait_for_url_containing("q=zoo").await;
    assert_eq!(
        browser.all_now(".card").await.len(),
        1,
        "the server filtered"
    );
    assert!(page.current_url().await.unwrap().as_str().contains("q=zoo"));
    browser.screenshot("catalog-no-js-filtered").await;

    page.goto(&format!("{}/catalog/kafka", portal.base))
        .await
        .unwrap();
    assert_eq!(browser.text("h1").await, "Not Found");
    assert!(browser.text(".lede").await.contains("kafka"));
    browser.screenshot("app-not-found").await;
    browser.close().await;
}
