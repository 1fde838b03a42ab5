//! The flink-kubernetes-operator, which turns FlinkDeployments into clusters.

use crate::catalog::{AppDefinition, Category};

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
};
