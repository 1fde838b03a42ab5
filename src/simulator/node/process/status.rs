//! What the kubelet reports of a pod and its containers (`status` of core/v1
//! Pod): phase, conditions, pod IP, and per container its state (waiting with a
//! reason, running, terminated with exit code and reason), last state, restart
//! count and readiness.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// One container's state, as the kubelet's `ContainerStatus`.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Waiting {
        reason: String,
        message: Option<String>,
    },
    Running {
        started_at: DateTime<Utc>,
    },
    Terminated(Terminated),
}

/// A container's end.
#[derive(Debug, Clone, PartialEq)]
pub struct Terminated {
    pub exit_code: i32,
    /// `Completed` (exit 0), `Error`, or `OOMKilled`.
    pub reason: String,
    pub message: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// One container as reported.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerReport {
    pub name: String,
    pub image: String,
    pub state: State,
    pub last: Option<Terminated>,
    pub restarts: i32,
    pub ready: bool,
    /// Which process runs it (`process://<pid>`), when one does.
    pub container_id: Option<String>,
    /// The output file of its current (or, once ended for good, last) run;
    /// none while no process has run it (or for a container only simulated).
    pub log: Option<PathBuf>,
    /// The output file of the run `last` reports.
    pub last_log: Option<PathBuf>,
}

impl ContainerReport {
    pub fn waiting(name: &str, image: &str, reason: &str) -> ContainerReport {
        ContainerReport {
            name: name.to_owned(),
            image: image.to_owned(),
            state: State::Waiting {
                reason: reason.to_owned(),
                message: None,
            },
            last: None,
            restarts: 0,
            ready: false,
            container_id: None,
            log: None,
            last_log: None,
        }
    }

    fn to_json(&self) -> Value {
        let state = state_json(&self.state);
        let mut value = json!({
            "name": self.name,
            "image": self.image,
            "imageID": "",
            "ready": self.ready,
            "started": matches!(self.state, State::Running { .. }),
            "restartCount": self.restarts,
            "state": state,
            "lastState": self.last.as_ref().map(|t| json!({"terminated": terminated_json(t)})).unwrap_or_else(|| json!({})),
        });
        if let Some(id) = &self.container_id {
            value["containerID"] = json!(id);
        }
        value
    }
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn terminated_json(t: &Terminated) -> Value {
    let mut value = json!({
        "exitCode": t.exit_code,
        "reason": t.reason,
        "startedAt": time(&t.started_at),
        "finishedAt": time(&t.finished_at),
    });
    if let Some(message) = &t.message {
        value["message"] = json!(message);
    }
    value
}

fn state_json(state: &State) -> Value {
    match state {
        State::Waiting { reason, message } => {
            let mut waiting = json!({"reason": reason});
            if let Some(message) = message {
                waiting["message"] = json!(message);
            }
            json!({"waiting": waiting})
        }
        State::Running { started_at } => json!({"running": {"startedAt": time(started_at)}}),
        State::Terminated(t) => json!({"terminated": terminated_json(t)}),
    }
}

/// The whole pod as the node last saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct PodReport {
    pub pod_ip: String,
    pub start_time: DateTime<Utc>,
    /// `restartPolicy` of the pod: `Always`, `OnFailure` or `Never`.
    pub restart_policy: String,
    pub initialized: bool,
    pub containers: Vec<ContainerReport>,
    /// A note of the node's on the pod (e.g. the Flink release it runs
    /// instead of the image's), as the `DataportProcessNode` condition.
    pub note: Option<String>,
}

impl PodReport {
    /// `Pending` until every container started once; `Succeeded`/`Failed`
    /// when none will run again; else `Running` (kubelet's `getPhase`).
    pub fn phase(&self) -> &'static str {
        let never_again = |c: &ContainerReport| match &c.state {
            State::Terminated(t) => {
                self.restart_policy == "Never"
                    || (self.restart_policy == "OnFailure" && t.exit_code == 0)
            }
            _ => false,
        };
        if !self.containers.is_empty() && self.containers.iter().all(never_again) {
            let failed = self
                .containers
                .iter()
                .any(|c| matches!(&c.state, State::Terminated(t) if t.exit_code != 0));
            return if failed { "Failed" } else { "Succeeded" };
        }
        let started = |c: &ContainerReport| {
            !matches!(c.state, State::Waiting { .. }) || c.restarts > 0 || c.last.is_some()
        };
        if self.initialized && self.containers.iter().all(started) {
            "Running"
        } else {
            "Pending"
        }
    }

    /// The status subresource's merge patch.
    pub fn to_patch(&self, now: DateTime<Utc>) -> Value {
        let ready = !self.containers.is_empty() && self.containers.iter().all(|c| c.ready);
        let flag = |b: bool| if b { "True" } else { "False" };
        let condition = |kind: &str, status: bool| json!({"type": kind, "status": flag(status), "lastTransitionTime": time(&now)});
        let mut conditions = vec![
            condition("PodScheduled", true),
            condition("Initialized", self.initialized),
            condition("ContainersReady", ready),
            condition("Ready", ready),
        ];
        if let Some(note) = &self.note {
            conditions.push(json!({"type": "DataportProcessNode", "status": "True", "reason": "ProcessRun", "message": note, "lastTransitionTime": time(&now)}));
        }
        let mut status = json!({
            "phase": self.phase(),
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": self.pod_ip,
            "podIPs": [{"ip": self.pod_ip}],
            "startTime": time(&self.start_time),
            "conditions": conditions,
            "containerStatuses": self.containers.iter().map(ContainerReport::to_json).collect::<Vec<_>>(),
        });
        if let Some(note) = &self.note {
            status["message"] = json!(note);
        }
        json!({"status": status})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terminated(code: i32) -> State {
        let now = Utc::now();
        State::Terminated(Terminated {
            exit_code: code,
            reason: if code == 0 {
                "Completed".into()
            } else {
                "Error".into()
            },
            message: None,
            started_at: now,
            finished_at: now,
        })
    }

    fn pod(policy: &str, state: State) -> PodReport {
        let mut container = ContainerReport::waiting("c", "flink:1.20.0", "ContainerCreating");
        container.state = state;
        PodReport {
            pod_ip: "127.1.0.2".into(),
            start_time: Utc::now(),
            restart_policy: policy.into(),
            initialized: true,
            containers: vec![container],
            note: None,
        }
    }

    #[test]
    fn phases_follow_the_restart_policy() {
        assert_eq!(
            pod(
                "Always",
                State::Waiting {
                    reason: "ContainerCreating".into(),
                    message: None
                }
            )
            .phase(),
            "Pending"
        );
        assert_eq!(
            pod(
                "Always",
                State::Running {
                    started_at: Utc::now()
                }
            )
            .phase(),
            "Running"
        );
        assert_eq!(pod("Never", terminated(1)).phase(), "Failed");
        assert_eq!(pod("Never", terminated(0)).phase(), "Succeeded");
        assert_eq!(pod("OnFailure", terminated(0)).phase(), "Succeeded");
        assert_eq!(pod("Always", terminated(1)).phase(), "Running");
    }
}
