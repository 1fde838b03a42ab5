//! Apache StreamPark, a console for developing and running Flink jobs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Container, EmptyDirVolumeSource, Volume, VolumeMount};

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order, object};
use k8s_openapi::api::core::v1::Probe;

use crate::catalog::workload::{
    Workload, config_map_volume, env_from_secret, generated_secret, http_probe,
};

use crate::catalog::contract::{Check, ContainerContract, Contract};
use crate::catalog::libraries;
use crate::catalog::params::{IMAGE_LAST, Param, ParamKind};
use crate::catalog::{AppDefinition, Category, Dependency, FieldErrors, Need, Values, WebUi};

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
        name: "streampark",
        label: "StreamPark console",
        service_suffix: "",
        port: 10000,
        note: Some("Default login admin / streampark: change this password at first login."),
        public_url_param: None,
        serves_proxy_path: false,
        service_param: None,
    }),
    homepage: "https://streampark.apache.org/",
    groups: IMAGE_LAST,
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
        Param {
            key: "image",
            label: "Image",
            help: "Empty for the stock apache/streampark image of the chosen version. A custom \
                image must be built on it and name a fixed tag.",
            kind: ParamKind::Text { max_len: 200 },
            default: Some(""),
            shown_when: &[],
        },
        Param {
            key: "extraLibraries",
            label: "Extra libraries",
            help: "Jars the stock image lacks, fetched into /streampark/lib before the console \
                starts: https URLs separated by commas or spaces, each optionally ending in \
                #sha256=<hex>. The stock image has no MySQL JDBC driver: give mysql-connector-j.",
            kind: ParamKind::Text { max_len: 4000 },
            default: Some(""),
            shown_when: &[],
        },
    ],
    rules,
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

/// With the stock image the MySQL JDBC driver is among the libraries.
fn rules(version: &str, values: &Values) -> FieldErrors {
    libraries::mysql_driver_rules(values, &format!("apache/streampark:{version}"))
}

/// The image's home (`streampark.sh` runs from it; `conf/`, `lib/`, `script/`).
const HOME: &str = "/streampark";
/// Where the first init container leaves the schema for the second.
const SCHEMA_DIR: &str = "/schema";

/// StreamPark's own database and user on the referenced MySQL: named after
/// the instance (MySQL user names are at most 32 characters).
fn database_and_user(name: &str) -> (String, String) {
    let name = name.replace('-', "_");
    let user: String = format!("streampark_{name}").chars().take(32).collect();
    (format!("streampark_{name}"), user)
}

