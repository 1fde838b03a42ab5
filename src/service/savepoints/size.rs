//! Savepoint sizes: read from the job's running cluster, shown as people
//! read them.

use std::time::Duration;

use super::{SnapshotView, same_path};
use crate::service::Service;
use crate::store::Instance;

/// How long the list waits for the JobManager's checkpoint statistics: the
/// job page renders without sizes rather than wait on an unreachable cluster.
const SIZE_TIMEOUT: Duration = Duration::from_secs(2);

/// `bytes` in binary units with one decimal: `512 B`, `3.4 KiB`, `1.0 MiB`,
/// up to PiB.
pub fn readable_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Precision lost past 2^53 bytes does not show in one decimal.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    for (index, unit) in UNITS.iter().enumerate() {
        // 1023.96 KiB reads as 1.0 MiB, not 1024.0 KiB.
        let last = index == UNITS.len() - 1;
        if (value * 10.0).round() / 10.0 < 1024.0 || last {
            return format!("{value:.1} {unit}");
        }
        value /= 1024.0;
    }
    format!("{value:.1} PiB")
}

impl Service {
    /// Fills in the sizes of `views`' completed savepoints that FlinkSessionJob
    /// `object` of `session` reports while it runs (its current run's
    /// checkpoint history); leaves them blank when it does not run, its
    /// JobManager cannot be reached within [`SIZE_TIMEOUT`] or does not list
    /// them.
    pub(super) async fn fill_sizes(
        &self,
        session: &Instance,
        object: &str,
        views: &mut [SnapshotView],
    ) {
        let Some(cluster) = self.cluster.as_ref() else {
            return;
        };
        if !views
            .iter()
            .any(|v| v.kind == "savepoint" && v.state == "completed" && v.path.is_some())
        {
            return;
        }
        let job = match cluster.flink_session_job(&session.namespace, object).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(%error, "no savepoint sizes: the job could not be read");
                return;
            }
        };
        let status = job.status.and_then(|s| s.job_status).unwrap_or_default();
        let (Some(job_id), Some("RUNNING")) = (status.job_id, status.state.as_deref()) else {
            return;
        };
        let sizes = match cluster
            .savepoint_sizes(&session.namespace, &session.name, &job_id, SIZE_TIMEOUT)
            .await
        {
            Ok(sizes) => sizes,
            Err(error) => {
                tracing::debug!(%error, "no savepoint sizes from the JobManager");
                return;
            }
        };
        for view in views.iter_mut() {
            view.size = view.path.as_deref().and_then(|path| {
                sizes
                    .iter()
                    .find(|(listed, _)| same_path(listed, path))
                    .map(|(_, size)| *size)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units_with_one_decimal() {
        assert_eq!(readable_size(0), "0 B");
        assert_eq!(readable_size(1023), "1023 B");
        assert_eq!(readable_size(1024), "1.0 KiB");
        assert_eq!(readable_size(3482), "3.4 KiB");
        assert_eq!(readable_size(1_048_575), "1.0 MiB");
        assert_eq!(
            readable_size(5 * 1024 * 1024 * 1024 + 300 * 1024 * 1024),
            "5.3 GiB"
        );
        assert_eq!(readable_size(u64::MAX), "16384.0 PiB");
    }
}
