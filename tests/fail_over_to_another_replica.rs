//! Two replicas of the portal on one Postgres and the real API server: one
//! leads through a Lease and runs what either queues; when the leader is
//! killed, the other takes over within the lease duration and finishes the
//! operations queued meanwhile.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Backend, Portal, TestDatabase};
use dataport::service::Role;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use serde_json::json;

/// Seconds a leader keeps the Lease without renewing it.
const LEASE_SECONDS: u64 = 4;

/// A `dataport serve` process, killed when dropped.
struct Replica {
    process: Child,
    portal: Portal,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Replica {
    fn start(identity: &str, database: &str, namespace: &str, token: &str) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let cluster = common::cluster::shared();
        let log = std::fs::File::create(cluster.dir.join(format!("{identity}.log"))).expect("log");
        let process = Command::new(env!("CARGO_BIN_EXE_dataport"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database, "--kubeconfig"])
            .arg(&cluster.kubeconfig)
            .args(["--leader-election", "--lease-namespace", namespace])
            .args(["--lease-seconds", &LEASE_SECONDS.to_string()])
            .args(["--identity", identity])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start dataport serve");
        Replica {
            process,
            portal: Portal::at(format!("http://127.0.0.1:{port}"), token),
        }
    }

    /// Waits until `/readyz` answers 200 and says whether this replica leads.
    async fn wait_until_leading(&self, leading: bool, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if let Ok(response) = self
                .portal
                .http
                .get(format!("{}/readyz", self.portal.base))
                .send()
                .await
                && response.status() == 200
                && let Ok(readiness) = response.json::<serde_json::Value>().await
                && readiness["leader"] == leading
            {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "{} never {}",
                self.portal.base,
                if leading { "led" } else { "followed" }
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Installs through `portal` and waits until the install operation succeeded.
async fn install_and_wait(portal: &Portal, app: &str, namespace: &str) {
    let installed = portal
        .install(json!({"app": app, "name": app, "namespace": namespace, "params": {}}))
        .await;
    assert_eq!(
        installed["operations"][0]["state"], "succeeded",
        "{app}: {installed}"
    );
}

#[tokio::test]
async fn a_follower_takes_over_when_the_leader_is_killed_and_finishes_the_queue() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("failover").await;
    let database = TestDatabase::new(Backend::Postgres).await;
    // Migrated once, before two replicas start on it.
    database.store().await;
    let token = common::add_user_with_token(
        &database.url,
        common::ADMIN,
        common::ADMIN_PASSWORD,
        Role::Admin,
    )
    .await;

    let mut first = Replica::start("replica-a", &database.url, &namespace, &token);
    first
        .wait_until_leading(true, Duration::from_secs(30))
        .await;
    let second = Replica::start("replica-b", &database.url, &namespace, &token);
    second
        .wait_until_leading(false, Duration::from_secs(30))
        .await;

    // The follower queues; the leader runs it.
    install_and_wait(&second.portal, "zookeeper", &namespace).await;
    let leases: Api<Lease> = Api::namespaced(cluster.client().await, &namespace);
    let lease = leases.get("dataport-leader").await.unwrap();
    assert_eq!(
        lease.spec.unwrap().holder_identity.as_deref(),
        Some("replica-a")
    );

    // Kill the leader (no goodbye), and queue more at once on the follower.
    first.process.kill().unwrap();
    first.process.wait().unwrap();
    let killed = Instant::now();
    let (status, queued) = second
        .portal
        .post_json(
            "/api/v1/instances",
            &json!({"app": "minio", "name": "minio", "namespace": namespace, "params": {}}),
        )
        .await;
    assert_eq!(status, 201, "{queued}");

    second
        .wait_until_leading(true, Duration::from_secs(LEASE_SECONDS * 3))
        .await;
    let took_over = killed.elapsed();
    assert!(
        took_over <= Duration::from_secs(LEASE_SECONDS + 2),
        "took over after {took_over:?}, lease is {LEASE_SECONDS} s"
    );
    let id = queued["id"].as_str().unwrap();
    let minio = second
        .portal
        .wait_for_instance(id, "installed by the new leader", |instance| {
            instance["operations"][0]["state"] == "succeeded"
        })
        .await;
    assert_eq!(minio["instance"]["app"], "minio");
    let lease = leases.get("dataport-leader").await.unwrap();
    assert_eq!(
        lease.spec.unwrap().holder_identity.as_deref(),
        Some("replica-b")
    );
    eprintln!("leader killed; follower took over in {took_over:?} (lease {LEASE_SECONDS} s)");
}
