//! The operator's configuration as its Helm chart writes it: the chart's
//! default `flink-conf.yaml`, the chart's `defaultConfiguration` overrides,
//! the watched namespaces and the health probe, then dataport's additions
//! (Prometheus reporter, session-job artifact rules, leader election).
//!
//! Source: flink-kubernetes-operator release-1.15.0,
//! `helm/flink-kubernetes-operator/templates/controller/configmap.yaml`,
//! `helm/flink-kubernetes-operator/conf/flink-conf.yaml`, `values.yaml`;
//! keys from `KubernetesOperatorConfigOptions.java`.

pub use crate::catalog::jobs::ArtifactRules;

/// Port of the operator's health endpoint (chart `operatorHealth.port`,
/// config key `kubernetes.operator.health.probe.port`).
pub const HEALTH_PORT: i32 = 8085;
/// Port of the Prometheus reporter dataport adds.
pub const METRICS_PORT: i32 = 9999;
/// Where the operator downloads session-job jars (an emptyDir; the key's
/// default, `kubernetes.operator.user.artifacts.base.dir`).
pub const ARTIFACTS_DIR: &str = "/opt/flink/artifacts";

/// The JVM flags Flink needs on Java 17 (module access for Kryo, Netty and
/// the RPC system), as the chart's default configuration passes them.
const JAVA_17_OPTS: &str = "--add-exports=java.base/sun.net.util=ALL-UNNAMED \
    --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED \
    --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED \
    --add-opens=java.base/java.lang=ALL-UNNAMED \
    --add-opens=java.base/java.net=ALL-UNNAMED \
    --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/java.nio=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED \
    --add-opens=java.base/java.text=ALL-UNNAMED \
    --add-opens=java.base/java.time=ALL-UNNAMED \
    --add-opens=java.base/java.util=ALL-UNNAMED \
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED \
    --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED";

/// The settings the chart's `conf/flink-conf.yaml` leaves uncommented: the
/// defaults of every Flink cluster the operator deploys (per Flink version,
/// through `kubernetes.operator.default-configuration.flink-version.*`).
pub const CHART_DEFAULTS: &[(&str, &str)] = &[
    ("taskmanager.numberOfTaskSlots", "1"),
    ("parallelism.default", "1"),
    (
        "kubernetes.operator.default-configuration.flink-version.v1_18.env.java.opts.all",
        JAVA_17_OPTS,
    ),
    (
        "kubernetes.operator.default-configuration.flink-version.v1_19+.env.java.default-opts.all",
        JAVA_17_OPTS,
    ),
];

/// The chart's `values.yaml` `defaultConfiguration."flink-conf.yaml"`,
/// appended after the defaults.
pub const CHART_OVERRIDES: &[(&str, &str)] = &[
    (
        "kubernetes.operator.metrics.reporter.slf4j.factory.class",
        "org.apache.flink.metrics.slf4j.Slf4jReporterFactory",
    ),
    (
        "kubernetes.operator.metrics.reporter.slf4j.interval",
        "5 MINUTE",
    ),
    ("kubernetes.operator.reconcile.interval", "15 s"),
    (
        "kubernetes.operator.observer.progress-check.interval",
        "5 s",
    ),
];

/// What the operator's configuration depends on.
#[derive(Debug, Clone)]
pub struct Settings<'a> {
    /// Namespaces the operator watches (never empty: dataport does not
    /// install cluster-wide operators).
    pub watched_namespaces: &'a [String],
    /// Session-job artifact rules.
    pub artifacts: &'a ArtifactRules,
    /// Leader election, needed when more than one operator pod runs:
    /// the Lease's name.
    pub leader_lease: Option<String>,
}

/// The configuration as `(key, value)` pairs in the order the chart writes
/// them, dataport's additions last. Every key appears once.
pub fn entries(settings: &Settings) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = CHART_DEFAULTS
        .iter()
        .chain(CHART_OVERRIDES)
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    let mut add = |key: &str, value: String| entries.push((key.to_owned(), value));
    add(
        "kubernetes.operator.watched.namespaces",
        settings.watched_namespaces.join(","),
    );
    add("kubernetes.operator.health.probe.enabled", "true".into());
    add(
        "kubernetes.operator.health.probe.port",
        HEALTH_PORT.to_string(),
    );
    add(
        "kubernetes.operator.metrics.reporter.prom.factory.class",
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory".into(),
    );
    add(
        "kubernetes.operator.metrics.reporter.prom.port",
        METRICS_PORT.to_string(),
    );
    add(
        "kubernetes.operator.user.artifacts.base.dir",
        ARTIFACTS_DIR.into(),
    );
    add(
        "kubernetes.operator.user.artifacts.allowed-schemes",
        settings.artifacts.allowed_schemes.join(","),
    );
    add(
        "kubernetes.operator.user.artifacts.disallow-restricted-hosts",
        settings.artifacts.disallow_restricted_hosts.to_string(),
    );
    if let Some(lease) = &settings.leader_lease {
        add("kubernetes.operator.leader-election.enabled", "true".into());
        add(
            "kubernetes.operator.leader-election.lease-name",
            lease.clone(),
        );
    }
    entries
}

