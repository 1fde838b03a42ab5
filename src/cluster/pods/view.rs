//! One pod as pages show it: the columns of `kubectl get pods` and what
//! each container is doing.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use serde::Serialize;

/// One pod as the instance page lists it (the columns of `kubectl get pods`).
#[derive(Debug, Clone, Serialize)]
pub struct PodView {
    /// Pod name.
    pub name: String,
    /// `status.phase`: Pending, Running, Succeeded, Failed, Unknown.
    pub phase: String,
    /// What `kubectl get pods` shows as STATUS: a container's waiting or
    /// terminated reason (`CrashLoopBackOff`, `Error`), `Terminating`, else the phase.
    pub status: String,
    /// Ready containers, e.g. `1/1`.
    pub ready: String,
    /// Restarts of all its containers.
    pub restarts: i32,
    /// The last termination of a container: reason, exit code and message.
    pub last_termination: Option<Termination>,
    /// The waiting message of a container (e.g. the back-off), if one waits.
    pub waiting_message: Option<String>,
    /// The node it runs on.
    pub node: Option<String>,
    /// When it was created.
    pub created: Option<DateTime<Utc>>,
    /// Flink's `component` label: `jobmanager` or `taskmanager`.
    pub component: Option<String>,
    /// Its containers, spec order, each with its state.
    pub containers: Vec<ContainerView>,
    /// For a failing pod, the line of its last run's log that says why (the
    /// root cause of the exception it ended with), if the service looked.
    pub crash_cause: Option<String>,
}

/// A container's end.
#[derive(Debug, Clone, Serialize)]
pub struct Termination {
    /// The container it was.
    pub container: String,
    /// `Error`, `Completed`, `OOMKilled`, ...
    pub reason: String,
    /// Its exit code.
    pub exit_code: i32,
    /// The termination message, if any.
    pub message: Option<String>,
}

/// One container of a pod.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerView {
    /// Container name.
    pub name: String,
    /// Running, Waiting (reason), Terminated (reason).
    pub state: String,
    /// Whether it is ready.
    pub ready: bool,
    /// Its restarts.
    pub restarts: i32,
    /// Whether an earlier run ended (so `previous` has a log).
    pub has_previous: bool,
    /// Whether no container runs: its runtime is the local cluster's
    /// simulated node (container ID `simulated://…`).
    pub simulated: bool,
}

/// The container ID prefix of the local cluster's simulated node.
pub const SIMULATED_RUNTIME: &str = "simulated://";

impl PodView {
    /// Whether every container of it is simulated (no process runs).
    pub fn is_simulated(&self) -> bool {
        !self.containers.is_empty() && self.containers.iter().all(|c| c.simulated)
    }

