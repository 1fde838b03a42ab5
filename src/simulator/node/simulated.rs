//! The simulated run of a pod: reported running and ready at once, nothing
//! runs. Every pod the process node does not run gets this.

use std::net::Ipv4Addr;

use chrono::Utc;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::cluster::pods::SIMULATED_RUNTIME;

/// Pod IPs for simulated pods where the node has no pod network of its own
/// (10.244.0.0/16, like a pod network's; nothing listens on them, and what
/// the machine's network does with them is its own).
#[derive(Default)]
pub(super) struct PodIps(u32);

impl PodIps {
    pub(super) fn next(&mut self) -> Ipv4Addr {
        self.0 += 1;
        let n = self.0 + 1;
        Ipv4Addr::new(10, 244, ((n >> 8) & 0xff) as u8, (n & 0xff) as u8)
    }
}

pub(super) fn is_running(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|status| status.phase.as_deref())
        == Some("Running")
}

pub(super) async fn report_running(
    api: &Api<Pod>,
    pod: &Pod,
    name: &str,
    pod_ip: Ipv4Addr,
) -> Result<(), kube::Error> {
    let now = Utc::now().to_rfc3339();
    let containers = pod
        .spec
        .as_ref()
        .map(|spec| spec.containers.as_slice())
        .unwrap_or_default();
    let container_statuses: Vec<_> = containers
        .iter()
        .map(|container| {
            json!({
                "name": container.name,
                "image": container.image.clone().unwrap_or_default(),
                "imageID": "",
                "ready": true,
                "started": true,
                "restartCount": 0,
                // The runtime says what it is, as a real one does
                // (`containerd://…`): no container runs.
                "containerID": format!("{SIMULATED_RUNTIME}{name}/{}", container.name),
                "state": {"running": {"startedAt": now}},
            })
        })
        .collect();
    let condition = |kind: &str| json!({"type": kind, "status": "True", "lastTransitionTime": now});
    let pod_ip = pod_ip.to_string();
    let status = json!({
        "status": {
            "phase": "Running",
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "startTime": now,
            "conditions": [
                condition("PodScheduled"),
                condition("Initialized"),
                condition("ContainersReady"),
                condition("Ready"),
            ],
            "containerStatuses": container_statuses,
        }
    });
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(())
}
