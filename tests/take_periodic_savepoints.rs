//! A user asks for a savepoint of a session job, or of an application's job,
//! every 30 s, keeping 2: the stand-in operator takes them as operator 1.15
//! does (FlinkStateSnapshots `<resource>-savepoint-periodic-<ms>`, label
//! `snapshot.trigger-type: PERIODIC`, referring to the FlinkSessionJob or the
//! FlinkDeployment) and deletes the older ones, so the list keeps the
//! configured number; a manual savepoint stays, also after the job is started
//! again from it. The job's page (the application's instance page) shows the
//! setting and when the next one is due, and its list follows the cluster live.

mod common;

use std::time::Duration;

use common::Portal;
use common::application::install_application;
use dataport::crd::{FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot};
use kube::api::Api;
use serde_json::{Value, json};

/// A JAR on a public https host (an RFC 5737 address: no DNS needed).
const JAR: &str = "https://198.51.100.7/jobs/etl.jar";

async fn snapshots(portal: &Portal, id: &str) -> Vec<Value> {
    listed(
        portal,
        &format!("/api/v1/instances/{id}/jobs/etl/savepoints"),
    )
    .await
}

async fn listed(portal: &Portal, path: &str) -> Vec<Value> {
    let (status, list) = portal.get_json(path).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().cloned().unwrap_or_default()
}

/// Follows the list at `path` until a third periodic savepoint was taken
/// and the list holds the two newest (never more than one over the limit):
/// the periodic ones seen, oldest first, and the list then.
async fn two_of_three_kept(portal: &Portal, path: &str) -> (Vec<String>, Vec<Value>) {
    let mut seen: Vec<String> = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(200);
    loop {
        let list = listed(portal, path).await;
        for name in named(&list, "periodic") {
            if !seen.contains(&name) {
                seen.push(name);
            }
        }
        let periodic = named(&list, "periodic");
        if seen.len() >= 3 && periodic.len() == 2 && !periodic.contains(&seen[0]) {
            return (seen, list);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never kept 2 of 3 periodic savepoints: seen {seen:?}, listed {list:?}"
        );
        assert!(
            periodic.len() <= 3,
            "more than one over the limit: {list:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn named(list: &[Value], trigger: &str) -> Vec<String> {
    list.iter()
        .filter(|s| s["trigger"] == trigger)
        .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_periodic_savepoint_every_30_s_keeps_the_configured_number() {
    let (portal, _database, namespace) = Portal::on_test_cluster("periodic-sp").await;
    let id = portal.install_flink_session(&namespace, true).await;

    // Each schedule field says what is wrong next to it.
    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR,
                "periodicSavepointInterval": "every minute", "savepointHistoryMaxCount": "0"}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let fields = &refused["error"]["fields"];
    assert!(
        fields["periodicSavepointInterval"]
            .as_str()
            .unwrap()
            .starts_with("Periodic savepoint interval must be a duration like 30 s"),
        "{refused}"
    );
    assert!(fields["savepointHistoryMaxCount"].is_string(), "{refused}");
    let (status, _, html) = portal
        .post_form(
            &format!("/instances/{id}/jobs"),
            &[
                ("name", "etl"),
                ("jarURI", JAR),
                ("periodicSavepointInterval", "2 s"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        html.contains(r#"id="e-periodicSavepointInterval""#) && html.contains("at least 10 s"),
        "the form says why next to the field"
    );

    let (status, submitted) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR, "upgradeMode": "savepoint",
                "periodicSavepointInterval": "30 s", "savepointHistoryMaxCount": "2"}}),
        )
        .await;
    assert_eq!(status, 201, "{submitted}");
    let client = common::cluster::shared().client().await;
    let session_jobs: Api<FlinkSessionJob> = Api::namespaced(client.clone(), &namespace);
    let spec = session_jobs.get("analytics-etl").await.unwrap().spec;
    let configuration = serde_json::to_value(spec.flink_configuration.unwrap()).unwrap();
    assert_schedule_of_30s_keeping_2(&configuration);
    portal
        .wait_for_job(&id, "etl", "running", Duration::from_secs(60), |job| {
            job["state"] == "RUNNING"
        })
        .await;
    let (_, page) = portal.get(&format!("/instances/{id}/jobs/etl")).await;
    assert!(
        page.contains("data-periodic-interval>30 s<") && page.contains("data-next-savepoint"),
        "the job page shows the setting and the next one due"
    );
    assert!(
        page.contains("data-savepoints-live="),
        "the list follows live"
    );

    // A manual one, which retention never deletes.
    let (status, taken) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/savepoints"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{taken}");
    let manual = taken["name"].as_str().unwrap().to_owned();

    // Periodic ones come every 30 s; once a third was taken the list holds
    // the two newest, and the first has left it.
    let (seen, kept) = two_of_three_kept(
        &portal,
        &format!("/api/v1/instances/{id}/jobs/etl/savepoints"),
    )
    .await;
    assert!(
        seen.iter()
            .all(|n| n.starts_with("analytics-etl-savepoint-periodic-")),
        "{seen:?}"
    );
    assert!(
        named(&kept, "manual").contains(&manual),
        "the manual savepoint stays: {kept:?}"
    );
    let time = kept[0]["time"].as_str().unwrap();
    let (_, page) = portal.get(&format!("/instances/{id}/jobs/etl")).await;
    let readable = format!(
        "{} UTC",
        chrono::DateTime::parse_from_rfc3339(time)
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S")
    );
    assert!(page.contains(&readable), "times read as {readable}");

    // Started again from the manual savepoint, it stays in the list.
    let path = eventually_completed(&portal, &id, &manual).await;
    let (status, redeployed) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs/etl/redeploy"),
            &json!({"initialSavepointPath": path, "allowNonRestoredState": false}),
        )
        .await;
    assert_eq!(status, 200, "{redeployed}");
    portal
        .wait_for_job(
            &id,
            "etl",
            "running again",
            Duration::from_secs(60),
            |job| job["state"] == "RUNNING",
        )
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = snapshots(&portal, &id).await;
    assert!(
        named(&after, "manual").contains(&manual),
        "the savepoint started from stays listed: {after:?}"
    );
}

