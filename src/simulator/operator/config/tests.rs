use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::{Value, json};

use super::*;

/// An operator Deployment as the official chart renders it (trimmed to what
/// configuration reading looks at).
fn chart_deployment(env: Value, mount_path: &str, items: Option<Value>) -> Deployment {
    let mut config_map = json!({"name": "flink-operator-config"});
    if let Some(items) = items {
        config_map["items"] = items;
    }
    serde_json::from_value(json!({
        "metadata": {"name": "flink-kubernetes-operator", "namespace": "data"},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "flink-kubernetes-operator"}},
            "template": {"spec": {
                "serviceAccountName": "flink-operator",
                "containers": [{
                    "name": "flink-kubernetes-operator",
                    "image": "ghcr.io/apache/flink-kubernetes-operator:79d730b",
                    "env": env,
                    "volumeMounts": [{"name": "flink-operator-config-volume", "mountPath": mount_path}],
                }],
                "volumes": [{"name": "flink-operator-config-volume", "configMap": config_map}],
            }},
        },
    }))
    .unwrap()
}

fn chart_items() -> Value {
    json!([
        {"key": "flink-conf.yaml", "path": "flink-conf.yaml"},
        {"key": "log4j-operator.properties", "path": "log4j-operator.properties"},
        {"key": "log4j-console.properties", "path": "log4j-console.properties"},
    ])
}

fn config_map(data: Value) -> impl Fn(&str) -> Option<ConfigMap> {
    move |name| {
        (name == "flink-operator-config").then(|| {
            serde_json::from_value(json!({"metadata": {"name": name}, "data": data.clone()}))
                .unwrap()
        })
    }
}

fn both_files() -> Value {
    json!({
        "config.yaml": "kubernetes.operator.watched.namespaces: from-config-yaml\n",
        "flink-conf.yaml": "# comment\nkubernetes.operator.watched.namespaces: data, staging # two\nparallelism.default: 1\nbroken line\n",
        "log4j-operator.properties": "",
        "log4j-console.properties": "",
    })
}

#[test]
fn the_chart_layout_reads_flink_conf_yaml_through_its_items() {
    let deployment = chart_deployment(
        json!([{"name": "FLINK_CONF_DIR", "value": "/opt/flink/conf"}]),
        "/opt/flink/conf",
        Some(chart_items()),
    );
    let config = read(&deployment, &config_map(both_files())).unwrap();
    assert_eq!(
        config.watched(),
        Watched::Some(vec!["data".into(), "staging".into()])
    );
    assert_eq!(config.values["parallelism.default"], "1");
    assert!(
        config.source.contains("flink-conf.yaml"),
        "{}",
        config.source
    );
}

#[test]
fn items_that_project_only_config_yaml_read_config_yaml() {
    let deployment = chart_deployment(
        json!([{"name": "FLINK_CONF_DIR", "value": "/opt/flink/conf"}]),
        "/opt/flink/conf",
        Some(json!([{"key": "config.yaml", "path": "config.yaml"}])),
    );
    let config = read(&deployment, &config_map(both_files())).unwrap();
    assert_eq!(
        config.watched(),
        Watched::Some(vec!["from-config-yaml".into()])
    );
}

#[test]
fn without_items_every_key_shows_and_flink_conf_yaml_wins() {
    let deployment = chart_deployment(
        json!([{"name": "FLINK_CONF_DIR", "value": "/opt/flink/conf/"}]),
        "/opt/flink/conf",
        None,
    );
    let config = read(&deployment, &config_map(both_files())).unwrap();
    assert_eq!(
        config.watched(),
        Watched::Some(vec!["data".into(), "staging".into()])
    );
}

