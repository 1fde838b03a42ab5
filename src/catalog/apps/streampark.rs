//! Apache StreamPark, a console for developing and running Flink jobs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order, object};
use k8s_openapi::api::core::v1::Probe;

use crate::catalog::workload::{Workload, config_map_volume, http_probe};

use crate::catalog::contract::{Check, ContainerContract, Contract};
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
    contract: &CONTRACT,
};

/// The chart's probe: `/actuator/health/liveness` after 45 s, every 30 s,
/// 20 s to answer, three failures (apache/incubator-streampark v2.1.5
/// `helm/streampark/values.yaml`).
fn health_probe() -> Probe {
    Probe {
        initial_delay_seconds: Some(45),
        period_seconds: Some(30),
        timeout_seconds: Some(20),
        failure_threshold: Some(3),
        ..http_probe("/actuator/health/liveness", "http")
    }
}

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
        // As StreamPark's chart: Spring's liveness endpoint for both probes.
        readiness: Some(health_probe()),
        liveness: Some(health_probe()),
        ..Workload::default()
    };
    let mut objects = console.render(input)?;
    objects.push(object(&config_map)?);
    Ok(in_apply_order(objects))
}

/// StreamPark's contract with the `apache/streampark` image (2.1.5).
///
/// | | console (Deployment) |
/// |---|---|
/// | image | `apache/streampark:<version>`, the offered release |
/// | entrypoint | the image's: `tini -- /streampark/bin/streampark.sh start_docker` |
/// | env | `SPRING_DATASOURCE_PASSWORD` (Spring's binding of `spring.datasource.password`, which `config.yaml` leaves out) |
/// | files | `/streampark/conf/config.yaml` (`datasource.dialect`, `username`, `url`; `server.port`) |
/// | ports | `http` 10000 |
/// | user | the image's (root; it sets no USER) |
/// | probes | `/actuator/health/liveness` on 10000, as the chart |
pub(super) const CONTRACT: Contract = Contract {
    tags: "the offered release tag (2.1.5)",
    first_start: "with dialect mysql StreamPark creates no tables (only H2 gets its schema \
                  script): script/schema/mysql-schema.sql and script/data/mysql-data.sql \
                  must be loaded into its database first",
    lacks: "MySQL Connector/J: the console refuses datasource.dialect mysql without \
            com.mysql.cj.jdbc.Driver in /streampark/lib (not shipped for its license)",
    sources: &[
        "apache/incubator-streampark v2.1.5 (ae5b84bc) docker/Dockerfile (ENTRYPOINT tini -- \
         streampark.sh start_docker; no USER)",
        "apache/incubator-streampark v2.1.5 streampark-console/streampark-console-service/\
         src/main/assembly/conf/config.yaml (server.port 10000, datasource.*)",
        "apache/incubator-streampark v2.1.5 .../console/base/config/SpringProperties.java \
         (conf/config.yaml; MySQL driver check; H2-only schema init)",
        "apache/incubator-streampark v2.1.5 helm/streampark/values.yaml and \
         templates/streampark.yml (probes /actuator/health/liveness, 45/30/20/3)",
    ],
    containers: &[ContainerContract {
        kind: "Deployment",
        suffix: "",
        container: "streampark",
        image: "apache/streampark",
        command: &[],
        args: &[],
        env: &["SPRING_DATASOURCE_PASSWORD"],
        mounts: &["/streampark/conf/config.yaml"],
        library_dir: None,
        ports: &[("http", 10000)],
        user: None,
        fs_group: None,
        readiness: Check::Http("/actuator/health/liveness", "http"),
        liveness: Check::Http("/actuator/health/liveness", "http"),
    }],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::contract::testing::{render, resolved};
    use crate::catalog::contract::{Coverage, violations};
    use serde_json::json;

    #[test]
    fn streampark_keeps_its_contract() {
        let objects = render(
            &DEFINITION,
            &[("mysql", "mysql-main")],
            &[("mysql", resolved("mysql-main", json!({})))],
        );
        let faults = violations(&CONTRACT, "streampark-main", &objects, Coverage::Exact);
        assert!(faults.is_empty(), "{faults:#?}");
        let config = objects.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
        let file = config["data"]["config.yaml"].as_str().unwrap();
        for key in ["dialect: mysql", "username:", "url:", "port: 10000"] {
            assert!(file.contains(key), "config.yaml has {key}: {file}");
        }
        assert!(
            !file.contains("password"),
            "the password comes from the environment"
        );
    }
}
