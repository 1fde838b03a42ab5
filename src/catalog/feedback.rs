//! What the form says about one field as it is typed: the field's own error
//! or the app's rule refusing it, else the app's note (Flink's memory
//! breakdown). The same words the server gives after a submit, so that the
//! page script shows them live without a model of its own.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{AppDefinition, apps, params};

/// The form's words for one field's value, as the page shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldFeedback {
    /// Why the value is refused (the field's own check, then the app's rule).
    pub error: Option<String>,
    /// The app's note for an accepted value.
    pub note: Option<String>,
}

impl AppDefinition {
    /// Whether field `key` has words of its own while typed, beyond the
    /// field's help: Flink's memory fields.
    pub fn has_field_feedback(&self, key: &str) -> bool {
        apps::feedback_fields(self.name).contains(&key)
    }

    /// The form's words for field `key` holding `text` on its own; `None`
    /// when the field has none ([`AppDefinition::has_field_feedback`]).
    pub fn field_feedback(&self, key: &str, text: &str) -> Option<FieldFeedback> {
        if !self.has_field_feedback(key) {
            return None;
        }
        let param = self.param(key)?;
        let raw = BTreeMap::from([(key.to_owned(), text.to_owned())]);
        let (_, mut errors) = params::validate(std::slice::from_ref(param), &raw);
        let error = errors
            .remove(key)
            .or_else(|| apps::field_error(self.name, key, text));
        let note = match error {
            Some(_) => None,
            None => self.field_note(key, text),
        };
        Some(FieldFeedback { error, note })
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog;

    #[test]
    fn a_flink_memory_field_gets_the_servers_refusal_or_breakdown() {
        let flink = catalog::find("flink").unwrap();
        let refused = flink.field_feedback("taskManagerMemory", "900Mi").unwrap();
        assert!(
            refused
                .error
                .as_deref()
                .is_some_and(|e| e
                    .starts_with("900Mi leaves Flink no task heap: the other parts take 949 MiB")),
            "{refused:?}"
        );
        assert_eq!(refused.note, None);
        let accepted = flink.field_feedback("taskManagerMemory", "1280Mi").unwrap();
        assert_eq!(accepted.error, None);
        assert!(
            accepted
                .note
                .as_deref()
                .is_some_and(|n| n.starts_with("Flink splits 1280Mi into task heap 160 MiB")),
            "{accepted:?}"
        );
        let unreadable = flink.field_feedback("jobManagerMemory", "lots").unwrap();
        assert!(unreadable.error.is_some(), "{unreadable:?}");
        assert_eq!(flink.field_feedback("taskSlots", "2"), None);
        assert_eq!(
            catalog::find("minio")
                .unwrap()
                .field_feedback("memory", "1Gi"),
            None
        );
    }
}
