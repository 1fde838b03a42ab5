//! The flink-kubernetes-operator, which turns FlinkDeployments and
//! FlinkSessionJobs into clusters and jobs, rendered as its official Helm
//! chart deploys it with a list of namespaces to watch.
//!
//! Source: flink-kubernetes-operator release-1.15.0,
//! `helm/flink-kubernetes-operator/templates/controller/deployment.yaml`
//! (docs/flink-docs/flink-operator-facts.md §1). Not rendered: the optional
//! admission webhook (it needs cert-manager; the operator's controller runs
//! the same validation and reports it in `status.error`).

mod configuration;
mod contract;
mod rbac;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, HTTPGetAction, KeyToPath, ObjectFieldSelector, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use crate::catalog::jobs::{ArtifactRules, JAR_SCHEMES};
use crate::catalog::params::{Param, ParamKind, is_dns_label};
use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order, object};
use crate::catalog::{AppDefinition, Category, FieldErrors, NamespaceScope, Values};
use crate::crd::FlinkVersion;
pub use configuration::{ARTIFACTS_DIR, HEALTH_PORT, METRICS_PORT};
pub use rbac::{OPERATOR_RULES, Rule, grant_name};

/// The app's name in the catalog.
pub const APP: &str = "flink-kubernetes-operator";

/// Operator versions offered, the default first. 1.14.0 is the only 1.14
/// release (no 1.14.x patch exists).
pub const VERSIONS: &[&str] = &["1.15.0", "1.14.0"];

/// The Flink versions an operator version runs: `FlinkVersion.isSupported`
/// (≥ `v1_15`) within the `flinkVersion` enum of the CRDs it ships (up to
/// `v2_2` in both 1.14.0 and 1.15.0; docs/flink-operator-facts.md §5).
const SUPPORTED_FLINK: &[(&str, &[FlinkVersion])] =
    &[("1.15.0", V1_15_TO_V2_2), ("1.14.0", V1_15_TO_V2_2)];

const V1_15_TO_V2_2: &[FlinkVersion] = &[
    FlinkVersion::v1_15,
    FlinkVersion::v1_16,
    FlinkVersion::v1_17,
    FlinkVersion::v1_18,
    FlinkVersion::v1_19,
    FlinkVersion::v1_20,
    FlinkVersion::v2_0,
    FlinkVersion::v2_1,
    FlinkVersion::v2_2,
];

/// Most namespaces one operator watches (each gets a Role and RoleBinding).
pub const MAX_WATCHED_NAMESPACES: usize = 20;

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: APP,
    display_name: "Flink Kubernetes Operator",
    icon: "Op",
    category: Category::Compute,
    summary: "Runs Flink clusters and jobs from FlinkDeployment and FlinkSessionJob resources.",
    description: "The Apache Flink Kubernetes operator watches FlinkDeployment and \
        FlinkSessionJob resources and creates, upgrades, savepoints and tears down the Flink \
        clusters and jobs they describe. Every Flink instance needs one; one operator serves \
        the namespaces it watches (its own by default).",
    versions: VERSIONS,
    version_notes: &[],
    dependencies: &[],
    web_ui: None,
    homepage: "https://nightlies.apache.org/flink/flink-kubernetes-operator-docs-stable/",
    groups: &[],
    params: &[
        Param::int(
            "replicas",
            "Replicas",
            "1",
            (1, 3),
            "Operator pods; with more than one they elect a leader through a Lease.",
        ),
        Param::cpu("cpu", "CPU", "500m", "Cores per operator pod."),
        Param::bytes(
            "memory",
            "Memory",
            "1Gi",
            ("256Mi", "16Gi"),
            "Memory per operator pod.",
        ),
        Param {
            key: "watchedNamespaces",
            label: "Watched namespaces",
            help: "Namespaces whose Flink clusters and jobs this operator runs, separated by \
                commas, e.g. data,analytics (at most 20). Empty: this instance's namespace. \
                The operator gets a role in each; Flink instances there can pick it.",
            kind: ParamKind::Text { max_len: 1300 },
            default: Some(""),
            shown_when: &[],
        },
        Param {
            key: "allowedJarSchemes",
            label: "Allowed jar URI schemes",
            help: "Schemes a session job's JAR URI may use, separated by commas: https, http, \
                s3, s3a, s3p, hdfs, gs, abfss, file, local. The operator downloads the jar \
                itself and uploads it to the session cluster, so file:// and local:// name \
                files in the operator's pod, not in the Flink image.",
            kind: ParamKind::Text { max_len: 100 },
            default: Some("https"),
            shown_when: &[],
        },
        Param::toggle(
            "allowPrivateHosts",
            "Allow in-cluster and private hosts",
            "Let session jobs download their jar over http(s) from in-cluster services, \
             localhost and private addresses. Off, the operator refuses hosts that resolve to \
             loopback, link-local, private, wildcard or multicast addresses.",
        ),
    ],
    rules,
    scope: Some(NamespaceScope {
        param: "watchedNamespaces",
        namespaces: watched_namespaces,
    }),
    render,
    contract: &contract::CONTRACT,
};

