//! Typed install parameters: one schema per app drives the HTML form, the
//! server-side validation and the JSON Schema of the API.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::quantity::{Quantity, QuantityKind};

/// One choice of a [`ParamKind::Choice`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Choice {
    /// The value submitted and stored.
    pub value: &'static str,
    /// What the form shows.
    pub label: &'static str,
}

/// The type of a parameter, with its bounds.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParamKind {
    /// Free text up to `max_len` characters.
    Text {
        /// Longest accepted text.
        max_len: usize,
    },
    /// A whole number within bounds.
    Int {
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// A Kubernetes quantity within bounds (themselves quantities).
    Quantity {
        /// CPU or memory.
        #[serde(skip)]
        kind: QuantityKind,
        /// Smallest accepted, e.g. `100m` or `512Mi`.
        min: &'static str,
        /// Largest accepted.
        max: &'static str,
    },
    /// On or off; may reveal other fields.
    Toggle,
    /// One of a fixed list.
    Choice {
        /// The choices, the default first.
        options: &'static [Choice],
    },
    /// A value that is written, never shown again (generated when left empty):
    /// it goes straight into key `key` of the instance's Secret
    /// `<instance>-<secret>`, never into the store.
    Secret {
        /// Suffix of the Secret's name after the instance name.
        secret: &'static str,
        /// Key in the Secret.
        key: &'static str,
    },
    /// An absolute URI with one of `schemes` (e.g. a job's JAR), up to `max_len`.
    Uri {
        /// Accepted schemes, without `://`.
        schemes: &'static [&'static str],
        /// Longest accepted URI.
        max_len: usize,
    },
    /// The name of an instance of another app, in the same namespace.
    Reference {
        /// The app referred to.
        app: &'static str,
    },
}

/// When a field is shown (and validated): every `(key, value)` holds.
pub type ShownWhen = &'static [(&'static str, &'static str)];

/// One install parameter.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Param {
    /// Key in the parameters object and name of the form field.
    pub key: &'static str,
    /// Label on the form.
    pub label: &'static str,
    /// Help text under the field.
    pub help: &'static str,
    /// Type and bounds.
    pub kind: ParamKind,
    /// Value used when the field is left empty.
    pub default: Option<&'static str>,
    /// Shown (and required, when it has no default) only when these hold.
    pub shown_when: ShownWhen,
}

impl Param {
    /// CPU per pod, from 100m to 32 cores.
    pub const fn cpu(
        key: &'static str,
        label: &'static str,
        default: &'static str,
        help: &'static str,
    ) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Quantity {
                kind: QuantityKind::Cpu,
                min: "100m",
                max: "32",
            },
            default: Some(default),
            shown_when: &[],
        }
    }

    /// Memory or storage within bounds.
    pub const fn bytes(
        key: &'static str,
        label: &'static str,
        default: &'static str,
        (min, max): (&'static str, &'static str),
        help: &'static str,
    ) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Quantity {
                kind: QuantityKind::Bytes,
                min,
                max,
            },
            default: Some(default),
            shown_when: &[],
        }
    }

    /// A whole number within bounds.
    pub const fn int(
        key: &'static str,
        label: &'static str,
        default: &'static str,
        (min, max): (i64, i64),
        help: &'static str,
    ) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Int { min, max },
            default: Some(default),
            shown_when: &[],
        }
    }

    /// A switch, off by default.
    pub const fn toggle(key: &'static str, label: &'static str, help: &'static str) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Toggle,
            default: Some("false"),
            shown_when: &[],
        }
    }

    /// The name of an instance of `app`, shown when `shown_when` holds.
    pub const fn reference(
        key: &'static str,
        label: &'static str,
        app: &'static str,
        shown_when: ShownWhen,
        help: &'static str,
    ) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Reference { app },
            default: None,
            shown_when,
        }
    }

    /// A password kept in key `secret_key` of the Secret `<instance>-credentials`,
    /// generated when left empty.
    pub const fn secret(
        key: &'static str,
        label: &'static str,
        secret_key: &'static str,
        help: &'static str,
    ) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Secret {
                secret: "credentials",
                key: secret_key,
            },
            default: None,
            shown_when: &[],
        }
    }

    /// Whether the form cannot be sent with this field empty (when shown).
    pub fn is_required(&self) -> bool {
        self.default.is_none() && !matches!(self.kind, ParamKind::Secret { .. })
    }

    /// The type and bounds in a few words, for the app page.
    pub fn summary(&self) -> String {
        match self.kind {
            ParamKind::Text { max_len } => format!("text, up to {max_len} characters"),
            ParamKind::Int { min, max } => format!("whole number, {min} to {max}"),
            ParamKind::Quantity {
                kind: QuantityKind::Cpu,
                min,
                max,
            } => format!("CPU, {min} to {max}"),
            ParamKind::Quantity {
                kind: QuantityKind::Bytes,
                min,
                max,
            } => format!("size, {min} to {max}"),
            ParamKind::Toggle => "on or off".to_owned(),
            ParamKind::Choice { options } => {
                let values: Vec<_> = options.iter().map(|c| c.value).collect();
                format!("one of {}", values.join(", "))
            }
            ParamKind::Secret { .. } => {
                "password, kept in a Secret; generated when empty".to_owned()
            }
            ParamKind::Uri { schemes, .. } => format!("a URI: {}", scheme_list(schemes)),
            ParamKind::Reference { app } => format!("a {app} instance in the same namespace"),
        }
    }

    /// When the field applies, in words (empty when always).
    pub fn condition(&self) -> String {
        self.shown_when
            .iter()
            .map(|(key, value)| match *value {
                "true" => format!("{key} is on"),
                value => format!("{key} is {value}"),
            })
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// Whether the field is shown for these raw values.
    /// A field left empty counts with its default (a toggle left out is off),
    /// so that a default choice reveals its fields as a chosen one does.
    pub fn is_shown(&self, raw: &BTreeMap<String, String>, all: &[Param]) -> bool {
        self.shown_when.iter().all(|(key, expected)| {
            let typed = raw.get(*key).map(String::as_str).filter(|v| !v.is_empty());
            let default = || all.iter().find(|p| p.key == *key).and_then(|p| p.default);
            typed.or_else(default).map(normalize_toggle) == Some(*expected)
        })
    }

    /// The keys of the fields this toggle or choice reveals.
    pub fn reveals(&self, all: &[Param]) -> Vec<&'static str> {
        all.iter()
            .filter(|other| other.shown_when.iter().any(|(key, _)| *key == self.key))
            .map(|other| other.key)
            .collect()
    }
}

