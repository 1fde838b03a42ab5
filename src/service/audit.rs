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
/// `stored` ones (which never hold secret values), in the form's order,
/// secret values masked. What is compared is what the request stores: a
/// field left out or empty counts with its default (an unchecked checkbox,
/// which a form does not send, is off), a field that no longer applies is
/// dropped; so a form sent unchanged records no change. A field the request
/// gets wrong shows as typed.
pub(super) fn param_changes(
    app: &str,
    stored: &Value,
    requested: &BTreeMap<String, String>,
) -> String {
    let text = |value: &Value| match value {
        Value::String(text) => format!("{text:?}"),
        other => format!("{:?}", other.to_string()),
    };
    let mut lines = Vec::new();
    let params = catalog::find(app).map_or(&[][..], |app| app.params);
    let (values, errors) = crate::catalog::params::validate(params, requested);
    for param in params {
        let key = param.key;
        if matches!(param.kind, ParamKind::Secret { .. }) {
            if requested.get(key).is_some_and(|value| !value.is_empty()) {
                lines.push(format!("{key}: {MASK} (typed)"));
            }
            continue;
        }
        let old = stored.get(key).map(text);
        let new = match errors.get(key) {
            Some(_) => requested.get(key).map(|typed| format!("{typed:?}")),
            None => values.get(key).map(text),
        };
        if old != new {
            let shown = |value: Option<String>| value.unwrap_or_else(|| "(not set)".to_owned());
            lines.push(format!("{key}: {} → {}", shown(old), shown(new)));
        }
    }
    // Keys the app does not have may be anything, a password too: never their value.
    for (key, value) in requested {
        if !params.iter().any(|param| param.key == key) && !value.is_empty() {
            lines.push(format!("{key}: {MASK} (not a parameter of {app})"));
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
        let flink = catalog::find("flink").unwrap();
        let form = params(&[("operator", "op"), ("taskManagerReplicas", "1")]);
        let (stored, errors) = crate::catalog::params::validate(flink.params, &form);
        assert!(errors.is_empty(), "{errors:?}");
        let stored = Value::Object(stored.into_iter().collect());
        assert_eq!(
            param_changes(
                "flink",
                &stored,
                &params(&[("operator", "op"), ("taskManagerReplicas", "3")])
            ),
            "taskManagerReplicas: \"1\" → \"3\""
        );
        // What a form without scripts sends unchanged: toggles off are left
        // out, the fields they hide are sent with their defaults.
        let unchanged = params(&[
            ("operator", "op"),
            ("taskManagerReplicas", "1"),
            ("haType", "kubernetes"),
            ("storage", "s3"),
            ("hiveMetastore", ""),
            ("ingressTemplate", ""),
        ]);
        assert_eq!(
            param_changes("flink", &stored, &unchanged),
            "no parameter changed"
        );
        // A toggle turned on, its fields with it; then off again.
        let mut ha = unchanged.clone();
        ha.insert("highAvailability".into(), "on".into());
        ha.insert("minio".into(), "minio".into());
        let changes = param_changes("flink", &stored, &ha);
        assert!(
            changes.starts_with(
                "highAvailability: \"false\" → \"true\"\nhaType: (not set) → \"kubernetes\""
            ),
            "{changes}"
        );
        assert!(
            changes.contains("minio: (not set) → \"minio\""),
            "{changes}"
        );
        // A value the request gets wrong shows as typed.
        let mut wrong = unchanged;
        wrong.insert("taskManagerReplicas".into(), "many".into());
        assert_eq!(
            param_changes("flink", &stored, &wrong),
            "taskManagerReplicas: \"1\" → \"many\""
        );
    }
}