fn text<'a>(values: &'a Values, key: &str) -> &'a str {
    values.get(key).and_then(Value::as_str).unwrap_or("")
}

fn list(text: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if !items.iter().any(|seen| seen == item) {
            items.push(item.to_owned());
        }
    }
    items
}

/// The namespaces an operator with `values` watches: the listed ones, or
/// its own (`own_namespace`) when none are listed.
pub fn watched_namespaces(own_namespace: &str, values: &Values) -> Vec<String> {
    let listed = list(text(values, "watchedNamespaces"));
    if listed.is_empty() {
        vec![own_namespace.to_owned()]
    } else {
        listed
    }
}

/// The session-job artifact rules of an operator with `values`.
pub fn artifact_rules(values: &Values) -> ArtifactRules {
    let schemes = list(&text(values, "allowedJarSchemes").to_ascii_lowercase());
    ArtifactRules {
        allowed_schemes: if schemes.is_empty() {
            vec!["https".to_owned()]
        } else {
            schemes
        },
        disallow_restricted_hosts: values.get("allowPrivateHosts") != Some(&Value::Bool(true)),
    }
}

/// Why an operator `operator` of `operator_version` cannot run Flink
/// `flink_version`, if it cannot.
pub fn flink_version_error(
    operator: &str,
    operator_version: &str,
    flink_version: FlinkVersion,
    flink_label: &str,
) -> Option<String> {
    let supported = SUPPORTED_FLINK
        .iter()
        .find(|(version, _)| *version == operator_version)
        .map_or(&[][..], |(_, supported)| supported);
    (!supported.contains(&flink_version)).then(|| {
        format!(
            "Flink {flink_label} is not supported by operator {operator} (version \
             {operator_version}): choose another version or another operator"
        )
    })
}

/// Why a comma-separated list of namespaces to watch (`raw`) is refused: a
/// name that is not a DNS label, or more than [`MAX_WATCHED_NAMESPACES`].
pub(crate) fn namespace_list_error(raw: &str) -> Option<String> {
    let listed: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .collect();
    if let Some(bad) = listed.iter().find(|ns| !is_dns_label(ns, 63)) {
        Some(format!(
            "{bad:?} is not a namespace name: 1 to 63 lowercase letters, digits and \
             hyphens, starting with a letter"
        ))
    } else if list(raw).len() > MAX_WATCHED_NAMESPACES {
        Some(format!("At most {MAX_WATCHED_NAMESPACES} namespaces"))
    } else {
        None
    }
}

/// Watched namespaces must be DNS labels, at most [`MAX_WATCHED_NAMESPACES`],
/// each once; jar schemes must be ones Flink can fetch from.
fn rules(_version: &str, values: &Values) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Some(error) = namespace_list_error(text(values, "watchedNamespaces")) {
        errors.insert("watchedNamespaces".into(), error);
    }
    let schemes = text(values, "allowedJarSchemes").to_ascii_lowercase();
    let schemes = list(&schemes);
    if let Some(bad) = schemes.iter().find(|s| !JAR_SCHEMES.contains(&s.as_str())) {
        errors.insert(
            "allowedJarSchemes".into(),
            format!(
                "{bad:?} is not a scheme the operator can fetch a jar from; use {}",
                JAR_SCHEMES.join(", ")
            ),
        );
    } else if schemes.is_empty() && values.contains_key("allowedJarSchemes") {
        errors.insert(
            "allowedJarSchemes".into(),
            "Name at least one scheme, e.g. https".into(),
        );
    }
    errors
}

/// The operator's Deployment and ConfigMap, its ServiceAccount and its
/// Roles and RoleBindings in every watched namespace. The Flink CRDs are
/// cluster-wide and installed by dataport itself (`dataport crds --install`),
/// not per operator.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let name = &input.target.name;
    let replicas =
        i32::try_from(input.int("replicas")?).map_err(|_| RenderError::Missing("replicas"))?;
    let watched = watched_namespaces(&input.target.namespace, &input.values);
    let artifacts = artifact_rules(&input.values);
    let config = configuration::file(&configuration::Settings {
        watched_namespaces: &watched,
        artifacts: &artifacts,
        leader_lease: (replicas > 1).then(|| format!("{name}-leader")),
    });
    let config_map = ConfigMap {
        metadata: input.metadata(format!("{name}-config")),
        data: Some(BTreeMap::from([
            // The chart writes both; its volume projects only flink-conf.yaml,
            // which Flink's loader prefers when both exist.
            ("config.yaml".to_owned(), config.clone()),
            ("flink-conf.yaml".to_owned(), config),
            (
                "log4j-operator.properties".to_owned(),
                configuration::LOG4J_OPERATOR.to_owned(),
            ),
            (
                "log4j-console.properties".to_owned(),
                configuration::LOG4J_CONSOLE.to_owned(),
            ),
        ])),
        ..ConfigMap::default()
    };
    let mut objects = vec![object(&deployment(input, replicas)?)?, object(&config_map)?];
    objects.extend(rbac::render(input, &watched)?);
    Ok(in_apply_order(objects))
}

