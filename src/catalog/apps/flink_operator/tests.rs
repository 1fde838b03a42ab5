//! The operator's render against its chart's contract.

use serde_json::{Value, json};

use super::rbac::{OPERATOR_RULES, OWN_NAMESPACE_RULES};
use super::*;
use crate::catalog::params::raw;
use crate::catalog::render::Target;

fn rendered(version: &str, form: &[(&str, &str)]) -> Vec<Value> {
    let values = DEFINITION.validate(version, &raw(form)).unwrap();
    let input = RenderInput {
        target: Target {
            id: uuid::Uuid::nil(),
            app: APP,
            name: "op".into(),
            namespace: "ops".into(),
            version: version.into(),
        },
        values,
        references: BTreeMap::new(),
    };
    render(&input).unwrap()
}

fn find<'a>(objects: &'a [Value], kind: &str, namespace: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| {
            o["kind"] == kind
                && o["metadata"]["namespace"] == namespace
                && o["metadata"]["name"] == name
        })
        .unwrap_or_else(|| panic!("{kind} {namespace}/{name} in {objects:#?}"))
}

fn config(objects: &[Value]) -> BTreeMap<String, String> {
    let config_map = find(objects, "ConfigMap", "ops", "op-config");
    assert_eq!(
        config_map["data"]["config.yaml"], config_map["data"]["flink-conf.yaml"],
        "both keys hold the same configuration"
    );
    config_map["data"]["flink-conf.yaml"]
        .as_str()
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn the_deployment_is_the_charts() {
    let objects = rendered("1.15.0", &[]);
    let deployment = find(&objects, "Deployment", "ops", "op");
    assert_eq!(deployment["spec"]["strategy"], json!({"type": "Recreate"}));
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "op");
    assert_eq!(
        pod["securityContext"],
        json!({"runAsUser": 9999, "runAsGroup": 9999})
    );
    let container = &pod["containers"][0];
    assert_eq!(container["name"], "flink-kubernetes-operator");
    assert_eq!(
        container["image"],
        "apache/flink-kubernetes-operator:1.15.0"
    );
    assert_eq!(
        container["command"],
        json!(["/docker-entrypoint.sh", "operator"])
    );
    assert!(container.get("args").is_none());
    let env: Vec<(&str, Value)> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let value = e
                .get("value")
                .cloned()
                .unwrap_or_else(|| e["valueFrom"]["fieldRef"]["fieldPath"].clone());
            (e["name"].as_str().unwrap(), value)
        })
        .collect();
    assert_eq!(
        env,
        [
            ("OPERATOR_NAMESPACE", json!("metadata.namespace")),
            ("HOST_IP", json!("status.hostIP")),
            ("POD_IP", json!("status.podIP")),
            ("POD_NAME", json!("metadata.name")),
            ("OPERATOR_NAME", json!("flink-kubernetes-operator")),
            ("FLINK_CONF_DIR", json!("/opt/flink/conf")),
            ("FLINK_PLUGINS_DIR", json!("/opt/flink/plugins")),
            ("LOGGING_FRAMEWORK", json!("log4j2")),
            (
                "LOG_CONFIG",
                json!("-Dlog4j.configurationFile=/opt/flink/conf/log4j-operator.properties")
            ),
            ("JVM_ARGS", json!("")),
        ]
    );
    assert_eq!(
        container["ports"],
        json!([
            {"name": "health-port", "containerPort": 8085, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9999, "protocol": "TCP"},
        ])
    );
    let probe = json!({"path": "/", "port": "health-port"});
    assert_eq!(container["livenessProbe"]["httpGet"], probe);
    assert_eq!(container["livenessProbe"]["initialDelaySeconds"], 30);
    assert_eq!(container["livenessProbe"]["periodSeconds"], 10);
    assert_eq!(container["startupProbe"]["httpGet"], probe);
    assert_eq!(container["startupProbe"]["failureThreshold"], 30);
    assert_eq!(container["startupProbe"]["periodSeconds"], 10);
    // Not in the chart: readiness on the same endpoint (see `deployment`).
    assert_eq!(container["readinessProbe"]["httpGet"], probe);
    assert_eq!(
        container["volumeMounts"],
        json!([
            {"name": "flink-operator-config-volume", "mountPath": "/opt/flink/conf"},
            {"name": "flink-artifacts-volume", "mountPath": "/opt/flink/artifacts"},
        ])
    );
    assert_eq!(
        pod["volumes"],
        json!([
            {"name": "flink-operator-config-volume", "configMap": {"name": "op-config", "items": [
                {"key": "flink-conf.yaml", "path": "flink-conf.yaml"},
                {"key": "log4j-operator.properties", "path": "log4j-operator.properties"},
                {"key": "log4j-console.properties", "path": "log4j-console.properties"},
            ]}},
            {"name": "flink-artifacts-volume", "emptyDir": {}},
        ])
    );
    let config_map = find(&objects, "ConfigMap", "ops", "op-config");
    let keys: Vec<_> = config_map["data"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "config.yaml",
            "flink-conf.yaml",
            "log4j-console.properties",
            "log4j-operator.properties"
        ]
    );
    assert!(
        objects.iter().all(|o| o["kind"] != "Service"),
        "the chart has no operator Service"
    );
}

