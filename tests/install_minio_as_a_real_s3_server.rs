//! A user installs MinIO on the local cluster whose node runs pods for real:
//! the MinIO pod runs S3Proxy (the Apache-2.0 stand-in for MinIO's AGPL
//! server) with the pod's credentials and port, the bucket Job's own
//! `mc alias set ...; mc mb ...` script runs with mc-standin as `mc` and
//! completes, and the bucket exists on that server for anyone holding the
//! Secret's credentials. The instance page says that there is no MinIO
//! console here. Uninstalling stops every process.

mod common;

use std::time::{Duration, Instant};

use common::Portal;
use common::cluster::real_flink;
use common::operator::eventually;
use common::s3::{mc, secret_value};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::Api;
use serde_json::json;

/// Runs the repository's `mc` (mc-standin) with its aliases in `config`;
/// returns whether it succeeded and what it printed.
#[tokio::test]
async fn minio_runs_a_real_s3_server_and_its_job_makes_the_bucket() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("reals3").await;
    let started = Instant::now();
    let installed = portal
        .install(
            json!({"app": "minio", "name": "store", "namespace": namespace,
            "version": "RELEASE.2025-04-22T22-12-26Z",
            "params": {"storage": "1Gi", "memory": "512Mi", "bucket": "checkpoints"}}),
        )
        .await;
    assert_eq!(
        installed["operations"][0]["state"], "succeeded",
        "{installed}"
    );
    let id = installed["instance"]["id"]
        .as_str()
        .or(installed["id"].as_str())
        .expect("instance id")
        .to_owned();

    let client = real_flink().client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    // The server's pod: a real process on a pod IP of the node, ready.
    let server = eventually(
        Duration::from_secs(180),
        "a ready MinIO pod running a process",
        || async {
            let pod = pods.get("store-0").await.ok()?;
            let status = pod.status.as_ref()?;
            let ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            let process = status.container_statuses.iter().flatten().all(|c| {
                c.container_id
                    .as_deref()
                    .is_some_and(|id| id.starts_with("process://"))
            });
            (ready
                && process
                && status
                    .pod_ip
                    .as_deref()
                    .is_some_and(common::flink::is_a_process_node_pod_ip))
            .then_some(pod)
        },
    )
    .await;
    let server_up = started.elapsed();
    // The page says there is no console here, rather than offering one.
    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    assert!(
        page.contains("data-access-stand-in")
            && page.contains("no MinIO console to open here")
            && !page.contains("data-webui"),
        "{page}"
    );
    let pod_ip = server
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .expect("pod IP");
    let message = server.status.as_ref().and_then(|s| s.message.clone());
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.starts_with("MinIO's server run as S3Proxy")),
        "{message:?}"
    );

    // S3Proxy's own health endpoint, which the node probes for MinIO's.
    let health = format!("http://{pod_ip}:9000/healthz");
    eventually(
        Duration::from_secs(120),
        "S3Proxy answering on the pod IP",
        || async {
            let answer = reqwest::get(&health).await.ok()?;
            answer.status().is_success().then_some(())
        },
    )
    .await;
    let serving = started.elapsed();

    // The bucket Job's pod ran its script for real and succeeded.
    let jobs: Api<Job> = Api::namespaced(client.clone(), &namespace);
    // Its name ends with a hash of its pod template (`store-create-bucket-<hash>`).
    let job_name = eventually(
        Duration::from_secs(180),
        "the bucket Job complete",
        || async {
            let listed = jobs
                .list(&kube::api::ListParams::default().labels("app.kubernetes.io/instance=store"))
                .await
                .ok()?;
            let job = listed.items.into_iter().next()?;
            let name = job.metadata.name.clone()?;
            (name.starts_with("store-create-bucket-") && job.status?.succeeded? >= 1)
                .then_some(name)
        },
    )
    .await;
    let bucket_made = started.elapsed();
    let job_pods = pods
        .list(&kube::api::ListParams::default().labels(&format!("job-name={job_name}")))
        .await
        .expect("list the Job's pods")
        .items;
    let done = job_pods
        .iter()
        .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded"))
        .expect("a Succeeded pod of the Job");
    let container = &done
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.clone())
        .expect("container statuses")[0];
    let exit = container
        .state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .map(|t| t.exit_code);
    assert_eq!(exit, Some(0), "{container:?}");
    assert!(
        container
            .container_id
            .as_deref()
            .is_some_and(|id| id.starts_with("process://")),
        "{container:?}"
    );

    // The bucket is there for whoever holds the Secret's credentials; a wrong
    // secret is refused.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &namespace);
    let secret = secrets.get("store-credentials").await.expect("Secret");
    let (user, password) = (
        secret_value(&secret, "root-user"),
        secret_value(&secret, "root-password"),
    );
    let config = tempfile::tempdir().expect("temp dir");
    let endpoint = format!("http://{pod_ip}:9000");
    let (ok, said) = mc(
        config.path(),
        &["alias", "set", "wrong", &endpoint, &user, "not-the-secret"],
    );
    assert!(!ok, "a wrong secret was accepted: {said}");
    let (ok, said) = mc(
        config.path(),
        &["alias", "set", "store", &endpoint, &user, &password],
    );
    assert!(ok, "{said}");
    let (ok, said) = mc(config.path(), &["ls", "store/checkpoints"]);
    assert!(ok, "the bucket is not there: {said}");
    let (ok, _) = mc(config.path(), &["ls", "store/no-such-bucket"]);
    assert!(!ok, "mc-standin ls finds a bucket nobody made");

    portal
        .wait_for_instance(&id, "running", |instance| {
            instance["instance"]["status"] == "Running"
        })
        .await;
    eprintln!(
        "from the install: MinIO pod running after {:.1} s, S3Proxy answering after {:.1} s, bucket Job complete after {:.1} s",
        server_up.as_secs_f64(),
        serving.as_secs_f64(),
        bucket_made.as_secs_f64()
    );

    // Uninstalling stops the server's process.
    assert!(!common::cluster::java_processes_of(&namespace).is_empty());
    common::uninstall_until_no_process_is_left(&portal, &id, "store", &namespace).await;
}
