//! One pod on the process node, from volumes to the final delete, as the
//! kubelet's pod workers run it (kubernetes v1.34 `pkg/kubelet`): volumes set
//! up (a missing ConfigMap or Secret gives a `FailedMount` Event and the pod
//! waits in `ContainerCreating`), each container's environment made (a missing
//! reference: `CreateContainerConfigError` and a `Failed` Event), processes
//! started with their output kept per container and restart, restarts after
//! an exit by the pod's `restartPolicy` with the kubelet's back-off (10 s
//! doubling to 5 min, `CrashLoopBackOff`), readiness from the container's
//! probe or its running state, and on deletion SIGTERM, the grace period,
//! SIGKILL.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::Utc;
use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::sync::{Notify, watch};

use super::env;
use super::status::{ContainerReport, PodReport, State, Terminated};
use super::volumes::{Mounts, Volumes};
use super::{Launch, ProcessNode};

/// The kubelet's crash-loop back-off: first delay and cap.
const BACKOFF_FIRST: Duration = Duration::from_secs(10);
const BACKOFF_CAP: Duration = Duration::from_secs(300);
/// How long a container must run before its back-off starts again from the first delay.
const BACKOFF_RESET: Duration = Duration::from_secs(600);
/// How soon a missing volume source or reference is looked for again.
const RETRY: Duration = Duration::from_secs(3);

/// A stop request: the grace period in seconds, and whether the pod object is
/// to be deleted afterwards (it is not when it is gone already).
pub type StopRequest = Option<(i64, bool)>;

/// What the pod's tasks share (and the node's log endpoint reads).
pub(super) struct PodRun {
    node: Arc<ProcessNode>,
    pub(super) pod: Pod,
    pub(super) name: String,
    namespace: String,
    dir: PathBuf,
    ip: Ipv4Addr,
    pub(super) report: Mutex<PodReport>,
    changed: Notify,
}

impl PodRun {
    fn update(&self, index: usize, change: impl FnOnce(&mut ContainerReport)) {
        let ready = {
            let mut report = self.report.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(container) = report.containers.get_mut(index) {
                change(container);
            }
            report.containers.iter().all(|c| c.ready)
        };
        self.node
            .dns
            .set_ready(self.pod.metadata.uid.as_deref().unwrap_or_default(), ready);
        self.changed.notify_one();
    }

    async fn event(&self, kind: &str, reason: &str, message: &str) {
        super::record_event(&self.node.client, &self.pod, kind, reason, message).await;
    }
}

