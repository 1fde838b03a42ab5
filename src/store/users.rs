//! Users, their API tokens and browser sessions.
//!
//! The store keeps only hashes of secrets: argon2 PHC strings for passwords,
//! SHA-256 for API tokens and session ids. Hashing itself happens in the
//! service layer; these functions take and compare the hashes.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::rows::{now, parse, time, timestamp};
use super::{Store, StoreError, unique_or};

/// What a user may do. Each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads pages and the JSON API.
    Viewer,
    /// Also installs, updates, restarts, rolls back and runs jobs.
    Operator,
    /// Also uninstalls, manages users and reads the audit log.
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The stored and displayed word.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or(())
    }
}

/// A local user (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Stable id.
    pub id: Uuid,
    /// Login name, unique.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// When the user was added.
    pub created_at: DateTime<Utc>,
}

/// An API token's record (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Stable id, used to revoke it.
    pub id: Uuid,
    /// Whose it is.
    pub user_id: Uuid,
    /// What its owner called it.
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: parse(row, "id")?,
        name: row.try_get("name")?,
        role: parse(row, "role")?,
        created_at: time(row, "created_at")?,
    })
}

fn token_from_row(row: &AnyRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: parse(row, "id")?,
        user_id: parse(row, "user_id")?,
        name: row.try_get("name")?,
        created_at: time(row, "created_at")?,
    })
}

impl Store {
    /// Adds a user; refused with [`StoreError::UserNameTaken`] when the name is taken.
    pub async fn create_user(
        &self,
        name: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<User, StoreError> {
        let user = User {
            id: Uuid::new_v4(),
            name: name.to_owned(),
            role,
            created_at: now(),
        };
        sqlx::query(
            "INSERT INTO users (id, name, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user.id.to_string())
        .bind(name)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(timestamp(user.created_at))
        .execute(&self.pool)
        .await
        .map_err(|error| {
            unique_or(error, || StoreError::UserNameTaken {
                name: name.to_owned(),
            })
        })?;
        Ok(user)
    }

    /// Replaces user `id`'s password hash.
    pub async fn set_password_hash(&self, id: Uuid, password_hash: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        super::found(done.rows_affected(), "user", id)
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query("SELECT id, name, role, created_at FROM users ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// How many users there are.
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    /// The user with this id, if any.
    pub async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        sqlx::query("SELECT id, name, role, created_at FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(|row| user_from_row(&row))
            .transpose()
    }

    /// The user named `name` and their password hash, if there is one.
    pub async fn user_with_password(
        &self,
        name: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        sqlx::query("SELECT id, name, role, created_at, password_hash FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    /// Removes a user, their tokens and sessions stay unusable (tokens are
    /// deleted with the user; sessions find no user any more).
    pub async fn delete_user(&self, id: Uuid) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // Explicit: SQLite enforces ON DELETE CASCADE only with foreign keys on.
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        super::found(done.rows_affected(), "user", id)
    }

    /// Records a new API token of `user_id` by its hash.
    pub async fn create_token(
        &self,
        user_id: Uuid,
        name: &str,
        token_hash: &str,
    ) -> Result<ApiToken, StoreError> {
        let token = ApiToken {
            id: Uuid::new_v4(),
            user_id,
            name: name.to_owned(),
            created_at: now(),
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.id.to_string())
        .bind(user_id.to_string())
        .bind(name)
        .bind(token_hash)
        .bind(timestamp(token.created_at))
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The tokens of `user_id`, newest first.
    pub async fn tokens_of(&self, user_id: Uuid) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, created_at FROM api_tokens WHERE user_id = $1 \
             ORDER BY created_at DESC",
        )
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes token `id` of `user_id` (a user revokes only their own).
    pub async fn delete_token(&self, user_id: Uuid, id: Uuid) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(id.to_string())
            .bind(user_id.to_string())
            .execute(&self.pool)
            .await?;
        super::found(done.rows_affected(), "token", id)
    }

    /// The user owning the token with this hash, if any.
    pub async fn user_for_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        sqlx::query(
            "SELECT u.id, u.name, u.role, u.created_at FROM api_tokens t \
             JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| user_from_row(&row))
        .transpose()
    }

    /// Writes a new session; `false` when the id is taken already.
    pub async fn create_session(
        &self,
        id_hash: &str,
        data: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id_hash) DO NOTHING",
        )
        .bind(id_hash)
        .bind(data)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes a session, new or not.
    pub async fn save_session(
        &self,
        id_hash: &str,
        data: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, \
             expires_at = excluded.expires_at",
        )
        .bind(id_hash)
        .bind(data)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The data and expiry (Unix seconds) of a session that has not expired at `now`.
    pub async fn session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<(String, i64)>, StoreError> {
        sqlx::query("SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2")
            .bind(id_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| Ok((row.try_get("data")?, row.try_get("expires_at")?)))
            .transpose()
    }

    /// Forgets a session (logout).
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets sessions expired at `now` (Unix seconds); how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
