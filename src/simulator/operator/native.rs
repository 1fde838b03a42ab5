//! Deploying for real: with the process node on, the stand-in deploys a
//! session cluster as the operator does, through Flink's own native
//! Kubernetes client (`NativeFlinkService.deploySessionCluster`, release-1.15.0),
//! run as `testenv/flink/deployer` under the operator's ServiceAccount token,
//! so the JobManager Deployment, its Services and ConfigMaps are Flink's own;
//! and it reads the cluster's REST API to tell when the JobManager is ready.
//!
//! The configuration it hands the client is the operator's
//! (`FlinkConfigBuilder.buildFrom`, release-1.15.0,
//! `flink-kubernetes-operator/src/main/java/org/apache/flink/kubernetes/operator/config/FlinkConfigBuilder.java`):
//! the defaults and the spec's `flinkConfiguration`, then
//! `kubernetes.rest-service.exposed.type: ClusterIP` and `web.cancel.enable:
//! false` unless set, the image and pull policy, the ServiceAccount, the pod
//! templates (common merged with the JobManager's or TaskManager's) as files,
//! JobManager and TaskManager memory and CPU, JobManager replicas,
//! `execution.target: kubernetes-session`, namespace and cluster id (and the
//! HA cluster id with HA on), and the owner reference of the FlinkDeployment
//! (`AbstractFlinkResourceReconciler.setOwnerReference`). The logging files
//! are the spec's `logConfiguration` or the operator's own.
//! Simplification: pod templates are merged object by object, an array of the
//! specific template replacing the common one's (the operator's default
//! `kubernetes.operator.pod-template.merge-arrays-by-name: false` merges
//! arrays position by position).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::Value;

use crate::catalog::quantity::{Quantity, QuantityKind};
use crate::crd::FlinkDeployment;
use crate::simulator::node::process::ClusterDns;
use crate::simulator::node::process::flink::{self, Release};

/// How long Flink's client may take to create a cluster's objects.
const DEPLOY_TIMEOUT: Duration = Duration::from_secs(180);

/// What deploying for real needs.
pub struct NativeClient {
    /// The simulator's own (admin) client: tokens for operators' ServiceAccounts.
    pub admin: Client,
    /// The API server as a pod reaches it (host, port).
    pub api_server: (String, u16),
    /// Where `flink-deployer-<release>-*.jar` are.
    pub cache: PathBuf,
    /// The releases the process node runs (its choice of release is the client's too).
    pub releases: Vec<Release>,
    pub java: PathBuf,
    /// Cluster DNS of the process node, to reach a cluster's REST Service.
    pub dns: std::sync::Arc<ClusterDns>,
    pub http: reqwest::Client,
}

