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
