//! Grafana with the dashboards dataport provisions for Flink and the
//! flink-kubernetes-operator, and its Prometheus data source (dataport's
//! `prometheus` app, or one the cluster has).
//!
//! Every panel queries a metric its app really exports: Flink's reporter
//! (`flink.json`) and the operator's (`flink-operator.json`, the names of
//! `simulator::operator::metrics`). No StreamPark dashboard: StreamPark's
//! console exports no Prometheus metrics, and one built on
//! kube-state-metrics and the kubelet's cAdvisor would stay empty on a
//! cluster whose Prometheus is dataport's, which scrapes neither.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Capabilities, ConfigMap, Probe, SeccompProfile, SecurityContext};

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order, object};
use crate::catalog::workload::{
    Workload, config_map_volume, env, env_from_secret, generated_secret, http_probe, run_as,
};

use crate::catalog::contract::{Check, ContainerContract, Contract};
use crate::catalog::params::{Param, ParamKind};
use crate::catalog::{AppDefinition, Category, WebUi, no_rules};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "monitoring",
    display_name: "Grafana monitoring",
    icon: "Gr",
    category: Category::Monitoring,
    summary: "Grafana (port 3000) with Flink and Flink operator dashboards provisioned.",
    description: "A Grafana server, its Prometheus data source and the dashboards dataport \
        provisions for it (ConfigMaps labelled grafana_dashboard). Install dataport's \
        Prometheus app first (or name a Prometheus the cluster has) for the dashboards to \
        show numbers. Each Flink instance page (and the operator's) deep-links its dashboard, \
        filtered to that cluster, from More operations.",
    versions: &["12.0.0", "11.6.0"],
    version_notes: &[],
    dependencies: &[],
    web_ui: Some(WebUi {
        name: "grafana",
        label: "Grafana",
        service_suffix: "",
        port: 3000,
        note: Some(
            "Log in as admin; the password is in the Secret <name>-credentials (key admin-password).",
        ),
        public_url_param: Some("externalUrl"),
        serves_proxy_path: true,
        service_param: None,
    }),
    homepage: "https://grafana.com/oss/grafana/",
    groups: &[],
    params: &[
        Param {
            key: "externalUrl",
            label: "Public Grafana address",
            help: "The address users open Grafana at (for the instance pages' links); empty for the in-cluster address.",
            kind: ParamKind::Uri {
                schemes: &["https", "http"],
                max_len: 200,
                file: false,
            },
            default: Some(""),
            shown_when: &[],
        },
        Param {
            key: "prometheusUrl",
            label: "Prometheus address",
            help: "The Prometheus the dashboards query: a dataport Prometheus instance named \
                prometheus in this namespace is http://prometheus:9090 (another one: \
                http://NAME.NAMESPACE:9090), or the address of one the cluster has.",
            kind: ParamKind::Uri {
                schemes: &["http", "https"],
                max_len: 200,
                file: false,
            },
            default: Some(DEFAULT_PROMETHEUS_URL),
            shown_when: &[],
        },
        Param::bytes(
            "storage",
            "Storage",
            "5Gi",
            ("1Gi", "1Ti"),
            "Persistent volume of Grafana.",
        ),
        Param::secret(
            "adminPassword",
            "Admin password",
            "admin-password",
            "Kept in a Secret; leave empty to generate one.",
        ),
    ],
    rules: no_rules,
    scope: None,
    render,
    contract: &CONTRACT,
};

/// The Flink dashboard: its uid and slug make the deep links.
pub(crate) const FLINK_DASHBOARD: (&str, &str) = ("dataport-flink", "flink-dataport");
/// The flink-kubernetes-operator dashboard.
pub(crate) const OPERATOR_DASHBOARD: (&str, &str) = (
    "dataport-flink-operator",
    "flink-kubernetes-operator-dataport",
);

const DASHBOARDS_DIR: &str = "/var/lib/grafana/dashboards/dataport";

/// Where Grafana loads data sources from (`GF_PATHS_PROVISIONING`/datasources).
const DATASOURCES_DIR: &str = "/etc/grafana/provisioning/datasources";

/// The uid of the Prometheus data source dataport provisions: every panel
/// and variable of the shipped dashboards names it, so they query it
/// whatever other data sources the Grafana has.
pub(crate) const DATA_SOURCE_UID: &str = "dataport-prometheus";

