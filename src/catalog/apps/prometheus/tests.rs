//! Unit checks of the Prometheus app's render against its contract and its rights.

use super::*;
use crate::catalog::Values;
use crate::catalog::contract::testing::render;
use crate::catalog::contract::{Coverage, violations};
use crate::catalog::params::{ServiceAddress, parse_service};
use serde_json::json;

fn named<'a>(
    objects: &'a [serde_json::Value],
    kind: &str,
    name: &str,
) -> Vec<&'a serde_json::Value> {
    objects
        .iter()
        .filter(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .collect()
}

#[test]
fn prometheus_keeps_its_contract() {
    let objects = render(
        &DEFINITION,
        &[("retentionDays", "7"), ("storage", "20Gi")],
        &[],
    );
    let faults = violations(&CONTRACT, "prometheus-main", &objects, Coverage::Exact);
    assert!(faults.is_empty(), "{faults:#?}");
    let server = &named(&objects, "StatefulSet", "prometheus-main")[0];
    let command = server["spec"]["template"]["spec"]["containers"][0]["command"].to_string();
    assert!(
        command.contains("--storage.tsdb.retention.time=7d"),
        "{command}"
    );
    // 80 % of 20 GiB in Prometheus's MB (MiB).
    assert!(
        command.contains("--storage.tsdb.retention.size=16384MB"),
        "{command}"
    );
    assert_eq!(
        server["spec"]["template"]["spec"]["serviceAccountName"],
        "prometheus-main"
    );
}

#[test]
fn discovery_reads_pods_only_in_the_watched_namespaces() {
    let objects = render(
        &DEFINITION,
        &[("watchedNamespaces", "analytics, data")],
        &[],
    );
    let roles: Vec<_> = objects.iter().filter(|o| o["kind"] == "Role").collect();
    let mut places: Vec<&str> = roles
        .iter()
        .map(|r| r["metadata"]["namespace"].as_str().unwrap())
        .collect();
    places.sort();
    assert_eq!(places, ["analytics", "data"]);
    for role in &roles {
        assert_eq!(
            role["rules"],
            json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]),
            "{role}"
        );
    }
    assert!(!objects.iter().any(|o| o["kind"] == "ClusterRole"));
    let bindings: Vec<_> = objects
        .iter()
        .filter(|o| o["kind"] == "RoleBinding")
        .collect();
    assert_eq!(bindings.len(), 2);
    for binding in bindings {
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "prometheus-main", "namespace": "data"}])
        );
    }
    let config = &named(&objects, "ConfigMap", "prometheus-main-config")[0];
    let text = config["data"]["prometheus.yml"].as_str().unwrap();
    let parsed: serde_json::Value = serde_yaml_ng::from_str(text).unwrap();
    let discovery = &parsed["scrape_configs"][0]["kubernetes_sd_configs"][0];
    assert_eq!(discovery["role"], "pod");
    assert_eq!(
        discovery["namespaces"]["names"],
        json!(["analytics", "data"])
    );
    assert!(
        discovery.get("api_server").is_none(),
        "in-cluster discovery"
    );
}

#[test]
fn a_bad_namespace_list_is_refused() {
    let errors = (DEFINITION.rules)(
        "3.5.0",
        &Values::from([(
            "watchedNamespaces".to_owned(),
            json!("data, Not_A_Namespace"),
        )]),
    );
    assert!(
        errors["watchedNamespaces"].contains("Not_A_Namespace"),
        "{errors:?}"
    );
}

#[test]
fn the_alerting_rules_sit_next_to_the_configuration_and_label_every_alert() {
    let objects = render(&DEFINITION, &[], &[]);
    let config = &named(&objects, "ConfigMap", "prometheus-main-config")[0];
    let text = config["data"]["prometheus.yml"].as_str().unwrap();
    let parsed: serde_json::Value = serde_yaml_ng::from_str(text).unwrap();
    assert_eq!(parsed["rule_files"], json!([RULES_FILE]));
    let rules: serde_json::Value =
        serde_yaml_ng::from_str(config["data"][RULES_FILE].as_str().unwrap()).unwrap();
    let rules = rules["groups"][0]["rules"].as_array().unwrap();
    let names: Vec<&str> = rules.iter().map(|r| r["alert"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "FlinkJobManagerDown",
            "FlinkJobNotRunning",
            "FlinkJobGone",
            "FlinkJobRestarting",
            "FlinkCheckpointsFailing",
            "FlinkCheckpointTooOld",
            "FlinkTaskManagersLost",
            "FlinkBackPressureHigh",
        ]
    );
    for rule in rules {
        let severity = rule["labels"]["severity"].as_str().unwrap();
        assert!(["critical", "warning"].contains(&severity), "{rule}");
        assert!(rule["annotations"]["summary"].is_string(), "{rule}");
        assert!(rule["annotations"]["description"].is_string(), "{rule}");
        // Every alert keeps what ties it to a dataport instance.
        let expr = rule["expr"].as_str().unwrap();
        assert!(
            expr.contains("by (namespace, flink_cluster"),
            "{} keeps namespace and flink_cluster: {expr}",
            rule["alert"]
        );
    }
}

