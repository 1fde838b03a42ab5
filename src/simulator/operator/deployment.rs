//! The simulated FlinkDeployment controller: validate, then deploy, upgrade,
//! suspend or observe by comparing the spec with the `lastReconciledSpec` it
//! reads back from the status (`FlinkDeploymentController`,
//! `AbstractFlinkResourceReconciler`, `AbstractFlinkDeploymentObserver` in
//! flink-kubernetes-operator release-1.15.0; docs/flink-operator-facts.md §3–§4).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use super::config::OperatorConfig;
use super::events::{record, reference};
use super::instance::Operator;
use super::status::{
    LifecycleInputs, cluster_info, deployment_failed_error, first_deployment_spec, job_state,
    last_reconciled, lifecycle, reconciliation_error, running_condition, same_deployment,
    spec_with_meta, task_managers, validation_error, with_job_state,
};
use super::validator::{
    flat_configuration, is_supported, savepoint_dir, unsupported_version_message,
    validate_deployment,
};
use crate::crd::{
    FlinkDeployment, FlinkDeploymentStatus, JobManagerDeploymentStatus as Jm, JobSpec,
    OPERATOR_FINALIZER, ReconciliationState, ResourceLifecycleState as Lifecycle, TaskManagerInfo,
};
use crate::simulator::jobs::{JobWorld, next_job, now_ms, status_patch};
use crate::simulator::{FAIL_ANNOTATION, FINISH_ANNOTATION, SIMULATOR_MANAGER, SimulationError};

/// Time between two steps of the status walk.
const STEP: Duration = Duration::from_millis(700);

/// Reconciles the FlinkDeployments of `namespace` (all when `None`).
pub(super) async fn run(operator: Arc<Operator>, namespace: Option<String>) {
    let client = operator.client.clone();
    let (deployments, services): (Api<FlinkDeployment>, Api<Service>) = match &namespace {
        Some(ns) => (
            Api::namespaced(client.clone(), ns),
            Api::namespaced(client, ns),
        ),
        None => (Api::all(client.clone()), Api::all(client)),
    };
    Controller::new(deployments, watcher::Config::default())
        .owns(services, watcher::Config::default())
        .run(reconcile, error_policy, operator)
        .for_each(|result| async {
            if let Err(error) = result {
                tracing::debug!(%error, "simulated FlinkDeployment controller step failed");
            }
        })
        .await;
}

