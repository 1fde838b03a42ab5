//! A user asks for a savepoint of a session job every 30 s, keeping 2: the
//! stand-in operator takes them as operator 1.15 does (FlinkStateSnapshots
//! `<job>-savepoint-periodic-<ms>`, label `snapshot.trigger-type: PERIODIC`)
//! and deletes the older ones, so the list keeps the configured number; a
//! manual savepoint stays, also after the job is started again from it.
//! The job page shows the setting and when the next one is due, and its list
//! follows the cluster live.

mod common;

use std::time::Duration;

use common::Portal;
use dataport::crd::FlinkSessionJob;
use kube::api::Api;
use serde_json::{Value, json};

/// A JAR on a public https host (an RFC 5737 address: no DNS needed).
const JAR: &str = "https://198.51.100.7/jobs/etl.jar";

async fn snapshots(portal: &Portal, id: &str) -> Vec<Value> {
    let (status, list) = portal
        .get_json(&format!("/api/v1/instances/{id}/jobs/etl/savepoints"))
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().cloned().unwrap_or_default()
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
    let configuration = spec.flink_configuration.unwrap();
    assert_eq!(
        configuration["kubernetes.operator.periodic.savepoint.interval"],
        "30 s"
    );
    assert_eq!(
        configuration["kubernetes.operator.savepoint.history.max.count"],
        "2"
    );
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
    let mut seen: Vec<String> = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(200);
    let kept = loop {
        let list = snapshots(&portal, &id).await;
        for name in named(&list, "periodic") {
            if !seen.contains(&name) {
                seen.push(name);
            }
        }
        let periodic = named(&list, "periodic");
        if seen.len() >= 3 && periodic.len() == 2 && !periodic.contains(&seen[0]) {
            break list;
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
    };
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
