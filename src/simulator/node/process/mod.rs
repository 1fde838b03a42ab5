//! The **process node**: the simulated node's way to run pods for real.
//!
//! Pods with a container of an image it knows (the official `flink` image,
//! [`flink`]; MinIO's server and client images, [`minio`], whose stand-ins
//! S3Proxy and mc-standin run in their place; Prometheus's image, a real
//! Prometheus built from its Go module, [`prometheus`]; the official ZooKeeper
//! image, Apache ZooKeeper from its Maven artifacts, [`zookeeper`]) run as local processes, and the node plays the kubelet for them
//! ([`pod`]): volumes materialized ([`volumes`]), environment resolved
//! ([`env`]), an address of its own as the pod IP ([`network`]: of
//! 198.18.0.0/15, local through one route on `lo`, where the node may add
//! it, else of 127.0.0.0/8), so
//! every pod binds its own ports, cluster DNS as a
//! hosts file per pod ([`dns`]), the API server reachable as
//! `KUBERNETES_SERVICE_HOST`/`PORT` with the pod's own ServiceAccount token
//! (from its projected volume, given to Kubernetes clients as
//! `KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN` and `KUBERNETES_CERTS_CA_FILE`, the
//! fabric8 client's variables for the in-cluster token and CA, and never a
//! kubeconfig), so RBAC is real. Other containers of such a pod, and every other
//! pod, keep the simulated run. A stand-in, and it says so on the node.

mod cache;
mod dns;
mod env;
pub mod flink;
mod logs;
pub mod minio;
pub mod network;
mod pod;
mod pod_address;
pub mod prometheus;
mod status;
mod volumes;
pub mod zookeeper;

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::api::core::v1::{Container, Event, Pod};
use kube::Client;
use kube::api::{Api, PostParams};
use tokio::sync::watch;

pub use dns::ClusterDns;
pub use logs::{ContainerLog, simulated_log_message};
use pod::StopRequest;

/// Where a pod's ServiceAccount token, CA and namespace are mounted
/// (the ServiceAccount admission plugin's `kube-api-access-*` volume).
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Where the process node keeps things and finds what it runs.
#[derive(Debug, Clone)]
pub struct ProcessOptions {
    /// Sandboxes of the pods (volumes, logs, hosts files), one folder each.
    pub root: PathBuf,
    /// The cache holding `flink-<release>/` folders assembled by
    /// `testenv/flink/assemble.sh`, and MinIO's stand-ins (`s3proxy-<version>/`
    /// from `testenv/s3/assemble.sh`, `mc-standin-<hash>/` from
    /// `testenv/s3/mc-standin/build.sh`) and the HTTP server provider of
    /// Flink's metrics port (`pod-address-httpserver-<hash>/` from
    /// `testenv/flink/pod-address-httpserver/build.sh`), Apache ZooKeeper
    /// (`zookeeper-<version>/` from `testenv/zookeeper/assemble.sh`) and
    /// Prometheus (`prometheus-<release>-<hash>/` from
    /// `testenv/prometheus/build.sh`), looked for when a pod starts.
    pub flink_cache: PathBuf,
    /// The `java` launcher (Java 17) for Flink and MinIO's stand-ins.
    pub java: PathBuf,
}

/// What the node does with one container.
pub(crate) enum Launch {
    /// Run `bash <path>`; the note (if any) goes into the pod's status.
    Script { path: PathBuf, note: Option<String> },
    /// Not an image the node runs: reported running, nothing runs.
    Simulated,
    /// The image cannot be had here (shown as `ErrImagePull`).
    Unavailable(String),
    /// The container cannot be started as given (`RunContainerError`).
    Refused(String),
}

/// The process node: its options, the pods it runs and their addresses.
pub struct ProcessNode {
    client: Client,
    options: ProcessOptions,
    /// The API server as pods reach it: host and port.
    api_server: (String, u16),
    flink: Vec<flink::Release>,
    dns: Arc<ClusterDns>,
    http: reqwest::Client,
    pods: Mutex<HashMap<String, watch::Sender<StopRequest>>>,
    /// The pods it runs, and those that ended by themselves until they are
    /// deleted, by namespace and name: what its log endpoint reads.
    running: Mutex<HashMap<(String, String), Arc<pod::PodRun>>>,
    /// The pods' IPs.
    network: network::PodNetwork,
}