/// Runs `pod` until a stop request ends it, at `ip` (`None`: a new address
/// from the node's network, given back when the pod ends).
pub(super) async fn supervise(
    node: Arc<ProcessNode>,
    mut pod: Pod,
    ip: Option<Ipv4Addr>,
    mut stop: watch::Receiver<StopRequest>,
) {
    let ip = match ip {
        Some(ip) => ip,
        None => loop {
            match node.network.allocate() {
                Ok(ip) => break ip,
                Err(message) => {
                    // The kubelet's reason when the pod's network cannot be set up.
                    let message = format!("Failed to create pod sandbox: pod IP: {message}");
                    super::record_event(
                        &node.client,
                        &pod,
                        "Warning",
                        "FailedCreatePodSandBox",
                        &message,
                    )
                    .await;
                    if wait_or_stop(&mut stop, RETRY).await {
                        // Stopped before it ran: only the final delete is left.
                        break Ipv4Addr::LOCALHOST;
                    }
                }
            }
        },
    };
    // The kubelet knows the IP before the API server does (downward API).
    let status = pod.status.get_or_insert_default();
    status.pod_ip = Some(ip.to_string());
    status.host_ip = Some("127.0.0.1".into());
    let name = pod.metadata.name.clone().unwrap_or_default();
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let dir = node
        .options
        .root
        .join(&namespace)
        .join(format!("{name}-{}", &uid[..uid.len().min(8)]));
    let spec = pod.spec.clone().unwrap_or_default();
    let containers: Vec<ContainerReport> = spec
        .containers
        .iter()
        .map(|c| {
            ContainerReport::waiting(
                &c.name,
                c.image.as_deref().unwrap_or_default(),
                "ContainerCreating",
            )
        })
        .collect();
    let run = Arc::new(PodRun {
        node: node.clone(),
        pod: pod.clone(),
        name: name.clone(),
        namespace: namespace.clone(),
        dir: dir.clone(),
        ip,
        report: Mutex::new(PodReport {
            pod_ip: ip.to_string(),
            start_time: Utc::now(),
            restart_policy: spec
                .restart_policy
                .clone()
                .unwrap_or_else(|| "Always".into()),
            initialized: false,
            containers,
            note: None,
        }),
        changed: Notify::new(),
    });
    node.running
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert((namespace.clone(), name.clone()), run.clone());
    let reporter = tokio::spawn(report(run.clone()));
    if stop.borrow().is_some() {
        return finish(run, reporter, &stop).await;
    }
    run.changed.notify_one();

    // Volumes: retried until their sources exist, as the kubelet does.
    let mut last_failure = String::new();
    let volumes = loop {
        match Volumes::mount(&node.client, &pod, &dir.join("volumes")).await {
            Ok(volumes) => break volumes,
            Err((volume, error)) => {
                let message = format!("MountVolume.SetUp failed for volume \"{volume}\" : {error}");
                if message != last_failure {
                    run.event("Warning", "FailedMount", &message).await;
                    last_failure = message;
                }
                if wait_or_stop(&mut stop, RETRY).await {
                    return finish(run, reporter, &stop).await;
                }
            }
        }
    };
    let hosts = dir.join("hosts");
    node.dns.add(&uid, hosts.clone(), &run.pod, ip);
    {
        // Init containers of images the node does not run complete at once.
        let mut report = run.report.lock().unwrap_or_else(PoisonError::into_inner);
        report.initialized = true;
    }
    run.changed.notify_one();
    let tasks: Vec<_> = spec
        .containers
        .iter()
        .enumerate()
        .map(|(index, container)| {
            let mounts = Mounts::of(container, &volumes);
            tokio::spawn(run_container(
                run.clone(),
                index,
                container.clone(),
                mounts,
                hosts.clone(),
                stop.clone(),
            ))
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    node.dns.remove(&uid);
    finish(run, reporter, &stop).await;
}

/// Reports the last state, then deletes the pod object when asked to.
async fn finish(
    run: Arc<PodRun>,
    reporter: tokio::task::JoinHandle<()>,
    stop: &watch::Receiver<StopRequest>,
) {
    reporter.abort();
    let delete = stop.borrow().is_some_and(|(_, delete)| delete);
    // A pod that ended by itself keeps its logs until it is deleted, as the
    // kubelet keeps a completed pod's (a Job's log is read after it ends);
    // the node forgets it then ([`super::ProcessNode::forget`]).
    if delete {
        // Its logs go with it (a pod of the same name may run already).
        let mut running = run
            .node
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = (run.namespace.clone(), run.name.clone());
        if running
            .get(&key)
            .is_some_and(|other| Arc::ptr_eq(other, &run))
        {
            running.remove(&key);
        }
    }
    let api: Api<Pod> = Api::namespaced(run.node.client.clone(), &run.namespace);
    // The reporter may not have written the last change (a Job's pod ending
    // `Succeeded`, which its Job controller waits for): written here.
    let last = run
        .report
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .to_patch(Utc::now());
    if let Err(error) = api
        .patch_status(&run.name, &PatchParams::default(), &Patch::Merge(&last))
        .await
    {
        tracing::debug!(pod = %run.name, %error, "last pod status not written");
    }
    if delete
        && let Err(error) = api
            .delete(&run.name, &DeleteParams::default().grace_period(0))
            .await
    {
        tracing::debug!(pod = %run.name, %error, "final delete of a stopped pod");
    }
    let _ = std::fs::remove_dir_all(run.dir.join("volumes"));
    run.node.network.release(run.ip);
}

/// Writes the pod's status whenever it changed.
async fn report(run: Arc<PodRun>) {
    let api: Api<Pod> = Api::namespaced(run.node.client.clone(), &run.namespace);
    let mut last = None;
    loop {
        run.changed.notified().await;
        let current = run
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if last.as_ref() == Some(&current) {
            continue;
        }
        let patch = current.to_patch(Utc::now());
        match api
            .patch_status(&run.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => last = Some(current),
            Err(error) => {
                tracing::debug!(pod = %run.name, %error, "pod status not written; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                run.changed.notify_one();
            }
        }
    }
}

/// Waits `delay` unless a stop request comes first (then `true`).
async fn wait_or_stop(stop: &mut watch::Receiver<StopRequest>, delay: Duration) -> bool {
    if stop.borrow().is_some() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(delay) => stop.borrow().is_some(),
        _ = stop.changed() => true,
    }
}

/// One container: made, started, watched and restarted until the pod stops.
async fn run_container(
    run: Arc<PodRun>,
    index: usize,
    container: Container,
    mounts: Mounts,
    hosts: PathBuf,
    mut stop: watch::Receiver<StopRequest>,
) {
    let image = container.image.clone().unwrap_or_default();
    let mut backoff = BACKOFF_FIRST;
    let mut restarts = 0;
    loop {
        if stop.borrow().is_some() {
            return;
        }
        let env = match container_env(&run, &container, &mounts).await {
            Ok(env) => env,
            Err(error) => {
                let message = error.to_string();
                run.update(index, |c| {
                    c.state = State::Waiting {
                        reason: "CreateContainerConfigError".into(),
                        message: Some(message.clone()),
                    }
                });
                run.event("Warning", "Failed", &format!("Error: {message}"))
                    .await;
                if wait_or_stop(&mut stop, RETRY).await {
                    return;
                }
                continue;
            }
        };
        let container_dir = run.dir.join("containers").join(&container.name);
        let launch = run.node.launch(&super::ContainerStart {
            container: &container,
            env: &env,
            mounts: &mounts,
            pod_ip: run.ip,
            dir: &container_dir,
            hosts_file: &hosts,
            java: &run.node.options.java,
        });
        let (script, note) = match launch {
            Launch::Simulated => {
                // Not an image the node runs: it "runs" without a process.
                run.update(index, |c| {
                    c.state = State::Running {
                        started_at: Utc::now(),
                    };
                    c.ready = true;
                });
                let _ = stop.changed().await;
                return;
            }
            Launch::Unavailable(message) => {
                let reason = if restarts == 0 {
                    "ErrImagePull"
                } else {
                    "ImagePullBackOff"
                };
                run.update(index, |c| {
                    c.state = State::Waiting {
                        reason: reason.into(),
                        message: Some(message.clone()),
                    }
                });
                run.event(
                    "Warning",
                    "Failed",
                    &format!("Failed to pull image \"{image}\": {message}"),
                )
                .await;
                restarts += 1;
                if wait_or_stop(&mut stop, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(BACKOFF_CAP);
                continue;
            }
            Launch::Refused(message) => {
                run.update(index, |c| {
                    c.state = State::Waiting {
                        reason: "RunContainerError".into(),
                        message: Some(message.clone()),
                    }
                });
                run.event("Warning", "Failed", &format!("Error: {message}"))
                    .await;
                if wait_or_stop(&mut stop, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(BACKOFF_CAP);
                continue;
            }
            Launch::Script { path, note } => (path, note),
        };
        if let Some(note) = note {
            run.report
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .note = Some(note);
        }
        let log = log_file(&run.dir, &container.name, restarts);
        let child = spawn(&script, &env, &container_dir, &log);
        let mut child = match child {
            Ok(child) => child,
            Err(error) => {
                let message = format!("failed to start the container process: {error}");
                run.update(index, |c| {
                    c.state = State::Waiting {
                        reason: "RunContainerError".into(),
                        message: Some(message.clone()),
                    }
                });
                if wait_or_stop(&mut stop, backoff).await {
                    return;
                }
                continue;
            }
        };
        let started_at = Utc::now();
        let pid = child.id();
        run.update(index, |c| {
            c.state = State::Running { started_at };
            c.ready = container.readiness_probe.is_none();
            c.container_id = pid.map(|p| format!("process://{p}"));
            c.log = Some(log.clone());
        });
        run.event(
            "Normal",
            "Started",
            &format!("Started container {}", container.name),
        )
        .await;
        let probe = container
            .readiness_probe
            .clone()
            .map(|probe| tokio::spawn(readiness(run.clone(), index, container.clone(), probe)));
        let status = tokio::select! {
            status = child.wait() => status.ok(),
            _ = stop.changed() => {
                let grace = stop.borrow().map(|(grace, _)| grace).unwrap_or(30);
                terminate(&mut child, pid, grace).await
            }
        };
        if let Some(probe) = probe {
            probe.abort();
        }
        let finished_at = Utc::now();
        let exit_code = status.and_then(exit_code).unwrap_or(137);
        let terminated = Terminated {
            exit_code,
            reason: if exit_code == 0 {
                "Completed".into()
            } else {
                "Error".into()
            },
            message: termination_message(&container, &log, exit_code),
            started_at,
            finished_at,
        };
        let stopping = stop.borrow().is_some();
        let policy = run
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .restart_policy
            .clone();
        let again = !stopping && (policy == "Always" || (policy == "OnFailure" && exit_code != 0));
        if (finished_at - started_at).to_std().unwrap_or_default() > BACKOFF_RESET {
            backoff = BACKOFF_FIRST;
        }
        if !again {
            run.update(index, |c| {
                c.state = State::Terminated(terminated.clone());
                c.ready = false;
            });
            return;
        }
        restarts += 1;
        let message = format!(
            "back-off {}s restarting failed container={} pod={}_{}({})",
            backoff.as_secs(),
            container.name,
            run.name,
            run.namespace,
            run.pod.metadata.uid.as_deref().unwrap_or_default()
        );
        run.update(index, |c| {
            c.state = State::Waiting {
                reason: "CrashLoopBackOff".into(),
                message: Some(message.clone()),
            };
            c.last = Some(terminated.clone());
            c.last_log = c.log.take();
            c.restarts = restarts;
            c.ready = false;
            c.container_id = None;
        });
        run.event("Warning", "BackOff", "Back-off restarting failed container")
            .await;
        if wait_or_stop(&mut stop, backoff).await {
            return;
        }
        backoff = (backoff * 2).min(BACKOFF_CAP);
    }
}

/// The container's environment: what every pod gets, then its own variables.
async fn container_env(
    run: &PodRun,
    container: &Container,
    mounts: &Mounts,
) -> Result<BTreeMap<String, String>, env::EnvError> {
    let own = env::resolve(&run.node.client, &run.pod, container).await?;
    let mut env = run.node.pod_env(&run.name, mounts);
    env.extend(own);
    Ok(env)
}

fn log_file(dir: &Path, container: &str, restart: i32) -> PathBuf {
    dir.join("logs")
        .join(container)
        .join(format!("{restart}.log"))
}

/// Starts the script under bash, in its own process group, killed with the
/// node (`setpriv --pdeathsig KILL`) however the node ends.
fn spawn(
    script: &Path,
    env: &BTreeMap<String, String>,
    dir: &Path,
    log: &Path,
) -> std::io::Result<tokio::process::Child> {
    std::fs::create_dir_all(dir)?;
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let err = out.try_clone()?;
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    tokio::process::Command::new("setpriv")
        .args(["--pdeathsig", "KILL", "--", "bash"])
        .arg(script)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .envs(env)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
}

/// SIGTERM to the container's process group, SIGKILL after the grace period.
async fn terminate(
    child: &mut tokio::process::Child,
    pid: Option<u32>,
    grace: i64,
) -> Option<std::process::ExitStatus> {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        let _ = kill(Pid::from_raw(-pid), Signal::SIGTERM);
    }
    let grace = Duration::from_secs(u64::try_from(grace).unwrap_or(0));
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                let _ = kill(Pid::from_raw(-pid), Signal::SIGKILL);
            }
            child.wait().await.ok()
        }
    }
}

