//! What users type is shown, never run: markup and quotes in every text field
//! come back escaped on every page. And the passwords dataport generates live
//! in their Secrets only: no page, API answer, preview, ConfigMap or stored
//! revision holds one.

mod common;

use common::Portal;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ListParams};
use serde_json::json;

const MARKUP: &str = r#""><script>alert('x')</script>"#;

#[tokio::test]
async fn markup_in_text_fields_is_shown_escaped_on_every_page() {
    let (portal, _database, namespace) = Portal::on_test_cluster("markup").await;
    portal
        .install(json!({"app": "flink-kubernetes-operator", "name": "flink-operator", "namespace": namespace, "params": {}}))
        .await;
    let flink = portal
        .install(json!({"app": "flink", "name": "analytics", "namespace": namespace,
                        "params": {"operator": "flink-operator", "ingressTemplate": MARKUP, "ingressClass": MARKUP}}))
        .await;
    let id = flink["instance"]["id"].as_str().unwrap();
    let monitoring = portal
        .install(
            json!({"app": "monitoring", "name": "grafana", "namespace": namespace,
                        "params": {"externalUrl": format!("https://grafana.example/{MARKUP}")}}),
        )
        .await;
    let monitoring_id = monitoring["instance"]["id"].as_str().unwrap();

    // Refused forms echo what was typed next to the errors: escaped too.
    let (status, _, refused) = portal
        .post_form(
            "/catalog/flink/install",
            &[
                ("name", MARKUP),
                ("namespace", MARKUP),
                ("operator", MARKUP),
                ("ingressTemplate", MARKUP),
                ("action", "install"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    let (status, _, job_form) = portal
        .post_form(
            &format!("/instances/{id}/jobs"),
            &[
                ("name", MARKUP),
                ("jarURI", MARKUP),
                ("entryClass", MARKUP),
                ("args", MARKUP),
            ],
        )
        .await;
    assert_eq!(status, 400);

    let mut pages = vec![refused, job_form];
    for path in [
        format!("/instances/{id}"),
        format!("/instances/{id}/update"),
        format!("/instances/{id}/uninstall"),
        format!("/instances/{monitoring_id}"),
        "/instances".to_owned(),
        format!("/catalog/flink?q={MARKUP}"),
        format!("/catalog?q={}", url_escape(MARKUP)),
    ] {
        let (status, html) = portal.get(&path).await;
        assert!(status < 500, "{path}: {status}");
        pages.push(html);
    }
    for html in &pages {
        assert!(
            !html.contains("<script>alert"),
            "raw markup on a page:\n{html}"
        );
    }
    let (_, page) = portal.get(&format!("/instances/{id}")).await;
    assert!(
        page.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"),
        "shown escaped"
    );

    // An address typed as a link target never runs anything.
    let sneaky = portal
        .install(json!({"app": "flink", "name": "sneaky", "namespace": namespace,
                        "params": {"operator": "flink-operator", "ingressTemplate": "javascript://%0aalert(1)"}}))
        .await;
    let (_, page) = portal
        .get(&format!(
            "/instances/{}",
            sneaky["instance"]["id"].as_str().unwrap()
        ))
        .await;
    assert!(page.contains("data-webui"));
    assert!(
        !page.to_lowercase().contains("href=\"javascript:"),
        "no script link"
    );
}

/// Every value of 8 characters or more in the Secrets of `namespace`.
async fn secret_values(client: kube::Client, namespace: &str) -> Vec<String> {
    let secrets: Api<Secret> = Api::namespaced(client, namespace);
    let mut values = Vec::new();
    for secret in secrets.list(&ListParams::default()).await.unwrap() {
        for value in secret.data.into_iter().flatten().map(|(_, v)| v.0) {
            let text = String::from_utf8(value).unwrap();
            if text.len() >= 8 {
                values.push(text);
            }
        }
    }
    values
}

fn url_escape(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn generated_passwords_live_in_their_secrets_only() {
    let (portal, database, namespace) = Portal::on_test_cluster("secrets").await;
    let mut ids = Vec::new();
    for (app, name) in [
        ("mysql", "mysql"),
        ("minio", "minio"),
        ("monitoring", "grafana"),
    ] {
        let installed = portal
            .install(json!({"app": app, "name": name, "namespace": namespace, "params": {}}))
            .await;
        assert_eq!(
            installed["operations"][0]["state"], "succeeded",
            "{installed}"
        );
        ids.push(installed["instance"]["id"].as_str().unwrap().to_owned());
    }
    let client = common::cluster::shared().client().await;
    let values = secret_values(client.clone(), &namespace).await;
    assert!(
        values.len() >= 3,
        "generated passwords found: {}",
        values.len()
    );

    // Everything a user or another program can read.
    let mut seen = Vec::new();
    for id in &ids {
        for path in [
            format!("/instances/{id}"),
            format!("/api/v1/instances/{id}"),
            format!("/instances/{id}/update"),
            format!("/instances/{id}/uninstall"),
        ] {
            seen.push((path.clone(), portal.get(&path).await.1));
        }
        let (_, diff) = portal
            .post_json(
                &format!("/api/v1/instances/{id}/diff"),
                &json!({"params": {}}),
            )
            .await;
        seen.push((format!("diff {id}"), diff.to_string()));
    }
    for path in ["/instances", "/api/v1/instances", "/metrics"] {
        seen.push((path.to_owned(), portal.get(path).await.1));
    }
    let (_, preview) = portal
        .post_json(
            "/api/v1/preview",
            &json!({"app": "mysql", "name": "other", "namespace": namespace, "params": {}}),
        )
        .await;
    seen.push(("preview".to_owned(), preview.to_string()));
    let config_maps: Api<ConfigMap> = Api::namespaced(client, &namespace);
    for config_map in config_maps.list(&ListParams::default()).await.unwrap() {
        seen.push((
            format!("ConfigMap {:?}", config_map.metadata.name),
            serde_json::to_string(&config_map.data).unwrap(),
        ));
    }
    let store = database.store().await;
    for id in &ids {
        for revision in store.revisions(id.parse().unwrap()).await.unwrap() {
            seen.push((
                format!("revision of {id}"),
                revision.params.to_string() + &revision.objects.to_string(),
            ));
        }
    }

    for (place, text) in &seen {
        for value in &values {
            assert!(
                !text.contains(value.as_str()),
                "a generated password shows in {place}"
            );
        }
    }
}

#[tokio::test]
async fn typed_and_generated_passwords_stay_out_of_the_log_and_the_audit_log() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("hygiene").await;
    let database = common::TestDatabase::new(common::Backend::Sqlite).await;
    let token = common::add_user_with_token(
        &database.url,
        common::ADMIN,
        common::ADMIN_PASSWORD,
        dataport::service::Role::Admin,
    )
    .await;
    let process = common::process::ServeProcess::start(
        &database.url,
        &["--kubeconfig", cluster.kubeconfig.to_str().unwrap()],
        &[],
    )
    .await;
    let portal = Portal::at(process.base.clone(), &token);
    let typed = "Typed-Root-Password-4242";
    let mysql = portal
        .install(json!({"app": "mysql", "name": "db", "namespace": namespace,
                        "params": {"rootPassword": typed}}))
        .await;
    assert_eq!(mysql["operations"][0]["state"], "succeeded", "{mysql}");
    portal
        .install(json!({"app": "minio", "name": "minio", "namespace": namespace, "params": {}}))
        .await;
    let id = mysql["instance"]["id"].as_str().unwrap();
    portal
        .update(
            id,
            1,
            &json!({"rootPassword": "Another-Typed-Password-77", "cpu": "2"}),
        )
        .await;
    let mut tab = common::session::BrowserLike::new(&portal.base);
    tab.log_in(common::ADMIN, common::ADMIN_PASSWORD).await;

    let mut values = vec![
        typed.to_owned(),
        "Another-Typed-Password-77".to_owned(),
        common::ADMIN_PASSWORD.to_owned(),
        token.clone(),
    ];
    values.extend(secret_values(cluster.client().await, &namespace).await);
    assert!(
        values.len() >= 6,
        "typed and generated values: {}",
        values.len()
    );

    let (_, audit_json) = portal.get_json("/api/v1/audit").await;
    let audit_page = tab.get("/audit").await.body;
    assert!(
        audit_page.contains("rootPassword"),
        "the change is in the log, masked"
    );
    let log = process.log_text();
    assert!(log.contains("DEBUG"), "the portal logged at debug level");
    for (place, text) in [
        ("audit JSON", audit_json.to_string()),
        ("audit page", audit_page),
        ("the portal's log", log),
    ] {
        for value in &values {
            assert!(
                !text.contains(value.as_str()),
                "a secret value shows in {place}"
            );
        }
    }
}
