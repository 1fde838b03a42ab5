//! A user browses the catalog in real headless Chromium: with scripts the
//! search filters as they type; without scripts the same form filters on the
//! server. Screenshots land in target/screenshots/.

mod common;

use common::Portal;
use common::browser::{Browser, JavaScript};
use fantoccini::Locator;

#[tokio::test]
async fn search_filters_as_the_user_types_and_the_app_page_opens() {
    let (portal, _db) = Portal::on_sqlite().await;
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    let page = &browser.client;

    page.goto(&format!("{}/", portal.base)).await.unwrap();
    assert_eq!(browser.count_displayed(".card").await, 10);
    assert_eq!(browser.text("[data-count]").await, "10 apps");
    browser.screenshot("catalog").await;

    let search = page.find(Locator::Css("input[name=q]")).await.unwrap();
    search.send_keys("zoo").await.unwrap();
    assert_eq!(
        browser.count_displayed(".card").await,
        1,
        "filtered without a reload"
    );
    assert_eq!(browser.text("[data-count]").await, "1 app");
    assert!(
        page.current_url().await.unwrap().as_str().contains("q=zoo"),
        "the URL keeps the search"
    );

    search.clear().await.unwrap();
    page.find(Locator::Css("select[name=category] option[value=Storage]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(browser.count_displayed(".card").await, 2, "HDFS and MinIO");

    page.goto(&format!("{}/catalog", portal.base))
        .await
        .unwrap();
    page.find(Locator::LinkText("Apache Flink"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for(".deps").await;
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
    let search = page.find(Locator::Css("input[name=q]")).await.unwrap();
    search.send_keys("zoo").await.unwrap();
    assert_eq!(
        browser.count_displayed(".card").await,
        10,
        "no script, no live filter"
    );

    page.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_url_containing("q=zoo").await;
    assert_eq!(browser.all(".card").await.len(), 1, "the server filtered");
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
