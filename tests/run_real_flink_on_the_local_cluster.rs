//! A user installs the Flink operator and a Flink 1.20 session cluster on the
//! local cluster whose node runs Flink's pods as real Flink processes: the
//! stand-in operator deploys it with Flink's own native client, the
//! JobManager creates its TaskManager pods through the API server as the
//! instance's ServiceAccount, and the cluster's REST API reports the release
//! and the TaskManagers the form asked for. Uninstalling stops every process.

mod common;

use std::time::Duration;

use common::Portal;
use common::cluster::{REAL_FLINK_RELEASE, real_flink};
use common::operator::eventually;
use dataport::crd::{FlinkDeployment, JobManagerDeploymentStatus as Jm};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::{Value, json};

/// The JobManager's REST answer at `path`, through the pod IP the node gave it.
async fn rest(pod_ip: &str, path: &str) -> Option<Value> {
    let answer = reqwest::get(format!("http://{pod_ip}:8081{path}"))
        .await
        .ok()?;
    answer.error_for_status().ok()?.json().await.ok()
}

/// Java processes started for pods of `namespace` (their sandbox is under
/// `<control plane>/node/<namespace>/`).
fn java_processes_of(namespace: &str) -> Vec<String> {
    let marker = format!("/node/{namespace}/");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let java = cmdline.starts_with("java") || cmdline.contains("/java ");
        if java && cmdline.contains(&marker) {
            found.push(cmdline.chars().take(120).collect());
        }
    }
    found
}

#[tokio::test]
async fn a_flink_session_cluster_runs_as_real_flink_processes() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("realflink").await;
    let operator = portal
        .install(json!({"app": "flink-kubernetes-operator", "name": "flink-operator", "namespace": namespace, "params": {}}))
        .await;
    assert_eq!(
        operator["operations"][0]["state"], "succeeded",
        "{operator}"
    );
    let (status, created) = portal
        .post_json(
            "/api/v1/instances",
            &json!({"app": "flink", "name": "analytics", "namespace": namespace, "version": "1.20", "params": {
                "operator": "flink-operator",
                "jobManagerMemory": "1Gi", "jobManagerCpu": "500m",
                "taskManagerMemory": "1280Mi", "taskManagerCpu": "500m",
                "taskSlots": 1, "taskManagerReplicas": 2,
            }}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();

    let client = real_flink().client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    // The JobManager pod: Flink's own Deployment, run for real on a pod IP of the node.
    let job_manager = eventually(
        Duration::from_secs(180),
        "a running JobManager pod",
        || async {
            let list = pods
                .list(&ListParams::default().labels("app=analytics,component=jobmanager"))
                .await
                .ok()?;
            list.items.into_iter().find(|pod| {
                pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                    && pod
                        .status
                        .as_ref()
                        .and_then(|s| s.pod_ip.as_deref())
                        .is_some_and(|ip| ip.starts_with("127."))
            })
        },
    )
    .await;
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
    let overview = eventually(
        Duration::from_secs(240),
        "two registered TaskManagers",
        || async {
            rest(&pod_ip, "/overview")
                .await
                .filter(|o| o["taskmanagers"] == 2)
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
        java_processes_of(&namespace).len(),
        3,
        "{:?}",
        java_processes_of(&namespace)
    );

    // The operator saw the REST endpoint answer: READY, and the instance runs.
    portal
        .wait_for_instance(&id, "running", |instance| {
            instance["instance"]["status"] == "Running"
        })
        .await;
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let status = deployments
        .get("analytics")
        .await
        .expect("FlinkDeployment")
        .status
        .expect("status");
    assert_eq!(status.job_manager_deployment_status, Some(Jm::Ready));
    assert_eq!(status.error, None);

    // Uninstalling stops every Flink process of the instance.
    let (status, _) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/uninstall"),
            &json!({"confirm": "analytics"}),
        )
        .await;
    assert!(status < 300, "uninstall answered {status}");
    eventually(Duration::from_secs(120), "no Java process left", || async {
        java_processes_of(&namespace).is_empty().then_some(())
    })
    .await;
}