/// The chart's container name (`.Chart.Name`).
const CONTAINER: &str = "flink-kubernetes-operator";
const CONF_DIR: &str = "/opt/flink/conf";

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

fn env_from_field(name: &str, field: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: field.into(),
                ..ObjectFieldSelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn health_probe() -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/".into()),
            port: IntOrString::String("health-port".into()),
            ..HTTPGetAction::default()
        }),
        ..Probe::default()
    }
}

/// The chart's Deployment. Image: the override the operator's docs give
/// (`apache/flink-kubernetes-operator:<version>`, a pinned release tag); the
/// chart's own default is `ghcr.io/apache/flink-kubernetes-operator` with a
/// commit tag. Probes: the chart's liveness and startup probes on the
/// operator's health port, and a readiness probe on the same endpoint, which
/// the chart leaves out (no Service routes to the operator): with it the
/// Deployment counts an operator available only while it is healthy, which
/// is what dataport's instance status reads.
fn deployment(input: &RenderInput, replicas: i32) -> Result<Deployment, RenderError> {
    let name = &input.target.name;
    let mut labels = input.labels();
    labels.extend(input.selector());
    let memory = input.text("memory")?.to_owned();
    let container = Container {
        name: CONTAINER.into(),
        image: Some(format!(
            "apache/flink-kubernetes-operator:{}",
            input.target.version
        )),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec!["/docker-entrypoint.sh".into(), "operator".into()]),
        ports: Some(vec![
            ContainerPort {
                name: Some("health-port".into()),
                container_port: HEALTH_PORT,
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            },
            ContainerPort {
                name: Some("metrics".into()),
                container_port: METRICS_PORT,
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            },
        ]),
        env: Some(vec![
            env_from_field("OPERATOR_NAMESPACE", "metadata.namespace"),
            env_from_field("HOST_IP", "status.hostIP"),
            env_from_field("POD_IP", "status.podIP"),
            env_from_field("POD_NAME", "metadata.name"),
            env("OPERATOR_NAME", CONTAINER),
            env("FLINK_CONF_DIR", CONF_DIR),
            env("FLINK_PLUGINS_DIR", "/opt/flink/plugins"),
            env("LOGGING_FRAMEWORK", "log4j2"),
            env(
                "LOG_CONFIG",
                "-Dlog4j.configurationFile=/opt/flink/conf/log4j-operator.properties",
            ),
            env("JVM_ARGS", ""),
        ]),
        resources: Some(ResourceRequirements {
            requests: Some(BTreeMap::from([
                ("cpu".to_owned(), Quantity(input.text("cpu")?.to_owned())),
                ("memory".to_owned(), Quantity(memory.clone())),
            ])),
            limits: Some(BTreeMap::from([("memory".to_owned(), Quantity(memory))])),
            ..ResourceRequirements::default()
        }),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "flink-operator-config-volume".into(),
                mount_path: CONF_DIR.into(),
                ..VolumeMount::default()
            },
            VolumeMount {
                name: "flink-artifacts-volume".into(),
                mount_path: ARTIFACTS_DIR.into(),
                ..VolumeMount::default()
            },
        ]),
        readiness_probe: Some(health_probe()),
        liveness_probe: Some(Probe {
            initial_delay_seconds: Some(30),
            period_seconds: Some(10),
            ..health_probe()
        }),
        startup_probe: Some(Probe {
            failure_threshold: Some(30),
            period_seconds: Some(10),
            ..health_probe()
        }),
        ..Container::default()
    };
    let items = [
        "flink-conf.yaml",
        "log4j-operator.properties",
        "log4j-console.properties",
    ]
    .into_iter()
    .map(|key| KeyToPath {
        key: key.into(),
        path: key.into(),
        ..KeyToPath::default()
    })
    .collect();
    let pod = PodSpec {
        service_account_name: Some(name.clone()),
        security_context: Some(PodSecurityContext {
            run_as_user: Some(9999),
            run_as_group: Some(9999),
            ..PodSecurityContext::default()
        }),
        containers: vec![container],
        volumes: Some(vec![
            Volume {
                name: "flink-operator-config-volume".into(),
                config_map: Some(ConfigMapVolumeSource {
                    name: format!("{name}-config"),
                    items: Some(items),
                    ..ConfigMapVolumeSource::default()
                }),
                ..Volume::default()
            },
            Volume {
                name: "flink-artifacts-volume".into(),
                empty_dir: Some(EmptyDirVolumeSource::default()),
                ..Volume::default()
            },
        ]),
        ..PodSpec::default()
    };
    let mut metadata = input.metadata(name.clone());
    metadata.labels = Some(labels.clone());
    Ok(Deployment {
        metadata,
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            // One operator at a time: a rolling update would run two.
            strategy: Some(DeploymentStrategy {
                type_: Some("Recreate".into()),
                ..DeploymentStrategy::default()
            }),
            selector: LabelSelector {
                match_labels: Some(input.selector()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(BTreeMap::from([(
                        "kubectl.kubernetes.io/default-container".to_owned(),
                        CONTAINER.to_owned(),
                    )])),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    })
}

#[cfg(test)]
mod tests;