    /// The view of `pod`.
    pub fn of(pod: &Pod) -> PodView {
        let status = pod.status.clone().unwrap_or_default();
        let statuses = status.container_statuses.clone().unwrap_or_default();
        let spec_names: Vec<String> = pod
            .spec
            .iter()
            .flat_map(|s| s.containers.iter().map(|c| c.name.clone()))
            .collect();
        let containers: Vec<ContainerView> = spec_names
            .iter()
            .map(|name| {
                let found = statuses.iter().find(|s| &s.name == name);
                ContainerView {
                    name: name.clone(),
                    state: found.map_or_else(|| "Waiting".to_owned(), state_word),
                    ready: found.is_some_and(|s| s.ready),
                    restarts: found.map_or(0, |s| s.restart_count),
                    has_previous: found.is_some_and(|s| {
                        s.last_state
                            .as_ref()
                            .is_some_and(|l| l.terminated.is_some())
                    }),
                    simulated: found
                        .and_then(|s| s.container_id.as_deref())
                        .is_some_and(|id| id.starts_with(SIMULATED_RUNTIME)),
                }
            })
            .collect();
        let phase = status.phase.clone().unwrap_or_else(|| "Pending".to_owned());
        let shown = if pod.metadata.deletion_timestamp.is_some() {
            "Terminating".to_owned()
        } else {
            statuses
                .iter()
                .find_map(|s| {
                    let state = s.state.as_ref()?;
                    state
                        .waiting
                        .as_ref()
                        .and_then(|w| w.reason.clone())
                        .or_else(|| state.terminated.as_ref().and_then(|t| t.reason.clone()))
                })
                .or_else(|| status.reason.clone())
                .unwrap_or_else(|| phase.clone())
        };
        PodView {
            name: pod.metadata.name.clone().unwrap_or_default(),
            phase,
            status: shown,
            ready: format!(
                "{}/{}",
                statuses.iter().filter(|s| s.ready).count(),
                spec_names.len()
            ),
            restarts: statuses.iter().map(|s| s.restart_count).sum(),
            last_termination: last_termination(&statuses),
            waiting_message: statuses
                .iter()
                .find_map(|s| s.state.as_ref()?.waiting.as_ref()?.message.clone()),
            node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            created: pod
                .metadata
                .creation_timestamp
                .as_ref()
                .and_then(|t| DateTime::from_timestamp(t.0.as_second(), 0)),
            component: pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("component").cloned()),
            containers,
            crash_cause: None,
        }
    }

    /// Flink's role of the pod: `JobManager` or `TaskManager`.
    pub fn role(&self) -> Option<&'static str> {
        match self.component.as_deref() {
            Some("jobmanager") => Some("JobManager"),
            Some("taskmanager") => Some("TaskManager"),
            _ => None,
        }
    }

    /// The link text of `container`'s log: `JobManager log` for Flink's
    /// main container, else `<container> log`.
    pub fn log_label(&self, container: &str) -> String {
        match self.role() {
            Some(role) if container == "flink-main-container" => format!("{role} log"),
            _ => format!("{container} log"),
        }
    }

    /// Whether an earlier run of `container` ended.
    pub fn has_previous(&self, container: &str) -> bool {
        self.containers
            .iter()
            .any(|c| c.name == container && c.has_previous)
    }

    /// Whether it is failing: a container waits after a crash or ended in error.
    pub fn is_failing(&self) -> bool {
        matches!(
            self.status.as_str(),
            "CrashLoopBackOff" | "Error" | "Failed" | "OOMKilled" | "RunContainerError"
        )
    }

    /// The CSS class of its status word.
    pub fn status_class(&self) -> &'static str {
        match self.status.as_str() {
            "Running" | "Completed" | "Succeeded" => "status-running",
            _ if self.is_failing() || self.status.contains("Err") => "status-failed",
            _ => "status-installing",
        }
    }

    /// How old it is, as `kubectl get pods` says it (`45s`, `3m`, `2h`, `4d`).
    pub fn age(&self) -> String {
        let Some(created) = self.created else {
            return String::new();
        };
        let seconds = (Utc::now() - created).num_seconds().max(0);
        match seconds {
            s if s < 120 => format!("{s}s"),
            s if s < 7200 => format!("{}m", s / 60),
            s if s < 172_800 => format!("{}h", s / 3600),
            s => format!("{}d", s / 86_400),
        }
    }
}

fn state_word(status: &ContainerStatus) -> String {
    let Some(state) = &status.state else {
        return "Waiting".to_owned();
    };
    if state.running.is_some() {
        "Running".to_owned()
    } else if let Some(waiting) = &state.waiting {
        format!("Waiting ({})", waiting.reason.clone().unwrap_or_default())
    } else if let Some(terminated) = &state.terminated {
        format!(
            "Terminated ({}, exit code {})",
            terminated.reason.clone().unwrap_or_default(),
            terminated.exit_code
        )
    } else {
        "Waiting".to_owned()
    }
}

/// The most recent end of any container: its current state if terminated,
/// else its last state.
fn last_termination(statuses: &[ContainerStatus]) -> Option<Termination> {
    statuses
        .iter()
        .filter_map(|s| {
            let terminated = s
                .state
                .as_ref()
                .and_then(|st| st.terminated.clone())
                .or_else(|| s.last_state.as_ref().and_then(|l| l.terminated.clone()))?;
            Some((s.name.clone(), terminated))
        })
        .max_by_key(|(_, t)| t.finished_at.as_ref().map(|f| f.0))
        .map(|(container, t)| Termination {
            container,
            reason: t.reason.unwrap_or_default(),
            exit_code: t.exit_code,
            message: t.message,
        })
}
