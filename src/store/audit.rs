//! The audit log: one append-only row per mutation.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::rows::{now, parse, time, timestamp};
use super::{Store, StoreError};

/// Which audit entries to show: empty fields keep every entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(default)]
pub struct AuditFilter {
    /// The user who asked, exactly.
    pub user: String,
    /// The action, exactly (`install`, `update`, ...).
    pub action: String,
    /// Text in the target (`namespace/name`, a user name).
    pub instance: String,
    /// From this day on (UTC, `YYYY-MM-DD`); anything else is ignored.
    pub since: String,
    /// Up to and with this day (UTC, `YYYY-MM-DD`); anything else is ignored.
    pub until: String,
}

impl AuditFilter {
    /// `since` as a date, when it is one.
    pub fn since_date(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(&self.since, "%Y-%m-%d").ok()
    }

    /// `until` as a date, when it is one.
    pub fn until_date(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(&self.until, "%Y-%m-%d").ok()
    }

    /// The filter as query-string pairs, for the pager's links.
    pub fn query(&self) -> String {
        [
            ("user", &self.user),
            ("action", &self.action),
            ("instance", &self.instance),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| {
            let value: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            format!("&{key}={value}")
        })
        .collect()
    }
}

/// One mutation: who did what to which target, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Stable id.
    pub id: Uuid,
    /// When it was asked for.
    pub at: DateTime<Utc>,
    /// The user's name (`anonymous` for a refused request without one).
    pub actor: String,
    /// What was asked: `install`, `update`, `uninstall`, `login`, ...
    pub action: String,
    /// What it was asked of: `namespace/name`, a user name, a path.
    pub target: String,
    /// The instance concerned, when there is one.
    pub instance_id: Option<Uuid>,
    /// The change, secrets masked: a parameter diff, a role.
    pub detail: String,
    /// `ok`, or what went wrong.
    pub result: String,
}

/// An entry before it is written.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    /// See [`AuditEntry::actor`].
    pub actor: String,
    /// See [`AuditEntry::action`].
    pub action: String,
    /// See [`AuditEntry::target`].
    pub target: String,
    /// See [`AuditEntry::instance_id`].
    pub instance_id: Option<Uuid>,
    /// See [`AuditEntry::detail`].
    pub detail: String,
    /// See [`AuditEntry::result`].
    pub result: String,
}

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    let instance_id: Option<String> = row.try_get("instance_id")?;
    Ok(AuditEntry {
        id: parse(row, "id")?,
        at: time(row, "at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        instance_id: instance_id
            .map(|text| {
                text.parse().map_err(|_| StoreError::Corrupt {
                    column: "instance_id",
                    value: text,
                })
            })
            .transpose()?,
        detail: row.try_get("detail")?,
        result: row.try_get("result")?,
    })
}

impl Store {
    /// Appends an entry to the audit log.
    pub async fn append_audit(&self, new: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let entry = AuditEntry {
            id: Uuid::new_v4(),
            at: now(),
            actor: new.actor,
            action: new.action,
            target: new.target,
            instance_id: new.instance_id,
            detail: new.detail,
            result: new.result,
        };
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, target, instance_id, detail, result) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(entry.id.to_string())
        .bind(timestamp(entry.at))
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(entry.instance_id.map(|id| id.to_string()))
        .bind(&entry.detail)
        .bind(&entry.result)
        .execute(&self.pool)
        .await?;
        Ok(entry)
    }

    /// One page of the audit log, newest first, and how many entries there are.
    pub async fn audit_page(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64), StoreError> {
        self.audit_page_filtered(&AuditFilter::default(), limit, offset)
            .await
    }

    /// [`Store::audit_page`] of the entries `filter` keeps; the count is theirs.
    pub async fn audit_page_filtered(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditEntry>, i64), StoreError> {
        // Conditions with their values, bound in order as $1, $2, ...
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        let mut add = |condition: &str, value: String| {
            values.push(value);
            conditions.push(condition.replace('?', &format!("${}", values.len())));
        };
        if !filter.user.is_empty() {
            add("actor = ?", filter.user.clone());
        }
        if !filter.action.is_empty() {
            add("action = ?", filter.action.clone());
        }
        if !filter.instance.is_empty() {
            add("target LIKE ?", format!("%{}%", filter.instance));
        }
        // Timestamps are RFC 3339 text: text order is time order.
        if let Some(since) = filter.since_date() {
            add("at >= ?", since.to_string());
        }
        if let Some(until) = filter.until_date() {
            // "T24" sorts after every time of that day.
            add("at < ?", format!("{until}T24"));
        }
        let clause = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let select = format!(
            "SELECT id, at, actor, action, target, instance_id, detail, result FROM audit_log{clause} \
             ORDER BY at DESC, id LIMIT ${} OFFSET ${}",
            values.len() + 1,
            values.len() + 2
        );
        // Only fixed column conditions are spliced in; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(select));
        for value in &values {
            query = query.bind(value.clone());
        }
        let rows = query.bind(limit).bind(offset).fetch_all(&self.pool).await?;
        let count = format!("SELECT COUNT(*) AS n FROM audit_log{clause}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(count));
        for value in &values {
            query = query.bind(value.clone());
        }
        let total: i64 = query.fetch_one(&self.pool).await?.try_get("n")?;
        Ok((
            rows.iter().map(entry_from_row).collect::<Result<_, _>>()?,
            total,
        ))
    }
}
