//! A user browses the catalog: cards, search, category filter, app pages, their
//! JSON twins, and clear 404s for apps that do not exist.

mod common;

use common::Portal;
use dataport::store::NewInstance;
use serde_json::json;

const CATALOG_APPS: [&str; 11] = [
    "flink",
    "flink-application",
    "flink-kubernetes-operator",
    "streampark",
    "zookeeper",
    "hdfs",
    "minio",
    "hive-metastore",
    "mysql",
    "prometheus",
    "monitoring",
];

#[tokio::test]
async fn the_home_page_and_the_catalog_show_every_app() {
    let (portal, _db) = Portal::on_sqlite().await;
    for path in ["/", "/catalog"] {
        let (status, html) = portal.get(path).await;
        assert_eq!(status, 200, "{path}");
        for app in CATALOG_APPS {
            assert!(
                html.contains(&format!("href=\"/catalog/{app}\"")),
                "{path} lacks {app}"
            );
        }
        assert!(html.contains("11 apps"));
        assert!(html.contains("Not installed"));
    }
}

#[tokio::test]
async fn the_api_lists_the_apps_as_json() {
    let (portal, _db) = Portal::on_sqlite().await;
    let (status, json) = portal.get_json("/api/v1/apps").await;
    assert_eq!(status, 200);
    let names: Vec<_> = json["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|app| app["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, CATALOG_APPS);
    let flink = &json["apps"][0];
    assert_eq!(flink["category"], "Compute");
    assert_eq!(flink["requires"][0], "flink-kubernetes-operator");
    assert_eq!(flink["installed"], 0);

    // Current releases: Flink up to 2.2 (notes on the unmaintained lines),
    // the operator at 1.15.0.
    let (status, flink) = portal.get_json("/api/v1/apps/flink").await;
    assert_eq!(status, 200);
    assert_eq!(
        flink["app"]["versions"],
        json!(["1.20", "1.19", "2.0", "2.1", "2.2"])
    );
    assert_eq!(flink["app"]["version_notes"][0][0], "1.19");
    assert!(
        flink["app"]["version_notes"][0][1]
            .as_str()
            .unwrap()
            .contains("No longer maintained by the Flink community")
    );
    let (_, operator) = portal
        .get_json("/api/v1/apps/flink-kubernetes-operator")
        .await;
    assert_eq!(operator["app"]["versions"], json!(["1.15.0", "1.14.0"]));
    let (_, html) = portal.get("/catalog/flink/install").await;
    assert!(
        html.contains(r#"data-version-note="2.0""#),
        "the form notes it"
    );
    assert!(html.contains("1.19 (unmaintained)</option>"));
    // A field that applies only sometimes says when in the form's words.
    assert!(
        html.contains("Only when High availability is on and HA type is ZooKeeper."),
        "the ZooKeeper field's hint"
    );
    // The name's rules show before a first try, not only after a refusal.
    assert!(
        html.contains("Up to 40 lowercase letters, digits and hyphens, starting with a letter"),
        "the name field's rules"
    );
}

#[tokio::test]
async fn search_and_category_narrow_the_catalog_without_javascript() {
    let (portal, _db) = Portal::on_sqlite().await;
    let (_, json) = portal.get_json("/api/v1/apps?category=Storage").await;
    let names: Vec<_> = json["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, ["hdfs", "minio"]);

    let (_, json) = portal.get_json("/api/v1/apps?q=zoo").await;
    assert_eq!(json["apps"].as_array().unwrap().len(), 1);
    assert_eq!(json["apps"][0]["name"], "zookeeper");

    let (status, html) = portal.get("/catalog?q=thrift&category=").await;
    assert_eq!(status, 200);
    assert!(html.contains("1 app<"), "count shows one app");
    assert!(html.contains("/catalog/hive-metastore"));
    assert!(!html.contains("/catalog/minio\""));
    assert!(
        html.contains("value=\"thrift\""),
        "the search box keeps what was typed"
    );

    let (_, html) = portal.get("/catalog?q=no-such-thing").await;
    assert!(html.contains("No app matches"));
}

#[tokio::test]
async fn the_app_page_says_what_it_depends_on_and_who_uses_it() {
    let (portal, _db) = Portal::on_sqlite().await;
    let (status, html) = portal.get("/catalog/flink").await;
    assert_eq!(status, 200);
    assert!(html.contains("Apache Flink"));
    assert!(html.contains("/catalog/flink-kubernetes-operator"));
    assert!(html.contains("required"));
    assert!(html.contains("1.20, 1.19, 2.0, 2.1, 2.2"));
    assert!(html.contains("No instance of Apache Flink yet"));

    let (_, json) = portal.get_json("/api/v1/apps/mysql").await;
    let users: Vec<_> = json["used_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["app"].clone())
        .collect();
    assert_eq!(users, ["streampark", "hive-metastore"]);
}

#[tokio::test]
async fn the_app_page_lists_the_install_parameters() {
    let (portal, _db) = Portal::on_sqlite().await;
    let (_, html) = portal.get("/catalog/flink").await;
    assert!(html.contains("<h2>Parameters</h2>"));
    assert!(html.contains("High availability"));
    assert!(html.contains("one of kubernetes, zookeeper"));
    assert!(html.contains("(when High availability is on and HA type is ZooKeeper)"));
    assert!(html.contains("size, 768Mi to 128Gi"));
    let (_, html) = portal.get("/catalog/mysql").await;
    assert!(
        html.contains("generated"),
        "secrets are generated when left empty"
    );
}

#[tokio::test]
async fn the_api_publishes_each_apps_install_schema() {
    let (portal, _db) = Portal::on_sqlite().await;
    let (status, schema) = portal.get_json("/api/v1/apps/flink/schema").await;
    assert_eq!(status, 200);
    assert_eq!(
        schema["required"],
        serde_json::json!(["name", "namespace", "params"])
    );
    assert_eq!(schema["properties"]["version"]["enum"][0], "1.20");
    let params = &schema["properties"]["params"];
    assert_eq!(params["additionalProperties"], false);
    assert_eq!(params["required"], serde_json::json!(["operator"]));
    let props = &params["properties"];
    assert_eq!(props["highAvailability"]["type"], "boolean");
    assert_eq!(
        props["haType"]["enum"],
        serde_json::json!(["kubernetes", "zookeeper"])
    );
    assert_eq!(props["zookeeper"]["x-dataport-reference"], "zookeeper");
    assert_eq!(
        props["zookeeper"]["x-dataport-shown-when"],
        serde_json::json!({"highAvailability": "true", "haType": "zookeeper"})
    );
    assert_eq!(props["taskSlots"]["minimum"], 1);
    assert_eq!(props["taskSlots"]["default"], 2);

    for app in CATALOG_APPS {
        let (status, schema) = portal.get_json(&format!("/api/v1/apps/{app}/schema")).await;
        assert_eq!(status, 200, "{app}");
        assert_eq!(schema["properties"]["app"]["const"], app);
    }
    let (_, mysql) = portal.get_json("/api/v1/apps/mysql/schema").await;
    assert_eq!(
        mysql["properties"]["params"]["properties"]["rootPassword"]["writeOnly"],
        true
    );

    let (status, json) = portal.get_json("/api/v1/apps/kafka/schema").await;
    assert_eq!((status, json["error"]["status"].as_u64()), (404, Some(404)));
}

#[tokio::test]
async fn installed_instances_show_on_cards_and_app_pages() {
    let database = common::TestDatabase::new(common::Backend::Sqlite).await;
    let store = database.store().await;
    store
        .create_instance(NewInstance {
            id: uuid::Uuid::new_v4(),
            app: "zookeeper".into(),
            name: "zk-main".into(),
            namespace: "data".into(),
            version: "3.9.3".into(),
            params: serde_json::json!({}),
            objects: serde_json::json!([]),
            actor: "test".into(),
        })
        .await
        .unwrap();
    let portal = Portal::start(store, None, Default::default()).await;
    let (_, json) = portal.get_json("/api/v1/apps?q=zookeeper").await;
    assert_eq!(json["apps"][0]["installed"], 1);
    let (_, html) = portal.get("/catalog").await;
    assert!(html.contains("1 installed"));
    let (_, html) = portal.get("/catalog/zookeeper").await;
    assert!(html.contains("zk-main"));
    assert!(html.contains("Installing"));
}

#[tokio::test]
async fn an_unknown_app_gets_a_404_page_and_a_json_404() {
    let (portal, _db) = Portal::on_sqlite().await;
    let (status, html) = portal.get("/catalog/kafka").await;
    assert_eq!(status, 404);
    assert!(html.contains("<h1>Not Found</h1>"));
    assert!(html.contains("no app named &#34;kafka&#34; in the catalog"));
    assert!(html.contains("Back to the catalog"));

    let (status, json) = portal.get_json("/api/v1/apps/kafka").await;
    assert_eq!(status, 404);
    assert_eq!(json["error"]["status"], 404);
    assert!(json["error"]["message"].as_str().unwrap().contains("kafka"));

    let (status, _) = portal.get("/no/such/page").await;
    assert_eq!(status, 404);
    let (status, json) = portal.get_json("/api/v1/nothing").await;
    assert_eq!((status, json["error"]["status"].as_u64()), (404, Some(404)));
}

#[tokio::test]
async fn user_text_in_the_search_box_is_escaped() {
    let (portal, _db) = Portal::on_sqlite().await;
    let (status, html) = portal
        .get("/catalog?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22")
        .await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("value=\"&#60;script&#62;alert(1)&#60;/script&#62;&#34;\""));
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let (portal, _db) = Portal::on_sqlite().await;
    assert_eq!(portal.get("/healthz").await, (200, "ok\n".to_owned()));
    let (status, json) = portal.get_json("/readyz").await;
    assert_eq!(status, 200);
    assert_eq!(json["ready"], true);
    assert_eq!(json["database"]["ok"], true);
    assert!(json["cluster"].is_null(), "no cluster configured");

    portal.get("/catalog/flink").await;
    portal.get("/catalog/nope").await;
    let (status, text) = portal.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        text.contains(
            r#"dataport_http_requests_total{method="GET",route="/catalog/{app}",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="/catalog/{app}",status="404"} 1"#));
    assert!(text.contains("dataport_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn pages_use_the_stylesheet_and_show_the_local_cluster_banner_when_asked() {
    let database = common::TestDatabase::new(common::Backend::Sqlite).await;
    let layout = dataport::http::Layout {
        local_cluster: true,
        ..dataport::http::Layout::default()
    };
    let portal = Portal::start(database.store().await, None, layout).await;
    let (_, html) = portal.get("/catalog").await;
    assert!(html.contains("Local test cluster, simulated workloads"));
    let (status, css) = portal.get("/static/dataport.css").await;
    assert_eq!(status, 200);
    assert!(css.contains(".card"));

    let database = common::TestDatabase::new(common::Backend::Sqlite).await;
    let layout = dataport::http::Layout {
        local_cluster: true,
        real_flink: true,
        ..dataport::http::Layout::default()
    };
    let portal = Portal::start(database.store().await, None, layout).await;
    let (_, html) = portal.get("/catalog").await;
    assert!(html.contains("Local test cluster, real Flink."));
    assert!(html.contains("run a real Prometheus server"));
    assert!(!html.contains("simulated workloads"));

    let (portal, _db) = Portal::on_sqlite().await;
    let (_, html) = portal.get("/catalog").await;
    assert!(!html.contains("Local test cluster"));
}

/// The install form suggests a name, as for every app the operator's too:
/// the app's name, numbered once an instance in the namespace has it.
#[tokio::test]
async fn every_install_form_suggests_a_name_free_in_its_namespace() {
    let (portal, database) = Portal::on_sqlite().await;
    let name_field = |html: &str| {
        let start = html.find(r#"id="f-name""#).expect("a name field");
        let value = &html[start..];
        let value = &value[value.find("value=\"").expect("a value") + 7..];
        value[..value.find('"').unwrap()].to_owned()
    };
    for app in CATALOG_APPS {
        let (status, html) = portal.get(&format!("/catalog/{app}/install")).await;
        assert_eq!(status, 200, "{app}");
        assert_eq!(name_field(&html), app, "{app}");
    }
    common::seed_instance(
        &database.store().await,
        "flink-kubernetes-operator",
        "flink-kubernetes-operator",
        "default",
    )
    .await;
    let (_, html) = portal
        .get("/catalog/flink-kubernetes-operator/install")
        .await;
    assert_eq!(name_field(&html), "flink-kubernetes-operator-2");
    let (_, html) = portal
        .get("/catalog/flink-kubernetes-operator/install?namespace=streaming")
        .await;
    assert_eq!(name_field(&html), "flink-kubernetes-operator");
    let (_, form) = portal
        .get_json("/api/v1/apps/flink-kubernetes-operator/install")
        .await;
    assert_eq!(form["name"], "flink-kubernetes-operator-2");
}
