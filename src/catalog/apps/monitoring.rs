//! Grafana with the dashboards dataport provisions for Flink and StreamPark.

use crate::catalog::params::{Param, ParamKind};
use crate::catalog::{AppDefinition, Category, no_rules};

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
    params: &[
        Param {
            key: "externalUrl",
            label: "Public Grafana address",
            help: "The address users open Grafana at (for the instance pages' links); empty for the in-cluster address.",
            kind: ParamKind::Text { max_len: 200 },
            default: Some(""),
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
            "Kept in a Secret; leave empty to generate one.",
        ),
    ],
    rules: no_rules,
};
