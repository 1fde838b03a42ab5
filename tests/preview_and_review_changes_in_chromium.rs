//! Preview and diff as a user meets them in headless Chromium, with and
//! without JavaScript (issue 20, item 10): the preview shows exactly the
//! objects the install applies, and an update's changes exactly those the
//! update applies; the changes name each object and colour what is added
//! and removed; Preview and Show changes land at the YAML, not the page top;
//! a form sent with its toggles untouched records only what changed.

mod common;

use common::Portal;
use common::browser::{Browser, JavaScript};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde::Deserialize;
use serde_json::{Value, json};

/// Opens `path` on the portal.
async fn open(browser: &Browser, portal: &Portal, path: &str) {
    browser.open(&portal.base, path).await;
}

/// The text of the first element matching `css`, exactly as the page holds it.
async fn text_content(browser: &Browser, css: &str) -> String {
    browser
        .wait_for(css)
        .await
        .prop("textContent")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// The objects of a YAML stream.
fn objects_of(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|document| Value::deserialize(document).expect("a YAML object"))
        .collect()
}

/// The page has scrolled to the element with id `id`, as the address's
/// fragment asks: the element is at the window's top, or, when the page
/// ends too soon for that, the page is scrolled to its end with the
/// element in view.
async fn landed_at(browser: &Browser, id: &str) {
    browser.wait_for_url_containing(&format!("#{id}")).await;
    let at: Vec<f64> = serde_json::from_value(
        browser
            .client
            .execute(
                "const top = document.getElementById(arguments[0]).getBoundingClientRect().top; \
                 const end = document.documentElement.scrollHeight - window.innerHeight; \
                 return [window.scrollY, top, end, window.innerHeight];",
                vec![json!(id)],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    let [scrolled, top, end, height] = at[..] else {
        panic!("{at:?}")
    };
    assert!(scrolled > 100.0, "the page scrolled to #{id}: {at:?}");
    let at_top = top.abs() < 40.0;
    let at_end = scrolled >= end - 1.0 && (0.0..height / 2.0).contains(&top);
    assert!(at_top || at_end, "#{id} is at the window's top: {at:?}");
}

/// Whether everything `expected` says is in `actual` (which the API server
/// may have filled in further): objects key by key, lists item by item,
/// numbers by value.
fn holds(expected: &Value, actual: &Value, path: &str, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                match actual.get(key) {
                    Some(found) => holds(value, found, &format!("{path}.{key}"), problems),
                    None => problems.push(format!("{path}.{key} missing")),
                }
            }
        }
        (Value::Array(expected), Value::Array(actual)) if expected.len() == actual.len() => {
            for (n, (value, found)) in expected.iter().zip(actual).enumerate() {
                holds(value, found, &format!("{path}[{n}]"), problems);
            }
        }
        // JSON numbers: the API server writes 1.0 back as 1.
        (Value::Number(expected), Value::Number(actual))
            if expected.as_f64() == actual.as_f64() => {}
        _ if expected == actual => {}
        _ => problems.push(format!("{path}: {expected} ≠ {actual}")),
    }
}

/// Every object of `objects` is in the API server as it says.
async fn in_the_api_server(objects: &[Value]) {
    let client = common::cluster::shared().client().await;
    for object in objects {
        let (group, version) = match object["apiVersion"].as_str().unwrap().split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", object["apiVersion"].as_str().unwrap()),
        };
        let kind = object["kind"].as_str().unwrap();
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
        let api: Api<DynamicObject> = Api::namespaced_with(
            client.clone(),
            object["metadata"]["namespace"].as_str().unwrap(),
            &resource,
        );
        let name = object["metadata"]["name"].as_str().unwrap();
        let live = serde_json::to_value(api.get(name).await.unwrap()).unwrap();
        let mut problems = Vec::new();
        holds(object, &live, &format!("{kind}/{name}"), &mut problems);
        assert!(problems.is_empty(), "applied differs: {problems:#?}");
    }
}

/// The objects of revision `number` of instance `id`: what the worker applied.
async fn revision_objects(database: &common::TestDatabase, id: &str, number: i64) -> Vec<Value> {
    let revision = database
        .store()
        .await
        .revision(id.parse().unwrap(), number)
        .await
        .unwrap();
    revision.objects.as_array().cloned().unwrap()
}

/// Waits until the instance's last operation, of `kind`, has succeeded.
async fn wait_for_success(portal: &Portal, id: &str, kind: &str) {
    let instance = portal
        .wait_for_instance(id, kind, |now| {
            now["operations"][0]["kind"] == kind
                && matches!(
                    now["operations"][0]["state"].as_str(),
                    Some("succeeded" | "failed")
                )
        })
        .await;
    assert_eq!(
        instance["operations"][0]["state"], "succeeded",
        "{instance}"
    );
}

