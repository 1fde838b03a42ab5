//! The audit log: one append-only row per mutation.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::rows::{now, parse, time, timestamp};
use super::{Store, StoreError};

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
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, instance_id, detail, result FROM audit_log \
             ORDER BY at DESC, id LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok((
            rows.iter().map(entry_from_row).collect::<Result<_, _>>()?,
            total,
        ))
    }
}
