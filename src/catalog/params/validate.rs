//! Checking raw parameter values (form fields, or JSON values as text)
//! against their parameters: types, bounds, names and URIs.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{FieldErrors, Param, ParamKind, Values};
use crate::catalog::quantity::Quantity;

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

/// HTML checkboxes send `on`; the API sends `true`: both mean on.
pub(super) fn normalize_toggle(value: &str) -> &str {
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
            errors.insert(
                key.clone(),
                format!("Unknown parameter {key:?}: this app has no such field."),
            );
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
            } else if text.chars().count() > SECRET_MAX_CHARS {
                Err(format!(
                    "{} must be at most {SECRET_MAX_CHARS} characters",
                    param.label
                ))
            } else if text.chars().any(char::is_control) {
                Err(format!("{} must not hold control characters", param.label))
            } else {
                Ok(Some(json!(text)))
            }
        }
        // Left empty where the default is empty: not set.
        ParamKind::Uri { .. } if text.is_empty() => Ok(Some(json!(""))),
        ParamKind::Uri {
            schemes,
            max_len,
            file,
        } => {
            // `scheme://host/path`, or `local:///path` / `file:///path` (a file
            // in the pod).
            let parsed = url::Url::parse(text).ok().filter(|uri| {
                let has_host = uri.host_str().is_some_and(|host| !host.is_empty());
                schemes.contains(&uri.scheme())
                    && text.starts_with(&format!("{}://", uri.scheme()))
                    && (has_host || matches!(uri.scheme(), "local" | "file"))
                    && (!file || uri.path().len() > 1)
                    && !text.contains(char::is_whitespace)
            });
            if text.chars().count() > max_len {
                Err(format!(
                    "{} is longer than {max_len} characters",
                    param.label
                ))
            } else if parsed.is_none() {
                let what = if file {
                    "a URI to a file"
                } else {
                    "an address"
                };
                Err(format!(
                    "{} must be {what} starting with {}",
                    param.label,
                    scheme_list(schemes)
                ))
            } else {
                Ok(Some(json!(text)))
            }
        }
        ParamKind::Reference { .. } => {
            let valid = match text.split_once('/') {
                Some((namespace, name)) => is_dns_label(namespace, 63) && is_dns_label(name, 63),
                None => is_dns_label(text, 63),
            };
            if valid {
                Ok(Some(json!(text)))
            } else {
                Err(format!(
                    "{} must name an instance: name, or namespace/name in another namespace",
                    param.label
                ))
            }
        }
    }
}

/// The `(namespace, name)` a reference's value names, seen from an instance
/// in `own_namespace`: `name` is an instance in the same namespace,
/// `namespace/name` one in another namespace (one that serves it, such as an
/// operator watching it).
pub fn reference_target(value: &str, own_namespace: &str) -> (String, String) {
    match value.split_once('/') {
        Some((namespace, name)) => (namespace.to_owned(), name.to_owned()),
        None => (own_namespace.to_owned(), value.to_owned()),
    }
}

/// The value that refers, from an instance in `own_namespace`, to instance
/// `name` in `namespace`: the inverse of [`reference_target`].
pub fn reference_value(namespace: &str, name: &str, own_namespace: &str) -> String {
    if namespace == own_namespace {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    }
}

/// `local://, https:// or s3://`.
pub(super) fn scheme_list(schemes: &[&str]) -> String {
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

/// Longest password accepted for a Secret parameter.
pub const SECRET_MAX_CHARS: usize = 128;

/// A DNS-1123 label, as a regular expression.
pub const DNS_LABEL_PATTERN: &str = "^[a-z]([-a-z0-9]*[a-z0-9])?$";

/// Longest instance name: object names add suffixes such as `-rest` and
/// `-taskmanager` and must stay within Kubernetes' 63-character labels.
pub const INSTANCE_NAME_MAX: usize = 40;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_an_instance_here_or_in_a_namespace_that_it_serves() {
        assert_eq!(
            reference_target("op", "data"),
            ("data".to_owned(), "op".to_owned())
        );
        assert_eq!(
            reference_target("ops/op", "data"),
            ("ops".to_owned(), "op".to_owned())
        );
        assert_eq!(reference_value("data", "op", "data"), "op");
        assert_eq!(reference_value("ops", "op", "data"), "ops/op");
        let param = Param::reference("operator", "Flink operator", "x", &[], "");
        for good in ["op", "ops/op"] {
            assert!(parse(&param, good).is_ok(), "{good}");
        }
        for bad in ["Op", "ops/", "/op", "a/b/c", "ops/Op"] {
            assert!(parse(&param, bad).is_err(), "{bad}");
        }
    }
}
