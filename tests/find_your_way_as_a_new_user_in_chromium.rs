//! Where a new user stumbled (issue 20), each checked in real headless
//! Chromium, with and without JavaScript where forms are concerned: what
//! interrupts or removes something asks first, the uninstall prompt, the
//! operations table, uninstalled instances, form errors, navigation,
//! parameters, namespaces, preview and diff, the audit log, getting started.

mod common;

use common::Portal;
use common::browser::{Browser, JavaScript};
use serde_json::{Value, json};

/// A JAR on a public https host (RFC 5737 documentation range: no DNS needed).
const JAR: &str = "https://198.51.100.7/jobs/etl.jar";

/// The instance's JSON operations, newest first.
async fn operations(portal: &Portal, id: &str) -> Vec<Value> {
    let (_, instance) = portal.get_json(&format!("/api/v1/instances/{id}")).await;
    instance["operations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Opens `path` on the portal.
async fn open(browser: &Browser, portal: &Portal, path: &str) {
    browser.open(&portal.base, path).await;
}

/// Restart and a job's Delete each ask first, saying what they do to what;
/// nothing happens until the user confirms; after the Delete the session's
/// page says the job was deleted.
async fn restart_and_delete_ask_first(javascript: JavaScript) {
    let (portal, _database, namespace) = Portal::on_test_cluster("confirm").await;
    let id = portal.install_flink_session(&namespace, false).await;
    let (status, job) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/jobs"),
            &json!({"name": "etl", "params": {"jarURI": JAR}}),
        )
        .await;
    assert_eq!(status, 201, "{job}");

    let browser = Browser::start(javascript).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, &format!("/instances/{id}")).await;
    browser.click_to_load("[data-restart]").await;
    assert_eq!(browser.text("h1").await, "Restart analytics?");
    let what = browser.text("[data-confirm-what]").await;
    assert!(what.contains("rolling restart of analytics"), "{what}");
    assert_ne!(
        operations(&portal, &id).await[0]["kind"],
        "restart",
        "nothing is restarted before the user confirms"
    );
    browser.screenshot("confirm-restart").await;
    browser.click_to_load("[data-confirm]").await;
    browser.wait_for("tr[data-operation=restart]").await;
    assert_eq!(operations(&portal, &id).await[0]["kind"], "restart");

    open(&browser, &portal, &format!("/instances/{id}/jobs/etl")).await;
    browser.click_to_load("[data-delete]").await;
    assert_eq!(browser.text("h1").await, "Delete job etl?");
    assert!(
        browser
            .text("[data-confirm-what]")
            .await
            .contains("FlinkSessionJob analytics-etl is deleted")
    );
    let (_, job) = portal
        .get_json(&format!("/api/v1/instances/{id}/jobs/etl"))
        .await;
    assert_eq!(
        job["wish"], "running",
        "not deleted before the user confirms"
    );
    browser.click_to_load("[data-confirm]").await;
    assert_eq!(
        browser.text("[data-job-deleted]").await,
        "Job etl was deleted: the operator cancels it, and savepoints already taken stay in storage."
    );
    browser.close().await;
}

#[tokio::test]
async fn restart_and_delete_ask_first_with_javascript() {
    restart_and_delete_ask_first(JavaScript::On).await;
}

#[tokio::test]
async fn restart_and_delete_ask_first_without_javascript() {
    restart_and_delete_ask_first(JavaScript::Off).await;
}

