//! A user installs Prometheus through the portal to watch another namespace
//! than its own. The real API server (its RBAC authorizer, asked with
//! SubjectAccessReviews) lets Prometheus's ServiceAccount get, list and
//! watch pods there, and nothing else: not pods in its own namespace (not
//! watched), not pods cluster-wide, not Secrets or ConfigMaps of the watched
//! namespace, and no writes.

mod common;

use common::Portal;
use common::cluster::shared;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};
use serde_json::json;

/// Whether the API server allows ServiceAccount `account` of `namespace` to
/// `verb` `resource` in `target` (all namespaces when `None`).
async fn allowed(
    client: &kube::Client,
    (namespace, account): (&str, &str),
    verb: &str,
    resource: &str,
    target: Option<&str>,
) -> bool {
    let reviews: Api<SubjectAccessReview> = Api::all(client.clone());
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(format!("system:serviceaccount:{namespace}:{account}")),
            groups: Some(vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".into(),
            ]),
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                resource: Some(resource.into()),
                namespace: target.map(str::to_owned),
                ..ResourceAttributes::default()
            }),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    };
    reviews
        .create(&PostParams::default(), &review)
        .await
        .expect("a SubjectAccessReview")
        .status
        .expect("its answer")
        .allowed
}

#[tokio::test]
async fn prometheus_may_read_pods_where_it_watches_and_nothing_else() {
    let (portal, _database, own) = Portal::on_test_cluster("promrbac").await;
    let watched = shared().namespace("promwatched").await;
    let installed = portal
        .install(
            json!({"app": "prometheus", "name": "prometheus", "namespace": own,
            "params": {"watchedNamespaces": watched}}),
        )
        .await;
    assert_eq!(
        installed["operations"][0]["state"], "succeeded",
        "{installed}"
    );

    let client = shared().client().await;
    let account = (own.as_str(), "prometheus");
    for verb in ["get", "list", "watch"] {
        assert!(
            allowed(&client, account, verb, "pods", Some(&watched)).await,
            "{verb} pods in {watched}"
        );
    }
    let refused = [
        ("list", "pods", Some(own.as_str())),
        ("list", "pods", None),
        ("list", "secrets", Some(watched.as_str())),
        ("get", "configmaps", Some(watched.as_str())),
        ("create", "pods", Some(watched.as_str())),
        ("delete", "pods", Some(watched.as_str())),
        ("list", "endpoints", Some(watched.as_str())),
    ];
    for (verb, resource, target) in refused {
        assert!(
            !allowed(&client, account, verb, resource, target).await,
            "{verb} {resource} in {target:?} is allowed"
        );
    }
}
