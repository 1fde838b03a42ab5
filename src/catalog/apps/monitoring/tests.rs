//! Unit checks of Grafana's render and of the dashboards it ships.

use super::*;
use crate::catalog::contract::testing::render;
use crate::catalog::contract::{Coverage, violations};

#[test]
fn grafana_keeps_its_contract() {
    let objects = render(
        &DEFINITION,
        &[("externalUrl", "https://grafana.example.com")],
        &[],
    );
    let faults = violations(&CONTRACT, "monitoring-main", &objects, Coverage::Exact);
    assert!(faults.is_empty(), "{faults:#?}");
    let provider = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "monitoring-main-provisioning")
        .unwrap();
    assert!(
        provider["data"]["dataport.yaml"]
            .as_str()
            .unwrap()
            .contains(DASHBOARDS_DIR),
        "the provider loads the mounted dashboards"
    );
    let sources = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "monitoring-main-datasources")
        .unwrap();
    let file: serde_json::Value =
        serde_yaml_ng::from_str(sources["data"]["dataport.yaml"].as_str().unwrap()).unwrap();
    assert_eq!(file["datasources"][0]["uid"], DATA_SOURCE_UID);
    assert_eq!(file["datasources"][0]["url"], DEFAULT_PROMETHEUS_URL);
}

/// Every data source reference of every shipped dashboard, as `(where, uid)`.
fn data_source_uids(value: &serde_json::Value, at: &str, found: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                if key == "datasource" {
                    found.push((at.to_owned(), inner["uid"].to_string()));
                }
                data_source_uids(inner, &format!("{at}.{key}"), found);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                data_source_uids(inner, &format!("{at}[{i}]"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_dashboard_queries_the_provisioned_data_source() {
    for (file, text) in [
        ("flink.json", include_str!("../dashboards/flink.json")),
        (
            "flink-operator.json",
            include_str!("../dashboards/flink-operator.json"),
        ),
    ] {
        let dashboard: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut found = Vec::new();
        data_source_uids(&dashboard, file, &mut found);
        assert!(!found.is_empty(), "{file}");
        for (at, uid) in found {
            assert_eq!(uid, format!("{DATA_SOURCE_UID:?}"), "{at}");
        }
    }
}

#[test]
fn the_data_source_points_at_the_address_given() {
    let objects = render(
        &DEFINITION,
        &[("prometheusUrl", "https://metrics.example.com")],
        &[],
    );
    let sources = objects
        .iter()
        .find(|o| o["metadata"]["name"] == "monitoring-main-datasources")
        .unwrap();
    assert!(
        sources["data"]["dataport.yaml"]
            .as_str()
            .unwrap()
            .contains("url: https://metrics.example.com"),
        "{sources}"
    );
}

#[test]
fn every_flink_panel_is_filtered_to_the_chosen_cluster() {
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../dashboards/flink.json")).unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            assert!(
                expr.contains(r#"{namespace="$namespace", flink_cluster="$cluster"}"#),
                "{}: {expr}",
                panel["title"]
            );
        }
    }
}

#[test]
fn without_a_public_address_grafana_serves_under_dataports_proxy_path() {
    let objects = render(&DEFINITION, &[], &[]);
    let faults = violations(&CONTRACT, "monitoring-main", &objects, Coverage::Exact);
    assert!(faults.is_empty(), "{faults:#?}");
    let set = objects.iter().find(|o| o["kind"] == "StatefulSet").unwrap();
    let env = &set["spec"]["template"]["spec"]["containers"][0]["env"];
    let value = |name: &str| {
        env.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].as_str().unwrap().to_owned())
    };
    let root = value("GF_SERVER_ROOT_URL").unwrap();
    let id = set["metadata"]["annotations"]["dataport.io/instance-id"]
        .as_str()
        .unwrap();
    assert_eq!(
        root,
        format!("%(protocol)s://%(domain)s:%(http_port)s/instances/{id}/ui/grafana/")
    );
    assert_eq!(
        value("GF_SERVER_SERVE_FROM_SUB_PATH").as_deref(),
        Some("true")
    );
    let public = render(
        &DEFINITION,
        &[("externalUrl", "https://grafana.example.com")],
        &[],
    );
    let text = serde_json::to_string(&public).unwrap();
    assert!(
        text.contains(r#"{"name":"GF_SERVER_SERVE_FROM_SUB_PATH","value":"false"}"#),
        "a public address is Grafana's root: {text}"
    );
}