/// The uninstall prompt shows the name exactly as it must be typed: the
/// text shown, typed as shown, is accepted. An instance others use offers
/// no active Uninstall and says why.
async fn the_uninstall_prompt_is_typed_as_shown(javascript: JavaScript) {
    let (portal, _database, namespace) = Portal::on_test_cluster("prompt").await;
    let id = portal.install_flink_session(&namespace, false).await;
    let (_, operators) = portal
        .get_json(&format!(
            "/api/v1/instances?app=flink-kubernetes-operator&namespace={namespace}"
        ))
        .await;
    let operator = operators["instances"][0]["id"].as_str().unwrap().to_owned();

    let browser = Browser::start(javascript).await;
    browser.log_in_as_admin(&portal.base).await;
    open(
        &browser,
        &portal,
        &format!("/instances/{operator}/uninstall"),
    )
    .await;
    assert!(
        browser
            .text("[data-dependants]")
            .await
            .contains("analytics")
    );
    assert!(
        browser
            .text("[data-uninstall-blocked]")
            .await
            .starts_with("flink-operator cannot be uninstalled while 1 instance uses it")
    );
    let button = browser.wait_for("[data-uninstall]").await;
    assert!(!button.is_enabled().await.unwrap(), "no active Uninstall");
    assert!(browser.all_now("#f-confirm").await.is_empty());

    open(&browser, &portal, &format!("/instances/{id}/uninstall")).await;
    let shown = browser.text("[data-confirm-name]").await;
    assert_eq!(shown, "analytics", "shown as it must be typed");
    assert_eq!(
        browser.text("[data-confirm-prompt]").await,
        "Type analytics to confirm"
    );
    browser.screenshot("uninstall").await;
    browser.fill("f-confirm", &shown).await;
    browser.click_to_load("[data-uninstall]").await;
    browser
        .wait_for_text("[data-status]", "uninstalling", |status| {
            status == "Uninstalling" || status == "Uninstalled"
        })
        .await;
    browser.close().await;
}

#[tokio::test]
async fn the_uninstall_prompt_is_typed_as_shown_with_javascript() {
    the_uninstall_prompt_is_typed_as_shown(JavaScript::On).await;
}

#[tokio::test]
async fn the_uninstall_prompt_is_typed_as_shown_without_javascript() {
    the_uninstall_prompt_is_typed_as_shown(JavaScript::Off).await;
}

/// A succeeded operation's note sits in its own column; Error stays for errors.
#[tokio::test]
async fn operation_notes_are_not_errors() {
    let (portal, _database, namespace) = Portal::on_test_cluster("notes").await;
    let zk = portal
        .install(json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}}))
        .await;
    let id = zk["instance"]["id"].as_str().unwrap().to_owned();
    let (status, _) = portal
        .post_json(&format!("/api/v1/instances/{id}/restart"), &json!({}))
        .await;
    assert_eq!(status, 202);
    portal
        .wait_for_instance(&id, "restarted", |now| {
            now["operations"][0]["kind"] == "restart"
                && now["operations"][0]["state"] == "succeeded"
        })
        .await;

    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, &format!("/instances/{id}")).await;
    let headers = browser.text("[data-operations] thead").await;
    assert!(headers.ends_with("Progress and notes Error"), "{headers}");
    assert_eq!(
        browser
            .text("tr[data-operation=restart][data-state=succeeded] [data-notes]")
            .await,
        "Restarted 1 workload"
    );
    assert_eq!(
        browser
            .text("tr[data-operation=restart][data-state=succeeded] [data-error]")
            .await,
        ""
    );
    browser.close().await;
}

/// An uninstalled instance offers nothing to open, watch or roll back; its
/// page says what is left in the cluster and how to install the name again.
#[tokio::test]
async fn an_uninstalled_instance_says_what_is_left() {
    let (portal, _database, namespace) = Portal::on_test_cluster("left").await;
    let minio = portal
        .install(json!({"app": "minio", "name": "minio", "namespace": namespace, "params": {}}))
        .await;
    let id = minio["instance"]["id"].as_str().unwrap().to_owned();
    portal.update(&id, 1, &json!({"memory": "2Gi"})).await;
    portal
        .wait_for_instance(&id, "updated", |now| {
            now["operations"][0]["kind"] == "update" && now["operations"][0]["state"] == "succeeded"
        })
        .await;

    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, &format!("/instances/{id}")).await;
    browser.wait_for("[data-rollback='1']").await;
    browser.wait_for("[data-webui]").await;

    portal.uninstall(&id, "minio").await;
    open(&browser, &portal, &format!("/instances/{id}")).await;
    let left = browser.text("[data-left-behind]").await;
    assert!(
        left.contains(
            "PersistentVolumeClaims data-minio-0 (the data of StatefulSet minio) are kept"
        ),
        "{left}"
    );
    assert!(
        left.contains("Its Secrets (passwords) were deleted"),
        "{left}"
    );
    assert!(
        browser
            .text("[data-install-again]")
            .await
            .contains("installing MinIO as minio there starts a new record")
    );
    for gone in [
        "[data-webui]",
        "[data-grafana]",
        "[data-rollback]",
        "[data-restart]",
    ] {
        assert!(
            browser.all_now(gone).await.is_empty(),
            "{gone} still offered"
        );
    }
    browser.screenshot("instance-uninstalled").await;

    // What the page says is so: the claim is kept, the Secret is gone.
    let client = common::cluster::shared().client().await;
    let claims: kube::Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> =
        kube::Api::namespaced(client.clone(), &namespace);
    assert!(claims.get_opt("data-minio-0").await.unwrap().is_some());
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(client, &namespace);
    assert!(
        secrets
            .get_opt("minio-credentials")
            .await
            .unwrap()
            .is_none()
    );
    browser.close().await;
}

