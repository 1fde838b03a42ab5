//! A user installs the Flink operator, a Flink 1.20 session cluster with two
//! TaskManagers running dataport's test job, Prometheus and Grafana
//! monitoring through the portal, on the
//! local cluster whose node runs Flink's pods as real Flink processes and
//! Prometheus's pod as a real Prometheus server. Prometheus discovers the
//! pods through the API server with its own ServiceAccount (in-cluster, as
//! the rendered configuration says), lists the JobManager and both
//! TaskManagers as healthy targets (each serving its own `metrics` port),
//! and answers Flink's own figures: the registered TaskManagers that Flink's
//! REST `/overview` reports, and the running jobs the portal shows. The
//! instance page's metrics panel shows the same figures, the restarts alert
//! of a failing job appears there (and is counted on the instances list)
//! and clears after the job is suspended; a screenshot of the panel in
//! Chromium is `target/screenshots/flink-instance-metrics.png`.
//! Uninstalling leaves no Flink or Prometheus process behind.

mod common;

use std::time::Duration;

use common::Portal;
use common::browser::{Browser, JavaScript};
use common::cluster::{REAL_FLINK_RELEASE, real_flink, serve_file, test_job_jar};
use common::flink::{pod_ip, rest, running_job_manager};
use common::operator::eventually;
use common::prometheus::{alerts, label_value_variables, panel_queries, query};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::Api;
use serde_json::{Value, json};

