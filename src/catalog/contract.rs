//! What each app's image expects of the objects dataport renders for it: one
//! [`Contract`] per catalog app, written next to its render from the image's
//! own sources (Dockerfile, entrypoint), its chart or its docs, and
//! [`violations`], which holds rendered objects to it. A contract is the
//! table; each app's unit test renders its fullest form and checks it, so
//! renaming an environment variable, moving a mount or changing a port fails
//! a test named after the app.

use std::collections::BTreeSet;

use serde_json::Value;

use super::render::is_hashed_name;

/// One app's contract with its image(s).
#[derive(Debug)]
pub struct Contract {
    /// Which tags dataport runs and why they do not move.
    pub tags: &'static str,
    /// What the image needs on its first start, and who provides it.
    pub first_start: &'static str,
    /// What the stock image lacks for what dataport asks of it, and the remedy.
    pub lacks: &'static str,
    /// Where each fact was read: repository, path, tag or commit.
    pub sources: &'static [&'static str],
    /// The containers dataport renders for the app.
    pub containers: &'static [ContainerContract],
}

/// One rendered container and what its image reads.
#[derive(Debug)]
pub struct ContainerContract {
    /// The kind of the object holding it (`StatefulSet`, `Deployment`, `Job`,
    /// `FlinkDeployment`).
    pub kind: &'static str,
    /// The object's name after the instance name (`""`, `-namenode`, ...),
    /// before the hash a Job's name may end with
    /// ([`crate::catalog::render::hashed_name`]).
    pub suffix: &'static str,
    /// The container's name.
    pub container: &'static str,
    /// The image repository, without tag (`minio/minio`).
    pub image: &'static str,
    /// What the rendered command starts with (empty: the image's entrypoint runs).
    pub command: &'static [&'static str],
    /// The rendered arguments (empty: the image's default command runs).
    pub args: &'static [&'static str],
    /// Environment variables the image (or its entrypoint) reads that
    /// dataport sets: the fullest form renders exactly these.
    pub env: &'static [&'static str],
    /// Mount paths: the files and directories the image reads or writes.
    pub mounts: &'static [&'static str],
    /// The image's library folder, where extra libraries (jars the user
    /// lists, fetched by the `fetch-libraries` init container) are mounted
    /// one file each; `None` when the app takes none.
    pub library_dir: Option<&'static str>,
    /// Container ports by name.
    pub ports: &'static [(&'static str, i32)],
    /// The pod's `runAsUser` (the image's user); `None` when dataport leaves
    /// the image's own.
    pub user: Option<i64>,
    /// The pod's `fsGroup`, which makes its volumes writable for that user.
    pub fs_group: Option<i64>,
    /// Readiness check.
    pub readiness: Check,
    /// Liveness check.
    pub liveness: Check,
}

/// A health check as a contract states it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// None rendered (a Job, or a pod another controller builds).
    None,
    /// HTTP GET of a path on a named port.
    Http(&'static str, &'static str),
    /// TCP connection to a named port.
    Tcp(&'static str),
    /// A command whose text contains this.
    Exec(&'static str),
}

/// How strictly [`violations`] compares environment and mounts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Coverage {
    /// The form uses every feature: exactly the contract's names are rendered.
    Exact,
    /// The form leaves features off: the rendered names are among the contract's.
    Within,
}

/// Where `contract` and the objects rendered for instance `instance`
/// disagree, one line each; empty when they keep it.
pub fn violations(
    contract: &Contract,
    instance: &str,
    objects: &[Value],
    coverage: Coverage,
) -> Vec<String> {
    let mut faults = Vec::new();
    for expected in contract.containers {
        let name = format!("{instance}{}", expected.suffix);
        let what = format!("{} {name} container {}", expected.kind, expected.container);
        let Some(object) = objects.iter().find(|o| {
            let rendered = o["metadata"]["name"].as_str().unwrap_or_default();
            o["kind"] == expected.kind && (rendered == name || is_hashed_name(rendered, &name))
        }) else {
            faults.push(format!("{what}: not rendered"));
            continue;
        };
        let pod = match expected.kind {
            "FlinkDeployment" => &object["spec"]["podTemplate"]["spec"],
            _ => &object["spec"]["template"]["spec"],
        };
        let Some(container) = pod["containers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == expected.container)
        else {
            faults.push(format!("{what}: not rendered"));
            continue;
        };
        check_container(
            expected,
            object,
            pod,
            container,
            coverage,
            &what,
            &mut faults,
        );
    }
    faults
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn names(value: &Value, key: &str) -> BTreeSet<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v[key].as_str().map(str::to_owned))
        .collect()
}