impl ProcessNode {
    /// A process node acting with `client` (the node's credentials), whose
    /// pods reach the API server at `api_server` (a URL).
    pub async fn new(
        client: Client,
        api_server: &url::Url,
        options: ProcessOptions,
    ) -> Arc<ProcessNode> {
        let host = api_server.host_str().unwrap_or("127.0.0.1").to_owned();
        let port = api_server.port_or_known_default().unwrap_or(443);
        let flink = flink::assembled(&options.flink_cache);
        let dns = Arc::new(ClusterDns::default());
        tokio::spawn(dns.clone().run(client.clone()));
        Arc::new(ProcessNode {
            client,
            options,
            api_server: (host, port),
            flink,
            dns,
            http: reqwest::Client::new(),
            pods: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            network: network::PodNetwork::new().await,
        })
    }

    /// An address of the node's pod network for a pod it only simulates,
    /// when that network is the test network: nothing listens there, so
    /// whoever dials the pod (the API server's service proxy to a simulated
    /// Grafana) is refused at once, as by a pod whose server is down, rather
    /// than reaching whatever the machine's network does with an unknown
    /// address. `None` on loopback addresses, which Kubernetes keeps out of
    /// endpoints, or when the block is full.
    pub fn simulated_pod_ip(&self) -> Option<Ipv4Addr> {
        (self.network.kind() == network::AddressKind::TestNetwork)
            .then(|| self.network.allocate().ok())
            .flatten()
    }

    /// Gives back the address a simulated pod had (none of the node's: nothing;
    /// a pod the node runs gives its own back when its processes have ended).
    pub fn release_simulated_pod_ip(&self, pod: &Pod) {
        if self.runs(pod) {
            return;
        }
        let ip = pod.status.as_ref().and_then(|s| s.pod_ip.as_deref());
        if let Some(ip) = ip.and_then(|ip| ip.parse().ok()) {
            self.network.release(ip);
        }
    }

    /// The cluster DNS of the node's pods (for the stand-in operator's calls).
    pub fn dns(&self) -> Arc<ClusterDns> {
        self.dns.clone()
    }

    /// The Flink releases assembled here when the node started: what it runs.
    pub fn flink_releases(&self) -> Vec<flink::Release> {
        self.flink.clone()
    }

    /// The API server as pods reach it: host and port.
    pub fn api_server(&self) -> (String, u16) {
        self.api_server.clone()
    }

    /// The node's Ready message: what runs for real and what is simulated.
    pub fn describe(&self) -> String {
        let releases: Vec<&str> = self.flink.iter().map(|r| r.version.as_str()).collect();
        format!(
            "dataport process node: flink pods run as real Flink processes (assembled releases: {}); MinIO's server pods run S3Proxy ({}) and its mc pods mc-standin ({}); prometheus pods run a real Prometheus ({}); zookeeper pods run Apache ZooKeeper ({}); every other pod is simulated, nothing runs; {}",
            if releases.is_empty() {
                "none".to_owned()
            } else {
                releases.join(", ")
            },
            match minio::s3proxy(&self.options.flink_cache) {
                Ok((version, _)) => version,
                Err(_) => "not assembled".to_owned(),
            },
            if minio::mc_standin(&self.options.flink_cache).is_ok() {
                "built"
            } else {
                "not built"
            },
            match prometheus::built(&self.options.flink_cache) {
                Ok((release, _)) => release,
                Err(_) => "not built".to_owned(),
            },
            match zookeeper::assembled(&self.options.flink_cache) {
                Ok((release, _)) => release,
                Err(_) => "not assembled".to_owned(),
            },
            match self.network.kind() {
                network::AddressKind::TestNetwork =>
                    "pod IPs of 198.18.0.0/15 (a local route on lo)",
                network::AddressKind::Loopback =>
                    "loopback pod IPs (not root: no Service endpoints, no API server proxy)",
            },
        )
    }

    /// Whether the node runs `pod` itself: one of its containers has an image it knows.
    pub fn runs(&self, pod: &Pod) -> bool {
        pod.spec.iter().flat_map(|s| s.containers.iter()).any(|c| {
            c.image.as_deref().is_some_and(|image| {
                flink::image_release(image).is_some()
                    || minio::image_kind(image).is_some()
                    || prometheus::image_release(image).is_some()
                    || zookeeper::image_release(image).is_some()
            })
        })
    }

    /// Starts a pod it has not seen, or stops one being deleted.
    pub fn sync(self: &Arc<Self>, pod: &Pod) {
        let Some(uid) = pod.metadata.uid.clone() else {
            return;
        };
        let mut pods = self.pods.lock().unwrap_or_else(PoisonError::into_inner);
        if pod.metadata.deletion_timestamp.is_some() {
            let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(30);
            // A pod whose run ended by itself (a Job's) has nobody listening:
            // it is deleted at once, as the kubelet deletes a terminated pod.
            let ended = match pods.get(&uid) {
                Some(stop) => stop.send(Some((grace, true))).is_err(),
                None => true,
            };
            if ended {
                // Ended, or never started here (the node restarted): only the
                // final delete.
                let (stop, receiver) = watch::channel(Some((0, true)));
                pods.insert(uid, stop);
                let ip = Some(Ipv4Addr::LOCALHOST);
                tokio::spawn(pod::supervise(self.clone(), pod.clone(), ip, receiver));
            }
            return;
        }
        if pods.contains_key(&uid) {
            return;
        }
        let (stop, receiver) = watch::channel(None);
        pods.insert(uid, stop);
        tokio::spawn(pod::supervise(self.clone(), pod.clone(), None, receiver));
    }

