//! A container's environment resolved as the kubelet resolves it
//! (`makeEnvironmentVariables` in kubernetes v1.34 `pkg/kubelet/kubelet_pods.go`):
//! `envFrom` first, then `env` in order (`$(VAR)` references expanded against
//! what came before), ConfigMap and Secret references read from the API server,
//! downward-API fields from the pod; plus what every pod gets (`HOSTNAME`,
//! `KUBERNETES_SERVICE_HOST`/`PORT` of the API server).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret};
use kube::Client;
use kube::api::Api;

use crate::catalog::quantity::{Quantity, QuantityKind};

/// Why a container's environment cannot be made; the text is the kubelet's,
/// shown as the waiting reason `CreateContainerConfigError`'s message.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("configmap \"{0}\" not found")]
    ConfigMapNotFound(String),
    #[error("secret \"{0}\" not found")]
    SecretNotFound(String),
    #[error("couldn't find key {key} in ConfigMap {namespace}/{name}")]
    ConfigMapKey {
        key: String,
        namespace: String,
        name: String,
    },
    #[error("couldn't find key {key} in Secret {namespace}/{name}")]
    SecretKey {
        key: String,
        namespace: String,
        name: String,
    },
    #[error("unsupported fieldPath: {0}")]
    FieldPath(String),
    #[error("{0}")]
    Api(#[from] kube::Error),
}

/// The value of a downward-API `fieldPath` for `pod` (`metadata.name`,
/// `metadata.namespace`, `metadata.uid`, `metadata.labels['k']`,
/// `metadata.annotations['k']`, `spec.nodeName`, `spec.serviceAccountName`,
/// `status.podIP`, `status.hostIP`).
pub fn field_value(pod: &Pod, path: &str) -> Option<String> {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let keyed = |prefix: &str, map: Option<&BTreeMap<String, String>>| {
        let key = path.strip_prefix(prefix)?.strip_suffix("']")?;
        Some(map.and_then(|m| m.get(key)).cloned().unwrap_or_default())
    };
    match path {
        "metadata.name" => meta.name.clone(),
        "metadata.namespace" => meta.namespace.clone(),
        "metadata.uid" => meta.uid.clone(),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()),
        "spec.serviceAccountName" => spec.and_then(|s| s.service_account_name.clone()),
        "status.podIP" => status.and_then(|s| s.pod_ip.clone()),
        "status.hostIP" => status.and_then(|s| s.host_ip.clone()),
        _ => keyed("metadata.labels['", meta.labels.as_ref())
            .or_else(|| keyed("metadata.annotations['", meta.annotations.as_ref())),
    }
}

/// Looks ConfigMaps and Secrets up once per container start.
struct Lookup<'a> {
    client: &'a Client,
    namespace: &'a str,
    config_maps: BTreeMap<String, Option<ConfigMap>>,
    secrets: BTreeMap<String, Option<Secret>>,
}

impl Lookup<'_> {
    async fn config_map(&mut self, name: &str) -> Result<Option<&ConfigMap>, EnvError> {
        if !self.config_maps.contains_key(name) {
            let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), self.namespace);
            self.config_maps
                .insert(name.to_owned(), api.get_opt(name).await?);
        }
        Ok(self.config_maps.get(name).and_then(Option::as_ref))
    }

    async fn secret(&mut self, name: &str) -> Result<Option<&Secret>, EnvError> {
        if !self.secrets.contains_key(name) {
            let api: Api<Secret> = Api::namespaced(self.client.clone(), self.namespace);
            self.secrets
                .insert(name.to_owned(), api.get_opt(name).await?);
        }
        Ok(self.secrets.get(name).and_then(Option::as_ref))
    }
}

fn config_map_data(config_map: &ConfigMap) -> BTreeMap<String, String> {
    config_map.data.clone().unwrap_or_default()
}

fn secret_data(secret: &Secret) -> BTreeMap<String, String> {
    let mut data: BTreeMap<String, String> = secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
        .collect();
    data.extend(secret.string_data.clone().unwrap_or_default());
    data
}

