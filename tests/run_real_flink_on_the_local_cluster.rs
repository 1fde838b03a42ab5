//! A user installs the Flink operator and a Flink 1.20 session cluster on the
//! local cluster whose node runs Flink's pods as real Flink processes: the
//! stand-in operator deploys it with Flink's own native client, the
//! JobManager creates its TaskManager pods through the API server as the
//! instance's ServiceAccount, and the cluster's REST API reports the release
//! and the TaskManagers the form asked for. Uninstalling stops every process.
//! The same for a Flink 2 session; and a JobManager whose ServiceAccount lost
//! its rights on pods crash-loops, which the operator and the instance report.

mod common;

use std::time::Duration;

use common::Portal;
use common::cluster::{REAL_FLINK_2_RELEASE, REAL_FLINK_RELEASE, real_flink};
use common::flink::{install_session, rest, running_job_manager};
use common::operator::eventually;
use dataport::crd::{FlinkDeployment, JobManagerDeploymentStatus as Jm};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DeleteParams, ListParams};

#[tokio::test]
async fn a_flink_session_cluster_runs_as_real_flink_processes() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("realflink").await;
    let id = install_session(&portal, &namespace, "1.20", 2).await;

    let client = real_flink().client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    // The JobManager pod: Flink's own Deployment, run for real on a pod IP of the node.
    let job_manager = running_job_manager(&pods, "analytics").await;
    let pod_ip = job_manager
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .expect("pod IP");
    let container = &job_manager.spec.as_ref().expect("spec").containers[0];
    assert_eq!(container.name, "flink-main-container");
    let args = container.args.clone().unwrap_or_default().join(" ");
    assert!(
        args.contains("kubernetes-jobmanager.sh kubernetes-session"),
        "{args}"
    );
    // The form's 1.20 is the image of the newest 1.20 patch; the node says what it runs instead.
    let note = job_manager
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "DataportProcessNode")
        .and_then(|c| c.message);
    let image = container.image.clone().unwrap_or_default();
    if image != format!("flink:{REAL_FLINK_RELEASE}") {
        assert_eq!(
            note,
            Some(format!(
                "{image} run as Flink {REAL_FLINK_RELEASE} (the nearest release assembled here)"
            ))
        );
    }

    // Flink's REST API: the release and the two TaskManagers the form asked for.
    // A TaskManager registers before it reports its slots, so /overview can say
    // "taskmanagers": 2 with "slots-total": 0 for a moment: wait for both.
    let overview = eventually(
        Duration::from_secs(240),
        "two registered TaskManagers with their slots",
        || async {
            rest(&pod_ip, "/overview")
                .await
                .filter(|o| o["taskmanagers"] == 2 && o["slots-total"] == 2)
        },
    )
    .await;
    assert_eq!(overview["flink-version"], REAL_FLINK_RELEASE, "{overview}");
    assert_eq!(overview["slots-total"], 2, "{overview}");

    // The TaskManager pods: created by the JobManager (owned by its Deployment),
    // as bare pods that are not restarted, each running a real process.
    let task_managers = pods
        .list(&ListParams::default().labels("app=analytics,component=taskmanager"))
        .await
        .expect("list TaskManager pods")
        .items;
    assert_eq!(task_managers.len(), 2);
    for pod in &task_managers {
        let owner = &pod.metadata.owner_references.as_ref().expect("owner")[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str()),
            ("Deployment", "analytics")
        );
        let spec = pod.spec.as_ref().expect("spec");
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        assert_eq!(
            spec.service_account_name.as_deref(),
            Some("analytics-flink")
        );
        let id = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .map(|c| c[0].container_id.clone());
        assert!(
            matches!(id, Some(Some(ref id)) if id.starts_with("process://")),
            "{id:?}"
        );
    }
    assert_eq!(
        common::cluster::java_processes_of(&namespace).len(),
        3,
        "{:?}",
        common::cluster::java_processes_of(&namespace)
    );

    // The operator saw the REST endpoint answer: READY, and the instance runs.
    common::flink::wait_until_running(&portal, &id).await;
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let status = deployments
        .get("analytics")
        .await
        .expect("FlinkDeployment")
        .status
        .expect("status");
    assert_eq!(status.job_manager_deployment_status, Some(Jm::Ready));
    assert_eq!(status.error, None);

    // The pod IP is one Kubernetes accepts as an endpoint (not loopback): the
    // endpoint controller publishes the JobManager behind `analytics-rest`,
    // and the API server's service proxy reaches Flink's REST through it.
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), &namespace);
    let published = eventually(
        Duration::from_secs(60),
        "the JobManager's address in analytics-rest's EndpointSlice",
        || async {
            let list = slices
                .list(&ListParams::default().labels("kubernetes.io/service-name=analytics-rest"))
                .await
                .ok()?;
            let addresses: Vec<String> = list
                .items
                .iter()
                .flat_map(|slice| slice.endpoints.iter())
                .flat_map(|endpoint| endpoint.addresses.iter().cloned())
                .collect();
            addresses.contains(&pod_ip).then_some(addresses)
        },
    )
    .await;
    assert_eq!(published, vec![pod_ip.clone()]);
    let request = axum::http::Request::get(format!(
        "/api/v1/namespaces/{namespace}/services/analytics-rest:rest/proxy/overview"
    ))
    .body(Vec::new())
    .expect("request");
    let proxied: serde_json::Value = client
        .request(request)
        .await
        .expect("Flink's /overview through the API server's service proxy");
    assert_eq!(proxied["flink-version"], REAL_FLINK_RELEASE, "{proxied}");

    // Uninstalling stops every Flink process of the instance.
    common::uninstall_until_no_process_is_left(&portal, &id, "analytics", &namespace).await;
}

