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