#[test]
fn by_default_it_watches_its_own_namespace_with_the_charts_rules() {
    let objects = rendered("1.15.0", &[]);
    let config = config(&objects);
    assert_eq!(config["kubernetes.operator.watched.namespaces"], "ops");
    assert_eq!(config["kubernetes.operator.health.probe.enabled"], "true");
    assert_eq!(config["kubernetes.operator.health.probe.port"], "8085");
    assert_eq!(
        config["kubernetes.operator.user.artifacts.allowed-schemes"],
        "https"
    );
    assert_eq!(
        config["kubernetes.operator.user.artifacts.disallow-restricted-hosts"],
        "true"
    );
    assert!(!config.contains_key("kubernetes.operator.leader-election.enabled"));
    let roles: Vec<_> = objects.iter().filter(|o| o["kind"] == "Role").collect();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0]["metadata"]["name"], "op");
    assert_rules(roles[0], OPERATOR_RULES);
    find(&objects, "ServiceAccount", "ops", "op");
}

fn assert_rules(role: &Value, expected: &[rbac::Rule]) {
    let expected: Vec<Value> = expected
        .iter()
        .map(|(groups, resources, verbs)| {
            json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
        })
        .collect();
    assert_eq!(role["rules"], Value::from(expected), "{}", role["metadata"]);
}

#[test]
fn the_rules_are_the_charts_every_one() {
    let flat: Vec<(String, String, String)> = OPERATOR_RULES
        .iter()
        .flat_map(|(groups, resources, verbs)| {
            groups.iter().flat_map(move |g| {
                resources.iter().flat_map(move |r| {
                    verbs
                        .iter()
                        .map(move |v| (g.to_string(), r.to_string(), v.to_string()))
                })
            })
        })
        .collect();
    let has = |g: &str, r: &str, v: &str| flat.iter().any(|t| t.0 == g && t.1 == r && t.2 == v);
    for resource in ["pods", "services", "events", "configmaps", "secrets"] {
        assert!(has("", resource, "deletecollection"), "{resource}");
    }
    for kind in [
        "flinkdeployments",
        "flinksessionjobs",
        "flinkstatesnapshots",
        "flinkbluegreendeployments",
    ] {
        assert!(has("flink.apache.org", kind, "watch"), "{kind}");
        assert!(has(
            "flink.apache.org",
            &format!("{kind}/finalizers"),
            "update"
        ));
        assert!(has("flink.apache.org", &format!("{kind}/status"), "patch"));
        assert!(!has(
            "flink.apache.org",
            &format!("{kind}/status"),
            "delete"
        ));
    }
    assert!(has("apps", "deployments/scale", "update"));
    assert!(has("apps", "replicasets", "list"));
    assert!(has("extensions", "ingresses", "create"));
    assert!(has("networking.k8s.io", "ingresses", "delete"));
    assert!(has("coordination.k8s.io", "leases", "update"));
    assert!(!has("", "nodes", "list"), "the chart's nodes rule is off");
    assert_eq!(
        flat.len(),
        5 * 8 + 3 * 7 + 3 + 2 * 7 + 8 * 7 + 4 * 3 + 7 + 7
    );
}

