//! A user whose cluster already runs Prometheus through the Prometheus
//! Operator installs dataport's Prometheus app in that mode: refused next
//! to the choice while the cluster lacks the operator's CRDs; once they are
//! there (the operator's own, from its release), a PodMonitor and a
//! PrometheusRule that the real API server keeps as written, and that the
//! uninstall removes.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Portal, cluster};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::{Value, json};

#[tokio::test]
async fn the_clusters_prometheus_operator_gets_a_pod_monitor_and_the_alerting_rules() {
    let (portal, _database, namespace) = Portal::on_test_cluster("promop").await;
    let form = json!({"app": "prometheus", "name": "prometheus", "namespace": namespace,
        "params": {"server": "existing", "configuredBy": "prometheus-operator",
            "prometheusService": "monitoring/prometheus-operated:9090",
            "monitorLabels": "release=kube-prometheus-stack"}});

    // No CRDs yet: refused at the choice of the Prometheus Operator,
    // naming what is missing, and nothing recorded.
    let (status, refused) = portal.post_json("/api/v1/instances", &form).await;
    assert_eq!(status, 400, "{refused}");
    let said = refused["error"]["fields"]["configuredBy"]
        .as_str()
        .unwrap_or_default();
    assert!(
        said.contains("podmonitors.monitoring.coreos.com")
            && said.contains("prometheusrules.monitoring.coreos.com"),
        "{refused}"
    );
    let (_, listed) = portal.get_json("/api/v1/instances").await;
    assert_eq!(listed["total"], 0, "{listed}");

    let client = cluster::shared().client().await;
    install_prometheus_operator_crds(&client).await;
    let installed = portal.install(form).await;
    assert_eq!(
        installed["operations"][0]["state"], "succeeded",
        "{installed}"
    );

    // What the API server kept (its schema prunes what it does not know):
    // the pods of the instance's namespace, their `metrics` port, the
    // labels dataport's own server gives, and the twelve alerts.
    let monitor = get(&client, &namespace, "PodMonitor").await;
    assert_eq!(
        monitor["metadata"]["labels"]["release"], "kube-prometheus-stack",
        "{monitor}"
    );
    let spec = &monitor["spec"];
    assert_eq!(spec["namespaceSelector"]["matchNames"], json!([namespace]));
    let endpoint = &spec["podMetricsEndpoints"][0];
    assert_eq!(endpoint["port"], "metrics", "{monitor}");
    let targets: Vec<&str> = endpoint["relabelings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|step| step["targetLabel"].as_str())
        .collect();
    assert_eq!(
        targets,
        ["namespace", "pod", "instance", "component", "flink_cluster"],
        "{monitor}"
    );
    let rule = get(&client, &namespace, "PrometheusRule").await;
    let alerts: Vec<&str> = rule["spec"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|group| group["rules"].as_array().into_iter().flatten())
        .filter_map(|rule| rule["alert"].as_str())
        .collect();
    assert_eq!(alerts.len(), 12, "{alerts:?}");
    assert!(alerts.contains(&"FlinkJobRestarting") && alerts.contains(&"FlinkOperatorDown"));

    // The uninstall deletes both.
    let id = installed["instance"]["id"].as_str().expect("id");
    // Nothing of it runs in the cluster: it is running once applied.
    let running = portal
        .wait_for_instance(id, "running", |i| i["instance"]["status"] == "Running")
        .await;
    assert_eq!(running["observed"], json!([]), "{running}");
    // Its web interface is that Prometheus's, through dataport or a port-forward.
    assert_eq!(
        running["access"]["port_forward"],
        "kubectl -n monitoring port-forward svc/prometheus-operated 9090:9090",
        "{running}"
    );
    portal.uninstall(id, "prometheus").await;
    for kind in ["PodMonitor", "PrometheusRule"] {
        let api = api(&client, &namespace, kind);
        assert!(
            api.get_opt("prometheus").await.expect("read").is_none(),
            "{kind}"
        );
    }
}

/// The Prometheus Operator's kind `kind` in `namespace`.
fn api(client: &kube::Client, namespace: &str, kind: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("monitoring.coreos.com", "v1", kind);
    let plural = format!("{}s", kind.to_ascii_lowercase());
    let resource = ApiResource::from_gvk_with_plural(&gvk, &plural);
    Api::namespaced_with(client.clone(), namespace, &resource)
}

/// Object `prometheus` of `kind` in `namespace`, as JSON.
async fn get(client: &kube::Client, namespace: &str, kind: &str) -> Value {
    let object = api(client, namespace, kind)
        .get("prometheus")
        .await
        .unwrap_or_else(|e| panic!("{kind} prometheus: {e}"));
    serde_json::to_value(object).expect("JSON")
}

/// Installs the PodMonitor and PrometheusRule CRDs of the Prometheus
/// Operator's release (`testenv/prometheus-operator/crds.sh`) and waits
/// until both are established.
async fn install_prometheus_operator_crds(client: &kube::Client) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testenv/prometheus-operator/crds.sh"
    );
    let output = Command::new(script).output().expect("run crds.sh");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for plural in ["podmonitors", "prometheusrules"] {
        let file = format!("{dir}/monitoring.coreos.com_{plural}.yaml");
        let text = std::fs::read_to_string(&file).expect("the CRD file");
        let crd: CustomResourceDefinition = serde_yaml_ng::from_str(&text).expect("a CRD");
        let name = format!("{plural}.monitoring.coreos.com");
        crds.patch(
            &name,
            &PatchParams::apply("dataport-test").force(),
            &Patch::Apply(&crd),
        )
        .await
        .expect("the CRD applied");
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(crds.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .expect("established within 30 s")
        .expect("watched");
    }
}
