//! The operator's `DefaultValidator`, as a pure function of a resource's spec
//! (JSON, as the API server stores it), the spec it last deployed and the
//! effective Flink configuration.
//!
//! Rules, their order (the first failure wins) and their messages follow
//! flink-kubernetes-operator release-1.15.0,
//! `flink-kubernetes-operator/src/main/java/org/apache/flink/kubernetes/operator/validation/DefaultValidator.java`
//! (docs/flink-docs/flink-operator-facts.md §2–§3). Autoscaler options are not checked.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use crate::catalog::jobs::is_restricted_ip;

mod configuration;

use configuration::{SAVEPOINT_DIR_KEY, is_true};
pub use configuration::{
    checkpoint_dir, flat_configuration, ha_enabled, parse_memory, savepoint_dir,
};

/// Keys the operator sets itself and refuses in `spec.flinkConfiguration`.
pub const FORBIDDEN_KEYS: [&str; 3] = [
    "kubernetes.namespace",
    "kubernetes.cluster-id",
    "high-availability.cluster-id",
];

/// Log configuration files a resource may carry (`spec.logConfiguration`).
pub const LOG_CONFIG_KEYS: [&str; 2] = ["log4j-console.properties", "logback-console.xml"];

/// The operator's `FlinkVersion` enum in order (API `spec/FlinkVersion.java`@1.15.0).
pub const FLINK_VERSIONS: [&str; 13] = [
    "v1_13", "v1_14", "v1_15", "v1_16", "v1_17", "v1_18", "v1_19", "v1_20", "v2_0", "v2_1", "v2_2",
    "v2_3", "v2_4",
];

/// Position of `version` among the operator's versions (`None`: unknown).
pub fn version_rank(version: &str) -> Option<usize> {
    FLINK_VERSIONS.iter().position(|v| *v == version)
}

/// `FlinkVersion.isSupported`: v1_15 and newer.
pub fn is_supported(version: &str) -> bool {
    version_rank(version).is_some_and(|rank| rank >= 2)
}

/// The message of an unsupported version (validator and `UnsupportedFlinkVersion` event).
pub fn unsupported_version_message(version: &str) -> String {
    format!("Flink version {version} is not supported by this operator version")
}

/// What the validator needs of the operator's own configuration: the
/// session-job JAR rules, the same facts the portal's forms check.
pub use crate::catalog::jobs::ArtifactRules as JarRules;

/// Resolves a host name to its addresses (`None`: it cannot be resolved).
pub type Resolve<'a> = &'a dyn Fn(&str) -> Option<Vec<IpAddr>>;

/// The name rule of FlinkDeployments (and of a session job's `deploymentName`):
/// `[a-z]([-a-z\d]{0,43}[a-z\d])?`, so at most 45 characters.
pub fn validate_deployment_name(name: &str) -> Result<(), String> {
    let bytes = name.as_bytes();
    let inner_ok = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    let valid = !bytes.is_empty()
        && bytes.len() <= 45
        && bytes[0].is_ascii_lowercase()
        && inner_ok
        && bytes
            .last()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(format!(
            "The FlinkDeployment name: {name} is invalid, must consist of lower case alphanumeric \
             characters or '-', start with an alphabetic character, and end with an alphanumeric \
             character (e.g. 'my-name',  or 'abc-123'), and the length must be no more than 45 \
             characters."
        ))
    }
}

/// Validates a FlinkDeployment named `name` with `spec`; `last_spec` is the
/// spec it last deployed (from `lastReconciledSpec`), `configuration` the
/// effective Flink configuration (operator defaults + `spec.flinkConfiguration`).
/// Returns the first failing rule's message.
pub fn validate_deployment(
    name: &str,
    spec: &Value,
    last_spec: Option<&Value>,
    configuration: &BTreeMap<String, String>,
) -> Result<(), String> {
    validate_deployment_name(name)?;
    let version = spec.get("flinkVersion").and_then(Value::as_str);
    let Some(version) = version else {
        return Err("Flink Version must be defined.".to_owned());
    };
    if !is_supported(version) {
        return Err(unsupported_version_message(version));
    }
    let own = flat_configuration(spec);
    for key in FORBIDDEN_KEYS {
        if own.contains_key(key) {
            return Err(format!("Forbidden Flink config key: {key}"));
        }
    }
    if is_true(
        configuration,
        "kubernetes.operator.deployment.rollback.enabled",
    ) && !ha_enabled(configuration)
    {
        return Err("HA must be enabled for rollback support.".to_owned());
    }
    if is_true(
        configuration,
        "kubernetes.operator.cluster.health-check.enabled",
    ) && !configuration
        .get("kubernetes.operator.jm-deployment-recovery.enabled")
        .is_none_or(|v| v.eq_ignore_ascii_case("true"))
    {
        return Err(
            "Deployment recovery (kubernetes.operator.jm-deployment-recovery.enabled) \
                    must be enabled for job health check \
                    (kubernetes.operator.cluster.health-check.enabled) support."
                .to_owned(),
        );
    }
    validate_ingress(name, spec)?;
    if let Some(logs) = spec.get("logConfiguration").and_then(Value::as_object) {
        for key in logs.keys() {
            if !LOG_CONFIG_KEYS.contains(&key.as_str()) {
                return Err(format!(
                    "Invalid log config key: {key}. Allowed keys are [{}]",
                    LOG_CONFIG_KEYS.join(", ")
                ));
            }
        }
    }
    let tm_replicas = spec
        .pointer("/taskManager/replicas")
        .and_then(Value::as_i64);
    if let Some(job) = spec.get("job").filter(|job| !job.is_null()) {
        validate_job_spec(job, tm_replicas, configuration)?;
    }
    validate_process(
        "JobManager",
        "jobManager",
        "jobmanager",
        spec,
        configuration,
    )?;
    let jm_replicas = spec.pointer("/jobManager/replicas").and_then(Value::as_i64);
    if let Some(replicas) = jm_replicas {
        if replicas < 1 {
            return Err("JobManager replicas should not be configured less than one.".to_owned());
        }
        if replicas > 1 && !ha_enabled(configuration) {
            return Err(
                "High availability should be enabled when starting standby JobManagers.".to_owned(),
            );
        }
    }
    validate_process(
        "TaskManager",
        "taskManager",
        "taskmanager",
        spec,
        configuration,
    )?;
    if tm_replicas.is_some_and(|replicas| replicas < 1) {
        return Err("TaskManager replicas should not be configured less than one.".to_owned());
    }
    if let Some(last) = last_spec {
        validate_spec_change(spec, last)?;
    }
    if spec.get("serviceAccount").and_then(Value::as_str).is_none() {
        return Err(
            "spec.serviceAccount must be defined. If you use helm, its value should be \
                    the same with the name of jobServiceAccount."
                .to_owned(),
        );
    }
    Ok(())
}

