//! Building blocks most apps render: a workload (Deployment or StatefulSet)
//! with its Service, and a Secret whose values are generated at first apply.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, ExecAction, HTTPGetAction, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PodSecurityContext, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, Secret, SecurityContext, Service, ServicePort, ServiceSpec,
    TCPSocketAction, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::render::{Object, RenderError, RenderInput, labels, object};

/// Annotation on a rendered Secret naming the keys whose values dataport
/// generates when it first creates the Secret. Rendered objects carry no
/// secret values: they are stored and previewed, the values never are.
pub const GENERATED_KEYS: &str = "dataport.io/generated-keys";

/// One container workload and the Service in front of it.
#[derive(Debug, Clone, Default)]
pub struct Workload {
    /// Suffix of the objects' names after the instance name (`""` for none).
    pub component: &'static str,
    /// Pods wanted.
    pub replicas: i32,
    /// Container image.
    pub image: String,
    /// Container command, replacing the image's entrypoint (the image's own when empty).
    pub command: Vec<String>,
    /// Container arguments.
    pub args: Vec<String>,
    /// Named container ports, also exposed by the Service.
    pub ports: Vec<(&'static str, i32)>,
    /// Environment.
    pub env: Vec<EnvVar>,
    /// CPU request and memory request and limit.
    pub cpu: Option<String>,
    /// Memory request and limit.
    pub memory: Option<String>,
    /// A persistent volume per pod: size and mount path (makes it a StatefulSet).
    pub storage: Option<(String, &'static str)>,
    /// Extra volumes and their mounts.
    pub volumes: Vec<(Volume, VolumeMount)>,
    /// The service account the pods run as (the namespace's default when `None`).
    pub service_account: Option<String>,
    /// When the pod receives traffic: the app's own health endpoint or port.
    pub readiness: Option<Probe>,
    /// When the kubelet restarts the container: the app's own liveness check.
    pub liveness: Option<Probe>,
    /// The pod's user, group and volume group, as the app's image or chart sets them.
    pub pod_security: Option<PodSecurityContext>,
    /// The container's security settings, as the app's chart sets them.
    pub container_security: Option<SecurityContext>,
    /// Containers run to completion before the main one (fetching libraries).
    pub init_containers: Vec<Container>,
    /// Volumes only the init containers mount.
    pub init_volumes: Vec<Volume>,
}

impl Workload {
    fn name(&self, input: &RenderInput) -> String {
        match self.component {
            "" => input.target.name.clone(),
            component => format!("{}-{component}", input.target.name),
        }
    }

    fn selector(&self, input: &RenderInput) -> BTreeMap<String, String> {
        let mut selector = input.selector();
        if !self.component.is_empty() {
            selector.insert(labels::COMPONENT.into(), self.component.into());
        }
        selector
    }

    /// The workload (a StatefulSet when it has storage, else a Deployment)
    /// and a Service of the same name on its ports.
    pub fn render(&self, input: &RenderInput) -> Result<Vec<Object>, RenderError> {
        let name = self.name(input);
        let selector = self.selector(input);
        let mut labels = input.labels();
        labels.extend(selector.clone());

        let mut mounts: Vec<VolumeMount> = self
            .volumes
            .iter()
            .map(|(_, mount)| mount.clone())
            .collect();
        if let Some((_, path)) = &self.storage {
            mounts.push(VolumeMount {
                name: "data".into(),
                mount_path: (*path).into(),
                ..VolumeMount::default()
            });
        }
        let resources = (self.cpu.is_some() || self.memory.is_some()).then(|| {
            let mut requests = BTreeMap::new();
            let mut limits = BTreeMap::new();
            if let Some(cpu) = &self.cpu {
                requests.insert("cpu".to_owned(), Quantity(cpu.clone()));
            }
            if let Some(memory) = &self.memory {
                requests.insert("memory".to_owned(), Quantity(memory.clone()));
                limits.insert("memory".to_owned(), Quantity(memory.clone()));
            }
            ResourceRequirements {
                requests: Some(requests),
                limits: (!limits.is_empty()).then_some(limits),
                ..ResourceRequirements::default()
            }
        });
        let container = Container {
            name: if self.component.is_empty() {
                input.target.app.into()
            } else {
                self.component.into()
            },
            image: Some(self.image.clone()),
            command: (!self.command.is_empty()).then(|| self.command.clone()),
            args: (!self.args.is_empty()).then(|| self.args.clone()),
            ports: Some(
                self.ports
                    .iter()
                    .map(|(port_name, port)| ContainerPort {
                        name: Some((*port_name).into()),
                        container_port: *port,
                        ..ContainerPort::default()
                    })
                    .collect(),
            ),
            env: (!self.env.is_empty()).then(|| self.env.clone()),
            resources,
            volume_mounts: (!mounts.is_empty()).then_some(mounts),
            readiness_probe: self.readiness.clone(),
            liveness_probe: self.liveness.clone(),
            security_context: self.container_security.clone(),
            ..Container::default()
        };
        let template = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(labels.clone()),
                ..ObjectMeta::default()
            }),
            spec: Some(PodSpec {
                containers: vec![container],
                init_containers: (!self.init_containers.is_empty())
                    .then(|| self.init_containers.clone()),
                service_account_name: self.service_account.clone(),
                security_context: self.pod_security.clone(),
                // A volume mounted more than once (files of one folder) is listed once.
                volumes: (!self.volumes.is_empty() || !self.init_volumes.is_empty()).then(|| {
                    let mut volumes: Vec<Volume> = Vec::new();
                    let all = self.volumes.iter().map(|(volume, _)| volume);
                    for volume in all.chain(&self.init_volumes) {
                        if !volumes.iter().any(|v| v.name == volume.name) {
                            volumes.push(volume.clone());
                        }
                    }
                    volumes
                }),
                ..PodSpec::default()
            }),
        };
        let label_selector = LabelSelector {
            match_labels: Some(selector.clone()),
            ..LabelSelector::default()
        };
        let mut metadata = input.metadata(name.clone());
        metadata.labels = Some(labels);