/// The container's own variables (`envFrom`, then `env`), in order; later
/// entries of the same name win when the caller collects them.
pub async fn resolve(
    client: &Client,
    pod: &Pod,
    container: &Container,
) -> Result<Vec<(String, String)>, EnvError> {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let mut lookup = Lookup {
        client,
        namespace: &namespace,
        config_maps: BTreeMap::new(),
        secrets: BTreeMap::new(),
    };
    let mut env: Vec<(String, String)> = Vec::new();
    for source in container.env_from.iter().flatten() {
        let prefix = source.prefix.clone().unwrap_or_default();
        if let Some(reference) = &source.config_map_ref {
            match lookup.config_map(&reference.name).await? {
                Some(cm) => env.extend(
                    config_map_data(cm)
                        .into_iter()
                        .map(|(k, v)| (format!("{prefix}{k}"), v)),
                ),
                None if reference.optional == Some(true) => {}
                None => return Err(EnvError::ConfigMapNotFound(reference.name.clone())),
            }
        }
        if let Some(reference) = &source.secret_ref {
            match lookup.secret(&reference.name).await? {
                Some(secret) => env.extend(
                    secret_data(secret)
                        .into_iter()
                        .map(|(k, v)| (format!("{prefix}{k}"), v)),
                ),
                None if reference.optional == Some(true) => {}
                None => return Err(EnvError::SecretNotFound(reference.name.clone())),
            }
        }
    }
    for var in container.env.iter().flatten() {
        let value = match &var.value_from {
            None => Some(expand(var.value.as_deref().unwrap_or_default(), &env)),
            Some(from) => {
                if let Some(key) = &from.config_map_key_ref {
                    match lookup.config_map(&key.name).await? {
                        Some(cm) => match config_map_data(cm).remove(&key.key) {
                            Some(value) => Some(value),
                            None if key.optional == Some(true) => None,
                            None => {
                                return Err(EnvError::ConfigMapKey {
                                    key: key.key.clone(),
                                    namespace: namespace.clone(),
                                    name: key.name.clone(),
                                });
                            }
                        },
                        None if key.optional == Some(true) => None,
                        None => return Err(EnvError::ConfigMapNotFound(key.name.clone())),
                    }
                } else if let Some(key) = &from.secret_key_ref {
                    match lookup.secret(&key.name).await? {
                        Some(secret) => match secret_data(secret).remove(&key.key) {
                            Some(value) => Some(value),
                            None if key.optional == Some(true) => None,
                            None => {
                                return Err(EnvError::SecretKey {
                                    key: key.key.clone(),
                                    namespace: namespace.clone(),
                                    name: key.name.clone(),
                                });
                            }
                        },
                        None if key.optional == Some(true) => None,
                        None => return Err(EnvError::SecretNotFound(key.name.clone())),
                    }
                } else if let Some(field) = &from.field_ref {
                    Some(
                        field_value(pod, &field.field_path)
                            .ok_or_else(|| EnvError::FieldPath(field.field_path.clone()))?,
                    )
                } else {
                    from.resource_field_ref
                        .as_ref()
                        .map(|resource| resource_value(container, &resource.resource))
                }
            }
        };
        if let Some(value) = value {
            env.push((var.name.clone(), value));
        }
    }
    Ok(env)
}

/// `limits.memory`/`requests.memory` in bytes, `limits.cpu`/`requests.cpu`
/// rounded up to whole cores (the divisor 1), as the kubelet gives them.
fn resource_value(container: &Container, resource: &str) -> String {
    let resources = container.resources.as_ref();
    let (kind, name) = resource.split_once('.').unwrap_or(("limits", resource));
    let map = match kind {
        "requests" => resources.and_then(|r| r.requests.as_ref()),
        _ => resources.and_then(|r| r.limits.as_ref()),
    };
    let quantity = map
        .and_then(|m| m.get(name))
        .map(|q| q.0.clone())
        .unwrap_or_default();
    let kind = if name == "cpu" {
        QuantityKind::Cpu
    } else {
        QuantityKind::Bytes
    };
    match Quantity::parse(&quantity, kind) {
        Ok(q) if name == "cpu" => (q.value.ceil() as u64).max(1).to_string(),
        Ok(q) => (q.value as u64).to_string(),
        Err(_) => String::new(),
    }
}

/// `$(NAME)` expanded against the variables defined before; `$$` escapes a
/// `$`; unknown references stay as written (Kubernetes' `expansion.Expand`).
fn expand(value: &str, env: &[(String, String)]) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
        {
            let name = &inner[..end];
            match env.iter().rev().find(|(k, _)| k == name) {
                Some((_, v)) => out.push_str(v),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_expand_like_kubernetes() {
        let env = vec![("A".to_owned(), "x".to_owned())];
        assert_eq!(expand("$(A)-$(B)-$$(A)-$", &env), "x-$(B)-$(A)-$");
    }

    #[test]
    fn downward_fields_read_the_pod() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n", "labels": {"app": "a"}},
            "spec": {"containers": [], "nodeName": "node"},
            "status": {"podIP": "127.1.0.2"},
        }))
        .expect("pod");
        assert_eq!(
            field_value(&pod, "status.podIP").as_deref(),
            Some("127.1.0.2")
        );
        assert_eq!(
            field_value(&pod, "metadata.labels['app']").as_deref(),
            Some("a")
        );
        assert_eq!(
            field_value(&pod, "metadata.labels['none']").as_deref(),
            Some("")
        );
        assert_eq!(field_value(&pod, "spec.nodeName").as_deref(), Some("node"));
        assert_eq!(field_value(&pod, "status.nothing"), None);
    }
}
