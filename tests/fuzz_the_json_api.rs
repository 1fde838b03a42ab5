//! A bounded, schema-driven fuzz of the JSON API (and the install forms) on
//! loopback: for every app, every parameter of its published JSON Schema gets
//! values of the wrong type, out of range, malformed, oversized or hostile;
//! names, namespaces, bodies, content types, ids and query strings get the
//! same. Nothing may answer 5xx or panic, and nothing stored may change
//! except by a request that was accepted. Prints one `FUZZ` line that
//! `scripts/fuzz.sh` gathers into its summary.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Backend, Portal, TestDatabase};
use dataport::http::Layout;
use dataport::service::Service;
use serde_json::{Value, json};

/// Counts every request sent and what came back.
#[derive(Default)]
struct Tally {
    tried: usize,
    by_status: BTreeMap<u16, usize>,
    server_errors: Vec<String>,
}

impl Tally {
    fn record(&mut self, what: &str, status: u16) {
        self.tried += 1;
        *self.by_status.entry(status).or_default() += 1;
        if status >= 500 {
            self.server_errors.push(format!("{status} for {what}"));
        }
    }
}

/// Values that a parameter of this JSON Schema must refuse (or, for free
/// text, may keep as plain text), by what they are.
fn bad_values(schema: &Value) -> Vec<Value> {
    let long = "x".repeat(10_000);
    let mut values = vec![
        Value::Null,
        json!([1, 2]),
        json!({"nested": {"deeper": true}}),
        json!(""),
        json!(long),
        json!("<script>alert(1)</script>\"'"),
        json!("\u{0}\u{7f}\u{202e}"),
        json!(f64::MAX),
    ];
    match schema["type"].as_str() {
        Some("integer") => {
            let min = schema["minimum"].as_i64().unwrap_or(0);
            let max = schema["maximum"].as_i64().unwrap_or(i64::MAX - 1);
            values.extend([
                json!(min - 1),
                json!(max + 1),
                json!(i64::MIN),
                json!(1.5),
                json!("12abc"),
                json!("99999999999999999999999999"),
                json!(true),
            ]);
        }
        Some("boolean") => values.extend([json!("yes please"), json!(2), json!("TRUE!")]),
        Some("string") => {
            values.extend([
                json!(42),
                json!(false),
                json!("-5"),
                json!("1e999"),
                json!("NaN"),
                json!("0x10"),
                json!("１０Gi"),
                json!("99999999999999999999Ei"),
                json!("0.0000001m"),
                json!("javascript:alert(1)"),
                json!("file:///etc/passwd"),
                json!("s3:/no-host"),
                json!("http://"),
                json!("../../etc"),
                json!("short"),
            ]);
            if let Some(options) = schema["enum"].as_array()
                && let Some(first) = options.first().and_then(Value::as_str)
            {
                values.push(json!(first.to_uppercase()));
                values.push(json!(format!("{first} ")));
            }
        }
        _ => {}
    }
    values
}

/// Names and namespaces Kubernetes would refuse, or the allow-list does.
fn bad_names() -> Vec<Value> {
    vec![
        json!(""),
        json!("UPPER"),
        json!("a".repeat(64)),
        json!("-leading"),
        json!("trailing-"),
        json!("dot.ted"),
        json!("über"),
        json!("<b>x</b>"),
        json!("a b"),
        json!("a/b"),
        json!(42),
        Value::Null,
        json!("kube-system"),
    ]
}