impl NativeClient {
    /// Creates the session cluster of `deployment` with Flink's client, acting
    /// as `service_account` of `operator_namespace`. `Err` is the client's error.
    pub async fn deploy_session(
        &self,
        deployment: &FlinkDeployment,
        spec: &Value,
        configuration: &BTreeMap<String, String>,
        log_files: &BTreeMap<String, String>,
        operator: (&str, &str),
    ) -> Result<(), String> {
        let name = deployment.name_any();
        let namespace = deployment.namespace().unwrap_or_default();
        let image = spec
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let release = self.release(image)?;
        let deployer = deployer_jar(&self.cache, &release.version)?;
        let work = tempdir(&self.cache.join("operator-deploys"), &name)?;
        let conf = deploy_configuration(&name, &namespace, deployment, spec, configuration, &work)?;
        for (file, text) in log_files_for(spec, log_files) {
            write(&work.join(file), &text)?;
        }
        let text: String = conf.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        let file = match spec.get("flinkVersion").and_then(Value::as_str) {
            Some(v) if v.starts_with("v2") => "config.yaml",
            _ => "flink-conf.yaml",
        };
        write(&work.join(file), &text)?;
        self.remove_old_cluster(&name, &namespace).await?;
        let (operator_namespace, service_account) = operator;
        let token = self.token(operator_namespace, service_account).await?;
        write(&work.join("token"), &token)?;
        let ca = self.root_ca(operator_namespace).await?;
        write(&work.join("ca.crt"), &ca)?;
        let (host, port) = &self.api_server;
        let classpath = format!("{}/lib/*:{}", release.home.display(), deployer.display());
        let run = tokio::process::Command::new(&self.java)
            .args([
                "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "--add-opens=java.base/java.util=ALL-UNNAMED",
                "-cp",
            ])
            .arg(&classpath)
            .arg("io.dataport.testenv.DeploySessionCluster")
            .arg(&work)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("KUBERNETES_SERVICE_HOST", host)
            .env("KUBERNETES_SERVICE_PORT", port.to_string())
            .env("KUBERNETES_AUTH_TRYKUBECONFIG", "false")
            .env("KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN", work.join("token"))
            .env("KUBERNETES_CERTS_CA_FILE", work.join("ca.crt"))
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(DEPLOY_TIMEOUT, run)
            .await
            .map_err(|_| {
                format!(
                    "Flink's client did not finish within {} s",
                    DEPLOY_TIMEOUT.as_secs()
                )
            })?
            .map_err(|e| format!("cannot run Flink's client ({}): {e}", self.java.display()))?;
        let _ = std::fs::remove_file(work.join("token"));
        if output.status.success() {
            return Ok(());
        }
        Err(client_error(&String::from_utf8_lossy(&output.stderr)))
    }

    /// The release whose client deploys an image's cluster: as the process node chooses.
    fn release(&self, image: &str) -> Result<Release, String> {
        let wanted = flink::image_release(image).unwrap_or_else(|| "1.20".to_owned());
        flink::choose(&self.releases, &wanted).cloned()
    }

    /// Flink's `killCluster`: the JobManager Deployment goes (its Services
    /// and ConfigMaps with it, through their owner references).
    pub async fn remove_old_cluster(&self, name: &str, namespace: &str) -> Result<(), String> {
        let api: Api<Deployment> = Api::namespaced(self.admin.clone(), namespace);
        if api
            .get_opt(name)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            return Ok(());
        }
        api.delete(name, &DeleteParams::foreground())
            .await
            .map_err(|e| e.to_string())?;
        for _ in 0..120 {
            if api
                .get_opt(name)
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(format!(
            "the old JobManager Deployment {namespace}/{name} did not go away"
        ))
    }

    /// Whether the cluster's REST endpoint answers (`GET /config` through its
    /// `<name>-rest` Service), and the Flink version it reports.
    pub async fn rest_answers(&self, name: &str, namespace: &str) -> Option<String> {
        let ip = self.dns.lookup(&format!("{name}-rest.{namespace}"))?;
        let url = format!("http://{ip}:8081/config");
        let answer = self
            .http
            .get(&url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        let body: Value = answer.error_for_status().ok()?.json().await.ok()?;
        body.get("flink-version")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The REST API of session cluster `name` through its `<name>-rest`
    /// Service (port `rest.port`, 8081 by default); `None` while the
    /// Service selects no running JobManager.
    pub fn session_rest(
        &self,
        name: &str,
        namespace: &str,
        configuration: &BTreeMap<String, String>,
    ) -> Option<super::flink_rest::SessionRest> {
        let ip = self.dns.lookup(&format!("{name}-rest.{namespace}"))?;
        let port = configuration
            .get("rest.port")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(8081);
        Some(super::flink_rest::SessionRest::new(
            self.http.clone(),
            ip,
            port,
        ))
    }

    async fn token(&self, namespace: &str, service_account: &str) -> Result<String, String> {
        let api: Api<ServiceAccount> = Api::namespaced(self.admin.clone(), namespace);
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: Vec::new(),
                expiration_seconds: Some(3600),
                ..TokenRequestSpec::default()
            },
            ..TokenRequest::default()
        };
        api.create_token_request(service_account, &PostParams::default(), &request)
            .await
            .map_err(|e| format!("no token for {namespace}/{service_account}: {e}"))?
            .status
            .map(|s| s.token)
            .ok_or_else(|| "the API server returned no token".to_owned())
    }

