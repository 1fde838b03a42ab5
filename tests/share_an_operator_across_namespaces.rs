//! A user runs one Flink operator for several namespaces: it is installed in
//! its own namespace watching another, gets the chart's grants there (the
//! namespace is created if missing), a Flink install in the watched
//! namespace is offered it (form and JSON) and runs with it, its uninstall is
//! refused while that Flink instance relies on it, and an update that stops
//! watching a namespace prunes its grants there.

mod common;

use common::{Backend, Portal, TestDatabase};
use dataport::http::Layout;
use dataport::service::Service;
use dataport::store::NewInstance;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::Api;
use serde_json::json;

#[tokio::test]
async fn one_operator_serves_the_namespaces_it_watches() {
    let (portal, _database, ops) = Portal::on_test_cluster("op-share").await;
    let cluster = common::cluster::shared();
    let client = cluster.client().await;
    // The watched namespace does not exist yet: the install creates it.
    let data = format!("{ops}-data");
    let operator = portal
        .install(
            json!({"app": "flink-kubernetes-operator", "name": "flink-operator",
                        "namespace": ops, "params": {"watchedNamespaces": data}}),
        )
        .await;
    assert_eq!(
        operator["operations"][0]["state"], "succeeded",
        "{operator}"
    );
    let operator_id = operator["instance"]["id"].as_str().unwrap().to_owned();

    // The chart's grants: the full rules in the watched namespace, bound to
    // the operator's account; its Lease and CRD check in its own.
    let grant = format!("flink-operator.{ops}");
    let role = Api::<Role>::namespaced(client.clone(), &data)
        .get(&grant)
        .await
        .expect("a Role in the watched namespace");
    let rules = role.rules.unwrap_or_default();
    assert!(rules.iter().any(|rule| {
        rule.resources
            .as_ref()
            .is_some_and(|r| r.contains(&"flinkdeployments/status".to_owned()))
    }));
    let binding = Api::<RoleBinding>::namespaced(client.clone(), &data)
        .get(&grant)
        .await
        .expect("a RoleBinding in the watched namespace");
    let subject = &binding.subjects.unwrap()[0];
    assert_eq!(
        (subject.name.as_str(), subject.namespace.as_deref()),
        ("flink-operator", Some(ops.as_str()))
    );
    let own = Api::<Role>::namespaced(client.clone(), &ops)
        .get("flink-operator")
        .await
        .expect("a Role in its own namespace");
    assert_eq!(own.rules.unwrap().len(), 2, "leases and the CRD check only");
    let config = Api::<ConfigMap>::namespaced(client.clone(), &ops)
        .get("flink-operator-config")
        .await
        .unwrap();
    assert!(
        config.data.unwrap()["flink-conf.yaml"]
            .contains(&format!("kubernetes.operator.watched.namespaces: {data}\n"))
    );
    let deployment = Api::<Deployment>::namespaced(client.clone(), &ops)
        .get("flink-operator")
        .await
        .unwrap();
    let env = deployment.spec.unwrap().template.spec.unwrap().containers[0]
        .env
        .clone()
        .unwrap();
    assert!(
        env.iter()
            .any(|e| e.name == "FLINK_CONF_DIR" && e.value.as_deref() == Some("/opt/flink/conf"))
    );

    // The Flink form for the watched namespace offers it as namespace/name;
    // for its own namespace (not watched) it offers nothing.
    let reference = format!("{ops}/flink-operator");
    let (status, form) = portal
        .get_json(&format!("/api/v1/apps/flink/install?namespace={data}"))
        .await;
    assert_eq!(status, 200, "{form}");
    let field = form["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["param"]["key"] == "operator")
        .unwrap()
        .clone();
    assert_eq!(field["options"], json!([[reference, ops]]));
    assert_eq!(field["value"], reference, "the only one is preselected");
    let (_, html) = portal
        .get(&format!("/catalog/flink/install?namespace={data}"))
        .await;
    assert!(
        html.contains(&format!(r#"<option value="{reference}" selected>"#)),
        "{html}"
    );
    let (_, form) = portal
        .get_json(&format!("/api/v1/apps/flink/install?namespace={ops}"))
        .await;
    let field = form["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["param"]["key"] == "operator")
        .unwrap()
        .clone();
    assert_eq!(field["options"], json!([]));
    // The empty picker says how to get one: install one there, or watch it.
    assert_eq!(
        field["empty_hint"],
        format!(
            "No Flink Kubernetes Operator instance serves namespace {ops}: install one there, \
             or add it to the Watched namespaces of one you have."
        )
    );
    let (_, html) = portal
        .get(&format!("/catalog/flink/install?namespace={ops}"))
        .await;
    assert!(
        html.contains(&format!(
            r#"<a href="/catalog/flink-kubernetes-operator/install?namespace={ops}">"#
        )),
        "{html}"
    );

    // An operator that does not watch the namespace is refused, naming the
    // one that does.
    let (status, refused) = portal
        .post_json(
            "/api/v1/preview",
            &json!({"app": "flink", "name": "analytics", "namespace": data,
                    "params": {"operator": "flink-operator"}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"]["fields"]["operator"].as_str().unwrap();
    assert!(message.contains(&reference), "{message}");

    // Installed with it, the Flink cluster runs in the watched namespace.
    let flink = portal
        .install(
            json!({"app": "flink", "name": "analytics", "namespace": data,
                        "params": {"operator": reference}, "version": "2.2"}),
        )
        .await;
    assert_eq!(flink["operations"][0]["state"], "succeeded", "{flink}");
    let flink_id = flink["instance"]["id"].as_str().unwrap().to_owned();

    // The operator stays while the cluster relies on it.
    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{operator_id}/uninstall"),
            &json!({"confirm": "flink-operator"}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!(
                "{data}/analytics (Apache Flink, as its Flink operator)"
            )),
        "{refused}"
    );
    let (status, _, html) = portal
        .post_form(
            &format!("/instances/{operator_id}/uninstall"),
            &[("confirm", "flink-operator")],
        )
        .await;
    assert_eq!(status, 409);
    assert!(html.contains("data-dependants") && html.contains(&format!("Apache Flink in {data}")));
    // Nor may it stop watching the namespace the cluster is in.
    let (status, refused) = portal
        .post_json(
            &format!("/api/v1/instances/{operator_id}/update"),
            &json!({"revision": 1, "params": {"watchedNamespaces": ops}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"]["fields"]["watchedNamespaces"]
            .as_str()
            .unwrap()
            .contains("keep that namespace watched")
    );

    // Without the cluster, it may stop watching: its grants there go.
    portal.uninstall(&flink_id, "analytics").await;
    let (status, updated) = portal
        .post_json(
            &format!("/api/v1/instances/{operator_id}/update"),
            &json!({"revision": 1, "params": {"watchedNamespaces": ops}}),
        )
        .await;
    assert!(status == 200 || status == 202, "{status} {updated}");
    portal
        .wait_for_instance(&operator_id, "updated", |i| {
            i["operations"][0]["kind"] == "update"
                && matches!(
                    i["operations"][0]["state"].as_str(),
                    Some("succeeded" | "failed")
                )
        })
        .await;
    let roles = Api::<Role>::namespaced(client.clone(), &data);
    assert!(
        roles.get_opt(&grant).await.unwrap().is_none(),
        "the grant in the namespace no longer watched is pruned"
    );
    assert!(
        Api::<Role>::namespaced(client.clone(), &ops)
            .get("flink-operator")
            .await
            .unwrap()
            .rules
            .unwrap()
            .len()
            > 2,
        "watching its own namespace now, it has the full rules there"
    );

    // Uninstalled, nothing of it is left in any namespace.
    portal.uninstall(&operator_id, "flink-operator").await;
    assert!(
        Api::<Role>::namespaced(client.clone(), &ops)
            .get_opt("flink-operator")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn watched_namespaces_stay_within_the_allowed_ones_and_are_not_shared() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let store = database.store().await;
    store
        .create_instance(NewInstance {
            id: uuid::Uuid::new_v4(),
            app: "flink-kubernetes-operator".into(),
            name: "first".into(),
            namespace: "ops".into(),
            version: "1.15.0".into(),
            params: json!({"watchedNamespaces": "data"}),
            objects: json!([]),
            actor: "test".into(),
        })
        .await
        .unwrap();
    let service =
        Service::new(store, None).with_allowed_namespaces(vec!["ops".into(), "data".into()]);
    let portal = Portal::start_service(service, Layout::default()).await;
    let (status, refused) = portal
        .post_json(
            "/api/v1/preview",
            &json!({"app": "flink-kubernetes-operator", "name": "second", "namespace": "ops",
                    "params": {"watchedNamespaces": "data,elsewhere"}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"]["fields"]["watchedNamespaces"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("This portal installs only into: ops, data (not elsewhere)"),
        "{message}"
    );
    assert!(
        message.contains("data is watched by ops/first already"),
        "{message}"
    );
    let (status, fine) = portal
        .post_json(
            "/api/v1/preview",
            &json!({"app": "flink-kubernetes-operator", "name": "second", "namespace": "ops",
                    "params": {}}),
        )
        .await;
    assert_eq!(status, 200, "{fine}");

    // An operator whose version does not run the chosen Flink version (one
    // stored before its versions were known here) is refused on `version`.
    let database = TestDatabase::new(Backend::Sqlite).await;
    let store = database.store().await;
    store
        .create_instance(NewInstance {
            id: uuid::Uuid::new_v4(),
            app: "flink-kubernetes-operator".into(),
            name: "old".into(),
            namespace: "data".into(),
            version: "1.13.0".into(),
            params: json!({}),
            objects: json!([]),
            actor: "test".into(),
        })
        .await
        .unwrap();
    let portal = Portal::start_service(Service::new(store, None), Layout::default()).await;
    let (status, refused) = portal
        .post_json(
            "/api/v1/preview",
            &json!({"app": "flink", "name": "analytics", "namespace": "data", "version": "2.2",
                    "params": {"operator": "old"}}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        refused["error"]["fields"]["version"],
        "Flink 2.2 is not supported by operator data/old (version 1.13.0): choose another \
         version or another operator"
    );
}