/// The exit code a container runtime reports: the process's, or 128 + signal.
fn exit_code(status: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s))
}

/// The termination message as the kubelet takes it: with
/// `terminationMessagePolicy: FallbackToLogsOnError` and a failed container,
/// the end of its output (80 lines, 2048 bytes at most); with the default
/// `File`, what the container wrote to `terminationMessagePath`, which no
/// process here can write: none.
fn termination_message(container: &Container, log: &Path, exit_code: i32) -> Option<String> {
    if exit_code == 0
        || container.termination_message_policy.as_deref() != Some("FallbackToLogsOnError")
    {
        return None;
    }
    let text = std::fs::read_to_string(log).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(80)..].join("\n");
    let start = tail.len().saturating_sub(2048);
    let start = (start..=tail.len())
        .find(|i| tail.is_char_boundary(*i))
        .unwrap_or(tail.len());
    (!tail.is_empty()).then(|| tail[start..].to_owned())
}

/// The readiness probe's verdicts (TCP connect or HTTP GET on the pod IP;
/// an `exec` probe counts as passing, as nothing can run inside the process).
async fn readiness(run: Arc<PodRun>, index: usize, container: Container, probe: Probe) {
    let period = Duration::from_secs(
        u64::try_from(probe.period_seconds.unwrap_or(10))
            .unwrap_or(10)
            .max(1),
    );
    let initial =
        Duration::from_secs(u64::try_from(probe.initial_delay_seconds.unwrap_or(0)).unwrap_or(0));
    let timeout = Duration::from_secs(
        u64::try_from(probe.timeout_seconds.unwrap_or(1))
            .unwrap_or(1)
            .max(1),
    );
    tokio::time::sleep(initial).await;
    loop {
        let ready = probe_once(&run, &container, &probe, timeout).await;
        run.update(index, |c| c.ready = ready);
        tokio::time::sleep(period).await;
    }
}

