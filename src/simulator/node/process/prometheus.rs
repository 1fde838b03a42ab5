//! Prometheus's image (`prom/prometheus`) on the process node: the
//! container's own command runs with a real Prometheus server, built from
//! upstream's Go module by `testenv/prometheus/build.sh` into the node's
//! cache (`prometheus-<release>-<hash>/prometheus`). Debian's `prometheus`
//! package cannot stand in: it is built without Kubernetes service discovery
//! (its NEWS.Debian, 1.5.0+ds-1: "Kubernetes support has been completely
//! removed"), and its promtool refuses `kubernetes_sd_configs`.
//!
//! The image's contract, read from prometheus/prometheus `Dockerfile`
//! (`ENTRYPOINT ["/bin/prometheus"]`, `CMD ["--config.file=/etc/prometheus/prometheus.yml",
//! "--storage.tsdb.path=/prometheus"]`, `EXPOSE 9090`, `VOLUME ["/prometheus"]`):
//! - the container's command and arguments run as given, with `/bin/prometheus`
//!   (the entrypoint) the server built here; another program is refused;
//! - the container's volumes are seen at their paths in the container, as a
//!   container runtime shows them: the script runs in a mount namespace of its
//!   own (`unshare --mount`) where each volume's folder is bound onto its
//!   mount path. So `--config.file`, `--storage.tsdb.path` and the paths inside
//!   `prometheus.yml` mean what they mean in the pod, and Kubernetes service
//!   discovery in-cluster (client-go's `rest.InClusterConfig`: the token and
//!   CA at the fixed `/var/run/secrets/kubernetes.io/serviceaccount/`,
//!   `KUBERNETES_SERVICE_HOST`/`PORT`) speaks for the pod's own
//!   ServiceAccount, whose projected volume is mounted there. The mount
//!   points are made on the machine (empty folders) when missing;
//! - **What differs**: the pod's network namespace is its loopback pod IP, so
//!   `--web.listen-address` (default `0.0.0.0:9090`) is given with the pod IP
//!   for its host. Cluster names do not resolve (the node's cluster DNS is a
//!   hosts file per pod, replaced on each change, which a bind onto
//!   `/etc/hosts` would not follow): discovery gives pod IPs, and the API
//!   server is an address. An image of another release runs the release
//!   built here, which the pod's status says.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::flink::StartError;
use super::{ContainerStart, shell_quote as quote};

/// The image's entrypoint.
const ENTRYPOINT: &str = "/bin/prometheus";

/// The image's default command after the entrypoint.
const DEFAULT_ARGS: &[&str] = &[
    "--config.file=/etc/prometheus/prometheus.yml",
    "--storage.tsdb.path=/prometheus",
];

/// Prometheus's default `--web.listen-address` port.
const DEFAULT_PORT: &str = "9090";

/// Whether `image` is Prometheus's (`prom/prometheus`, also as
/// `docker.io/prom/prometheus` or `quay.io/prometheus/prometheus`), and its
/// release (`3.5.0` from `v3.5.0`; `None` for a tag that is no release).
pub fn image_release(image: &str) -> Option<Option<String>> {
    let (repository, tag) = super::image_reference(image);
    if repository != "prom/prometheus" && repository != "quay.io/prometheus/prometheus" {
        return None;
    }
    Some(tag.map(|t| t.trim_start_matches('v').to_owned()))
}

/// The server built in `cache`: the newest `prometheus-<release>-<hash>/`
/// holding `prometheus` (written last by `testenv/prometheus/build.sh`), as
/// `(release, binary)`. `Err` is the waiting message.
pub fn built(cache: &Path) -> Result<(String, PathBuf), String> {
    super::cache::newest_build(cache, "prometheus-", "prometheus")
        .and_then(|(folder, binary)| {
            let (release, _hash) = folder.strip_prefix("prometheus-")?.rsplit_once('-')?;
            Some((release.to_owned(), binary))
        })
        .ok_or_else(|| {
            format!(
                "dataport process node: Prometheus's image runs the Prometheus server built from its Go module here, and it is not built in {}: run testenv/prometheus/build.sh",
                cache.display()
            )
        })
}

