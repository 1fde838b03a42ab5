//! S3 as a user's tools see it: dataport's mc stand-in (`testenv/s3/mc-standin`)
//! against the MinIO instance's S3 server on the local cluster.

use std::path::Path;
use std::process::Command;

use k8s_openapi::api::core::v1::Secret;

/// Runs `mc ARGS` with its configuration in `config`: whether it succeeded,
/// and what it printed (stdout, then stderr).
pub fn mc(config: &Path, args: &[&str]) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testenv/s3/mc-standin/mc");
    let output = Command::new(script)
        .args(args)
        .env("MC_CONFIG_DIR", config)
        .output()
        .expect("run mc-standin");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The text of `key` in `secret`.
pub fn secret_value(secret: &Secret, key: &str) -> String {
    let bytes = &secret.data.as_ref().expect("data")[key].0;
    String::from_utf8(bytes.clone()).expect("UTF-8 secret")
}

/// What `mc ls` lists under `s3_path` (`s3://bucket/key`) on MinIO instance
/// `minio` of `namespace` (pod `<minio>-0`, Secret `<minio>-credentials`).
pub async fn list_in_bucket(
    client: &kube::Client,
    namespace: &str,
    minio: &str,
    s3_path: &str,
) -> String {
    mc_ls(client, namespace, minio, s3_path, false).await
}

/// Every object under `s3_path` (`mc ls --recursive`), keys relative to it.
pub async fn list_in_bucket_recursively(
    client: &kube::Client,
    namespace: &str,
    minio: &str,
    s3_path: &str,
) -> String {
    mc_ls(client, namespace, minio, s3_path, true).await
}

async fn mc_ls(
    client: &kube::Client,
    namespace: &str,
    minio: &str,
    s3_path: &str,
    recursive: bool,
) -> String {
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::Api;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = secrets
        .get(&format!("{minio}-credentials"))
        .await
        .expect("MinIO's Secret");
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let pod = pods.get(&format!("{minio}-0")).await.expect("MinIO's pod");
    let ip = super::flink::pod_ip(&pod);
    let config = tempfile::tempdir().expect("temp dir");
    let (ok, said) = mc(
        config.path(),
        &[
            "alias",
            "set",
            minio,
            &format!("http://{ip}:9000"),
            &secret_value(&secret, "root-user"),
            &secret_value(&secret, "root-password"),
        ],
    );
    assert!(ok, "{said}");
    let key = s3_path.trim_start_matches("s3://");
    let target = format!("{minio}/{key}");
    let mut args = vec!["ls"];
    if recursive {
        args.push("--recursive");
    }
    args.push(&target);
    let (ok, listed) = mc(config.path(), &args);
    assert!(ok, "mc ls {key}: {listed}");
    listed
}