fn error_policy(
    deployment: Arc<FlinkDeployment>,
    error: &SimulationError,
    operator: Arc<Operator>,
) -> Action {
    let message = format!(
        "FlinkDeployment {}/{}: {error}",
        deployment.namespace().unwrap_or_default(),
        deployment.name_any()
    );
    let object = reference(deployment.as_ref());
    tokio::spawn(async move { operator.reporter.report(Some(&object), &message).await });
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile(
    deployment: Arc<FlinkDeployment>,
    operator: Arc<Operator>,
) -> Result<Action, SimulationError> {
    let namespace = deployment.namespace().unwrap_or_default();
    let api: Api<FlinkDeployment> = Api::namespaced(operator.client.clone(), &namespace);
    finalizer(&api, OPERATOR_FINALIZER, deployment, |event| async {
        match event {
            Event::Apply(deployment) => apply(&operator, &api, &deployment).await,
            Event::Cleanup(deployment) => tear_down(&operator, &deployment).await,
        }
    })
    .await
    .map_err(|error| SimulationError::Finalizer(Box::new(error)))
}

async fn apply(
    operator: &Operator,
    api: &Api<FlinkDeployment>,
    deployment: &FlinkDeployment,
) -> Result<Action, kube::Error> {
    let spec = serde_json::to_value(&deployment.spec).map_err(kube::Error::SerdeError)?;
    let current = deployment.status.clone().unwrap_or_default();
    let step = step(
        &Seen {
            name: &deployment.name_any(),
            generation: deployment.metadata.generation.unwrap_or_default(),
            spec: &spec,
            fail: deployment
                .annotations()
                .get(FAIL_ANNOTATION)
                .map(String::as_str),
            finish: deployment.annotations().contains_key(FINISH_ANNOTATION),
            job_manager: match &operator.native {
                Some(native) if !has_job(&spec) => {
                    Some(observe_job_manager(operator, native, deployment).await)
                }
                _ => None,
            },
        },
        &current,
        &operator.config,
    );
    let mut step = step;
    let object = reference(deployment);
    for (kind, reason, message) in &step.events {
        if let Err(error) =
            record(&operator.client, &object, kind, reason, message, "Operator").await
        {
            operator
                .reporter
                .report(
                    Some(&object),
                    &format!(
                        "{} could not record its {reason} Event: {error}",
                        operator.identity
                    ),
                )
                .await;
        }
    }
    let mut deploy_failed = false;
    if let Some(deployed) = &step.deploy {
        match &operator.native {
            Some(native) if !has_job(deployed) => {
                let configuration = effective_configuration(&operator.config, deployed);
                let (namespace, account) = &operator.service_account;
                if let Err(message) = native
                    .deploy_session(
                        deployment,
                        deployed,
                        &configuration,
                        &operator.config.log_files,
                        (namespace, account),
                    )
                    .await
                {
                    // As the operator's retry sees it: the attempt stays
                    // UPGRADING (`updateStatusBeforeDeploymentAttempt`), so the
                    // next reconcile deploys again, and the error stays until
                    // a deploy succeeds.
                    step.status.error = Some(reconciliation_error(&message));
                    step.status.job_manager_deployment_status = Some(Jm::Error);
                    if let Some(reconciliation) = step.status.reconciliation_status.as_mut() {
                        reconciliation.state = Some(ReconciliationState::Upgrading);
                    }
                    deploy_failed = true;
                }
            }
            _ => create_cluster_objects(operator, deployment, deployed).await?,
        }
    }
    if step.status == current {
        return Ok(if step.events.is_empty() {
            Action::requeue(Duration::from_secs(60))
        } else {
            Action::requeue(Duration::from_secs(15))
        });
    }
    api.patch_status(
        &deployment.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&status_patch(&step.status)),
    )
    .await?;
    Ok(Action::requeue(if deploy_failed {
        DEPLOY_RETRY
    } else {
        STEP
    }))
}

/// Time before a failed deploy is tried again.
const DEPLOY_RETRY: Duration = Duration::from_secs(10);

/// What one reconcile sees of a FlinkDeployment.
pub(super) struct Seen<'a> {
    pub name: &'a str,
    pub generation: i64,
    /// The spec as stored (JSON).
    pub spec: &'a Value,
    /// The simulator's failure annotation.
    pub fail: Option<&'a str>,
    /// The simulator's finish annotation.
    pub finish: bool,
    /// The JobManager as observed in the cluster, when Flink runs for real
    /// (`None`: the simulated walk).
    pub job_manager: Option<JobManagerSeen>,
}

/// What the observer sees of a real JobManager (`AbstractFlinkDeploymentObserver.observeJmDeployment`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum JobManagerSeen {
    /// No JobManager Deployment.
    Missing,
    /// Its Deployment is available and its REST port answers.
    PortReady,
    /// A container of a JobManager pod waits for a reason the operator
    /// counts as failure (`DeploymentFailedException.CONTAINER_ERROR_REASONS`);
    /// the message as `forContainerStatus` forms it.
    Failed(String),
    /// Anything else: being deployed.
    Deploying,
}

/// The reasons of a waiting container that fail a deployment
/// (`DeploymentFailedException.CONTAINER_ERROR_REASONS`, release-1.15.0).
const CONTAINER_ERROR_REASONS: [&str; 6] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "RunContainerError",
    "CreateContainerConfigError",
    "OOMKilled",
];

