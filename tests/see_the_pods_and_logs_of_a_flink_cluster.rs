//! A user looks inside a Flink session cluster running as real Flink
//! processes on the local cluster: the instance page lists its JobManager and
//! TaskManager pods with their states, the JobManager's log (read through the
//! API server's `pods/log`, which reaches the node) holds Flink's own start
//! lines, follows live, downloads, and a viewer may read it. A JobManager
//! that crash-loops (its ServiceAccount lost `pods`) shows `CrashLoopBackOff`
//! with Flink's own reason, and its previous run's log is readable. And a
//! TaskManager too small for Flink's memory model, forced past the form
//! through the FlinkDeployment, is refused by Flink's own client when the
//! operator redeploys: no Flink process starts.

mod common;

use std::time::Duration;

use common::Portal;
use common::cluster::real_flink;
use common::operator::eventually;
use dataport::crd::FlinkDeployment;
use dataport::service::Role;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};

/// The instance's pods (JSON) once `done` holds for them.
async fn pods_when(
    portal: &Portal,
    id: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    eventually(Duration::from_secs(300), what, || async {
        let (status, pods) = portal
            .get_json(&format!("/api/v1/instances/{id}/pods"))
            .await;
        let pods = pods.as_array().cloned().unwrap_or_default();
        (status == 200 && done(&pods)).then_some(pods)
    })
    .await
}

fn of_component<'a>(pods: &'a [Value], component: &str) -> Vec<&'a Value> {
    pods.iter()
        .filter(|p| p["component"] == component)
        .collect()
}

#[tokio::test]
async fn the_pods_and_the_job_managers_log_of_a_real_session_cluster() {
    let (portal, database, namespace) = Portal::on_real_flink_cluster("podslogs").await;
    let id = common::flink::install_session(&portal, &namespace, "1.20", 1).await;

    // The JobManager (the operator's Deployment) and the TaskManager the
    // JobManager created, both running and ready, with their node.
    let pods = pods_when(
        &portal,
        &id,
        "a running JobManager and TaskManager",
        |pods| {
            let running = |p: &&Value| p["status"] == "Running" && p["ready"] == "1/1";
            of_component(pods, "jobmanager").iter().any(running)
                && of_component(pods, "taskmanager").iter().any(running)
        },
    )
    .await;
    let job_manager = of_component(&pods, "jobmanager")[0]["name"]
        .as_str()
        .expect("name")
        .to_owned();
    let task_manager = of_component(&pods, "taskmanager")[0]["name"]
        .as_str()
        .expect("name")
        .to_owned();
    assert_eq!(
        of_component(&pods, "jobmanager")[0]["node"],
        "dataport-sim-node"
    );

    // The instance page lists them, each a click from its log.
    let (status, page) = portal.get(&format!("/instances/{id}")).await;
    assert_eq!(status, 200);
    for (pod, label) in [
        (&job_manager, "JobManager log"),
        (&task_manager, "TaskManager log"),
    ] {
        let row = page
            .find(&format!("data-pod=\"{pod}\""))
            .map(|at| &page[at..(at + 3000).min(page.len())])
            .unwrap_or_else(|| panic!("no row of {pod} on the instance page"));
        assert!(row.contains("data-pod-state>Running<"), "{row}");
        assert!(row.contains(label), "{row}");
    }

    // The JobManager's log: Flink's own start lines, through the API server.
    let log_path = format!("/instances/{id}/pods/{job_manager}/logs/flink-main-container");
    let log = eventually(Duration::from_secs(60), "Flink's start lines", || async {
        let (status, log) = portal.get_json(&format!("/api/v1{log_path}")).await;
        let text = log["log"]["text"].as_str().unwrap_or_default().to_owned();
        (status == 200 && text.contains("Starting KubernetesSessionClusterEntrypoint"))
            .then_some(text)
    })
    .await;
    assert!(
        log.contains("Rest endpoint listening at"),
        "{}",
        &log[log.len().saturating_sub(3000)..]
    );
    // The page shows it; a viewer may read it too.
    let viewer = portal
        .client_as(&database.url, "watcher", Role::Viewer)
        .await;
    let page = viewer
        .get(format!("{}{log_path}", portal.base))
        .send()
        .await
        .expect("log page");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("body");
    assert!(page.contains("Starting KubernetesSessionClusterEntrypoint"));
    assert!(page.contains(&format!("data-follow=\"{log_path}/follow\"")));
    // The JobManager never ran before: no previous run, in the kubelet's words.
    let (_, previous) = portal
        .get_json(&format!("/api/v1{log_path}?previous=true"))
        .await;
    assert_eq!(
        previous["log"]["unavailable"],
        format!(
            "previous terminated container \"flink-main-container\" in pod \"{job_manager}\" not found"
        )
    );
    // The download is the whole log as a file.
    let download = portal
        .http
        .get(format!("{}{log_path}/download", portal.base))
        .send()
        .await
        .expect("download");
    assert_eq!(
        download.headers()[reqwest::header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"{job_manager}-flink-main-container.log\"").as_str()
    );
    assert!(
        download
            .text()
            .await
            .expect("file")
            .contains("Starting KubernetesSessionClusterEntrypoint")
    );

    // Followed live: the last lines first, as server-sent events.
    let mut follow = portal
        .http
        .get(format!("{}{log_path}/follow", portal.base))
        .send()
        .await
        .expect("follow");
    assert_eq!(follow.status(), 200);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen.contains("Rest endpoint listening at") && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(10), follow.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    assert!(seen.contains("event: line"), "{seen}");
    assert!(seen.contains("Rest endpoint listening at"), "{seen}");
    drop(follow);

    // One link reaches the JobManager's log whatever its pod is called.
    let reached = portal
        .http
        .get(format!("{}/instances/{id}/logs/jobmanager", portal.base))
        .send()
        .await
        .expect("the JobManager's log by role");
    assert_eq!(reached.url().path(), log_path);

    // A pod of another namespace is not reachable through this instance.
    let (status, _) = portal
        .get(&format!("/instances/{id}/pods/kube-apiserver/logs/x"))
        .await;
    assert_eq!(status, 404);

    common::uninstall_until_no_process_is_left(&portal, &id, "analytics", &namespace).await;
}

