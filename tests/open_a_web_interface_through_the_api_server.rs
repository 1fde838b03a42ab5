//! A web interface opened through dataport while dataport runs outside the
//! cluster: it dials through the real API server's service proxy
//! (`services/{name}:{port}/proxy`), to an upstream of the test's own
//! ([`common::upstream`]). Checked: Flink's JSON comes back; the API server's
//! rewriting of a page's absolute links and of a redirect's `Location` ends
//! under dataport's proxy path; dataport's credentials are not forwarded; a
//! viewer may only look.

mod common;

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use common::Portal;
use common::upstream::{OutsideUpstream, known_flink_session};
use dataport::service::Role;
use k8s_openapi::api::core::v1::Endpoints;
use kube::api::Api;
use reqwest::header::{ACCEPT, COOKIE};
use serde_json::{Value, json};

/// The upstream: a page with an absolute and a relative link, a redirect, an
/// echo of what arrived, and Flink's `/overview`.
fn upstream() -> axum::Router {
    use axum::routing::{any, get};
    axum::Router::new()
        .route(
            "/",
            get(|| async {
                (
                    [("content-type", "text/html; charset=utf-8")],
                    r#"<html><body><a href="/jobs">jobs</a> <a href="overview">overview</a></body></html>"#,
                )
            }),
        )
        .route(
            "/old",
            get(|| async { (axum::http::StatusCode::FOUND, [("location", "/new")]) }),
        )
        .route(
            "/overview",
            get(|| async { axum::Json(json!({"taskmanagers": 1, "flink-version": "1.20.0"})) }),
        )
        .route(
            "/echo",
            any(|method: axum::http::Method, headers: HeaderMap, body: String| async move {
                let headers: BTreeMap<String, String> = headers
                    .iter()
                    .map(|(name, value)| {
                        (name.to_string(), value.to_str().unwrap_or("?").to_owned())
                    })
                    .collect();
                axum::Json(json!({"method": method.as_str(), "headers": headers, "body": body}))
            }),
        )
}

#[tokio::test]
async fn a_web_interface_opens_through_the_api_servers_service_proxy() {
    let (portal, database, namespace) = Portal::on_test_cluster("webuiapi").await;
    let client = common::cluster::shared().client().await;
    let upstream =
        OutsideUpstream::serve(&client, &namespace, "analytics-rest", 8081, upstream()).await;
    let id = known_flink_session(&database, &namespace).await;
    let ui = format!("{}/instances/{id}/ui/flink-webui", portal.base);
    let viewer = portal
        .client_as(&database.url, "looker", Role::Viewer)
        .await;
    let operator = portal
        .client_as(&database.url, "doer", Role::Operator)
        .await;

    // Flink's JSON, through the API server.
    let overview: Value = viewer
        .get(format!("{ui}/overview"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overview["taskmanagers"], 1, "{overview}");

    // The API server rewrote the page's absolute link to its proxy path;
    // dataport moves it under its own. Relative links stay.
    let page = viewer
        .get(format!("{ui}/"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(&format!(r#"href="/instances/{id}/ui/flink-webui/jobs""#)),
        "{page}"
    );
    assert!(page.contains(r#"href="overview""#), "{page}");

    // A redirect stays under the proxy path.
    let moved = viewer.get(format!("{ui}/old")).send().await.unwrap();
    assert_eq!(moved.status(), 302);
    assert_eq!(
        moved.headers()["location"],
        format!("/instances/{id}/ui/flink-webui/new").as_str()
    );

    // dataport's credentials stay behind; the app's own cookies go on.
    let echoed: Value = viewer
        .get(format!("{ui}/echo?x=1"))
        .header(COOKIE, "dataport_session=stolen; theme=dark")
        .header("x-csrf-token", "secret")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let headers = &echoed["headers"];
    assert_eq!(headers["cookie"], "theme=dark", "{echoed}");
    assert_eq!(headers["x-csrf-token"], Value::Null, "{echoed}");
    assert!(!echoed.to_string().contains("dpt_"), "{echoed}");
    assert_eq!(
        headers["x-forwarded-prefix"],
        format!("/instances/{id}/ui/flink-webui").as_str()
    );

    // A viewer may not change anything; an operator may.
    let refused = viewer
        .post(format!("{ui}/echo"))
        .body("cancel")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let allowed: Value = operator
        .post(format!("{ui}/echo"))
        .body("cancel")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(allowed["method"], "POST", "{allowed}");
    assert_eq!(allowed["body"], "cancel", "{allowed}");

    upstream.remove(&client).await;
}

/// Grafana cannot run here (AGPL): on the local cluster that runs processes
/// (the README's), its pod is simulated with an address of the node's own
/// where nothing listens, as when a pod's server is down. Through the API
/// server the link answers 502 naming Grafana, never what the machine's
/// network would answer for an unknown address.
#[tokio::test]
async fn a_simulated_pods_interface_answers_502_saying_it_cannot_be_reached() {
    let (portal, _database, namespace) = Portal::on_real_flink_cluster("webuidown").await;
    let monitoring = portal
        .install(json!({"app": "monitoring", "name": "grafana", "namespace": namespace}))
        .await;
    let id = monitoring["instance"]["id"].as_str().unwrap().to_owned();
    portal
        .wait_for_instance(&id, "Running", |i| i["instance"]["status"] == "Running")
        .await;
    // The endpoint controller publishes the simulated pod's address.
    let client = common::cluster::real_flink().client().await;
    let endpoints: Api<Endpoints> = Api::namespaced(client, &namespace);
    let address = common::operator::eventually(
        std::time::Duration::from_secs(30),
        "Grafana's endpoint",
        || async {
            let found = endpoints.get("grafana").await.ok()?;
            found
                .subsets?
                .first()?
                .addresses
                .as_ref()?
                .first()
                .map(|a| a.ip.clone())
        },
    )
    .await;
    assert!(
        common::flink::is_a_process_node_pod_ip(&address),
        "a simulated pod gets an address of the node's own: {address}"
    );

    // At once (the API server's 503 is not retried for the upstream's
    // whole timeout), saying why: no Grafana runs here.
    let asked = std::time::Instant::now();
    let answer = portal
        .http
        .get(format!("{}/instances/{id}/ui/grafana/", portal.base))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 502);
    assert!(
        asked.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );
    let body: Value = answer.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert_eq!(
        message,
        "Grafana of grafana cannot be reached: its pods are simulated by the local cluster's \
         node (no container runs), so it does not run here",
        "{body}"
    );
    // Its pod says so too, on the instance page.
    let (status, page) = portal.get(&format!("/instances/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("simulated, no container")
            && page.contains("The local node simulates this pod"),
        "the pods panel says the pod is simulated"
    );
}
