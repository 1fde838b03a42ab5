//! An app's web interface played by the test itself: a small HTTP server on
//! this machine's own non-loopback address, behind a Service whose Endpoints
//! name a Pod with that IP on a node no kubelet serves. The API server
//! proxies only to addresses that are a pod's, and never to loopback ones.

#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};

use dataport::store::NewInstance;
use k8s_openapi::api::core::v1::{Endpoints, Node, Pod, Service};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use super::TestDatabase;

/// This machine's first non-loopback IPv4 address (`hostname -I`).
pub fn own_address() -> IpAddr {
    let output = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .expect("hostname -I");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|word| word.parse::<IpAddr>().ok())
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
        .expect("a non-loopback IPv4 address on this machine")
}

/// `app` served on [`own_address`] behind Service `service` (port `port`)
/// in `namespace`; remove it with [`OutsideUpstream::remove`].
pub struct OutsideUpstream {
    /// Where the server listens.
    pub address: SocketAddr,
    node: String,
}

impl OutsideUpstream {
    /// Serves `app` and publishes it as Service `service`, port `port`.
    pub async fn serve(
        client: &kube::Client,
        namespace: &str,
        service: &str,
        port: u16,
        app: axum::Router,
    ) -> OutsideUpstream {
        let ip = own_address();
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind");
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let node = format!("outside-{namespace}");
        let nodes: Api<Node> = Api::all(client.clone());
        nodes
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": node}})).unwrap(),
            )
            .await
            .expect("node");
        let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
        pods.create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "upstream"},
                "spec": {"nodeName": node, "containers": [{"name": "web", "image": "example/web"}]}
            }))
            .unwrap(),
        )
        .await
        .expect("pod");
        pods.patch_status(
            "upstream",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Running",
                "podIP": ip.to_string(), "podIPs": [{"ip": ip.to_string()}]}})),
        )
        .await
        .expect("pod IP");
        let services: Api<Service> = Api::namespaced(client.clone(), namespace);
        services
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({
                    "metadata": {"name": service},
                    "spec": {"ports": [{"name": "web", "port": port, "targetPort": address.port()}]}
                }))
                .unwrap(),
            )
            .await
            .expect("service");
        let endpoints: Api<Endpoints> = Api::namespaced(client.clone(), namespace);
        endpoints
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({
                    "metadata": {"name": service},
                    "subsets": [{
                        "addresses": [{"ip": ip.to_string(),
                            "targetRef": {"kind": "Pod", "name": "upstream", "namespace": namespace}}],
                        "ports": [{"name": "web", "port": address.port()}]
                    }]
                }))
                .unwrap(),
            )
            .await
            .expect("endpoints");
        OutsideUpstream { address, node }
    }

    /// Removes the node (its namespace goes with the test cluster's).
    pub async fn remove(self, client: &kube::Client) {
        let nodes: Api<Node> = Api::all(client.clone());
        nodes
            .delete(&self.node, &Default::default())
            .await
            .expect("remove the node");
    }
}

/// A Flink session `analytics` in `namespace` that dataport knows, without
/// a FlinkDeployment: its WebUI is Service `analytics-rest`, port 8081.
pub async fn known_flink_session(database: &TestDatabase, namespace: &str) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    database
        .store()
        .await
        .create_instance(NewInstance {
            id,
            app: "flink".into(),
            name: "analytics".into(),
            namespace: namespace.to_owned(),
            version: "1.20".into(),
            params: json!({}),
            objects: json!([]),
            actor: "test".into(),
        })
        .await
        .expect("instance");
    id
}