#[tokio::test]
async fn prometheus_scrapes_the_real_flink_pods_and_answers_flinks_figures() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("promflink").await;
    let jar = serve_file(&test_job_jar(REAL_FLINK_RELEASE)).await;
    let (operator, flink) = install_session_taking_jars_over_http(&portal, &namespace).await;
    let prometheus = portal
        .install(json!({"app": "prometheus", "name": "prometheus", "namespace": namespace, "params": {"retentionDays": 2, "storage": "2Gi"}}))
        .await;
    assert_eq!(
        prometheus["operations"][0]["state"], "succeeded",
        "{prometheus}"
    );
    let monitoring = portal
        .install(
            json!({"app": "monitoring", "name": "grafana", "namespace": namespace, "params": {}}),
        )
        .await;
    assert_eq!(
        monitoring["operations"][0]["state"], "succeeded",
        "{monitoring}"
    );

    let client = real_flink().client().await;
    // Grafana's data source: the Prometheus instance, under the dashboards' uid.
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let sources = config_maps
        .get("grafana-datasources")
        .await
        .expect("Grafana's data sources");
    let file = sources.data.unwrap_or_default()["dataport.yaml"].clone();
    assert!(
        file.contains("uid: dataport-prometheus") && file.contains("url: http://prometheus:9090"),
        "{file}"
    );

    // The Prometheus pod runs for real on a pod IP of the node.
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let server = eventually(
        Duration::from_secs(120),
        "a running, ready Prometheus pod",
        || async {
            let pod = pods.get("prometheus-0").await.ok()?;
            let status = pod.status.as_ref()?;
            let ready = status.container_statuses.as_ref()?.iter().all(|c| {
                c.ready
                    && c.container_id
                        .as_deref()
                        .is_some_and(|id| id.starts_with("process://"))
            });
            (ready
                && status
                    .pod_ip
                    .as_deref()
                    .is_some_and(common::flink::is_a_process_node_pod_ip))
            .then_some(pod)
        },
    )
    .await;
    let base = format!("http://{}:9090", pod_ip(&server));

    // This local Prometheus has no UI pages: its page offers its API
    // instead, which answers through dataport.
    let server_id = prometheus["instance"]["id"].as_str().expect("id");
    let targets = format!("/instances/{server_id}/ui/prometheus/api/v1/targets");
    let (_, page) = portal.get(&format!("/instances/{server_id}")).await;
    assert!(
        page.contains("without its web UI pages") && page.contains(&targets),
        "the Prometheus page offers its API"
    );
    let (status, listed) = portal.get_json(&targets).await;
    assert_eq!(
        (status, &listed["status"]),
        (200, &json!("success")),
        "{listed}"
    );

    let job_manager = running_job_manager(&pods, "analytics").await;
    let job_manager_ip = pod_ip(&job_manager);
    let overview = eventually(
        Duration::from_secs(240),
        "two registered TaskManagers",
        || async {
            rest(&job_manager_ip, "/overview")
                .await
                .filter(|o| o["taskmanagers"] == 2)
        },
    )
    .await;

    // Its targets: the JobManager and both TaskManagers, up, with the
    // labels the configuration gives them.
    let targets = session_targets_up(&base).await;
    let mut components: Vec<&str> = targets
        .iter()
        .map(|t| t["labels"]["component"].as_str().unwrap_or_default())
        .collect();
    components.sort();
    assert_eq!(
        components,
        ["jobmanager", "taskmanager", "taskmanager"],
        "{targets:#?}"
    );
    for target in &targets {
        let labels = &target["labels"];
        assert_eq!(labels["namespace"], namespace.as_str(), "{target}");
        assert_eq!(labels["job"], "dataport-pods", "{target}");
        assert_eq!(labels["flink_cluster"], "analytics", "{target}");
        let pod = labels["pod"].as_str().unwrap_or_default();
        assert!(pod.starts_with("analytics-"), "{target}");
        // Each pod's own metrics port: its pod IP, port 9249.
        let scraped = target["scrapeUrl"].as_str().unwrap_or_default();
        let ip = pods
            .get(pod)
            .await
            .map(|p| pod_ip(&p))
            .expect("the target's pod");
        assert_eq!(scraped, format!("http://{ip}:9249/metrics"), "{target}");
    }

    // The test job runs on the session, as the portal shows, taking a
    // checkpoint every 2 s (into the JobManager's memory: the session has no
    // checkpoint storage).
    let job_params = |args: &str| json!({"jarURI": jar, "parallelism": 1, "upgradeMode": "stateless", "args": args});
    let (status, submitted) = portal
        .post_json(
            &format!("/api/v1/instances/{flink}/jobs"),
            &json!({"name": "counting", "params": job_params("--delay-ms 20 --checkpoint-ms 2000")}),
        )
        .await;
    assert_eq!(status, 201, "{submitted}");
    let jobs = eventually(Duration::from_secs(180), "the job RUNNING", || async {
        let (_, jobs) = portal
            .get_json(&format!("/api/v1/instances/{flink}/jobs"))
            .await;
        let jobs = jobs.as_array()?.clone();
        jobs.iter()
            .any(|job| job["state"] == "RUNNING")
            .then_some(jobs)
    })
    .await;
    let shown_running = jobs.iter().filter(|job| job["state"] == "RUNNING").count();

    // Flink's figures, from Prometheus, equal Flink's REST answer and the portal's.
    let of_the_session =
        |metric: &str| format!("{metric}{{namespace=\"{namespace}\",instance=\"analytics\"}}");
    let registered = query_until(
        &base,
        &of_the_session("flink_jobmanager_numRegisteredTaskManagers"),
        |value| value == "2",
    )
    .await;
    assert_eq!(registered, overview["taskmanagers"].to_string());
    let running = query_until(
        &base,
        &of_the_session("flink_jobmanager_numRunningJobs"),
        |value| value != "0",
    )
    .await;
    assert_eq!(running, shown_running.to_string(), "{jobs:?}");
    let now = rest(&job_manager_ip, "/overview").await.expect("overview");
    assert_eq!(running, now["jobs-running"].to_string(), "{now}");

    // The instance page's figures come from the same Prometheus: the
    // running job, and the records it reads.
    let figures_path = format!("/api/v1/instances/{flink}/figures");
    let latest = |figures: &Value, key: &str| {
        figures["figures"]
            .as_array()
            .and_then(|all| all.iter().find(|f| f["key"] == key))
            .and_then(|f| f["points"].as_array()?.last()?[1].as_f64())
    };
    let figures = portal
        .wait_for_json_within(
            &figures_path,
            "the page's figures of the running job",
            Duration::from_secs(120),
            |figures| {
                latest(figures, "running_jobs") == Some(shown_running as f64)
                    && latest(figures, "records_in").is_some_and(|rate| rate > 0.0)
            },
        )
        .await;
    assert_eq!(
        figures["prometheus"][1],
        format!("{namespace}/prometheus"),
        "{figures}"
    );
    assert!(figures["problem"].is_null(), "{figures}");

    // Every panel of the Flink dashboard shows the session's numbers.
    query_until(
        &base,
        &of_the_session("flink_jobmanager_job_numberOfCompletedCheckpoints"),
        |value| value != "0",
    )
    .await;
    every_panel_answers(
        &base,
        include_str!("../src/catalog/apps/dashboards/flink.json"),
        &[("namespace", &namespace), ("cluster", "analytics")],
        16,
    )
    .await;

    // The operator's own metrics, from its pod's metrics port: it is up and
    // counts the session (its JobManager READY) and the job in this
    // namespace, which its labels write as Flink's reporter writes label
    // values (`-` as `_`); every panel of its dashboard answers.
    let of_the_operator = |metric: &str, kind: &str| {
        format!(
            "{metric}{{namespace=\"{namespace}\",instance=\"flink-operator\",resourcens=\"{}\",resourcetype=\"{kind}\"}}",
            namespace.replace('-', "_")
        )
    };
    let operator_up = format!("up{{namespace=\"{namespace}\",instance=\"flink-operator\"}}");
    query_until(&base, &operator_up, |value| value == "1").await;
    for (metric, kind) in [
        ("flink_k8soperator_namespace_Count", "FlinkDeployment"),
        (
            "flink_k8soperator_namespace_JmDeploymentStatus_READY_Count",
            "FlinkDeployment",
        ),
        (
            "flink_k8soperator_namespace_Lifecycle_State_STABLE_Count",
            "FlinkDeployment",
        ),
        ("flink_k8soperator_namespace_Count", "FlinkSessionJob"),
    ] {
        query_until(&base, &of_the_operator(metric, kind), |value| value == "1").await;
    }
    // The operator's page charts the same: one cluster, one job, its
    // reconciliations.
    portal
        .wait_for_json_within(
            &format!("/api/v1/instances/{operator}/figures"),
            "the operator page's figures",
            Duration::from_secs(120),
            |figures| {
                latest(figures, "flink_deployments") == Some(1.0)
                    && latest(figures, "flink_session_jobs") == Some(1.0)
                    && latest(figures, "job_managers_in_error") == Some(0.0)
                    && latest(figures, "reconciliations").is_some_and(|rate| rate > 0.0)
            },
        )
        .await;
    every_panel_answers(
        &base,
        include_str!("../src/catalog/apps/dashboards/flink-operator.json"),
        &[("namespace", &namespace), ("cluster", "flink-operator")],
        14,
    )
    .await;

    // The user upgrades the job to one that fails 3 s into every run: its
    // restarts rise and the alert fires, tied to this cluster.
    let (status, upgraded) = portal
        .post_json(
            &format!("/api/v1/instances/{flink}/jobs/counting/upgrade"),
            &json!({"params": job_params("--delay-ms 20 --checkpoint-ms 2000 --fail-after-ms 3000")}),
        )
        .await;
    assert_eq!(status, 200, "{upgraded}");
    let restarting = alert_until(&base, "FlinkJobRestarting", &namespace, |found| {
        found.filter(|alert| alert["state"] == "firing")
    })
    .await;
    let labels = &restarting["labels"];
    assert_eq!(labels["severity"], "warning", "{restarting}");
    // Flink's reporter writes `_` for each character of a label value
    // outside [a-zA-Z0-9_:]: the job `dataport-test-job`.
    assert_eq!(labels["job_name"], "dataport_test_job", "{restarting}");
    assert!(labels["job_id"].is_string(), "{restarting}");
    assert!(
        restarting["annotations"]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Flink job dataport_test_job on analytics restarted")),
        "{restarting}"
    );

    // The portal shows the alert on the instance page, with the figures,
    // and counts it on the instances list.
    let figures = portal
        .wait_for_json_within(
            &figures_path,
            "the alert on the instance page",
            Duration::from_secs(60),
            |figures| has_alert(figures, "FlinkJobRestarting"),
        )
        .await;
    // Named as the user named the job, not only as Flink does.
    let alert = figures["alerts"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["name"] == "FlinkJobRestarting"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(alert["job"], "counting", "{alert}");
    let (_, list) = portal.get("/instances").await;
    assert!(
        list.contains("alert firing") || list.contains("alerts firing"),
        "{list}"
    );
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    browser
        .open(&portal.base, &format!("/instances/{flink}"))
        .await;
    browser
        .wait_for(r#"[data-alert="FlinkJobRestarting"][data-alert-state="firing"] [data-alert-job="counting"]"#)
        .await;
    browser
        .wait_for(r#"[data-figure="running_jobs"] polyline"#)
        .await;
    browser
        .client
        .execute(
            "document.getElementById('figures').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    let shot = browser.screenshot("flink-instance-metrics").await;
    // README's copy in docs/ only when asked, so a test run leaves the tree as it was.
    if std::env::var_os("DATAPORT_DOCS_SCREENSHOTS").is_some() {
        std::fs::copy(
            &shot,
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("docs/flink-instance-metrics.png"),
        )
        .expect("copy the screenshot to docs/");
    }
    // A mark on the open page: a reload would lose it.
    browser.mark_page().await;

    // Suspended, the job restarts no more: the alert clears, and the job
    // that went away is missed.
    let (status, suspended) = portal
        .post_json(
            &format!("/api/v1/instances/{flink}/jobs/counting/suspend"),
            &json!({"dropState": true}),
        )
        .await;
    assert_eq!(status, 200, "{suspended}");
    alert_until(
        &base,
        "FlinkJobRestarting",
        &namespace,
        |found| match found {
            None => Some(json!(null)),
            Some(_) => None,
        },
    )
    .await;
    let gone = alert_until(&base, "FlinkJobGone", &namespace, |found| {
        found.filter(|alert| alert["state"] == "firing")
    })
    .await;
    assert_eq!(gone["labels"]["job_name"], "dataport_test_job", "{gone}");
    portal
        .wait_for_json_within(
            &figures_path,
            "the alert gone from the instance page",
            Duration::from_secs(60),
            |figures| !has_alert(figures, "FlinkJobRestarting"),
        )
        .await;
    // The open page follows: the alert leaves it within a read of the
    // figures (every 15 s), without a reload.
    browser
        .wait_for_text("[data-figures-note]", "said it follows live", |note| {
            note.contains("every 15 s")
        })
        .await;
    browser
        .wait_for_displayed(r#"[data-alert="FlinkJobRestarting"]"#, 0)
        .await;
    browser.assert_not_reloaded().await;
    browser.close().await;

    // Uninstalling leaves neither Flink nor Prometheus running.
    let prometheus_id = prometheus["instance"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = portal
        .post_json(
            &format!("/api/v1/instances/{prometheus_id}/uninstall"),
            &json!({"confirm": "prometheus"}),
        )
        .await;
    assert!(status < 300, "uninstall answered {status}");
    common::uninstall_until_no_process_is_left(&portal, &flink, "analytics", &namespace).await;
    eventually(
        Duration::from_secs(120),
        "no Prometheus process left",
        || async {
            common::prometheus::processes_of(&namespace)
                .is_empty()
                .then_some(())
        },
    )
    .await;
}

/// Installs the operator (taking jars over http from private hosts, as the
/// test job is served here) and session `analytics` of Flink 1.20 with two
/// TaskManagers of one slot; returns the operator's and the session's
/// instance ids.
async fn install_session_taking_jars_over_http(
    portal: &Portal,
    namespace: &str,
) -> (String, String) {
    let operator = portal
        .install(
            json!({"app": "flink-kubernetes-operator", "name": "flink-operator",
            "namespace": namespace,
            "params": {"allowedJarSchemes": "https,http", "allowPrivateHosts": true}}),
        )
        .await;
    assert_eq!(
        operator["operations"][0]["state"], "succeeded",
        "{operator}"
    );
    let session = portal
        .install(
            json!({"app": "flink", "name": "analytics", "namespace": namespace,
            "version": "1.20", "params": {
                "operator": "flink-operator",
                "jobManagerMemory": "1Gi", "jobManagerCpu": "500m",
                "taskManagerMemory": "1280Mi", "taskManagerCpu": "500m",
                "taskSlots": 1, "taskManagerReplicas": 2,
            }}),
        )
        .await;
    let id = |installed: &Value| {
        installed["instance"]["id"]
            .as_str()
            .expect("instance id")
            .to_owned()
    };
    (id(&operator), id(&session))
}

/// The active targets of session `analytics` on the Prometheus at `base`,
/// once there are three (its JobManager and two TaskManagers) and all are up
/// (180 s at most; the failure shows each target's health and last error: a
/// process outside the cluster holding port 9249 on every address keeps a
/// pod's reporter from starting).
async fn session_targets_up(base: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let mut last = Vec::new();
    while std::time::Instant::now() < deadline {
        if let Some(data) = common::prometheus::api(base, "/api/v1/targets?state=active").await {
            let flink: Vec<Value> = data["activeTargets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| t["labels"]["instance"] == "analytics")
                .cloned()
                .collect();
            if flink.len() == 3 && flink.iter().all(|t| t["health"] == "up") {
                return flink;
            }
            last = flink;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let seen: Vec<String> = last
        .iter()
        .map(|t| format!("{} {} {}", t["labels"]["pod"], t["health"], t["lastError"]))
        .collect();
    panic!("the session's JobManager and two TaskManagers were never all up: {seen:#?}");
}

/// The value of the one series `promql` answers on the Prometheus at
/// `base`, once `wanted` holds for it (180 s at most; the failure shows the
/// last answer).
async fn query_until(base: &str, promql: &str, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let mut last = None;
    while std::time::Instant::now() < deadline {
        if let Some(data) = query(base, promql).await {
            if let Some([series]) = data["result"].as_array().map(Vec::as_slice)
                && let Some(value) = series["value"][1].as_str()
                && wanted(value)
            {
                return value.to_owned();
            }
            last = Some(data);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    panic!("{promql} never answered the value wanted; last answer: {last:?}");
}

/// Checks that every panel query of `dashboard` (a shipped dashboard's
/// JSON; at least `queries` of them), with its variables set to `chosen`
/// as Grafana sets them, answers at least one series on the Prometheus at
/// `base`, and that its variables offer the values chosen (120 s at most
/// for all: a rate needs two scrapes; the failure names each panel without
/// data).
async fn every_panel_answers(base: &str, dashboard: &str, chosen: &[(&str, &str)], queries: usize) {
    let dashboard: Value = serde_json::from_str(dashboard).expect("a dashboard");
    let chosen = chosen.to_vec();
    let count = queries;
    let queries = panel_queries(&dashboard, &chosen);
    assert!(queries.len() >= count, "{queries:#?}");
    let variables = label_value_variables(&dashboard, &chosen);
    assert_eq!(variables.len(), 2, "{variables:?}");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let mut empty = Vec::new();
        for panel in &queries {
            let series = query(base, &panel.promql)
                .await
                .and_then(|data| data["result"].as_array().map(Vec::len))
                .unwrap_or_default();
            if series == 0 {
                empty.push(format!("{}: {}", panel.place, panel.promql));
            }
        }
        for (name, selector, label) in &variables {
            let wanted = chosen
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| *v)
                .unwrap_or_default();
            let offered = query(base, selector).await.is_some_and(|data| {
                data["result"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|s| s["metric"][label.as_str()] == wanted)
            });
            if !offered {
                empty.push(format!(
                    "variable {name} does not offer {wanted}: {selector}"
                ));
            }
        }
        if empty.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "dashboard panels without data:\n{}",
            empty.join("\n")
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// Alert `name` of session `analytics` in `namespace` on the Prometheus at
/// `base` (`/api/v1/alerts`, matched on `alertname`, `namespace` and
/// `flink_cluster`), once `wanted` turns what is there (or `None`) into a
/// value (240 s at most; the failure shows the alerts last listed).
async fn alert_until(
    base: &str,
    name: &str,
    namespace: &str,
    wanted: impl Fn(Option<Value>) -> Option<Value>,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    let mut last = None;
    while std::time::Instant::now() < deadline {
        if let Some(listed) = alerts(base).await {
            let found = listed
                .iter()
                .find(|alert| {
                    let labels = &alert["labels"];
                    labels["alertname"] == name
                        && labels["namespace"] == namespace
                        && labels["flink_cluster"] == "analytics"
                })
                .cloned();
            if let Some(value) = wanted(found) {
                return value;
            }
            last = Some(listed);
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    panic!("alert {name} never was as wanted; alerts last listed: {last:#?}");
}

/// Whether the portal's figures of an instance list alert `name` firing.
fn has_alert(figures: &Value, name: &str) -> bool {
    figures["alerts"].as_array().is_some_and(|alerts| {
        alerts
            .iter()
            .any(|a| a["name"] == name && a["state"] == "firing")
    })
}