/// The data source's address when the form leaves it alone (and for
/// instances installed before it was a field): the in-cluster Service of a
/// dataport Prometheus instance named `prometheus` in the same namespace.
const DEFAULT_PROMETHEUS_URL: &str = "http://prometheus:9090";

/// Grafana's data source provisioning file: one Prometheus at `url`, uid
/// [`DATA_SOURCE_UID`], queried by Grafana's server (`access: proxy`), the
/// default (grafana/grafana `docs/sources/administration/provisioning`,
/// "Data sources").
fn data_sources(url: &str) -> Result<String, RenderError> {
    let file = serde_json::json!({
        "apiVersion": 1,
        "datasources": [{
            "name": "Prometheus (dataport)",
            "type": "prometheus",
            "uid": DATA_SOURCE_UID,
            "access": "proxy",
            "url": url,
            "isDefault": true,
            "editable": false,
        }],
    });
    serde_yaml_ng::to_string(&file).map_err(|e| RenderError::Encode {
        kind: "ConfigMap",
        message: e.to_string(),
    })
}

/// Grafana with a generated admin password and dataport's dashboards (probes
/// and security as grafana/helm-charts `charts/grafana/values.yaml` sets
/// them: `/api/health` on 3000, user and groups 472, no privilege escalation): a
/// ConfigMap labelled `grafana_dashboard: "1"` (so a Grafana sidecar finds it
/// too) mounted where a file provider loads it.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let name = &input.target.name;
    let secret = format!("{name}-credentials");
    let mut environment = vec![
        env("GF_SECURITY_ADMIN_USER", "admin"),
        env_from_secret("GF_SECURITY_ADMIN_PASSWORD", &secret, "admin-password"),
    ];
    let external_url = input.text("externalUrl")?;
    if external_url.is_empty() {
        // Behind dataport's proxy: links and assets under its path, which
        // Grafana serves itself (and redirects `/` to, so a port-forward
        // still lands there).
        let proxy_path = DEFINITION
            .web_ui
            .map(|ui| ui.proxy_path(input.target.id))
            .ok_or(RenderError::Missing("web_ui"))?;
        environment.push(env(
            "GF_SERVER_ROOT_URL",
            format!("%(protocol)s://%(domain)s:%(http_port)s{proxy_path}"),
        ));
        environment.push(env("GF_SERVER_SERVE_FROM_SUB_PATH", "true"));
    } else {
        // The public address (an ingress) serves Grafana at its root.
        environment.push(env("GF_SERVER_ROOT_URL", external_url));
        environment.push(env("GF_SERVER_SERVE_FROM_SUB_PATH", "false"));
    }
    let grafana = Workload {
        replicas: 1,
        image: format!("grafana/grafana:{}", input.target.version),
        ports: vec![("http", 3000)],
        env: environment,
        storage: Some((input.text("storage")?.into(), "/var/lib/grafana")),
        volumes: vec![
            config_map_volume(
                "dashboards",
                format!("{name}-dashboards"),
                DASHBOARDS_DIR,
                None,
            ),
            config_map_volume(
                "provisioning",
                format!("{name}-provisioning"),
                "/etc/grafana/provisioning/dashboards",
                None,
            ),
            config_map_volume(
                "datasources",
                format!("{name}-datasources"),
                DATASOURCES_DIR,
                None,
            ),
        ],
        readiness: Some(http_probe("/api/health", "http")),
        liveness: Some(Probe {
            initial_delay_seconds: Some(60),
            timeout_seconds: Some(30),
            failure_threshold: Some(10),
            ..http_probe("/api/health", "http")
        }),
        pod_security: Some(run_as(472, 472, 472)),
        container_security: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                ..Capabilities::default()
            }),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                ..SeccompProfile::default()
            }),
            ..SecurityContext::default()
        }),
        ..Workload::default()
    };
    let mut dashboards = ConfigMap {
        metadata: input.metadata(format!("{name}-dashboards")),
        data: Some(BTreeMap::from([
            (
                "flink.json".to_owned(),
                include_str!("../dashboards/flink.json").to_owned(),
            ),
            (
                "flink-operator.json".to_owned(),
                include_str!("../dashboards/flink-operator.json").to_owned(),
            ),
        ])),
        ..ConfigMap::default()
    };
    dashboards
        .metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert("grafana_dashboard".into(), "1".into());
    let provider = format!(
        "apiVersion: 1\nproviders:\n  - name: dataport\n    folder: dataport\n    type: file\n    options:\n      path: {DASHBOARDS_DIR}\n"
    );
    let provisioning = ConfigMap {
        metadata: input.metadata(format!("{name}-provisioning")),
        data: Some(BTreeMap::from([("dataport.yaml".to_owned(), provider)])),
        ..ConfigMap::default()
    };
    let prometheus = match input.text_or_empty("prometheusUrl") {
        "" => DEFAULT_PROMETHEUS_URL,
        url => url,
    };
    let datasources = ConfigMap {
        metadata: input.metadata(format!("{name}-datasources")),
        data: Some(BTreeMap::from([(
            "dataport.yaml".to_owned(),
            data_sources(prometheus)?,
        )])),
        ..ConfigMap::default()
    };
    let mut objects = grafana.render(input)?;
    objects.push(generated_secret(input, "credentials", &["admin-password"])?);
    objects.push(object(&dashboards)?);
    objects.push(object(&provisioning)?);
    objects.push(object(&datasources)?);
    Ok(in_apply_order(objects))
}

