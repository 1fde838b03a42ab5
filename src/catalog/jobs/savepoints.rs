//! Starting a job from a savepoint: the fields that say from which (kept
//! with the job's parameters, outside its form fields) and the check of a
//! typed path against the session's storage. Pure: no I/O.
//!
//! The operator reads them from the job spec (flink-kubernetes-operator
//! release-1.15.0, `api/spec/JobSpec.java`): `initialSavepointPath` (the first
//! deployment starts from it), `allowNonRestoredState` (state that maps to no
//! operator of the job is skipped instead of failing the start),
//! `savepointRedeployNonce` (a new value cancels the job and starts it again
//! from `initialSavepointPath`, `AbstractJobReconciler.redeployWithSavepoint`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::catalog::Values;

/// The savepoint to start from (`job.initialSavepointPath`).
pub const INITIAL_SAVEPOINT: &str = "initialSavepointPath";
/// Whether state without a matching operator is skipped (`job.allowNonRestoredState`).
pub const ALLOW_NON_RESTORED: &str = "allowNonRestoredState";
/// A new value redeploys from the savepoint (`job.savepointRedeployNonce`).
pub const REDEPLOY_NONCE: &str = "savepointRedeployNonce";

/// The keys that say where a job starts from.
pub const START_KEYS: [&str; 3] = [INITIAL_SAVEPOINT, ALLOW_NON_RESTORED, REDEPLOY_NONCE];

/// Why `path` cannot be a savepoint of a Flink cluster (session or
/// application) whose savepoints go to
/// `savepoint_dir` (`None`: it keeps none), or `None` when it can: it must be
/// a URI of the same scheme as the directory, with a host (the bucket, the
/// NameNode) and a path.
pub fn savepoint_path_refusal(path: &str, savepoint_dir: Option<&str>) -> Option<String> {
    let Some(dir) = savepoint_dir else {
        return Some(
            "The cluster keeps no savepoints (no execution.checkpointing.savepoint-dir): \
             turn high availability on in its update to start jobs from savepoints"
                .to_owned(),
        );
    };
    let scheme = dir.split_once("://").map_or("", |(scheme, _)| scheme);
    let example = format!(
        "{}/savepoint-1a2b3c-0123456789ab",
        dir.trim_end_matches('/')
    );
    let parsed = url::Url::parse(path).ok();
    let fits = parsed.as_ref().is_some_and(|url| {
        url.scheme().eq_ignore_ascii_case(scheme)
            && url.host_str().is_some_and(|h| !h.is_empty())
            && url.path().trim_matches('/').len() > 1
    });
    (!fits).then(|| {
        format!(
            "A savepoint of this cluster is a {scheme}:// path, like its savepoint directory's: \
             e.g. {example}"
        )
    })
}

/// The start fields of a form (`initialSavepointPath`, `allowNonRestoredState`
/// as a checkbox) taken out of `raw`, as stored values.
pub fn take_start_fields(raw: &mut BTreeMap<String, String>) -> Values {
    let mut values = Values::new();
    let path = raw.remove(INITIAL_SAVEPOINT).unwrap_or_default();
    let allow = raw.remove(ALLOW_NON_RESTORED).unwrap_or_default();
    raw.remove(REDEPLOY_NONCE);
    let path = path.trim();
    if !path.is_empty() {
        values.insert(INITIAL_SAVEPOINT.into(), json!(path));
        let allowed = matches!(allow.trim(), "on" | "true");
        values.insert(ALLOW_NON_RESTORED.into(), json!(allowed));
    }
    values
}

/// The start fields of a redeploy from `path` of a job whose stored
/// parameters are `params`: the path, the explicit choice, and the next nonce
/// (one more than the stored one, 1 at first).
pub fn redeploy_fields(params: &Value, path: &str, allow_non_restored: bool) -> Values {
    let nonce = params
        .get(REDEPLOY_NONCE)
        .and_then(Value::as_i64)
        .unwrap_or(0)
        + 1;
    Values::from([
        (INITIAL_SAVEPOINT.to_owned(), json!(path)),
        (ALLOW_NON_RESTORED.to_owned(), json!(allow_non_restored)),
        (REDEPLOY_NONCE.to_owned(), json!(nonce)),
    ])
}

/// The start fields of stored `params`.
pub fn start_fields(params: &Value) -> Values {
    START_KEYS
        .iter()
        .filter_map(|key| Some(((*key).to_owned(), params.get(*key)?.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S3: Option<&str> = Some("s3://flink/data/analytics/savepoints");

    #[test]
    fn a_typed_path_must_be_on_the_clusters_storage() {
        assert_eq!(
            savepoint_path_refusal("s3://flink/data/analytics/savepoints/savepoint-1-2", S3),
            None
        );
        for bad in [
            "hdfs://nn:8020/sp/savepoint-1",
            "/tmp/savepoint-1",
            "s3://",
            "savepoint",
        ] {
            let refusal = savepoint_path_refusal(bad, S3).unwrap();
            assert!(
                refusal.starts_with("A savepoint of this cluster is a s3:// path"),
                "{bad}: {refusal}"
            );
        }
        assert!(
            savepoint_path_refusal("s3://b/sp", None)
                .unwrap()
                .contains("keeps no savepoints")
        );
    }

    #[test]
    fn a_redeploy_counts_its_nonce_up_and_keeps_the_choice() {
        let first = redeploy_fields(&json!({"jarURI": "x"}), "s3://b/sp-1", false);
        assert_eq!(first[REDEPLOY_NONCE], 1);
        assert_eq!(first[ALLOW_NON_RESTORED], false);
        let stored = Value::Object(first.into_iter().collect());
        let second = redeploy_fields(&stored, "s3://b/sp-2", true);
        assert_eq!(
            (
                &second[INITIAL_SAVEPOINT],
                &second[ALLOW_NON_RESTORED],
                &second[REDEPLOY_NONCE]
            ),
            (&json!("s3://b/sp-2"), &json!(true), &json!(2))
        );
        assert_eq!(start_fields(&stored).len(), 3);
    }

    #[test]
    fn start_fields_leave_the_form_and_the_checkbox_is_explicit() {
        let mut raw = BTreeMap::from([
            ("jarURI".to_owned(), "https://x/j.jar".to_owned()),
            (INITIAL_SAVEPOINT.to_owned(), " s3://b/sp ".to_owned()),
        ]);
        let values = take_start_fields(&mut raw);
        assert_eq!(raw.len(), 1);
        assert_eq!(values[INITIAL_SAVEPOINT], "s3://b/sp");
        assert_eq!(values[ALLOW_NON_RESTORED], false);
        let mut raw = BTreeMap::from([(ALLOW_NON_RESTORED.to_owned(), "on".to_owned())]);
        assert!(take_start_fields(&mut raw).is_empty(), "no path, no start");
    }
}
