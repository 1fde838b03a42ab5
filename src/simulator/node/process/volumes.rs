//! A pod's volumes materialized as folders under its sandbox, as the kubelet's
//! volume plugins do (`pkg/volume/{configmap,secret,downwardapi,projected,emptydir}`
//! in kubernetes v1.34): ConfigMap and Secret keys as files (`items` projected
//! when given, `optional` honoured), downward-API fields, projected volumes
//! with a ServiceAccount token from the TokenRequest API, and emptyDir.
//! Other volume kinds (persistentVolumeClaim, hostPath, ...) become empty
//! folders: nothing is kept across the pod's life, which is what a pod on a
//! fresh node sees of a volume it cannot mount anyway.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, ServiceAccount, Volume,
};
use kube::Client;
use kube::api::{Api, PostParams};

use super::env::field_value;

/// Why a volume could not be set up; the text is the kubelet's, which it puts
/// after `MountVolume.SetUp failed for volume "<name>" : ` in a `FailedMount` Event.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("configmap \"{0}\" not found")]
    ConfigMapNotFound(String),
    #[error("secret \"{0}\" not found")]
    SecretNotFound(String),
    #[error("configmap references non-existent config key: {0}")]
    ConfigMapKey(String),
    #[error("secret references non-existent secret key: {0}")]
    SecretKey(String),
    #[error("failed to fetch token: {0}")]
    Token(String),
    #[error("{0}")]
    Api(#[from] kube::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The folders of a pod's volumes, by volume name.
#[derive(Debug, Default, Clone)]
pub struct Volumes(BTreeMap<String, PathBuf>);

/// Where a container's paths are on this machine: its volume mounts, longest
/// mount path first.
#[derive(Debug, Default, Clone)]
pub struct Mounts(Vec<(String, PathBuf)>);

impl Mounts {
    /// The folders a container sees at its `volumeMounts` (with `subPath`).
    pub fn of(container: &Container, volumes: &Volumes) -> Mounts {
        let mut mounts: Vec<(String, PathBuf)> = container
            .volume_mounts
            .iter()
            .flatten()
            .filter_map(|mount| {
                let base = volumes.0.get(&mount.name)?;
                let path = match mount.sub_path.as_deref() {
                    Some(sub) if !sub.is_empty() => base.join(sub),
                    _ => base.clone(),
                };
                Some((mount.mount_path.trim_end_matches('/').to_owned(), path))
            })
            .collect();
        mounts.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        Mounts(mounts)
    }

    /// Every mount as `(path in the container, local path)`, parents first.
    pub fn all(&self) -> Vec<(String, PathBuf)> {
        let mut all = self.0.clone();
        all.sort_by_key(|(path, _)| path.len());
        all
    }

    /// The local path of a path inside the container, when a volume holds it.
    pub fn resolve(&self, container_path: &str) -> Option<PathBuf> {
        self.0.iter().find_map(|(mount, local)| {
            let rest = container_path.strip_prefix(mount.as_str())?;
            if rest.is_empty() {
                Some(local.clone())
            } else {
                rest.strip_prefix('/').map(|rest| local.join(rest))
            }
        })
    }

    /// The mount paths, longest first (for rewriting paths in files).
    pub fn paths(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.0.iter().map(|(m, l)| (m.as_str(), l.as_path()))
    }
}

impl Volumes {
    /// Sets up every volume of `pod` under `dir` (written afresh each call,
    /// so a retry after a missing ConfigMap appeared sees it).
    pub async fn mount(
        client: &Client,
        pod: &Pod,
        dir: &Path,
    ) -> Result<Volumes, (String, MountError)> {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let mut volumes = Volumes::default();
        for volume in pod
            .spec
            .iter()
            .flat_map(|spec| spec.volumes.iter().flatten())
        {
            let path = dir.join(&volume.name);
            mount_one(client, pod, &namespace, volume, &path)
                .await
                .map_err(|error| (volume.name.clone(), error))?;
            volumes.0.insert(volume.name.clone(), path);
        }
        Ok(volumes)
    }
}

async fn mount_one(
    client: &Client,
    pod: &Pod,
    namespace: &str,
    volume: &Volume,
    path: &Path,
) -> Result<(), MountError> {
    // Atomic-writer semantics are not needed: nothing reads before start.
    let _ = tokio::fs::remove_dir_all(path).await;
    tokio::fs::create_dir_all(path).await?;
    if let Some(source) = &volume.config_map {
        let files = config_map_files(
            client,
            namespace,
            &source.name,
            source.items.as_deref(),
            source.optional,
        )
        .await?;
        write_files(path, files).await?;
    } else if let Some(source) = &volume.secret {
        let name = source.secret_name.clone().unwrap_or_default();
        let files = secret_files(
            client,
            namespace,
            &name,
            source.items.as_deref(),
            source.optional,
        )
        .await?;
        write_files(path, files).await?;
    } else if let Some(source) = &volume.downward_api {
        write_files(path, downward_files(pod, source.items.as_deref())).await?;
    } else if let Some(projected) = &volume.projected {
        let mut files = Vec::new();
        for source in projected.sources.iter().flatten() {
            if let Some(cm) = &source.config_map {
                files.extend(
                    config_map_files(
                        client,
                        namespace,
                        &cm.name,
                        cm.items.as_deref(),
                        cm.optional,
                    )
                    .await?,
                );
            }
            if let Some(secret) = &source.secret {
                files.extend(
                    secret_files(
                        client,
                        namespace,
                        &secret.name,
                        secret.items.as_deref(),
                        secret.optional,
                    )
                    .await?,
                );
            }
            if let Some(downward) = &source.downward_api {
                files.extend(downward_files(pod, downward.items.as_deref()));
            }
            if let Some(token) = &source.service_account_token {
                let value = service_account_token(
                    client,
                    pod,
                    namespace,
                    token.audience.clone(),
                    token.expiration_seconds,
                )
                .await?;
                files.push((token.path.clone(), value.into_bytes()));
            }
        }
        write_files(path, files).await?;
    }
    Ok(())
}

async fn write_files(dir: &Path, files: Vec<(String, Vec<u8>)>) -> Result<(), MountError> {
    for (name, bytes) in files {
        let file = dir.join(name.trim_start_matches('/'));
        if let Some(parent) = file.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::write(&file, bytes).await?;
    }
    Ok(())
}

fn pick(
    data: BTreeMap<String, Vec<u8>>,
    items: Option<&[KeyToPath]>,
    missing: impl Fn(String) -> MountError,
) -> Result<Vec<(String, Vec<u8>)>, MountError> {
    match items {
        None => Ok(data.into_iter().collect()),
        Some(items) => items
            .iter()
            .map(|item| {
                data.get(&item.key)
                    .map(|bytes| (item.path.clone(), bytes.clone()))
                    .ok_or_else(|| missing(item.key.clone()))
            })
            .collect(),
    }
}

async fn config_map_files(
    client: &Client,
    namespace: &str,
    name: &str,
    items: Option<&[KeyToPath]>,
    optional: Option<bool>,
) -> Result<Vec<(String, Vec<u8>)>, MountError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let Some(config_map) = api.get_opt(name).await? else {
        return if optional == Some(true) {
            Ok(Vec::new())
        } else {
            Err(MountError::ConfigMapNotFound(name.to_owned()))
        };
    };
    let mut data: BTreeMap<String, Vec<u8>> = config_map
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.into_bytes()))
        .collect();
    data.extend(
        config_map
            .binary_data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0)),
    );
    pick(data, items, MountError::ConfigMapKey)
}

