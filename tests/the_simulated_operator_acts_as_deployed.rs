//! The simulated flink-kubernetes-operator acts only as it is deployed: with
//! the configuration its Deployment gives it, the rights its ServiceAccount
//! has, on the namespaces it watches, and as strictly as the real one
//! validates and records what it deployed.

mod common;

use std::time::Duration;

use common::operator::{
    OperatorLayout, deploy, events_about, eventually, install_crds, official_crds, session_cluster,
    wait_for_event,
};
use dataport::crd::{
    FlinkDeployment, JobManagerDeploymentStatus as Jm, ResourceLifecycleState as Lifecycle,
};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

/// The reason of the simulator's reports on an operator Deployment.
const REPORTED: &str = "SimulatedOperatorFailed";

/// The shared control plane with the operator release's own CRDs.
async fn official_control_plane() -> (
    &'static common::cluster::TestCluster,
    Client,
    dataport::cluster::Cluster,
) {
    let cluster = common::cluster::shared();
    let client = cluster.client().await;
    install_crds(&client, &official_crds()).await;
    (cluster, client, cluster.cluster().await)
}

/// Deploys operator `flink-operator` in `namespace`, laid out as the chart
/// lays it out and watching only that namespace.
async fn deploy_chart_operator(portal_cluster: &dataport::cluster::Cluster, namespace: &str) {
    let watched = [namespace];
    deploy(
        portal_cluster,
        &OperatorLayout::chart(namespace, "flink-operator", &watched).objects(),
    )
    .await;
}

fn in_namespace(mut object: Value, namespace: &str) -> Value {
    object["metadata"]["namespace"] = json!(namespace);
    object
}

async fn lifecycle_of(api: &Api<FlinkDeployment>, name: &str) -> Option<(Option<Jm>, Lifecycle)> {
    let status = api.get(name).await.ok()?.status?;
    Some((
        status.job_manager_deployment_status,
        status.lifecycle_state?,
    ))
}

async fn wait_stable(api: &Api<FlinkDeployment>, name: &str) -> FlinkDeployment {
    eventually(
        Duration::from_secs(60),
        &format!("{name} READY and STABLE"),
        || async {
            let found = api.get(name).await.ok()?;
            let status = found.status.as_ref()?;
            (status.job_manager_deployment_status == Some(Jm::Ready)
                && status.lifecycle_state == Some(Lifecycle::Stable))
            .then_some(found)
        },
    )
    .await
}