/// The text of `element` whether or not it is displayed (a field a toggle hides).
async fn text_content(element: &fantoccini::elements::Element) -> String {
    element
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Form errors: a taken name is the name field's error like any other;
/// every message starts with a capital; "an Apache ZooKeeper"; versions
/// newest first.
async fn form_errors_read_as_sentences(javascript: JavaScript) {
    let (portal, _database, namespace) = Portal::on_test_cluster("errors").await;
    portal
        .install(json!({"app": "minio", "name": "minio", "namespace": namespace, "params": {}}))
        .await;
    let browser = Browser::start(javascript).await;
    browser.log_in_as_admin(&portal.base).await;

    open(
        &browser,
        &portal,
        &format!("/catalog/minio/install?namespace={namespace}"),
    )
    .await;
    browser.fill("f-name", "minio").await;
    browser.click_to_load("button[value=install]").await;
    assert_eq!(
        browser.text("#e-name").await,
        format!(
            "An instance named minio exists already in namespace {namespace}: choose another name or namespace"
        )
    );
    assert!(browser.all_now("[data-conflict]").await.is_empty());

    open(&browser, &portal, "/catalog/flink/install").await;
    let versions = browser.all_now("select[name=version] option").await;
    let mut offered = Vec::new();
    for option in &versions {
        offered.push(option.prop("value").await.unwrap().unwrap_or_default());
    }
    assert_eq!(offered, ["2.2", "2.1", "2.0", "1.20", "1.19"]);
    let none = browser
        .wait_for("select[name=zookeeper] option[value='']")
        .await;
    assert_eq!(
        text_content(&none).await,
        "Choose an Apache ZooKeeper instance"
    );

    browser.fill("f-name", "Bad Name").await;
    browser.fill("f-jobManagerMemory", "2Gb").await;
    browser.click_to_load("button[value=install]").await;
    browser.wait_for("#e-name").await;
    let errors = browser.all_now(".field-error").await;
    assert!(errors.len() >= 3);
    for error in &errors {
        let text = text_content(error).await;
        assert!(
            text.chars().next().is_some_and(char::is_uppercase),
            "starts with a capital: {text:?}"
        );
    }
    browser.close().await;
}

#[tokio::test]
async fn form_errors_read_as_sentences_with_javascript() {
    form_errors_read_as_sentences(JavaScript::On).await;
}

#[tokio::test]
async fn form_errors_read_as_sentences_without_javascript() {
    form_errors_read_as_sentences(JavaScript::Off).await;
}

/// Every page under an instance starts its trail at Instances; the top
/// bar's Health leads to a page with the portal's readiness.
#[tokio::test]
async fn breadcrumbs_agree_and_health_is_a_page() {
    let (portal, _database, namespace) = Portal::on_test_cluster("crumbs").await;
    let minio = portal
        .install(json!({"app": "minio", "name": "minio", "namespace": namespace, "params": {}}))
        .await;
    let id = minio["instance"]["id"].as_str().unwrap().to_owned();
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    for (path, trail) in [
        (format!("/instances/{id}"), "Instances › minio"),
        (
            format!("/instances/{id}/update"),
            "Instances › minio › Update",
        ),
        (
            format!("/instances/{id}/uninstall"),
            "Instances › minio › Uninstall",
        ),
        (
            format!("/instances/{id}/restart"),
            "Instances › minio › Restart",
        ),
        ("/catalog/minio".to_owned(), "Catalog › MinIO"),
        (
            "/catalog/minio/install".to_owned(),
            "Catalog › MinIO › Install",
        ),
    ] {
        open(&browser, &portal, &path).await;
        assert_eq!(browser.text("[data-crumbs]").await, trail, "{path}");
        if path == format!("/instances/{id}") {
            // MinIO has a password field: the page says where it is kept.
            browser.wait_for("[data-passwords]").await;
            browser.screenshot("instance").await;
        }
    }

    browser
        .click_to_load("nav[aria-label=Main] a[href='/health']")
        .await;
    assert_eq!(browser.text("h1").await, "Health");
    assert_eq!(browser.text("[data-ready]").await, "Ready");
    assert!(
        browser
            .text("[data-check=database]")
            .await
            .contains("reachable")
    );
    assert!(
        browser
            .text("[data-check=cluster]")
            .await
            .contains("reachable, Kubernetes")
    );
    assert!(
        browser
            .text("[data-check=leader]")
            .await
            .contains("This replica leads")
    );
    assert!(
        browser
            .text("[data-check=watches]")
            .await
            .contains("following")
    );
    browser.screenshot("health").await;
    browser.close().await;
}

/// An instance's parameters carry the form's labels in the form's order and
/// under the form's groups, leave out what does not apply or is empty, link
/// references to their instances, and mention Secrets only where there is a
/// password.
#[tokio::test]
async fn parameters_read_as_the_form_labels_them() {
    let (portal, _database, namespace) = Portal::on_test_cluster("params").await;
    let id = portal.install_flink_session(&namespace, false).await;
    let (_, operators) = portal
        .get_json(&format!(
            "/api/v1/instances?app=flink-kubernetes-operator&namespace={namespace}"
        ))
        .await;
    let operator = operators["instances"][0]["id"].as_str().unwrap().to_owned();
    let (_, instance) = portal.get_json(&format!("/api/v1/instances/{id}")).await;
    let flink = dataport::catalog::find("flink").unwrap();
    let params = instance["instance"]["params"].as_object().unwrap();

    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, &format!("/instances/{id}")).await;
    browser.wait_for("[data-parameters]").await;
    let mut labels = Vec::new();
    for dt in browser.all_now("[data-parameters] dt").await {
        labels.push(dt.text().await.unwrap());
    }
    // The form's labels, in its order, of the parameters set that apply.
    let raw: std::collections::BTreeMap<String, String> = params
        .iter()
        .map(|(key, value)| {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            (key.clone(), text)
        })
        .collect();
    let expected: Vec<&str> = flink
        .params
        .iter()
        .filter(|param| {
            !matches!(param.kind, dataport::catalog::ParamKind::Secret { .. })
                && raw.get(param.key).is_some_and(|value| !value.is_empty())
                && param.is_shown(&raw, flink.params)
        })
        .map(|param| param.label)
        .collect();
    assert_eq!(labels, expected);
    assert!(labels.contains(&"Flink operator".to_owned()), "{labels:?}");
    assert!(
        !labels.contains(&"HA type".to_owned()),
        "HA is off: {labels:?}"
    );
    assert_eq!(
        browser
            .text(&format!(
                "[data-parameters] a[href='/instances/{operator}']"
            ))
            .await,
        "flink-operator"
    );
    assert!(
        browser.all_now("[data-passwords]").await.is_empty(),
        "Flink has no password field"
    );

    // Under the form's groups: each label under its group's title, groups
    // with nothing to show left out.
    let mut titles = Vec::new();
    for heading in browser.all_now("[data-parameter-group]").await {
        titles.push(heading.text().await.unwrap());
    }
    assert_eq!(titles, ["Cluster", "High availability", "Flink on Hive"]);
    for (title, params) in flink.param_groups() {
        let mut under = Vec::new();
        for dt in browser
            .all_now(&format!("[data-parameters] dl[data-group='{title}'] dt"))
            .await
        {
            under.push(dt.text().await.unwrap());
        }
        let expected_under: Vec<&str> = params
            .iter()
            .map(|param| param.label)
            .filter(|label| labels.iter().any(|shown| shown == label))
            .collect();
        assert_eq!(under, expected_under, "{title}");
    }
    browser
        .client
        .execute(
            "document.querySelector('[data-parameters]').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    browser.screenshot("instance-parameter-groups").await;
    // The same groups, in the same order, as the form's fieldsets.
    open(&browser, &portal, "/catalog/flink/install").await;
    browser.wait_for("fieldset[data-group] legend").await;
    let mut legends = Vec::new();
    for legend in browser.all_now("fieldset[data-group] legend").await {
        legends.push(legend.text().await.unwrap());
    }
    browser.screenshot("install-flink-groups").await;
    let form_titles: Vec<&str> = flink
        .param_groups()
        .iter()
        .map(|(title, _)| *title)
        .collect();
    assert_eq!(legends, form_titles);
    assert_eq!(
        legends,
        [
            "Cluster",
            "High availability",
            "Ingress",
            "Flink on Hive",
            "Image and libraries"
        ]
    );
    browser.close().await;
}

/// Getting started: the login page says where the first admin's password
/// is on a local run, where `scripts/run.sh` writes it.
#[tokio::test]
async fn the_login_page_says_where_the_first_password_is() {
    let (portal, _database) = Portal::on_sqlite().await;
    let browser = Browser::start(JavaScript::Off).await;
    open(&browser, &portal, "/login").await;
    let note = browser.text("[data-first-admin]").await;
    assert!(note.contains(".dataport/admin-password"), "{note}");
    let run_sh = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/run.sh"))
        .expect("scripts/run.sh");
    assert!(
        run_sh.contains("/.dataport/admin-password"),
        "run.sh writes the password where the login page says"
    );
    browser.close().await;
}

/// Getting started: every relative link of the README names a file inside
/// the repository (a clone has nothing beside it).
#[test]
fn the_readme_links_only_files_in_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let mut rest = readme.as_str();
    let mut checked = 0;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or_default();
        if !target.is_empty() && !target.contains("://") {
            let path = root.join(target);
            assert!(
                path.starts_with(root) && !target.contains("..") && path.exists(),
                "README links {target}, not a file in the repository"
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "the README has relative links");
}

/// Namespaces: an install form starts in the namespace of the user's last
/// install (or the one in the address), and its pickers follow the
/// namespace typed (with JS).
#[tokio::test]
async fn install_forms_follow_the_namespace() {
    let (portal, _database, namespace) = Portal::on_test_cluster("namespaces").await;
    portal
        .install(json!({"app": "flink-kubernetes-operator", "name": "flink-operator", "namespace": namespace, "params": {}}))
        .await;
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in_as_admin(&portal.base).await;

    open(&browser, &portal, "/catalog/minio/install").await;
    browser.fill("f-name", "minio").await;
    browser.fill("f-namespace", &namespace).await;
    browser.click_to_load("button[value=install]").await;
    browser.wait_for("[data-status]").await;

    open(&browser, &portal, "/catalog/flink/install").await;
    let typed = browser
        .wait_for("#f-namespace")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        typed.as_deref(),
        Some(namespace.as_str()),
        "the last namespace used"
    );
    browser
        .wait_for("select[name=operator] option[value='flink-operator']")
        .await;

    // Another namespace: no operator serves it, and the picker says so at once.
    browser.fill("f-namespace", "elsewhere").await;
    browser
        .wait_for_displayed("select[name=operator] option[value='flink-operator']", 0)
        .await;
    browser.fill("f-namespace", &namespace).await;
    browser
        .wait_for("select[name=operator] option[value='flink-operator']")
        .await;

    // The address wins over the last namespace.
    open(&browser, &portal, "/catalog/flink/install?namespace=given").await;
    let typed = browser
        .wait_for("#f-namespace")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some("given"));
    browser.close().await;
}

