//! A user opens a Flink session's page to see its numbers. With no
//! Prometheus scraping its namespace the page has no metrics panel (and the
//! JSON says `null`); with one installed that does not answer (the simulated
//! node runs no Prometheus server), the panel says why instead of failing
//! the page; its dashboard link leads to Grafana through dataport's proxy.
//! The real figures and alerts, from a real Prometheus scraping
//! real Flink, are shown by `monitor_a_flink_session_with_prometheus`.

mod common;

use common::Portal;
use serde_json::json;

#[tokio::test]
async fn a_flink_page_shows_metrics_only_from_a_prometheus_watching_it_and_says_when_it_is_down() {
    let (portal, _database, namespace) = Portal::on_test_cluster("figures").await;
    let flink = portal.install_flink_session(&namespace, false).await;

    let (status, figures) = portal
        .get_json(&format!("/api/v1/instances/{flink}/figures"))
        .await;
    assert_eq!(status, 200);
    assert!(figures.is_null(), "no Prometheus yet: {figures}");
    let (status, page) = portal.get(&format!("/instances/{flink}")).await;
    assert_eq!(status, 200);
    assert!(!page.contains("data-figures"), "no metrics panel yet");

    // A Prometheus watching another namespace is not this session's.
    let elsewhere = portal
        .install(
            json!({"app": "prometheus", "name": "prometheus-other", "namespace": namespace,
            "params": {"watchedNamespaces": "somewhere-else"}}),
        )
        .await;
    assert_eq!(
        elsewhere["operations"][0]["state"], "succeeded",
        "{elsewhere}"
    );
    let (_, figures) = portal
        .get_json(&format!("/api/v1/instances/{flink}/figures"))
        .await;
    assert!(figures.is_null(), "{figures}");

    let prometheus = portal
        .install(json!({"app": "prometheus", "name": "prometheus", "namespace": namespace, "params": {}}))
        .await;
    assert_eq!(
        prometheus["operations"][0]["state"], "succeeded",
        "{prometheus}"
    );
    let (status, figures) = portal
        .get_json(&format!("/api/v1/instances/{flink}/figures"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        figures["prometheus"][1],
        format!("{namespace}/prometheus"),
        "{figures}"
    );
    let keys: Vec<&str> = figures["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .map(|figure| figure["key"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        keys,
        [
            "running_jobs",
            "restarts",
            "checkpoint_duration",
            "records_in"
        ]
    );
    let problem = figures["problem"].as_str().unwrap_or_default();
    assert!(
        !problem.is_empty(),
        "a silent Prometheus is named: {figures}"
    );

    // Grafana without a public address serves under dataport's proxy path,
    // where the panel's dashboard link points.
    let grafana = portal
        .install(
            json!({"app": "monitoring", "name": "grafana", "namespace": namespace, "params": {}}),
        )
        .await;
    let grafana_id = grafana["instance"]["id"].as_str().expect("id");
    let (status, page) = portal.get(&format!("/instances/{flink}")).await;
    assert_eq!(status, 200, "the page stands without Prometheus's numbers");
    let dashboard = format!(
        "/instances/{grafana_id}/ui/grafana/d/dataport-flink/flink-dataport?var-namespace={namespace}&#38;var-cluster=analytics"
    );
    assert!(
        page.contains(&format!(
            "href=\"{dashboard}\" rel=\"noopener\" data-figures-dashboard"
        )),
        "{page}"
    );
    assert!(page.contains("data-figures-problem"), "{page}");
    assert!(page.contains("Prometheus gave no numbers"), "{page}");
    assert!(page.contains("no data"), "each figure says it has none");

    // The instances list stands too, with no alert to count.
    let (status, list) = portal.get("/instances").await;
    assert_eq!(status, 200);
    assert!(list.contains(r#"data-instance="analytics""#), "{list}");
    assert!(!list.contains("data-alerts-firing"), "{list}");
}
