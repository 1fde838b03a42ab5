//! Prometheus, scraping the `metrics` port of every pod in the namespaces it
//! watches: Flink's JobManagers and TaskManagers (the Prometheus reporter,
//! port 9249) and the Flink operator (port 9999), and any other app's pod
//! that names a container port `metrics`; and evaluating dataport's
//! alerting rules on Flink's metrics (`alerts.yml`, see the `alerts` module:
//! a job not running, gone or restarting, checkpoints failing or too old,
//! TaskManagers lost, back pressure, a JobManager not answering), each
//! alert labelled `severity`, `namespace` and `flink_cluster` (and the job's
//! `job_name`/`job_id`) for a reader of `/api/v1/alerts`. Prometheus only
//! evaluates them: no Alertmanager is installed, so nothing is sent.
//!
//! A catalog app of its own rather than a part of the "Grafana monitoring"
//! entry: an instance's pods are selected by its instance and app labels, so
//! a second workload in the monitoring instance would have to rename
//! Grafana's StatefulSet (whose selector cannot change) to keep the two
//! apart. Grafana reaches it through its data source address (the
//! monitoring entry's `prometheusUrl`), which may as well name a Prometheus
//! the cluster already has.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use crate::catalog::contract::{Check, ContainerContract, Contract};
use crate::catalog::render::{
    Object, RenderError, RenderInput, hashed_name, in_apply_order, object,
};
use crate::catalog::workload::{Workload, config_map_volume, http_probe, run_as, timed};
use crate::catalog::{AppDefinition, Category, NamespaceScope, WebUi};

mod alerts;
mod configuration;
mod figures;
mod form;
mod operator_mode;

use alerts::{RULES_FILE, alerting_rules};
pub use configuration::configuration;
use configuration::retention_size;
pub use figures::{FLINK_FIGURES, FigureUnit, KeyFigure, is_about, key_figures, watches};
pub use form::{EXISTING, Existing, existing};
pub use operator_mode::{PROMETHEUS_OPERATOR, REQUIRED_CRDS};

use super::flink_operator::{grant_name, watched_namespaces};

/// The app's name in the catalog.
pub const APP: &str = "prometheus";

/// Prometheus's HTTP port (API, UI, health), the image's `EXPOSE 9090`.
pub const PORT: i32 = 9090;

/// The name of the container port Prometheus scrapes in watched pods.
pub const METRICS_PORT_NAME: &str = "metrics";

/// The pod template's annotation holding the hash of `prometheus.yml` and
/// `alerts.yml` (8 hex digits of their SHA-256).
const CONFIG_HASH: &str = "dataport.io/config-hash";

/// Where the image reads its configuration (its default `--config.file`).
const CONFIG_DIR: &str = "/etc/prometheus";
/// Where the image keeps its time series (its `VOLUME`, default `--storage.tsdb.path`).
const DATA_DIR: &str = "/prometheus";
/// The image's entrypoint.
const ENTRYPOINT: &str = "/bin/prometheus";

/// Its web interface and HTTP API: its own Service on [`PORT`], or the
/// cluster's Prometheus the form names (`prometheusService`), which is
/// where the portal reads figures and alerts too.
pub const WEB_UI: WebUi = WebUi {
    name: "prometheus",
    label: "Prometheus",
    service_suffix: "",
    port: PORT as u16,
    note: None,
    public_url_param: None,
    serves_proxy_path: false,
    service_param: Some("prometheusService"),
};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: APP,
    display_name: "Prometheus",
    icon: "Pr",
    category: Category::Monitoring,
    summary: "Prometheus (port 9090) scraping the metrics ports of Flink's pods and the \
              operator in the namespaces it watches.",
    description: "A Prometheus server that finds, through the Kubernetes API, every pod in \
        the namespaces it watches with a container port named metrics (Flink's JobManagers \
        and TaskManagers, the Flink operator) and scrapes it, labelled with its namespace, \
        pod, instance and component. It may read pods there and nothing else. Point the \
        Grafana monitoring entry's data source at it.",
    versions: &["3.5.0", "2.53.3"],
    version_notes: &[(
        "2.53.3",
        "The 2.x line's long-term-support release; 3.5 is the current one.",
    )],
    dependencies: &[],
    web_ui: Some(WEB_UI),
    homepage: "https://prometheus.io/",
    groups: &[],
    params: form::PARAMS,
    rules: form::rules,
    scope: Some(NamespaceScope {
        param: "watchedNamespaces",
        namespaces: watched_namespaces,
    }),
    render,
    contract: &CONTRACT,
};