/// The audit log at laptop width: no entry wider than the viewport, a
/// change per line, long changes folded, a page of 50 within two screens,
/// and filters by user, action, instance and time.
#[tokio::test]
async fn the_audit_log_reads_at_laptop_width() {
    let database = common::TestDatabase::new(common::Backend::Sqlite).await;
    let store = database.store().await;
    let portal = Portal::start(store.clone(), None, dataport::http::Layout::default()).await;
    let long: Vec<String> = (0..12)
        .map(|n| {
            format!("flinkConfiguration.key{n}: \"value-{n}\" → \"a-rather-longer-value-{n}\"")
        })
        .collect();
    for n in 0..60 {
        let (actor, action, detail) = if n % 2 == 0 {
            ("alice", "update", long.join("\n"))
        } else {
            ("bob", "install", "name=orders\nnamespace=data".to_owned())
        };
        store
            .append_audit(dataport::store::NewAuditEntry {
                actor: actor.into(),
                action: action.into(),
                target: format!("data/orders-{n}"),
                instance_id: None,
                detail,
                result: "ok".into(),
            })
            .await
            .unwrap();
    }
    let browser = Browser::start(JavaScript::Off).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, "/audit").await;
    browser.wait_for("table[data-audit]").await;
    browser.screenshot("audit").await;
    let widths: Vec<i64> = serde_json::from_value(
        browser
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth, document.documentElement.scrollHeight, window.innerHeight, document.querySelectorAll('table[data-audit] tbody tr').length]",
                vec![],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    let [scroll_width, width, height, screen, rows] = widths[..] else {
        panic!("{widths:?}")
    };
    assert_eq!(rows, 50, "a page of 50");
    assert!(
        scroll_width <= width,
        "no entry wider than the viewport: {scroll_width} > {width}"
    );
    assert!(
        height <= 2 * screen,
        "a page within about two screens: {height} for {screen}"
    );
    browser.screenshot("audit").await;
    // Long changes fold; their lines are whole, one change each.
    let changed = browser
        .all_now("tr[data-action=update], tr[data-action=install]")
        .await;
    let folded = browser
        .all_now("tr[data-action=update] td.audit-detail details, tr[data-action=install] td.audit-detail details")
        .await;
    assert!(changed.len() >= 45, "{}", changed.len());
    assert_eq!(
        folded.len(),
        changed.len(),
        "every change of several lines folds"
    );
    let summary = browser
        .text("tr[data-action=update] td.audit-detail summary")
        .await;
    assert!(
        summary.starts_with("12 changes: flinkConfiguration.key0: \"value-0\""),
        "{summary}"
    );

    // Filters: user, action, instance and time, kept across pages.
    open(&browser, &portal, "/audit").await;
    browser.fill("f-audit-user", "bob").await;
    browser.click_to_load("[data-filter]").await;
    assert_eq!(browser.text("[data-count]").await, "30 entries");
    open(&browser, &portal, "/audit?action=update&instance=orders-4").await;
    assert_eq!(browser.text("[data-count]").await, "6 entries");
    open(
        &browser,
        &portal,
        "/audit?since=2000-01-01&until=2000-12-31",
    )
    .await;
    assert_eq!(browser.text("[data-count]").await, "0 entries");
    browser.close().await;
}