    /// Stops a pod that is gone from the API server, and forgets its logs.
    pub fn forget(&self, pod: &Pod) {
        let Some(uid) = pod.metadata.uid.as_deref() else {
            return;
        };
        {
            let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            let key = (
                pod.metadata.namespace.clone().unwrap_or_default(),
                pod.metadata.name.clone().unwrap_or_default(),
            );
            if running
                .get(&key)
                .is_some_and(|run| run.pod.metadata.uid.as_deref() == Some(uid))
            {
                running.remove(&key);
            }
        }
        if let Some(stop) = self
            .pods
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(uid)
        {
            let _ = stop.send(Some((0, false)));
        }
    }

    /// What every container of the node gets: `HOSTNAME`, the API server's
    /// service variables, the in-cluster token and CA paths for Kubernetes
    /// clients, where the container's mounts put them.
    fn pod_env(&self, pod_name: &str, mounts: &volumes::Mounts) -> BTreeMap<String, String> {
        let (host, port) = &self.api_server;
        let mut env = BTreeMap::new();
        env.insert("HOSTNAME".into(), pod_name.to_owned());
        env.insert("KUBERNETES_SERVICE_HOST".into(), host.clone());
        env.insert("KUBERNETES_SERVICE_PORT".into(), port.to_string());
        env.insert("KUBERNETES_SERVICE_PORT_HTTPS".into(), port.to_string());
        env.insert("KUBERNETES_PORT".into(), format!("tcp://{host}:{port}"));
        // A pod has no kubeconfig; only its token speaks for it.
        env.insert("KUBERNETES_AUTH_TRYKUBECONFIG".into(), "false".into());
        // The pod's token and CA where its projected volume put them.
        if let Some(local) = mounts.resolve(SERVICE_ACCOUNT_DIR) {
            env.insert(
                "KUBERNETES_AUTH_SERVICEACCOUNT_TOKEN".into(),
                local.join("token").display().to_string(),
            );
            env.insert(
                "KUBERNETES_CERTS_CA_FILE".into(),
                local.join("ca.crt").display().to_string(),
            );
        }
        env
    }

    /// How to start the container of `start`.
    fn launch(&self, start: &ContainerStart) -> Launch {
        let image = start.container.image.clone().unwrap_or_default();
        if let Some(kind) = minio::image_kind(&image) {
            return self.launch_minio(kind, start);
        }
        if let Some(wanted) = prometheus::image_release(&image) {
            return self.launch_prometheus(wanted, start);
        }
        if let Some(wanted) = zookeeper::image_release(&image) {
            return self.launch_zookeeper(wanted, start);
        }
        let Some(wanted) = flink::image_release(&image) else {
            return Launch::Simulated;
        };
        let release = match flink::choose(&self.flink, &wanted) {
            Ok(release) => release,
            Err(message) => return Launch::Unavailable(message),
        };
        let provider = match pod_address::jar(&self.options.flink_cache) {
            Ok(jar) => jar,
            Err(message) => return Launch::Unavailable(message),
        };
        if let Err(error) = std::fs::create_dir_all(start.dir) {
            return Launch::Refused(error.to_string());
        }
        match flink::start_script(start, release, &provider) {
            Ok(path) => Launch::Script {
                path,
                note: (release.version != wanted).then(|| {
                    format!(
                        "{image} run as Flink {} (the nearest release assembled here)",
                        release.version
                    )
                }),
            },
            Err(error) => Launch::Refused(error.to_string()),
        }
    }

    /// How to start a container of Prometheus's image: its command with the
    /// Prometheus built here ([`prometheus`]).
    fn launch_prometheus(&self, wanted: Option<String>, start: &ContainerStart) -> Launch {
        let (release, binary) = match prometheus::built(&self.options.flink_cache) {
            Ok(built) => built,
            Err(message) => return Launch::Unavailable(message),
        };
        let image = start.container.image.clone().unwrap_or_default();
        match prometheus::start_script(start, &binary) {
            Ok(path) => Launch::Script {
                path,
                note: (wanted.as_deref() != Some(release.as_str())).then(|| {
                    format!("{image} run as Prometheus {release} (the release built here)")
                }),
            },
            Err(error) => Launch::Refused(error.to_string()),
        }
    }

