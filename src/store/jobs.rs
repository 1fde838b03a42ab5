//! Jobs submitted to Flink session clusters: what was asked for, by job name.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::rows::{json, now, parse, time, timestamp};
use super::{Store, StoreError, unique_or};

/// The columns of `flink_jobs`, in the order [`job_from_row`] reads them.
macro_rules! job_columns {
    () => {
        "id, instance_id, name, params, state, created_at, updated_at"
    };
}

/// A job on a session cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlinkJob {
    /// Stable id.
    pub id: Uuid,
    /// The session cluster's instance.
    pub instance_id: Uuid,
    /// The job's name, unique on its session cluster while it exists.
    pub name: String,
    /// Its validated parameters.
    pub params: serde_json::Value,
    /// What the user asked of it last.
    pub state: JobWish,
    /// When it was submitted.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What the user asked of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobWish {
    /// Run it.
    Running,
    /// Stop it, keeping its state where its upgrade mode does.
    Suspended,
    /// Delete it.
    Deleted,
}

impl JobWish {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            JobWish::Running => "running",
            JobWish::Suspended => "suspended",
            JobWish::Deleted => "deleted",
        }
    }
}

impl fmt::Display for JobWish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobWish {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "running" => Ok(JobWish::Running),
            "suspended" => Ok(JobWish::Suspended),
            "deleted" => Ok(JobWish::Deleted),
            _ => Err(()),
        }
    }
}

fn job_from_row(row: &AnyRow) -> Result<FlinkJob, StoreError> {
    Ok(FlinkJob {
        id: parse(row, "id")?,
        instance_id: parse(row, "instance_id")?,
        name: row.try_get("name")?,
        params: json(row, "params")?,
        state: parse(row, "state")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

impl Store {
    /// Records a new running job on session cluster `instance_id`; refused
    /// with [`StoreError::JobNameTaken`] while a job of that name exists.
    pub async fn create_job(
        &self,
        instance_id: Uuid,
        name: &str,
        params: serde_json::Value,
    ) -> Result<FlinkJob, StoreError> {
        let now = now();
        let job = FlinkJob {
            id: Uuid::new_v4(),
            instance_id,
            name: name.to_owned(),
            params,
            state: JobWish::Running,
            created_at: now,
            updated_at: now,
        };
        sqlx::query(concat!(
            "INSERT INTO flink_jobs (",
            job_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(job.id.to_string())
        .bind(instance_id.to_string())
        .bind(&job.name)
        .bind(job.params.to_string())
        .bind(job.state.as_str())
        .bind(timestamp(now))
        .bind(timestamp(now))
        .execute(&self.pool)
        .await
        .map_err(|error| {
            unique_or(error, || StoreError::JobNameTaken {
                name: name.to_owned(),
            })
        })?;
        Ok(job)
    }

    /// The jobs of session cluster `instance_id` that exist, oldest first.
    pub async fn jobs(&self, instance_id: Uuid) -> Result<Vec<FlinkJob>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            job_columns!(),
            " FROM flink_jobs WHERE instance_id = $1 AND state <> 'deleted' ORDER BY created_at, name"
        ))
        .bind(instance_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// The existing job `name` of session cluster `instance_id`.
    pub async fn job(&self, instance_id: Uuid, name: &str) -> Result<FlinkJob, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            job_columns!(),
            " FROM flink_jobs WHERE instance_id = $1 AND name = $2 AND state <> 'deleted'"
        ))
        .bind(instance_id.to_string())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => job_from_row(&row),
            None => Err(StoreError::JobNotFound {
                name: name.to_owned(),
            }),
        }
    }

    /// Sets an existing job's parameters and wish.
    pub async fn update_job(
        &self,
        id: Uuid,
        params: &serde_json::Value,
        state: JobWish,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE flink_jobs SET params = $1, state = $2, updated_at = $3 \
             WHERE id = $4 AND state <> 'deleted'",
        )
        .bind(params.to_string())
        .bind(state.as_str())
        .bind(timestamp(now()))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "job", id });
        }
        Ok(())
    }

    /// Marks every job of session cluster `instance_id` deleted (at its uninstall).
    pub async fn delete_jobs_of(&self, instance_id: Uuid) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE flink_jobs SET state = 'deleted', updated_at = $1 \
             WHERE instance_id = $2 AND state <> 'deleted'",
        )
        .bind(timestamp(now()))
        .bind(instance_id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
