//! The flink-kubernetes-operator, which turns FlinkDeployments into clusters.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order, object};
use crate::catalog::workload::{Workload, config_map_volume, env, service_account_with_role};

use crate::catalog::params::Param;
use crate::catalog::{AppDefinition, Category, no_rules};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "flink-kubernetes-operator",
    display_name: "Flink Kubernetes Operator",
    icon: "Op",
    category: Category::Compute,
    summary: "Runs Flink clusters and jobs from FlinkDeployment and FlinkSessionJob resources.",
    description: "The Apache Flink Kubernetes operator watches FlinkDeployment and \
        FlinkSessionJob resources and creates, upgrades, savepoints and tears down the Flink \
        clusters and jobs they describe. Every Flink instance needs one; one operator serves \
        the namespaces it watches.",
    versions: &["1.13.0", "1.12.1"],
    dependencies: &[],
    web_ui: None,
    homepage: "https://nightlies.apache.org/flink/flink-kubernetes-operator-docs-stable/",
    params: &[
        Param::int(
            "replicas",
            "Replicas",
            "1",
            (1, 3),
            "Operator pods; more than one elect a leader.",
        ),
        Param::cpu("cpu", "CPU", "500m", "Cores per operator pod."),
        Param::bytes(
            "memory",
            "Memory",
            "1Gi",
            ("256Mi", "16Gi"),
            "Memory per operator pod.",
        ),
    ],
    rules: no_rules,
    render,
};

/// The operator, watching its own namespace, with the account and role it
/// needs there. The Flink CRDs are cluster-wide and installed by dataport
/// itself (`dataport crds --install`), not per operator.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let name = &input.target.name;
    let namespace = &input.target.namespace;
    let config = format!(
        "kubernetes.operator.watched.namespaces: {namespace}\n\
         kubernetes.operator.metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory\n\
         kubernetes.operator.metrics.reporter.prom.port: 9999\n"
    );
    let config_map = ConfigMap {
        metadata: input.metadata(format!("{name}-config")),
        data: Some(BTreeMap::from([("config.yaml".to_owned(), config)])),
        ..ConfigMap::default()
    };
    let operator = Workload {
        replicas: i32::try_from(input.int("replicas")?)
            .map_err(|_| RenderError::Missing("replicas"))?,
        image: format!("apache/flink-kubernetes-operator:{}", input.target.version),
        args: vec!["operator".into()],
        ports: vec![("metrics", 9999)],
        env: vec![
            env("OPERATOR_NAMESPACE", namespace.clone()),
            env("OPERATOR_NAME", name.clone()),
            env("FLINK_OPERATOR_CONF_DIR", "/opt/flink/operator-conf"),
        ],
        cpu: Some(input.text("cpu")?.into()),
        memory: Some(input.text("memory")?.into()),
        volumes: vec![config_map_volume(
            "config",
            format!("{name}-config"),
            "/opt/flink/operator-conf",
            None,
        )],
        service_account: Some(name.clone()),
        ..Workload::default()
    };
    let mut objects = operator.render(input)?;
    objects.push(object(&config_map)?);
    objects.extend(service_account_with_role(
        input,
        name,
        &[
            (
                &[""],
                &["pods", "services", "events", "configmaps", "secrets"],
            ),
            (
                &["apps"],
                &["deployments", "deployments/finalizers", "replicasets"],
            ),
            (&["networking.k8s.io"], &["ingresses"]),
            (&["coordination.k8s.io"], &["leases"]),
            (
                &["flink.apache.org"],
                &[
                    "flinkdeployments",
                    "flinkdeployments/status",
                    "flinkdeployments/finalizers",
                    "flinksessionjobs",
                    "flinksessionjobs/status",
                    "flinksessionjobs/finalizers",
                ],
            ),
        ],
    )?);
    Ok(in_apply_order(objects))
}
