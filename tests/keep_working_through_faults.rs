//! Faults injected into the real parts: the API server stopped in the middle
//! of an install and missing at start-up, Postgres restarted under load, and
//! 50 updates of one instance at once. Each test prints a `FAULT` line that
//! `scripts/fuzz.sh` gathers into its summary.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::postgres::PrivatePostgres;
use common::process::{ServeProcess, unreachable_kubeconfig};
use common::session::BrowserLike;
use common::{Backend, Portal, TestDatabase};
use dataport::http::Layout;
use dataport::service::Service;
use dataport::store::Store;
use serde_json::{Value, json};

fn fault_line(fault: &str, survived: bool, rows_lost: usize) {
    println!("FAULT fault={fault:?} survived={survived} rows_lost={rows_lost}");
}

/// Polls `check` every 100 ms for up to `seconds`; panics with `what` otherwise.
async fn eventually<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check().await {
        assert!(Instant::now() < deadline, "never {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_install_cut_off_by_a_stopped_api_server_fails_visibly_and_a_retry_finishes_it() {
    let cluster = common::cluster::private("apiserver-fault");
    let namespace = cluster.namespace("fault").await;
    let database = TestDatabase::new(Backend::Sqlite).await;
    // Not leading at first: the install is stored and queued, not yet applied.
    let (lead, leadership) = tokio::sync::watch::channel(false);
    let service = Service::new(database.store().await, Some(cluster.cluster().await))
        .with_leadership(leadership);
    let portal = Portal::start_service(service, Layout::default()).await;
    let (status, created) = portal
        .post_json(
            "/api/v1/instances",
            &json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    cluster.stop_api_server();
    lead.send(true).unwrap();
    let failed = portal
        .wait_for_instance(&id, "failed", |i| i["operations"][0]["state"] == "failed")
        .await;
    assert_eq!(failed["instance"]["status"], "Failed");
    let error = failed["operations"][0]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!error.is_empty());
    eventually(
        30,
        "the page explains the unreachable API server",
        || async {
            let (_, page) = portal.get(&format!("/instances/{id}")).await;
            page.contains("data-cluster-problem")
        },
    )
    .await;
    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    assert!(page.contains("data-retry"), "a Retry button");
    let shown = error.split(':').next().unwrap();
    assert!(page.contains(shown), "the error on the page: {error}");

    cluster.start_api_server();
    let (status, retried) = portal
        .post_json(&format!("/api/v1/instances/{id}/retry"), &json!({}))
        .await;
    assert_eq!(status, 202, "{retried}");
    let done = portal
        .wait_for_instance(&id, "installed on retry", |i| {
            i["operations"][0]["state"] == "succeeded"
        })
        .await;
    assert_eq!(done["operations"][0]["kind"], "install");
    assert_eq!(done["operations"][1]["state"], "failed", "history kept");
    let (status, again) = portal
        .post_json(&format!("/api/v1/instances/{id}/retry"), &json!({}))
        .await;
    assert_eq!(status, 409, "nothing left to retry: {again}");
    // A resumed watch says nothing until an object changes, so on a quiet
    // cluster the banner goes once the last error is older than any retry
    // gap (65 s, cluster::watch); CI once saw it stay past a 30 s wait.
    eventually(
        90,
        "the banner goes once the API server is back",
        || async {
            let (_, page) = portal.get(&format!("/instances/{id}")).await;
            !page.contains("data-cluster-problem")
        },
    )
    .await;
    fault_line("API server stopped during an install", true, 0);
}

#[tokio::test]
async fn a_portal_started_without_its_api_server_starts_and_explains() {
    let shared = common::cluster::shared();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = unreachable_kubeconfig(&shared.kubeconfig, dir.path());
    let database = TestDatabase::new(Backend::Sqlite).await;
    let password = "first admin's password";
    let portal = ServeProcess::start(
        &database.url,
        &["--kubeconfig", kubeconfig.to_str().unwrap()],
        &[
            ("DATAPORT_ADMIN_USER", "root-admin"),
            ("DATAPORT_ADMIN_PASSWORD", password),
        ],
    )
    .await;

    let readyz = reqwest::get(format!("{}/readyz", portal.base))
        .await
        .unwrap();
    assert_eq!(readyz.status(), 503);
    let readiness: Value = readyz.json().await.unwrap();
    assert_eq!(readiness["database"]["ok"], true, "{readiness}");
    assert_eq!(readiness["cluster"]["ok"], false, "{readiness}");

    // The first admin came from the environment; pages say what is wrong.
    let mut tab = BrowserLike::new(&portal.base);
    assert_eq!(tab.log_in("root-admin", password).await.status, 303);
    let deadline = Instant::now() + Duration::from_secs(30);
    let catalog = loop {
        let catalog = tab.get("/catalog").await.body;
        if catalog.contains("data-cluster-problem") {
            break catalog;
        }
        assert!(
            Instant::now() < deadline,
            "the catalog never explains: {catalog}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(catalog.contains("cannot be reached"));
    tab.get("/catalog/zookeeper/install").await;
    let install = tab
        .post(
            "/catalog/zookeeper/install",
            &[("name", "zk"), ("namespace", "data"), ("action", "install")],
        )
        .await;
    assert_eq!(install.status, 503, "{}", install.body);
    assert!(install.body.contains("API server is unreachable"));
    let store = Store::connect(&database.url).await.unwrap();
    assert!(
        store.instances(None).await.unwrap().is_empty(),
        "nothing half-written"
    );
    assert!(
        !portal.log_text().contains(password),
        "the admin's password is not logged"
    );
    fault_line("API server unreachable at start", true, 0);
}

#[tokio::test]
async fn requests_get_503_while_postgres_restarts_and_no_row_is_lost() {
    let postgres = PrivatePostgres::start();
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("pgfault").await;
    let store = Store::connect(&postgres.url()).await.unwrap();
    let portal =
        Arc::new(Portal::start(store, Some(cluster.cluster().await), Layout::default()).await);

    let stop = Arc::new(AtomicBool::new(false));
    // Answers below 500 so far (the load is served before and after the
    // outage) and answers 503 (the outage is seen).
    let served = Arc::new(AtomicUsize::new(0));
    let unavailable_seen = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for worker in 0..4 {
        let portal = portal.clone();
        let stop = stop.clone();
        let served = served.clone();
        let unavailable_seen = unavailable_seen.clone();
        let namespace = namespace.clone();
        load.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            let mut installed = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let (status, body) = if worker == 0 && n % 5 == 0 {
                    let name = format!("zk-{n}");
                    let (status, answer) = portal
                        .post_json(
                            "/api/v1/instances",
                            &json!({"app": "zookeeper", "name": name, "namespace": namespace, "params": {"replicas": "1"}}),
                        )
                        .await;
                    if status == 201 {
                        installed.push(answer["id"].as_str().unwrap().to_owned());
                    }
                    (status, answer.to_string())
                } else if n % 2 == 0 {
                    let (status, _, body) = portal
                        .post_form("/account/tokens", &[("name", &format!("load-{worker}-{n}"))])
                        .await;
                    (status, body)
                } else {
                    portal.get("/api/v1/instances?page=1").await
                };
                if status < 500 {
                    served.fetch_add(1, Ordering::Relaxed);
                } else if status == 503 {
                    unavailable_seen.fetch_add(1, Ordering::Relaxed);
                }
                statuses.push((status, body));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (statuses, installed)
        }));
    }
    eventually(30, "served the load before the outage", || async {
        served.load(Ordering::Relaxed) >= 40
    })
    .await;
    postgres.stop();
    // Longer than the pool's 5 s wait for a connection: a shorter outage only
    // slows requests down; this one must fail some, with 503.
    tokio::time::sleep(Duration::from_secs(7)).await;
    // On a loaded machine the load may not have reached the database yet:
    // the outage lasts until a request has met it.
    eventually(60, "answered 503 during the outage", || async {
        unavailable_seen.load(Ordering::Relaxed) > 0
    })
    .await;
    postgres.start_again();
    // The pool reconnects and the load goes on: at least as many answers as
    // the check below reads, all of them after the restart.
    let before_recovery = served.load(Ordering::Relaxed);
    eventually(60, "served the load again after the restart", || async {
        served.load(Ordering::Relaxed) >= before_recovery + 40
    })
    .await;
    stop.store(true, Ordering::Relaxed);

    let mut statuses = Vec::new();
    let mut installed = Vec::new();
    for task in load {
        let (s, i) = task.await.unwrap();
        statuses.extend(s);
        installed.extend(i);
    }
    let unavailable = statuses.iter().filter(|(s, _)| *s == 503).count();
    let failures: Vec<_> = statuses
        .iter()
        .filter(|(s, _)| *s >= 500 && *s != 503)
        .collect();
    assert!(
        failures.is_empty(),
        "only 503 while Postgres is down: {failures:?}"
    );
    let mut seen = std::collections::BTreeMap::new();
    for (status, _) in &statuses {
        *seen.entry(*status).or_insert(0) += 1;
    }
    assert!(unavailable > 0, "the outage was seen: {seen:?}");
    let after = &statuses[statuses.len().saturating_sub(8)..];
    assert!(
        after.iter().all(|(s, _)| *s < 500),
        "recovered after the restart: {:?}",
        after.iter().map(|(s, _)| s).collect::<Vec<_>>()
    );

    // Every install that was answered 201 is whole: instance, revision, operation.
    let store = Store::connect(&postgres.url()).await.unwrap();
    let mut lost = 0;
    for id in &installed {
        let id: uuid::Uuid = id.parse().unwrap();
        let whole = store.instance(id).await.is_ok()
            && store.revisions(id).await.is_ok_and(|r| r.len() == 1)
            && store.operations(id).await.is_ok_and(|o| !o.is_empty());
        if !whole {
            lost += 1;
        }
    }
    let stored: BTreeSet<String> = store
        .instances(None)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.id.to_string())
        .collect();
    assert!(
        installed.len() >= 2,
        "installs went on: {}",
        installed.len()
    );
    assert_eq!(lost, 0, "acknowledged installs lost");
    assert_eq!(stored.len(), installed.len(), "no instance without its 201");
    println!(
        "postgres restart: {} requests, {unavailable} answered 503, {} installs kept",
        statuses.len(),
        installed.len()
    );
    fault_line("Postgres restarted under load", true, lost);
}