/// The parameter lists `parts` one after the other, for apps that share
/// groups of parameters. `N` must be their total length (checked at compile time).
pub const fn concat<const N: usize>(parts: &[&[Param]]) -> [Param; N] {
    let mut all = [parts[0][0]; N];
    let (mut next, mut part) = (0, 0);
    while part < parts.len() {
        let mut index = 0;
        while index < parts[part].len() {
            all[next] = parts[part][index];
            next += 1;
            index += 1;
        }
        part += 1;
    }
    assert!(next == N, "N must be the total number of parameters");
    all
}

/// Adds the errors of rules across fields to `errors`, keeping a field's own
/// error where it has one; then the values, or every error.
pub fn with_rule_errors(
    values: Values,
    mut errors: FieldErrors,
    rule_errors: FieldErrors,
) -> Result<Values, FieldErrors> {
    for (key, message) in rule_errors {
        errors.entry(key).or_insert(message);
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// Raw form values from `(key, value)` pairs, for tests.
#[cfg(test)]
pub(crate) fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A JAR every Flink image holds, for tests.
#[cfg(test)]
pub(crate) const EXAMPLE_JAR: &str =
    "local:///opt/flink/examples/streaming/StateMachineExample.jar";

/// Validated parameter values, by key, as stored and rendered.
pub type Values = BTreeMap<String, Value>;

/// Field errors, by key: every one at once.
pub type FieldErrors = BTreeMap<String, String>;

/// HTML checkboxes send `on`; the API sends `true`: both mean on.
fn normalize_toggle(value: &str) -> &str {
    match value {
        "on" | "true" => "true",
        "off" | "false" | "" => "false",
        other => other,
    }
}

/// Checks raw values (form fields, or JSON values as text) against `params`:
/// the typed values of the valid shown fields, and an error for every other
/// one. Unknown keys are errors; hidden fields are dropped.
pub fn validate(params: &[Param], raw: &BTreeMap<String, String>) -> (Values, FieldErrors) {
    let mut values = Values::new();
    let mut errors = FieldErrors::new();
    for key in raw.keys() {
        if !params.iter().any(|param| param.key == key) {
            errors.insert(key.clone(), format!("unknown parameter {key:?}"));
        }
    }
    for param in params.iter().filter(|param| param.is_shown(raw, params)) {
        let text = raw.get(param.key).map(|v| v.trim()).unwrap_or("");
        match parse(param, text) {
            Ok(Some(value)) => {
                values.insert(param.key.to_owned(), value);
            }
            Ok(None) => {}
            Err(message) => {
                errors.insert(param.key.to_owned(), message);
            }
        }
    }
    (values, errors)
}

/// One field's value: `Ok(None)` for an empty secret (generated later).
fn parse(param: &Param, text: &str) -> Result<Option<Value>, String> {
    let text = if text.is_empty() {
        match (param.default, param.kind) {
            (_, ParamKind::Toggle) => "false",
            (Some(default), _) => default,
            (None, ParamKind::Secret { .. }) => return Ok(None),
            (None, _) => return Err(format!("{} is required", param.label)),
        }
    } else {
        text
    };
    match param.kind {
        ParamKind::Text { max_len } => {
            if text.chars().count() > max_len {
                Err(format!(
                    "{} is longer than {max_len} characters",
                    param.label
                ))
            } else {
                Ok(Some(json!(text)))
            }
        }
        ParamKind::Int { min, max } => match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(json!(n))),
            Ok(_) => Err(format!("{} must be between {min} and {max}", param.label)),
            Err(_) => Err(format!("{} must be a whole number", param.label)),
        },
        ParamKind::Quantity { kind, min, max } => {
            let quantity =
                Quantity::parse(text, kind).map_err(|e| format!("{}: {e}", param.label))?;
            let bound = |b: &str| {
                Quantity::parse(b, kind)
                    .map(|q| q.value)
                    .unwrap_or(f64::NAN)
            };
            if quantity.value < bound(min) || quantity.value > bound(max) {
                Err(format!("{} must be between {min} and {max}", param.label))
            } else {
                Ok(Some(json!(text)))
            }
        }
        ParamKind::Toggle => match normalize_toggle(text) {
            "true" => Ok(Some(json!(true))),
            "false" => Ok(Some(json!(false))),
            _ => Err(format!("{} must be on or off", param.label)),
        },
        ParamKind::Choice { options } => {
            if options.iter().any(|choice| choice.value == text) {
                Ok(Some(json!(text)))
            } else {
                let allowed: Vec<_> = options.iter().map(|c| c.value).collect();
                Err(format!(
                    "{} must be one of {}",
                    param.label,
                    allowed.join(", ")
                ))
            }
        }
        ParamKind::Secret { .. } => {
            if text.chars().count() < 8 {
                Err(format!(
                    "{} must be at least 8 characters (or empty to generate one)",
                    param.label
                ))
            } else {
                Ok(Some(json!(text)))
            }
        }
        ParamKind::Uri { schemes, max_len } => {
            // `scheme://host/path`, or `local:///path` (a file in the image).
            let parsed = url::Url::parse(text).ok().filter(|uri| {
                let has_host = uri.host_str().is_some_and(|host| !host.is_empty());
                schemes.contains(&uri.scheme())
                    && text.starts_with(&format!("{}://", uri.scheme()))
                    && (has_host || uri.scheme() == "local")
                    && uri.path().len() > 1
                    && !text.contains(char::is_whitespace)
            });
            if text.chars().count() > max_len {
                Err(format!(
                    "{} is longer than {max_len} characters",
                    param.label
                ))
            } else if parsed.is_none() {
                Err(format!(
                    "{} must be a URI to a file starting with {}",
                    param.label,
                    scheme_list(schemes)
                ))
            } else {
                Ok(Some(json!(text)))
            }
        }
        ParamKind::Reference { .. } => {
            if is_dns_label(text, 63) {
                Ok(Some(json!(text)))
            } else {
                Err(format!("{} must name an instance", param.label))
            }
        }
    }
}

/// `local://, https:// or s3://`.
fn scheme_list(schemes: &[&str]) -> String {
    let mut listed: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
    let last = listed.pop().unwrap_or_default();
    if listed.is_empty() {
        last
    } else {
        format!("{} or {last}", listed.join(", "))
    }
}

/// Whether `text` is a DNS-1123 label of at most `max_len` characters:
/// lowercase letters, digits and `-`, starting with a letter and ending with a
/// letter or digit (what Kubernetes requires of names and namespaces).
pub fn is_dns_label(text: &str, max_len: usize) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= max_len
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// A DNS-1123 label, as a regular expression.
pub const DNS_LABEL_PATTERN: &str = "^[a-z]([-a-z0-9]*[a-z0-9])?$";

/// Longest instance name: object names add suffixes such as `-rest` and
/// `-taskmanager` and must stay within Kubernetes' 63-character labels.
pub const INSTANCE_NAME_MAX: usize = 40;