/// Holds that `name` gets no status for `period`.
async fn stays_without_status(api: &Api<FlinkDeployment>, name: &str, period: Duration) {
    let until = std::time::Instant::now() + period;
    while std::time::Instant::now() < until {
        let found = api.get(name).await.expect("the FlinkDeployment");
        assert!(
            found.status.is_none(),
            "{name} got a status: {:?}",
            found.status
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn an_operator_rendered_the_old_way_serves_no_namespace_and_says_why() {
    let (cluster, client, portal_cluster) = official_control_plane().await;
    let namespace = cluster.namespace("oldop").await;
    let watched = [namespace.as_str()];
    let layout = OperatorLayout {
        old_layout: true,
        ..OperatorLayout::chart(&namespace, "flink-operator", &watched)
    };
    deploy(&portal_cluster, &layout.objects()).await;
    portal_cluster
        .apply(&[in_namespace(session_cluster("analytics"), &namespace)])
        .await
        .unwrap();

    // Without FLINK_CONF_DIR it reads no file: it watches all namespaces,
    // which its Roles do not allow.
    let report = wait_for_event(
        &client,
        &namespace,
        "flink-operator",
        REPORTED,
        "may not list flinkdeployments in all namespaces",
    )
    .await;
    assert_eq!(report.type_.as_deref(), Some("Warning"));
    let api: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    stays_without_status(&api, "analytics", Duration::from_secs(3)).await;
}

#[tokio::test]
async fn an_operator_whose_role_lacks_the_status_rule_leaves_its_deployment_without_status() {
    let (cluster, client, portal_cluster) = official_control_plane().await;
    let namespace = cluster.namespace("nostatus").await;
    let watched = [namespace.as_str()];
    let layout = OperatorLayout {
        without: &["flink.apache.org/flinkdeployments/status"],
        ..OperatorLayout::chart(&namespace, "flink-operator", &watched)
    };
    deploy(&portal_cluster, &layout.objects()).await;
    portal_cluster
        .apply(&[in_namespace(session_cluster("analytics"), &namespace)])
        .await
        .unwrap();

    let forbidden = "cannot patch resource \"flinkdeployments/status\"";
    wait_for_event(&client, &namespace, "flink-operator", REPORTED, forbidden).await;
    wait_for_event(&client, &namespace, "analytics", REPORTED, forbidden).await;
    let api: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    stays_without_status(&api, "analytics", Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_forbidden_config_key_is_refused_while_the_stable_cluster_keeps_its_last_spec() {
    let (cluster, client, portal_cluster) = official_control_plane().await;
    let namespace = cluster.namespace("forbidden").await;
    deploy_chart_operator(&portal_cluster, &namespace).await;
    portal_cluster
        .apply(&[in_namespace(session_cluster("analytics"), &namespace)])
        .await
        .unwrap();
    let api: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let stable = wait_stable(&api, "analytics").await;
    let stable_status = stable.status.clone().unwrap();
    let recorded = stable_status.reconciliation_status.clone().unwrap();
    let spec: Value =
        serde_json::from_str(recorded.last_reconciled_spec.as_deref().unwrap()).unwrap();
    assert_eq!(
        spec["resource_metadata"],
        json!({"apiVersion": "flink.apache.org/v1beta1", "firstDeployment": true})
    );
    assert_eq!(
        recorded.last_stable_spec, recorded.last_reconciled_spec,
        "stable is the spec last reconciled"
    );
    let conditions = stable_status.conditions.clone().unwrap();
    assert_eq!(conditions.len(), 1);
    assert_eq!(conditions[0].reason.as_deref(), Some("JobManagerReady"));
    for key in [
        "flink-version",
        "flink-revision",
        "total-cpu",
        "total-memory",
    ] {
        assert!(
            stable_status
                .cluster_info
                .as_ref()
                .unwrap()
                .contains_key(key),
            "{key}"
        );
    }

    // Forced past the form, straight into the resource.
    api.patch(
        "analytics",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"flinkConfiguration": {"kubernetes.cluster-id": "mine"}}})),
    )
    .await
    .unwrap();
    let message = "Forbidden Flink config key: kubernetes.cluster-id";
    let refused = eventually(Duration::from_secs(30), "status.error", || async {
        let found = api.get("analytics").await.ok()?;
        found.status.as_ref()?.error.as_ref()?;
        Some(found)
    })
    .await;
    let status = refused.status.unwrap();
    let error: Value = serde_json::from_str(status.error.as_deref().unwrap()).unwrap();
    assert_eq!(
        error,
        json!({"type": "org.apache.flink.kubernetes.operator.exception.ValidationException",
               "message": message, "additionalMetadata": {}, "throwableList": []})
    );
    let event = wait_for_event(&client, &namespace, "analytics", "ValidationError", message).await;
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(
        event.source.and_then(|s| s.component).as_deref(),
        Some("Operator")
    );
    assert_eq!(event.message.as_deref(), Some(message));
    // The last valid spec keeps running.
    assert_eq!(
        status.reconciliation_status,
        stable_status.reconciliation_status
    );
    assert_eq!(
        status.observed_generation,
        stable_status.observed_generation
    );
    assert_eq!(status.lifecycle_state, Some(Lifecycle::Stable));
    assert_eq!(status.job_manager_deployment_status, Some(Jm::Ready));
}

#[tokio::test]
async fn a_new_cluster_that_fails_validation_is_not_deployed() {
    let (cluster, client, portal_cluster) = official_control_plane().await;
    let namespace = cluster.namespace("invalid").await;
    deploy_chart_operator(&portal_cluster, &namespace).await;
    let mut nameless = in_namespace(session_cluster("analytics"), &namespace);
    nameless["spec"]
        .as_object_mut()
        .unwrap()
        .remove("serviceAccount");
    portal_cluster.apply(&[nameless]).await.unwrap();
    let api: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    let failed = eventually(Duration::from_secs(30), "lifecycle FAILED", || async {
        let status = api.get("analytics").await.ok()?.status?;
        (status.lifecycle_state == Some(Lifecycle::Failed)).then_some(status)
    })
    .await;
    assert!(failed.reconciliation_status.is_none());
    assert!(
        failed
            .error
            .unwrap()
            .contains("spec.serviceAccount must be defined")
    );
    let services = events_about(&client, &namespace, "analytics-rest").await;
    assert!(services.is_empty());
    let rest: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client, &namespace);
    assert!(
        rest.get_opt("analytics-rest").await.unwrap().is_none(),
        "nothing deployed"
    );
}

