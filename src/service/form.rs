//! The install form's view: fields with their values, errors and choices.

use std::collections::BTreeMap;

use serde::Serialize;

use super::install::params_of;
use super::{Service, ServiceError};
use crate::catalog::params::reference_value;
use crate::catalog::{self, AppDefinition, FieldErrors, FieldFeedback, Need, Param, ParamKind};
use crate::store::InstanceStatus;

/// One field of the install form.
#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    /// Its parameter.
    pub param: &'static Param,
    /// What the user typed (never a secret's value).
    pub value: String,
    /// What is wrong with it.
    pub error: Option<String>,
    /// For references: the instances that can be picked, as `(value,
    /// namespace)`: those of the form's namespace (value `name`) and those
    /// in other namespaces that serve it (value `namespace/name`).
    pub options: Vec<(String, String)>,
    /// The help under the field: the parameter's, or one that follows the
    /// form's context (a session job's JAR URI follows its operator).
    pub help: String,
    /// For references: the referenced app's display name.
    pub target_display: &'static str,
    /// For references: the referenced app's name (for the "install one" link).
    pub target_app: &'static str,
    /// For references: the namespace the choices serve, once the form has one.
    pub namespace: Option<String>,
    /// For references: what to do when nothing can be picked, e.g. "No Flink
    /// Kubernetes Operator instance serves namespace "data": install one
    /// there, or add it to the Watched namespaces of one you have."
    pub empty_hint: String,
    /// When it applies, as a JSON object (`{"key": "value"}`) for the page script.
    pub shown_when_json: String,
    /// When it applies, in the form's words (empty when always).
    pub condition: String,
    /// A note the app has for the value (Flink's memory breakdown).
    pub note: Option<String>,
    /// Whether the page script asks the server for the field's error or
    /// note as it is typed ([`Service::field_feedback`]).
    pub live_feedback: bool,
}

impl FieldView {
    /// Whether a toggle is on.
    pub fn is_checked(&self) -> bool {
        matches!(self.value.as_str(), "true" | "on")
    }

    /// For references: a typed name that is not among the instances, kept so
    /// that the form shows what was sent next to its error.
    pub fn unknown_choice(&self) -> Option<&str> {
        let known = self.options.iter().any(|(name, _)| *name == self.value);
        (!self.value.is_empty() && !known).then_some(self.value.as_str())
    }

    /// For references: how a kept choice that is not among the options is
    /// marked.
    pub fn unknown_note(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("does not serve namespace {namespace}"),
            None => "not found".to_owned(),
        }
    }

    /// Whether `value` is the selected choice.
    pub fn is_selected(&self, value: &str) -> bool {
        self.value == value
    }

    /// For references: the referenced app's display name after "a" or "an".
    pub fn target_with_article(&self) -> String {
        with_article(self.target_display)
    }
}

/// `name` after the indefinite article it takes: "an Apache ZooKeeper",
/// "a MinIO". Display names that start with a vowel letter take "an".
pub fn with_article(name: &str) -> String {
    let vowel = name
        .chars()
        .next()
        .is_some_and(|c| "AEIOUaeiou".contains(c));
    format!("{} {name}", if vowel { "an" } else { "a" })
}

/// A required dependency that has no instance yet.
#[derive(Debug, Clone, Serialize)]
pub struct MissingDependency {
    /// Its app name.
    pub app: &'static str,
    /// Its display name.
    pub display_name: &'static str,
}

impl MissingDependency {
    /// Its display name after "a" or "an".
    pub fn with_article(&self) -> String {
        with_article(self.display_name)
    }
}

/// The install form's hidden field with the id the install gives the
/// instance (see [`InstallFormView::instance_id`]).
pub const INSTANCE_ID_FIELD: &str = "instance_id";