/// Looks at the JobManager Deployment, its pods and its REST port, as the
/// operator's observer does.
async fn observe_job_manager(
    operator: &Operator,
    native: &super::native::NativeClient,
    deployment: &FlinkDeployment,
) -> JobManagerSeen {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Pod;
    let name = deployment.name_any();
    let namespace = deployment.namespace().unwrap_or_default();
    let deployments: Api<Deployment> = Api::namespaced(operator.client.clone(), &namespace);
    let Ok(Some(job_manager)) = deployments.get_opt(&name).await else {
        return JobManagerSeen::Missing;
    };
    let available = job_manager
        .status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0);
    if available > 0 && native.rest_answers(&name, &namespace).await.is_some() {
        return JobManagerSeen::PortReady;
    }
    let pods: Api<Pod> = Api::namespaced(operator.client.clone(), &namespace);
    let selector = format!("app={name},component=jobmanager,type=flink-native-kubernetes");
    let list = pods
        .list(&kube::api::ListParams::default().labels(&selector))
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    for pod in list {
        for container in pod
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
        {
            let Some(waiting) = container.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
                continue;
            };
            let reason = waiting.reason.clone().unwrap_or_default();
            if !CONTAINER_ERROR_REASONS.contains(&reason.as_str()) {
                continue;
            }
            let crash = (reason == "CrashLoopBackOff")
                .then(|| {
                    container
                        .last_state
                        .as_ref()?
                        .terminated
                        .as_ref()?
                        .message
                        .clone()
                })
                .flatten()
                .map(|message| format!("CrashLoop - {message}"));
            let message = crash
                .or_else(|| waiting.message.clone())
                .unwrap_or_default();
            return JobManagerSeen::Failed(format!("[{}] {message}", container.name));
        }
    }
    JobManagerSeen::Deploying
}

/// What one reconcile does.
pub(super) struct Step {
    pub status: FlinkDeploymentStatus,
    /// Events to record: type, reason, message.
    pub events: Vec<(&'static str, &'static str, String)>,
    /// The spec whose cluster objects are (re)created now.
    pub deploy: Option<Value>,
}

fn effective_configuration(config: &OperatorConfig, spec: &Value) -> BTreeMap<String, String> {
    let version = spec
        .get("flinkVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut configuration = config.cluster_defaults(version);
    configuration.extend(flat_configuration(spec));
    configuration
}

fn has_job(spec: &Value) -> bool {
    spec.get("job").is_some_and(|job| !job.is_null())
}

fn first_deployment_flag(text: Option<&str>) -> bool {
    text.and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| {
            v.pointer("/resource_metadata/firstDeployment")
                .and_then(Value::as_bool)
        })
        .unwrap_or(false)
}