/// With the cluster's Prometheus: through its Prometheus Operator, a
/// PodMonitor and a PrometheusRule ([`operator_mode`]); by hand, the files
/// to add to it and its pod-reading grants ([`by_hand`]). Else the
/// StatefulSet (one server,
/// its time series on a persistent volume) and
/// its Service, the ConfigMap `<name>-config` with `prometheus.yml` and the
/// alerting rules `alerts.yml` (their hash on the pod template), and the
/// ServiceAccount `<name>` with a Role reading pods bound in each watched
/// namespace. Probes and user as prometheus-community/helm-charts
/// `charts/prometheus/values.yaml` sets the server's: `/-/ready` and
/// `/-/healthy` on 9090, user, group and fsGroup 65534.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let name = &input.target.name;
    let watched = watched_namespaces(&input.target.namespace, &input.values);
    match existing(&input.values) {
        Some(Existing::PrometheusOperator) => return operator_mode::render(input, &watched),
        Some(Existing::ByHand) => return by_hand(input, &watched),
        None => {}
    }
    let storage = input.text("storage")?;
    let days = input.int("retentionDays")?;
    let server = Workload {
        replicas: 1,
        image: format!("prom/prometheus:v{}", input.target.version),
        command: vec![
            ENTRYPOINT.into(),
            format!("--config.file={CONFIG_DIR}/prometheus.yml"),
            format!("--storage.tsdb.path={DATA_DIR}"),
            format!("--storage.tsdb.retention.time={days}d"),
            format!("--storage.tsdb.retention.size={}", retention_size(storage)?),
        ],
        ports: vec![("http", PORT)],
        storage: Some((storage.into(), DATA_DIR)),
        volumes: vec![config_map_volume(
            "config",
            format!("{name}-config"),
            CONFIG_DIR,
            None,
        )],
        service_account: Some(name.clone()),
        readiness: Some(timed(http_probe("/-/ready", "http"), 5, 5, 3)),
        liveness: Some(timed(http_probe("/-/healthy", "http"), 30, 15, 3)),
        pod_security: Some(run_as(65534, 65534, 65534)),
        ..Workload::default()
    };
    let files = BTreeMap::from([
        ("prometheus.yml".to_owned(), configuration(&watched)?),
        (RULES_FILE.to_owned(), alerting_rules()?),
    ]);
    // Prometheus reads its files at start only (a reload needs SIGHUP or
    // --web.enable-lifecycle): their hash on the pod template restarts it
    // when an update changes them.
    let files_hash = hashed_name("files", &files)?;
    let config = ConfigMap {
        metadata: input.metadata(format!("{name}-config")),
        data: Some(files),
        ..ConfigMap::default()
    };
    let mut objects = server.render(input)?;
    for server in objects.iter_mut().filter(|o| o["kind"] == "StatefulSet") {
        server["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH] =
            files_hash.trim_start_matches("files-").into();
    }
    objects.push(object(&config)?);
    objects.extend(rbac(input, &watched)?);
    Ok(in_apply_order(objects))
}

/// The ServiceAccount and its grants ([`pod_readers`]).
fn rbac(input: &RenderInput, watched: &[String]) -> Result<Vec<Object>, RenderError> {
    let account = &input.target.name;
    let mut objects = vec![object(&ServiceAccount {
        metadata: input.metadata(account.clone()),
        ..ServiceAccount::default()
    })?];
    let own = (input.target.namespace.clone(), account.clone());
    objects.extend(pod_readers(input, watched, &own)?);
    Ok(objects)
}