/// After an uninstall, the page's objects read as deleted (they are), next to
/// what it says is left; before, they read as there.
#[tokio::test]
async fn an_uninstalled_instances_objects_read_as_deleted() {
    let (portal, _database, namespace) = Portal::on_test_cluster("deleted").await;
    let minio = portal
        .install(json!({"app": "minio", "name": "minio", "namespace": namespace, "params": {}}))
        .await;
    let id = minio["instance"]["id"].as_str().unwrap().to_owned();
    let applied = minio["objects"].as_array().unwrap().len();
    assert_eq!(applied, 4, "{minio}");

    let browser = Browser::start(JavaScript::Off).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, &format!("/instances/{id}")).await;
    browser.wait_for("[data-object]").await;
    assert_eq!(browser.all_now("[data-object]").await.len(), applied);
    assert!(browser.all_now("[data-removed]").await.is_empty());
    assert!(browser.all_now("[data-objects-removed]").await.is_empty());

    let gone = portal.uninstall(&id, "minio").await;
    assert!(
        gone["objects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["removed"] == true),
        "{gone}"
    );
    open(&browser, &portal, &format!("/instances/{id}")).await;
    browser.wait_for("[data-left-behind]").await;
    assert!(
        browser.all_now("[data-object]").await.is_empty(),
        "nothing reads as still there"
    );
    let removed = browser.all_now("[data-removed]").await;
    assert_eq!(removed.len(), applied);
    for object in removed {
        let text = object.text().await.unwrap();
        assert!(text.ends_with("deleted"), "{text}");
    }
    assert!(
        browser
            .text("[data-objects-removed]")
            .await
            .contains("what is left in the cluster is listed under Uninstalled")
    );
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(common::cluster::shared().client().await, &namespace);
    assert!(
        secrets
            .get_opt("minio-credentials")
            .await
            .unwrap()
            .is_none(),
        "the page says what is so"
    );
    browser.close().await;
}
