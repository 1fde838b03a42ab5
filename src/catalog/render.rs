//! Rendering: parameters and resolved dependencies → Kubernetes objects.
//!
//! Pure and deterministic: the same input gives the same objects, so they can
//! be previewed, stored per revision, diffed and unit-tested without a cluster.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;
use uuid::Uuid;

use super::Values;

/// Label keys every object dataport applies carries; uninstall and prune find
/// objects by them.
pub mod labels {
    /// `dataport`.
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
    /// The instance's name.
    pub const INSTANCE: &str = "app.kubernetes.io/instance";
    /// The catalog app's name.
    pub const NAME: &str = "app.kubernetes.io/name";
    /// `dataport`.
    pub const PART_OF: &str = "app.kubernetes.io/part-of";
    /// The part of the app a pod is (`create-bucket`, `namenode`, ...).
    pub const COMPONENT: &str = "app.kubernetes.io/component";
    /// Annotation with the instance's id.
    pub const INSTANCE_ID: &str = "dataport.io/instance-id";
}

/// The instance being rendered.
#[derive(Debug, Clone)]
pub struct Target {
    /// Instance id, written as an annotation.
    pub id: Uuid,
    /// Catalog app name.
    pub app: &'static str,
    /// Instance name (a DNS label).
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// App version.
    pub version: String,
}

/// An instance that a reference parameter resolved to.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Its instance name (its objects' name prefix).
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its parameters.
    pub params: Values,
}

/// Everything a render needs.
#[derive(Debug, Clone)]
pub struct RenderInput {
    /// The instance.
    pub target: Target,
    /// Its validated parameters.
    pub values: Values,
    /// What its reference parameters resolved to, by parameter key.
    pub references: BTreeMap<String, Resolved>,
}

/// A rendered object, in the JSON form it is applied in.
pub type Object = Value;

/// Why a render failed: a bug or an input the validation let through.
#[derive(Debug, Error, PartialEq)]
pub enum RenderError {
    /// A parameter the render needs has no value.
    #[error("parameter {0} is missing")]
    Missing(&'static str),
    /// A reference was not resolved.
    #[error("reference {0} is not resolved")]
    Unresolved(&'static str),
    /// An object could not be encoded.
    #[error("cannot encode {kind}: {message}")]
    Encode {
        /// Kind of the object.
        kind: &'static str,
        /// The encoder's message.
        message: String,
    },
}

impl RenderInput {
    /// Metadata for an object of this instance named `name`, with the labels
    /// and annotation every dataport object carries.
    pub fn metadata(&self, name: impl Into<String>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some(self.target.namespace.clone()),
            labels: Some(self.labels()),
            annotations: Some(BTreeMap::from([(
                labels::INSTANCE_ID.to_owned(),
                self.target.id.to_string(),
            )])),
            ..ObjectMeta::default()
        }
    }

    /// The four labels of every object of this instance.
    pub fn labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (labels::MANAGED_BY.to_owned(), "dataport".to_owned()),
            (labels::INSTANCE.to_owned(), self.target.name.clone()),
            (labels::NAME.to_owned(), self.target.app.to_owned()),
            (labels::PART_OF.to_owned(), "dataport".to_owned()),
        ])
    }

    /// The labels that select this instance's pods.
    pub fn selector(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (labels::INSTANCE.to_owned(), self.target.name.clone()),
            (labels::NAME.to_owned(), self.target.app.to_owned()),
        ])
    }

    /// A text parameter.
    pub fn text(&self, key: &'static str) -> Result<&str, RenderError> {
        self.values
            .get(key)
            .and_then(Value::as_str)
            .ok_or(RenderError::Missing(key))
    }

    /// A text parameter added after instances were stored: `""` when absent
    /// (instances installed before it keep rendering as they did).
    pub fn text_or_empty(&self, key: &str) -> &str {
        self.values.get(key).and_then(Value::as_str).unwrap_or("")
    }

    /// A whole-number parameter.
    pub fn int(&self, key: &'static str) -> Result<i64, RenderError> {
        self.values
            .get(key)
            .and_then(Value::as_i64)
            .ok_or(RenderError::Missing(key))
    }

    /// A whole-number parameter added after instances were stored: `None`
    /// when absent (instances installed before it keep rendering as they did).
    pub fn int_if_set(&self, key: &str) -> Option<i64> {
        self.values.get(key).and_then(Value::as_i64)
    }

    /// A toggle (off when absent).
    pub fn is_on(&self, key: &str) -> bool {
        self.values.get(key) == Some(&Value::Bool(true))
    }

    /// The instance a reference parameter resolved to.
    pub fn reference(&self, key: &'static str) -> Result<&Resolved, RenderError> {
        self.references.get(key).ok_or(RenderError::Unresolved(key))
    }
}