async fn secret_files(
    client: &Client,
    namespace: &str,
    name: &str,
    items: Option<&[KeyToPath]>,
    optional: Option<bool>,
) -> Result<Vec<(String, Vec<u8>)>, MountError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let Some(secret) = api.get_opt(name).await? else {
        return if optional == Some(true) {
            Ok(Vec::new())
        } else {
            Err(MountError::SecretNotFound(name.to_owned()))
        };
    };
    let mut data: BTreeMap<String, Vec<u8>> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    data.extend(
        secret
            .string_data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes())),
    );
    pick(data, items, MountError::SecretKey)
}

fn downward_files(pod: &Pod, items: Option<&[DownwardAPIVolumeFile]>) -> Vec<(String, Vec<u8>)> {
    items
        .unwrap_or_default()
        .iter()
        .filter_map(|item| {
            let field = item.field_ref.as_ref()?;
            Some((
                item.path.clone(),
                field_value(pod, &field.field_path)?.into_bytes(),
            ))
        })
        .collect()
}

/// A token for the pod's ServiceAccount, bound to the pod, as the kubelet's
/// projected `serviceAccountToken` source asks the TokenRequest API for one.
async fn service_account_token(
    client: &Client,
    pod: &Pod,
    namespace: &str,
    audience: Option<String>,
    expiration_seconds: Option<i64>,
) -> Result<String, MountError> {
    let account = pod
        .spec
        .as_ref()
        .and_then(|spec| spec.service_account_name.clone())
        .unwrap_or_else(|| "default".to_owned());
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: audience.into_iter().collect(),
            expiration_seconds: Some(expiration_seconds.unwrap_or(3607).max(3600)),
            bound_object_ref: Some(k8s_openapi::api::authentication::v1::BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
            }),
        },
        ..TokenRequest::default()
    };
    let answer = api
        .create_token_request(&account, &PostParams::default(), &request)
        .await
        .map_err(|error| MountError::Token(error.to_string()))?;
    answer
        .status
        .map(|status| status.token)
        .ok_or_else(|| MountError::Token("the API server returned no token".into()))
}