/// Validates a FlinkSessionJob: `spec` now, `last_spec` as last deployed,
/// `session` the FlinkDeployment it names (if it exists) with its effective
/// configuration, `rules` the operator's jar rules.
pub fn validate_session_job(
    spec: &Value,
    last_spec: Option<&Value>,
    session: Option<(&Value, &BTreeMap<String, String>)>,
    rules: &JarRules,
    resolve: Resolve,
) -> Result<(), String> {
    let deployment_name = spec
        .get("deploymentName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    validate_deployment_name(deployment_name)?;
    let Some(job) = spec.get("job").filter(|job| !job.is_null()) else {
        return Err("The job spec should not be empty".to_owned());
    };
    if let Some(last) = last_spec
        && last.get("deploymentName").and_then(Value::as_str) != Some(deployment_name)
    {
        return Err("The deploymentName can't be changed".to_owned());
    }
    if let Some(jar) = job.get("jarURI").and_then(Value::as_str) {
        validate_jar_uri(jar, rules, resolve)?;
    }
    if let Some((session_spec, session_configuration)) = session {
        if session_spec.get("job").is_some_and(|job| !job.is_null()) {
            return Err("Can not submit session job to application cluster".to_owned());
        }
        let mut configuration = session_configuration.clone();
        configuration.extend(flat_configuration(spec));
        validate_job_spec(job, None, &configuration)?;
    }
    Ok(())
}

/// `validateJarURI`: a URI with a scheme from the allowlist; for http(s), a
/// host that resolves to no restricted address (while that is disallowed).
pub fn validate_jar_uri(jar: &str, rules: &JarRules, resolve: Resolve) -> Result<(), String> {
    let uri = match url::Url::parse(jar) {
        Ok(uri) => uri,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            return Err("jarURI must include a scheme".to_owned());
        }
        Err(error) => return Err(format!("jarURI is not a valid URI: {error}: {jar}")),
    };
    let scheme = uri.scheme().to_ascii_lowercase();
    let mut allowed: Vec<String> = Vec::new();
    for scheme in &rules.allowed_schemes {
        let scheme = scheme.trim().to_ascii_lowercase();
        if !scheme.is_empty() && !allowed.contains(&scheme) {
            allowed.push(scheme);
        }
    }
    if !allowed.contains(&scheme) {
        return Err(format!(
            "jarURI scheme '{scheme}' is not in the allowlist [{}]. Configure \
             'kubernetes.operator.user.artifacts.allowed-schemes' to extend the allowlist.",
            allowed.join(", ")
        ));
    }
    if rules.disallow_restricted_hosts && (scheme == "http" || scheme == "https") {
        let host = match uri.host() {
            Some(url::Host::Domain(domain)) => domain.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err("jarURI must include a host for http/https schemes".to_owned()),
        };
        let addresses = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => resolve(&host)
                .filter(|found| !found.is_empty())
                .ok_or_else(|| format!("jarURI host '{host}' cannot be resolved"))?,
        };
        if addresses.iter().any(|ip| is_restricted_ip(*ip)) {
            return Err(format!(
                "jarURI host '{host}' resolves to a restricted address"
            ));
        }
    }
    Ok(())
}

