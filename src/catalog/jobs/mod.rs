//! Flink jobs: the parameters of a job (shared by an application cluster and
//! a session job), their rules, and the FlinkSessionJob a session job renders
//! to. Pure: no I/O.

use std::collections::BTreeMap;

use serde_json::Value;

use super::params::{self, Choice, Param, ParamKind};
use super::render::{Object, RenderError, Target, labels};
use super::{FieldErrors, Values};
use crate::crd::{FlinkSessionJob, FlinkSessionJobSpec, JobSpec, JobState, UpgradeMode};

mod artifacts;
pub mod savepoints;
pub mod schedule;

pub use artifacts::{ArtifactRules, JAR_SCHEMES, is_restricted_host, is_restricted_ip};

/// Label with a session job's name on its FlinkSessionJob (the instance label
/// names the session cluster, so that its page and its uninstall find it).
pub const JOB_LABEL: &str = "dataport.io/job";

/// Longest job name: the FlinkSessionJob is named `<session>-<job>`.
pub const JOB_NAME_MAX: usize = 40;

/// What a session job is checked against: its session cluster and the
/// operator that runs it.
#[derive(Debug, Clone)]
pub struct SessionContext {
    /// Whether the session cluster has HA with checkpoint storage.
    pub has_storage: bool,
    /// The operator's artifact rules.
    pub artifacts: ArtifactRules,
    /// The operator, as `namespace/name`, for messages.
    pub operator: String,
}

/// What a job runs and how its state survives upgrades and suspends.
pub const JOB_PARAMS: &[Param] = &[
    Param {
        key: "jarURI",
        label: "JAR URI",
        help: "The job's JAR: local:// (inside the Flink image), https://, s3:// or hdfs://, \
            e.g. local:///opt/flink/examples/streaming/StateMachineExample.jar.",
        kind: ParamKind::Uri {
            file: true,
            schemes: JAR_SCHEMES,
            max_len: 500,
        },
        default: None,
        shown_when: &[],
    },
    Param {
        key: "entryClass",
        label: "Entry class",
        help: "The main class, when the JAR's manifest names none, e.g. org.example.Pipeline.",
        kind: ParamKind::Text { max_len: 200 },
        default: Some(""),
        shown_when: &[],
    },
    Param {
        key: "args",
        label: "Arguments",
        help: "Program arguments, separated by spaces.",
        kind: ParamKind::Text { max_len: 1000 },
        default: Some(""),
        shown_when: &[],
    },
    Param::int(
        "parallelism",
        "Parallelism",
        "1",
        (1, 1024),
        "Parallel instances of each operator of the job.",
    ),
    Param {
        key: "upgradeMode",
        label: "Upgrade mode",
        help: "How the job's state survives upgrades and suspends: dropped (stateless), \
            through a savepoint, or from the latest checkpoint (last-state).",
        kind: ParamKind::Choice {
            options: &[
                Choice {
                    value: "stateless",
                    label: "Stateless",
                },
                Choice {
                    value: "savepoint",
                    label: "Savepoint",
                },
                Choice {
                    value: "last-state",
                    label: "Last state",
                },
            ],
        },
        default: Some("stateless"),
        shown_when: &[],
    },
];

/// A session job's fields: the job's, then its periodic savepoints
/// ([`schedule`]).
pub const SESSION_JOB_PARAMS: &[Param] = &[
    JOB_PARAMS[0],
    JOB_PARAMS[1],
    JOB_PARAMS[2],
    JOB_PARAMS[3],
    JOB_PARAMS[4],
    schedule::SCHEDULE_PARAMS[0],
    schedule::SCHEDULE_PARAMS[1],
    schedule::SCHEDULE_PARAMS[2],
];

/// The desired state of an application's job.
pub const JOB_STATE: Param = Param {
    key: "jobState",
    label: "Job state",
    help: "Running, or suspended (with a savepoint when the upgrade mode keeps state).",
    kind: ParamKind::Choice {
        options: &[
            Choice {
                value: "running",
                label: "Running",
            },
            Choice {
                value: "suspended",
                label: "Suspended",
            },
        ],
    },
    default: Some("running"),
    shown_when: &[],
};

/// Whether the upgrade mode in `values` keeps the job's state.
pub fn keeps_state(values: &Values) -> bool {
    matches!(
        values.get("upgradeMode").and_then(Value::as_str),
        Some("savepoint" | "last-state")
    )
}

