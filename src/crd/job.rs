//! The job part of a spec, shared by FlinkDeployment (`spec.job`),
//! FlinkSessionJob (`spec.job`) and FlinkBlueGreenDeployment
//! (`spec.template.spec.job`).
//!
//! Source: flink-kubernetes-operator release-1.15.0,
//! helm/flink-kubernetes-operator/crds/flinkdeployments.flink.apache.org-v1.yml
//! (`spec.job`), generated from `flink-kubernetes-operator-api/.../spec/JobSpec.java`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A Flink job: what to run and how to upgrade it.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct JobSpec {
    /// Where the job's JAR is: `local://`, `https://`, `s3://`, ...
    #[serde(rename = "jarURI")]
    pub jar_uri: Option<String>,
    /// Parallelism of the job.
    pub parallelism: Option<i32>,
    /// Main class, if the JAR's manifest does not name one.
    pub entry_class: Option<String>,
    /// Program arguments.
    pub args: Option<Vec<String>>,
    /// Desired state of the job.
    pub state: Option<JobState>,
    /// How state is carried across upgrades.
    pub upgrade_mode: Option<UpgradeMode>,
    /// Changing it triggers a savepoint.
    pub savepoint_trigger_nonce: Option<i64>,
    /// Savepoint to start the job from.
    pub initial_savepoint_path: Option<String>,
    /// Changing it (with `initialSavepointPath`) redeploys the job from that savepoint.
    pub savepoint_redeploy_nonce: Option<i64>,
    /// Changing it triggers a checkpoint.
    pub checkpoint_trigger_nonce: Option<i64>,
    /// Whether state that maps to no operator may be dropped on restore.
    pub allow_non_restored_state: Option<bool>,
    /// Changing it resets the autoscaler's collected metrics and overrides.
    pub autoscaler_reset_nonce: Option<i64>,
}

/// Desired state of a job.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// The job runs.
    Running,
    /// The job is stopped (with a savepoint where the upgrade mode keeps state).
    Suspended,
}

/// How a job's state is carried across upgrades and suspends.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UpgradeMode {
    /// A savepoint is taken and restored.
    Savepoint,
    /// The latest checkpoint is restored (needs HA).
    LastState,
    /// State is dropped.
    Stateless,
}