#[tokio::test]
async fn a_crash_looping_job_manager_shows_flinks_reason_and_its_previous_log() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("crashlog").await;
    let id = common::flink::install_session(&portal, &namespace, "1.20", 1).await;
    let pods = pods_when(&portal, &id, "a ready JobManager", |pods| {
        of_component(pods, "jobmanager")
            .iter()
            .any(|p| p["ready"] == "1/1")
    })
    .await;
    let first = of_component(&pods, "jobmanager")[0]["name"]
        .as_str()
        .expect("name")
        .to_owned();

    // The cluster's ServiceAccount loses `pods`: a new JobManager cannot
    // watch its TaskManagers, and Flink stops it; the node restarts it with back-off.
    let client = real_flink().client().await;
    common::flink::revoke_pods_from_the_cluster_role(client.clone(), &namespace).await;
    let pods_api: Api<Pod> = Api::namespaced(client, &namespace);
    pods_api
        .delete(&first, &DeleteParams::default())
        .await
        .expect("delete the JobManager pod");

    // The instance's pods: the new JobManager crash-loops, with Flink's own
    // reason from its last run's log.
    let pods = pods_when(
        &portal,
        &id,
        "a crash-looping JobManager with Flink's reason",
        |pods| {
            of_component(pods, "jobmanager").iter().any(|p| {
                p["status"] == "CrashLoopBackOff"
                    && p["crash_cause"]
                        .as_str()
                        .is_some_and(|cause| cause.contains("forbidden"))
            })
        },
    )
    .await;
    let failing = of_component(&pods, "jobmanager")
        .into_iter()
        .find(|p| p["status"] == "CrashLoopBackOff")
        .expect("the crash-looping JobManager");
    let name = failing["name"].as_str().expect("name");
    eprintln!("JobManager {name} crash-loops: {}", failing["crash_cause"]);
    assert!(failing["restarts"].as_i64().unwrap_or(0) >= 1, "{failing}");
    assert_eq!(failing["last_termination"]["reason"], "Error", "{failing}");

    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    let row = page
        .find(&format!("data-pod=\"{name}\""))
        .map(|at| &page[at..(at + 4000).min(page.len())])
        .expect("the failing pod's row");
    assert!(row.contains("data-pod-state>CrashLoopBackOff<"), "{row}");
    assert!(
        row.contains("data-crash-cause>") && row.contains("forbidden"),
        "{row}"
    );
    assert!(row.contains("data-previous-log"), "{row}");

    // The previous run's log page: Flink's own words.
    let (status, previous) = portal
        .get(&format!(
            "/instances/{id}/pods/{name}/logs/flink-main-container?previous=true"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(previous.contains("forbidden"), "{previous}");
    assert!(!previous.contains("data-no-log"), "{previous}");
    // The pod's events carry the kubelet's back-off.
    let (_, detail) = portal
        .get_json(&format!("/api/v1/instances/{id}/pods/{name}"))
        .await;
    let events = detail["events"]["Ok"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(events.iter().any(|e| e["reason"] == "BackOff"), "{detail}");

    common::uninstall_until_no_process_is_left(&portal, &id, "analytics", &namespace).await;
}

#[tokio::test]
async fn a_task_manager_too_small_for_flink_is_refused_by_flinks_own_client() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("tinytm").await;
    let id = common::flink::install_session(&portal, &namespace, "1.20", 1).await;
    pods_when(
        &portal,
        &id,
        "a ready JobManager and a TaskManager",
        |pods| {
            of_component(pods, "jobmanager")
                .iter()
                .any(|p| p["ready"] == "1/1")
                && !of_component(pods, "taskmanager").is_empty()
        },
    )
    .await;

    // The form refuses 900Mi; the FlinkDeployment is changed behind its back.
    let client = real_flink().client().await;
    let deployments: Api<FlinkDeployment> = Api::namespaced(client, &namespace);
    let errors = watcher(
        deployments.clone(),
        watcher::Config::default().fields("metadata.name=analytics"),
    )
    .applied_objects()
    .try_filter_map(|d| async move { Ok(d.status.and_then(|s| s.error)) });
    deployments
        .patch(
            "analytics",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"taskManager": {"resource": {"memory": "900Mi"}}}})),
        )
        .await
        .expect("patch the TaskManager's memory");

    // The upgrade redeploys with Flink's own client, which computes the
    // TaskManager's memory from Flink's model before any pod exists
    // (KubernetesClusterClientFactory.getClusterSpecification) and refuses it.
    futures::pin_mut!(errors);
    let error = tokio::time::timeout(Duration::from_secs(180), async {
        while let Some(Ok(error)) = errors.next().await {
            if error.contains("IllegalConfigurationException") {
                return error;
            }
        }
        panic!("the FlinkDeployment watch ended");
    })
    .await
    .expect("Flink's refusal in the FlinkDeployment's status within 180 s");
    eprintln!("the operator reports: {error}");
    assert!(
        error.contains("IllegalConfigurationException: Sum of configured Framework Heap Memory")
            && error.contains("exceed configured Total Flink Memory"),
        "{error}"
    );
    // So no Flink process starts: the old cluster is gone and no new pod comes.
    pods_when(&portal, &id, "no Flink pod left", |pods| {
        of_component(pods, "jobmanager").is_empty() && of_component(pods, "taskmanager").is_empty()
    })
    .await;
    eventually(Duration::from_secs(120), "no Java process left", || async {
        common::cluster::java_processes_of(&namespace)
            .is_empty()
            .then_some(())
    })
    .await;
    // The refusal stays (the operator keeps trying, as its retry does), so
    // the instance page says what Flink said.
    eventually(
        Duration::from_secs(60),
        "Flink's refusal on the instance page",
        || async {
            let (_, page) = portal.get(&format!("/instances/{id}")).await;
            page.contains("exceed configured Total Flink Memory")
                .then_some(())
        },
    )
    .await;

    common::uninstall_until_no_process_is_left(&portal, &id, "analytics", &namespace).await;
}
