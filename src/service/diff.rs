//! What an update changes, object by object: each object named by kind and
//! name, added, removed, changed or unchanged, with the changed lines of its
//! YAML. Pure: the update form and the JSON API show the same.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::ServiceError;
use crate::catalog::render::Object;

/// Lines of context around each change.
const CONTEXT_LINES: usize = 3;

/// What happens to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectChange {
    /// Rendered now, not before: created.
    Added,
    /// Rendered before, not now: deleted (pruned) when the update runs.
    Removed,
    /// Rendered both times, differently: applied again.
    Changed,
    /// Rendered the same.
    Unchanged,
}

impl ObjectChange {
    /// The word the page shows, e.g. "changed".
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectChange::Added => "added",
            ObjectChange::Removed => "removed",
            ObjectChange::Changed => "changed",
            ObjectChange::Unchanged => "unchanged",
        }
    }
}

/// What a line of a diff is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineChange {
    /// A hunk's `@@ -a,b +c,d @@` header.
    Hunk,
    /// Kept, shown around a change.
    Context,
    /// Added (`+`).
    Added,
    /// Removed (`-`).
    Removed,
}

impl LineChange {
    /// Its CSS class: `diff-hunk`, `diff-context`, `diff-add`, `diff-remove`.
    pub fn class(self) -> &'static str {
        match self {
            LineChange::Hunk => "diff-hunk",
            LineChange::Context => "diff-context",
            LineChange::Added => "diff-add",
            LineChange::Removed => "diff-remove",
        }
    }
}

/// One line of an object's diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// What it is.
    pub change: LineChange,
    /// Its text with the unified diff's sign (`+`, `-`, a space) in front,
    /// without the line end.
    pub text: String,
}

/// How one object changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectDiff {
    /// Its kind, e.g. `ConfigMap`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// What happens to it.
    pub change: ObjectChange,
    /// The lines of its YAML that change, with context; empty when unchanged.
    pub lines: Vec<DiffLine>,
}

impl ObjectDiff {
    /// `Kind/name`, as the page and the text diff name it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// The identity of an object across revisions.
fn identity(object: &Object) -> (&str, &str, &str) {
    fn text(value: &serde_json::Value) -> &str {
        value.as_str().unwrap_or_default()
    }
    (
        text(&object["kind"]),
        text(&object["metadata"]["namespace"]),
        text(&object["metadata"]["name"]),
    )
}

/// Each object of `current` and `next` with what happens to it: those of
/// `next` in its (apply) order, then those only `current` has.
pub fn object_diffs(current: &[Object], next: &[Object]) -> Result<Vec<ObjectDiff>, ServiceError> {
    let mut diffs = Vec::new();
    for object in next {
        let before = current.iter().find(|c| identity(c) == identity(object));
        diffs.push(object_diff(before, Some(object))?);
    }
    for object in current {
        if !next.iter().any(|n| identity(n) == identity(object)) {
            diffs.push(object_diff(Some(object), None)?);
        }
    }
    Ok(diffs)
}

fn object_diff(
    before: Option<&Object>,
    after: Option<&Object>,
) -> Result<ObjectDiff, ServiceError> {
    let yaml = |object: Option<&Object>| -> Result<String, ServiceError> {
        object.map_or(Ok(String::new()), |object| {
            serde_yaml_ng::to_string(object).map_err(|e| ServiceError::Encode(e.to_string()))
        })
    };
    let (old, new) = (yaml(before)?, yaml(after)?);
    let (kind, namespace, name) = identity(after.or(before).unwrap_or(&Object::Null));
    let change = match (before, after) {
        (None, _) => ObjectChange::Added,
        (_, None) => ObjectChange::Removed,
        _ if old == new => ObjectChange::Unchanged,
        _ => ObjectChange::Changed,
    };
    let mut lines = Vec::new();
    if change != ObjectChange::Unchanged {
        let diff = TextDiff::from_lines(&old, &new);
        for hunk in diff
            .unified_diff()
            .context_radius(CONTEXT_LINES)
            .iter_hunks()
        {
            lines.push(DiffLine {
                change: LineChange::Hunk,
                text: hunk.header().to_string().trim_end().to_owned(),
            });
            for line in hunk.iter_changes() {
                let (change, sign) = match line.tag() {
                    ChangeTag::Equal => (LineChange::Context, ' '),
                    ChangeTag::Delete => (LineChange::Removed, '-'),
                    ChangeTag::Insert => (LineChange::Added, '+'),
                };
                let text = line.to_string_lossy();
                lines.push(DiffLine {
                    change,
                    text: format!("{sign}{}", text.trim_end_matches('\n')),
                });
            }
        }
    }
    Ok(ObjectDiff {
        kind: kind.to_owned(),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        change,
        lines,
    })
}

/// The objects that change as one unified diff text, each under a header
/// that names it (`--- Kind/name (revision N)`, `+++ Kind/name (this update)`).
pub fn unified_text(from_revision: i64, diffs: &[ObjectDiff]) -> String {
    let mut text = String::new();
    for diff in diffs.iter().filter(|d| d.change != ObjectChange::Unchanged) {
        let id = diff.id();
        let (old, new) = match diff.change {
            ObjectChange::Added => ("/dev/null".to_owned(), format!("{id} (this update)")),
            ObjectChange::Removed => (
                format!("{id} (revision {from_revision})"),
                "/dev/null".into(),
            ),
            _ => (
                format!("{id} (revision {from_revision})"),
                format!("{id} (this update)"),
            ),
        };
        text.push_str(&format!("--- {old}\n+++ {new}\n"));
        for line in &diff.lines {
            text.push_str(&line.text);
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config_map(name: &str, value: &str) -> Object {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "data"}, "data": {"key": value}})
    }

