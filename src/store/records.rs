//! The records the store keeps, and the text forms of their enums.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// What a user asked to have running: one app, one name in one namespace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instance {
    /// Stable id, also written as an annotation on every object it owns.
    pub id: Uuid,
    /// The catalog app's `name`.
    pub app: String,
    /// The Kubernetes name of the instance.
    pub name: String,
    /// The Kubernetes namespace it lives in.
    pub namespace: String,
    /// The app version installed.
    pub version: String,
    /// Where the instance stands.
    pub status: InstanceStatus,
    /// The parameters of the current revision (no secret values).
    pub params: serde_json::Value,
    /// Number of the revision in force.
    pub current_revision: i64,
    /// When it was installed.
    pub created_at: DateTime<Utc>,
    /// When its record last changed.
    pub updated_at: DateTime<Utc>,
    /// The uninstalled instance of the same name and namespace this one
    /// was installed in place of (its history), if any.
    pub previous_id: Option<Uuid>,
}

impl Instance {
    /// `namespace/name`: how logs and the audit log name it.
    pub fn target(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// Which instances a list shows: each field matches all when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Deserialize, Serialize)]
#[serde(default)]
pub struct InstanceFilter {
    /// Catalog app name.
    pub app: String,
    /// Namespace.
    pub namespace: String,
    /// Status word, e.g. `Running`.
    pub status: String,
}

/// The fields a new instance starts with.
#[derive(Debug, Clone)]
pub struct NewInstance {
    /// Its id, chosen before the install renders (objects carry it).
    pub id: Uuid,
    /// The catalog app's `name`.
    pub app: String,
    /// The Kubernetes name.
    pub name: String,
    /// The Kubernetes namespace.
    pub namespace: String,
    /// The app version.
    pub version: String,
    /// Validated parameters (no secret values).
    pub params: serde_json::Value,
    /// The rendered objects of revision 1.
    pub objects: serde_json::Value,
    /// Who asked.
    pub actor: String,
}

/// A new revision of an existing instance: an update or a rollback.
#[derive(Debug, Clone)]
pub struct RevisionChange {
    /// Update or rollback.
    pub kind: OperationKind,
    /// The app version of the new revision.
    pub version: String,
    /// Its parameters (no secret values).
    pub params: serde_json::Value,
    /// Its rendered objects.
    pub objects: serde_json::Value,
    /// Who asked.
    pub actor: String,
}

/// One parameter set of an instance and the objects it rendered to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    /// The instance it belongs to.
    pub instance_id: Uuid,
    /// 1 for the install, then one more per update or rollback.
    pub number: i64,
    /// The parameters.
    pub params: serde_json::Value,
    /// The rendered Kubernetes objects, a JSON array.
    pub objects: serde_json::Value,
    /// Who made it.
    pub actor: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Something done to an instance, stored before it acts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operation {
    /// Stable id.
    pub id: Uuid,
    /// The instance acted on.
    pub instance_id: Uuid,
    /// What is done.
    pub kind: OperationKind,
    /// How far it got.
    pub state: OperationState,
    /// The revision it applies, if it applies one.
    pub revision: Option<i64>,
    /// Why it failed, in the words of whoever refused.
    pub error: Option<String>,
    /// What it is waiting for while it runs.
    pub progress: Option<String>,
    /// For an uninstall of a Flink cluster, the savepoint directory it
    /// deletes once the cluster is gone (`s3://bucket/prefix`); `None` keeps it.
    pub deletes_savepoints: Option<String>,
    /// Who asked.
    pub actor: String,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When the worker took it up.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Declares a text-backed enum: `as_str`, `Display`, `FromStr` and `Serialize`
/// all use the same words, which are also what the database stores.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The word stored in the database and shown to users.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {}: {other}", stringify!($name))),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// Where an instance stands, as its page shows it.
    InstanceStatus {
        /// Objects are being applied or are not ready yet after an install.
        Installing => "Installing",
        /// Every object is ready.
        Running => "Running",
        /// It ran, and some objects are no longer ready.
        Degraded => "Degraded",
        /// An application whose job is suspended as asked: its JobManager
        /// is gone until Resume starts the job again.
        Suspended => "Suspended",
        /// The last operation failed or the app reports an error.
        Failed => "Failed",
        /// An update or rollback is being applied.
        Updating => "Updating",
        /// Its objects are being deleted.
        Uninstalling => "Uninstalling",
        /// Its objects are gone; the record and its history stay.
        Uninstalled => "Uninstalled",
    }
}

text_enum! {
    /// What an operation does.
    OperationKind {
        /// First apply of revision 1.
        Install => "install",
        /// Apply of a new revision, pruning what it no longer renders.
        Update => "update",
        /// Deletion of every object the instance owns.
        Uninstall => "uninstall",
        /// Apply of a new revision made from an earlier one's parameters.
        Rollback => "rollback",
        /// Rolling restart of the workloads.
        Restart => "restart",
    }
}

text_enum! {
    /// How far an operation got.
    OperationState {
        /// Stored, not yet taken up by the worker.
        Pending => "pending",
        /// Taken up by the worker.
        Running => "running",
        /// Done.
        Succeeded => "succeeded",
        /// Stopped with an error.
        Failed => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_words_round_trip() {
        for status in [
            InstanceStatus::Installing,
            InstanceStatus::Running,
            InstanceStatus::Suspended,
            InstanceStatus::Uninstalled,
        ] {
            assert_eq!(status.as_str().parse::<InstanceStatus>(), Ok(status));
        }
        assert_eq!("rollback".parse(), Ok(OperationKind::Rollback));
        assert!("Pending".parse::<OperationState>().is_err());
        assert_eq!(
            serde_json::to_string(&OperationState::Succeeded).unwrap(),
            "\"succeeded\""
        );
    }
}