fn validate_job_spec(
    job: &Value,
    tm_replicas: Option<i64>,
    configuration: &BTreeMap<String, String>,
) -> Result<(), String> {
    let mode = job
        .get("upgradeMode")
        .and_then(Value::as_str)
        .unwrap_or("stateless");
    if mode != "stateless" && checkpoint_dir(configuration).is_none() {
        return Err(
            "Checkpoint directory[execution.checkpointing.dir] must be defined for \
                    last-state and savepoint upgrade modes"
                .to_owned(),
        );
    }
    if savepoint_dir(configuration).is_none() {
        if mode == "savepoint" {
            return Err(format!(
                "Job could not be upgraded with savepoint while config key[{SAVEPOINT_DIR_KEY}] \
                 is not set"
            ));
        }
        if job
            .get("savepointTriggerNonce")
            .is_some_and(|n| !n.is_null())
        {
            return Err(format!(
                "Savepoint could not be manually triggered for the running job while config \
                 key[{SAVEPOINT_DIR_KEY}] is not set"
            ));
        }
        if configuration.contains_key("kubernetes.operator.periodic.savepoint.interval") {
            return Err(format!(
                "Periodic savepoints cannot be enabled when config key[{SAVEPOINT_DIR_KEY}] is \
                 not set"
            ));
        }
        if mode == "last-state"
            && configuration.contains_key(
                "kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age",
            )
        {
            return Err(format!(
                "In order to use max-checkpoint age functionality config key[{SAVEPOINT_DIR_KEY}] \
                 must be set to allow triggering savepoint upgrades."
            ));
        }
    }
    match tm_replicas {
        Some(replicas) if replicas < 1 => {
            Err("TaskManager replicas must be larger than 0".to_owned())
        }
        None if job.get("parallelism").and_then(Value::as_i64).unwrap_or(0) < 1 => {
            Err("Job parallelism must be larger than 0".to_owned())
        }
        _ => Ok(()),
    }
}

/// Memory (and ephemeral storage) of the JobManager or TaskManager: given in
/// the spec and parseable, or derivable from the Flink configuration.
fn validate_process(
    role: &str,
    field: &str,
    prefix: &str,
    spec: &Value,
    configuration: &BTreeMap<String, String>,
) -> Result<(), String> {
    let resource = spec.get(field).and_then(|part| part.get("resource"));
    let memory = resource
        .and_then(|r| r.get("memory"))
        .and_then(Value::as_str);
    match memory {
        Some(memory) => {
            parse_memory(memory)
                .map_err(|error| format!("{role} resource memory parse error: {error}"))?;
        }
        None => {
            let derivable = [
                format!("{prefix}.memory.process.size"),
                format!("{prefix}.memory.flink.size"),
            ]
            .iter()
            .any(|key| configuration.contains_key(key));
            if !derivable {
                return Err(format!(
                    "{role} resource memory must be defined using `spec.{field}.resource.memory`"
                ));
            }
        }
    }
    if let Some(storage) = resource
        .and_then(|r| r.get("ephemeralStorage"))
        .and_then(Value::as_str)
    {
        parse_memory(storage)
            .map_err(|error| format!("{role} resource ephemeral storage parse error: {error}"))?;
    }
    Ok(())
}

fn validate_ingress(name: &str, spec: &Value) -> Result<(), String> {
    let Some(ingress) = spec.get("ingress").filter(|i| !i.is_null()) else {
        return Ok(());
    };
    let Some(template) = ingress.get("template").and_then(Value::as_str) else {
        return Err("Ingress template must be defined".to_owned());
    };
    let filled = template
        .replace("{{name}}", name)
        .replace("{{namespace}}", "namespace");
    let with_scheme = if filled.starts_with("http://") || filled.starts_with("https://") {
        filled
    } else {
        format!("http://{filled}")
    };
    match url::Url::parse(&with_scheme) {
        Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        Ok(_) => Err(format!(
            "Unable to process the Ingress template({template}). Error: no host"
        )),
        Err(error) => Err(format!(
            "Unable to process the Ingress template({template}). Error: {error}"
        )),
    }
}

fn validate_spec_change(spec: &Value, last: &Value) -> Result<(), String> {
    let has_job = |s: &Value| s.get("job").is_some_and(|j| !j.is_null());
    match (has_job(last), has_job(spec)) {
        (false, true) => return Err("Cannot switch from session to job cluster".to_owned()),
        (true, false) => return Err("Cannot switch from job to session cluster".to_owned()),
        _ => {}
    }
    let mode = |s: &Value| {
        s.get("mode")
            .and_then(Value::as_str)
            .unwrap_or("native")
            .to_owned()
    };
    match (mode(last).as_str(), mode(spec).as_str()) {
        ("native", "standalone") => {
            return Err(
                "Cannot switch from native kubernetes to standalone kubernetes cluster".to_owned(),
            );
        }
        ("standalone", "native") => {
            return Err(
                "Cannot switch from standalone kubernetes to native kubernetes cluster".to_owned(),
            );
        }
        _ => {}
    }
    let nonce = |s: &Value| s.pointer("/job/savepointRedeployNonce").cloned();
    if nonce(spec) != nonce(last)
        && nonce(spec).is_some_and(|n| !n.is_null())
        && spec
            .pointer("/job/initialSavepointPath")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err("InitialSavepointPath must not be empty for savepoint redeployment".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