/// The install form of one app, filled with what the user sent.
#[derive(Debug, Clone, Serialize)]
pub struct InstallFormView {
    /// The app.
    pub app: &'static AppDefinition,
    /// Instance name: typed, or suggested for a new instance.
    pub name: String,
    /// Whether `name` is a suggestion (nothing was typed yet): the page
    /// script lets it follow the namespace typed.
    pub name_suggested: bool,
    /// Namespace typed.
    pub namespace: String,
    /// Version chosen.
    pub version: String,
    /// The parameter fields.
    pub fields: Vec<FieldView>,
    /// Errors of name, namespace and version.
    pub errors: FieldErrors,
    /// Required dependencies with no instance yet.
    pub missing: Vec<MissingDependency>,
    /// A conflict to show above the form (name taken).
    pub conflict: Option<String>,
    /// The id an install from this form gives the instance: carried from
    /// the preview to the install, so that both render the same objects.
    pub instance_id: uuid::Uuid,
    /// The preview YAML, when asked for.
    pub preview: Option<String>,
    /// Set when the form updates an existing instance.
    pub update: Option<UpdateContext>,
    /// What an update changes, when asked for on an update.
    pub diff: Option<super::UpdatePlan>,
}

/// The instance an update form changes, and the revision it was read at.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateContext {
    /// The instance's id.
    pub id: uuid::Uuid,
    /// Its current revision when the form was filled.
    pub revision: i64,
}

impl InstallFormView {
    /// The error of a top-level field, if any.
    pub fn error(&self, key: &str) -> Option<&String> {
        self.errors.get(key)
    }

    /// The app's versions, newest first (numbers compared as numbers).
    pub fn versions_newest_first(&self) -> Vec<&'static str> {
        let mut versions = self.app.versions.to_vec();
        versions.sort_by_key(|version| std::cmp::Reverse(version_key(version)));
        versions
    }

    /// The fields under the form's groups, in order, as `(title, fields)`.
    pub fn field_groups(&self) -> Vec<(&'static str, Vec<&FieldView>)> {
        self.app
            .param_groups()
            .into_iter()
            .map(|(title, params)| {
                let fields = self
                    .fields
                    .iter()
                    .filter(|field| params.iter().any(|param| param.key == field.param.key))
                    .collect();
                (title, fields)
            })
            .collect()
    }

    /// Whether the form has any field error.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.fields.iter().any(|field| field.error.is_some())
    }
}

impl Service {
    /// The form's error or note for field `key` of `app` holding `text`, as
    /// a submit would show it. Refused (400) for a field without live words.
    pub fn field_feedback(
        &self,
        app: &str,
        key: &str,
        text: &str,
    ) -> Result<FieldFeedback, ServiceError> {
        let app = catalog::find(app).ok_or_else(|| ServiceError::AppNotFound(app.to_owned()))?;
        app.field_feedback(key, text).ok_or_else(|| {
            ServiceError::invalid(key, format!("{} has no live check of {key}", app.name))
        })
    }