async fn probe_once(run: &PodRun, container: &Container, probe: &Probe, timeout: Duration) -> bool {
    let port = |port: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString| -> Option<u16> {
        use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
        match port {
            IntOrString::Int(p) => u16::try_from(*p).ok(),
            IntOrString::String(name) => container
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name))
                .and_then(|p| u16::try_from(p.container_port).ok()),
        }
    };
    if let Some(tcp) = &probe.tcp_socket {
        let Some(port) = port(&tcp.port) else {
            return false;
        };
        return matches!(
            tokio::time::timeout(timeout, tokio::net::TcpStream::connect((run.ip, port))).await,
            Ok(Ok(_))
        );
    }
    if let Some(http) = &probe.http_get {
        let Some(port) = port(&http.port) else {
            return false;
        };
        let scheme = http
            .scheme
            .as_deref()
            .unwrap_or("HTTP")
            .to_ascii_lowercase();
        let path = http.path.as_deref().unwrap_or("/");
        // A stand-in's own health endpoint for the image's (see minio.rs).
        let path = super::minio::health_path(container.image.as_deref().unwrap_or_default(), path)
            .unwrap_or(path);
        let url = format!("{scheme}://{}:{port}{path}", run.ip);
        return match run.node.http.get(&url).timeout(timeout).send().await {
            Ok(answer) => (200..400).contains(&answer.status().as_u16()),
            Err(_) => false,
        };
    }
    true
}