#[tokio::test]
async fn fifty_concurrent_updates_of_one_instance_are_serialized_and_none_is_lost() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("concurrent").await;
    let database = TestDatabase::new(Backend::Postgres).await;
    let portal = Arc::new(
        Portal::start(
            database.store().await,
            Some(cluster.cluster().await),
            Layout::default(),
        )
        .await,
    );
    let installed = portal
        .install(json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}}))
        .await;
    let id = installed["instance"]["id"].as_str().unwrap().to_owned();
    let first_revision = installed["instance"]["current_revision"].as_i64().unwrap();

    // All fifty start from the same revision: one wins, the others get 409.
    let mut tasks = Vec::new();
    for n in 0..50 {
        let portal = portal.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            let mut revision = first_revision;
            loop {
                let (status, answer) = portal
                    .post_json(
                        &format!("/api/v1/instances/{id}/update"),
                        &json!({"revision": revision, "params": {"replicas": "1", "cpu": format!("{}m", 100 + n)}}),
                    )
                    .await;
                match status {
                    202 => return (conflicts, answer["revision"].as_i64().unwrap()),
                    409 => {
                        conflicts += 1;
                        // Read the instance again and try on top of the newer revision.
                        let (_, instance) = portal.get_json(&format!("/api/v1/instances/{id}")).await;
                        revision = instance["instance"]["current_revision"].as_i64().unwrap();
                    }
                    other => panic!("update {n}: {other} {answer}"),
                }
            }
        }));
    }
    let mut conflicts = 0;
    let mut revisions = BTreeSet::new();
    for task in tasks {
        let (c, revision) = task.await.unwrap();
        conflicts += c;
        assert!(
            revisions.insert(revision),
            "two updates made revision {revision}"
        );
    }
    assert!(conflicts > 0, "they did race");
    let store = database.store().await;
    let stored = store.revisions(id.parse().unwrap()).await.unwrap();
    assert_eq!(stored.len(), 51, "the install and fifty updates, none lost");
    let cpus: BTreeSet<String> = stored
        .iter()
        .filter(|r| r.number > first_revision)
        .map(|r| r.params["cpu"].to_string())
        .collect();
    assert_eq!(cpus.len(), 50, "every update's own value kept: {cpus:?}");
    println!("50 concurrent updates: {conflicts} refused with 409 and retried, 50 revisions added");
    fault_line("50 concurrent updates of one instance", true, 0);
}
