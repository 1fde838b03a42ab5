//! Where the operator may fetch a session job's JAR from: the allowed URI
//! schemes and the hosts it refuses (flink-kubernetes-operator
//! release-1.15.0, `DefaultValidator.validateJarURI`). Pure: no I/O, so a
//! host name is judged by its form; the operator also resolves it.

use std::net::IpAddr;

/// Where a JAR may come from: the image (`local://`) or a file (`file://`),
/// a web server, object storage (S3, Google Cloud Storage, Azure Data Lake)
/// or HDFS. An application's JobManager reads its JAR itself; a session
/// job's is fetched by the operator, within its [`ArtifactRules`].
pub const JAR_SCHEMES: &[&str] = &[
    "https", "http", "s3", "s3a", "s3p", "hdfs", "gs", "abfss", "file", "local",
];

/// Where the operator may fetch a session job's JAR from (operator 1.15.0
/// `DefaultValidator.validateJarURI`, keys
/// `kubernetes.operator.user.artifacts.allowed-schemes` and
/// `kubernetes.operator.user.artifacts.disallow-restricted-hosts`).
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactRules {
    /// Allowed URI schemes, lower case (the operator's default: `https`).
    pub allowed_schemes: Vec<String>,
    /// Whether http(s) hosts that resolve to loopback, link-local, private,
    /// wildcard or multicast addresses are refused (the default).
    pub disallow_restricted_hosts: bool,
}

impl Default for ArtifactRules {
    fn default() -> Self {
        ArtifactRules {
            allowed_schemes: vec!["https".to_owned()],
            disallow_restricted_hosts: true,
        }
    }
}

impl ArtifactRules {
    /// An example JAR URI these rules accept, for the form's hint.
    pub fn example(&self) -> &'static str {
        let allowed = |scheme: &str| self.allowed_schemes.iter().any(|s| s == scheme);
        if allowed("https") {
            "https://repo.example.org/jobs/etl.jar"
        } else if allowed("s3") {
            "s3://jobs/etl.jar"
        } else if allowed("http") {
            "http://repo.example.org/jobs/etl.jar"
        } else if allowed("hdfs") {
            "hdfs://namenode:8020/jobs/etl.jar"
        } else {
            "https://repo.example.org/jobs/etl.jar"
        }
    }

    /// The JAR URI field's help for a session job under these rules.
    pub fn help(&self, operator: &str) -> String {
        let schemes: Vec<String> = self
            .allowed_schemes
            .iter()
            .map(|s| format!("{s}://"))
            .collect();
        let web = self
            .allowed_schemes
            .iter()
            .any(|s| matches!(s.as_str(), "http" | "https"));
        // The host rule is about web addresses only: a file: path has none.
        let hosts = match (self.disallow_restricted_hosts, web, schemes.len()) {
            (true, true, 1) => " on a public host (it refuses in-cluster and private ones)",
            (true, true, _) => {
                "; web addresses on a public host (it refuses in-cluster and private ones)"
            }
            _ => "",
        };
        format!(
            "The job's JAR, which operator {operator} downloads itself and uploads to the \
             cluster: {}{hosts}, e.g. {}.",
            schemes.join(", "),
            self.example()
        )
    }

    /// Why the operator would refuse `uri` (a valid URI), if it would.
    pub fn refusal(&self, uri: &str, operator: &str) -> Option<String> {
        let parsed = url::Url::parse(uri).ok()?;
        let scheme = parsed.scheme().to_ascii_lowercase();
        if !self.allowed_schemes.contains(&scheme) {
            return Some(format!(
                "JAR URI scheme '{scheme}' is not in the allowlist [{}] of operator {operator}: \
                 the operator downloads a session job's JAR itself. Use {}, or add the scheme \
                 to the operator's \"Allowed jar URI schemes\" \
                 (kubernetes.operator.user.artifacts.allowed-schemes)",
                self.allowed_schemes.join(", "),
                self.example(),
            ));
        }
        let web = matches!(scheme.as_str(), "http" | "https");
        if web
            && self.disallow_restricted_hosts
            && let Some(host) = parsed.host()
            && is_restricted_host(&host)
        {
            return Some(format!(
                "JAR URI host '{host}' is in-cluster, local or private, which operator \
                 {operator} refuses: use a public host, or turn on the operator's \"Allow \
                 in-cluster and private hosts\" \
                 (kubernetes.operator.user.artifacts.disallow-restricted-hosts)"
            ));
        }
        None
    }
}

