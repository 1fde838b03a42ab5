//! Who is asking: local users with argon2 password hashes, per-user API
//! tokens (kept as SHA-256), and the store behind browser sessions.

use std::sync::LazyLock;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::audit::Audited;
use super::{Service, ServiceError};
use crate::catalog::FieldErrors;
use crate::store::{ApiToken, Role, StoreError, User};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted (argon2 hashes any length; this bounds the work).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// What every API token starts with, so that scanners and people can tell one.
pub const TOKEN_PREFIX: &str = "dpt_";

/// How long a token lookup is trusted before the store is asked again. A
/// revoke on this replica takes effect at once; on another within this.
const TOKEN_CACHE_SECONDS: u64 = 5;

/// A hash to verify unknown user names against, so that a login for a name
/// that does not exist takes as long as one with a wrong password.
static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password_now("decoy password that matches nothing").unwrap_or_default());

/// Token lookups of the last few seconds, by token hash.
pub(super) type TokenCache = moka::future::Cache<String, Option<User>>;

pub(super) fn token_cache() -> TokenCache {
    moka::future::Cache::builder()
        .max_capacity(10_000)
        .time_to_live(Duration::from_secs(TOKEN_CACHE_SECONDS))
        .build()
}

impl Service {
    /// Adds a user after checking the name and the password; audited as `actor`.
    pub async fn add_user(
        &self,
        actor: &str,
        name: &str,
        password: &str,
        role: Role,
    ) -> Result<User, ServiceError> {
        let result = self.add_user_now(name, password, role).await;
        let entry = Audited::new("add user", name).detail(format!("role={role}"));
        self.audited(actor, entry, result).await
    }

    async fn add_user_now(
        &self,
        name: &str,
        password: &str,
        role: Role,
    ) -> Result<User, ServiceError> {
        let mut errors = FieldErrors::new();
        if let Err(message) = check_user_name(name) {
            errors.insert("name".into(), message);
        }
        if let Err(message) = check_password(password) {
            errors.insert("password".into(), message);
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let hash = hash_password(password.to_owned()).await?;
        self.store
            .create_user(name, &hash, role)
            .await
            .map_err(|error| match error {
                StoreError::UserNameTaken { name } => {
                    ServiceError::invalid("name", format!("A user named {name} exists already"))
                }
                other => other.into(),
            })
    }

    /// Adds the first admin when there is no user yet; `None` when there is one.
    pub async fn bootstrap_admin(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<User>, ServiceError> {
        if self.store.user_count().await? > 0 {
            return Ok(None);
        }
        self.add_user("dataport", name, password, Role::Admin)
            .await
            .map(Some)
    }

    /// Whether any user exists (the login page says how to add the first).
    pub async fn has_users(&self) -> Result<bool, ServiceError> {
        Ok(self.store.user_count().await? > 0)
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, ServiceError> {
        Ok(self.store.users().await?)
    }

    /// The user with this id, if they still exist.
    pub async fn user(&self, id: Uuid) -> Result<Option<User>, ServiceError> {
        Ok(self.store.user(id).await?)
    }

    /// Removes user `id`; refused for one's own account (no admin locks
    /// everyone out by accident).
    pub async fn remove_user(&self, actor: &User, id: Uuid) -> Result<(), ServiceError> {
        let target = self.store.user(id).await?;
        let name = target
            .as_ref()
            .map_or_else(|| id.to_string(), |user| user.name.clone());
        let result = match removable(actor, id, target) {
            Ok(_) => self.store.delete_user(id).await.map_err(ServiceError::from),
            Err(error) => Err(error),
        };
        self.tokens_seen.invalidate_all();
        self.audited(&actor.name, Audited::new("remove user", name), result)
            .await
    }

    /// User `id`, if `actor` may remove them (what the confirm page shows).
    ///
    /// # Errors
    /// [`ServiceError::UserNotFound`], or a conflict for one's own account.
    pub async fn removable_user(&self, actor: &User, id: Uuid) -> Result<User, ServiceError> {
        removable(actor, id, self.store.user(id).await?)
    }

    /// The user whose name and password these are; `None` otherwise (the
    /// same answer for an unknown name and a wrong password). Audited.
    pub async fn login(&self, name: &str, password: &str) -> Result<Option<User>, ServiceError> {
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Ok(None);
        }
        let found = self.store.user_with_password(name).await?;
        let hash = found
            .as_ref()
            .map_or_else(|| DECOY_HASH.clone(), |(_, hash)| hash.clone());
        let matches = verify_password(hash, password.to_owned()).await;
        let user = found.filter(|_| matches).map(|(user, _)| user);
        let result = match &user {
            Some(_) => Ok(()),
            None => Err(ServiceError::Conflict(
                "wrong user name or password".to_owned(),
            )),
        };
        let _ = self
            .audited(name, Audited::new("login", name), result)
            .await;
        let now = chrono::Utc::now().timestamp();
        if let Err(error) = self.store.delete_expired_sessions(now).await {
            tracing::warn!(%error, "expired sessions not cleaned up");
        }
        Ok(user)
    }

    /// Changes `user`'s own password after checking the current one; audited.
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        let result = self.change_password_now(user, current, new).await;
        let entry = Audited::new("change password", &user.name);
        self.audited(&user.name, entry, result).await
    }

    async fn change_password_now(
        &self,
        user: &User,
        current: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        let stored = self.store.user_with_password(&user.name).await?;
        let hash = stored.map(|(_, hash)| hash).unwrap_or_default();
        if current.chars().count() > MAX_PASSWORD_CHARS
            || !verify_password(hash, current.to_owned()).await
        {
            return Err(ServiceError::invalid(
                "current",
                "This is not your current password",
            ));
        }
        check_password(new).map_err(|message| ServiceError::invalid("password", message))?;
        let hash = hash_password(new.to_owned()).await?;
        Ok(self.store.set_password_hash(user.id, &hash).await?)
    }

    /// Writes that `user` logged out.
    pub async fn logged_out(&self, user: &User) {
        let _ = self
            .audited(&user.name, Audited::new("logout", &user.name), Ok(()))
            .await;
    }

    /// Makes an API token for `user`; returns its record and the token, which
    /// is shown once and kept nowhere.
    pub async fn create_token(
        &self,
        user: &User,
        name: &str,
    ) -> Result<(ApiToken, String), ServiceError> {
        let result = self.create_token_now(user, name).await;
        let entry = Audited::new("create token", &user.name).detail(format!("token {name:?}"));
        self.audited(&user.name, entry, result).await
    }

    async fn create_token_now(
        &self,
        user: &User,
        name: &str,
    ) -> Result<(ApiToken, String), ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(ServiceError::invalid(
                "name",
                "Name the token (1 to 64 characters), e.g. the script that uses it",
            ));
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let record = self
            .store
            .create_token(user.id, name, &sha256_hex(&token))
            .await?;
        Ok((record, token))
    }

