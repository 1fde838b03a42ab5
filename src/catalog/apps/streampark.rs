//! Apache StreamPark, a console for developing and running Flink jobs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order, object};
use crate::catalog::workload::{Workload, config_map_volume, tcp_probe, timed};

use crate::catalog::params::Param;
use crate::catalog::{AppDefinition, Category, Dependency, Need, WebUi, no_rules};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "streampark",
    display_name: "Apache StreamPark",
    icon: "SP",
    category: Category::Development,
    summary: "A web console to develop, deploy and watch Flink jobs.",
    description: "StreamPark gives data teams a console to write Flink SQL and JAR jobs, \
        deploy them to Flink clusters, and follow their state, checkpoints and alerts. It \
        keeps its projects and job history in MySQL.",
    versions: &["2.1.5"],
    version_notes: &[],
    dependencies: &[Dependency {
        app: "mysql",
        need: Need::Required,
        purpose: "StreamPark's own database",
    }],
    web_ui: Some(WebUi {
        label: "StreamPark console",
        service_suffix: "",
        port: 10000,
        note: Some("Default login admin / streampark: change this password at first login."),
        public_url_param: None,
    }),
    homepage: "https://streampark.apache.org/",
    params: &[
        Param::reference(
            "mysql",
            "MySQL",
            "mysql",
            &[],
            "The MySQL instance that holds StreamPark's database.",
        ),
        Param::cpu("cpu", "CPU", "1", "Cores of the StreamPark console."),
        Param::bytes(
            "memory",
            "Memory",
            "2Gi",
            ("1Gi", "32Gi"),
            "Memory of the StreamPark console.",
        ),
    ],
    rules: no_rules,
    scope: None,
    render,
};

/// The StreamPark console on the referenced MySQL. Its datasource is in
/// `config.yaml` (a ConfigMap) without the password, which comes from MySQL's
/// Secret through the environment.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let mysql = input.reference("mysql")?;
    let url = super::mysql::jdbc_url(mysql, "streampark");
    let config = format!(
        "datasource:\n  dialect: mysql\n  username: root\n  url: \"{url}\"\nserver:\n  port: 10000\n"
    );
    let config_map = ConfigMap {
        metadata: input.metadata(format!("{}-config", input.target.name)),
        data: Some(BTreeMap::from([("config.yaml".to_owned(), config)])),
        ..ConfigMap::default()
    };
    let console = Workload {
        replicas: 1,
        image: format!("apache/streampark:{}", input.target.version),
        ports: vec![("http", 10000)],
        env: vec![super::mysql::root_password_env(
            "SPRING_DATASOURCE_PASSWORD",
            mysql,
        )],
        cpu: Some(input.text("cpu")?.into()),
        memory: Some(input.text("memory")?.into()),
        volumes: vec![config_map_volume(
            "config",
            format!("{}-config", input.target.name),
            "/streampark/conf/config.yaml",
            Some("config.yaml"),
        )],
        // StreamPark's chart enables both probes with these timings
        // (apache/incubator-streampark `deploy/helm/streampark/values.yaml`).
        readiness: Some(timed(tcp_probe("http"), 90, 30, 3)),
        liveness: Some(timed(tcp_probe("http"), 90, 30, 3)),
        ..Workload::default()
    };
    let mut objects = console.render(input)?;
    objects.push(object(&config_map)?);
    Ok(in_apply_order(objects))
}
