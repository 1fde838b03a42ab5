//! Does one CRD keep everything another keeps? A pure comparison of two
//! structural `openAPIV3Schema`s (and of two CRDs' served versions and
//! subresources), used to test dataport's CRDs against the operator's and to
//! never install a CRD that would make the cluster's narrower.
//!
//! What counts, after the Kubernetes rules for structural schemas
//! (kubernetes.io, "Extend the Kubernetes API with CustomResourceDefinitions":
//! pruning, `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-int-or-string`):
//! a field the first schema keeps is *lost* by the second when the second
//! prunes it (no such property, no `additionalProperties`, no
//! `x-kubernetes-preserve-unknown-fields` at that level), refuses its type,
//! lists fewer enum values, adds a bound or pattern the first lacks, or
//! requires a field the first does not. `description`, `nullable` (a null
//! carries nothing; dataport never writes one), `default`, `example` and the
//! number formats (`int32`, `int64`, `double`, ...) are not compared.

use std::collections::BTreeSet;
use std::fmt;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Map, Value, json};

/// One place where the second schema loses what the first keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loss {
    /// Where: `.spec.job.state`; `[]` for the items of a list, `.*` for any
    /// key of a map or any unknown field.
    pub path: String,
    /// What the second does there.
    pub reason: LossReason,
}

/// What the second schema does to a value the first keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LossReason {
    /// It has no such field and does not keep unknown ones: the field is pruned.
    Pruned,
    /// It accepts fewer types (`first`/`second` list them; `any` for no type).
    Type {
        /// Types the first accepts.
        first: String,
        /// Types the second accepts.
        second: String,
    },
    /// It lists fewer enum values; `missing` are the first's values it refuses
    /// (empty when the first has no enum at all).
    Enum {
        /// Values the first accepts that the second refuses.
        missing: Vec<Value>,
    },
    /// It requires a field the first does not.
    Required {
        /// The required field's name.
        field: String,
    },
    /// It has a validation keyword (`minimum`, `pattern`, ...) the first has
    /// not, or with another value.
    Constraint {
        /// The keyword.
        keyword: String,
    },
    /// A version of the CRD the first serves is not served by the second.
    VersionNotServed,
    /// A subresource (`status`, `scale`) the first has is missing or different.
    Subresource,
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "."
        } else {
            &self.path
        };
        match &self.reason {
            LossReason::Pruned => write!(f, "{path}: pruned"),
            LossReason::Type { first, second } => {
                write!(f, "{path}: type {first} narrowed to {second}")
            }
            LossReason::Enum { missing } if missing.is_empty() => {
                write!(f, "{path}: values limited to an enum")
            }
            LossReason::Enum { missing } => {
                let missing: Vec<String> = missing.iter().map(Value::to_string).collect();
                write!(f, "{path}: refuses {}", missing.join(", "))
            }
            LossReason::Required { field } => write!(f, "{path}: requires {field}"),
            LossReason::Constraint { keyword } => write!(f, "{path}: adds or changes {keyword}"),
            LossReason::VersionNotServed => write!(f, "{path}: version not served"),
            LossReason::Subresource => write!(f, "{path}: subresource missing or different"),
        }
    }
}

/// Validation keywords compared as they are: the second may only have them
/// if the first has the same.
const CONSTRAINTS: [&str; 15] = [
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "allOf",
    "oneOf",
    "not",
];

/// Every place where `second` loses a value `first` accepts and keeps; empty
/// when `second` keeps all `first` keeps. Both are `openAPIV3Schema` values.
pub fn losses(first: &Value, second: &Value) -> Vec<Loss> {
    let mut out = Vec::new();
    compare(first, second, String::new(), &mut out);
    out
}

