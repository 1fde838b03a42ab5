//! Operator Deployments built by the tests themselves, laid out as the
//! official chart lays them out (flink-kubernetes-operator release-1.15.0,
//! helm/flink-kubernetes-operator/templates/controller/deployment.yaml,
//! configmap.yaml, rbac/*), or broken on purpose; and the official CRDs.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

/// The upstream release's data files (CRDs, examples, default configuration).
pub fn upstream(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/upstream/flink-kubernetes-operator-1.15.0")
        .join(path)
}

/// The four CRDs the operator release ships, as JSON (the control plane's own).
pub fn official_crds() -> Vec<Value> {
    let dir = super::cluster::official_crds();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            serde_yaml_ng::from_str(&text).expect("CRD YAML")
        })
        .collect()
}

/// Installs `crds` (replacing what is there) and waits until they are established.
pub async fn install_crds(client: &Client, crds: &[Value]) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds {
        let name = crd["metadata"]["name"]
            .as_str()
            .expect("CRD name")
            .to_owned();
        let mut crd = crd.clone();
        crd.as_object_mut().expect("object").remove("status");
        api.patch(
            &name,
            &PatchParams::apply("dataport-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("install CRD {name}: {e}"));
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(api.clone(), &name, conditions::is_crd_established()),
        )
        .await
        .expect("CRD established in time")
        .expect("CRD established");
    }
}

/// The chart's operator rules (`flink-operator.rbacRules`), minus `without`
/// (`"group/resource"` strings, e.g. `"flink.apache.org/flinkdeployments/status"`).
pub fn operator_rules(without: &[&str]) -> Vec<Value> {
    dataport::catalog::flink_operator::OPERATOR_RULES
        .iter()
        .flat_map(|(groups, resources, verbs)| {
            groups.iter().map(move |group| {
                let resources: Vec<&str> = resources
                    .iter()
                    .copied()
                    .filter(|r| !without.contains(&format!("{group}/{r}").as_str()))
                    .collect();
                json!({"apiGroups": [group], "resources": resources, "verbs": verbs})
            })
        })
        .collect()
}

/// How a test's operator is laid out.
pub struct OperatorLayout<'a> {
    /// Its namespace (the chart's release namespace).
    pub namespace: &'a str,
    /// Its name: Deployment, ServiceAccount, `<name>-config` ConfigMap.
    pub name: &'a str,
    /// `watchNamespaces`: a Role per namespace (empty: a ClusterRole, as the chart does).
    pub watched: &'a [&'a str],
    /// Rules left out of its Roles.
    pub without: &'a [&'a str],
    /// The old layout: `FLINK_OPERATOR_CONF_DIR`, mounted at `/opt/flink/operator-conf`.
    pub old_layout: bool,
    /// Lines added to its `flink-conf.yaml`.
    pub extra_conf: &'a str,
}