/// The StreamPark console on the referenced MySQL, in a database and with a
/// user of its own. `config.yaml` (the file 2.1.5 reads, a ConfigMap) names
/// the datasource without the password, which comes from the instance's own
/// Secret through the environment. Before the console starts, two init
/// containers prepare the database: the StreamPark image copies its MySQL
/// schema and data scripts, pointed at the instance's database; the MySQL
/// image creates the database and the user (as MySQL's root) and loads the
/// scripts once, while the database has no table.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let name = &input.target.name;
    let mysql = input.reference("mysql")?;
    let (database, user) = database_and_user(name);
    let url = super::mysql::jdbc_url(mysql, &database);
    let config = format!(
        "datasource:\n  dialect: mysql\n  username: {user}\n  url: \"{url}\"\nserver:\n  port: 10000\n"
    );
    let config_map = ConfigMap {
        metadata: input.metadata(format!("{name}-config")),
        data: Some(BTreeMap::from([("config.yaml".to_owned(), config)])),
        ..ConfigMap::default()
    };
    let image = match input.text_or_empty("image").trim() {
        "" => format!("apache/streampark:{}", input.target.version),
        custom => custom.to_owned(),
    };
    let secret = format!("{name}-database");
    let schema_mount = VolumeMount {
        name: "schema".into(),
        mount_path: SCHEMA_DIR.into(),
        ..VolumeMount::default()
    };
    // The scripts create and use a database named `streampark`: point them at ours.
    let copy_schema = format!(
        "sed -e '/^create database/d' -e 's/^use streampark;/use `{database}`;/' \
         {HOME}/script/schema/mysql-schema.sql > {SCHEMA_DIR}/schema.sql && \
         sed -e 's/^use streampark;/use `{database}`;/' \
         {HOME}/script/data/mysql-data.sql > {SCHEMA_DIR}/data.sql"
    );
    let host = format!("{}.{}.svc", mysql.name, mysql.namespace);
    let prepare_database = format!(
        "set -eu; q() {{ mysql -h {host} -uroot -p\"$MYSQL_ROOT_PASSWORD\" \"$@\"; }}; \
         until q -e 'SELECT 1' >/dev/null 2>&1; do sleep 2; done; \
         q -e \"CREATE DATABASE IF NOT EXISTS \\`{database}\\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci; \
         CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '$STREAMPARK_PASSWORD'; \
         ALTER USER '{user}'@'%' IDENTIFIED BY '$STREAMPARK_PASSWORD'; \
         GRANT ALL PRIVILEGES ON \\`{database}\\`.* TO '{user}'@'%';\"; \
         if [ -z \"$(q -N -e \"SELECT 1 FROM information_schema.tables WHERE table_schema='{database}' LIMIT 1\")\" ]; \
         then q < {SCHEMA_DIR}/schema.sql && q < {SCHEMA_DIR}/data.sql; fi"
    );
    let mut init_containers = vec![
        Container {
            name: "copy-schema".into(),
            image: Some(image.clone()),
            command: Some(vec!["sh".into(), "-c".into(), copy_schema]),
            volume_mounts: Some(vec![schema_mount.clone()]),
            ..Container::default()
        },
        Container {
            name: "prepare-database".into(),
            image: super::mysql::image("8.4"),
            command: Some(vec!["sh".into(), "-c".into(), prepare_database]),
            env: Some(vec![
                super::mysql::root_password_env("MYSQL_ROOT_PASSWORD", mysql),
                env_from_secret("STREAMPARK_PASSWORD", &secret, "password"),
            ]),
            volume_mounts: Some(vec![schema_mount]),
            ..Container::default()
        },
    ];
    let mut volumes = vec![config_map_volume(
        "config",
        format!("{name}-config"),
        "/streampark/conf/config.yaml",
        Some("config.yaml"),
    )];
    let listed = libraries::parse(input.text_or_empty("extraLibraries"))
        .map_err(|_| RenderError::Missing("extraLibraries"))?;
    if let Some((fetcher, volume, mounts)) = libraries::fetch(&listed, LIB_DIR) {
        init_containers.push(fetcher);
        volumes.extend(mounts.into_iter().map(|mount| (volume.clone(), mount)));
    }
    let console = Workload {
        replicas: 1,
        image,
        ports: vec![("http", 10000)],
        env: vec![env_from_secret(
            "SPRING_DATASOURCE_PASSWORD",
            &secret,
            "password",
        )],
        cpu: Some(input.text("cpu")?.into()),
        memory: Some(input.text("memory")?.into()),
        volumes,
        init_containers,
        init_volumes: vec![Volume {
            name: "schema".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        }],
        // As StreamPark's chart: Spring's liveness endpoint for both probes.
        readiness: Some(health_probe()),
        liveness: Some(health_probe()),
        ..Workload::default()
    };
    let mut objects = console.render(input)?;
    objects.push(object(&config_map)?);
    objects.push(generated_secret(input, "database", &["password"])?);
    Ok(in_apply_order(objects))
}

/// The image's library folder, on the console's classpath (`streampark.sh`
/// adds every jar of `$APP_HOME/lib`).
const LIB_DIR: &str = "/streampark/lib";