/// Whether a host is one the operator refuses while restricted hosts are
/// disallowed, as far as it can be told without resolving it: loopback,
/// private, link-local, multicast and unspecified addresses, `localhost`,
/// single-label names and in-cluster service names (`*.svc`,
/// `*.cluster.local`, `*.local`).
pub fn is_restricted_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => is_restricted_ip(IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => is_restricted_ip(IpAddr::V6(*ip)),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            !name.contains('.')
                || name == "localhost"
                || [".localhost", ".svc", ".cluster.local", ".local"]
                    .iter()
                    .any(|suffix| name.ends_with(suffix))
        }
    }
}

/// Whether the operator refuses a JAR host that resolves to `ip`: what
/// Java's `InetAddress` calls loopback, link-local, site-local, any-local or
/// multicast, as the operator's `DefaultValidator.validateJarURI` checks
/// (release-1.15.0). Java's site-local is 10/8, 172.16/12, 192.168/16 and
/// `fec0::/10` (not the unique-local `fc00::/7`); an IPv4-mapped IPv6
/// address counts as its IPv4 address.
pub fn is_restricted_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_restricted_ip(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xffc0) == 0xfe80 // link-local
                    || (first & 0xffc0) == 0xfec0 // site-local
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::jobs::tests::context;
    use crate::catalog::jobs::{SessionContext, validate_session_job};
    use crate::catalog::params::raw;

    #[test]
    fn the_operators_artifact_rules_decide_a_session_jobs_jar() {
        let errors = validate_session_job(
            "etl",
            &raw(&[("jarURI", "local:///x.jar")]),
            &context(false),
        )
        .unwrap_err();
        assert!(
            errors["jarURI"].starts_with(
                "JAR URI scheme 'local' is not in the allowlist [https] of operator ops/flink-operator"
            ),
            "{}",
            errors["jarURI"]
        );
        assert!(errors["jarURI"].contains("Allowed jar URI schemes"));
        for private in [
            "https://localhost/etl.jar",
            "https://127.0.0.1/etl.jar",
            "https://10.1.2.3/etl.jar",
            "https://192.168.0.9:8443/etl.jar",
            "https://169.254.169.254/etl.jar",
            "https://[::1]/etl.jar",
            "https://[::ffff:10.0.0.1]/etl.jar",
            "https://0.0.0.0/etl.jar",
            "https://minio/etl.jar",
            "https://minio.data.svc/etl.jar",
            "https://minio.data.svc.cluster.local:9000/etl.jar",
        ] {
            let errors = validate_session_job("etl", &raw(&[("jarURI", private)]), &context(false))
                .unwrap_err();
            assert!(
                errors["jarURI"].contains("in-cluster, local or private"),
                "{private}: {errors:?}"
            );
        }
        let open = SessionContext {
            artifacts: ArtifactRules {
                allowed_schemes: vec!["https".into(), "s3".into(), "local".into()],
                disallow_restricted_hosts: false,
            },
            ..context(false)
        };
        for fine in [
            "https://minio.data.svc/etl.jar",
            "s3://jobs/etl.jar",
            "local:///x.jar",
        ] {
            assert!(
                validate_session_job("etl", &raw(&[("jarURI", fine)]), &open).is_ok(),
                "{fine}"
            );
        }
        assert!(
            validate_session_job(
                "etl",
                &raw(&[("jarURI", "https://8.8.8.8/etl.jar")]),
                &context(false)
            )
            .is_ok()
        );
    }

    #[test]
    fn the_hint_follows_the_operators_rules() {
        let strict = ArtifactRules::default();
        assert!(
            strict
                .help("ops/op")
                .contains("https://repo.example.org/jobs/etl.jar")
        );
        assert!(!strict.help("ops/op").contains("local://"));
        let s3 = ArtifactRules {
            allowed_schemes: vec!["s3".into()],
            disallow_restricted_hosts: true,
        };
        assert!(s3.help("ops/op").contains("e.g. s3://jobs/etl.jar"));
    }
}
