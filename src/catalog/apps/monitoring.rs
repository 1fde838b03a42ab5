//! Grafana with the dashboards dataport provisions for Flink and StreamPark.

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order};
use crate::catalog::workload::{Workload, env, env_from_secret, generated_secret};

use crate::catalog::params::{Param, ParamKind};
use crate::catalog::{AppDefinition, Category, WebUi, no_rules};

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
    web_ui: Some(WebUi {
        label: "Grafana",
        service_suffix: "",
        port: 3000,
        note: Some(
            "Log in as admin; the password is in the Secret <name>-credentials (key admin-password).",
        ),
    }),
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
            "admin-password",
            "Kept in a Secret; leave empty to generate one.",
        ),
    ],
    rules: no_rules,
    render,
};

/// Grafana with a generated admin password.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let secret = format!("{}-credentials", input.target.name);
    let mut environment = vec![
        env("GF_SECURITY_ADMIN_USER", "admin"),
        env_from_secret("GF_SECURITY_ADMIN_PASSWORD", &secret, "admin-password"),
    ];
    let external_url = input.text("externalUrl")?;
    if !external_url.is_empty() {
        environment.push(env("GF_SERVER_ROOT_URL", external_url));
    }
    let grafana = Workload {
        replicas: 1,
        image: format!("grafana/grafana:{}", input.target.version),
        ports: vec![("http", 3000)],
        env: environment,
        storage: Some((input.text("storage")?.into(), "/var/lib/grafana")),
        ..Workload::default()
    };
    let mut objects = grafana.render(input)?;
    objects.push(generated_secret(input, "credentials", &["admin-password"])?);
    Ok(in_apply_order(objects))
}
