//! Real Flink on the local cluster, as a test reads it: the JobManager pod
//! the process node runs, and Flink's REST API on its pod IP.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

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
                        .is_some_and(is_a_process_node_pod_ip)
            })
        },
    )
    .await
}

/// Waits until instance `id` is Running (300 s at most: real Flink on a
/// busy machine takes its time).
pub async fn wait_until_running(portal: &super::Portal, id: &str) {
    let path = format!("/api/v1/instances/{id}");
    eventually(Duration::from_secs(300), "the instance Running", || async {
        let (_, instance) = portal.get_json(&path).await;
        (instance["instance"]["status"] == "Running").then_some(())
    })
    .await;
}

/// Submits dataport's test job (`jar`, a URL) as session job `name` of
/// session `id` (parallelism 1, savepoint upgrades, 20 ms between records)
/// and waits until it runs (180 s at most); returns the job's JSON.
pub async fn run_the_test_job(portal: &super::Portal, id: &str, name: &str, jar: &str) -> Value {
    let (status, submitted) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": name, "params": {"jarURI": jar, "parallelism": 1,
                "upgradeMode": "savepoint", "args": "--delay-ms 20"}}),
        )
        .await;
    assert_eq!(status, 201, "{submitted}");
    portal
        .wait_for_job(id, name, "running", Duration::from_secs(180), |job| {
            job["state"] == "RUNNING"
        })
        .await
}

/// What Flink's REST at `job_manager` (a pod IP) says job `job_id` was
/// restored from (`/jobs/:id/checkpoints` → `latest.restored`: `is_savepoint`,
/// `external_path`, `id`, ...), once it says (60 s at most).
pub async fn restored_from(job_manager: &str, job_id: &str) -> Value {
    let checkpoints = eventually(
        Duration::from_secs(60),
        "Flink reporting the restore",
        || async {
            rest(job_manager, &format!("/jobs/{job_id}/checkpoints"))
                .await
                .filter(|c| !c["latest"]["restored"].is_null())
        },
    )
    .await;
    checkpoints["latest"]["restored"].clone()
}

/// Whether `ip` is a pod IP the process node gives: of 198.18.0.0/15 (a
/// local route on `lo`), or, where it may not add one, of 127.0.0.0/8 (not
/// 127.0.0.1).
pub fn is_a_process_node_pod_ip(ip: &str) -> bool {
    match ip.parse::<std::net::Ipv4Addr>() {
        Ok(ip) => {
            let [a, b, ..] = ip.octets();
            (a == 198 && (b == 18 || b == 19))
                || (ip.is_loopback() && ip != std::net::Ipv4Addr::LOCALHOST)
        }
        Err(_) => false,
    }
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

/// Installs the operator (allowing jars over http from private hosts, as an
/// in-house artifact server needs), MinIO with bucket `flink`, and a Flink
/// 1.20 session `analytics` with Kubernetes HA on S3; returns the ids of the
/// session and of MinIO.
pub async fn install_session_with_state_on_s3(
    portal: &super::Portal,
    namespace: &str,
) -> (String, String) {
    install_session_on_s3_with(portal, namespace, json!({"haType": "kubernetes"})).await
}

/// As [`install_session_with_state_on_s3`], with HA parameters `ha` (such as
/// `{"haType": "zookeeper", "zookeeper": "zk"}`) over Kubernetes HA's.
pub async fn install_session_on_s3_with(
    portal: &super::Portal,
    namespace: &str,
    ha: Value,
) -> (String, String) {
    portal
        .install(
            json!({"app": "flink-kubernetes-operator", "name": "flink-operator",
            "namespace": namespace,
            "params": {"allowedJarSchemes": "https,http", "allowPrivateHosts": true}}),
        )
        .await;
    let minio = portal
        .install(
            json!({"app": "minio", "name": "store", "namespace": namespace,
            "version": "RELEASE.2025-04-22T22-12-26Z",
            "params": {"storage": "1Gi", "memory": "512Mi", "bucket": "flink"}}),
        )
        .await;
    let session = portal
        .install(
            json!({"app": "flink", "name": "analytics", "namespace": namespace,
            "version": "1.20", "params": session_params(ha)}),
        )
        .await;
    let id = |installed: &Value| {
        installed["instance"]["id"]
            .as_str()
            .expect("instance id")
            .to_owned()
    };
    (id(&session), id(&minio))
}

/// The parameters of the real-Flink test session `analytics` (state on the
/// MinIO instance `store`), with HA parameters `ha` over Kubernetes HA's.
pub fn session_params(ha: Value) -> Value {
    let mut params = json!({
        "operator": "flink-operator",
        "jobManagerMemory": "1Gi", "jobManagerCpu": "500m",
        "taskManagerMemory": "1280Mi", "taskManagerCpu": "500m",
        "taskSlots": 2, "taskManagerReplicas": 1,
        "highAvailability": true, "haType": "kubernetes",
        "storage": "s3", "minio": "store",
    });
    if let (Some(params), Value::Object(ha)) = (params.as_object_mut(), ha) {
        params.extend(ha);
    }
    params
}