#[tokio::test]
async fn an_applications_periodic_savepoints_keep_the_configured_number() {
    let (portal, _database, namespace) = Portal::on_test_cluster("app-periodic-sp").await;
    let schedule = json!({"periodicSavepointInterval": "30 s", "savepointHistoryMaxCount": "2"});
    let id = install_application(&portal, &namespace, true, schedule.clone()).await;

    // Without a savepoint directory (no high availability) the install form
    // refuses the interval next to it.
    let mut params = json!({"operator": "flink-operator", "jarURI": common::application::JAR});
    params
        .as_object_mut()
        .unwrap()
        .extend(schedule.as_object().unwrap().clone());
    let (status, refused) = portal
        .post_json(
            "/api/v1/instances",
            &json!({"app": "flink-application", "name": "other", "namespace": namespace,
                "params": params}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let fields = refused["error"]["fields"].as_object().unwrap();
    assert_eq!(
        fields.keys().collect::<Vec<_>>(),
        ["periodicSavepointInterval"],
        "{refused}"
    );
    assert!(
        fields["periodicSavepointInterval"]
            .as_str()
            .unwrap()
            .starts_with(
                "Periodic savepoints need a savepoint directory: turn high availability on"
            ),
        "{refused}"
    );

    // The FlinkDeployment carries the operator's keys.
    let client = common::cluster::shared().client().await;
    let deployments: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let spec = deployments.get("orders").await.unwrap().spec;
    let configuration = serde_json::to_value(spec.flink_configuration).unwrap();
    assert_schedule_of_30s_keeping_2(&configuration);
    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    assert!(
        page.contains("data-periodic-interval>30 s<")
            && page.contains("(set on the application)")
            && page.contains("data-next-savepoint"),
        "the instance page shows the setting and the next one due"
    );

    let (seen, _) = two_of_three_kept(&portal, &format!("/api/v1/instances/{id}/savepoints")).await;
    assert!(
        seen.iter()
            .all(|n| n.starts_with("orders-savepoint-periodic-")),
        "{seen:?}"
    );
    // The objects: labelled PERIODIC, referring to the FlinkDeployment; the
    // first is gone from the cluster too.
    let snapshots: Api<FlinkStateSnapshot> = Api::namespaced(client, &namespace);
    let newest = snapshots.get(&seen[seen.len() - 1]).await.unwrap();
    assert_eq!(
        newest.metadata.labels.unwrap()["snapshot.trigger-type"],
        "PERIODIC"
    );
    assert_eq!(
        serde_json::to_value(newest.spec.job_reference).unwrap(),
        json!({"kind": "FlinkDeployment", "name": "orders"})
    );
    common::operator::eventually(
        Duration::from_secs(30),
        "the first periodic savepoint deleted",
        || async {
            snapshots
                .get_opt(&seen[0])
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;

    // Keeping fewer is an update the operator applies without a redeploy
    // (its own options are `DiffType.IGNORE`): the job runs on, no upgrade
    // savepoint is taken, and the history shrinks to one.
    let job_id = |deployment: FlinkDeployment| deployment.status?.job_status?.job_id;
    let running_job = job_id(deployments.get("orders").await.unwrap());
    let params = json!({"operator": "flink-operator", "jarURI": common::application::JAR,
        "parallelism": 1, "upgradeMode": "savepoint", "highAvailability": true,
        "haType": "kubernetes", "storage": "s3", "minio": "minio",
        "periodicSavepointInterval": "30 s", "savepointHistoryMaxCount": "1"});
    portal.update(&id, 1, &params).await;
    portal
        .wait_for_instance(&id, "the update applied", |instance| {
            instance["instance"]["current_revision"] == 2
                && instance["operations"][0]["state"] == "succeeded"
        })
        .await;
    let list = common::application::wait_for_snapshots(
        &portal,
        &id,
        "one periodic savepoint kept",
        Duration::from_secs(60),
        |list| named(list, "periodic").len() == 1,
    )
    .await;
    assert!(named(&list, "upgrade").is_empty(), "no upgrade: {list:?}");
    let deployment = deployments.get("orders").await.unwrap();
    let recorded = deployment
        .status
        .as_ref()
        .and_then(|s| s.reconciliation_status.as_ref())
        .and_then(|r| r.last_reconciled_spec.clone())
        .unwrap();
    assert!(
        recorded.contains(r#""kubernetes.operator.savepoint.history.max.count":"1""#),
        "the change is recorded: {recorded}"
    );
    assert_eq!(job_id(deployment), running_job, "the job ran on");
}

/// The path of snapshot `name` once it completed.
async fn eventually_completed(portal: &Portal, id: &str, name: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let list = snapshots(portal, id).await;
        if let Some(path) = list
            .iter()
            .find(|s| s["name"] == name && s["state"] == "completed")
            .and_then(|s| s["path"].as_str())
        {
            return path.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} never completed: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Asserts that `configuration` (a resource's `flinkConfiguration`) asks the
/// operator for a periodic savepoint every 30 s, keeping 2.
fn assert_schedule_of_30s_keeping_2(configuration: &serde_json::Value) {
    assert_eq!(
        configuration["kubernetes.operator.periodic.savepoint.interval"],
        "30 s"
    );
    assert_eq!(
        configuration["kubernetes.operator.savepoint.history.max.count"],
        "2"
    );
}
