//! A Service named in a form as `namespace/name:port`.

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
    let (namespace, rest) = raw.trim().split_once('/').ok_or_else(wrong)?;
    let (name, port) = rest.split_once(':').ok_or_else(wrong)?;
    let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or_else(wrong)?;
    if !is_dns_label(namespace, 63) || !is_dns_label(name, 63) {
        return Err(wrong());
    }
    Ok(ServiceAddress {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        port,
    })
}
