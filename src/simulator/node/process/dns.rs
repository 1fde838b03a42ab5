//! Cluster DNS for the node's processes, as hosts files handed to each JVM
//! with `-Djdk.net.hosts.file` (read by the JDK on every lookup).
//!
//! The names are cluster DNS's (the Kubernetes DNS specification,
//! kubernetes/dns `docs/specification.md`): `<service>.<namespace>.svc.cluster.local`
//! and what a pod's search path (`<namespace>.svc.cluster.local svc.cluster.local
//! cluster.local`) makes of `<service>`, `<service>.<namespace>` and
//! `<service>.<namespace>.svc`; `<hostname>.<subdomain>...` for pods with both.
//!
//! The addresses are the node's own pods that a Service selects (ready, or
//! any with `publishNotReadyAddresses`), not EndpointSlices: with loopback
//! pod IPs (the node's fallback, [`super::network`]) the API server refuses
//! them in an EndpointSlice ("may not be in the loopback range"), so the
//! endpoint controllers cannot publish these pods. Service IPs
//! cannot be routed here either, so a Service's names point at its pods' IPs
//! (for headless Services this is what DNS answers anyway): a Service whose
//! `port` differs from its `targetPort` is not reachable under its own port.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use kube::Client;
use kube::api::{Api, ListParams};

/// How often Services are read again.
const REFRESH: Duration = Duration::from_secs(2);

/// The cluster's domain, as kubelets are usually configured (`clusterDomain`).
pub const CLUSTER_DOMAIN: &str = "cluster.local";

/// A pod of the node: what Services select it by, and its hosts file.
#[derive(Debug, Clone, PartialEq)]
struct Resolver {
    file: PathBuf,
    namespace: String,
    pod_name: String,
    ip: Ipv4Addr,
    labels: BTreeMap<String, String>,
    /// `spec.hostname` and `spec.subdomain`, when both are set.
    host: Option<(String, String)>,
    ready: bool,
}

/// The hosts files of the node's running pods, kept current.
#[derive(Default)]
pub struct ClusterDns {
    pods: Mutex<BTreeMap<String, Resolver>>,
    services: Mutex<Vec<Service>>,
    /// Name → addresses, as last written.
    names: Mutex<BTreeMap<String, BTreeSet<Ipv4Addr>>>,
}

impl ClusterDns {
    /// Adds a pod (by uid) whose hosts file is `file`, and writes it now.
    pub fn add(
        &self,
        uid: &str,
        file: PathBuf,
        pod: &k8s_openapi::api::core::v1::Pod,
        ip: Ipv4Addr,
    ) {
        let spec = pod.spec.as_ref();
        let resolver = Resolver {
            file,
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            pod_name: pod.metadata.name.clone().unwrap_or_default(),
            ip,
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            host: spec.and_then(|s| Some((s.hostname.clone()?, s.subdomain.clone()?))),
            ready: false,
        };
        let names = self
            .names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        write(&resolver, &names);
        self.pods
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(uid.to_owned(), resolver);
        self.refresh();
    }

    /// Notes whether a pod is ready (Services publish only ready pods).
    pub fn set_ready(&self, uid: &str, ready: bool) {
        let changed = {
            let mut pods = self.pods.lock().unwrap_or_else(PoisonError::into_inner);
            match pods.get_mut(uid) {
                Some(pod) if pod.ready != ready => {
                    pod.ready = ready;
                    true
                }
                _ => false,
            }
        };
        if changed {
            self.refresh();
        }
    }

    /// Forgets a pod.
    pub fn remove(&self, uid: &str) {
        self.pods
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(uid);
        self.refresh();
    }

    /// The address a name has now (for the node's and the stand-in
    /// operator's own calls into pods).
    pub fn lookup(&self, name: &str) -> Option<Ipv4Addr> {
        let names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        let name = name.trim_end_matches('.');
        // As a pod's search path completes `svc.ns` and `svc.ns.svc`.
        [
            name.to_owned(),
            format!("{name}.{CLUSTER_DOMAIN}"),
            format!("{name}.svc.{CLUSTER_DOMAIN}"),
        ]
        .iter()
        .find_map(|candidate| names.get(candidate))
        .and_then(|ips| ips.iter().next().copied())
    }

    /// Reads every Service and keeps the hosts files current, forever.
    pub async fn run(self: Arc<Self>, client: Client) {
        let api: Api<Service> = Api::all(client);
        loop {
            match api.list(&ListParams::default()).await {
                Ok(list) => {
                    *self.services.lock().unwrap_or_else(PoisonError::into_inner) = list.items;
                    self.refresh();
                }
                Err(error) => tracing::debug!(%error, "cluster DNS: services not read"),
            }
            tokio::time::sleep(REFRESH).await;
        }
    }

    /// Recomputes the names and rewrites every hosts file when they changed.
    fn refresh(&self) {
        let pods: Vec<Resolver> = self
            .pods
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let names = {
            let services = self.services.lock().unwrap_or_else(PoisonError::into_inner);
            names(&services, &pods)
        };
        {
            let mut current = self.names.lock().unwrap_or_else(PoisonError::into_inner);
            if *current == names {
                return;
            }
            *current = names.clone();
        }
        for pod in &pods {
            write(pod, &names);
        }
    }
}