#[test]
fn each_watched_namespace_gets_a_role_and_a_binding_to_the_account() {
    let objects = rendered("1.15.0", &[("watchedNamespaces", " data, analytics ,data")]);
    assert_eq!(
        config(&objects)["kubernetes.operator.watched.namespaces"],
        "data,analytics"
    );
    for namespace in ["data", "analytics"] {
        let role = find(&objects, "Role", namespace, "op.ops");
        assert_rules(role, OPERATOR_RULES);
        assert_eq!(
            role["metadata"]["labels"]["app.kubernetes.io/instance"],
            "op"
        );
        assert_eq!(
            role["metadata"]["annotations"]["dataport.io/instance-id"],
            uuid::Uuid::nil().to_string()
        );
        let binding = find(&objects, "RoleBinding", namespace, "op.ops");
        assert_eq!(
            binding["roleRef"],
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "op.ops"})
        );
        assert_eq!(
            binding["subjects"],
            json!([{"kind": "ServiceAccount", "name": "op", "namespace": "ops"}])
        );
    }
    // Not watching its own namespace: only its Lease and the CRD check there.
    let own = find(&objects, "Role", "ops", "op");
    assert_rules(own, OWN_NAMESPACE_RULES);
    find(&objects, "RoleBinding", "ops", "op");
    // Grants come before the workload that needs them.
    let position = |kind: &str| objects.iter().position(|o| o["kind"] == kind).unwrap();
    assert!(position("RoleBinding") < position("Deployment"));
}

#[test]
fn watching_its_own_namespace_too_gives_it_the_full_rules_there() {
    let objects = rendered("1.14.0", &[("watchedNamespaces", "ops,data")]);
    assert_rules(find(&objects, "Role", "ops", "op"), OPERATOR_RULES);
    assert_rules(find(&objects, "Role", "data", "op.ops"), OPERATOR_RULES);
    assert_eq!(objects.iter().filter(|o| o["kind"] == "Role").count(), 2);
    let container =
        &find(&objects, "Deployment", "ops", "op")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["image"],
        "apache/flink-kubernetes-operator:1.14.0"
    );
}

#[test]
fn form_fields_become_the_artifact_keys_and_leader_election() {
    let objects = rendered(
        "1.15.0",
        &[
            ("allowedJarSchemes", "HTTPS, s3"),
            ("allowPrivateHosts", "on"),
            ("replicas", "2"),
        ],
    );
    let config = config(&objects);
    assert_eq!(
        config["kubernetes.operator.user.artifacts.allowed-schemes"],
        "https,s3"
    );
    assert_eq!(
        config["kubernetes.operator.user.artifacts.disallow-restricted-hosts"],
        "false"
    );
    assert_eq!(
        config["kubernetes.operator.leader-election.enabled"],
        "true"
    );
    assert_eq!(
        config["kubernetes.operator.leader-election.lease-name"],
        "op-leader"
    );
}

#[test]
fn bad_namespaces_and_schemes_are_refused_by_their_fields() {
    let errors = DEFINITION
        .validate(
            "1.15.0",
            &raw(&[
                ("watchedNamespaces", "data,Not_A_Namespace"),
                ("allowedJarSchemes", "https,ftp"),
            ]),
        )
        .unwrap_err();
    assert!(errors["watchedNamespaces"].starts_with("\"Not_A_Namespace\" is not a namespace"));
    assert!(errors["allowedJarSchemes"].starts_with("\"ftp\" is not a scheme"));
    let many: Vec<String> = (0..21).map(|i| format!("ns{i}")).collect();
    let errors = DEFINITION
        .validate("1.15.0", &raw(&[("watchedNamespaces", &many.join(","))]))
        .unwrap_err();
    assert_eq!(errors["watchedNamespaces"], "At most 20 namespaces");
    let errors = DEFINITION
        .validate("1.15.0", &raw(&[("allowedJarSchemes", " , ")]))
        .unwrap_err();
    assert!(errors["allowedJarSchemes"].starts_with("Name at least one scheme"));
}

#[test]
fn it_serves_the_namespaces_it_watches() {
    let values = DEFINITION
        .validate("1.15.0", &raw(&[("watchedNamespaces", "data,etl")]))
        .unwrap();
    assert!(DEFINITION.serves_namespace("ops", &values, "data"));
    assert!(DEFINITION.serves_namespace("ops", &values, "etl"));
    assert!(!DEFINITION.serves_namespace("ops", &values, "ops"));
    let default = DEFINITION.validate("1.15.0", &raw(&[])).unwrap();
    assert!(DEFINITION.serves_namespace("ops", &default, "ops"));
    assert!(!DEFINITION.serves_namespace("ops", &default, "data"));
}

#[test]
fn operator_versions_bound_the_flink_versions() {
    assert_eq!(VERSIONS, ["1.15.0", "1.14.0"]);
    for operator in VERSIONS {
        for release in crate::catalog::flink_versions::RELEASES {
            assert_eq!(
                flink_version_error("op", operator, release.flink_version, release.version),
                None,
                "{operator} runs {}",
                release.version
            );
        }
    }
    let error = flink_version_error("ops/op", "1.13.0", FlinkVersion::v2_2, "2.2").unwrap();
    assert!(
        error.contains("operator ops/op (version 1.13.0)"),
        "{error}"
    );
}