/// [`losses`] between two CRDs of one kind: for each version `first` serves,
/// the same version of `second` (by name) must be served, keep all its schema
/// keeps and have the same `status` and `scale` subresources. Paths start
/// with the version, e.g. `v1beta1.spec.image`.
pub fn crd_losses(
    first: &CustomResourceDefinition,
    second: &CustomResourceDefinition,
) -> Vec<Loss> {
    let mut out = Vec::new();
    for version in first.spec.versions.iter().filter(|v| v.served) {
        let Some(other) = second
            .spec
            .versions
            .iter()
            .find(|v| v.name == version.name && v.served)
        else {
            out.push(Loss {
                path: version.name.clone(),
                reason: LossReason::VersionNotServed,
            });
            continue;
        };
        let schema = |v: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinitionVersion| {
            v.schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref())
                .and_then(|s| serde_json::to_value(s).ok())
                .unwrap_or_else(|| json!({"x-kubernetes-preserve-unknown-fields": true}))
        };
        compare(
            &schema(version),
            &schema(other),
            version.name.clone(),
            &mut out,
        );
        let subresources = |v: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinitionVersion| {
            let s = v.subresources.as_ref();
            (
                s.map(|s| s.status.is_some()).unwrap_or(false),
                s.and_then(|s| s.scale.clone()),
            )
        };
        let (status, scale) = subresources(version);
        let (other_status, other_scale) = subresources(other);
        if status && !other_status {
            out.push(Loss {
                path: format!("{}/status", version.name),
                reason: LossReason::Subresource,
            });
        }
        if scale.is_some() && scale != other_scale {
            out.push(Loss {
                path: format!("{}/scale", version.name),
                reason: LossReason::Subresource,
            });
        }
    }
    out
}

/// Whether a loss lies inside a pod template (`...podTemplate` or below).
/// dataport's CRDs leave pod templates open (any field kept) where the
/// operator's spell out a Pod; a CRD that spells them out loses nothing
/// dataport writes there (the integration tests render against the
/// operator's CRDs), so such losses do not make it narrower for dataport.
pub fn in_pod_template(loss: &Loss) -> bool {
    loss.path
        .split(['.', '[', '/'])
        .any(|segment| segment == "podTemplate")
}

fn compare(first: &Value, second: &Value, path: String, out: &mut Vec<Loss>) {
    let (first_types, second_types) = (types(first), types(second));
    if let Some(second_types) = &second_types {
        let refused = match &first_types {
            None => true,
            Some(first_types) => first_types.iter().any(|t| {
                !(second_types.contains(t) || (*t == "integer" && second_types.contains("number")))
            }),
        };
        if refused {
            out.push(Loss {
                path,
                reason: LossReason::Type {
                    first: type_text(&first_types),
                    second: type_text(&Some(second_types.clone())),
                },
            });
            return;
        }
    }
    if let Some(second_enum) = second.get("enum").and_then(Value::as_array) {
        let missing: Vec<Value> = match first.get("enum").and_then(Value::as_array) {
            None => Vec::new(),
            Some(first_enum) => first_enum
                .iter()
                .filter(|v| !second_enum.contains(v))
                .cloned()
                .collect(),
        };
        if first.get("enum").is_none() || !missing.is_empty() {
            out.push(Loss {
                path: path.clone(),
                reason: LossReason::Enum { missing },
            });
        }
    }
    let is_string = second_types.as_ref().is_some_and(|t| t.contains("string"));
    let constraints = CONSTRAINTS
        .iter()
        .copied()
        .chain(is_string.then_some("format"))
        .chain(["x-kubernetes-validations"]);
    for keyword in constraints {
        if let Some(value) = second.get(keyword)
            && first.get(keyword) != Some(value)
        {
            out.push(Loss {
                path: path.clone(),
                reason: LossReason::Constraint {
                    keyword: keyword.to_owned(),
                },
            });
        }
    }
    let first_required = names(first.get("required"));
    for field in names(second.get("required")) {
        if !first_required.contains(&field) {
            out.push(Loss {
                path: path.clone(),
                reason: LossReason::Required { field },
            });
        }
    }
    compare_fields(first, second, &path, out);
    if let Some(first_items) = first.get("items") {
        let second_items = second.get("items").unwrap_or(&Value::Null);
        if second_items.is_object() {
            compare(first_items, second_items, format!("{path}[]"), out);
        }
    }
}