    /// The install form for `app`, filled with `raw` values (defaults when
    /// empty) and `errors` next to their fields.
    pub async fn install_form(
        &self,
        app: &str,
        raw: &BTreeMap<String, String>,
        errors: &FieldErrors,
    ) -> Result<InstallFormView, ServiceError> {
        let app = catalog::find(app).ok_or_else(|| ServiceError::AppNotFound(app.to_owned()))?;
        let instances = self.store.instances(None).await?;
        let mut missing = Vec::new();
        for dependency in app.dependencies.iter().filter(|d| d.need == Need::Required) {
            let exists = instances
                .iter()
                .any(|i| i.app == dependency.app && i.status != InstanceStatus::Uninstalled);
            if !exists {
                let other = catalog::find(dependency.app);
                missing.push(MissingDependency {
                    app: dependency.app,
                    display_name: other.map_or(dependency.app, |o| o.display_name),
                });
            }
        }
        let namespace = raw
            .get("namespace")
            .cloned()
            .unwrap_or_else(|| "default".to_owned());
        let fields = app
            .params
            .iter()
            .map(|param| field_view(param, app.params, raw, errors, &instances))
            .map(|field| with_note(app, field))
            .collect();
        Ok(InstallFormView {
            app,
            name: raw
                .get("name")
                .cloned()
                .unwrap_or_else(|| suggested_name(app.name, &namespace, &instances)),
            name_suggested: !raw.contains_key("name"),
            namespace,
            version: raw
                .get("version")
                .cloned()
                .unwrap_or_else(|| app.default_version().to_owned()),
            fields,
            errors: errors
                .iter()
                .filter(|(key, _)| matches!(key.as_str(), "name" | "namespace" | "version"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            missing,
            conflict: None,
            instance_id: raw
                .get(INSTANCE_ID_FIELD)
                .and_then(|id| id.parse().ok())
                .unwrap_or_else(uuid::Uuid::new_v4),
            preview: None,
            update: None,
            diff: None,
        })
    }
}

/// The name an empty install form suggests for a new instance of `app` in
/// `namespace`: the app's name, else that name with `-2`, `-3`, … — the
/// first that no instance there holds. An uninstalled instance's name is
/// free again (the new record links the old), so it is suggested first.
fn suggested_name(app: &str, namespace: &str, instances: &[crate::store::Instance]) -> String {
    let taken = |name: &str| {
        instances.iter().any(|i| {
            i.namespace == namespace
                && i.name == name
                && i.status != crate::store::InstanceStatus::Uninstalled
        })
    };
    (1..)
        .map(|n| match n {
            1 => app.to_owned(),
            n => format!("{app}-{n}"),
        })
        .find(|name| !taken(name))
        .unwrap_or_else(|| app.to_owned())
}

/// One field of a form for `param`, filled with what was typed (its default
/// when nothing was), its error, and for references the `instances` that
/// serve the form's namespace (`raw["namespace"]`; every instance, by name,
/// while no namespace is given).
pub(super) fn field_view(
    param: &'static Param,
    all: &[Param],
    raw: &BTreeMap<String, String>,
    errors: &FieldErrors,
    instances: &[crate::store::Instance],
) -> FieldView {
    let namespace = raw
        .get("namespace")
        .map(String::as_str)
        .filter(|ns| !ns.is_empty());
    let (options, target_app) = match param.kind {
        ParamKind::Reference { app: target } => {
            (reference_options(target, namespace, instances), target)
        }
        _ => (Vec::new(), ""),
    };
    let typed = raw.get(param.key).cloned().unwrap_or_default();
    let value = match param.kind {
        ParamKind::Secret { .. } => String::new(),
        // A reference with one candidate is preselected.
        ParamKind::Reference { .. } if typed.is_empty() && options.len() == 1 => {
            options[0].0.clone()
        }
        _ if typed.is_empty() && !raw.contains_key(param.key) => {
            param.default.unwrap_or_default().to_owned()
        }
        _ => typed,
    };
    let shown_when: serde_json::Map<String, serde_json::Value> = param
        .shown_when
        .iter()
        .map(|(key, value)| ((*key).to_owned(), serde_json::Value::from(*value)))
        .collect();
    let target = catalog::find(target_app);
    FieldView {
        param,
        value,
        error: errors.get(param.key).cloned(),
        options,
        help: param.help.to_owned(),
        target_display: target.map_or("", |o| o.display_name),
        target_app,
        namespace: namespace.map(str::to_owned),
        empty_hint: target.map(|t| empty_hint(t, namespace)).unwrap_or_default(),
        shown_when_json: serde_json::Value::Object(shown_when).to_string(),
        condition: param.condition(all),
        note: None,
        live_feedback: false,
    }
}

/// `field` with the app's note for its value, unless it has an error.
fn with_note(app: &AppDefinition, mut field: FieldView) -> FieldView {
    field.live_feedback = app.has_field_feedback(field.param.key);
    if field.error.is_none() {
        field.note = app.field_note(field.param.key, &field.value);
    }
    field
}

/// What to do when no instance of `target` can be picked for `namespace`.
fn empty_hint(target: &catalog::AppDefinition, namespace: Option<&str>) -> String {
    let display = target.display_name;
    let Some(namespace) = namespace else {
        return format!("No {display} instance yet: install one.");
    };
    match target.scope.and_then(|scope| target.param(scope.param)) {
        Some(param) => format!(
            "No {display} instance serves namespace {namespace}: install one there, or add it \
             to the {} of one you have.",
            param.label
        ),
        None => format!("No {display} instance in namespace {namespace}: install one there."),
    }
}

/// The instances of app `target` (not uninstalled) an instance in
/// `namespace` can refer to: its namespace's first, then those elsewhere
/// that serve it, as `(value, namespace)`. Without a namespace: every
/// instance, by name.
fn reference_options(
    target: &str,
    namespace: Option<&str>,
    instances: &[crate::store::Instance],
) -> Vec<(String, String)> {
    let Some(app) = catalog::find(target) else {
        return Vec::new();
    };
    let mut options: Vec<(String, String)> = instances
        .iter()
        .filter(|i| i.app == target && i.status != InstanceStatus::Uninstalled)
        .filter_map(|i| match namespace {
            None => Some((i.name.clone(), i.namespace.clone())),
            Some(namespace) => app
                .serves_namespace(&i.namespace, &params_of(&i.params), namespace)
                .then(|| {
                    (
                        reference_value(&i.namespace, &i.name, namespace),
                        i.namespace.clone(),
                    )
                }),
        })
        .collect();
    options.sort_by_key(|(value, _)| (value.contains('/'), value.clone()));
    options
}

/// A version's numbers, in order, for comparing "1.20" above "1.19" and
/// "2.2" above "1.20"; the text between numbers compares as text.
fn version_key(version: &str) -> Vec<(u64, String)> {
    let mut key = Vec::new();
    let mut number = String::new();
    let mut text = String::new();
    for c in version.chars() {
        if c.is_ascii_digit() {
            number.push(c);
        } else {
            if !number.is_empty() {
                key.push((
                    number.parse().unwrap_or(u64::MAX),
                    std::mem::take(&mut text),
                ));
                number.clear();
            }
            text.push(c);
        }
    }
    key.push((number.parse().unwrap_or(0), text));
    key
}

#[cfg(test)]
mod tests {
    use super::{suggested_name, version_key, with_article};
    use crate::store::{Instance, InstanceStatus};

    fn instance(name: &str, status: InstanceStatus) -> Instance {
        Instance {
            id: uuid::Uuid::new_v4(),
            app: "flink".into(),
            name: name.into(),
            namespace: "streaming".into(),
            version: "1.20".into(),
            status,
            params: serde_json::json!({}),
            current_revision: 1,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            previous_id: None,
        }
    }

    #[test]
    fn an_uninstalled_instances_name_is_suggested_again() {
        let running = [instance("flink", InstanceStatus::Running)];
        assert_eq!(suggested_name("flink", "streaming", &running), "flink-2");
        assert_eq!(suggested_name("flink", "other", &running), "flink");
        let uninstalled = [instance("flink", InstanceStatus::Uninstalled)];
        assert_eq!(suggested_name("flink", "streaming", &uninstalled), "flink");
    }

    #[test]
    fn articles_follow_the_first_letter() {
        assert_eq!(with_article("Apache ZooKeeper"), "an Apache ZooKeeper");
        assert_eq!(with_article("MinIO"), "a MinIO");
    }

    #[test]
    fn versions_compare_as_numbers() {
        let mut versions = vec!["1.20", "1.19", "2.0", "2.1", "2.2"];
        versions.sort_by_key(|v| std::cmp::Reverse(version_key(v)));
        assert_eq!(versions, ["2.2", "2.1", "2.0", "1.20", "1.19"]);
    }
}