/// StreamPark's contract with the `apache/streampark` image (2.1.5).
///
/// | | console (Deployment) |
/// |---|---|
/// | image | `apache/streampark:<version>`, the offered release |
/// | entrypoint | the image's: `tini -- /streampark/bin/streampark.sh start_docker` |
/// | env | `SPRING_DATASOURCE_PASSWORD` (Spring's binding of `spring.datasource.password`, which `config.yaml` leaves out), from the instance's own Secret |
/// | files | `/streampark/conf/config.yaml` (`datasource.dialect`, `username`, `url`; `server.port`); extra jars in `/streampark/lib` |
/// | first start | init containers: `copy-schema` (this image's `script/schema/mysql-schema.sql` and `script/data/mysql-data.sql`, pointed at the instance's database), `prepare-database` (MySQL's image: database and user of its own, scripts loaded while no table exists) |
/// | ports | `http` 10000 |
/// | user | the image's (root; it sets no USER) |
/// | probes | `/actuator/health/liveness` on 10000, as the chart |
pub(super) const CONTRACT: Contract = Contract {
    tags: "the offered release tag (2.1.5)",
    first_start: "with dialect mysql StreamPark creates no tables (only H2 gets its schema \
                  script): its script/schema/mysql-schema.sql and script/data/mysql-data.sql \
                  (which create and use a database named streampark) are loaded into the \
                  instance's own database by the init containers, once",
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
        "apache/incubator-streampark v2.1.5 .../assembly/assembly.xml (script/ shipped in the \
         distribution) and .../assembly/script/schema/mysql-schema.sql (create database \
         streampark; use streampark)",
        "apache/incubator-streampark v2.1.5 .../assembly/bin/streampark.sh (APP_LIB jars on \
         the classpath)",
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
        library_dir: Some(LIB_DIR),
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
    use crate::catalog::params::raw;
    use serde_json::json;

    const DRIVER: &str = "https://repo.example/mysql-connector-j-8.4.0.jar";

    fn rendered() -> Vec<serde_json::Value> {
        render(
            &DEFINITION,
            &[("mysql", "mysql-main"), ("extraLibraries", DRIVER)],
            &[("mysql", resolved("mysql-main", json!({})))],
        )
    }

    #[test]
    fn streampark_keeps_its_contract() {
        let objects = rendered();
        let faults = violations(&CONTRACT, "streampark-main", &objects, Coverage::Exact);
        assert!(faults.is_empty(), "{faults:#?}");
        let config = objects.iter().find(|o| o["kind"] == "ConfigMap").unwrap();
        let file = config["data"]["config.yaml"].as_str().unwrap();
        for key in [
            "dialect: mysql",
            "username: streampark_streampark_main",
            "url: \"jdbc:mysql://mysql-main.data.svc:3306/streampark_streampark_main?",
            "port: 10000",
        ] {
            assert!(file.contains(key), "config.yaml has {key}: {file}");
        }
        assert!(
            !file.contains("password"),
            "the password comes from the environment"
        );
    }

    #[test]
    fn streampark_gets_a_database_and_a_user_of_its_own_with_its_schema() {
        let objects = rendered();
        let secret = objects.iter().find(|o| o["kind"] == "Secret").unwrap();
        assert_eq!(secret["metadata"]["name"], "streampark-main-database");
        let pod = &objects.iter().find(|o| o["kind"] == "Deployment").unwrap()["spec"]["template"]
            ["spec"];
        let env = &pod["containers"][0]["env"][0];
        assert_eq!(
            env["valueFrom"]["secretKeyRef"]["name"],
            "streampark-main-database"
        );
        let names: Vec<&str> = pod["initContainers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["copy-schema", "prepare-database", "fetch-libraries"]
        );
        let copy = pod["initContainers"][0]["command"][2].as_str().unwrap();
        assert!(copy.contains("/streampark/script/schema/mysql-schema.sql"));
        assert!(copy.contains("use `streampark_streampark_main`;"));
        let prepare = &pod["initContainers"][1];
        assert_eq!(prepare["image"], "mysql:8.4.10");
        let script = prepare["command"][2].as_str().unwrap();
        for step in [
            "CREATE DATABASE IF NOT EXISTS",
            "CREATE USER IF NOT EXISTS 'streampark_streampark_main'@'%'",
            "GRANT ALL PRIVILEGES ON",
            "table_schema='streampark_streampark_main'",
            "q < /schema/schema.sql && q < /schema/data.sql",
        ] {
            assert!(script.contains(step), "{step} in {script}");
        }
        assert!(
            !script.contains("root-password"),
            "the root password stays in the environment"
        );
        assert_eq!(
            database_and_user("a-very-long-streampark-instance-name-here")
                .1
                .len(),
            32,
            "MySQL user names are at most 32 characters"
        );
    }

    #[test]
    fn the_stock_image_needs_the_mysql_driver() {
        let errors = DEFINITION
            .validate("2.1.5", &raw(&[("mysql", "m")]))
            .unwrap_err();
        assert!(errors["extraLibraries"].contains("apache/streampark:2.1.5"));
        assert!(errors["extraLibraries"].contains("mysql-connector-j-8.4.0.jar"));
    }
}