#[tokio::test]
async fn a_flink_2_session_cluster_runs_as_flink_2() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("realflink2").await;
    let id = install_session(&portal, &namespace, "2.0", 1).await;
    let client = real_flink().client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let job_manager = running_job_manager(&pods, "analytics").await;
    let pod_ip = job_manager
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .expect("pod IP");
    let overview = eventually(
        Duration::from_secs(240),
        "one registered TaskManager",
        || async {
            rest(&pod_ip, "/overview")
                .await
                .filter(|o| o["taskmanagers"] == 1)
        },
    )
    .await;
    assert_eq!(
        overview["flink-version"], REAL_FLINK_2_RELEASE,
        "{overview}"
    );
    // Flink 2 reads config.yaml, which the operator wrote for a v2 flinkVersion.
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), &namespace);
    let config = config_maps
        .get("flink-config-analytics")
        .await
        .expect("Flink's ConfigMap");
    assert!(config.data.unwrap_or_default().contains_key("config.yaml"));
    common::flink::wait_until_running(&portal, &id).await;
}

#[tokio::test]
async fn a_job_manager_without_rights_on_pods_crash_loops_and_the_instance_says_so() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("realflinkrbac").await;
    let id = install_session(&portal, &namespace, "1.20", 1).await;
    let client = real_flink().client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let first = running_job_manager(&pods, "analytics").await;
    common::flink::wait_until_running(&portal, &id).await;

    // The cluster's ServiceAccount loses `pods`; a new JobManager cannot
    // watch or create its TaskManagers and stops (Flink's ResourceManager).
    common::flink::revoke_pods_from_the_cluster_role(client.clone(), &namespace).await;
    pods.delete(
        first.metadata.name.as_deref().expect("name"),
        &DeleteParams::default(),
    )
    .await
    .expect("delete the JobManager pod");

    // The node restarts the crashing JobManager with back-off; the operator
    // reports the container's state as DeploymentFailedException.
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let status = eventually(
        Duration::from_secs(240),
        "the JobManager in ERROR",
        || async {
            let status = deployments.get("analytics").await.ok()?.status?;
            (status.job_manager_deployment_status == Some(Jm::Error)).then_some(status)
        },
    )
    .await;
    let error = status.error.expect("status.error");
    assert!(
        error.contains("DeploymentFailedException") && error.contains("[flink-main-container]"),
        "{error}"
    );
    assert!(
        error.contains("back-off")
            && error.contains("restarting failed container=flink-main-container"),
        "{error}"
    );
    // Flink's own reason is in the container's log, kept by the node.
    let log = flink_log_of_namespace(&namespace);
    assert!(
        log.contains("pods is forbidden") || log.contains("forbidden"),
        "{}",
        &log[log.len().saturating_sub(2000)..]
    );
    let instance = portal
        .wait_for_instance(&id, "failed", |instance| {
            instance["instance"]["status"] == "Failed"
        })
        .await;
    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    let shown = page
        .find("back-off")
        .map(|at| &page[at.saturating_sub(300)..(at + 300).min(page.len())]);
    assert!(
        shown.is_some_and(|text| text.contains("flink-main-container")),
        "the instance page shows no back-off of flink-main-container: {shown:?} {instance}"
    );
}

/// Waits (as long as a JobManager may take on a busy machine) until the
/// instance is Running.
/// Everything the JobManager containers of `namespace` wrote (all restarts).
fn flink_log_of_namespace(namespace: &str) -> String {
    let root = real_flink().dir.join("node").join(namespace);
    let mut text = String::new();
    for pod in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        if !pod.file_name().to_string_lossy().starts_with("analytics-")
            || pod.file_name().to_string_lossy().contains("taskmanager")
        {
            continue;
        }
        let logs = pod.path().join("logs").join("flink-main-container");
        for log in std::fs::read_dir(logs).into_iter().flatten().flatten() {
            text.push_str(&std::fs::read_to_string(log.path()).unwrap_or_default());
        }
    }
    text
}