/// In each watched namespace a Role that may get, list and watch pods (all
/// that `kubernetes_sd_configs` role `pod` reads), bound to ServiceAccount
/// `(namespace, name)`. Namespaced Roles, not a ClusterRole: discovery is
/// limited to the named namespaces, so nothing cluster-wide is read.
fn pod_readers(
    input: &RenderInput,
    watched: &[String],
    (account_namespace, account): &(String, String),
) -> Result<Vec<Object>, RenderError> {
    let mut objects = Vec::new();
    for namespace in watched {
        let grant = grant_name(input, namespace);
        let mut metadata = input.metadata(grant.clone());
        metadata.namespace = Some(namespace.clone());
        objects.push(object(&Role {
            metadata: metadata.clone(),
            rules: Some(vec![PolicyRule {
                api_groups: Some(vec![String::new()]),
                resources: Some(vec!["pods".into()]),
                verbs: vec!["get".into(), "list".into(), "watch".into()],
                ..PolicyRule::default()
            }]),
        })?);
        objects.push(object(&RoleBinding {
            metadata,
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: grant,
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: account.clone(),
                namespace: Some(account_namespace.clone()),
                ..Subject::default()
            }]),
        })?);
    }
    Ok(objects)
}

/// The cluster's Prometheus configured by hand: the ConfigMap
/// `<name>-scrape-config` holding [`SCRAPE_FILE`] (the scrape job of
/// [`configuration`], for its `scrape_config_files`, Prometheus 2.43 and
/// later) and [`RULES_FILE`] (for its `rule_files`), and grants for its
/// ServiceAccount to read the watched namespaces' pods.
fn by_hand(input: &RenderInput, watched: &[String]) -> Result<Vec<Object>, RenderError> {
    let account = form::service_account(&input.values)?;
    let files = BTreeMap::from([
        (SCRAPE_FILE.to_owned(), configuration::scrape_job(watched)?),
        (RULES_FILE.to_owned(), alerting_rules()?),
    ]);
    let config = ConfigMap {
        metadata: input.metadata(format!("{}-scrape-config", input.target.name)),
        data: Some(files),
        ..ConfigMap::default()
    };
    let mut objects = vec![object(&config)?];
    objects.extend(pod_readers(input, watched, &account)?);
    Ok(in_apply_order(objects))
}

/// The scrape configuration file a Prometheus configured by hand includes.
pub const SCRAPE_FILE: &str = "dataport-scrape.yml";

/// Prometheus's contract with the `prom/prometheus` image.
///
/// | | Prometheus (StatefulSet) |
/// |---|---|
/// | image | `prom/prometheus:v<major.minor.patch>`, the offered release |
/// | entrypoint | `/bin/prometheus`, given as the command with its flags |
/// | files | `/etc/prometheus/prometheus.yml` (`--config.file`), `/prometheus` (`--storage.tsdb.path`, the image's volume) |
/// | discovery | in-cluster: the pod's ServiceAccount token and CA under `/var/run/secrets/kubernetes.io/serviceaccount`, `KUBERNETES_SERVICE_HOST`/`PORT` |
/// | ports | `http` 9090 |
/// | user | 65534 (`nobody`), fsGroup 65534 |
/// | probes | `/-/ready` (readiness) and `/-/healthy` (liveness) on 9090, as the chart |
pub(super) const CONTRACT: Contract = Contract {
    tags: "the offered release's v-prefixed major.minor.patch tag (3.5 and 2.53 are \
           Prometheus's long-term-support lines)",
    first_start: "creates its time-series database in /prometheus; reads prometheus.yml and \
                  discovers pods through the API server with the pod's ServiceAccount",
    lacks: "nothing dataport asks of it",
    sources: &[
        "prometheus/prometheus Dockerfile @v3.5.0 (ENTRYPOINT /bin/prometheus, USER nobody, \
         EXPOSE 9090, VOLUME /prometheus, CMD --config.file=/etc/prometheus/prometheus.yml \
         --storage.tsdb.path=/prometheus)",
        "prometheus-community/helm-charts charts/prometheus/values.yaml (server probes \
         /-/ready and /-/healthy, securityContext 65534/65534/65534 runAsNonRoot)",
        "prometheus/prometheus discovery/kubernetes/pod.go and config: kubernetes_sd_configs \
         role pod, namespaces.names, __meta_kubernetes_pod_container_port_name",
    ],
    containers: &[ContainerContract {
        kind: "StatefulSet",
        suffix: "",
        container: APP,
        image: "prom/prometheus",
        command: &[
            ENTRYPOINT,
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
        ],
        args: &[],
        env: &[],
        mounts: &[CONFIG_DIR, DATA_DIR],
        library_dir: None,
        ports: &[("http", PORT)],
        user: Some(65534),
        fs_group: Some(65534),
        readiness: Check::Http("/-/ready", "http"),
        liveness: Check::Http("/-/healthy", "http"),
    }],
};

#[cfg(test)]
mod tests;
