//! Install: validate a request, resolve its references, render, preview, and
//! store the instance with its first revision and pending operation.

use std::collections::BTreeMap;

use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::audit::{Audited, masked_params};
use super::{Service, ServiceError};
use crate::catalog::params::{INSTANCE_NAME_MAX, is_dns_label};
use crate::catalog::render::{MASK, Object, RenderInput, Resolved, Target};
use crate::catalog::workload::GENERATED_KEYS;
use crate::catalog::{self, AppDefinition, FieldErrors, ParamKind, Values};
use crate::store::{InstanceStatus, NewInstance, StoreError};

/// What a user asks to install, from the form or the JSON API.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InstallRequest {
    /// Catalog app name.
    pub app: String,
    /// Instance name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// App version; the app's default when absent.
    #[serde(default)]
    pub version: Option<String>,
    /// Parameter values as text (form fields; the API's JSON values as text).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// A validated, resolved and rendered install, not yet written anywhere.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The app.
    pub app: &'static AppDefinition,
    /// The new instance's identity.
    pub target: Target,
    /// Its parameters, without secret values.
    pub values: Values,
    /// Secret values the user typed, by Secret name and key.
    secrets: BTreeMap<String, BTreeMap<String, String>>,
    /// The rendered objects, in apply order, without secret values.
    pub objects: Vec<Object>,
}

/// What the Preview button shows.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewView {
    /// The objects that would be applied, secret values masked.
    pub objects: Vec<Object>,
    /// The same as a YAML stream.
    pub yaml: String,
}

impl Service {
    /// Validates `request` (every field error at once), resolves its
    /// references in the store, and renders it.
    pub async fn prepare(&self, request: &InstallRequest) -> Result<Prepared, ServiceError> {
        let app = catalog::find(&request.app)
            .ok_or_else(|| ServiceError::AppNotFound(request.app.clone()))?;
        let mut errors = FieldErrors::new();
        if !is_dns_label(&request.name, INSTANCE_NAME_MAX) {
            errors.insert(
                "name".into(),
                format!(
                    "Name must be 1 to {INSTANCE_NAME_MAX} lowercase letters, digits and hyphens, \
                     starting with a letter and ending with a letter or digit"
                ),
            );
        }
        if !is_dns_label(&request.namespace, 63) {
            errors.insert(
                "namespace".into(),
                "Namespace must be 1 to 63 lowercase letters, digits and hyphens, starting with a letter"
                    .into(),
            );
        } else if !self.namespace_allowed(&request.namespace) {
            errors.insert(
                "namespace".into(),
                format!(
                    "This portal installs only into: {}",
                    self.allowed_namespaces.join(", ")
                ),
            );
        }
        let version = request
            .version
            .clone()
            .unwrap_or_else(|| app.default_version().to_owned());
        let taken = self
            .store
            .instance_named(&request.namespace, &request.name)
            .await?;
        let target = Target {
            id: Uuid::new_v4(),
            app: app.name,
            name: request.name.clone(),
            namespace: request.namespace.clone(),
            version,
        };
        // Field errors first (400), then a taken name (409).
        let rendered = self
            .validate_and_render(app, target, &request.params, errors)
            .await;
        if rendered.is_ok() && taken.is_some() {
            return Err(StoreError::NameTaken {
                namespace: request.namespace.clone(),
                name: request.name.clone(),
            }
            .into());
        }
        rendered
    }

    /// Validates `params` for `target`'s version (adding to `errors`),
    /// resolves the references, and renders: the core of install and update.
    pub(super) async fn validate_and_render(
        &self,
        app: &'static AppDefinition,
        target: Target,
        params: &BTreeMap<String, String>,
        mut errors: FieldErrors,
    ) -> Result<Prepared, ServiceError> {
        let mut values = match app.validate(&target.version, params) {
            Ok(values) => values,
            Err(field_errors) => {
                errors.extend(field_errors);
                Values::new()
            }
        };
        let references = self
            .resolve_references(app, &target.namespace, &values, &mut errors)
            .await?;
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let secrets = take_secrets(app, &target.name, &mut values);
        let input = RenderInput {
            target: target.clone(),
            values: values.clone(),
            references,
        };
        let objects = (app.render)(&input)?;
        Ok(Prepared {
            app,
            target,
            values,
            secrets,
            objects,
        })
    }

    /// The objects an install would apply, secret values masked; nothing is written.
    pub async fn preview(&self, request: &InstallRequest) -> Result<PreviewView, ServiceError> {
        let prepared = self.prepare(request).await?;
        let objects: Vec<Object> = prepared
            .objects
            .iter()
            .map(with_masked_secret_values)
            .collect();
        let mut yaml = String::new();
        for object in &objects {
            yaml.push_str("---\n");
            yaml.push_str(
                &serde_yaml_ng::to_string(object)
                    .map_err(|e| ServiceError::Encode(e.to_string()))?,
            );
        }
        Ok(PreviewView { objects, yaml })
    }

