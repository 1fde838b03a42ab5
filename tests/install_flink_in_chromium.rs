//! The flagship journey in real headless Chromium: from the catalog, install
//! MinIO, ZooKeeper and the Flink operator, then Flink with HA on ZooKeeper
//! and S3 storage, landing on its instance page; and the same form without
//! JavaScript, which still submits and shows its errors next to the fields.

mod common;

use common::browser::{Browser, JavaScript};
use common::{Backend, Portal, TestDatabase};
use dataport::http::Layout;

/// Waits until the instance page says its install succeeded (the page refreshes itself).
async fn wait_for_install(browser: &Browser) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let done = browser
            .all_now("tr[data-operation=install][data-state=succeeded]")
            .await;
        if !done.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "install did not succeed: {}",
            browser.client.source().await.unwrap()
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        browser.client.refresh().await.unwrap();
    }
}

#[tokio::test]
async fn install_flink_with_zookeeper_ha_and_s3_from_the_catalog() {
    let (portal, _database, namespace) = Portal::on_test_cluster_with(
        "browser",
        Layout {
            local_cluster: true,
            ..Layout::default()
        },
    )
    .await;
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    let page = &browser.client;

    for (display, app, name) in [
        ("MinIO", "minio", "minio"),
        ("Apache ZooKeeper", "zookeeper", "zk"),
        (
            "Flink Kubernetes Operator",
            "flink-kubernetes-operator",
            "flink-operator",
        ),
    ] {
        page.goto(&format!("{}/catalog", portal.base))
            .await
            .unwrap();
        browser
            .click_to_load(&format!("a[href='/catalog/{app}']"))
            .await;
        assert_eq!(browser.text("h1").await, display);
        browser.click_to_load("a.install-button").await;
        browser.wait_for("form[data-install-form]").await;
        assert!(
            page.current_url()
                .await
                .unwrap()
                .path()
                .ends_with(&format!("/catalog/{app}/install"))
        );
        browser.fill("f-name", name).await;
        browser.fill("f-namespace", &namespace).await;
        if app == "zookeeper" {
            browser.choose("replicas", "1").await;
        }
        browser.click_to_load("button[value=install]").await;
        wait_for_install(&browser).await;
    }

    page.goto(&format!("{}/catalog/flink/install", portal.base))
        .await
        .unwrap();
    // Hidden until HA is on.
    browser
        .wait_for_displayed("[data-field=zookeeper]", 0)
        .await;
    browser.fill("f-name", "analytics").await;
    browser.fill("f-namespace", &namespace).await;
    browser.click("#f-highAvailability").await;
    // HA reveals its fields without a reload; S3 is the default storage.
    browser.wait_for_displayed("[data-field=haType]", 1).await;
    browser.wait_for_displayed("[data-field=minio]", 1).await;
    browser.choose("haType", "zookeeper").await;
    browser
        .wait_for_displayed("[data-field=zookeeper]", 1)
        .await;
    browser.choose("zookeeper", "zk").await;
    browser.choose("minio", "minio").await;
    browser.screenshot("install-flink-form").await;

    browser.click_to_load("button[value=preview]").await;
    let yaml = browser.text("[data-preview]").await;
    assert!(yaml.contains("high-availability.type: zookeeper"), "{yaml}");
    assert!(
        yaml.contains(&format!("s3.endpoint: http://minio.{namespace}.svc:9000")),
        "{yaml}"
    );
    // The preview keeps the choices.
    browser
        .wait_for_displayed("[data-field=zookeeper]", 1)
        .await;
    browser.screenshot("install-flink-preview").await;

    browser.click_to_load("button[value=install]").await;
    wait_for_install(&browser).await;
    assert_eq!(browser.text("h1").await, "analytics");
    assert!(
        browser
            .text(".banner")
            .await
            .contains("Local test cluster, simulated workloads")
    );
    browser.screenshot("install-flink-instance").await;
    browser.close().await;
}

#[tokio::test]
async fn without_javascript_the_install_form_submits_and_shows_errors_by_the_fields() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let portal = Portal::start(database.store().await, None, Layout::default()).await;
    let browser = Browser::start(JavaScript::Off).await;
    browser.log_in_as_admin(&portal.base).await;

    browser
        .client
        .goto(&format!("{}/catalog/flink/install", portal.base))
        .await
        .unwrap();
    assert_eq!(
        browser.count_displayed_now("[data-field=zookeeper]").await,
        1,
        "without JS every field shows"
    );
    assert!(
        browser
            .text("[data-missing=flink-kubernetes-operator]")
            .await
            .contains("Install Flink Kubernetes Operator first")
    );
    browser.fill("f-name", "Bad Name").await;
    browser.fill("f-jobManagerMemory", "2Gb").await;
    browser.click_to_load("button[value=install]").await;

    assert!(browser.text("#e-name").await.starts_with("Name must be"));
    assert!(
        browser
            .text("#e-jobManagerMemory")
            .await
            .contains("\"2Gb\" is not a quantity")
    );
    assert!(browser.text("#e-operator").await.contains("required"));
    let kept = browser
        .wait_for("#f-jobManagerMemory")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("2Gb"), "what was typed is kept");
    browser.screenshot("install-flink-no-js-errors").await;
    browser.close().await;
}
