//! Grafana with the dashboards dataport provisions for Flink and StreamPark.

use crate::catalog::{AppDefinition, Category};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "monitoring",
    display_name: "Grafana monitoring",
    icon: "Gr",
    category: Category::Monitoring,
    summary: "Grafana (port 3000) with Flink and StreamPark dashboards provisioned.",
    description: "A Grafana server and the dashboards dataport provisions for it \
        (ConfigMaps labelled grafana_dashboard). Each Flink instance page deep-links its \
        dashboard, filtered to that cluster, from More operations.",
    versions: &["12.0.0", "11.6.0"],
    dependencies: &[],
    web_ui: Some("Grafana (port 3000)"),
    homepage: "https://grafana.com/oss/grafana/",
};