fn compare_sets(
    what: &str,
    field: &str,
    rendered: &BTreeSet<String>,
    contract: &[&str],
    coverage: Coverage,
    faults: &mut Vec<String>,
) {
    let contract: BTreeSet<String> = contract.iter().map(|s| s.to_string()).collect();
    for extra in rendered.difference(&contract) {
        faults.push(format!("{what}: {field} {extra} is not in the contract"));
    }
    if coverage == Coverage::Exact {
        for missing in contract.difference(rendered) {
            faults.push(format!("{what}: {field} {missing} is not rendered"));
        }
    }
}

fn check_probe(what: &str, field: &str, probe: &Value, check: Check, faults: &mut Vec<String>) {
    let ok = match check {
        Check::None => probe.is_null(),
        Check::Http(path, port) => {
            probe["httpGet"]["path"] == path && probe["httpGet"]["port"] == port
        }
        Check::Tcp(port) => probe["tcpSocket"]["port"] == port,
        Check::Exec(text) => strings(&probe["exec"]["command"]).join(" ").contains(text),
    };
    if !ok {
        faults.push(format!("{what}: {field} {probe} is not {check:?}"));
    }
}

fn check_container(
    expected: &ContainerContract,
    object: &Value,
    pod: &Value,
    container: &Value,
    coverage: Coverage,
    what: &str,
    faults: &mut Vec<String>,
) {
    // A FlinkDeployment's main container takes the spec's image.
    let image = container["image"]
        .as_str()
        .or_else(|| object["spec"]["image"].as_str())
        .unwrap_or("");
    if image.split_once(':').map(|(repository, _)| repository) != Some(expected.image) {
        faults.push(format!(
            "{what}: image {image} is not {}:<tag>",
            expected.image
        ));
    }
    let command = strings(&container["command"]);
    if !command.starts_with(
        &expected
            .command
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    ) || (expected.command.is_empty() && !command.is_empty())
    {
        faults.push(format!(
            "{what}: command {command:?} is not {:?}",
            expected.command
        ));
    }
    let args = strings(&container["args"]);
    if args != expected.args {
        faults.push(format!("{what}: args {args:?} are not {:?}", expected.args));
    }
    compare_sets(
        what,
        "env",
        &names(&container["env"], "name"),
        expected.env,
        coverage,
        faults,
    );
    let mut mounts = names(&container["volumeMounts"], "mountPath");
    if let Some(dir) = expected.library_dir {
        mounts.retain(|path| !(path.starts_with(&format!("{dir}/")) && path.ends_with(".jar")));
    }
    compare_sets(what, "mount", &mounts, expected.mounts, coverage, faults);
    let ports: Vec<(String, i64)> = container["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or("").to_owned(),
                p["containerPort"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    let expected_ports: Vec<(String, i64)> = expected
        .ports
        .iter()
        .map(|(name, port)| (name.to_string(), i64::from(*port)))
        .collect();
    if ports != expected_ports {
        faults.push(format!(
            "{what}: ports {ports:?} are not {expected_ports:?}"
        ));
    }
    let security = &pod["securityContext"];
    let user = (security["runAsUser"].as_i64(), security["fsGroup"].as_i64());
    let expected_user = (expected.user, expected.fs_group);
    if user != expected_user {
        faults.push(format!(
            "{what}: runAsUser/fsGroup {user:?} are not {expected_user:?}"
        ));
    }
    check_probe(
        what,
        "readinessProbe",
        &container["readinessProbe"],
        expected.readiness,
        faults,
    );
    check_probe(
        what,
        "livenessProbe",
        &container["livenessProbe"],
        expected.liveness,
        faults,
    );
}

/// Rendering an app's form in unit tests: instance `<app>-main` in `data`.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use crate::catalog::AppDefinition;
    use crate::catalog::params::raw;
    use crate::catalog::render::{RenderInput, Resolved, Target};

    /// The namespace of test renders.
    pub const NAMESPACE: &str = "data";

    /// An instance a reference resolves to, with `params`.
    pub fn resolved(name: &str, params: Value) -> Resolved {
        Resolved {
            name: name.into(),
            namespace: NAMESPACE.into(),
            params: serde_json::from_value(params).unwrap_or_default(),
        }
    }

    /// `definition` rendered from `form` at its default version as `<app>-main`.
    pub fn render(
        definition: &AppDefinition,
        form: &[(&str, &str)],
        references: &[(&str, Resolved)],
    ) -> Vec<Value> {
        render_version(definition, definition.default_version(), form, references)
    }

    /// `definition` rendered from `form` at `version` as `<app>-main`.
    pub fn render_version(
        definition: &AppDefinition,
        version: &str,
        form: &[(&str, &str)],
        references: &[(&str, Resolved)],
    ) -> Vec<Value> {
        let values = definition
            .validate(version, &raw(form))
            .unwrap_or_else(|errors| panic!("{}: {errors:?}", definition.name));
        let input = RenderInput {
            target: Target {
                id: uuid::Uuid::nil(),
                app: definition.name,
                name: format!("{}-main", definition.name),
                namespace: NAMESPACE.into(),
                version: version.into(),
            },
            values,
            references: references
                .iter()
                .map(|(k, r)| (k.to_string(), r.clone()))
                .collect::<BTreeMap<_, _>>(),
        };
        (definition.render)(&input).unwrap_or_else(|e| panic!("{}: {e}", definition.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CONTRACT: Contract = Contract {
        tags: "",
        first_start: "",
        lacks: "",
        sources: &[],
        containers: &[ContainerContract {
            kind: "Deployment",
            suffix: "",
            container: "app",
            image: "example/app",
            command: &[],
            args: &["serve"],
            env: &["A", "B"],
            mounts: &["/data"],
            library_dir: None,
            ports: &[("http", 80)],
            user: Some(1000),
            fs_group: Some(1000),
            readiness: Check::Http("/ready", "http"),
            liveness: Check::Tcp("http"),
        }],
    };

    fn deployment(env: &[&str], port: i64) -> Value {
        json!({
            "kind": "Deployment",
            "metadata": {"name": "x"},
            "spec": {"template": {"spec": {
                "securityContext": {"runAsUser": 1000, "fsGroup": 1000},
                "containers": [{
                    "name": "app",
                    "image": "example/app:1.2.3",
                    "args": ["serve"],
                    "env": env.iter().map(|n| json!({"name": n, "value": "1"})).collect::<Vec<_>>(),
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                    "ports": [{"name": "http", "containerPort": port}],
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                    "livenessProbe": {"tcpSocket": {"port": "http"}},
                }],
            }}},
        })
    }

    #[test]
    fn a_render_that_keeps_the_contract_has_no_violations() {
        let objects = [deployment(&["A", "B"], 80)];
        assert_eq!(
            violations(&CONTRACT, "x", &objects, Coverage::Exact),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_renamed_variable_a_missing_one_or_another_port_is_named() {
        let objects = [deployment(&["A", "C"], 8080)];
        assert_eq!(
            violations(&CONTRACT, "x", &objects, Coverage::Exact),
            [
                "Deployment x container app: env C is not in the contract",
                "Deployment x container app: env B is not rendered",
                "Deployment x container app: ports [(\"http\", 8080)] are not [(\"http\", 80)]",
            ]
        );
        let within = violations(&CONTRACT, "x", &[deployment(&["A"], 80)], Coverage::Within);
        assert!(within.is_empty(), "{within:?}");
    }
}