/// Preview, then Install from the same form: the objects applied, and those
/// in the API server, are the ones the preview showed, instance id included.
async fn the_preview_is_what_the_install_applies(javascript: JavaScript) {
    let (portal, database, namespace) = Portal::on_test_cluster("preview").await;
    let browser = Browser::start(javascript).await;
    browser.log_in_as_admin(&portal.base).await;
    open(
        &browser,
        &portal,
        &format!("/catalog/minio/install?namespace={namespace}"),
    )
    .await;
    browser.fill("f-name", "minio").await;
    browser.click_to_load("button[value=preview]").await;
    landed_at(&browser, "preview").await;
    browser.screenshot("preview-landed").await;
    let previewed = objects_of(&text_content(&browser, "[data-preview]").await);
    assert!(
        previewed.iter().any(|object| object["kind"] == "Secret"),
        "MinIO has a Secret"
    );

    browser.click_to_load("button[value=install]").await;
    browser.wait_for("[data-status]").await;
    let url = browser.client.current_url().await.unwrap();
    let id = url
        .path()
        .strip_prefix("/instances/")
        .expect("the instance page")
        .to_owned();
    for object in &previewed {
        assert_eq!(
            object["metadata"]["annotations"]["dataport.io/instance-id"], id,
            "the preview named the id the instance got"
        );
    }
    wait_for_success(&portal, &id, "install").await;
    assert_eq!(
        revision_objects(&database, &id, 1).await,
        previewed,
        "the install applied exactly the objects previewed"
    );
    in_the_api_server(&previewed).await;
    browser.close().await;
}

#[tokio::test]
async fn the_preview_is_what_the_install_applies_with_javascript() {
    the_preview_is_what_the_install_applies(JavaScript::On).await;
}

#[tokio::test]
async fn the_preview_is_what_the_install_applies_without_javascript() {
    the_preview_is_what_the_install_applies(JavaScript::Off).await;
}

/// The computed background colour of the first element matching `css`, as `[r, g, b]`.
async fn background(browser: &Browser, css: &str) -> [u8; 3] {
    browser.wait_for(css).await;
    let colour: String = serde_json::from_value(
        browser
            .client
            .execute(
                "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor;",
                vec![json!(css)],
            )
            .await
            .unwrap(),
    )
    .unwrap();
    let numbers: Vec<u8> = colour
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .take(3)
        .map(|n| n.trim().parse().unwrap())
        .collect();
    [numbers[0], numbers[1], numbers[2]]
}

/// Show changes on the update form: it lands at the changes, which name the
/// object and colour the removed and added lines; Update records only the
/// field changed (the form's toggles, left off, are no change); and what an
/// update applies is what its changes were computed from.
async fn the_changes_name_each_object(javascript: JavaScript) {
    let (portal, database, namespace) = Portal::on_test_cluster("diff").await;
    let id = portal.install_flink_session(&namespace, false).await;
    let browser = Browser::start(javascript).await;
    browser.log_in_as_admin(&portal.base).await;
    open(&browser, &portal, &format!("/instances/{id}/update")).await;
    browser.fill("f-taskSlots", "4").await;
    browser.click_to_load("button[value=diff]").await;
    landed_at(&browser, "diff").await;
    let object = "[data-object-diff='FlinkDeployment/analytics'][data-change=changed]";
    assert_eq!(
        browser.text(&format!("{object} h3")).await,
        "FlinkDeployment analytics changed"
    );
    browser.screenshot("update-changes").await;
    let mut removed = Vec::new();
    for line in browser.all_now(&format!("{object} .diff-remove")).await {
        removed.push(line.text().await.unwrap());
    }
    let mut added = Vec::new();
    for line in browser.all_now(&format!("{object} .diff-add")).await {
        added.push(line.text().await.unwrap());
    }
    // The slots per TaskManager, and what the render derives from them.
    assert!(
        removed.contains(&"-    taskmanager.numberOfTaskSlots: '2'".to_owned()),
        "{removed:?}"
    );
    assert!(
        added.contains(&"+    taskmanager.numberOfTaskSlots: '4'".to_owned()),
        "{added:?}"
    );
    assert_eq!(removed.len(), added.len());
    assert!(
        removed.iter().all(|line| line.ends_with("'2'")),
        "{removed:?}"
    );
    assert!(added.iter().all(|line| line.ends_with("'4'")), "{added:?}");
    let [r, g, b] = background(&browser, &format!("{object} .diff-add")).await;
    assert!(g > r && g > b, "additions are green: {r},{g},{b}");
    let [r, g, b] = background(&browser, &format!("{object} .diff-remove")).await;
    assert!(r > g && r > b, "removals are red: {r},{g},{b}");
    assert!(
        browser
            .text("[data-unchanged]")
            .await
            .starts_with("Unchanged: "),
        "the objects left as they are are named too"
    );

    browser.click_to_load("button[value=update]").await;
    browser.wait_for("[data-status]").await;
    wait_for_success(&portal, &id, "update").await;
    let (_, audit) = portal.get_json("/api/v1/audit?action=update").await;
    assert_eq!(
        audit["entries"][0]["detail"], "from revision 1\ntaskSlots: \"2\" → \"4\"",
        "only the field changed: {audit}"
    );

    // The update's changes come from the objects it applies.
    let params = json!({"operator": "flink-operator", "taskSlots": 4, "taskManagerReplicas": 2});
    let (status, plan) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/diff"),
            &json!({"params": params}),
        )
        .await;
    assert_eq!(status, 200, "{plan}");
    let changed: Vec<&str> = plan["object_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|object| object["change"] != "unchanged")
        .map(|object| object["name"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["analytics"], "{plan}");
    portal.update(&id, 2, &params).await;
    wait_for_success(&portal, &id, "update").await;
    let applied = revision_objects(&database, &id, 3).await;
    assert_eq!(
        Value::Array(applied.clone()),
        plan["objects"],
        "the update applied exactly the objects its changes showed"
    );
    in_the_api_server(&applied).await;
    browser.close().await;
}

#[tokio::test]
async fn the_changes_name_each_object_with_javascript() {
    the_changes_name_each_object(JavaScript::On).await;
}

#[tokio::test]
async fn the_changes_name_each_object_without_javascript() {
    the_changes_name_each_object(JavaScript::Off).await;
}