/// The container's start script (the module says what it does), written
/// into its folder; run it with bash.
pub fn start_script(start: &ContainerStart, binary: &Path) -> Result<PathBuf, StartError> {
    let container = start.container;
    let mut argv: Vec<String> = container
        .command
        .clone()
        .unwrap_or_else(|| vec![ENTRYPOINT.into()]);
    match &container.args {
        Some(args) => argv.extend(args.iter().cloned()),
        None if container.command.is_none() => {
            argv.extend(DEFAULT_ARGS.iter().map(|a| a.to_string()));
        }
        None => {}
    }
    let (program, flags) = argv
        .split_first()
        .ok_or_else(|| StartError::Unsupported("empty command".into()))?;
    if program != ENTRYPOINT && program != "prometheus" {
        return Err(StartError::Unsupported(format!(
            "the prometheus image runs only {ENTRYPOINT} here, not {program}"
        )));
    }
    let ip = start.pod_ip;
    let mut args: Vec<String> = Vec::new();
    let mut listen = None;
    let mut flags = flags.iter();
    while let Some(flag) = flags.next() {
        if let Some(address) = flag.strip_prefix("--web.listen-address=") {
            listen = Some(address.to_owned());
        } else if flag == "--web.listen-address" {
            listen = flags.next().cloned();
        } else {
            args.push(flag.clone());
        }
    }
    let port = listen
        .as_deref()
        .and_then(|a| a.rsplit_once(':'))
        .map_or(DEFAULT_PORT, |(_, port)| port)
        .to_owned();
    args.push(format!("--web.listen-address={ip}:{port}"));

    let mut text = String::from(
        "#!/usr/bin/env bash\n# Written by the dataport process node: Prometheus's image with the Prometheus\n# built here (see src/simulator/node/process/prometheus.rs).\nset -u\n",
    );
    text.push_str(&own_mounts(start));
    let _ = writeln!(
        text,
        "exec {} {}",
        quote(&binary.display().to_string()),
        args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
    );
    std::fs::create_dir_all(start.dir)?;
    let path = start.dir.join("start.sh");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Script lines that rerun the script in a mount namespace of its own, bind
/// each volume onto its path in the container, and start in the image's
/// `WORKDIR` (`/prometheus`) when it is there.
fn own_mounts(start: &ContainerStart) -> String {
    let mut text = String::from(
        "if [ -z \"${DATAPORT_OWN_MOUNTS:-}\" ]; then export DATAPORT_OWN_MOUNTS=1; \
         exec unshare --mount --propagation private bash \"$0\" \"$@\"; fi\n",
    );
    for (path, local) in start.mounts.all() {
        let failed = quote(&format!(
            "dataport process node: cannot bind {} onto {path} (needs root and unshare)",
            local.display()
        ));
        let (path, local) = (quote(&path), quote(&local.display().to_string()));
        let _ = writeln!(
            text,
            "if [ -d {local} ]; then mkdir -p {path}; else mkdir -p \"$(dirname {path})\"; [ -e {path} ] || touch {path}; fi\n\
             mount --bind {local} {path} || {{ echo {failed} >&2; exit 1; }}"
        );
    }
    text.push_str("cd /prometheus 2>/dev/null || true\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_images_name_their_release() {
        assert_eq!(
            image_release("prom/prometheus:v3.5.0"),
            Some(Some("3.5.0".into()))
        );
        assert_eq!(
            image_release("quay.io/prometheus/prometheus:v2.53.3"),
            Some(Some("2.53.3".into()))
        );
        assert_eq!(image_release("docker.io/prom/prometheus"), Some(None));
        assert_eq!(image_release("prom/alertmanager:v0.28.1"), None);
        assert_eq!(image_release("grafana/grafana:12.0.0"), None);
    }

    #[test]
    fn the_newest_build_is_found_and_a_missing_one_named() {
        let cache = tempfile::tempdir().expect("temporary folder");
        let missing = built(cache.path()).expect_err("nothing built");
        assert!(missing.contains("testenv/prometheus/build.sh"), "{missing}");
        let dir = cache.path().join("prometheus-3.5.0-0123abcd");
        std::fs::create_dir_all(&dir).expect("folder");
        std::fs::write(dir.join("prometheus"), b"binary").expect("binary");
        assert_eq!(
            built(cache.path()).expect("built"),
            ("3.5.0".to_owned(), dir.join("prometheus"))
        );
    }
}
