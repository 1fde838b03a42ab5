//! The store behind browser sessions (`tower-sessions`): rows in the portal's
//! database, so that every replica knows every session and a restart logs
//! nobody out. Rows are keyed by the SHA-256 of the cookie's session id.

use std::collections::HashMap;

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

use super::Service;
use super::auth::sha256_hex;
use crate::store::{Store, StoreError};

/// Sessions kept in the portal's database.
#[derive(Debug, Clone)]
pub struct SessionRecords {
    store: Store,
}

impl Service {
    /// The session store for the HTTP layer's session middleware.
    pub fn session_records(&self) -> SessionRecords {
        SessionRecords {
            store: self.store.clone(),
        }
    }
}

fn backend(error: StoreError) -> Error {
    Error::Backend(error.to_string())
}

fn key(id: &Id) -> String {
    sha256_hex(&id.to_string())
}

fn data_text(record: &Record) -> Result<String> {
    serde_json::to_string(&record.data).map_err(|error| Error::Encode(error.to_string()))
}

#[async_trait]
impl SessionStore for SessionRecords {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let data = data_text(record)?;
        let expires = record.expiry_date.unix_timestamp();
        // A clash of 128 random bits is all but impossible; still, never share a row.
        while !self
            .store
            .create_session(&key(&record.id), &data, expires)
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.store
            .save_session(
                &key(&record.id),
                &data_text(record)?,
                record.expiry_date.unix_timestamp(),
            )
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let Some((data, expires)) = self.store.session(&key(id), now).await.map_err(backend)?
        else {
            return Ok(None);
        };
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&data).map_err(|error| Error::Decode(error.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(expires)
            .map_err(|error| Error::Decode(error.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.store.delete_session(&key(id)).await.map_err(backend)
    }
}
