//! Deleting a Flink cluster's savepoint directory when it is uninstalled, if
//! the user asks: only for savepoints on S3 of a MinIO instance dataport
//! installed, whose root credentials let a Job in its namespace remove them
//! (`catalog::remove_objects_job`). Other storage (HDFS, an S3 outside
//! dataport) keeps its savepoints: dataport holds no credentials for it.

use super::super::{Service, ServiceError};
use crate::catalog::params::reference_target;
use crate::catalog::{S3Location, remove_objects_job};
use crate::store::{Instance, InstanceStatus};

/// The uninstall form's field asking for the savepoint directory's deletion.
pub const DELETE_SAVEPOINTS_FIELD: &str = "delete_savepoints";

/// The MinIO instance that holds a cluster's savepoints, and where.
pub struct SavepointStore {
    /// The MinIO instance.
    pub minio: Instance,
    /// The savepoint directory, as the FlinkDeployment names it.
    pub dir: String,
    /// That directory as a bucket and prefix.
    pub location: S3Location,
}

impl Service {
    /// Where Flink cluster `cluster`'s savepoints are, when an uninstall can
    /// delete them: its storage is S3 on a MinIO instance dataport installed
    /// and still runs, and its savepoint directory (read live) is a prefix of
    /// that instance's bucket. `Err` (field [`DELETE_SAVEPOINTS_FIELD`]) says
    /// why not.
    pub async fn savepoint_store(
        &self,
        cluster: &Instance,
    ) -> Result<SavepointStore, ServiceError> {
        let refuse = |message: String| ServiceError::invalid(DELETE_SAVEPOINTS_FIELD, message);
        let on_minio = matches!(cluster.app.as_str(), "flink" | "flink-application")
            && cluster.params["storage"].as_str() == Some("s3");
        let reference = cluster.params["minio"].as_str().filter(|_| on_minio);
        let Some(reference) = reference else {
            return Err(refuse(format!(
                "{} keeps no savepoints on a MinIO instance of dataport's, so dataport cannot delete them",
                cluster.name
            )));
        };
        let (namespace, name) = reference_target(reference, &cluster.namespace);
        let minio = self
            .store
            .instance_named(&namespace, &name)
            .await?
            .filter(|minio| {
                minio.app == "minio"
                    && !matches!(
                        minio.status,
                        InstanceStatus::Uninstalled | InstanceStatus::Uninstalling
                    )
            })
            .ok_or_else(|| {
                refuse(format!(
                    "MinIO {namespace}/{name}, which keeps its savepoints, is not installed: nothing can delete them"
                ))
            })?;
        let dir = self.savepoint_dir(cluster).await?.ok_or_else(|| {
            refuse(format!(
                "{}'s savepoint directory cannot be read from its FlinkDeployment",
                cluster.name
            ))
        })?;
        let bucket = minio.params["bucket"].as_str().unwrap_or_default();
        let location = S3Location::parse(&dir)
            .filter(|location| location.bucket == bucket && !location.prefix.is_empty())
            .ok_or_else(|| {
                refuse(format!(
                    "Its savepoint directory {dir} is not a folder of bucket {bucket} of MinIO {name}"
                ))
            })?;
        Ok(SavepointStore {
            minio,
            dir,
            location,
        })
    }

    /// Deletes every object under `dir` (what [`Self::savepoint_store`]
    /// found for `cluster` when its uninstall was asked for) with a Job in
    /// the MinIO instance's namespace; returns how many it removed, counted
    /// from mc's `Removing `…`.` lines (minio/mc `cmd/rm-main.go`,
    /// `rmMessage`). `Err` is why it did not.
    pub(in crate::service) async fn delete_savepoint_dir(
        &self,
        cluster: &Instance,
        dir: &str,
    ) -> Result<usize, String> {
        let kube = self.cluster.as_ref().ok_or("no cluster is configured")?;
        let reference = cluster.params["minio"].as_str().unwrap_or_default();
        let (namespace, name) = reference_target(reference, &cluster.namespace);
        let location =
            S3Location::parse(dir).ok_or_else(|| format!("{dir} is not an S3 location"))?;
        let job = remove_objects_job(&namespace, &name, &location, &cluster.name)
            .map_err(|error| error.to_string())?;
        let log = kube
            .run_job_to_completion(&job)
            .await
            .map_err(|error| error.to_string())?;
        Ok(log
            .lines()
            .filter(|line| line.starts_with("Removing `"))
            .count())
    }
}