/// The deep link to an instance's dashboard, filtered to it, on the Grafana at `base`.
pub(crate) fn dashboard_link(
    base: &str,
    (uid, slug): (&str, &str),
    namespace: &str,
    name: &str,
) -> String {
    format!(
        "{}/d/{uid}/{slug}?var-namespace={namespace}&var-cluster={name}",
        base.trim_end_matches('/')
    )
}

/// Grafana's contract with the `grafana/grafana` image.
///
/// | | Grafana (StatefulSet) |
/// |---|---|
/// | image | `grafana/grafana:<major.minor.patch>`, the offered release |
/// | entrypoint | the image's: `/run.sh` |
/// | env | `GF_SECURITY_ADMIN_USER`, `GF_SECURITY_ADMIN_PASSWORD`, `GF_SERVER_ROOT_URL`, `GF_SERVER_SERVE_FROM_SUB_PATH` (`GF_<SECTION>_<KEY>` overrides grafana.ini) |
/// | files | `/var/lib/grafana` (`GF_PATHS_DATA`), `/etc/grafana/provisioning/dashboards` and `/etc/grafana/provisioning/datasources` (under `GF_PATHS_PROVISIONING`), the dashboards folder its provider names |
/// | ports | `http` 3000 |
/// | user | 472 (`grafana`), fsGroup 472; no privilege escalation, no capabilities |
/// | probes | `/api/health` on 3000, as the chart |
pub(super) const CONTRACT: Contract = Contract {
    tags: "the offered major.minor.patch tag",
    first_start: "creates its database in /var/lib/grafana and the admin user from \
                  GF_SECURITY_ADMIN_*; loads providers from the provisioning folder",
    lacks: "nothing dataport asks of it",
    sources: &[
        "grafana/helm-charts charts/grafana/values.yaml @001363be (probes /api/health 3000, \
         securityContext 472/472/472 runAsNonRoot, containerSecurityContext)",
        "grafana/grafana Dockerfile @0014fb64 (GF_UID 472, GF_PATHS_DATA, \
         GF_PATHS_PROVISIONING, ENTRYPOINT /run.sh, EXPOSE 3000)",
    ],
    containers: &[ContainerContract {
        kind: "StatefulSet",
        suffix: "",
        container: "monitoring",
        image: "grafana/grafana",
        command: &[],
        args: &[],
        env: &[
            "GF_SECURITY_ADMIN_USER",
            "GF_SECURITY_ADMIN_PASSWORD",
            "GF_SERVER_ROOT_URL",
            "GF_SERVER_SERVE_FROM_SUB_PATH",
        ],
        mounts: &[
            "/var/lib/grafana",
            DASHBOARDS_DIR,
            "/etc/grafana/provisioning/dashboards",
            DATASOURCES_DIR,
        ],
        library_dir: None,
        ports: &[("http", 3000)],
        user: Some(472),
        fs_group: Some(472),
        readiness: Check::Http("/api/health", "http"),
        liveness: Check::Http("/api/health", "http"),
    }],
};

#[cfg(test)]
mod tests;