    /// How to start a container of the official ZooKeeper image: its command
    /// with Apache ZooKeeper assembled here ([`zookeeper`]).
    fn launch_zookeeper(&self, wanted: Option<String>, start: &ContainerStart) -> Launch {
        let (release, home) = match zookeeper::assembled(&self.options.flink_cache) {
            Ok(assembled) => assembled,
            Err(message) => return Launch::Unavailable(message),
        };
        let image = start.container.image.clone().unwrap_or_default();
        match zookeeper::start_script(start, &home) {
            Ok(path) => Launch::Script {
                path,
                note: (wanted.as_deref() != Some(release.as_str())).then(|| {
                    format!("{image} run as ZooKeeper {release} (the release assembled here)")
                }),
            },
            Err(error) => Launch::Refused(error.to_string()),
        }
    }

    /// How to start a container of MinIO's images: S3Proxy for the server,
    /// the command with mc-standin as `mc` for the client ([`minio`]).
    fn launch_minio(&self, kind: minio::Image, start: &ContainerStart) -> Launch {
        let cache = &self.options.flink_cache;
        if let Err(error) = std::fs::create_dir_all(start.dir) {
            return Launch::Refused(error.to_string());
        }
        let (written, note) = match kind {
            minio::Image::Server => match minio::s3proxy(cache) {
                Ok((version, home)) => (
                    minio::server_script(start, &home),
                    format!("MinIO's server run as S3Proxy {version} (no console)"),
                ),
                Err(message) => return Launch::Unavailable(message),
            },
            minio::Image::Client => match minio::mc_standin(cache) {
                Ok(jar) => (
                    minio::client_script(start, &jar),
                    "mc run as dataport's mc-standin".to_owned(),
                ),
                Err(message) => return Launch::Unavailable(message),
            },
        };
        match written {
            Ok(path) => Launch::Script {
                path,
                note: Some(note),
            },
            Err(error) => Launch::Refused(error.to_string()),
        }
    }
}

/// What the node knows of a container when it writes its start script.
pub struct ContainerStart<'a> {
    pub container: &'a Container,
    /// The container's resolved environment.
    pub env: &'a BTreeMap<String, String>,
    pub mounts: &'a volumes::Mounts,
    pub pod_ip: Ipv4Addr,
    /// The container's own folder (scripts, plugins, tmp, logs of the process's own files).
    pub dir: &'a Path,
    /// The pod's hosts file (cluster DNS).
    pub hosts_file: &'a Path,
    /// The `java` launcher.
    pub java: &'a Path,
}

/// The repository and tag of image reference `image`, as a container runtime
/// reads it: a digest (`@sha256:…`) dropped, the tag after the last `:` that
/// follows the last `/`, Docker Hub's `docker.io/` and `library/` prefixes
/// dropped (`docker.io/library/zookeeper:3.9` → `("zookeeper", Some("3.9"))`).
pub(crate) fn image_reference(image: &str) -> (&str, Option<&str>) {
    let name = image.split('@').next().unwrap_or(image);
    let (repository, tag) = match name.rfind(':') {
        Some(colon) if !name[colon..].contains('/') => (&name[..colon], Some(&name[colon + 1..])),
        _ => (name, None),
    };
    let repository = repository.strip_prefix("docker.io/").unwrap_or(repository);
    let repository = repository.strip_prefix("library/").unwrap_or(repository);
    (repository, tag)
}

/// `text` quoted for bash.
pub(crate) fn shell_quote(text: &str) -> String {
    shlex::try_quote(text)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| format!("'{}'", text.replace('\0', "")))
}

/// A core/v1 Event about `pod` from the kubelet (component `kubelet`), as
/// `kubectl describe pod` lists them.
async fn record_event(client: &Client, pod: &Pod, kind: &str, reason: &str, message: &str) {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let api: Api<Event> = Api::namespaced(client.clone(), &namespace);
    let now = chrono::Utc::now();
    let event = serde_json::json!({
        "metadata": {"generateName": format!("{}.", pod.metadata.name.clone().unwrap_or_default())},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod.metadata.name, "namespace": namespace, "uid": pod.metadata.uid},
        "type": kind,
        "reason": reason,
        "message": message,
        "source": {"component": "kubelet", "host": pod.spec.as_ref().and_then(|s| s.node_name.clone())},
        "reportingComponent": "kubelet",
        "firstTimestamp": now.to_rfc3339(),
        "lastTimestamp": now.to_rfc3339(),
        "count": 1,
    });
    let Ok(event) = serde_json::from_value::<Event>(event) else {
        return;
    };
    if let Err(error) = api.create(&PostParams::default(), &event).await {
        tracing::debug!(%error, "kubelet event not recorded");
    }
}