        let workload = match &self.storage {
            Some((size, _)) => object(&StatefulSet {
                metadata: metadata.clone(),
                spec: Some(StatefulSetSpec {
                    replicas: Some(self.replicas),
                    service_name: Some(name.clone()),
                    selector: label_selector,
                    template,
                    volume_claim_templates: Some(vec![PersistentVolumeClaim {
                        metadata: ObjectMeta {
                            name: Some("data".into()),
                            ..ObjectMeta::default()
                        },
                        spec: Some(PersistentVolumeClaimSpec {
                            access_modes: Some(vec!["ReadWriteOnce".into()]),
                            resources: Some(VolumeResourceRequirements {
                                requests: Some(BTreeMap::from([(
                                    "storage".to_owned(),
                                    Quantity(size.clone()),
                                )])),
                                ..VolumeResourceRequirements::default()
                            }),
                            ..PersistentVolumeClaimSpec::default()
                        }),
                        ..PersistentVolumeClaim::default()
                    }]),
                    ..StatefulSetSpec::default()
                }),
                ..StatefulSet::default()
            })?,
            None => object(&Deployment {
                metadata: metadata.clone(),
                spec: Some(DeploymentSpec {
                    replicas: Some(self.replicas),
                    selector: label_selector,
                    template,
                    ..DeploymentSpec::default()
                }),
                ..Deployment::default()
            })?,
        };
        // A StatefulSet's pods get stable DNS names through a headless Service.
        let stateful = self.storage.is_some();
        let service = object(&Service {
            metadata,
            spec: Some(ServiceSpec {
                cluster_ip: stateful.then(|| "None".to_owned()),
                publish_not_ready_addresses: stateful.then_some(true),
                selector: Some(selector),
                ports: Some(
                    self.ports
                        .iter()
                        .map(|(port_name, port)| ServicePort {
                            name: Some((*port_name).into()),
                            port: *port,
                            ..ServicePort::default()
                        })
                        .collect(),
                ),
                ..ServiceSpec::default()
            }),
            ..Service::default()
        })?;
        Ok(vec![workload, service])
    }
}