/// Rules across a job's fields and its cluster: a job that keeps state needs
/// checkpoint storage (`has_storage`; `enable_storage` says how to get it),
/// and an entry class must be a Java class name.
pub fn job_rules(values: &Values, has_storage: bool, enable_storage: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if keeps_state(values) && !has_storage {
        let mode = values["upgradeMode"].as_str().unwrap_or_default();
        errors.insert(
            "upgradeMode".into(),
            format!(
                "Upgrade mode {mode} needs high availability with checkpoint storage: \
                 {enable_storage}, or use stateless"
            ),
        );
    }
    let entry_class = values
        .get("entryClass")
        .and_then(Value::as_str)
        .unwrap_or("");
    let is_class_name = entry_class.split('.').all(|part| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    });
    if !entry_class.is_empty() && !is_class_name {
        errors.insert(
            "entryClass".into(),
            format!(
                "Entry class {entry_class:?} is not a Java class name (e.g. org.example.Pipeline)"
            ),
        );
    }
    errors
}

/// Validates a session job's name and raw parameters against its session
/// cluster and operator (`context`).
pub fn validate_session_job(
    name: &str,
    raw: &BTreeMap<String, String>,
    context: &SessionContext,
) -> Result<Values, FieldErrors> {
    let has_storage = context.has_storage;
    let (values, mut errors) = params::validate(SESSION_JOB_PARAMS, raw);
    if let Some(uri) = values.get("jarURI").and_then(Value::as_str)
        && let Some(refusal) = context.artifacts.refusal(uri, &context.operator)
    {
        errors.insert("jarURI".into(), refusal);
    }
    if !params::is_dns_label(name, JOB_NAME_MAX) {
        errors.insert(
            "name".into(),
            format!(
                "Name must be 1 to {JOB_NAME_MAX} lowercase letters, digits and hyphens, \
                 starting with a letter"
            ),
        );
    }
    let enable = "turn high availability on in the session cluster's update";
    let mut rule_errors = job_rules(&values, has_storage, enable);
    rule_errors.extend(schedule::schedule_rules(&values, has_storage, enable));
    params::with_rule_errors(values, errors, rule_errors)
}

/// The operator's job spec from validated job parameters.
pub fn job_spec(values: &Values, state: JobState) -> JobSpec {
    let text = |key: &str| {
        values
            .get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let upgrade_mode = match values.get("upgradeMode").and_then(Value::as_str) {
        Some("savepoint") => UpgradeMode::Savepoint,
        Some("last-state") => UpgradeMode::LastState,
        _ => UpgradeMode::Stateless,
    };
    JobSpec {
        jar_uri: text("jarURI"),
        parallelism: values
            .get("parallelism")
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok()),
        entry_class: text("entryClass"),
        args: text("args").map(|args| args.split_whitespace().map(str::to_owned).collect()),
        state: Some(state),
        upgrade_mode: Some(upgrade_mode),
        initial_savepoint_path: text(savepoints::INITIAL_SAVEPOINT),
        allow_non_restored_state: values
            .get(savepoints::ALLOW_NON_RESTORED)
            .and_then(Value::as_bool),
        savepoint_redeploy_nonce: values
            .get(savepoints::REDEPLOY_NONCE)
            .and_then(Value::as_i64),
        ..JobSpec::default()
    }
}

/// The name of the FlinkSessionJob of job `job` on session cluster `session`.
pub fn session_job_object_name(session: &str, job: &str) -> String {
    format!("{session}-{job}")
}

