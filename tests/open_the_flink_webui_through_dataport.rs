//! A real Flink session's WebUI through dataport's proxy
//! (`/instances/{id}/ui/flink-webui/`): nobody reaches it without a login, a
//! viewer may look (Flink's REST answers with its TaskManagers) but cannot
//! change anything (a job's cancel, `PATCH /jobs/{id}`, is refused), an
//! operator may act; in headless Chromium, Open Flink WebUI on the instance
//! page opens Flink's own dashboard in a new tab. Errors are pages with
//! their status: no such interface and an uninstalled instance 404, an
//! unreachable one 502.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::ADMIN_PASSWORD;
use common::browser::{Browser, JavaScript};
use common::cluster::{REAL_FLINK_RELEASE, real_flink, test_job_jar};
use common::operator::eventually;
use dataport::http::{AppState, Layout, router};
use dataport::service::{Role, Service};
use reqwest::header::{ACCEPT, WWW_AUTHENTICATE};
use serde_json::{Value, json};

const JSON: &str = "application/json, text/plain, */*";
const PAGE: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

/// The JSON a client gets at `url`, when it answers 200.
async fn json_at(client: &reqwest::Client, url: &str) -> Option<Value> {
    let answer = client.get(url).header(ACCEPT, JSON).send().await.ok()?;
    if answer.status() != 200 {
        return None;
    }
    answer.json().await.ok()
}

