//! MinIO, an S3-compatible object store.

use crate::catalog::params::is_dns_label;
use crate::catalog::params::{Param, ParamKind};
use crate::catalog::{AppDefinition, Category, FieldErrors, Values};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "minio",
    display_name: "MinIO",
    icon: "Mi",
    category: Category::Storage,
    summary: "S3-compatible object storage for checkpoints, savepoints and HA metadata.",
    description: "A MinIO server (S3 API on port 9000, console on 9001). Flink reaches it \
        through its S3 file system plugin with path-style access; its credentials are kept \
        in a Kubernetes Secret.",
    versions: &["RELEASE.2025-04-22T22-12-26Z"],
    dependencies: &[],
    web_ui: Some("MinIO console (port 9001)"),
    homepage: "https://min.io/",
    params: &[
        Param::bytes(
            "storage",
            "Storage",
            "50Gi",
            ("1Gi", "100Ti"),
            "Persistent volume of the MinIO server.",
        ),
        Param::bytes(
            "memory",
            "Memory",
            "1Gi",
            ("512Mi", "64Gi"),
            "Memory of the MinIO server.",
        ),
        Param {
            key: "bucket",
            label: "Bucket",
            help: "Bucket created at install for Flink's checkpoints, savepoints and HA metadata.",
            kind: ParamKind::Text { max_len: 63 },
            default: Some("flink"),
            shown_when: &[],
        },
        Param::secret(
            "rootPassword",
            "Root password",
            "Kept in a Secret; leave empty to generate one.",
        ),
    ],
    rules,
};

/// S3 bucket names: 3 to 63 lowercase letters, digits and hyphens.
fn rules(_version: &str, values: &Values) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Some(bucket) = values.get("bucket").and_then(|v| v.as_str())
        && (bucket.len() < 3 || !is_dns_label(bucket, 63))
    {
        errors.insert(
            "bucket".into(),
            "Bucket must be 3 to 63 lowercase letters, digits and hyphens".into(),
        );
    }
    errors
}
