//! Periodic savepoints of a job (a session job's, or an application's): the
//! fields that ask for them and how long their history is kept, checked and
//! turned into `spec.flinkConfiguration` entries of the FlinkSessionJob or
//! the application's FlinkDeployment. Pure: no I/O.
//!
//! The operator's options (flink-kubernetes-operator release-1.15.0,
//! `config/KubernetesOperatorConfigOptions.java`), read per job from the
//! session cluster's configuration with the FlinkSessionJob's
//! `flinkConfiguration` over it (`FlinkConfigManager.getSessionJobConfig`),
//! or from the application's FlinkDeployment (`getObserveConfig`):
//! - `kubernetes.operator.periodic.savepoint.interval`: a duration (or a
//!   Quartz cron expression, not offered here); empty: none;
//! - `kubernetes.operator.savepoint.history.max.count` (default 10, at
//!   least one) and `kubernetes.operator.savepoint.history.max.age` (default 24 h):
//!   how many periodic and upgrade savepoints are kept, and how long
//!   (`observer/SnapshotObserver.java`; manual ones are never deleted);
//! - periodic savepoints need a savepoint directory (`DefaultValidator`:
//!   "Periodic savepoints cannot be enabled when config key[…] is not set").

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::super::params::{Param, ParamKind};
use super::super::{FieldErrors, Values};

/// The interval field.
pub const INTERVAL: &str = "periodicSavepointInterval";
/// The max count field.
pub const MAX_COUNT: &str = "savepointHistoryMaxCount";
/// The max age field.
pub const MAX_AGE: &str = "savepointHistoryMaxAge";

/// The operator's key of each field.
pub const OPERATOR_KEYS: [(&str, &str); 3] = [
    (INTERVAL, "kubernetes.operator.periodic.savepoint.interval"),
    (MAX_COUNT, "kubernetes.operator.savepoint.history.max.count"),
    (MAX_AGE, "kubernetes.operator.savepoint.history.max.age"),
];

/// Shortest interval offered: a savepoint takes seconds to write.
const MIN_INTERVAL: Duration = Duration::from_secs(10);

/// The fields (all optional: empty leaves the cluster's setting).
pub const SCHEDULE_PARAMS: [Param; 3] = [
    Param {
        key: INTERVAL,
        label: "Periodic savepoint interval",
        help: "Take a savepoint this often while the job runs, e.g. 30 s, 10 min, 1 h \
            (at least 10 s). Empty: no periodic savepoints. Needs the cluster's savepoint \
            directory (high availability on).",
        kind: ParamKind::Text { max_len: 40 },
        default: Some(""),
        shown_when: &[],
    },
    Param {
        key: MAX_COUNT,
        label: "Savepoints to keep",
        help: "How many periodic and upgrade savepoints stay listed; older ones are deleted \
            (manual ones always stay). Empty: the operator's 10.",
        kind: ParamKind::Text { max_len: 6 },
        default: Some(""),
        shown_when: &[],
    },
    Param {
        key: MAX_AGE,
        label: "Keep savepoints for",
        help: "Periodic and upgrade savepoints older than this are deleted (the newest \
            completed one stays), e.g. 24 h. Empty: the operator's 24 h.",
        kind: ParamKind::Text { max_len: 40 },
        default: Some(""),
        shown_when: &[],
    },
];

/// A Flink duration (`TimeUtils.parseDuration`): a whole number and an
/// optional unit (`ms`, `s`/`sec`/`second(s)`, `m`/`min`/`minute(s)`,
/// `h`/`hour(s)`, `d`/`day(s)`; none is milliseconds), spaces allowed between.
pub fn parse_flink_duration(text: &str) -> Option<Duration> {
    let text = text.trim().to_ascii_lowercase();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => {
            return Some(Duration::from_millis(number));
        }
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        _ => return None,
    };
    number.checked_mul(seconds).map(Duration::from_secs)
}

fn text<'a>(values: &'a Values, key: &str) -> &'a str {
    values
        .get(key)
        .and_then(Value::as_str)
        .map_or("", str::trim)
}