/// A Secret named `<instance>-<suffix>` whose `keys` dataport generates once.
pub fn generated_secret(
    input: &RenderInput,
    suffix: &str,
    keys: &[&str],
) -> Result<Object, RenderError> {
    let mut metadata = input.metadata(format!("{}-{suffix}", input.target.name));
    metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(GENERATED_KEYS.into(), keys.join(","));
    object(&Secret {
        metadata,
        type_: Some("Opaque".into()),
        ..Secret::default()
    })
}

/// An environment variable from a key of a Secret.
pub fn env_from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    use k8s_openapi::api::core::v1::{EnvVarSource, SecretKeySelector};
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                ..SecretKeySelector::default()
            }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

/// A plain environment variable.
pub fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

/// A service account with a role in the instance's namespace granting every
/// verb on `rules` (`(api groups, resources)`), and the binding between them:
/// for workloads that manage other objects (the operator, Flink's JobManager).
pub fn service_account_with_role(
    input: &RenderInput,
    account: &str,
    rules: &[(&[&str], &[&str])],
) -> Result<Vec<Object>, RenderError> {
    use k8s_openapi::api::core::v1::ServiceAccount;
    use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

    let strings = |items: &[&str]| {
        items
            .iter()
            .map(|item| item.to_string())
            .collect::<Vec<_>>()
    };
    let verbs = strings(&[
        "get", "list", "watch", "create", "update", "patch", "delete",
    ]);
    let service_account = ServiceAccount {
        metadata: input.metadata(account),
        ..ServiceAccount::default()
    };
    let role = Role {
        metadata: input.metadata(account),
        rules: Some(
            rules
                .iter()
                .map(|(groups, resources)| PolicyRule {
                    api_groups: Some(strings(groups)),
                    resources: Some(strings(resources)),
                    verbs: verbs.clone(),
                    ..PolicyRule::default()
                })
                .collect(),
        ),
    };
    let binding = RoleBinding {
        metadata: input.metadata(account),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: account.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: account.into(),
            namespace: Some(input.target.namespace.clone()),
            ..Subject::default()
        }]),
    };
    Ok(vec![
        object(&service_account)?,
        object(&role)?,
        object(&binding)?,
    ])
}

/// A ConfigMap mounted at `path` as the volume `volume` (only its `sub_path`
/// key when given).
pub fn config_map_volume(
    volume: &str,
    config_map: String,
    path: &str,
    sub_path: Option<&str>,
) -> (Volume, VolumeMount) {
    use k8s_openapi::api::core::v1::ConfigMapVolumeSource;
    (
        Volume {
            name: volume.into(),
            config_map: Some(ConfigMapVolumeSource {
                name: config_map,
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        VolumeMount {
            name: volume.into(),
            mount_path: path.into(),
            sub_path: sub_path.map(str::to_owned),
            ..VolumeMount::default()
        },
    )
}

/// A probe asking `path` over HTTP on the named container port, answered
/// below 400 when healthy.
pub fn http_probe(path: &str, port: &str) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String(port.into()),
            ..HTTPGetAction::default()
        }),
        ..Probe::default()
    }
}

/// A probe that opens a TCP connection to the named container port: for
/// servers without an HTTP health endpoint (thrift, a web UI without one).
pub fn tcp_probe(port: &str) -> Probe {
    Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String(port.into()),
            ..TCPSocketAction::default()
        }),
        ..Probe::default()
    }
}

/// A probe running `script` with `sh -c` in the container (exit 0 = healthy).
pub fn exec_probe(script: &str) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(vec!["sh".into(), "-c".into(), script.into()]),
        }),
        ..Probe::default()
    }
}

/// `probe` given `delay` seconds before its first check (for servers with a
/// slow first start), checked every `period` seconds, failing after `failures`.
pub fn timed(probe: Probe, delay: i32, period: i32, failures: i32) -> Probe {
    Probe {
        initial_delay_seconds: Some(delay),
        period_seconds: Some(period),
        failure_threshold: Some(failures),
        ..probe
    }
}

/// A pod that runs as `user`:`group` and owns its volumes through `fs_group`.
pub fn run_as(user: i64, group: i64, fs_group: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_user: Some(user),
        run_as_group: Some(group),
        fs_group: Some(fs_group),
        run_as_non_root: Some(true),
        ..PodSecurityContext::default()
    }
}