/// One reconcile of a FlinkDeployment: pure, from what it sees to the next status.
pub(super) fn step(seen: &Seen, current: &FlinkDeploymentStatus, config: &OperatorConfig) -> Step {
    let mut next = current.clone();
    let mut events = Vec::new();
    if let Some(version) = seen.spec.get("flinkVersion").and_then(Value::as_str)
        && !is_supported(version)
    {
        events.push((
            "Warning",
            "UnsupportedFlinkVersion",
            unsupported_version_message(version),
        ));
        return Step {
            status: next,
            events,
            deploy: None,
        };
    }
    let recorded = last_reconciled(current.reconciliation_status.as_ref());
    let configuration = effective_configuration(config, seen.spec);
    let valid = validate_deployment(seen.name, seen.spec, recorded.as_ref(), &configuration);
    let state = current.reconciliation_status.as_ref().and_then(|r| r.state);
    let target = match (valid, &recorded) {
        (Ok(()), _) => {
            next.error = None;
            seen.spec.clone()
        }
        (Err(message), recorded) => {
            next.error = Some(validation_error(&message));
            events.push(("Warning", "ValidationError", message));
            match recorded {
                None => {
                    finish(&mut next, current, false, seen.fail);
                    return Step {
                        status: next,
                        events,
                        deploy: None,
                    };
                }
                // The last valid spec keeps being reconciled.
                Some(last) if state == Some(ReconciliationState::Upgrading) => {
                    with_job_state(last, "running")
                }
                Some(last) => last.clone(),
            }
        }
    };
    let target_valid = next.error.is_none();
    let application = has_job(&target);
    let configuration = effective_configuration(config, &target);
    let desired = job_state(&target).to_owned();
    let job_spec: JobSpec = target
        .get("job")
        .and_then(|job| serde_json::from_value(job.clone()).ok())
        .unwrap_or_default();
    let world = |upgrading: bool| JobWorld {
        spec: &job_spec,
        upgrading,
        savepoint_dir: savepoint_dir(&configuration),
        fail: None,
        finish: seen.finish,
        now_ms: now_ms(),
    };
    let mut deploy = None;
    let reconciliation = next.reconciliation_status.get_or_insert_default();
    let recorded_text = reconciliation.last_reconciled_spec.clone();
    match &recorded {
        // The deploy attempt recorded before: submit now.
        Some(last)
            if state == Some(ReconciliationState::Upgrading)
                && same_deployment(&target, last)
                && desired == "running"
                && (!application || job_state(last) == "suspended") =>
        {
            reconciliation.state = Some(ReconciliationState::Deployed);
            reconciliation.last_reconciled_spec = Some(spec_with_meta(
                &with_job_state(last, &desired),
                first_deployment_flag(recorded_text.as_deref()),
            ));
            reconciliation.reconciliation_timestamp = Some(now_ms());
            next.job_manager_deployment_status = Some(Jm::Deploying);
            if application {
                let mut job = next.job_status.clone().unwrap_or_default();
                job.job_name.get_or_insert_with(|| seen.name.to_owned());
                job.job_id
                    .get_or_insert_with(|| uuid::Uuid::new_v4().simple().to_string());
                job.state = Some("RECONCILING".into());
                job.start_time = Some(now_ms().to_string());
                job.update_time = job.start_time.clone();
                next.job_status = Some(job);
                next.task_manager = Some(TaskManagerInfo {
                    label_selector: Some(format!("component=taskmanager,app={}", seen.name)),
                    replicas: Some(task_managers(&target, &configuration) as i32),
                });
            }
            deploy = Some(target.clone());
        }
        // Deployed as asked: observe (fields applied without a redeploy are recorded).
        Some(last) if same_deployment(&target, last) && job_state(last) == desired => {
            if with_job_state(&target, &desired) != *last && target_valid {
                reconciliation.last_reconciled_spec = Some(spec_with_meta(
                    &target,
                    first_deployment_flag(recorded_text.as_deref()),
                ));
            }
            reconciliation.state = Some(ReconciliationState::Deployed);
            observe(seen, &mut next, &target, &configuration, world(false));
        }
        // A running application asked to suspend: through a savepoint, then the cluster goes.
        Some(_) if application && desired == "suspended" => {
            match next_job(&next.job_status.clone().unwrap_or_default(), world(false)) {
                Ok((job, _)) => {
                    next.job_status = Some(job);
                    let reconciliation = next.reconciliation_status.get_or_insert_default();
                    reconciliation.state = Some(ReconciliationState::Deployed);
                    reconciliation.last_reconciled_spec = Some(spec_with_meta(&target, false));
                    reconciliation.reconciliation_timestamp = Some(now_ms());
                    next.job_manager_deployment_status = Some(Jm::Missing);
                    next.task_manager = Some(TaskManagerInfo {
                        label_selector: Some(String::new()),
                        replicas: Some(0),
                    });
                    next.observed_generation = Some(seen.generation);
                }
                Err(message) => next.error = Some(reconciliation_error(&message)),
            }
        }
        // New, changed or resumed: record the deploy attempt (UPGRADING) first.
        _ => {
            let first = recorded.is_none();
            let running =
                next.job_status.as_ref().and_then(|j| j.state.as_deref()) == Some("RUNNING");
            if application && !first && running {
                match next_job(&next.job_status.clone().unwrap_or_default(), world(true)) {
                    Ok((job, _)) => next.job_status = Some(job),
                    Err(message) => {
                        next.error = Some(reconciliation_error(&message));
                        finish(&mut next, current, application, seen.fail);
                        return Step {
                            status: next,
                            events,
                            deploy: None,
                        };
                    }
                }
            }
            let mut recorded_spec = if first {
                first_deployment_spec(&target)
            } else {
                target.clone()
            };
            if application {
                recorded_spec = with_job_state(&recorded_spec, "suspended");
            }
            let reconciliation = next.reconciliation_status.get_or_insert_default();
            reconciliation.state = Some(ReconciliationState::Upgrading);
            reconciliation.last_reconciled_spec = Some(spec_with_meta(&recorded_spec, first));
            reconciliation.reconciliation_timestamp = Some(now_ms());
            next.job_manager_deployment_status =
                Some(if first { Jm::Missing } else { Jm::Deploying });
        }
    }
    // A rejected spec leaves the generation of the last valid one.
    if target_valid {
        next.observed_generation = Some(seen.generation);
    }
    finish(&mut next, current, application, seen.fail);
    Step {
        status: next,
        events,
        deploy,
    }
}