#[tokio::test]
async fn bad_input_anywhere_in_the_api_is_refused_without_a_5xx_or_a_lost_row() {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));

    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("fuzz").await;
    let database = TestDatabase::new(Backend::Sqlite).await;
    let service = Service::new(database.store().await, Some(cluster.cluster().await))
        .with_allowed_namespaces(vec![namespace.clone()]);
    let portal = Arc::new(Portal::start_service(service, Layout::default()).await);
    let session = portal.install_flink_session(&namespace, false).await;
    let zk = portal
        .install(json!({"app": "zookeeper", "name": "zk", "namespace": namespace, "params": {"replicas": "1"}}))
        .await;
    let zk_id = zk["instance"]["id"].as_str().unwrap().to_owned();
    let store = database.store().await;
    let before_instances = store.instances(None).await.unwrap();
    let mut before_revisions = BTreeMap::new();
    for instance in &before_instances {
        before_revisions.insert(instance.id, store.revisions(instance.id).await.unwrap());
    }

    let mut tally = Tally::default();
    let mut accepted = Vec::new();
    let mut n = 0;

    // Every parameter of every app, from its published schema.
    let (_, apps) = portal.get_json("/api/v1/apps").await;
    for app in apps["apps"].as_array().expect("apps") {
        let app = app["name"].as_str().unwrap();
        let (status, schema) = portal.get_json(&format!("/api/v1/apps/{app}/schema")).await;
        tally.record("schema", status);
        let params = schema["properties"]["params"]["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (key, param_schema) in params {
            for value in bad_values(&param_schema) {
                n += 1;
                let body = json!({"app": app, "name": format!("fz-{n}"), "namespace": namespace,
                                  "params": {key.clone(): value}});
                let path = if n % 3 == 0 {
                    "/api/v1/instances"
                } else {
                    "/api/v1/preview"
                };
                let (status, answer) = portal.post_json(path, &body).await;
                tally.record(&format!("{path} {app}.{key}={value:.40}"), status);
                if status == 201 {
                    accepted.push(answer["id"].to_string());
                }
            }
        }
        // The install form, with the same kind of field.
        for name in bad_names() {
            let text = name.as_str().unwrap_or("42").to_owned();
            let (status, _, _) = portal
                .post_form(
                    &format!("/catalog/{app}/install"),
                    &[("name", &text), ("namespace", &text), ("action", "install")],
                )
                .await;
            tally.record(&format!("form {app} name={text:.20}"), status);
        }
    }

    // Names, namespaces, apps, versions and the shape of the request.
    for bad in bad_names() {
        for body in [
            json!({"app": "zookeeper", "name": bad, "namespace": namespace, "params": {}}),
            json!({"app": "zookeeper", "name": "fz-ns", "namespace": bad, "params": {}}),
            json!({"app": bad, "name": "fz-app", "namespace": namespace, "params": {}}),
            json!({"app": "flink", "name": "fz-v", "namespace": namespace, "version": bad, "params": {}}),
            json!({"app": "zookeeper", "name": "fz-p", "namespace": namespace, "params": bad}),
        ] {
            let (status, _) = portal.post_json("/api/v1/instances", &body).await;
            tally.record(&format!("install {body:.80}"), status);
        }
    }
    let http = &portal.http;
    let raw_bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"".to_vec()),
        ("application/json", b"{\"app\": ".to_vec()),
        ("application/json", b"[]".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", vec![0xff, 0xfe, 0x00, 0x7b]),
        ("application/json", "[".repeat(10_000).into_bytes()),
        (
            "application/json",
            format!("{{\"app\": \"{}\"}}", "a".repeat(2 * 1024 * 1024)).into_bytes(),
        ),
        ("text/plain", b"app=zookeeper".to_vec()),
        (
            "application/x-www-form-urlencoded",
            b"app=zookeeper&name=x".to_vec(),
        ),
        ("application/xml", b"<app/>".to_vec()),
    ];
    let instance_paths = [
        "/api/v1/instances".to_owned(),
        "/api/v1/preview".to_owned(),
        format!("/api/v1/instances/{zk_id}/update"),
        format!("/api/v1/instances/{zk_id}/diff"),
        format!("/api/v1/instances/{zk_id}/rollback"),
        format!("/api/v1/instances/{zk_id}/uninstall"),
        format!("/api/v1/instances/{session}/jobs"),
        format!("/api/v1/instances/{session}/jobs/nope/upgrade"),
    ];
    for path in &instance_paths {
        for (content_type, body) in &raw_bodies {
            let status = http
                .post(format!("{}{path}", portal.base))
                .header("content-type", *content_type)
                .body(body.clone())
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            tally.record(&format!("{path} raw {content_type}"), status);
        }
    }

    // Updates, rollbacks and jobs with wrong revisions and fields.
    for revision in [
        json!(-1),
        json!(0),
        json!(999_999),
        json!("x"),
        json!(1e40),
        Value::Null,
    ] {
        for path in ["update", "rollback", "diff"] {
            let (status, _) = portal
                .post_json(
                    &format!("/api/v1/instances/{zk_id}/{path}"),
                    &json!({"revision": revision, "params": {"replicas": "1"}}),
                )
                .await;
            tally.record(&format!("{path} revision={revision}"), status);
        }
    }
    let (_, job_schema) = portal
        .get_json(&format!("/api/v1/instances/{session}/jobs"))
        .await;
    assert!(job_schema.is_array());
    for (key, kind) in [
        ("jarURI", json!({"type": "string"})),
        ("entryClass", json!({"type": "string"})),
        ("args", json!({"type": "string"})),
        (
            "parallelism",
            json!({"type": "integer", "minimum": 1, "maximum": 1024}),
        ),
        (
            "upgradeMode",
            json!({"type": "string", "enum": ["stateless"]}),
        ),
    ] {
        for value in bad_values(&kind) {
            for name in [json!("etl"), json!("Bad Name"), json!("")] {
                let (status, answer) = portal
                    .post_json(
                        &format!("/api/v1/instances/{session}/jobs"),
                        &json!({"name": name, "params": {key: value}}),
                    )
                    .await;
                tally.record(&format!("job {key}={value:.40}"), status);
                if status == 201 {
                    accepted.push(format!("job {answer}"));
                }
            }
        }
    }

    // Ids, methods and query strings.
    for id in [
        "nope",
        "00000000-0000-0000-0000-000000000000",
        "%00",
        "..%2F..%2Fetc",
        &"9".repeat(300),
    ] {
        for path in [
            format!("/api/v1/instances/{id}"),
            format!("/instances/{id}"),
            format!("/api/v1/instances/{id}/jobs/x"),
        ] {
            let status = http
                .get(format!("{}{path}", portal.base))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            tally.record(&path, status);
        }
        for action in ["restart", "retry", "uninstall"] {
            let (status, _) = portal
                .post_json(
                    &format!("/api/v1/instances/{id}/{action}"),
                    &json!({"confirm": "x"}),
                )
                .await;
            tally.record(&format!("{action} {id}"), status);
        }
    }
    for query in [
        "page=-1",
        "page=abc",
        "page=99999999999999999999",
        "status=%3Cscript%3E",
        "app=%00&namespace=%FF",
        "page=1&page=2",
    ] {
        for path in [
            "/api/v1/instances",
            "/instances",
            "/api/v1/audit",
            "/audit",
            "/catalog",
        ] {
            let (status, _) = portal.get(&format!("{path}?{query}")).await;
            tally.record(&format!("{path}?{query}"), status);
        }
    }

    // Nothing stored changed but by what was accepted.
    let mut rows_lost = 0;
    for instance in &before_instances {
        match store.instance(instance.id).await {
            Ok(now)
                if now.current_revision == instance.current_revision
                    && now.params == instance.params => {}
            _ => rows_lost += 1,
        }
        let revisions = store.revisions(instance.id).await.unwrap();
        if revisions != before_revisions[&instance.id] {
            rows_lost += 1;
        }
    }
    for instance in store.instances(None).await.unwrap() {
        let whole = !store.revisions(instance.id).await.unwrap().is_empty()
            && !store.operations(instance.id).await.unwrap().is_empty();
        if !whole {
            rows_lost += 1;
        }
    }
    let panics = PANICS.load(Ordering::SeqCst);
    let server_errors = tally.server_errors.len();
    println!(
        "FUZZ bad_inputs={} answers_5xx={server_errors} panics={panics} accepted={} rows_lost={rows_lost} statuses={:?}",
        tally.tried,
        accepted.len(),
        tally.by_status
    );
    assert!(
        tally.tried >= 200,
        "at least 200 bad inputs: {}",
        tally.tried
    );
    assert!(
        tally.server_errors.is_empty(),
        "5xx answers: {:#?}",
        tally.server_errors
    );
    assert_eq!(panics, 0, "panics");
    assert_eq!(rows_lost, 0, "rows changed or half-written");
    assert!(
        !tally.by_status.contains_key(&0),
        "every request was answered"
    );
}
