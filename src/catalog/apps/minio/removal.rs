//! Removing objects from a MinIO instance with its client: the Job an
//! uninstall runs to delete a Flink cluster's savepoints.

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::mc_container;
use crate::catalog::render::{Object, RenderError, hashed_name, labels, object};

/// A Job, in MinIO instance `minio`'s `namespace` (where its credentials
/// are), that removes every object under `location` from it with `mc rm
/// --recursive --force` (mc requires both for a recursive removal; one
/// `Removing `…`.` line per object), when anything is there, named
/// after `owner` (the instance whose objects they are) and the location.
/// No retry inside the pod and one more pod at most; Kubernetes deletes it
/// 10 minutes after it ends, should nobody else. Errors: the location has
/// no prefix (a whole bucket is never removed).
pub fn remove_objects_job(
    namespace: &str,
    minio: &str,
    location: &S3Location,
    owner: &str,
) -> Result<Object, RenderError> {
    if location.prefix.is_empty() {
        return Err(RenderError::Missing("a prefix below the bucket"));
    }
    // mc's recursive rm fails when nothing is under the prefix (minio/mc
    // cmd/rm-main.go, listAndRemove): an empty directory is listed first.
    let target = format!("dataport/{}/{}", location.bucket, location.prefix);
    let script = format!(
        "mc alias set dataport http://{minio}.{namespace}.svc:9000 \"$MINIO_ROOT_USER\" \"$MINIO_ROOT_PASSWORD\" \
         && if [ -n \"$(mc ls --recursive {target})\" ]; then mc rm --recursive --force {target}; fi"
    );
    let labels = std::collections::BTreeMap::from([
        (labels::COMPONENT.to_owned(), "delete-savepoints".to_owned()),
        (labels::PART_OF.to_owned(), "dataport".to_owned()),
    ]);
    let job = Job {
        metadata: ObjectMeta {
            name: Some(hashed_name(
                &format!("{owner}-delete-savepoints"),
                &location.to_string(),
            )?),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels.clone()),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(1),
            ttl_seconds_after_finished: Some(600),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    containers: vec![mc_container("delete-savepoints", minio, script)],
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        ..Job::default()
    };
    object(&job)
}

/// An S3 location, `s3://<bucket>/<prefix>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket's name.
    pub bucket: String,
    /// The key prefix, ending in `/` (so that `a/savepoints/` does not take in
    /// `a/savepoints-old/`); empty for the whole bucket.
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket[/prefix]` (also Hadoop's `s3a://` and `s3p://`,
    /// which Flink's S3 file systems register); `None` for anything else.
    pub fn parse(uri: &str) -> Option<S3Location> {
        let rest = ["s3://", "s3a://", "s3p://"]
            .iter()
            .find_map(|scheme| uri.strip_prefix(scheme))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        (!bucket.is_empty()).then(|| S3Location {
            bucket: bucket.to_owned(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::super::MC_IMAGE;
    use super::*;

    #[test]
    fn s3_locations_end_their_prefix_with_a_slash() {
        let location = S3Location::parse("s3://flink/streaming/analytics/savepoints").unwrap();
        assert_eq!(location.bucket, "flink");
        assert_eq!(location.prefix, "streaming/analytics/savepoints/");
        assert_eq!(
            location.to_string(),
            "s3://flink/streaming/analytics/savepoints/"
        );
        assert_eq!(S3Location::parse("s3a://flink/").unwrap().prefix, "");
        assert_eq!(S3Location::parse("hdfs://nn:8020/flink"), None);
        assert_eq!(S3Location::parse("s3:///x"), None);
    }

    #[test]
    fn the_removal_job_removes_only_below_its_prefix_with_the_instances_credentials() {
        let location = S3Location::parse("s3://flink/streaming/analytics/savepoints").unwrap();
        let job = remove_objects_job("storage", "store", &location, "analytics").unwrap();
        assert_eq!(job["metadata"]["namespace"], "storage");
        assert!(
            job["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("analytics-delete-savepoints-")
        );
        let container = &job["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], MC_IMAGE);
        let script = container["command"][2].as_str().unwrap();
        assert!(script.contains("http://store.storage.svc:9000"), "{script}");
        assert!(
            script.ends_with(
                "then mc rm --recursive --force dataport/flink/streaming/analytics/savepoints/; fi"
            ),
            "{script}"
        );
        assert_eq!(
            container["env"][0]["valueFrom"]["secretKeyRef"]["name"],
            "store-credentials"
        );
        let bucket = S3Location::parse("s3://flink").unwrap();
        assert!(remove_objects_job("storage", "store", &bucket, "analytics").is_err());
    }
}
