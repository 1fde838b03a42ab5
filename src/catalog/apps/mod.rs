//! One file per catalog app. Adding an app: a file here and a line in [`ALL`].

use super::AppDefinition;

pub(crate) mod flink;
pub mod flink_operator;
mod hdfs;
mod hive_metastore;
pub(crate) mod minio;
pub(crate) mod monitoring;
mod mysql;
pub mod prometheus;
mod streampark;
mod zookeeper;

/// A note shown next to field `key` of `app` holding `text` (Flink's memory
/// breakdown), if the app has one for it.
pub(super) fn field_note(app: &str, key: &str, text: &str) -> Option<String> {
    match app {
        "flink" | "flink-application" => flink::memory_rule::memory_note(key, text),
        _ => None,
    }
}

/// The fields of `app` whose value gets an error or note of the app's own
/// while typed ([`field_error`], [`field_note`]).
pub(super) fn feedback_fields(app: &str) -> &'static [&'static str] {
    match app {
        "flink" | "flink-application" => &[
            flink::memory_rule::JOB_MANAGER_MEMORY,
            flink::memory_rule::TASK_MANAGER_MEMORY,
        ],
        _ => &[],
    }
}

/// Why `app`'s rule refuses field `key` holding `text` on its own (Flink
/// would refuse to start with that memory), if it does.
pub(super) fn field_error(app: &str, key: &str, text: &str) -> Option<String> {
    match app {
        "flink" | "flink-application" => {
            let values = super::Values::from([(key.to_owned(), text.into())]);
            flink::memory_rule::memory_errors(&values).remove(key)
        }
        _ => None,
    }
}

/// The catalog, in display order: Flink first, then what it builds on.
pub(super) static ALL: &[AppDefinition] = &[
    flink::DEFINITION,
    flink::application::DEFINITION,
    flink_operator::DEFINITION,
    streampark::DEFINITION,
    zookeeper::DEFINITION,
    hdfs::DEFINITION,
    minio::DEFINITION,
    hive_metastore::DEFINITION,
    mysql::DEFINITION,
    prometheus::DEFINITION,
    monitoring::DEFINITION,
];
