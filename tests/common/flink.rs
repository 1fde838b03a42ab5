//! Real Flink on the local cluster, as a test reads it: the JobManager pod
//! the process node runs, and Flink's REST API on its pod IP.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::Value;

use super::operator::eventually;

/// The JobManager's REST answer at `path` (port 8081 of `pod_ip`); `None`
/// while it does not answer with JSON.
pub async fn rest(pod_ip: &str, path: &str) -> Option<Value> {
    let answer = reqwest::get(format!("http://{pod_ip}:8081{path}"))
        .await
        .ok()?;
    answer.error_for_status().ok()?.json().await.ok()
}

/// The running JobManager pod of Flink cluster `cluster`, once it runs on a
/// pod IP of the node (waits up to 180 s).
pub async fn running_job_manager(pods: &Api<Pod>, cluster: &str) -> Pod {
    let labels = format!("app={cluster},component=jobmanager");
    eventually(
        Duration::from_secs(180),
        "a running JobManager pod",
        || async {
            let list = pods
                .list(&ListParams::default().labels(&labels))
                .await
                .ok()?;
            list.items.into_iter().find(|pod| {
                pod.metadata.deletion_timestamp.is_none()
                    && pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                    && pod
                        .status
                        .as_ref()
                        .and_then(|s| s.pod_ip.as_deref())
                        .is_some_and(|ip| ip.starts_with("127."))
            })
        },
    )
    .await
}

/// The pod IP of `pod`.
pub fn pod_ip(pod: &Pod) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .expect("pod IP")
}

/// Installs the operator and a session cluster `analytics` of Flink
/// `version` (the form's) with `task_managers` TaskManagers of one slot;
/// returns the instance id (the install is accepted, not yet running).
pub async fn install_session(
    portal: &super::Portal,
    namespace: &str,
    version: &str,
    task_managers: u32,
) -> String {
    let operator = portal
        .install(serde_json::json!({"app": "flink-kubernetes-operator", "name": "flink-operator", "namespace": namespace, "params": {}}))
        .await;
    assert_eq!(
        operator["operations"][0]["state"], "succeeded",
        "{operator}"
    );
    let (status, created) = portal
        .post_json(
            "/api/v1/instances",
            &serde_json::json!({"app": "flink", "name": "analytics", "namespace": namespace, "version": version, "params": {
                "operator": "flink-operator",
                "jobManagerMemory": "1Gi", "jobManagerCpu": "500m",
                "taskManagerMemory": "1280Mi", "taskManagerCpu": "500m",
                "taskSlots": 1, "taskManagerReplicas": task_managers,
            }}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

/// Takes `pods` out of the Role of session `analytics`'s ServiceAccount:
/// its next JobManager can neither watch nor create its TaskManagers.
pub async fn revoke_pods_from_the_cluster_role(client: kube::Client, namespace: &str) {
    use k8s_openapi::api::rbac::v1::Role;
    let roles: Api<Role> = Api::namespaced(client, namespace);
    let mut role = roles
        .get("analytics-flink")
        .await
        .expect("the cluster's Role");
    for rule in role.rules.iter_mut().flatten() {
        if let Some(resources) = rule.resources.as_mut() {
            resources.retain(|r| r != "pods");
        }
    }
    roles
        .replace("analytics-flink", &kube::api::PostParams::default(), &role)
        .await
        .expect("Role without pods");
}

/// Cluster DNS for a portal running on this machine, as the node's pods
/// have it: `<service>.<namespace>.svc` resolves to the pod IPs of the
/// running pods the Service selects (the process node gives its pods
/// loopback IPs, which no Endpoints may hold, so the names point at the pods
/// themselves, as the node's own hosts files do).
#[derive(Clone)]
pub struct ClusterDns(pub kube::Client);

impl reqwest::dns::Resolve for ClusterDns {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let client = self.0.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let parts: Vec<&str> = name.trim_end_matches('.').split('.').collect();
            let [service, namespace, "svc", ..] = parts[..] else {
                return Err(format!("{name} is not a Service's cluster name").into());
            };
            let services: Api<k8s_openapi::api::core::v1::Service> =
                Api::namespaced(client.clone(), namespace);
            let selector = services
                .get(service)
                .await?
                .spec
                .and_then(|spec| spec.selector)
                .unwrap_or_default()
                .into_iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect::<Vec<_>>()
                .join(",");
            let pods: Api<Pod> = Api::namespaced(client, namespace);
            let addresses: Vec<std::net::SocketAddr> = pods
                .list(&ListParams::default().labels(&selector))
                .await?
                .into_iter()
                .filter(|pod| {
                    pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                })
                .filter_map(|pod| pod.status?.pod_ip?.parse().ok())
                .map(|ip| std::net::SocketAddr::new(ip, 0))
                .collect();
            if addresses.is_empty() {
                return Err(format!("{name}: no running pod").into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

/// A portal on the real-Flink control plane that dials Services directly
/// (`--webui-dial service`), resolving their names with [`ClusterDns`];
/// and a fresh namespace.
pub async fn portal_dialing_services(prefix: &str) -> (super::Portal, super::TestDatabase, String) {
    let cluster = super::cluster::real_flink();
    let namespace = cluster.namespace(prefix).await;
    let database = super::TestDatabase::new(super::Backend::Sqlite).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(ClusterDns(cluster.client().await)))
        .no_proxy()
        .build()
        .expect("client");
    let dialing = cluster
        .cluster()
        .await
        .with_service_dial(dataport::cluster::webui::ServiceDial::Direct(http));
    let portal = super::Portal::start(
        database.store().await,
        Some(dialing),
        dataport::http::Layout::default(),
    )
    .await;
    (portal, database, namespace)
}
