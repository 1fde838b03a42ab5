//! A job's periodic savepoints as its page shows them (the setting, and
//! when the next one is due), and times as people read them.

use serde::Serialize;
use serde_json::Value;

use super::SnapshotView;
use crate::catalog::jobs::schedule;

/// An RFC 3339 time, when it is one.
pub(super) fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// An RFC 3339 time as `YYYY-MM-DD HH:MM:SS UTC` (the text itself when it is none).
pub fn readable_time(text: &str) -> String {
    parse_time(text).map_or_else(
        || text.to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// How long before `now` `then` was, in words (`in 20 s` when it is ahead).
pub fn time_ago(then: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let seconds = (now - then).num_seconds();
    let words = |s: i64| match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    };
    if seconds < 0 {
        format!("in {}", words(-seconds))
    } else {
        format!("{} ago", words(seconds))
    }
}

/// A job's periodic savepoints as its page shows them.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct SavepointSchedule {
    /// The interval as configured (e.g. `30 s`); `None`: no periodic savepoints.
    pub interval: Option<String>,
    /// Where the interval is set: `job` (a session job's own form),
    /// `application` (an application's form) or `cluster` (the session's
    /// configuration).
    pub set_on: &'static str,
    /// How many periodic and upgrade savepoints are kept (as configured, or
    /// the operator's default 10).
    pub max_count: String,
    /// How long they are kept (as configured, or the operator's default 24 h).
    pub max_age: String,
    /// When the next one is due (RFC 3339): the last periodic one (else the
    /// job's submission) plus the interval; `None` while the job does not run.
    pub next_due: Option<String>,
}

impl SavepointSchedule {
    /// The next one due, as people read it, with how far off it is.
    pub fn next_due_text(&self) -> Option<String> {
        let due = self.next_due.as_deref()?;
        let when = parse_time(due)?;
        let now = chrono::Utc::now();
        let relative = if when <= now {
            "due now".to_owned()
        } else {
            time_ago(when, now)
        };
        Some(format!("{} ({relative})", readable_time(due)))
    }
}

/// The schedule of a job with parameters `params` on a session whose
/// configuration is `session_configuration`, submitted at `submitted`, with
/// `snapshots` (newest first), running or not.
pub fn savepoint_schedule(
    params: &Value,
    session_configuration: &std::collections::BTreeMap<String, String>,
    snapshots: &[SnapshotView],
    submitted: chrono::DateTime<chrono::Utc>,
    running: bool,
) -> SavepointSchedule {
    let job_configuration = serde_json::from_value::<crate::catalog::Values>(params.clone())
        .ok()
        .and_then(|values| schedule::schedule_configuration(&values))
        .unwrap_or_default();
    let setting = |key: &str| {
        job_configuration
            .get(key)
            .map(|v| (v.clone(), "job"))
            .or_else(|| {
                session_configuration
                    .get(key)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (v.clone(), "cluster"))
            })
    };
    let [(_, interval_key), (_, count_key), (_, age_key)] = schedule::OPERATOR_KEYS;
    let interval = setting(interval_key);
    let every = interval
        .as_ref()
        .and_then(|(text, _)| schedule::parse_flink_duration(text))
        .filter(|d| !d.is_zero());
    let last = snapshots
        .iter()
        .filter(|s| s.trigger == "periodic" && s.kind == "savepoint")
        .filter_map(|s| s.time.as_deref().and_then(parse_time))
        .max()
        .unwrap_or(submitted);
    let next_due = every.filter(|_| running).and_then(|every| {
        let every = chrono::Duration::from_std(every).ok()?;
        Some((last + every).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    });
    SavepointSchedule {
        set_on: interval.as_ref().map_or("", |(_, on)| *on),
        interval: interval.map(|(text, _)| text),
        max_count: setting(count_key).map_or_else(|| "10".to_owned(), |(v, _)| v),
        max_age: setting(age_key).map_or_else(|| "24 h".to_owned(), |(v, _)| v),
        next_due,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_next_periodic_savepoint_is_due_an_interval_after_the_last() {
        let submitted = parse_time("2026-12-01T03:00:00Z").unwrap();
        let periodic = SnapshotView {
            name: "a-etl-savepoint-periodic-1".into(),
            kind: "savepoint",
            trigger: "periodic".into(),
            state: "completed",
            path: None,
            error: None,
            time: Some("2026-12-01T03:01:00Z".into()),
            finished: None,
            size: None,
            start_point: false,
        };
        let params = json!({"periodicSavepointInterval": "30 s", "savepointHistoryMaxCount": "2"});
        let cluster = std::collections::BTreeMap::from([(
            "kubernetes.operator.savepoint.history.max.age".to_owned(),
            "1 h".to_owned(),
        )]);
        let schedule = savepoint_schedule(
            &params,
            &cluster,
            std::slice::from_ref(&periodic),
            submitted,
            true,
        );
        assert_eq!(
            schedule,
            SavepointSchedule {
                interval: Some("30 s".into()),
                set_on: "job",
                max_count: "2".into(),
                max_age: "1 h".into(),
                next_due: Some("2026-12-01T03:01:30Z".into()),
            }
        );
        let first = savepoint_schedule(&params, &cluster, &[], submitted, true);
        assert_eq!(first.next_due.as_deref(), Some("2026-12-01T03:00:30Z"));
        let suspended = savepoint_schedule(&params, &cluster, &[periodic], submitted, false);
        assert_eq!(suspended.next_due, None);
        let off = savepoint_schedule(&json!({}), &cluster, &[], submitted, true);
        assert_eq!((off.interval, off.next_due), (None, None));
        assert_eq!(
            time_ago(submitted, parse_time("2026-12-01T03:02:05Z").unwrap()),
            "2 min ago"
        );
    }
}