    /// Installs: creates the namespace and the Secrets (with the values typed
    /// or generated ones), then writes the instance, revision 1 and a pending
    /// install operation in one transaction, and wakes the worker that applies
    /// the objects. Secret values go to the cluster only, never to the store.
    pub async fn install(
        &self,
        request: &InstallRequest,
        actor: &str,
    ) -> Result<Uuid, ServiceError> {
        let result = self.queue_install(request, actor).await;
        let entry = Audited::new("install", format!("{}/{}", request.namespace, request.name))
            .instance(result.as_ref().ok().copied())
            .detail(format!(
                "app={} version={}\n{}",
                request.app,
                request.version.as_deref().unwrap_or("default"),
                masked_params(&request.app, &request.params)
            ));
        self.audited(actor, entry, result).await
    }

    async fn queue_install(
        &self,
        request: &InstallRequest,
        actor: &str,
    ) -> Result<Uuid, ServiceError> {
        let prepared = self.prepare(request).await?;
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        cluster.ensure_namespace(&prepared.target.namespace).await?;
        for object in prepared.objects.iter().filter(|o| o["kind"] == "Secret") {
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            let typed = prepared.secrets.get(name);
            let values = object["metadata"]["annotations"][GENERATED_KEYS]
                .as_str()
                .unwrap_or_default()
                .split(',')
                .filter(|key| !key.is_empty())
                .map(|key| {
                    let value = typed
                        .and_then(|typed| typed.get(key).cloned())
                        .unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rng(), 24));
                    (key.to_owned(), value)
                })
                .collect();
            cluster
                .ensure_secret(&prepared.target.namespace, name, values)
                .await?;
        }
        let (instance, _, _) = self
            .store
            .create_instance(NewInstance {
                id: prepared.target.id,
                app: prepared.app.name.to_owned(),
                name: prepared.target.name.clone(),
                namespace: prepared.target.namespace.clone(),
                version: prepared.target.version.clone(),
                params: Value::Object(prepared.values.into_iter().collect()),
                objects: Value::Array(prepared.objects),
                actor: actor.to_owned(),
            })
            .await?;
        self.views.clear();
        self.work.notify_one();
        Ok(instance.id)
    }

    /// Looks up every reference in the store: an instance of the right app,
    /// in the same namespace, not uninstalled. Adds a field error otherwise.
    async fn resolve_references(
        &self,
        app: &AppDefinition,
        namespace: &str,
        values: &Values,
        errors: &mut FieldErrors,
    ) -> Result<BTreeMap<String, Resolved>, ServiceError> {
        let mut resolved = BTreeMap::new();
        for param in app.params {
            let ParamKind::Reference { app: wanted } = param.kind else {
                continue;
            };
            let Some(name) = values.get(param.key).and_then(Value::as_str) else {
                continue;
            };
            let display = catalog::find(wanted).map_or(wanted, |other| other.display_name);
            match self.store.instance_named(namespace, name).await? {
                Some(instance)
                    if instance.app == wanted && instance.status != InstanceStatus::Uninstalled =>
                {
                    let params = match instance.params {
                        Value::Object(map) => map.into_iter().collect(),
                        _ => Values::new(),
                    };
                    resolved.insert(
                        param.key.to_owned(),
                        Resolved {
                            name: instance.name,
                            namespace: instance.namespace,
                            params,
                        },
                    );
                }
                _ => {
                    errors.insert(
                        param.key.to_owned(),
                        format!("There is no {display} instance named {name:?} in namespace {namespace:?}"),
                    );
                }
            }
        }
        Ok(resolved)
    }
}

/// Removes typed secret values from `values`, keyed by the Secret they go to.
fn take_secrets(
    app: &AppDefinition,
    name: &str,
    values: &mut Values,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut secrets: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for param in app.params {
        if let ParamKind::Secret { secret, key } = param.kind
            && let Some(Value::String(value)) = values.remove(param.key)
        {
            secrets
                .entry(format!("{name}-{secret}"))
                .or_default()
                .insert(key.to_owned(), value);
        }
    }
    secrets
}

/// A Secret as the preview shows it: each generated key with a masked value.
fn with_masked_secret_values(object: &Object) -> Object {
    let mut object = object.clone();
    if object["kind"] == "Secret" {
        let keys: serde_json::Map<String, Value> = object["metadata"]["annotations"]
            [GENERATED_KEYS]
            .as_str()
            .unwrap_or_default()
            .split(',')
            .filter(|key| !key.is_empty())
            .map(|key| (key.to_owned(), Value::from(MASK)))
            .collect();
        object["stringData"] = Value::Object(keys);
    }
    object
}