#[tokio::test]
async fn open_the_flink_webui_through_dataport() {
    // Outside the cluster (as here) the portal dials through the API
    // server's service proxy, which reaches the node's pods at their IPs.
    let (portal, database, namespace) = common::Portal::on_real_flink_cluster("webuiproxy").await;
    let id = common::flink::install_session(&portal, &namespace, "1.20", 1).await;
    let ui = format!("{}/instances/{id}/ui/flink-webui", portal.base);
    let viewer = portal
        .client_as(&database.url, "looker", Role::Viewer)
        .await;
    let operator = portal
        .client_as(&database.url, "doer", Role::Operator)
        .await;

    // A viewer reads Flink's own REST answers through dataport.
    let overview = eventually(
        Duration::from_secs(300),
        "Flink's overview with its TaskManager, through dataport",
        || async {
            let overview = json_at(&viewer, &format!("{ui}/overview")).await?;
            (overview["taskmanagers"] == 1 && overview["slots-total"] == 1).then_some(overview)
        },
    )
    .await;
    assert_eq!(overview["flink-version"], REAL_FLINK_RELEASE, "{overview}");
    let task_managers = json_at(&viewer, &format!("{ui}/taskmanagers"))
        .await
        .expect("Flink's TaskManagers");
    assert_eq!(
        task_managers["taskmanagers"].as_array().map(Vec::len),
        Some(1),
        "{task_managers}"
    );

    // Nobody without a login: scripts get 401, browsers the login page.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = anonymous
        .get(format!("{ui}/overview"))
        .header(ACCEPT, JSON)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    assert!(answer.headers().contains_key(WWW_AUTHENTICATE));
    let answer = anonymous
        .get(format!("{ui}/"))
        .header(ACCEPT, PAGE)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let to = answer.headers()["location"].to_str().unwrap();
    assert!(to.starts_with("/login?next=%2Finstances%2F"), "{to}");

    // An operator submits dataport's test job as Flink's WebUI does (upload
    // the jar, run it); a viewer may not.
    let jar = std::fs::read(test_job_jar(REAL_FLINK_RELEASE)).expect("the test job");
    let upload = |client: &reqwest::Client| {
        let part = reqwest::multipart::Part::bytes(jar.clone())
            .file_name("flink-test-job.jar")
            .mime_str("application/x-java-archive")
            .unwrap();
        client
            .post(format!("{ui}/jars/upload"))
            .header(ACCEPT, JSON)
            .multipart(reqwest::multipart::Form::new().part("jarfile", part))
            .send()
    };
    assert_eq!(upload(&viewer).await.unwrap().status(), 403);
    let uploaded: Value = upload(&operator).await.unwrap().json().await.unwrap();
    let jar_id = uploaded["filename"]
        .as_str()
        .and_then(|path| path.rsplit('/').next())
        .unwrap_or_else(|| panic!("no jar id in {uploaded}"))
        .to_owned();
    let run = operator
        .post(format!("{ui}/jars/{jar_id}/run"))
        .json(&json!({"entryClass": "local.dataport.testjob.CountingJob", "programArgs": "--delay-ms 20"}))
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 200);
    let run: Value = run.json().await.unwrap();
    let job = run["jobid"].as_str().expect("job id").to_owned();
    let state = |client: reqwest::Client| {
        let url = format!("{ui}/jobs/{job}");
        async move {
            json_at(&client, &url)
                .await
                .and_then(|job| job["state"].as_str().map(str::to_owned))
        }
    };
    eventually(Duration::from_secs(120), "the job running", || async {
        (state(viewer.clone()).await.as_deref() == Some("RUNNING")).then_some(())
    })
    .await;

    // The Flink WebUI's cancel is refused for a viewer: the job runs on.
    let cancel = |client: &reqwest::Client| {
        client
            .patch(format!("{ui}/jobs/{job}?mode=cancel"))
            .header(ACCEPT, JSON)
            .send()
    };
    let refused = cancel(&viewer).await.unwrap();
    assert_eq!(refused.status(), 403);
    let refused: Value = refused.json().await.unwrap();
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("operator"),
        "{refused}"
    );
    // Flink REST's own error field, which Flink's dashboard shows.
    assert_eq!(
        refused["errors"][0], refused["error"]["message"],
        "{refused}"
    );
    assert_eq!(state(viewer.clone()).await.as_deref(), Some("RUNNING"));

    // In Chromium, as the viewer: Open Flink WebUI opens Flink's dashboard
    // in a new tab, with its TaskManager and the running job.
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in(&portal.base, "looker", ADMIN_PASSWORD).await;
    browser
        .open(&portal.base, &format!("/instances/{id}"))
        .await;
    let button = browser.wait_for("a[data-webui]").await;
    assert_eq!(
        button.attr("href").await.unwrap().as_deref(),
        Some(format!("/instances/{id}/ui/flink-webui/").as_str())
    );
    assert_eq!(
        button.attr("target").await.unwrap().as_deref(),
        Some("_blank")
    );
    let instance_page = browser.client.window().await.unwrap();
    browser.click("a[data-webui]").await;
    let tab = eventually(Duration::from_secs(30), "a new tab", || async {
        let windows = browser.client.windows().await.ok()?;
        windows.into_iter().find(|window| *window != instance_page)
    })
    .await;
    browser.client.switch_to_window(tab).await.unwrap();
    browser.wait_until_loaded().await;
    browser
        .wait_for_url_containing(&format!("/instances/{id}/ui/flink-webui/"))
        .await;
    // Flink's overview: its cards count TaskManagers and slots, and the
    // running job (the test job names itself dataport-test-job) is listed.
    browser
        .wait_for_text("body", "Flink's dashboard with the running job", |text| {
            text.contains("Task Managers") && text.contains("dataport-test-job")
        })
        .await;
    let shot = browser.screenshot("flink-webui-through-dataport").await;
    // target/screenshots/ always; README's copy in docs/ only when asked
    // (DATAPORT_DOCS_SCREENSHOTS=1), so a test run leaves the tree as it was.
    if std::env::var_os("DATAPORT_DOCS_SCREENSHOTS").is_some() {
        std::fs::copy(
            &shot,
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("docs/flink-webui-through-dataport.png"),
        )
        .expect("copy the screenshot to docs/");
    }
    // Its TaskManagers page lists the one TaskManager.
    browser
        .client
        .goto(&format!("{ui}/#/task-manager"))
        .await
        .unwrap();
    let list = browser
        .wait_for_text("body", "the TaskManager listed", |text| {
            text.contains("analytics-taskmanager-1-1")
        })
        .await;
    assert!(list.contains("analytics-taskmanager-1-1"));
    // The viewer adds a jar on Flink's own Submit New Job page (its Cancel
    // Job button is not there: the operator sets `web.cancel.enable: false`).
    // The proxy refuses the upload and Flink's dashboard says why: it shows a
    // failed answer's `errors[0]` as a notification.
    browser
        .client
        .goto(&format!("{ui}/#/submit"))
        .await
        .unwrap();
    let file_input = browser.wait_for("input[type=file]").await;
    // The input hides behind its "Add New" label; WebDriver types only into
    // what shows.
    browser
        .client
        .execute(
            "document.querySelector('input[type=file]').style.display = 'block'; return null;",
            vec![],
        )
        .await
        .unwrap();
    file_input
        .send_keys(test_job_jar(REAL_FLINK_RELEASE).to_str().unwrap())
        .await
        .unwrap();
    browser
        .wait_for_text("body", "Flink's notice of the refusal", |text| {
            text.contains("Server Response Message") && text.contains("needs the operator role")
        })
        .await;
    browser
        .screenshot("flink-webui-refuses-a-viewers-upload")
        .await;
    let jars = json_at(&viewer, &format!("{ui}/jars")).await.unwrap();
    assert_eq!(
        jars["files"].as_array().map(Vec::len),
        Some(1),
        "only the operator's jar: {jars}"
    );
    browser.close().await;

    // An operator may cancel it.
    let accepted = cancel(&operator).await.unwrap();
    assert_eq!(accepted.status(), 202);
    eventually(Duration::from_secs(60), "the job canceled", || async {
        (state(viewer.clone()).await.as_deref() == Some("CANCELED")).then_some(())
    })
    .await;

    // No such interface: 404, as a page for a browser.
    let answer = viewer
        .get(format!("{}/instances/{id}/ui/grafana/", portal.base))
        .header(ACCEPT, PAGE)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("no web interface named")
    );

    // A portal that dials Services by their cluster names from outside the
    // cluster (`--webui-dial service` on a workstation): the name does not
    // resolve here, so the interface cannot be reached: 502 saying so.
    let dialing_services = real_flink().cluster().await.with_service_dial(
        dataport::cluster::webui::ServiceDial::Direct(reqwest::Client::new()),
    );
    let through_api_server = Service::new(database.store().await, Some(dialing_services));
    let app = router(AppState::new(
        Arc::new(through_api_server),
        Layout::default(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let answer = viewer
        .get(format!("{other}/instances/{id}/ui/flink-webui/overview"))
        .header(ACCEPT, JSON)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 502);
    let body: Value = answer.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Flink WebUI of analytics cannot be reached: "),
        "{body}"
    );

    // Uninstalled: nothing to open.
    common::uninstall_until_no_process_is_left(&portal, &id, "analytics", &namespace).await;
    let answer = viewer
        .get(format!("{ui}/overview"))
        .header(ACCEPT, JSON)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
}