/// The FlinkSessionJob that runs job `job` with `values` on the session
/// cluster `session`, labelled as one of the session's objects.
pub fn render_session_job(
    session: &Target,
    job: &str,
    values: &Values,
    state: JobState,
) -> Result<Object, RenderError> {
    let mut session_job = FlinkSessionJob::new(
        &session_job_object_name(&session.name, job),
        FlinkSessionJobSpec {
            deployment_name: session.name.clone(),
            job: job_spec(values, state),
            restart_nonce: None,
            flink_configuration: schedule::schedule_configuration(values),
        },
    );
    session_job.metadata.namespace = Some(session.namespace.clone());
    session_job.metadata.labels = Some(BTreeMap::from([
        (labels::MANAGED_BY.to_owned(), "dataport".to_owned()),
        (labels::INSTANCE.to_owned(), session.name.clone()),
        (labels::NAME.to_owned(), session.app.to_owned()),
        (labels::PART_OF.to_owned(), "dataport".to_owned()),
        (JOB_LABEL.to_owned(), job.to_owned()),
    ]));
    session_job.metadata.annotations = Some(BTreeMap::from([(
        labels::INSTANCE_ID.to_owned(),
        session.id.to_string(),
    )]));
    // A kube custom resource serializes its own apiVersion and kind.
    serde_json::to_value(&session_job).map_err(|e| RenderError::Encode {
        kind: "FlinkSessionJob",
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalog::params::raw;

    const JAR: &str = "https://repo.example.org/jobs/etl.jar";

    /// A session on operator `ops/flink-operator` with its default rules.
    pub(super) fn context(has_storage: bool) -> SessionContext {
        SessionContext {
            has_storage,
            artifacts: ArtifactRules::default(),
            operator: "ops/flink-operator".into(),
        }
    }

    #[test]
    fn a_job_needs_a_jar_uri_with_a_known_scheme() {
        for bad in [
            "",
            "StateMachineExample.jar",
            "/opt/job.jar",
            "ftp://host/job.jar",
            "local://",
            "s3:/no-host",
            "https:///job.jar",
            "https://host/my job.jar",
        ] {
            let errors =
                validate_session_job("etl", &raw(&[("jarURI", bad)]), &context(false)).unwrap_err();
            assert!(errors.contains_key("jarURI"), "{bad:?} accepted");
        }
        let errors = validate_session_job(
            "etl",
            &raw(&[("jarURI", "ftp://host/job.jar")]),
            &context(false),
        )
        .unwrap_err();
        assert_eq!(
            errors["jarURI"],
            "JAR URI must be a URI to a file starting with https://, http://, s3://, s3a://, \
             s3p://, hdfs://, gs://, abfss://, file:// or local://"
        );
        for good in [JAR, "https://repo.example.com/jobs/etl-1.0.jar"] {
            assert!(
                validate_session_job("etl", &raw(&[("jarURI", good)]), &context(false)).is_ok()
            );
        }
    }

    #[test]
    fn every_error_comes_at_once() {
        let errors = validate_session_job(
            "Bad Name",
            &raw(&[
                ("jarURI", "job.jar"),
                ("parallelism", "-2"),
                ("upgradeMode", "savepoint"),
                ("entryClass", "org.example.9Main"),
            ]),
            &context(false),
        )
        .unwrap_err();
        assert_eq!(
            errors.keys().map(String::as_str).collect::<Vec<_>>(),
            ["entryClass", "jarURI", "name", "parallelism", "upgradeMode"]
        );
        assert_eq!(
            errors["parallelism"],
            "Parallelism must be between 1 and 1024"
        );
        assert!(
            errors["upgradeMode"].starts_with("Upgrade mode savepoint needs high availability")
        );
    }

    #[test]
    fn state_keeping_modes_need_storage_stateless_does_not() {
        for mode in ["savepoint", "last-state"] {
            let form = raw(&[("jarURI", JAR), ("upgradeMode", mode)]);
            assert!(validate_session_job("etl", &form, &context(false)).is_err());
            assert!(validate_session_job("etl", &form, &context(true)).is_ok());
        }
        let stateless = raw(&[("jarURI", JAR)]);
        assert!(validate_session_job("etl", &stateless, &context(false)).is_ok());
    }

    #[test]
    fn a_session_job_renders_to_a_labelled_flink_session_job() {
        let values = validate_session_job(
            "etl",
            &raw(&[("jarURI", JAR), ("args", "--rate  10 ")]),
            &context(false),
        )
        .unwrap();
        let session = Target {
            id: uuid::Uuid::nil(),
            app: "flink",
            name: "analytics".into(),
            namespace: "data".into(),
            version: "1.20".into(),
        };
        let object = render_session_job(&session, "etl", &values, JobState::Running).unwrap();
        assert_eq!(object["kind"], "FlinkSessionJob");
        assert_eq!(object["metadata"]["name"], "analytics-etl");
        assert_eq!(object["metadata"]["labels"][labels::INSTANCE], "analytics");
        assert_eq!(object["metadata"]["labels"][JOB_LABEL], "etl");
        assert_eq!(
            object["spec"],
            json!({
                "deploymentName": "analytics",
                "job": {
                    "jarURI": JAR,
                    "parallelism": 1,
                    "args": ["--rate", "10"],
                    "state": "running",
                    "upgradeMode": "stateless",
                },
            })
        );
    }
}