/// Fully qualified names of the pods each Service selects.
fn names(services: &[Service], pods: &[Resolver]) -> BTreeMap<String, BTreeSet<Ipv4Addr>> {
    let mut names: BTreeMap<String, BTreeSet<Ipv4Addr>> = BTreeMap::new();
    for service in services {
        let (Some(name), Some(namespace), Some(spec)) = (
            service.metadata.name.as_ref(),
            service.metadata.namespace.as_ref(),
            service.spec.as_ref(),
        ) else {
            continue;
        };
        let Some(selector) = spec.selector.as_ref().filter(|s| !s.is_empty()) else {
            continue;
        };
        let not_ready_too = spec.publish_not_ready_addresses == Some(true);
        let fqdn = format!("{name}.{namespace}.svc.{CLUSTER_DOMAIN}");
        for pod in pods {
            let selected = pod.namespace == *namespace
                && selector.iter().all(|(k, v)| pod.labels.get(k) == Some(v));
            if !selected || !(pod.ready || not_ready_too) {
                continue;
            }
            names.entry(fqdn.clone()).or_default().insert(pod.ip);
            if let Some((hostname, subdomain)) = &pod.host
                && subdomain == name
            {
                names
                    .entry(format!("{hostname}.{fqdn}"))
                    .or_default()
                    .insert(pod.ip);
            }
        }
    }
    names
}

/// One pod's hosts file: its own names, then every Service name as the pod's
/// search path would complete it.
fn render(pod: &Resolver, names: &BTreeMap<String, BTreeSet<Ipv4Addr>>) -> String {
    let mut text =
        String::from("# written by the dataport process node: cluster DNS for this pod\n");
    // A pod's localhost is its own network namespace; here its own pod IP
    // stands for that (Flink's JarRunHandler uploads job files to the
    // BlobServer at `localhost`, which binds the pod IP here).
    text.push_str(&format!("{} localhost\n", pod.ip));
    let host = hostname();
    text.push_str(&format!("{} {} {host}\n", pod.ip, pod.pod_name));
    let ns_suffix = format!(".{}.svc.{CLUSTER_DOMAIN}", pod.namespace);
    let svc_suffix = format!(".svc.{CLUSTER_DOMAIN}");
    for (fqdn, ips) in names {
        let mut aliases = vec![fqdn.clone()];
        if let Some(short) = fqdn.strip_suffix(&ns_suffix) {
            aliases.push(short.to_owned());
        }
        if let Some(with_ns) = fqdn.strip_suffix(&svc_suffix) {
            aliases.push(with_ns.to_owned());
            aliases.push(format!("{with_ns}.svc"));
        }
        for ip in ips {
            text.push_str(&format!("{ip} {}\n", aliases.join(" ")));
        }
    }
    text
}

fn write(pod: &Resolver, names: &BTreeMap<String, BTreeSet<Ipv4Addr>>) {
    let text = render(pod, names);
    // Written aside and renamed, so that a lookup never reads half a file.
    let temporary = pod.file.with_extension("new");
    let result =
        std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, &pod.file));
    if let Err(error) = result {
        tracing::debug!(%error, file = %pod.file.display(), "cluster DNS: hosts file not written");
    }
}

/// This machine's host name: `InetAddress.getLocalHost()` looks it up, and in
/// a pod it is the pod's own name, so it resolves to the pod IP.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(
        namespace: &str,
        name: &str,
        ip: [u8; 4],
        labels: &[(&str, &str)],
        ready: bool,
    ) -> Resolver {
        Resolver {
            file: PathBuf::from("/dev/null"),
            namespace: namespace.into(),
            pod_name: name.into(),
            ip: Ipv4Addr::from(ip),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            host: None,
            ready,
        }
    }

    #[test]
    fn services_name_the_ready_pods_they_select() {
        let service: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "flink-main-rest", "namespace": "streaming"},
            "spec": {"selector": {"app": "flink-main", "component": "jobmanager"}},
        }))
        .expect("service");
        let pods = vec![
            resolver(
                "streaming",
                "jm",
                [127, 1, 0, 2],
                &[("app", "flink-main"), ("component", "jobmanager")],
                true,
            ),
            resolver(
                "streaming",
                "tm",
                [127, 1, 0, 3],
                &[("app", "flink-main"), ("component", "taskmanager")],
                true,
            ),
            resolver(
                "other",
                "jm",
                [127, 1, 0, 4],
                &[("app", "flink-main"), ("component", "jobmanager")],
                true,
            ),
            resolver(
                "streaming",
                "jm2",
                [127, 1, 0, 5],
                &[("app", "flink-main"), ("component", "jobmanager")],
                false,
            ),
        ];
        let names = names(&[service], &pods);
        assert_eq!(
            names.get("flink-main-rest.streaming.svc.cluster.local"),
            Some(&BTreeSet::from([Ipv4Addr::new(127, 1, 0, 2)]))
        );
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_pod_finds_services_by_the_names_its_search_path_completes() {
        let mut names = BTreeMap::new();
        names.insert(
            "flink-main.streaming.svc.cluster.local".to_owned(),
            BTreeSet::from([Ipv4Addr::new(127, 1, 0, 7)]),
        );
        names.insert(
            "minio.storage.svc.cluster.local".to_owned(),
            BTreeSet::from([Ipv4Addr::new(127, 1, 0, 9)]),
        );
        let pod = Resolver {
            file: PathBuf::from("/dev/null"),
            namespace: "streaming".into(),
            pod_name: "flink-main-tm-1".into(),
            ip: Ipv4Addr::new(127, 1, 0, 8),
            labels: BTreeMap::new(),
            host: None,
            ready: true,
        };
        let text = render(&pod, &names);
        assert!(text.contains("127.1.0.7 flink-main.streaming.svc.cluster.local flink-main flink-main.streaming flink-main.streaming.svc\n"), "{text}");
        // Another namespace's Service has no short name here.
        assert!(
            text.contains(
                "127.1.0.9 minio.storage.svc.cluster.local minio.storage minio.storage.svc\n"
            ),
            "{text}"
        );
        assert!(text.contains("127.1.0.8 flink-main-tm-1 "), "{text}");
    }
}