impl<'a> OperatorLayout<'a> {
    /// The chart's layout watching `watched`.
    pub fn chart(namespace: &'a str, name: &'a str, watched: &'a [&'a str]) -> Self {
        OperatorLayout {
            namespace,
            name,
            watched,
            without: &[],
            old_layout: false,
            extra_conf: "",
        }
    }

    /// The objects: ServiceAccount, ConfigMap, Deployment, Roles and RoleBindings.
    pub fn objects(&self) -> Vec<Value> {
        let (ns, name) = (self.namespace, self.name);
        let base = std::fs::read_to_string(upstream("conf/flink-conf.yaml")).expect("conf");
        let mut conf = format!("{base}\n{}\n", self.extra_conf);
        if !self.watched.is_empty() {
            conf.push_str(&format!(
                "kubernetes.operator.watched.namespaces: {}\n",
                self.watched.join(",")
            ));
        }
        let labels = json!({"app.kubernetes.io/name": name});
        let (env, mount, items) = if self.old_layout {
            (
                json!([{"name": "FLINK_OPERATOR_CONF_DIR", "value": "/opt/flink/operator-conf"}]),
                "/opt/flink/operator-conf",
                json!([{"key": "config.yaml", "path": "config.yaml"}]),
            )
        } else {
            (
                json!([
                    {"name": "OPERATOR_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                    {"name": "OPERATOR_NAME", "value": "flink-kubernetes-operator"},
                    {"name": "FLINK_CONF_DIR", "value": "/opt/flink/conf"},
                    {"name": "FLINK_PLUGINS_DIR", "value": "/opt/flink/plugins"},
                ]),
                "/opt/flink/conf",
                json!([
                    {"key": "flink-conf.yaml", "path": "flink-conf.yaml"},
                    {"key": "log4j-operator.properties", "path": "log4j-operator.properties"},
                    {"key": "log4j-console.properties", "path": "log4j-console.properties"},
                ]),
            )
        };
        let mut objects = vec![
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("{name}-config"), "namespace": ns},
                   "data": {"config.yaml": conf, "flink-conf.yaml": conf,
                            "log4j-operator.properties": "rootLogger.level = INFO\n",
                            "log4j-console.properties": "rootLogger.level = INFO\n"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
                   "spec": {"replicas": 1, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": labels},
                            "template": {"metadata": {"labels": labels}, "spec": {
                                "serviceAccountName": name,
                                "containers": [{"name": "flink-kubernetes-operator",
                                    "image": "ghcr.io/apache/flink-kubernetes-operator:79d730b",
                                    "command": ["/docker-entrypoint.sh", "operator"],
                                    "env": env,
                                    "volumeMounts": [{"name": "flink-operator-config-volume", "mountPath": mount}]}],
                                "volumes": [{"name": "flink-operator-config-volume",
                                             "configMap": {"name": format!("{name}-config"), "items": items}}]}}}}),
        ];
        for watched in self.watched {
            objects.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": name, "namespace": watched}, "rules": operator_rules(self.without)}));
            objects.push(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": watched},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]}),
            );
        }
        objects
    }
}

/// Applies `objects` and waits until the Deployment among them has an available replica.
pub async fn deploy(cluster: &dataport::cluster::Cluster, objects: &[Value]) {
    cluster.apply(objects).await.expect("apply the operator");
    let deployment = objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("a Deployment");
    let api: Api<Deployment> = Api::namespaced(
        cluster.client().clone(),
        deployment["metadata"]["namespace"]
            .as_str()
            .expect("namespace"),
    );
    let name = deployment["metadata"]["name"].as_str().expect("name");
    eventually(
        Duration::from_secs(60),
        "the operator Deployment available",
        || async {
            let found = api.get(name).await.ok()?;
            (found.status?.available_replicas? >= 1).then_some(())
        },
    )
    .await;
}

/// Polls `probe` every 200 ms until it gives a value (panics after `limit`).
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The Events in `namespace` about the object named `name`.
pub async fn events_about(client: &Client, namespace: &str, name: &str) -> Vec<Event> {
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    api.list(&ListParams::default().fields(&format!("involvedObject.name={name}")))
        .await
        .expect("list events")
        .items
}

/// The first Event about `name` with `reason` whose message contains `text`.
pub async fn wait_for_event(
    client: &Client,
    namespace: &str,
    name: &str,
    reason: &str,
    text: &str,
) -> Event {
    eventually(
        Duration::from_secs(60),
        &format!("a {reason} Event on {name} saying {text:?}"),
        || async {
            events_about(client, namespace, name)
                .await
                .into_iter()
                .find(|e| {
                    e.reason.as_deref() == Some(reason)
                        && e.message.as_deref().is_some_and(|m| m.contains(text))
                })
        },
    )
    .await
}

/// A session cluster spec that passes the operator's validation.
pub fn session_cluster(name: &str) -> Value {
    json!({
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": name},
        "spec": {
            "image": "flink:1.20",
            "flinkVersion": "v1_20",
            "serviceAccount": "flink",
            "jobManager": {"replicas": 1, "resource": {"memory": "1024m", "cpu": 1.0}},
            "taskManager": {"resource": {"memory": "1024m", "cpu": 1.0}},
            "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
        },
    })
}

/// The names of `objects`' resources, for messages.
pub fn names<K: kube::Resource>(objects: &[K]) -> Vec<String> {
    objects.iter().map(|o| o.name_any()).collect()
}