    /// The API tokens of `user`, newest first.
    pub async fn tokens(&self, user: &User) -> Result<Vec<ApiToken>, ServiceError> {
        Ok(self.store.tokens_of(user.id).await?)
    }

    /// `user`'s API token `id`.
    ///
    /// # Errors
    /// [`ServiceError::TokenNotFound`] when they have none with that id.
    pub async fn token(&self, user: &User, id: Uuid) -> Result<ApiToken, ServiceError> {
        self.tokens(user)
            .await?
            .into_iter()
            .find(|token| token.id == id)
            .ok_or(ServiceError::TokenNotFound(id))
    }

    /// Revokes `user`'s token `id`.
    pub async fn revoke_token(&self, user: &User, id: Uuid) -> Result<(), ServiceError> {
        let result = self
            .store
            .delete_token(user.id, id)
            .await
            .map_err(|error| match error {
                StoreError::NotFound { .. } => ServiceError::TokenNotFound(id),
                other => other.into(),
            });
        self.tokens_seen.invalidate_all();
        let entry = Audited::new("revoke token", &user.name).detail(id.to_string());
        self.audited(&user.name, entry, result).await
    }

    /// The user an API token belongs to, if it is a live token.
    pub async fn user_for_token(&self, token: &str) -> Result<Option<User>, ServiceError> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
            return Ok(None);
        }
        let hash = sha256_hex(token);
        // Every API request comes here: a hit needs no initializer future.
        if let Some(user) = self.tokens_seen.get(&hash).await {
            return Ok(user);
        }
        let store = &self.store;
        self.tokens_seen
            .try_get_with(
                hash.clone(),
                async move { store.user_for_token(&hash).await },
            )
            .await
            .map_err(|error| match std::sync::Arc::into_inner(error) {
                Some(error) => ServiceError::Store(error),
                None => ServiceError::Conflict("token lookup failed".to_owned()),
            })
    }
}

/// User names: 1 to 63 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn check_user_name(name: &str) -> Result<(), String> {
    let valid = (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err("Use 1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit".to_owned())
    }
}

/// Passwords: 12 to 1024 characters.
pub fn check_password(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        Err(format!(
            "Use at least {MIN_PASSWORD_CHARS} characters (a few words make a good one)"
        ))
    } else if chars > MAX_PASSWORD_CHARS {
        Err(format!("Use at most {MAX_PASSWORD_CHARS} characters"))
    } else {
        Ok(())
    }
}

/// The lower-case hex SHA-256 of `text`: how tokens and session ids are kept.
pub(super) fn sha256_hex(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

fn hash_password_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Argon2id with the crate's default cost, off the async threads.
async fn hash_password(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || hash_password_now(&password))
        .await
        .map_err(|error| ServiceError::Encode(error.to_string()))?
        .map_err(|error| ServiceError::Encode(error.to_string()))
}

async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// `target` (user `id`), if `actor` may remove them: never one's own account,
/// so that no admin locks everyone out by accident.
fn removable(actor: &User, id: Uuid, target: Option<User>) -> Result<User, ServiceError> {
    match target {
        None => Err(ServiceError::UserNotFound(id)),
        Some(user) if user.id == actor.id => Err(ServiceError::Conflict(
            "You cannot remove your own account".to_owned(),
        )),
        Some(user) => Ok(user),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_plain() {
        assert!(check_user_name("ada.lovelace-2").is_ok());
        for bad in ["", "Ada", "-x", "a b", "<script>", &"a".repeat(64)] {
            assert!(check_user_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_long_enough() {
        assert!(check_password("short").is_err());
        assert!(check_password("correct horse battery").is_ok());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(hash.clone(), "correct horse battery".into()).await);
        assert!(!verify_password(hash, "correct horse battery!".into()).await);
        assert!(!verify_password("not a hash".into(), "x".into()).await);
    }
}
