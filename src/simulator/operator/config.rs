//! How an operator Deployment configures its operator, read the way the real
//! one reads it: the container's `FLINK_CONF_DIR`, the volume mounted there,
//! the ConfigMap behind that volume (only the `items` it projects), then
//! `flink-conf.yaml` (Flink 1.20's legacy flat parser) in preference to
//! `config.yaml` (standard YAML), and `WATCH_NAMESPACES` over the key.
//!
//! Sources: flink-kubernetes-operator release-1.15.0
//! `flink-kubernetes-operator/src/main/java/org/apache/flink/kubernetes/operator/config/FlinkConfigManager.java`,
//! `.../config/FlinkOperatorConfiguration.java`, `.../config/KubernetesOperatorConfigOptions.java`,
//! and Flink 1.20 `GlobalConfiguration` (docs/flink-operator-facts.md §2).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Container};

use super::validator::{JarRules, version_rank};

/// The env variable naming the configuration directory.
pub const CONF_DIR_ENV: &str = "FLINK_CONF_DIR";
/// The env variable that overrides the watched namespaces.
pub const WATCH_NAMESPACES_ENV: &str = "WATCH_NAMESPACES";
/// The key of the watched namespaces.
pub const WATCHED_NAMESPACES: &str = "kubernetes.operator.watched.namespaces";
/// JOSDK's "all namespaces" value, the key's default.
pub const WATCH_ALL: &str = "JOSDK_ALL_NAMESPACES";
/// Prefix of the operator's per-Flink-version defaults for the clusters it deploys.
const VERSION_DEFAULTS: &str = "kubernetes.operator.default-configuration.flink-version.";

/// Whether a container image is the flink-kubernetes-operator's
/// (`apache/flink-kubernetes-operator:*`, `ghcr.io/apache/flink-kubernetes-operator*`).
pub fn is_operator_image(image: &str) -> bool {
    let image = image.strip_prefix("docker.io/").unwrap_or(image);
    image.starts_with("apache/flink-kubernetes-operator:")
        || image.starts_with("apache/flink-kubernetes-operator@")
        || image.starts_with("ghcr.io/apache/flink-kubernetes-operator")
}

/// The operator container of a Deployment, if it runs one.
pub fn operator_container(deployment: &Deployment) -> Option<&Container> {
    deployment
        .spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .containers
        .iter()
        .find(|c| c.image.as_deref().is_some_and(is_operator_image))
}

/// The namespaces an operator serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// Every namespace (needs cluster-wide list and watch rights).
    All,
    /// These namespaces.
    Some(Vec<String>),
}

/// An operator's configuration as it would load it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OperatorConfig {
    /// Flat `key → value`.
    pub values: BTreeMap<String, String>,
    /// Where it came from, for the logs and reports (e.g.
    /// `ConfigMap ns/flink-operator-config key flink-conf.yaml as /opt/flink/conf/flink-conf.yaml`).
    pub source: String,
    /// `WATCH_NAMESPACES` from the container's env, if set.
    pub watch_namespaces_env: Option<String>,
    /// The logging files next to the configuration (`log4j-console.properties`,
    /// `logback-console.xml`), which Flink's client ships to every cluster
    /// whose spec has no `logConfiguration`.
    pub log_files: BTreeMap<String, String>,
}

impl OperatorConfig {
    /// The namespaces to serve: `WATCH_NAMESPACES` if set, else the key;
    /// split on commas; absent, empty or `JOSDK_ALL_NAMESPACES` is all.
    pub fn watched(&self) -> Watched {
        let raw = self
            .watch_namespaces_env
            .as_deref()
            .or(self.values.get(WATCHED_NAMESPACES).map(String::as_str))
            .unwrap_or(WATCH_ALL);
        let names: Vec<String> = raw
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        if names.is_empty() || names.iter().any(|n| n == WATCH_ALL) {
            Watched::All
        } else {
            Watched::Some(names)
        }
    }

    /// The session-job jar rules (defaults: `https` only, restricted hosts refused).
    pub fn jar_rules(&self) -> JarRules {
        let mut rules = JarRules::default();
        if let Some(schemes) = self
            .values
            .get("kubernetes.operator.user.artifacts.allowed-schemes")
        {
            rules.allowed_schemes = schemes
                .split([',', ';'])
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(flag) = self
            .values
            .get("kubernetes.operator.user.artifacts.disallow-restricted-hosts")
        {
            rules.disallow_restricted_hosts = !flag.trim().eq_ignore_ascii_case("false");
        }
        rules
    }

    /// The default Flink configuration of a cluster of `version`: every key
    /// not of the operator's own, plus the version-specific defaults
    /// (`...flink-version.v1_19+.<key>` applies to 1.19 and newer).
    pub fn cluster_defaults(&self, version: &str) -> BTreeMap<String, String> {
        let mut defaults: BTreeMap<String, String> = self
            .values
            .iter()
            .filter(|(key, _)| !key.starts_with("kubernetes.operator."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let rank = version_rank(version);
        for (key, value) in &self.values {
            let Some(rest) = key.strip_prefix(VERSION_DEFAULTS) else {
                continue;
            };
            let Some((applies_to, flink_key)) = rest.split_once('.') else {
                continue;
            };
            let applies = match applies_to.strip_suffix('+') {
                Some(from) => rank.is_some() && version_rank(from) <= rank,
                None => applies_to == version,
            };
            if applies {
                defaults.insert(flink_key.to_owned(), value.clone());
            }
        }
        defaults
    }
}

/// Why an operator cannot load its configuration (it would not start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The Deployment runs no operator container.
    #[error("no flink-kubernetes-operator container")]
    NoOperatorContainer,
    /// The ConfigMap the volume names is missing (the pod cannot start).
    #[error("ConfigMap {0} mounted at {1} does not exist: the pod cannot start")]
    MissingConfigMap(String, String),
    /// Neither `flink-conf.yaml` nor `config.yaml` is in the directory.
    #[error(
        "The Flink config file '{dir}/config.yaml' ({dir}/config.yaml) does not exist \
         (nor flink-conf.yaml): {projected}"
    )]
    NoConfigFile {
        /// The configuration directory.
        dir: String,
        /// What the volume does project there.
        projected: String,
    },
    /// The file does not parse.
    #[error("{0} is not valid YAML: {1}")]
    Yaml(String, String),
}

