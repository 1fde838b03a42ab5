//! Reading rows back into records, and the text form of timestamps.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Instance, Operation, Revision, StoreError};

pub(super) fn instance_from_row(row: &AnyRow) -> Result<Instance, StoreError> {
    Ok(Instance {
        id: parse(row, "id")?,
        app: row.try_get("app")?,
        name: row.try_get("name")?,
        namespace: row.try_get("namespace")?,
        version: row.try_get("version")?,
        status: parse(row, "status")?,
        params: json(row, "params")?,
        current_revision: row.try_get("current_revision")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        previous_id: match row.try_get::<Option<String>, _>("previous_id")? {
            Some(value) => Some(value.parse().map_err(|_| StoreError::Corrupt {
                column: "previous_id",
                value: value.clone(),
            })?),
            None => None,
        },
    })
}

pub(super) fn revision_from_row(row: &AnyRow) -> Result<Revision, StoreError> {
    Ok(Revision {
        instance_id: parse(row, "instance_id")?,
        number: row.try_get("number")?,
        params: json(row, "params")?,
        objects: json(row, "objects")?,
        actor: row.try_get("actor")?,
        created_at: time(row, "created_at")?,
    })
}

pub(super) fn operation_from_row(row: &AnyRow) -> Result<Operation, StoreError> {
    Ok(Operation {
        id: parse(row, "id")?,
        instance_id: parse(row, "instance_id")?,
        kind: parse(row, "kind")?,
        state: parse(row, "state")?,
        revision: row.try_get("revision")?,
        error: row.try_get("error")?,
        progress: row.try_get("progress")?,
        deletes_savepoints: row.try_get("deletes_savepoints")?,
        actor: row.try_get("actor")?,
        created_at: time(row, "created_at")?,
        started_at: optional_time(row, "started_at")?,
        finished_at: optional_time(row, "finished_at")?,
    })
}

/// The current time at the precision the store keeps (microseconds), so that
/// a record returned by a write equals the record read back.
pub(super) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Timestamps are stored as RFC 3339 UTC text with microseconds, so that text
/// order is time order on both databases.
pub(super) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(super) fn parse<T: FromStr>(row: &AnyRow, column: &'static str) -> Result<T, StoreError> {
    let value: String = row.try_get(column)?;
    value
        .parse()
        .map_err(|_| StoreError::Corrupt { column, value })
}

pub(super) fn json(row: &AnyRow, column: &'static str) -> Result<serde_json::Value, StoreError> {
    let value: String = row.try_get(column)?;
    serde_json::from_str(&value).map_err(|_| StoreError::Corrupt { column, value })
}

pub(super) fn time(row: &AnyRow, column: &'static str) -> Result<DateTime<Utc>, StoreError> {
    parse::<DateTime<Utc>>(row, column)
}

fn optional_time(row: &AnyRow, column: &'static str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let value: Option<String> = row.try_get(column)?;
    value
        .map(|text| {
            text.parse().map_err(|_| StoreError::Corrupt {
                column,
                value: text,
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_as_text_in_time_order() {
        let early = "2026-01-02T03:04:05Z".parse::<DateTime<Utc>>().unwrap();
        let late = early + chrono::Duration::milliseconds(1);
        assert!(timestamp(early) < timestamp(late));
        assert_eq!(timestamp(early).parse::<DateTime<Utc>>().unwrap(), early);
    }
}