/// The configuration file: one `key: value` line per entry, the flat form
/// both Flink's legacy `flink-conf.yaml` parser and a YAML parser read.
pub fn file(settings: &Settings) -> String {
    let mut text = String::from(
        "# Written by dataport: the operator chart's defaults, then this instance's settings.\n",
    );
    for (key, value) in entries(settings) {
        text.push_str(&format!("{key}: {value}\n"));
    }
    text
}

/// The operator's own logging: INFO to the console, with the resource
/// being reconciled; Flink's configuration loader kept quiet.
pub const LOG4J_OPERATOR: &str = "\
# The operator's logging (dataport): console only, read by kubectl logs.
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = Console
appender.console.name = Console
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{ISO8601} %-5p [%X{resource.namespace}/%X{resource.name}] %c{1} - %m%n
# The configuration classes log every key they load at INFO.
logger.flinkconfiguration.name = org.apache.flink.configuration
logger.flinkconfiguration.level = WARN
";

/// The default logging of the Flink clusters the operator deploys: the
/// console (kubectl logs) and a rolling file the Flink WebUI shows.
pub const LOG4J_CONSOLE: &str = "\
# Default logging of the Flink clusters this operator deploys (dataport).
monitorInterval = 30
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = Console
rootLogger.appenderRef.file.ref = File
appender.console.name = Console
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %c - %m%n
appender.file.name = File
appender.file.type = RollingFile
appender.file.fileName = ${sys:log.file}
appender.file.filePattern = ${sys:log.file}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %c - %m%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 100MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 5
# Chatty libraries, quieter.
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
logger.zookeeper.name = org.apache.zookeeper
logger.zookeeper.level = WARN
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = WARN
";

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn settings<'a>(namespaces: &'a [String], artifacts: &'a ArtifactRules) -> Settings<'a> {
        Settings {
            watched_namespaces: namespaces,
            artifacts,
            leader_lease: None,
        }
    }

    fn parsed(text: &str) -> BTreeMap<String, String> {
        text.lines()
            .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
            .filter_map(|line| line.split_once(": "))
            .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
            .collect()
    }

    #[test]
    fn every_setting_of_the_charts_default_file_is_kept() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/upstream/flink-kubernetes-operator-1.15.0/conf/flink-conf.yaml"
        );
        let upstream = std::fs::read_to_string(path).expect("the chart's default configuration");
        let upstream = parsed(&upstream);
        assert!(upstream.len() >= 4, "{upstream:?}");
        let namespaces = vec!["data".to_owned()];
        let artifacts = ArtifactRules {
            allowed_schemes: vec!["https".into()],
            disallow_restricted_hosts: true,
        };
        let ours = parsed(&file(&settings(&namespaces, &artifacts)));
        for (key, value) in &upstream {
            assert_eq!(ours.get(key), Some(value), "{key}");
        }
        assert!(
            ours.keys()
                .any(|key| key.contains("v1_19+") && key.ends_with("env.java.default-opts.all"))
        );
    }

    #[test]
    fn the_file_holds_namespaces_health_metrics_and_artifact_rules_once_each() {
        let namespaces = vec!["data".to_owned(), "etl".to_owned()];
        let artifacts = ArtifactRules {
            allowed_schemes: vec!["https".into(), "s3".into()],
            disallow_restricted_hosts: false,
        };
        let mut with_lease = settings(&namespaces, &artifacts);
        with_lease.leader_lease = Some("op-lease".into());
        let entries = entries(&with_lease);
        let keys: Vec<_> = entries.iter().map(|(k, _)| k).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "no key twice");
        let config = parsed(&file(&with_lease));
        for (key, value) in [
            ("kubernetes.operator.watched.namespaces", "data,etl"),
            ("kubernetes.operator.health.probe.enabled", "true"),
            ("kubernetes.operator.health.probe.port", "8085"),
            ("kubernetes.operator.metrics.reporter.prom.port", "9999"),
            ("kubernetes.operator.reconcile.interval", "15 s"),
            (
                "kubernetes.operator.user.artifacts.base.dir",
                "/opt/flink/artifacts",
            ),
            (
                "kubernetes.operator.user.artifacts.allowed-schemes",
                "https,s3",
            ),
            (
                "kubernetes.operator.user.artifacts.disallow-restricted-hosts",
                "false",
            ),
            ("kubernetes.operator.leader-election.enabled", "true"),
            ("kubernetes.operator.leader-election.lease-name", "op-lease"),
        ] {
            assert_eq!(config.get(key).map(String::as_str), Some(value), "{key}");
        }
    }

    #[test]
    fn log_files_configure_a_console_appender() {
        for file in [LOG4J_OPERATOR, LOG4J_CONSOLE] {
            assert!(file.contains("rootLogger.appenderRef.console.ref = Console"));
            assert!(file.contains("appender.console.type = CONSOLE"));
        }
    }
}
