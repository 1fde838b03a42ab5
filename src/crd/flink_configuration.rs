//! `spec.flinkConfiguration` of FlinkDeployment and FlinkSessionJob.
//!
//! In operator 1.15.0 the CRD declares it `x-kubernetes-preserve-unknown-fields`
//! with no type (helm/flink-kubernetes-operator/crds/flinkdeployments.flink.apache.org-v1.yml
//! at release-1.15.0), so a resource may carry nested YAML
//! (`taskmanager: {numberOfTaskSlots: 2}`) and numbers or booleans. dataport
//! renders flat text pairs; reading flattens whatever is there, so a resource
//! someone else wrote always reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The CRD's schema: anything, kept as it is.
pub fn schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "x-kubernetes-preserve-unknown-fields": true })
}

/// Reads a configuration as flat `key → text` pairs: nested maps become
/// dotted keys (`{a: {b: 1}}` → `a.b: "1"`), numbers and booleans their text,
/// lists of scalars Flink's flat list text (`a;b`), other lists their JSON
/// text; nulls are left out. `null` or absent reads as `None`; anything but
/// a map is an error.
pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<BTreeMap<String, String>>, D::Error>
where
    D: Deserializer<'de>,
{
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(flat(map))),
        Some(other) => Err(serde::de::Error::custom(format!(
            "flinkConfiguration must be a map, not {other}"
        ))),
    }
}

/// A configuration map (a `flinkConfiguration`, or Flink's standard
/// `config.yaml` read as YAML) as flat `key → text` pairs, by the rules of
/// [`deserialize`].
pub fn flat(map: serde_json::Map<String, Value>) -> BTreeMap<String, String> {
    let mut flat = BTreeMap::new();
    for (key, value) in map {
        flatten(key, value, &mut flat);
    }
    flat
}

fn flatten(key: String, value: Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Null => {}
        Value::Object(map) => {
            for (inner, value) in map {
                flatten(format!("{key}.{inner}"), value, out);
            }
        }
        Value::Array(items)
            if items
                .iter()
                .all(|item| !item.is_object() && !item.is_array()) =>
        {
            let texts: Vec<String> = items.into_iter().filter_map(scalar_text).collect();
            out.insert(key, texts.join(";"));
        }
        Value::Array(items) => {
            out.insert(key, Value::Array(items).to_string());
        }
        scalar => {
            if let Some(text) = scalar_text(scalar) {
                out.insert(key, text);
            }
        }
    }
}

fn scalar_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::crd::FlinkDeploymentSpec;

    #[test]
    fn nested_yaml_and_numbers_read_as_flat_text() {
        let spec: FlinkDeploymentSpec = serde_json::from_value(json!({
            "flinkConfiguration": {
                "taskmanager": {"numberOfTaskSlots": 2, "memory": {"process": {"size": "2g"}}},
                "state.backend.incremental": true,
                "parallelism.default": 4,
                "pipeline.classpaths": ["file:///a.jar", "file:///b.jar"],
                "gone": null,
                "high-availability.type": "kubernetes"
            }
        }))
        .unwrap();
        let configuration = spec.flink_configuration.unwrap();
        let pairs: Vec<(&str, &str)> = configuration
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("high-availability.type", "kubernetes"),
                ("parallelism.default", "4"),
                ("pipeline.classpaths", "file:///a.jar;file:///b.jar"),
                ("state.backend.incremental", "true"),
                ("taskmanager.memory.process.size", "2g"),
                ("taskmanager.numberOfTaskSlots", "2"),
            ]
        );
    }

    #[test]
    fn absent_or_null_is_none_and_a_list_is_refused() {
        let absent: FlinkDeploymentSpec = serde_json::from_value(json!({})).unwrap();
        assert_eq!(absent.flink_configuration, None);
        let null: FlinkDeploymentSpec =
            serde_json::from_value(json!({"flinkConfiguration": null})).unwrap();
        assert_eq!(null.flink_configuration, None);
        let list =
            serde_json::from_value::<FlinkDeploymentSpec>(json!({"flinkConfiguration": [1]}));
        assert!(list.is_err());
    }
}
