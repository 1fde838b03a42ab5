//! MySQL, the database of StreamPark and the Hive metastore.

use k8s_openapi::api::core::v1::EnvVar;

use crate::catalog::render::{Object, RenderError, RenderInput, Resolved, in_apply_order};
use crate::catalog::workload::{
    Workload, env_from_secret, exec_probe, generated_secret, run_as, timed,
};

use crate::catalog::contract::{Check, ContainerContract, Contract};
use crate::catalog::params::Param;
use crate::catalog::{AppDefinition, Category, no_rules};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "mysql",
    display_name: "MySQL",
    icon: "My",
    category: Category::Database,
    summary: "Relational database (port 3306) for StreamPark and the Hive metastore.",
    description: "A single MySQL server in a StatefulSet with a persistent volume. Its root \
        and application passwords are generated at install and kept in a Kubernetes Secret.",
    versions: &["8.4", "8.0"],
    version_notes: &[],
    dependencies: &[],
    web_ui: None,
    homepage: "https://www.mysql.com/",
    groups: &[],
    params: &[
        Param::cpu("cpu", "CPU", "1", "Cores of the MySQL server."),
        Param::bytes(
            "memory",
            "Memory",
            "1Gi",
            ("512Mi", "64Gi"),
            "Memory of the MySQL server.",
        ),
        Param::bytes(
            "storage",
            "Storage",
            "20Gi",
            ("1Gi", "10Ti"),
            "Persistent volume of the MySQL server.",
        ),
        Param::secret(
            "rootPassword",
            "Root password",
            "root-password",
            "Kept in a Secret; leave empty to generate one.",
        ),
    ],
    rules: no_rules,
    scope: None,
    render,
    contract: &CONTRACT,
};

/// The image of an offered line: a fixed patch release of the official
/// image (docker-library/mysql `8.4/Dockerfile.oracle` at 3447d2db,
/// `MYSQL_VERSION 8.4.10`; `8.0/Dockerfile.debian`, `MYSQL_VERSION 8.0.40`):
/// `mysql:8.4` and `mysql:8.0` move with every release.
pub(super) fn image(version: &str) -> Option<String> {
    let patch = match version {
        "8.4" => "8.4.10",
        "8.0" => "8.0.40",
        _ => return None,
    };
    Some(format!("mysql:{patch}"))
}

/// One MySQL server with a generated root password.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let secret = format!("{}-credentials", input.target.name);
    let server = Workload {
        replicas: 1,
        image: image(&input.target.version).ok_or(RenderError::Missing("version"))?,
        ports: vec![("mysql", 3306)],
        env: vec![env_from_secret(
            "MYSQL_ROOT_PASSWORD",
            &secret,
            "root-password",
        )],
        cpu: Some(input.text("cpu")?.into()),
        memory: Some(input.text("memory")?.into()),
        storage: Some((input.text("storage")?.into(), "/var/lib/mysql")),
        // Ready: the server answers a query over TCP (the image's first-start
        // server listens on its socket only). Alive: it answers a ping on its
        // socket, which the first-start server does too.
        readiness: Some(exec_probe(
            "mysql -h 127.0.0.1 -uroot -p\"$MYSQL_ROOT_PASSWORD\" -e 'SELECT 1'",
        )),
        liveness: Some(timed(exec_probe("mysqladmin ping --silent"), 30, 10, 6)),
        pod_security: Some(run_as(999, 999, 999)),
        ..Workload::default()
    };
    let mut objects = server.render(input)?;
    objects.push(generated_secret(input, "credentials", &["root-password"])?);
    Ok(in_apply_order(objects))
}

/// The JDBC address of `database` on a MySQL instance, created on first use.
pub(super) fn jdbc_url(mysql: &Resolved, database: &str) -> String {
    format!(
        "jdbc:mysql://{}.{}.svc:3306/{database}?createDatabaseIfNotExist=true&useSSL=false&allowPublicKeyRetrieval=true",
        mysql.name, mysql.namespace
    )
}

/// An environment variable holding a MySQL instance's root password, from its Secret.
pub(super) fn root_password_env(variable: &str, mysql: &Resolved) -> EnvVar {
    env_from_secret(
        variable,
        &format!("{}-credentials", mysql.name),
        "root-password",
    )
}

/// MySQL's contract with the official `mysql` image.
///
/// | | server (StatefulSet) |
/// |---|---|
/// | image | `mysql:<major.minor.patch>` ([`image`]) |
/// | entrypoint | the image's: `docker-entrypoint.sh mysqld` |
/// | env | `MYSQL_ROOT_PASSWORD` |
/// | files | `/var/lib/mysql` (the data directory) |
/// | ports | `mysql` 3306 |
/// | user | 999 (`mysql`), fsGroup 999 |
/// | probes | ready: a query over TCP; live: `mysqladmin ping` on the socket |
pub(super) const CONTRACT: Contract = Contract {
    tags: "a fixed patch release per offered line (8.4 → 8.4.10, 8.0 → 8.0.40)",
    first_start: "with an empty data directory the entrypoint initialises it, sets the root \
                  password and runs /docker-entrypoint-initdb.d once",
    lacks: "nothing dataport asks of it",
    sources: &[
        "docker-library/mysql 8.4/Dockerfile.oracle @3447d2db (uid/gid 999, MYSQL_VERSION \
         8.4.10, ENTRYPOINT docker-entrypoint.sh, CMD mysqld, EXPOSE 3306 33060)",
        "docker-library/mysql 8.0/Dockerfile.debian (MYSQL_VERSION 8.0.40)",
        "docker-library/mysql 8.4/docker-entrypoint.sh @319db566 (MYSQL_ROOT_PASSWORD, initdb)",
    ],
    containers: &[ContainerContract {
        kind: "StatefulSet",
        suffix: "",
        container: "mysql",
        image: "mysql",
        command: &[],
        args: &[],
        env: &["MYSQL_ROOT_PASSWORD"],
        mounts: &["/var/lib/mysql"],
        library_dir: None,
        ports: &[("mysql", 3306)],
        user: Some(999),
        fs_group: Some(999),
        readiness: Check::Exec("-e 'SELECT 1'"),
        liveness: Check::Exec("mysqladmin ping"),
    }],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::contract::testing::{render, render_version};
    use crate::catalog::contract::{Coverage, violations};

    #[test]
    fn mysql_keeps_its_contract() {
        let objects = render(&DEFINITION, &[], &[]);
        let faults = violations(&CONTRACT, "mysql-main", &objects, Coverage::Exact);
        assert!(faults.is_empty(), "{faults:#?}");
    }

    #[test]
    fn every_offered_line_runs_a_fixed_patch_release() {
        for version in DEFINITION.versions {
            let image = image(version).unwrap();
            assert!(image.starts_with(&format!("mysql:{version}.")), "{image}");
            let objects = render_version(&DEFINITION, version, &[], &[]);
            let server = objects.iter().find(|o| o["kind"] == "StatefulSet").unwrap();
            assert_eq!(
                server["spec"]["template"]["spec"]["containers"][0]["image"],
                image
            );
        }
        assert_eq!(image("8"), None);
    }
}
