//! MinIO, an S3-compatible object store.

use crate::catalog::{AppDefinition, Category};

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
};
