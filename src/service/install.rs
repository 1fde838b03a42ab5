//! Install: validate a request, resolve its references, render, preview, and
//! store the instance with its first revision and pending operation.

use std::collections::BTreeMap;

use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::audit::{Audited, masked_params};
use super::lifecycle::referring;
use super::{Service, ServiceError};
use crate::catalog::params::{INSTANCE_NAME_MAX, is_dns_label, reference_target, reference_value};
use crate::catalog::render::{Object, RenderInput, Resolved, Target};
use crate::catalog::workload::GENERATED_KEYS;
use crate::catalog::{self, AppDefinition, FieldErrors, ParamKind, Values};
use crate::catalog::{flink_operator, flink_versions};
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
    /// The new instance's id, as a preview gave it (the form carries it from
    /// the preview to the install): the objects name it in an annotation, so
    /// an install with the preview's id applies exactly the objects the
    /// preview showed. A new one when absent or when another instance has it.
    #[serde(default)]
    pub id: Option<Uuid>,
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

/// What the Preview button shows: exactly the objects an install of the
/// same request (with this `id`) applies.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewView {
    /// The id the instance gets when installed with it (send it as the
    /// install's `id`).
    pub id: Uuid,
    /// The objects that would be applied, as applied. They carry no secret
    /// values: a Secret names the keys set at install in its
    /// `dataport.io/generated-keys` annotation.
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
        // An uninstalled instance's name can be installed again.
        let taken = self
            .store
            .instance_named(&request.namespace, &request.name)
            .await?
            .filter(|old| old.status != InstanceStatus::Uninstalled);
        // The preview's id, unless another instance has it (a form sent again
        // after its install): then a new one, which the preview shows in turn.
        let id = match request.id {
            Some(id) => match self.store.instance(id).await {
                Err(StoreError::NotFound { .. }) => id,
                Ok(_) => Uuid::new_v4(),
                Err(error) => return Err(error.into()),
            },
            None => Uuid::new_v4(),
        };
        let target = Target {
            id,
            app: app.name,
            name: request.name.clone(),
            namespace: request.namespace.clone(),
            version,
        };
        // Field errors first (400), then a taken name (409).
        let rendered = self
            .validate_and_render(app, target, &request.params, errors, Values::new())
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
    /// `carried` are stored values outside the form (an application's
    /// savepoint to start from), added to the valid ones as they are.
    pub(super) async fn validate_and_render(
        &self,
        app: &'static AppDefinition,
        target: Target,
        params: &BTreeMap<String, String>,
        mut errors: FieldErrors,
        carried: Values,
    ) -> Result<Prepared, ServiceError> {
        let mut values = match app.validate(&target.version, params) {
            Ok(values) => values,
            Err(field_errors) => {
                errors.extend(field_errors);
                Values::new()
            }
        };
        let references = self
            .resolve_references(app, &target, &values, &mut errors)
            .await?;
        if !values.is_empty() {
            self.check_scope(app, &target, &values, &mut errors).await?;
            self.check_kinds_served(app, &values, &mut errors).await?;
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        values.extend(carried);
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

    /// The objects an install of `request` would apply, from the same
    /// [`Service::prepare`] the install runs; nothing is written.
    pub async fn preview(&self, request: &InstallRequest) -> Result<PreviewView, ServiceError> {
        let prepared = self.prepare(request).await?;
        let yaml = yaml_stream(&prepared.objects)?;
        Ok(PreviewView {
            id: prepared.target.id,
            objects: prepared.objects,
            yaml,
        })
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
    /// not uninstalled, that serves `target`'s namespace (its own namespace,
    /// or, for an operator, one it watches). Adds a field error otherwise,
    /// naming the instances that would serve; and one on `version` when the
    /// operator cannot run the Flink version chosen.
    async fn resolve_references(
        &self,
        app: &AppDefinition,
        target: &Target,
        values: &Values,
        errors: &mut FieldErrors,
    ) -> Result<BTreeMap<String, Resolved>, ServiceError> {
        let namespace = target.namespace.as_str();
        let mut resolved = BTreeMap::new();
        for param in app.params {
            let ParamKind::Reference { app: wanted } = param.kind else {
                continue;
            };
            let Some(value) = values.get(param.key).and_then(Value::as_str) else {
                continue;
            };
            let Some(other_app) = catalog::find(wanted) else {
                continue;
            };
            let (other_namespace, name) = reference_target(value, namespace);
            let found = self
                .store
                .instance_named(&other_namespace, &name)
                .await?
                .filter(|i| i.app == wanted && i.status != InstanceStatus::Uninstalled)
                .map(|instance| {
                    let params = params_of(&instance.params);
                    (instance, params)
                })
                .filter(|(instance, params)| {
                    other_app.serves_namespace(&instance.namespace, params, namespace)
                });
            let Some((instance, params)) = found else {
                let serving = self.serving(other_app, namespace).await?;
                let offer = if serving.is_empty() {
                    match other_app
                        .scope
                        .and_then(|scope| other_app.param(scope.param))
                    {
                        Some(param) => format!(
                            "none serves {namespace:?} yet: install one there, or add it to the \
                             {} of one you have",
                            param.label
                        ),
                        None => format!("none serves {namespace:?} yet: install one there"),
                    }
                } else {
                    format!("those serving {namespace:?}: {}", serving.join(", "))
                };
                errors.insert(
                    param.key.to_owned(),
                    format!(
                        "There is no {} instance {value:?} serving namespace {namespace:?} ({offer})",
                        other_app.display_name
                    ),
                );
                continue;
            };
            if wanted == flink_operator::APP
                && let Some(release) = flink_versions::release(&target.version)
                && let Some(error) = flink_operator::flink_version_error(
                    &format!("{}/{}", instance.namespace, instance.name),
                    &instance.version,
                    release.flink_version,
                    release.version,
                )
            {
                errors.entry("version".into()).or_insert(error);
            }
            resolved.insert(
                param.key.to_owned(),
                Resolved {
                    name: instance.name,
                    namespace: instance.namespace,
                    params,
                },
            );
        }
        Ok(resolved)
    }

    /// The instances of `app` (not uninstalled) that serve `namespace`, as
    /// the values a reference from there names them by.
    pub(super) async fn serving(
        &self,
        app: &AppDefinition,
        namespace: &str,
    ) -> Result<Vec<String>, ServiceError> {
        Ok(self
            .store
            .instances(Some(app.name))
            .await?
            .into_iter()
            .filter(|i| i.status != InstanceStatus::Uninstalled)
            .filter(|i| app.serves_namespace(&i.namespace, &params_of(&i.params), namespace))
            .map(|i| reference_value(&i.namespace, &i.name, namespace))
            .collect())
    }

    /// Refuses, on the field that asked for them, the objects of kinds
    /// the cluster has no CRD for ([`catalog::required_crds`]): the apply
    /// would fail there, after writing the objects before them.
    async fn check_kinds_served(
        &self,
        app: &AppDefinition,
        values: &Values,
        errors: &mut FieldErrors,
    ) -> Result<(), ServiceError> {
        let (Some(required), Some(cluster)) = (
            catalog::required_crds(app.name, values),
            self.cluster.as_ref(),
        ) else {
            return Ok(());
        };
        let missing = cluster.missing_crds(required.names).await?;
        if !missing.is_empty() {
            errors.insert(
                required.field.into(),
                format!(
                    "This cluster lacks the {} {}: install {} first, or choose another option",
                    if missing.len() == 1 { "CRD" } else { "CRDs" },
                    missing.join(" and "),
                    required.installed_by
                ),
            );
        }
        Ok(())
    }

    /// For an app that serves other namespaces (an operator, Prometheus): each
    /// must be one this portal installs into, none may be served by another
    /// operator already (two operators would both run its clusters), and
    /// none that an instance there relies on may be dropped.
    async fn check_scope(
        &self,
        app: &AppDefinition,
        target: &Target,
        values: &Values,
        errors: &mut FieldErrors,
    ) -> Result<(), ServiceError> {
        let Some(scope) = &app.scope else {
            return Ok(());
        };
        let served = app.served_namespaces(&target.namespace, values);
        let mut problems = Vec::new();
        let refused: Vec<&str> = served
            .iter()
            .filter(|ns| !self.namespace_allowed(ns))
            .map(String::as_str)
            .collect();
        if !refused.is_empty() {
            problems.push(format!(
                "This portal installs only into: {} (not {})",
                self.allowed_namespaces.join(", "),
                refused.join(", ")
            ));
        }
        let instances = self.store.instances(None).await?;
        // Two operators in one namespace would both run its clusters; two
        // Prometheus servers may both scrape it.
        let exclusive = app.name == flink_operator::APP;
        for other in instances.iter().filter(|i| {
            exclusive
                && i.app == app.name
                && i.id != target.id
                && i.status != InstanceStatus::Uninstalled
        }) {
            let theirs = app.served_namespaces(&other.namespace, &params_of(&other.params));
            let shared: Vec<&str> = served
                .iter()
                .filter(|ns| theirs.contains(ns))
                .map(String::as_str)
                .collect();
            if !shared.is_empty() {
                problems.push(format!(
                    "{} is watched by {}/{} already: two operators would both run its Flink \
                     clusters",
                    shared.join(", "),
                    other.namespace,
                    other.name
                ));
            }
        }
        for dependant in referring(app.name, &target.namespace, &target.name, &instances) {
            if !served.contains(&dependant.namespace) {
                problems.push(format!(
                    "{}/{} ({}) relies on it in namespace {}: keep that namespace watched",
                    dependant.namespace, dependant.name, dependant.app, dependant.namespace
                ));
            }
        }
        if !problems.is_empty() {
            errors
                .entry(scope.param.to_owned())
                .or_insert(problems.join("; "));
        }
        Ok(())
    }
}

/// An instance's stored parameters as values.
pub(super) fn params_of(params: &Value) -> Values {
    match params {
        Value::Object(map) => map.clone().into_iter().collect(),
        _ => Values::new(),
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

/// `objects` as one YAML stream, each starting with `---`.
pub(super) fn yaml_stream(objects: &[Object]) -> Result<String, ServiceError> {
    let mut yaml = String::new();
    for object in objects {
        yaml.push_str("---\n");
        yaml.push_str(
            &serde_yaml_ng::to_string(object).map_err(|e| ServiceError::Encode(e.to_string()))?,
        );
    }
    Ok(yaml)
}
