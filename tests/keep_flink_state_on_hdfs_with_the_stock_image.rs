//! A user wants a Flink session's HA metadata on HDFS. The stock `flink`
//! image has no Hadoop, so the form refuses HDFS storage with it
//! (`preview_what_the_stock_image_lacks`); forced past the form through the
//! FlinkDeployment, the local cluster's real Flink fails exactly as it would
//! on a cluster: the JobManager cannot create its HA services ("Could not
//! find a file system implementation for scheme 'hdfs'", caused by "Hadoop is
//! not in the classpath/dependencies", Flink's `FileSystem.getUnguardedFileSystem`),
//! exits, and the node restarts it with back-off. The instance page shows
//! `CrashLoopBackOff` with Flink's root cause, and the previous run's log the
//! whole chain.

mod common;

use std::time::Duration;

use common::Portal;
use common::cluster::real_flink;
use common::operator::eventually;
use dataport::crd::FlinkDeployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

#[tokio::test]
async fn hdfs_storage_without_hadoop_crash_loops_the_job_manager_with_flinks_reason() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("hdfs").await;
    let id = common::flink::install_session(&portal, &namespace, "1.20", 1).await;
    eventually(Duration::from_secs(300), "a ready JobManager", || async {
        let (_, pods) = portal
            .get_json(&format!("/api/v1/instances/{id}/pods"))
            .await;
        pods.as_array()?
            .iter()
            .any(|p| p["component"] == "jobmanager" && p["ready"] == "1/1")
            .then_some(())
    })
    .await;

    // Kubernetes HA with its storage on HDFS, behind the form's back.
    let client = real_flink().client().await;
    let deployments: Api<FlinkDeployment> = Api::namespaced(client, &namespace);
    deployments
        .patch(
            "analytics",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"flinkConfiguration": {
                "high-availability.type": "kubernetes",
                "high-availability.storageDir": "hdfs://hdfs-namenode:8020/flink/ha",
            }}})),
        )
        .await
        .expect("patch the FlinkDeployment's configuration");

    let pods = eventually(
        Duration::from_secs(300),
        "a crash-looping JobManager that cannot open hdfs://",
        || async {
            let (status, pods) = portal
                .get_json(&format!("/api/v1/instances/{id}/pods"))
                .await;
            let pods = pods.as_array().cloned().unwrap_or_default();
            (status == 200
                && pods.iter().any(|p| {
                    p["component"] == "jobmanager"
                        && p["status"] == "CrashLoopBackOff"
                        && p["restarts"].as_i64().unwrap_or(0) >= 1
                }))
            .then_some(pods)
        },
    )
    .await;
    let failing: &Value = pods
        .iter()
        .find(|p| p["component"] == "jobmanager" && p["status"] == "CrashLoopBackOff")
        .expect("the crash-looping JobManager");
    let name = failing["name"].as_str().expect("name");
    eprintln!("JobManager {name}: {}", failing["crash_cause"]);
    assert_eq!(failing["last_termination"]["reason"], "Error", "{failing}");

    // Flink's own reason, in the previous run's log and on the instance page.
    let (status, previous) = portal
        .get(&format!(
            "/instances/{id}/pods/{name}/logs/flink-main-container?previous=true"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        previous.contains("Could not create FileSystem for highly available storage path (hdfs://")
            && previous.contains("Could not find a file system implementation for scheme"),
        "{previous}"
    );
    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    let row = page
        .find(&format!("data-pod=\"{name}\""))
        .map(|at| &page[at..(at + 4000).min(page.len())])
        .expect("the failing pod's row");
    assert!(row.contains("data-pod-state>CrashLoopBackOff<"), "{row}");
    assert!(
        row.contains("data-crash-cause>")
            && row.contains("UnsupportedFileSystemSchemeException: Hadoop is not in the classpath"),
        "the pod's row gives Flink's root cause: {row}"
    );

    common::uninstall_until_no_process_is_left(&portal, &id, "analytics", &namespace).await;
}