#[tokio::test]
async fn two_operators_watching_disjoint_namespaces_each_serve_only_theirs() {
    let (cluster, client, portal_cluster) = official_control_plane().await;
    let first = cluster.namespace("op-a").await;
    let second = cluster.namespace("op-b").await;
    let nobody = cluster.namespace("op-none").await;
    let (first_watched, second_watched) = ([first.as_str()], [second.as_str()]);
    for layout in [
        OperatorLayout::chart(&first, "flink-operator", &first_watched),
        OperatorLayout::chart(&second, "flink-operator", &second_watched),
    ] {
        deploy(&portal_cluster, &layout.objects()).await;
    }
    for namespace in [&first, &second, &nobody] {
        portal_cluster
            .apply(&[in_namespace(session_cluster("analytics"), namespace)])
            .await
            .unwrap();
    }
    for namespace in [&first, &second] {
        let api: Api<FlinkDeployment> = Api::namespaced(client.clone(), namespace);
        let stable = wait_stable(&api, "analytics").await;
        let rest: Api<k8s_openapi::api::core::v1::Service> =
            Api::namespaced(client.clone(), namespace);
        assert!(rest.get_opt("analytics-rest").await.unwrap().is_some());
        assert!(
            events_about(&client, namespace, "flink-operator")
                .await
                .iter()
                .all(|e| e.reason.as_deref() != Some(REPORTED)),
            "nothing went wrong for the operator in {namespace}"
        );
        assert!(
            stable
                .finalizers()
                .iter()
                .any(|f| f == "flinkdeployments.flink.apache.org/finalizer")
        );
    }
    let unwatched: Api<FlinkDeployment> = Api::namespaced(client.clone(), &nobody);
    stays_without_status(&unwatched, "analytics", Duration::from_secs(2)).await;

    // A removed operator Deployment stops its operator.
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), &second);
    deployments
        .delete("flink-operator", &DeleteParams::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    portal_cluster
        .apply(&[in_namespace(session_cluster("later"), &second)])
        .await
        .unwrap();
    let api: Api<FlinkDeployment> = Api::namespaced(client.clone(), &second);
    stays_without_status(&api, "later", Duration::from_secs(3)).await;
    assert_eq!(
        lifecycle_of(&api, "analytics").await.map(|(_, l)| l),
        Some(Lifecycle::Stable)
    );
}

#[tokio::test]
async fn a_crd_that_prunes_the_reconciliation_status_never_lets_a_cluster_get_stable() {
    let cluster = common::cluster::private("pruning-crd");
    let client = cluster.client().await;
    let portal_cluster = cluster.cluster().await;
    let mut crds = official_crds();
    let deployment_crd = crds
        .iter_mut()
        .find(|c| c["metadata"]["name"] == "flinkdeployments.flink.apache.org")
        .unwrap();
    for version in deployment_crd["spec"]["versions"].as_array_mut().unwrap() {
        let status =
            &mut version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"];
        assert!(
            status
                .as_object_mut()
                .unwrap()
                .remove("reconciliationStatus")
                .is_some()
        );
    }
    install_crds(&client, &crds).await;
    let namespace = cluster.namespace("pruned").await;
    deploy_chart_operator(&portal_cluster, &namespace).await;
    portal_cluster
        .apply(&[in_namespace(session_cluster("analytics"), &namespace)])
        .await
        .unwrap();
    let api: Api<FlinkDeployment> = Api::namespaced(client.clone(), &namespace);
    // The operator writes its status, but reads no reconciled spec back:
    // every reconcile is a first deployment again.
    let mut seen = Vec::new();
    let until = std::time::Instant::now() + Duration::from_secs(8);
    while std::time::Instant::now() < until {
        if let Some(status) = api.get("analytics").await.unwrap().status {
            assert!(status.reconciliation_status.is_none(), "pruned by the CRD");
            let lifecycle = status.lifecycle_state;
            assert_ne!(lifecycle, Some(Lifecycle::Stable));
            if seen.last() != Some(&lifecycle) {
                seen.push(lifecycle);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!seen.is_empty(), "the operator did write a status");
}

#[tokio::test]
async fn a_changed_configuration_restarts_the_operator_on_its_new_namespaces() {
    let (cluster, client, portal_cluster) = official_control_plane().await;
    let home = cluster.namespace("op-home").await;
    let added = cluster.namespace("op-added").await;
    let only_home = [home.as_str()];
    deploy(
        &portal_cluster,
        &OperatorLayout::chart(&home, "flink-operator", &only_home).objects(),
    )
    .await;
    portal_cluster
        .apply(&[in_namespace(session_cluster("analytics"), &added)])
        .await
        .unwrap();
    let api: Api<FlinkDeployment> = Api::namespaced(client.clone(), &added);
    stays_without_status(&api, "analytics", Duration::from_secs(2)).await;

    // The chart re-rendered with one more watched namespace: a new
    // ConfigMap line and a Role there. The operator restarts and serves it.
    let both = [home.as_str(), added.as_str()];
    portal_cluster
        .apply(&OperatorLayout::chart(&home, "flink-operator", &both).objects())
        .await
        .unwrap();
    wait_stable(&api, "analytics").await;
}