/// Reads the configuration of the operator in `deployment`; `config_map`
/// looks a ConfigMap up by name in the Deployment's namespace.
pub fn read(
    deployment: &Deployment,
    config_map: &dyn Fn(&str) -> Option<ConfigMap>,
) -> Result<OperatorConfig, ConfigError> {
    let container = operator_container(deployment).ok_or(ConfigError::NoOperatorContainer)?;
    let env = |name: &str| {
        container
            .env
            .iter()
            .flatten()
            .find(|e| e.name == name)
            .and_then(|e| e.value.clone())
    };
    let watch_namespaces_env = env(WATCH_NAMESPACES_ENV);
    let Some(dir) = env(CONF_DIR_ENV) else {
        return Ok(OperatorConfig {
            source: format!("no {CONF_DIR_ENV} in the container's env: defaults"),
            watch_namespaces_env,
            ..OperatorConfig::default()
        });
    };
    let dir = dir.trim_end_matches('/').to_owned();
    let pod = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref());
    // The mount that holds the directory: at it, or at a parent of it.
    let mount = container.volume_mounts.iter().flatten().find(|m| {
        let path = m.mount_path.trim_end_matches('/');
        dir == path || dir.starts_with(&format!("{path}/"))
    });
    let Some(mount) = mount else {
        return Ok(OperatorConfig {
            source: format!("nothing mounted at {CONF_DIR_ENV}={dir}: defaults"),
            watch_namespaces_env,
            ..OperatorConfig::default()
        });
    };
    let inside = dir[mount.mount_path.trim_end_matches('/').len()..].trim_start_matches('/');
    let prefix = [mount.sub_path.as_deref().unwrap_or(""), inside]
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| format!("{}/", p.trim_matches('/')))
        .collect::<String>();
    let volume = pod
        .and_then(|p| p.volumes.as_ref())
        .and_then(|vs| vs.iter().find(|v| v.name == mount.name));
    // The files the volume shows, by their path inside it.
    let mut files: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut origin = String::new();
    if let Some(source) = volume.and_then(|v| v.config_map.as_ref()) {
        let name = source.name.clone();
        origin = format!(
            "ConfigMap {}/{name}",
            deployment.metadata.namespace.as_deref().unwrap_or_default()
        );
        match config_map(&name) {
            Some(found) => {
                let data = found.data.unwrap_or_default();
                match &source.items {
                    Some(items) => {
                        for item in items {
                            if let Some(text) = data.get(&item.key) {
                                files.insert(item.path.clone(), (item.key.clone(), text.clone()));
                            }
                        }
                    }
                    None => {
                        for (key, text) in data {
                            files.insert(key.clone(), (key, text));
                        }
                    }
                }
            }
            None if source.optional == Some(true) => {}
            None => return Err(ConfigError::MissingConfigMap(name, dir)),
        }
    }
    for file in ["flink-conf.yaml", "config.yaml"] {
        if let Some((key, text)) = files.get(&format!("{prefix}{file}")) {
            let values = if file == "flink-conf.yaml" {
                parse_legacy(text)
            } else {
                parse_standard(text).map_err(|e| ConfigError::Yaml(format!("{dir}/{file}"), e))?
            };
            let log_files = ["log4j-console.properties", "logback-console.xml"]
                .into_iter()
                .filter_map(|name| {
                    let (_, text) = files.get(&format!("{prefix}{name}"))?;
                    Some((name.to_owned(), text.clone()))
                })
                .collect();
            return Ok(OperatorConfig {
                values,
                source: format!("{origin} key {key} as {dir}/{file}"),
                watch_namespaces_env,
                log_files,
            });
        }
    }
    Err(ConfigError::NoConfigFile {
        dir,
        projected: if files.is_empty() {
            "the mounted volume shows no file".to_owned()
        } else {
            format!(
                "the mounted volume shows only {}",
                files.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        },
    })
}

/// Flink's legacy `flink-conf.yaml` parser: one `key: value` per line,
/// `#` starts a comment, lines without `": "` or with an empty side are skipped.
pub fn parse_legacy(text: &str) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some((key, value)) = line.split_once(": ") else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if !key.is_empty() && !value.is_empty() {
            values.insert(key.to_owned(), value.to_owned());
        }
    }
    values
}

/// Flink's standard `config.yaml`: YAML, nested maps joined with dots.
pub fn parse_standard(text: &str) -> Result<BTreeMap<String, String>, String> {
    match serde_yaml_ng::from_str(text).map_err(|e| e.to_string())? {
        serde_json::Value::Object(map) => Ok(crate::crd::flink_configuration::flat(map)),
        serde_json::Value::Null => Ok(BTreeMap::new()),
        other => Err(format!("a configuration is a map of keys, not {other}")),
    }
}

#[cfg(test)]
mod tests;