/// The errors of the schedule fields in `values`; `has_savepoint_dir` says
/// whether the cluster keeps savepoints, `enable` how to give it a savepoint
/// directory (e.g. "turn high availability on").
pub fn schedule_rules(values: &Values, has_savepoint_dir: bool, enable: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let interval = text(values, INTERVAL);
    if !interval.is_empty() {
        match parse_flink_duration(interval) {
            Some(d) if d >= MIN_INTERVAL => {
                if !has_savepoint_dir {
                    errors.insert(
                        INTERVAL.into(),
                        format!(
                            "Periodic savepoints need a savepoint directory: {enable}, or \
                             leave this empty"
                        ),
                    );
                }
            }
            Some(_) => {
                errors.insert(
                    INTERVAL.into(),
                    format!("Periodic savepoint interval must be at least 10 s (got {interval})"),
                );
            }
            None => {
                errors.insert(
                    INTERVAL.into(),
                    format!(
                        "Periodic savepoint interval must be a duration like 30 s, 10 min or \
                         1 h, or empty (got {interval:?})"
                    ),
                );
            }
        }
    }
    let count = text(values, MAX_COUNT);
    if !count.is_empty() && !count.parse::<u32>().is_ok_and(|n| (1..=1000).contains(&n)) {
        errors.insert(
            MAX_COUNT.into(),
            format!("Savepoints to keep must be a whole number from 1 to 1000 (got {count:?})"),
        );
    }
    let age = text(values, MAX_AGE);
    if !age.is_empty() && parse_flink_duration(age).is_none_or(|d| d.is_zero()) {
        errors.insert(
            MAX_AGE.into(),
            format!("Keep savepoints for must be a duration like 24 h or 7 d (got {age:?})"),
        );
    }
    errors
}

/// The job's `flinkConfiguration` overrides from `values` (none when every
/// schedule field is empty).
pub fn schedule_configuration(values: &Values) -> Option<BTreeMap<String, String>> {
    let configuration: BTreeMap<String, String> = OPERATOR_KEYS
        .iter()
        .filter(|(field, _)| !text(values, field).is_empty())
        .map(|(field, key)| ((*key).to_owned(), text(values, field).to_owned()))
        .collect();
    (!configuration.is_empty()).then_some(configuration)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect()
    }

    #[test]
    fn flink_durations_read_as_flink_reads_them() {
        assert_eq!(parse_flink_duration("30 s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_flink_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_flink_duration("1 H"), Some(Duration::from_secs(3600)));
        assert_eq!(
            parse_flink_duration("500"),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_flink_duration("0 0 * * * ?"), None);
        assert_eq!(parse_flink_duration("soon"), None);
    }

    #[test]
    fn each_schedule_field_says_what_is_wrong_next_to_it() {
        let bad = values(&[(INTERVAL, "5 s"), (MAX_COUNT, "0"), (MAX_AGE, "forever")]);
        let errors = schedule_rules(&bad, true, "turn it on");
        assert_eq!(
            errors.keys().map(String::as_str).collect::<Vec<_>>(),
            [INTERVAL, MAX_AGE, MAX_COUNT]
        );
        assert!(errors[INTERVAL].contains("at least 10 s"));
        let no_dir = schedule_rules(&values(&[(INTERVAL, "30 s")]), false, "turn it on");
        assert_eq!(
            no_dir[INTERVAL],
            "Periodic savepoints need a savepoint directory: turn it on, or leave this empty"
        );
        let good = values(&[(INTERVAL, "30 s"), (MAX_COUNT, "2"), (MAX_AGE, "")]);
        assert!(schedule_rules(&good, true, "").is_empty());
        assert_eq!(
            schedule_configuration(&good),
            Some(BTreeMap::from([
                (
                    "kubernetes.operator.periodic.savepoint.interval".to_owned(),
                    "30 s".to_owned()
                ),
                (
                    "kubernetes.operator.savepoint.history.max.count".to_owned(),
                    "2".to_owned()
                ),
            ]))
        );
        assert_eq!(schedule_configuration(&values(&[(INTERVAL, "")])), None);
    }
}