/// The object part: properties, maps and unknown fields.
fn compare_fields(first: &Value, second: &Value, path: &str, out: &mut Vec<Loss>) {
    let empty = Map::new();
    let first_properties = first
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let second_properties = second
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let second_map = second.get("additionalProperties").filter(|v| v.is_object());
    let second_keeps_unknown = preserves(second)
        || second.get("additionalProperties") == Some(&Value::Bool(true))
        || is_any(second);
    // Where the second has no schema for a field: a map's value schema, or
    // nothing (kept as is, or pruned).
    let elsewhere = |field: String, value: &Value, out: &mut Vec<Loss>| {
        if let Some(map) = second_map {
            compare(value, map, field, out);
        } else if !second_keeps_unknown {
            out.push(Loss {
                path: field,
                reason: LossReason::Pruned,
            });
        }
    };
    for (name, value) in first_properties {
        let field = format!("{path}.{name}");
        match second_properties.get(name) {
            Some(other) => compare(value, other, field, out),
            None => elsewhere(field, value, out),
        }
    }
    // Fields the first keeps beyond its properties: a map's values, or
    // anything at all when it keeps unknown fields.
    let first_other = match first.get("additionalProperties") {
        Some(map) if map.is_object() => Some(map.clone()),
        _ if preserves(first) || first.get("additionalProperties") == Some(&Value::Bool(true)) => {
            Some(json!({"x-kubernetes-preserve-unknown-fields": true}))
        }
        _ => None,
    };
    if let Some(first_other) = first_other {
        // Named fields of the second get any value the first keeps.
        for (name, other) in second_properties {
            if !first_properties.contains_key(name) {
                compare(&first_other, other, format!("{path}.{name}"), out);
            }
        }
        elsewhere(format!("{path}.*"), &first_other, out);
    }
}

/// The types a schema accepts; `None` for any.
fn types(schema: &Value) -> Option<BTreeSet<String>> {
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        return Some(["integer", "string"].map(str::to_owned).into());
    }
    schema
        .get("type")
        .and_then(Value::as_str)
        .map(|t| BTreeSet::from([t.to_owned()]))
}

fn type_text(types: &Option<BTreeSet<String>>) -> String {
    match types {
        None => "any".to_owned(),
        Some(types) => types.iter().cloned().collect::<Vec<_>>().join("|"),
    }
}

fn preserves(schema: &Value) -> bool {
    schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
}

/// A schema with nothing to say about the value's shape (`{}`): only legal
/// inside a field that keeps unknown fields, and keeps whatever it holds.
fn is_any(schema: &Value) -> bool {
    schema.as_object().is_some_and(|s| {
        !s.contains_key("type")
            && !s.contains_key("properties")
            && !s.contains_key("additionalProperties")
            && !s.contains_key("items")
            && !s.contains_key("x-kubernetes-int-or-string")
    }) && preserves(schema)
}

fn names(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(first: &Value, second: &Value) -> Vec<String> {
        let mut paths: Vec<String> = losses(first, second).iter().map(Loss::to_string).collect();
        paths.sort();
        paths
    }

    #[test]
    fn a_missing_field_is_pruned_unless_unknown_fields_are_kept() {
        let first = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}});
        let second = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        assert_eq!(paths(&first, &second), [".b: pruned"]);
        assert!(paths(&second, &first).is_empty());
        let open = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
        assert!(paths(&first, &open).is_empty());
    }

    #[test]
    fn open_objects_lose_to_closed_ones() {
        let open = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
        let closed = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        assert_eq!(
            paths(&open, &closed),
            [".*: pruned", ".a: type any narrowed to string"]
        );
    }

    #[test]
    fn types_enums_maps_lists_and_required_are_compared() {
        let first = json!({"type": "object", "properties": {
            "n": {"type": "integer"},
            "e": {"type": "string", "enum": ["a", "b"]},
            "m": {"type": "object", "additionalProperties": {"type": "string"}},
            "l": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string"}}}},
            "q": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}
        }});
        assert!(paths(&first, &first).is_empty());
        let second = json!({"type": "object", "required": ["n"], "properties": {
            "n": {"type": "number", "minimum": 1},
            "e": {"type": "string", "enum": ["a"]},
            "m": {"type": "object", "additionalProperties": {"type": "integer"}},
            "l": {"type": "array", "items": {"type": "object"}},
            "q": {"type": "string"}
        }});
        assert_eq!(
            paths(&first, &second),
            [
                ".: requires n",
                ".e: refuses \"b\"",
                ".l[].x: pruned",
                ".m.*: type string narrowed to integer",
                ".n: adds or changes minimum",
                ".q: type integer|string narrowed to string",
            ]
        );
    }

    #[test]
    fn pod_template_losses_are_recognised() {
        let loss = |path: &str| Loss {
            path: path.to_owned(),
            reason: LossReason::Pruned,
        };
        assert!(in_pod_template(&loss("v1beta1.spec.podTemplate.*")));
        assert!(in_pod_template(&loss(
            "v1beta1.spec.taskManager.podTemplate.spec.containers[].x"
        )));
        assert!(!in_pod_template(&loss("v1beta1.spec.podTemplates")));
    }
}
