//! Which output file a log request reads, chosen as the kubelet chooses the
//! container whose log it serves (kubernetes v1.34,
//! `pkg/kubelet/kubelet_pods.go` `validateContainerLogStatus`): the previous
//! run's for `previous`, else the running one's, else the last run's; a
//! container that never ran has none, in the kubelet's words.

use std::path::PathBuf;
use std::sync::PoisonError;

use super::ProcessNode;
use super::status::{ContainerReport, State};

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
        let report = run.report.lock().unwrap_or_else(PoisonError::into_inner);
        Some(log_of(&run.name, &report.containers, container, previous))
    }
}

fn log_of(
    pod: &str,
    containers: &[ContainerReport],
    container: &str,
    previous: bool,
) -> ContainerLog {
    let Some(status) = containers.iter().find(|c| c.name == container) else {
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

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::super::status::Terminated;
    use super::*;

    fn ended() -> Terminated {
        Terminated {
            exit_code: 1,
            reason: "Error".into(),
            message: None,
            started_at: Utc::now(),
            finished_at: Utc::now(),
        }
    }

    fn file(path: &str, running: bool) -> ContainerLog {
        ContainerLog::File {
            path: PathBuf::from(path),
            running,
        }
    }

    #[test]
    fn the_log_is_chosen_as_the_kubelet_chooses_it() {
        let mut c = ContainerReport::waiting("main", "flink:1.20.0", "ContainerCreating");
        let log =
            |c: &ContainerReport, previous| log_of("jm", std::slice::from_ref(c), "main", previous);
        assert_eq!(
            log(&c, false),
            ContainerLog::NoLog(
                "container \"main\" in pod \"jm\" is waiting to start: ContainerCreating".into()
            )
        );
        assert_eq!(
            log(&c, true),
            ContainerLog::NoLog(
                "previous terminated container \"main\" in pod \"jm\" not found".into()
            )
        );
        assert!(matches!(
            log_of("jm", &[c.clone()], "side", false),
            ContainerLog::NoContainer(_)
        ));
        // Running its first run.
        c.state = State::Running {
            started_at: Utc::now(),
        };
        c.log = Some("0.log".into());
        assert_eq!(log(&c, false), file("0.log", true));
        // Crashed, waiting in back-off: both the current and the previous log are the ended run's.
        c.state = State::Waiting {
            reason: "CrashLoopBackOff".into(),
            message: None,
        };
        c.last = Some(ended());
        c.last_log = c.log.take();
        assert_eq!(log(&c, false), file("0.log", false));
        assert_eq!(log(&c, true), file("0.log", false));
        // Running again: the current run's, and the ended one as previous.
        c.state = State::Running {
            started_at: Utc::now(),
        };
        c.log = Some("1.log".into());
        assert_eq!(log(&c, false), file("1.log", true));
        assert_eq!(log(&c, true), file("0.log", false));
        // A container the node only simulates has no process and no log.
        let mut simulated = ContainerReport::waiting("side", "busybox", "ContainerCreating");
        simulated.state = State::Running {
            started_at: Utc::now(),
        };
        assert_eq!(
            log_of("jm", &[simulated], "side", false),
            ContainerLog::NoLog(simulated_log_message("side", "jm"))
        );
    }
}