    #[test]
    fn each_object_is_named_with_what_happens_to_it() {
        let current = [
            config_map("kept", "a"),
            config_map("changed", "1"),
            config_map("gone", "x"),
        ];
        let next = [
            config_map("kept", "a"),
            config_map("changed", "2"),
            config_map("new", "y"),
        ];
        let diffs = object_diffs(&current, &next).unwrap();
        let summary: Vec<(String, ObjectChange)> =
            diffs.iter().map(|d| (d.id(), d.change)).collect();
        assert_eq!(
            summary,
            [
                ("ConfigMap/kept".to_owned(), ObjectChange::Unchanged),
                ("ConfigMap/changed".to_owned(), ObjectChange::Changed),
                ("ConfigMap/new".to_owned(), ObjectChange::Added),
                ("ConfigMap/gone".to_owned(), ObjectChange::Removed),
            ]
        );
        assert!(diffs[0].lines.is_empty());
        let changed: Vec<(LineChange, &str)> = diffs[1]
            .lines
            .iter()
            .filter(|l| matches!(l.change, LineChange::Added | LineChange::Removed))
            .map(|l| (l.change, l.text.as_str()))
            .collect();
        assert_eq!(
            changed,
            [
                (LineChange::Removed, "-  key: '1'"),
                (LineChange::Added, "+  key: '2'")
            ]
        );
        assert_eq!(diffs[1].lines[0].change, LineChange::Hunk);
        assert!(
            diffs[2].lines[1..]
                .iter()
                .all(|l| l.change == LineChange::Added),
            "an added object is all additions"
        );
        assert!(
            diffs[3].lines[1..]
                .iter()
                .all(|l| l.change == LineChange::Removed),
            "a removed object is all removals"
        );
        let text = unified_text(4, &diffs);
        assert!(
            text.contains(
                "--- ConfigMap/changed (revision 4)\n+++ ConfigMap/changed (this update)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("--- /dev/null\n+++ ConfigMap/new (this update)\n"),
            "{text}"
        );
        assert!(
            text.contains("--- ConfigMap/gone (revision 4)\n+++ /dev/null\n"),
            "{text}"
        );
        assert!(!text.contains("kept"), "{text}");
    }
}