    async fn root_ca(&self, namespace: &str) -> Result<String, String> {
        let api: Api<ConfigMap> = Api::namespaced(self.admin.clone(), namespace);
        api.get_opt("kube-root-ca.crt")
            .await
            .map_err(|e| e.to_string())?
            .and_then(|cm| cm.data?.get("ca.crt").cloned())
            .ok_or_else(|| format!("no kube-root-ca.crt in {namespace}"))
    }
}

/// The operator's deploy configuration for a session cluster.
fn deploy_configuration(
    name: &str,
    namespace: &str,
    deployment: &FlinkDeployment,
    spec: &Value,
    configuration: &BTreeMap<String, String>,
    work: &Path,
) -> Result<BTreeMap<String, String>, String> {
    let mut conf = configuration.clone();
    conf.entry("kubernetes.rest-service.exposed.type".into())
        .or_insert_with(|| "ClusterIP".into());
    conf.entry("web.cancel.enable".into())
        .or_insert_with(|| "false".into());
    let text = |pointer: &str| {
        spec.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if let Some(image) = text("/image") {
        conf.insert("kubernetes.container.image.ref".into(), image);
    }
    if let Some(policy) = text("/imagePullPolicy") {
        conf.insert("kubernetes.container.image.pull-policy".into(), policy);
    }
    if let Some(account) = text("/serviceAccount") {
        conf.insert("kubernetes.service-account".into(), account);
    }
    let common = spec.get("podTemplate").filter(|v| !v.is_null());
    for (role, key) in [
        ("jobManager", "kubernetes.pod-template-file.jobmanager"),
        ("taskManager", "kubernetes.pod-template-file.taskmanager"),
    ] {
        let own = spec
            .pointer(&format!("/{role}/podTemplate"))
            .filter(|v| !v.is_null());
        let merged = match (common, own) {
            (None, None) => continue,
            (Some(c), None) => c.clone(),
            (None, Some(o)) => o.clone(),
            (Some(c), Some(o)) => merge(c, o),
        };
        let file = work.join(format!("{role}-pod-template.yaml"));
        let yaml = serde_yaml_ng::to_string(&merged).map_err(|e| e.to_string())?;
        write(&file, &yaml)?;
        conf.insert(key.into(), file.display().to_string());
    }
    for (role, memory_key, cpu_key) in [
        (
            "jobManager",
            "jobmanager.memory.process.size",
            "kubernetes.jobmanager.cpu.amount",
        ),
        (
            "taskManager",
            "taskmanager.memory.process.size",
            "kubernetes.taskmanager.cpu.amount",
        ),
    ] {
        if let Some(memory) = text(&format!("/{role}/resource/memory")) {
            conf.insert(memory_key.into(), memory_size(&memory));
        }
        if let Some(cpu) = spec
            .pointer(&format!("/{role}/resource/cpu"))
            .and_then(Value::as_f64)
        {
            conf.insert(cpu_key.into(), cpu.to_string());
        }
    }
    if let Some(replicas) = spec
        .pointer("/jobManager/replicas")
        .and_then(Value::as_i64)
        .filter(|r| *r > 0)
    {
        conf.insert(
            "kubernetes.jobmanager.replicas".into(),
            replicas.to_string(),
        );
    }
    conf.insert("execution.target".into(), "kubernetes-session".into());
    conf.insert(
        "$internal.deployment.config-dir".into(),
        work.display().to_string(),
    );
    conf.insert("kubernetes.namespace".into(), namespace.to_owned());
    conf.insert("kubernetes.cluster-id".into(), name.to_owned());
    let ha = conf
        .get("high-availability.type")
        .or_else(|| conf.get("high-availability"))
        .is_some_and(|v| !v.eq_ignore_ascii_case("none"));
    if ha {
        conf.insert("high-availability.cluster-id".into(), name.to_owned());
    }
    conf.insert(
        "kubernetes.jobmanager.owner.reference".into(),
        format!(
            "apiVersion:flink.apache.org/v1,kind:FlinkDeployment,name:{name},uid:{},blockOwnerDeletion:true,controller:false",
            deployment.uid().unwrap_or_default()
        ),
    );
    Ok(conf)
}

/// `FlinkConfigBuilder.parseResourceMemoryString`: Flink's own memory sizes
/// pass as they are; Kubernetes quantities (`2Gi`) become bytes.
fn memory_size(memory: &str) -> String {
    let flink_units = ["b", "k", "kb", "m", "mb", "g", "gb", "t", "tb"];
    let lower = memory.trim().to_ascii_lowercase();
    let unit = lower.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ');
    if unit.is_empty() || flink_units.contains(&unit) {
        return memory.trim().to_owned();
    }
    Quantity::parse(memory, QuantityKind::Bytes)
        .map(|q| format!("{}b", q.value as u64))
        .unwrap_or_else(|_| memory.to_owned())
}

/// Objects merged key by key; anything else of `own` replaces `common`.
fn merge(common: &Value, own: &Value) -> Value {
    match (common, own) {
        (Value::Object(c), Value::Object(o)) => {
            let mut merged = c.clone();
            for (key, value) in o {
                let next = match c.get(key) {
                    Some(existing) => merge(existing, value),
                    None => value.clone(),
                };
                merged.insert(key.clone(), next);
            }
            Value::Object(merged)
        }
        (_, own) => own.clone(),
    }
}

fn log_files_for(spec: &Value, defaults: &BTreeMap<String, String>) -> Vec<(String, String)> {
    match spec.get("logConfiguration").and_then(Value::as_object) {
        Some(own) => own
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect(),
        None => defaults
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// The jar `testenv/flink/deployer.sh RELEASE` built (newest of its builds).
fn deployer_jar(cache: &Path, release: &str) -> Result<PathBuf, String> {
    let prefix = format!("flink-deployer-{release}-");
    std::fs::read_dir(cache)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix) && e.file_name().to_string_lossy().ends_with(".jar"))
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .map(|e| e.path())
        .ok_or_else(|| format!("Flink {release}'s native client is not built here: run testenv/flink/deployer.sh {release}"))
}

fn tempdir(parent: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = parent.join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The client's error as the operator records it: the deepest cause.
fn client_error(stderr: &str) -> String {
    let causes: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            !l.trim_start().starts_with("at ") && (l.contains("Exception") || l.contains("Error"))
        })
        .collect();
    causes
        .last()
        .map(|l| l.trim().trim_start_matches("Caused by: ").to_owned())
        .unwrap_or_else(|| {
            stderr
                .lines()
                .last()
                .unwrap_or("Flink's client failed")
                .to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_given_to_flink_as_the_operator_gives_it() {
        assert_eq!(memory_size("2048m"), "2048m");
        assert_eq!(memory_size("1g"), "1g");
        assert_eq!(memory_size("2Gi"), "2147483648b");
    }

    #[test]
    fn the_specific_pod_template_wins_over_the_common_one() {
        let common = serde_json::json!({"metadata": {"labels": {"a": "1"}}, "spec": {"containers": [{"name": "x"}]}});
        let own = serde_json::json!({"metadata": {"labels": {"b": "2"}}, "spec": {"containers": [{"name": "y"}]}});
        assert_eq!(
            merge(&common, &own),
            serde_json::json!({"metadata": {"labels": {"a": "1", "b": "2"}}, "spec": {"containers": [{"name": "y"}]}})
        );
    }

    #[test]
    fn the_deepest_cause_is_the_error() {
        let stderr = "org.apache.flink.client.deployment.ClusterDeploymentException: Could not create Kubernetes cluster \"x\".\n\tat a.b\nCaused by: io.fabric8.KubernetesClientException: Failure executing: POST ... Message: deployments.apps is forbidden\n\tat c.d\n";
        assert_eq!(
            client_error(stderr),
            "io.fabric8.KubernetesClientException: Failure executing: POST ... Message: deployments.apps is forbidden"
        );
    }
}
