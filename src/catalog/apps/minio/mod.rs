//! MinIO, an S3-compatible object store.

mod removal;

pub use removal::{S3Location, remove_objects_job};

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{Container, PodSecurityContext, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::catalog::render::{
    Object, RenderError, RenderInput, hashed_name, in_apply_order, labels, object,
};
use crate::catalog::workload::{
    Workload, env_from_secret, generated_secret, http_probe, run_as, timed,
};

use crate::catalog::contract::{Check, ContainerContract, Contract};
use crate::catalog::params::is_dns_label;
use crate::catalog::params::{Param, ParamKind};
use crate::catalog::{AppDefinition, Category, FieldErrors, Values, WebUi};

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
    version_notes: &[],
    dependencies: &[],
    web_ui: Some(WebUi {
        name: "minio-console",
        label: "MinIO console",
        service_suffix: "",
        port: 9001,
        note: Some("Log in with the Secret <name>-credentials (keys root-user, root-password)."),
        public_url_param: None,
        serves_proxy_path: false,
        service_param: None,
    }),
    homepage: "https://min.io/",
    groups: &[],
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
            "root-password",
            "Kept in a Secret; leave empty to generate one.",
        ),
    ],
    rules,
    scope: None,
    render,
    contract: &CONTRACT,
};

/// The MinIO client that creates the bucket: a fixed release of the same
/// month as the server (published as `minio/mc:RELEASE.2025-04-16T18-13-26Z`,
/// digest `sha256:aead63c77f9db9107f1696fb08ecb0faeda23729cde94b0f663edf4fe09728e3`).
/// MinIO's own chart pins its client the same way (minio/minio
/// `helm/minio/values.yaml`, `mcImage.tag`).
pub(crate) const MC_IMAGE: &str = "minio/mc:RELEASE.2025-04-16T18-13-26Z";

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

/// The MinIO server with generated root credentials, and a Job that creates
/// the bucket once the server answers, named `<name>-create-bucket-<hash of
/// its pod template>`.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let name = &input.target.name;
    let secret = format!("{name}-credentials");
    let bucket = input.text("bucket")?;
    let server = Workload {
        replicas: 1,
        image: format!("minio/minio:{}", input.target.version),
        args: vec![
            "server".into(),
            "/data".into(),
            "--console-address".into(),
            ":9001".into(),
        ],
        ports: vec![("api", 9000), ("console", 9001)],
        env: vec![
            env_from_secret("MINIO_ROOT_USER", &secret, "root-user"),
            env_from_secret("MINIO_ROOT_PASSWORD", &secret, "root-password"),
        ],
        memory: Some(input.text("memory")?.into()),
        storage: Some((input.text("storage")?.into(), "/data")),
        readiness: Some(http_probe("/minio/health/ready", "api")),
        liveness: Some(timed(http_probe("/minio/health/live", "api"), 10, 10, 3)),
        pod_security: Some(PodSecurityContext {
            fs_group_change_policy: Some("OnRootMismatch".into()),
            ..run_as(1000, 1000, 1000)
        }),
        ..Workload::default()
    };
    let create_bucket = format!(
        "until mc alias set dataport http://{name}.{}.svc:9000 \"$MINIO_ROOT_USER\" \"$MINIO_ROOT_PASSWORD\"; \
         do sleep 2; done; mc mb --ignore-existing dataport/{bucket}",
        input.target.namespace
    );
    // The server's Service selects the instance's pods of app `minio`; the
    // Job's pod is labelled as its own component instead, so the Service
    // never routes to it (the MinIO chart gives its Job a label `app` of its
    // own, `minio-job`: minio/minio helm/minio/templates/post-job.yaml @1fdf315f).
    let mut job_labels = input.labels();
    job_labels.remove(labels::NAME);
    job_labels.insert(labels::COMPONENT.into(), "create-bucket".into());
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(job_labels),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            restart_policy: Some("OnFailure".into()),
            containers: vec![mc_container("create-bucket", name, create_bucket)],
            ..PodSpec::default()
        }),
    };
    // A Job's pod template is immutable: a new bucket makes a new Job, and
    // the update's prune deletes the old one (the MinIO chart reruns its Job
    // as a post-install,post-upgrade hook deleted before each run, same file).
    let job = Job {
        metadata: input.metadata(hashed_name(&format!("{name}-create-bucket"), &template)?),
        spec: Some(JobSpec {
            backoff_limit: Some(10),
            template,
            ..JobSpec::default()
        }),
        ..Job::default()
    };
    let mut objects = server.render(input)?;
    objects.push(generated_secret(
        input,
        "credentials",
        &["root-user", "root-password"],
    )?);
    objects.push(object(&job)?);
    Ok(in_apply_order(objects))
}