#[test]
fn the_old_layout_without_flink_conf_dir_gets_defaults_and_watches_everything() {
    let deployment = chart_deployment(
        json!([{"name": "FLINK_OPERATOR_CONF_DIR", "value": "/opt/flink/operator-conf"}]),
        "/opt/flink/operator-conf",
        None,
    );
    let config = read(&deployment, &config_map(both_files())).unwrap();
    assert_eq!(config.values, BTreeMap::new());
    assert_eq!(config.watched(), Watched::All);
    assert!(
        config.source.contains("no FLINK_CONF_DIR"),
        "{}",
        config.source
    );
}

#[test]
fn a_conf_dir_with_nothing_mounted_gets_defaults() {
    let deployment = chart_deployment(
        json!([{"name": "FLINK_CONF_DIR", "value": "/opt/flink/conf"}]),
        "/opt/flink/operator-conf",
        None,
    );
    let config = read(&deployment, &config_map(both_files())).unwrap();
    assert_eq!(config.watched(), Watched::All);
}

#[test]
fn a_mount_without_either_file_or_a_missing_config_map_stops_the_operator() {
    let deployment = chart_deployment(
        json!([{"name": "FLINK_CONF_DIR", "value": "/opt/flink/conf"}]),
        "/opt/flink/conf",
        Some(json!([{"key": "log4j-console.properties", "path": "log4j-console.properties"}])),
    );
    assert!(matches!(
        read(&deployment, &config_map(both_files())),
        Err(ConfigError::NoConfigFile { .. })
    ));
    assert_eq!(
        read(&deployment, &|_: &str| None),
        Err(ConfigError::MissingConfigMap(
            "flink-operator-config".into(),
            "/opt/flink/conf".into()
        ))
    );
}

#[test]
fn watch_namespaces_env_overrides_the_key() {
    let deployment = chart_deployment(
        json!([
            {"name": "FLINK_CONF_DIR", "value": "/opt/flink/conf"},
            {"name": "WATCH_NAMESPACES", "value": "other"},
        ]),
        "/opt/flink/conf",
        Some(chart_items()),
    );
    let config = read(&deployment, &config_map(both_files())).unwrap();
    assert_eq!(config.watched(), Watched::Some(vec!["other".into()]));
}

#[test]
fn operator_keys_give_jar_rules_and_version_defaults() {
    let config = OperatorConfig {
        values: parse_legacy(
            "kubernetes.operator.user.artifacts.allowed-schemes: https,S3\n\
             kubernetes.operator.user.artifacts.disallow-restricted-hosts: false\n\
             taskmanager.numberOfTaskSlots: 1\n\
             kubernetes.operator.default-configuration.flink-version.v1_18.env.java.opts.all: old\n\
             kubernetes.operator.default-configuration.flink-version.v1_19+.env.java.default-opts.all: new\n",
        ),
        ..OperatorConfig::default()
    };
    let rules = config.jar_rules();
    assert_eq!(rules.allowed_schemes, ["https", "s3"]);
    assert!(!rules.disallow_restricted_hosts);
    let v118 = config.cluster_defaults("v1_18");
    assert_eq!(
        v118.get("env.java.opts.all").map(String::as_str),
        Some("old")
    );
    assert!(!v118.contains_key("env.java.default-opts.all"));
    let v20 = config.cluster_defaults("v2_0");
    assert_eq!(
        v20.get("env.java.default-opts.all").map(String::as_str),
        Some("new")
    );
    assert_eq!(v20["taskmanager.numberOfTaskSlots"], "1");
}

#[test]
fn standard_yaml_nests_keys() {
    let values =
        parse_standard("kubernetes:\n  operator:\n    watched:\n      namespaces: a,b\n").unwrap();
    assert_eq!(values[WATCHED_NAMESPACES], "a,b");
}

#[test]
fn operator_images_are_recognised() {
    for image in [
        "apache/flink-kubernetes-operator:1.15.0",
        "ghcr.io/apache/flink-kubernetes-operator:79d730b",
        "docker.io/apache/flink-kubernetes-operator:1.15.0",
    ] {
        assert!(is_operator_image(image), "{image}");
    }
    assert!(!is_operator_image("flink:1.20"));
}
