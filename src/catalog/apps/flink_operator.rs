//! The flink-kubernetes-operator, which turns FlinkDeployments into clusters.

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
};
