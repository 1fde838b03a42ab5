//! A running Flink job's checkpoint history as its JobManager reports it,
//! read through its `<session>-rest` Service as the apps' web interfaces are
//! ([`Cluster::service_request`]): for the sizes of the savepoints the job
//! took.
//!
//! Shape: Flink's `GET /jobs/:jobid/checkpoints` (`CheckpointingStatistics`,
//! flink-runtime `rest/messages/checkpoints/`, the same in 1.20 and 2.0):
//! `history` (the last `web.checkpoints.history`, 10 by default, checkpoints
//! and savepoints of this job run) and `latest.savepoint`, each a
//! `CheckpointStatistics` with `status` (`COMPLETED`, `IN_PROGRESS`,
//! `FAILED`), `is_savepoint`, `external_path` (completed ones) and
//! `state_size` — the full size of the state in bytes; `checkpointed_size`
//! is what this checkpoint persisted itself (smaller when incremental;
//! FLINK-13390 explains the names).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::webui::ServiceTarget;
use super::{Cluster, ClusterError};

/// Largest answer read (a history of 10 entries is a few KiB).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The port of Flink's REST API when `rest.port` is not set.
pub const FLINK_REST_PORT: u16 = 8081;

impl Cluster {
    /// The sizes in bytes of the completed savepoints Flink job `job_id` of
    /// session cluster `session` in `namespace` reports, by `external_path`
    /// (trailing `/` removed). Gives up after `within` (a page waits for it).
    /// Errors: [`ClusterError::Upstream`] when the JobManager cannot be
    /// reached, does not answer in time, or answers no checkpoint statistics.
    pub async fn savepoint_sizes(
        &self,
        namespace: &str,
        session: &str,
        job_id: &str,
        within: Duration,
    ) -> Result<BTreeMap<String, u64>, ClusterError> {
        let target = ServiceTarget {
            namespace: namespace.to_owned(),
            service: format!("{session}-rest"),
            port: FLINK_REST_PORT,
        };
        let what = format!("{session}'s JobManager");
        let path = format!("/jobs/{job_id}/checkpoints");
        let (status, body) = self
            .get_json_answer(&target, path, &what, MAX_ANSWER_BYTES, within)
            .await?;
        if !status.is_success() {
            return Err(ClusterError::Upstream(format!(
                "{session}'s JobManager answered {status} for the checkpoints of job {job_id}"
            )));
        }
        let statistics: Value = serde_json::from_slice(&body).map_err(|error| {
            ClusterError::Upstream(format!("unreadable checkpoint statistics: {error}"))
        })?;
        Ok(savepoint_sizes_in(&statistics))
    }
}

/// The completed savepoints of a `CheckpointingStatistics` answer: size in
/// bytes (`state_size`, else `checkpointed_size`) by `external_path`
/// without a trailing `/`.
pub fn savepoint_sizes_in(statistics: &Value) -> BTreeMap<String, u64> {
    let history = statistics
        .get("history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let latest = statistics.pointer("/latest/savepoint").into_iter();
    history
        .chain(latest)
        .filter(|entry| entry.get("is_savepoint").and_then(Value::as_bool) == Some(true))
        .filter(|entry| entry.get("status").and_then(Value::as_str) == Some("COMPLETED"))
        .filter_map(|entry| {
            let path = entry.get("external_path").and_then(Value::as_str)?;
            let size = entry
                .get("state_size")
                .and_then(Value::as_u64)
                .or_else(|| entry.get("checkpointed_size").and_then(Value::as_u64))?;
            Some((path.trim_end_matches('/').to_owned(), size))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_completed_savepoints_with_a_path_have_a_size() {
        // Shaped as Flink 1.20 answers (fields not read left out).
        let statistics = json!({
            "counts": {"completed": 3},
            "latest": {
                "completed": {"id": 3, "status": "COMPLETED", "is_savepoint": false,
                    "external_path": "s3://f/cp/chk-3", "state_size": 10},
                "savepoint": {"id": 2, "status": "COMPLETED", "is_savepoint": true,
                    "external_path": "s3://f/sp/savepoint-aa-1/", "state_size": 3482,
                    "checkpointed_size": 3482},
                "restored": {"id": 1, "is_savepoint": true, "external_path": "s3://f/sp/old"}
            },
            "history": [
                {"id": 4, "status": "IN_PROGRESS", "is_savepoint": true, "state_size": 0},
                {"id": 3, "status": "COMPLETED", "is_savepoint": false,
                    "external_path": "s3://f/cp/chk-3", "state_size": 10},
                {"id": 2, "status": "COMPLETED", "is_savepoint": true,
                    "external_path": "s3://f/sp/savepoint-aa-1", "state_size": 3482},
                {"id": 1, "status": "FAILED", "is_savepoint": true},
                {"id": 0, "status": "COMPLETED", "is_savepoint": true,
                    "external_path": "s3://f/sp/savepoint-aa-0", "checkpointed_size": 12}
            ]
        });
        let sizes = savepoint_sizes_in(&statistics);
        assert_eq!(
            sizes,
            BTreeMap::from([
                ("s3://f/sp/savepoint-aa-0".to_owned(), 12),
                ("s3://f/sp/savepoint-aa-1".to_owned(), 3482),
            ])
        );
        assert!(savepoint_sizes_in(&json!({"errors": ["Not found"]})).is_empty());
    }
}