/// A container of [`MC_IMAGE`] that runs `script` with `sh -c`, MinIO
/// instance `minio`'s root credentials in `MINIO_ROOT_USER` and
/// `MINIO_ROOT_PASSWORD` (from its `<minio>-credentials` Secret).
fn mc_container(name: &str, minio: &str, script: String) -> Container {
    let secret = format!("{minio}-credentials");
    Container {
        name: name.into(),
        image: Some(MC_IMAGE.into()),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        env: Some(vec![
            env_from_secret("MINIO_ROOT_USER", &secret, "root-user"),
            env_from_secret("MINIO_ROOT_PASSWORD", &secret, "root-password"),
        ]),
        ..Container::default()
    }
}

/// MinIO's contract with its images.
///
/// | | server (StatefulSet) | bucket Job (`<name>-create-bucket-<hash>`) |
/// |---|---|---|
/// | image | `minio/minio:<RELEASE.…>`, the offered release | `minio/mc:` [`MC_IMAGE`] |
/// | entrypoint | `/usr/bin/docker-entrypoint.sh`, which prefixes `minio`: args `server /data --console-address :9001` | `sh -c` (mc alias set; mc mb) |
/// | env | `MINIO_ROOT_USER`, `MINIO_ROOT_PASSWORD` | the same |
/// | files | `/data` (a volume per pod) | none |
/// | ports | `api` 9000, `console` 9001 | none |
/// | user | 1000, fsGroup 1000 (`OnRootMismatch`), as the chart | image's |
/// | probes | ready `/minio/health/ready`, live `/minio/health/live` on 9000 | none |
pub(super) const CONTRACT: Contract = Contract {
    tags: "minio/minio: the offered RELEASE.<timestamp> tag, which never moves; \
           minio/mc: one fixed RELEASE tag of the same month",
    first_start: "an empty /data is formatted by the server; the bucket is created by the \
                  Job once the API answers",
    lacks: "nothing dataport asks of it",
    sources: &[
        "minio/minio Dockerfile.release @0031b120 (ENTRYPOINT, VOLUME /data, EXPOSE 9000)",
        "minio/minio cmd/healthcheck-router.go @0a604533 (/minio/health/live, /ready)",
        "minio/minio helm/minio/values.yaml @b77c9ad2 (securityContext 1000/1000/1000, \
         OnRootMismatch; mcImage pinned to a RELEASE tag)",
        "minio/minio helm/minio/templates/deployment.yaml @00aa9841 (MINIO_ROOT_USER, \
         MINIO_ROOT_PASSWORD, --console-address)",
    ],
    containers: &[
        ContainerContract {
            kind: "StatefulSet",
            suffix: "",
            container: "minio",
            image: "minio/minio",
            command: &[],
            args: &["server", "/data", "--console-address", ":9001"],
            env: &["MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"],
            mounts: &["/data"],
            library_dir: None,
            ports: &[("api", 9000), ("console", 9001)],
            user: Some(1000),
            fs_group: Some(1000),
            readiness: Check::Http("/minio/health/ready", "api"),
            liveness: Check::Http("/minio/health/live", "api"),
        },
        ContainerContract {
            kind: "Job",
            suffix: "-create-bucket",
            container: "create-bucket",
            image: "minio/mc",
            command: &["sh", "-c"],
            args: &[],
            env: &["MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"],
            mounts: &[],
            library_dir: None,
            ports: &[],
            user: None,
            fs_group: None,
            readiness: Check::None,
            liveness: Check::None,
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::contract::testing::render;
    use crate::catalog::contract::{Coverage, violations};

    #[test]
    fn minio_keeps_its_contract() {
        let objects = render(&DEFINITION, &[], &[]);
        let faults = violations(&CONTRACT, "minio-main", &objects, Coverage::Exact);
        assert!(faults.is_empty(), "{faults:#?}");
        assert!(MC_IMAGE.starts_with("minio/mc:RELEASE."));
    }
}