/// The observer's step: the JobManager's walk, then the job's, and the
/// stable spec once the cluster (or its job) runs.
fn observe(
    seen: &Seen,
    next: &mut FlinkDeploymentStatus,
    target: &Value,
    configuration: &BTreeMap<String, String>,
    world: JobWorld,
) {
    let application = has_job(target);
    if let Some(message) = seen.fail {
        next.job_manager_deployment_status = Some(Jm::Error);
        next.error = Some(reconciliation_error(message));
        if let Some(job) = next.job_status.as_mut() {
            job.state = Some("FAILED".into());
        }
        return;
    }
    if application && job_state(target) == "suspended" {
        next.job_manager_deployment_status = Some(Jm::Missing);
        return;
    }
    let was = next.job_manager_deployment_status;
    next.job_manager_deployment_status = Some(match (&seen.job_manager, was) {
        // The simulated walk.
        (None, None | Some(Jm::Missing | Jm::Error)) => Jm::Deploying,
        (None, Some(Jm::Deploying)) => Jm::DeployedNotReady,
        (None, Some(Jm::DeployedNotReady | Jm::Ready)) => Jm::Ready,
        // What a real JobManager shows.
        (Some(JobManagerSeen::PortReady), Some(Jm::DeployedNotReady | Jm::Ready)) => Jm::Ready,
        (Some(JobManagerSeen::PortReady), _) => Jm::DeployedNotReady,
        (Some(JobManagerSeen::Deploying), _) => Jm::Deploying,
        (Some(JobManagerSeen::Failed(message)), _) => {
            next.error = Some(deployment_failed_error(message));
            Jm::Error
        }
        (Some(JobManagerSeen::Missing), _) => {
            if !matches!(was, Some(Jm::Missing | Jm::Error)) {
                next.error = Some(reconciliation_error("Missing JobManager deployment"));
            }
            Jm::Missing
        }
    });
    if matches!(seen.job_manager, Some(JobManagerSeen::PortReady)) && was == Some(Jm::Error) {
        next.error = None;
    }
    if was != Some(Jm::Ready) {
        return;
    }
    let tms = if application {
        task_managers(target, configuration)
    } else {
        target
            .pointer("/taskManager/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    next.cluster_info = Some(cluster_info(target, configuration, tms));
    let stable = if application {
        match next_job(&next.job_status.clone().unwrap_or_default(), world) {
            Ok((job, _)) => {
                let runs = matches!(job.state.as_deref(), Some("RUNNING" | "FINISHED"));
                next.job_status = Some(job);
                runs
            }
            Err(message) => {
                next.error = Some(reconciliation_error(&message));
                false
            }
        }
    } else {
        true
    };
    if stable && let Some(reconciliation) = next.reconciliation_status.as_mut() {
        reconciliation.last_stable_spec = reconciliation.last_reconciled_spec.clone();
    }
}

/// The fields every reconcile sets last: the `Running` condition and the lifecycle.
fn finish(
    next: &mut FlinkDeploymentStatus,
    current: &FlinkDeploymentStatus,
    application: bool,
    fail: Option<&str>,
) {
    let has_spec = next
        .reconciliation_status
        .as_ref()
        .is_some_and(|r| r.last_reconciled_spec.is_some());
    if has_spec {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        next.conditions = Some(vec![running_condition(
            application,
            next.job_status.as_ref().and_then(|j| j.state.as_deref()),
            next.job_manager_deployment_status,
            current.conditions.as_deref(),
            &now,
        )]);
    } else {
        next.reconciliation_status = current.reconciliation_status.clone();
    }
    let derived = lifecycle(LifecycleInputs {
        reconciliation: next.reconciliation_status.as_ref(),
        error: next.error.as_deref(),
        job_state: next.job_status.as_ref().and_then(|j| j.state.as_deref()),
        job_manager: next.job_manager_deployment_status,
    });
    // The simulator's failure annotation stands for a deployment that failed.
    next.lifecycle_state = Some(if fail.is_some() {
        Lifecycle::Failed
    } else {
        derived
    });
}

/// The objects Flink's native Kubernetes client creates for a cluster (the
/// JobManager Deployment aside: no Flink process runs): Services
/// `<name>-rest` and `<name>`, ConfigMap `flink-config-<name>`, as the operator.
async fn create_cluster_objects(
    operator: &Operator,
    deployment: &FlinkDeployment,
    spec: &Value,
) -> Result<(), kube::Error> {
    let name = deployment.name_any();
    let namespace = deployment.namespace().unwrap_or_default();
    let owner = deployment
        .controller_owner_ref(&())
        .map(|owner| vec![owner]);
    let labels = json!({"app": name, "type": "flink-native-kubernetes"});
    let selector =
        json!({"app": name, "component": "jobmanager", "type": "flink-native-kubernetes"});
    let rest = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": format!("{name}-rest"), "namespace": namespace, "labels": labels, "ownerReferences": owner},
        "spec": {"type": "ClusterIP", "selector": selector,
                 "ports": [{"name": "rest", "port": 8081, "targetPort": 8081, "protocol": "TCP"}]},
    });
    let internal = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "ownerReferences": owner},
        "spec": {"clusterIP": "None", "selector": selector, "ports": [
            {"name": "jobmanager-rpc", "port": 6123, "targetPort": 6123, "protocol": "TCP"},
            {"name": "blobserver", "port": 6124, "targetPort": 6124, "protocol": "TCP"},
        ]},
    });
    let mut configuration = effective_configuration(&operator.config, spec);
    configuration.insert("kubernetes.cluster-id".into(), name.clone());
    configuration.insert("kubernetes.namespace".into(), namespace.clone());
    let text: String = configuration
        .iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect();
    let file = match spec.get("flinkVersion").and_then(Value::as_str) {
        Some(v) if v.starts_with("v2") => "config.yaml",
        _ => "flink-conf.yaml",
    };
    let mut data = serde_json::Map::new();
    data.insert(file.into(), json!(text));
    if let Some(logs) = spec.get("logConfiguration").and_then(Value::as_object) {
        for (key, value) in logs {
            data.insert(key.clone(), value.clone());
        }
    }
    let config_map = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("flink-config-{name}"), "namespace": namespace, "labels": labels, "ownerReferences": owner},
        "data": data,
    });
    let params = PatchParams::apply(SIMULATOR_MANAGER).force();
    let services: Api<Service> = Api::namespaced(operator.client.clone(), &namespace);
    services
        .patch(&format!("{name}-rest"), &params, &Patch::Apply(&rest))
        .await?;
    services
        .patch(&name, &params, &Patch::Apply(&internal))
        .await?;
    let config_maps: Api<ConfigMap> = Api::namespaced(operator.client.clone(), &namespace);
    config_maps
        .patch(
            &format!("flink-config-{name}"),
            &params,
            &Patch::Apply(&config_map),
        )
        .await?;
    Ok(())
}

