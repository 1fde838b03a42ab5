//! Each Flink pod's own metrics port: the JVM flags that make the JDK's HTTP
//! server bind the pod's IP where Flink asks for the wildcard address.
//!
//! Flink's Prometheus reporter (flink-metrics-prometheus, release-1.20.0 and
//! release-2.0.0, `PrometheusReporter`) serves on `new InetSocketAddress(port)`,
//! all addresses, through simpleclient_httpserver 0.8.1's `HTTPServer`, which
//! the plugin jar bundles and which calls the JDK's
//! `com.sun.net.httpserver.HttpServer.create`. In a pod that is the pod's own
//! network namespace; on the process node, where pods are loopback addresses
//! of one machine, the second pod would find port 9249 taken ("Could not
//! instantiate MetricReporter prom"). The JDK takes the server's provider from
//! the system property `com.sun.net.httpserver.HttpServerProvider`; dataport's
//! provider (`testenv/flink/pod-address-httpserver`, built into the node's
//! cache) binds the wildcard to the pod IP given as `dataport.pod.ip`.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// The provider class in the jar.
const PROVIDER: &str = "local.dataport.podaddress.PodAddressHttpServerProvider";

/// The provider's jar in `cache` (`pod-address-httpserver-<hash>/`, the newest
/// build), or why there is none (the waiting message of a Flink container).
pub fn jar(cache: &Path) -> Result<PathBuf, String> {
    super::cache::newest_build(cache, "pod-address-httpserver-", "pod-address-httpserver.jar")
        .map(|(_, jar)| jar)
        .ok_or_else(|| {
            format!(
                "dataport process node: Flink's pods serve their metrics port on their own pod IP through dataport's HTTP server provider, which is not built in {}: run testenv/flink/pod-address-httpserver/build.sh",
                cache.display()
            )
        })
}

/// The JVM options that select the provider for a process of pod `ip` (its
/// jar goes on the classpath; the export lets it start the JDK's own server).
pub fn java_options(ip: Ipv4Addr) -> String {
    format!(
        "--add-exports=jdk.httpserver/sun.net.httpserver=ALL-UNNAMED \
         -Dcom.sun.net.httpserver.HttpServerProvider={PROVIDER} -Ddataport.pod.ip={ip}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_build_is_found_and_a_missing_one_named() {
        let cache = tempfile::tempdir().expect("temporary folder");
        let missing = jar(cache.path()).expect_err("nothing built");
        assert!(
            missing.contains("pod-address-httpserver/build.sh"),
            "{missing}"
        );
        let dir = cache.path().join("pod-address-httpserver-0123");
        std::fs::create_dir_all(&dir).expect("folder");
        std::fs::write(dir.join("pod-address-httpserver.jar"), b"jar").expect("jar");
        assert_eq!(
            jar(cache.path()).expect("built"),
            dir.join("pod-address-httpserver.jar")
        );
        let options = java_options(Ipv4Addr::new(127, 9, 0, 2));
        assert!(options.contains("-Ddataport.pod.ip=127.9.0.2"), "{options}");
        assert!(options.contains(PROVIDER), "{options}");
    }
}
