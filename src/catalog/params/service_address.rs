//! Objects named in a form across namespaces: `namespace/name`, and a
//! Service with its port as `namespace/name:port`.

use super::is_dns_label;

/// A Service's address as `namespace/name:port`, its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAddress {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its port.
    pub port: u16,
}

/// Parses `namespace/name:port` (both DNS labels, the port 1 to 65535);
/// the error says what is wrong, for the form.
pub fn parse_service(raw: &str) -> Result<ServiceAddress, String> {
    let wrong = || {
        format!(
            "{raw:?} is not a Service as namespace/name:port, e.g. \
             monitoring/prometheus-operated:9090"
        )
    };
    let (object, port) = raw.trim().rsplit_once(':').ok_or_else(wrong)?;
    let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or_else(wrong)?;
    let (namespace, name) = parse_namespaced_name(object).ok_or_else(wrong)?;
    Ok(ServiceAddress {
        namespace,
        name,
        port,
    })
}

/// Parses `namespace/name` (surrounding blanks ignored), both DNS labels;
/// `None` otherwise.
pub fn parse_namespaced_name(raw: &str) -> Option<(String, String)> {
    raw.trim()
        .split_once('/')
        .filter(|(namespace, name)| is_dns_label(namespace, 63) && is_dns_label(name, 63))
        .map(|(namespace, name)| (namespace.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_namespaced_names_are_dns_labels_around_a_slash() {
        assert_eq!(
            parse_service(" monitoring/prometheus-operated:9090 "),
            Ok(ServiceAddress {
                namespace: "monitoring".into(),
                name: "prometheus-operated".into(),
                port: 9090,
            })
        );
        for wrong in [
            "monitoring/prometheus",
            "prometheus:9090",
            "a/b:0",
            "A/b:80",
            "a/b/c:80",
        ] {
            assert!(parse_service(wrong).is_err(), "{wrong}");
        }
        assert_eq!(
            parse_namespaced_name("monitoring/prometheus"),
            Some(("monitoring".into(), "prometheus".into()))
        );
        assert_eq!(parse_namespaced_name("prometheus"), None);
        assert_eq!(parse_namespaced_name("monitoring/Prometheus"), None);
    }
}
