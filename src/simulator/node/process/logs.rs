//! Which output file a log request reads, chosen as the kubelet chooses the
//! container whose log it serves (kubernetes v1.34,
//! `pkg/kubelet/kubelet_pods.go` `validateContainerLogStatus`): the previous
//! run's for `previous`, else the running one's, else the last run's; a
//! container that never ran has none, in the kubelet's words.

use std::path::PathBuf;
use std::sync::PoisonError;

use super::ProcessNode;
use super::pod::PodRun;
use super::status::State;

/// What the node has of one container's output.
#[derive(Debug, Clone, PartialEq)]
pub enum ContainerLog {
    /// The file its process writes (or wrote) stdout and stderr to, in the
    /// order written; `running` while that process still runs.
    File { path: PathBuf, running: bool },
    /// It has no log to give; the kubelet's message (it answers 400).
    NoLog(String),
    /// The pod has no container of that name (the kubelet answers 404).
    NoContainer(String),
}

impl ProcessNode {
    /// The output of `container` of pod `namespace/pod` (its previous run's
    /// with `previous`); `None` when the node runs no such pod itself (the
    /// pod's containers are simulated, or it is not there).
    pub fn container_log(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
    ) -> Option<ContainerLog> {
        let run = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(namespace.to_owned(), pod.to_owned()))
            .cloned()?;
        Some(log_of(&run, container, previous))
    }
}

fn log_of(run: &PodRun, container: &str, previous: bool) -> ContainerLog {
    let report = run.report.lock().unwrap_or_else(PoisonError::into_inner);
    let pod = &run.name;
    let Some(status) = report.containers.iter().find(|c| c.name == container) else {
        return ContainerLog::NoContainer(format!(
            "container {container:?} not found in pod {pod:?}"
        ));
    };
    let file = |path: &Option<PathBuf>, running: bool| match path {
        Some(path) => ContainerLog::File {
            path: path.clone(),
            running,
        },
        None => ContainerLog::NoLog(simulated_log_message(container, pod)),
    };
    if previous {
        return match &status.last {
            Some(_) => file(&status.last_log, false),
            None => ContainerLog::NoLog(format!(
                "previous terminated container {container:?} in pod {pod:?} not found"
            )),
        };
    }
    match &status.state {
        State::Running { .. } => file(&status.log, status.log.is_some()),
        State::Terminated(_) => match (&status.log, &status.last_log) {
            (Some(_), _) => file(&status.log, false),
            (None, Some(_)) => file(&status.last_log, false),
            (None, None) => ContainerLog::NoLog(format!(
                "container {container:?} in pod {pod:?} is terminated"
            )),
        },
        State::Waiting { .. } if status.last.is_some() => file(&status.last_log, false),
        State::Waiting { reason, .. } => ContainerLog::NoLog(match reason.as_str() {
            "ErrImagePull" => {
                format!(
                    "container {container:?} in pod {pod:?} is waiting to start: image can't be pulled"
                )
            }
            "ImagePullBackOff" => format!(
                "container {container:?} in pod {pod:?} is waiting to start: trying and failing to pull image"
            ),
            reason => {
                format!("container {container:?} in pod {pod:?} is waiting to start: {reason}")
            }
        }),
    }
}

/// What the node says of a container it only simulates: no process runs, so
/// there is no output to give, and none is made up.
pub fn simulated_log_message(container: &str, pod: &str) -> String {
    format!(
        "container {container:?} in pod {pod:?} is simulated by the dataport node: no process runs, so it has no log"
    )
}