/// What the operator does before it lets a FlinkDeployment go: it deletes the
/// cluster's objects. (Their owner references would also get them collected,
/// but only once the garbage collector's discovery knows the Flink kinds.)
async fn tear_down(
    operator: &Operator,
    deployment: &FlinkDeployment,
) -> Result<Action, kube::Error> {
    let name = deployment.name_any();
    let namespace = deployment.namespace().unwrap_or_default();
    let services: Api<Service> = Api::namespaced(operator.client.clone(), &namespace);
    let config_maps: Api<ConfigMap> = Api::namespaced(operator.client.clone(), &namespace);
    let gone = |result: Result<_, kube::Error>| match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(error),
    };
    let params = DeleteParams::default();
    gone(
        services
            .delete(&format!("{name}-rest"), &params)
            .await
            .map(|_| ()),
    )?;
    gone(services.delete(&name, &params).await.map(|_| ()))?;
    if operator.native.is_some() {
        // Flink's killCluster, and the operator's deletion of HA data.
        let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(operator.client.clone(), &namespace);
        gone(deployments.delete(&name, &params).await.map(|_| ()))?;
        let ha = kube::api::ListParams::default()
            .labels(&format!("app={name},configmap-type=high-availability"));
        gone(
            config_maps
                .delete_collection(&params, &ha)
                .await
                .map(|_| ()),
        )?;
    }
    gone(
        config_maps
            .delete(&format!("flink-config-{name}"), &params)
            .await
            .map(|_| ()),
    )?;
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests;
