//! The audit log: every mutation the service carries out or refuses is
//! written with who asked, what, on which instance, the change (secret values
//! masked) and how it ended.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{Service, ServiceError};
use crate::catalog::render::MASK;
use crate::catalog::{self, ParamKind};
use crate::store::{AuditEntry, NewAuditEntry};

/// Entries per audit page.
pub const AUDIT_PAGE_SIZE: i64 = 50;

/// What an entry says before its result is known.
#[derive(Debug, Clone, Default)]
pub(super) struct Audited {
    action: &'static str,
    target: String,
    instance_id: Option<Uuid>,
    detail: String,
}

impl Audited {
    /// `action` on `target` (`namespace/name`, a user name, ...).
    pub(super) fn new(action: &'static str, target: impl Into<String>) -> Audited {
        Audited {
            action,
            target: target.into(),
            ..Audited::default()
        }
    }

    /// On this instance.
    pub(super) fn instance(mut self, id: Option<Uuid>) -> Audited {
        self.instance_id = id;
        self
    }

    /// Saying this of the change (never a secret value).
    pub(super) fn detail(mut self, detail: impl Into<String>) -> Audited {
        self.detail = detail.into();
        self
    }
}

/// One page of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    /// The filters as given.
    pub filter: crate::store::AuditFilter,
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    /// Entries in all.
    pub total: i64,
    /// This page, from 1.
    pub page: i64,
    /// Pages in all (at least 1).
    pub pages: i64,
}

impl Service {
    /// Writes `entry` with `result`'s outcome, then hands `result` back. A
    /// failed write is logged: the mutation it describes has happened.
    pub(super) async fn audited<T>(
        &self,
        actor: &str,
        entry: Audited,
        result: Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(error @ ServiceError::Invalid(_)) => format!("refused: {}", error.explain()),
            Err(error) => format!("failed: {error}"),
        };
        let written = self
            .store
            .append_audit(NewAuditEntry {
                actor: actor.to_owned(),
                action: entry.action.to_owned(),
                target: entry.target,
                instance_id: entry.instance_id,
                detail: entry.detail,
                result: outcome,
            })
            .await;
        if let Err(error) = written {
            tracing::error!(%error, action = entry.action, "audit entry not written");
        }
        result
    }

    /// Page `page` (from 1) of the audit log, newest first.
    pub async fn audit_log(
        &self,
        filter: crate::store::AuditFilter,
        page: i64,
    ) -> Result<AuditPage, ServiceError> {
        let page = page.max(1);
        let (entries, total) = self
            .store
            .audit_page_filtered(
                &filter,
                AUDIT_PAGE_SIZE,
                (page - 1).saturating_mul(AUDIT_PAGE_SIZE),
            )
            .await?;
        Ok(AuditPage {
            filter,
            entries,
            total,
            page,
            pages: ((total + AUDIT_PAGE_SIZE - 1) / AUDIT_PAGE_SIZE).max(1),
        })
    }
}

/// `key=value` lines of the parameters a user sent for `app`, secret values
/// masked (a secret left empty says so: it will be generated).
pub(super) fn masked_params(app: &str, params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .map(|(key, value)| format!("{key}={}", masked(app, key, value)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `key: old → new` lines for the parameters `requested` changes against the
/// `stored` ones (which never hold secret values), secret values masked.
pub(super) fn param_changes(
    app: &str,
    stored: &Value,
    requested: &BTreeMap<String, String>,
) -> String {
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut lines = Vec::new();
    for (key, value) in requested {
        let old = stored.get(key).map(text).unwrap_or_default();
        if is_secret(app, key) {
            if !value.is_empty() {
                lines.push(format!("{key}: {MASK} (typed)"));
            }
        } else if old != *value && !(old.is_empty() && value.is_empty()) {
            lines.push(format!("{key}: {old:?} → {value:?}"));
        }
    }
    if let Value::Object(map) = stored {
        for (key, value) in map {
            if !requested.contains_key(key) && !is_secret(app, key) {
                lines.push(format!("{key}: {:?} → (default)", text(value)));
            }
        }
    }
    if lines.is_empty() {
        "no parameter changed".to_owned()
    } else {
        lines.join("\n")
    }
}

fn masked<'a>(app: &str, key: &str, value: &'a str) -> &'a str {
    match (is_secret(app, key), value.is_empty()) {
        (true, true) => "(generated)",
        (true, false) => MASK,
        (false, _) => value,
    }
}

/// Whether `key` of `app` holds a secret; unknown keys and apps count as
/// secret, so a typo can never leak a value into the log.
fn is_secret(app: &str, key: &str) -> bool {
    let Some(app) = catalog::find(app) else {
        return true;
    };
    match app.param(key) {
        Some(param) => matches!(param.kind, ParamKind::Secret { .. }),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn secrets_and_unknown_keys_are_masked() {
        let sent = params(&[
            ("rootPassword", "hunter2-very-secret"),
            ("cpu", "2"),
            ("typo", "maybe-a-password"),
        ]);
        let text = masked_params("mysql", &sent);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("maybe-a-password"), "{text}");
        assert!(text.contains("cpu=2"), "{text}");
    }

    #[test]
    fn changes_list_what_moved() {
        let stored = serde_json::json!({"taskManagerReplicas": 1, "taskManagerCpu": "1"});
        let sent = params(&[("taskManagerReplicas", "3"), ("taskManagerCpu", "1")]);
        assert_eq!(
            param_changes("flink", &stored, &sent),
            "taskManagerReplicas: \"1\" → \"3\""
        );
        assert_eq!(
            param_changes(
                "flink",
                &stored,
                &params(&[("taskManagerReplicas", "1"), ("taskManagerCpu", "1")])
            ),
            "no parameter changed"
        );
    }
}