#[test]
fn flinks_pods_are_labelled_with_their_cluster() {
    let objects = render(&DEFINITION, &[], &[]);
    let config = &named(&objects, "ConfigMap", "prometheus-main-config")[0];
    let parsed: serde_json::Value =
        serde_yaml_ng::from_str(config["data"]["prometheus.yml"].as_str().unwrap()).unwrap();
    let relabel = parsed["scrape_configs"][0]["relabel_configs"]
        .as_array()
        .unwrap();
    let cluster = relabel
        .iter()
        .find(|r| r["target_label"] == "flink_cluster")
        .expect("a flink_cluster label");
    assert_eq!(
        cluster["source_labels"],
        json!([
            "__meta_kubernetes_pod_label_type",
            "__meta_kubernetes_pod_label_app"
        ])
    );
    // Only Flink's own pods: another pod's app label is not a cluster.
    assert_eq!(cluster["regex"], "flink-native-kubernetes;(.+)");
}

#[test]
fn a_changed_configuration_restarts_prometheus() {
    let hash = |form: &[(&str, &str)]| {
        let objects = render(&DEFINITION, form, &[]);
        let server = &named(&objects, "StatefulSet", "prometheus-main")[0];
        server["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH].clone()
    };
    let alone = hash(&[]);
    assert!(alone.as_str().is_some_and(|h| h.len() == 8), "{alone}");
    assert_eq!(alone, hash(&[("retentionDays", "30")]), "same files");
    assert_ne!(alone, hash(&[("watchedNamespaces", "data, analytics")]));
}

#[test]
fn on_the_clusters_prometheus_operator_it_renders_a_pod_monitor_and_a_rule_only() {
    let objects = render(
        &DEFINITION,
        &[
            ("server", EXISTING),
            ("watchedNamespaces", "analytics, data"),
            (
                "monitorLabels",
                "release=kube-prometheus-stack, team=streaming",
            ),
        ],
        &[],
    );
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["PodMonitor", "PrometheusRule"]);
    for object in &objects {
        assert_eq!(object["apiVersion"], "monitoring.coreos.com/v1");
        assert_eq!(object["metadata"]["name"], "prometheus-main");
        let labels = &object["metadata"]["labels"];
        assert_eq!(labels["release"], "kube-prometheus-stack", "{labels}");
        assert_eq!(labels["team"], "streaming");
        assert_eq!(labels["app.kubernetes.io/managed-by"], "dataport");
    }
    let monitor = &objects[0]["spec"];
    assert_eq!(monitor["selector"], json!({}));
    assert_eq!(
        monitor["namespaceSelector"]["matchNames"],
        json!(["analytics", "data"])
    );
    let endpoint = &monitor["podMetricsEndpoints"][0];
    assert_eq!(endpoint["port"], METRICS_PORT_NAME);
    // The same relabelling as the own server's scrape job, in camelCase.
    let own = configuration::relabel_configs();
    let relabelings = endpoint["relabelings"].as_array().unwrap();
    assert_eq!(relabelings.len(), own.len());
    let flink_cluster = relabelings
        .iter()
        .find(|r| r["targetLabel"] == "flink_cluster")
        .expect("the flink_cluster label");
    assert_eq!(
        flink_cluster["sourceLabels"],
        json!([
            "__meta_kubernetes_pod_label_type",
            "__meta_kubernetes_pod_label_app"
        ])
    );
    assert!(
        !endpoint.to_string().contains("source_labels"),
        "{endpoint}"
    );
    // The same alerts as alerts.yml.
    assert_eq!(objects[1]["spec"]["groups"], alerts::rule_groups());
}

