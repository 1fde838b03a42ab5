//! JSON Schema of install requests, generated from the parameter schemas.

use serde_json::{Value, json};

use super::AppDefinition;
use super::params::{DNS_LABEL_PATTERN, INSTANCE_NAME_MAX, Param, ParamKind, SECRET_MAX_CHARS};
use super::quantity::QuantityKind;

/// The JSON Schema of an install request for an app: name, namespace,
/// version and its parameters object.
pub fn install_schema(app: &AppDefinition) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("Install {}", app.display_name),
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "namespace", "params"],
        "properties": {
            "app": {"const": app.name},
            "name": {"type": "string", "pattern": DNS_LABEL_PATTERN, "maxLength": INSTANCE_NAME_MAX,
                     "description": "Instance name: lowercase letters, digits and hyphens."},
            "namespace": {"type": "string", "pattern": DNS_LABEL_PATTERN, "maxLength": 63,
                          "description": "Kubernetes namespace of the instance."},
            "version": {"type": "string", "enum": app.versions, "default": app.default_version()},
            "params": json_schema(app.params),
        },
    })
}

/// The JSON Schema of an app's parameters object.
pub fn json_schema(params: &[Param]) -> Value {
    let properties: serde_json::Map<String, Value> = params
        .iter()
        .map(|param| {
            let mut schema = match param.kind {
                ParamKind::Text { max_len } => json!({"type": "string", "maxLength": max_len}),
                ParamKind::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
                ParamKind::Quantity { kind, min, max } => json!({
                    "type": "string",
                    "pattern": r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi|Ei)?$",
                    "x-dataport-quantity": match kind { QuantityKind::Cpu => "cpu", QuantityKind::Bytes => "bytes" },
                    "x-dataport-minimum": min,
                    "x-dataport-maximum": max,
                }),
                ParamKind::Toggle => json!({"type": "boolean"}),
                ParamKind::Choice { options } => json!({
                    "type": "string",
                    "enum": options.iter().map(|c| c.value).collect::<Vec<_>>(),
                }),
                ParamKind::Secret { .. } => json!({"type": "string", "writeOnly": true, "minLength": 8, "maxLength": SECRET_MAX_CHARS}),
                ParamKind::Uri { schemes, max_len, .. } => json!({
                    "type": "string",
                    "format": "uri",
                    "maxLength": max_len,
                    "pattern": format!("^({})://", schemes.join("|")),
                }),
                ParamKind::Reference { app } => json!({
                    "type": "string",
                    "x-dataport-reference": app,
                }),
            };
            schema["title"] = json!(param.label);
            schema["description"] = json!(param.help);
            if let Some(default) = param.default {
                schema["default"] = match param.kind {
                    ParamKind::Int { .. } => default.parse::<i64>().map(|n| json!(n)).unwrap_or(json!(default)),
                    ParamKind::Toggle => json!(default == "true"),
                    _ => json!(default),
                };
            }
            if !param.shown_when.is_empty() {
                schema["x-dataport-shown-when"] = param
                    .shown_when
                    .iter()
                    .map(|(key, value)| (key.to_string(), json!(value)))
                    .collect::<serde_json::Map<_, _>>()
                    .into();
            }
            (param.key.to_owned(), schema)
        })
        .collect();
    let required: Vec<_> = params
        .iter()
        .filter(|p| p.is_required() && p.shown_when.is_empty())
        .map(|p| p.key)
        .collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
        "required": required,
    })
}