/// Encodes a typed object (with its `apiVersion` and `kind`) as JSON.
pub fn object<K>(resource: &K) -> Result<Object, RenderError>
where
    K: Serialize + k8s_openapi::Resource,
{
    let mut value = serde_json::to_value(resource).map_err(|e| RenderError::Encode {
        kind: K::KIND,
        message: e.to_string(),
    })?;
    value["apiVersion"] = Value::from(K::API_VERSION);
    value["kind"] = Value::from(K::KIND);
    Ok(value)
}

/// Hex digits of the hash [`hashed_name`] appends.
const NAME_HASH_DIGITS: usize = 8;

/// `base`, a hyphen and the first 8 hex digits of the SHA-256 of `content`'s
/// JSON, e.g. `store-create-bucket-1a2b3c4d`: for objects whose content cannot
/// change once created (a Job's `spec.template` is immutable), so that new
/// content is a new object and the update's prune deletes the old one.
/// `base` plus 9 characters must stay within 63 (a Job's name is also a
/// label value).
pub fn hashed_name(base: &str, content: &impl Serialize) -> Result<String, RenderError> {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(content).map_err(|e| RenderError::Encode {
        kind: "name hash",
        message: e.to_string(),
    })?;
    let digest = Sha256::digest(&json);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{base}-{}", &hex[..NAME_HASH_DIGITS]))
}

/// Whether `name` is `base` followed by the hash [`hashed_name`] appends.
pub fn is_hashed_name(name: &str, base: &str) -> bool {
    name.strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hash| {
            hash.len() == NAME_HASH_DIGITS
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// The order objects are applied in: what others refer to first.
pub fn apply_rank(object: &Object) -> u8 {
    match object["kind"].as_str().unwrap_or_default() {
        "Namespace" => 0,
        "ServiceAccount" | "Role" | "RoleBinding" => 1,
        "Secret" => 2,
        "ConfigMap" => 3,
        "PersistentVolumeClaim" => 4,
        "Service" => 5,
        "Deployment" | "StatefulSet" => 6,
        _ => 7,
    }
}

/// Sorts objects into apply order, then by kind and name, so that the same
/// input always gives the same list.
pub fn in_apply_order(mut objects: Vec<Object>) -> Vec<Object> {
    objects.sort_by(|a, b| {
        (
            apply_rank(a),
            a["kind"].as_str(),
            a["metadata"]["name"].as_str(),
        )
            .cmp(&(
                apply_rank(b),
                b["kind"].as_str(),
                b["metadata"]["name"].as_str(),
            ))
    });
    objects
}

/// Secret values shown instead of the real ones (preview, stored revisions).
pub const MASK: &str = "********";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_name_changes_with_its_content_only() {
        let first = hashed_name("store-create-bucket", &["flink"]).unwrap();
        assert_eq!(
            first,
            hashed_name("store-create-bucket", &["flink"]).unwrap()
        );
        assert_ne!(
            first,
            hashed_name("store-create-bucket", &["checkpoints"]).unwrap()
        );
        assert!(is_hashed_name(&first, "store-create-bucket"), "{first}");
        assert!(!is_hashed_name(
            "store-create-bucket",
            "store-create-bucket"
        ));
        assert!(!is_hashed_name(
            "store-create-bucket-x1",
            "store-create-bucket"
        ));
        assert!(!is_hashed_name(&first, "store"));
    }
}