#[test]
fn the_clusters_prometheus_is_named_as_a_service_and_its_labels_as_kubernetes_takes_them() {
    let errors = (DEFINITION.rules)(
        "3.5.0",
        &Values::from([
            ("server".into(), json!(EXISTING)),
            ("configuredBy".into(), json!(PROMETHEUS_OPERATOR)),
            ("prometheusService".into(), json!("http://prometheus:9090")),
            ("monitorLabels".into(), json!("release")),
        ]),
    );
    assert!(
        errors["prometheusService"].contains("namespace/name:port"),
        "{errors:?}"
    );
    assert!(errors["monitorLabels"].contains("key=value"), "{errors:?}");
    assert_eq!(
        parse_service(" monitoring/prometheus-operated:9090 "),
        Ok(ServiceAddress {
            namespace: "monitoring".into(),
            name: "prometheus-operated".into(),
            port: 9090
        })
    );
    for wrong in [
        "monitoring/p:0",
        "monitoring/p",
        "Monitoring/p:9090",
        "p:9090",
    ] {
        assert!(parse_service(wrong).is_err(), "{wrong}");
    }
    assert_eq!(
        operator_mode::parse_labels("example.com/tier=a.b-c, empty="),
        Ok(vec![
            ("example.com/tier".into(), "a.b-c".into()),
            ("empty".into(), String::new())
        ])
    );
    for wrong in ["-x=a", "x=a b", "bad_prefix!/x=a", "=a"] {
        assert!(operator_mode::parse_labels(wrong).is_err(), "{wrong}");
    }
}

#[test]
fn the_portal_reads_the_server_it_runs_or_the_clusters() {
    let own = WEB_UI.service("prometheus", "data", &json!({}));
    assert_eq!((own.name.as_str(), own.port), ("prometheus", 9090));
    let params =
        json!({"server": EXISTING, "prometheusService": "monitoring/prometheus-operated:9090"});
    let clusters = WEB_UI.service("prometheus", "data", &params);
    assert_eq!(
        (clusters.namespace.as_str(), clusters.name.as_str()),
        ("monitoring", "prometheus-operated")
    );
    let access = WEB_UI.access("prometheus", "data", &params);
    assert_eq!(
        access.port_forward,
        "kubectl -n monitoring port-forward svc/prometheus-operated 9090:9090"
    );
}

#[test]
fn configured_by_hand_it_writes_the_files_to_add_and_grants_its_service_account() {
    let objects = render(
        &DEFINITION,
        &[
            ("server", EXISTING),
            ("configuredBy", "file"),
            ("watchedNamespaces", "analytics, data"),
            ("prometheusServiceAccount", "monitoring/kube-prometheus"),
        ],
        &[],
    );
    let mut kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["ConfigMap", "Role", "Role", "RoleBinding", "RoleBinding"]
    );
    let files = &named(&objects, "ConfigMap", "prometheus-main-scrape-config")[0]["data"];
    let job = files[SCRAPE_FILE].as_str().unwrap();
    assert!(
        job.contains("scrape_configs:") && job.contains("job_name: dataport-pods"),
        "{job}"
    );
    assert!(!job.contains("rule_files"), "{job}");
    assert!(
        files["alerts.yml"]
            .as_str()
            .unwrap()
            .contains("FlinkJobRestarting")
    );
    for binding in objects.iter().filter(|o| o["kind"] == "RoleBinding") {
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "kube-prometheus", "namespace": "monitoring"}])
        );
    }
    let errors = (DEFINITION.rules)(
        "3.5.0",
        &Values::from([
            ("server".into(), json!(EXISTING)),
            ("configuredBy".into(), json!("file")),
            (
                "prometheusService".into(),
                json!("monitoring/prometheus:9090"),
            ),
            ("prometheusServiceAccount".into(), json!("prometheus")),
        ]),
    );
    assert!(
        errors["prometheusServiceAccount"].contains("namespace/name"),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
}

#[test]
fn a_choice_typed_with_spaces_reveals_the_fields_it_chooses() {
    // Values are trimmed when validated; which fields show must agree, or
    // the server would render without its storage (found by the fuzzer).
    let raw = std::collections::BTreeMap::from([("server".to_owned(), "dataport ".to_owned())]);
    let values = DEFINITION.validate("3.5.0", &raw).expect("valid");
    assert!(
        values.contains_key("storage") && values.contains_key("retentionDays"),
        "{values:?}"
    );
    assert!(
        render(&DEFINITION, &[("server", " dataport")], &[])
            .iter()
            .any(|o| o["kind"] == "StatefulSet")
    );
}
