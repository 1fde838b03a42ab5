//! The official `flink:<version>` image, run as real local processes.
//!
//! What the image does is read from apache/flink-docker at 983be34
//! (`1.20/scala_2.12-java17-ubuntu/docker-entrypoint.sh` and `Dockerfile`) and
//! Flink's `flink-dist/src/main/flink-bin/` scripts (`kubernetes-bin/kubernetes-jobmanager.sh`,
//! `kubernetes-bin/kubernetes-taskmanager.sh`, `bin/flink-console.sh`); the
//! findings are in `testenv/flink/RELEASES.md`. The node writes, per container,
//! a start script doing what those scripts do with the distribution that
//! `testenv/flink/assemble.sh` builds from Flink's Maven artifacts:
//! - `ENABLE_BUILT_IN_PLUGINS`: each named jar of `opt/` linked into a plugins
//!   folder of the pod's own (a jar named for the image's release is the
//!   same artifact of the release run in its place); an unknown jar ends the
//!   container with the entrypoint's message and exit code 1;
//! - the pod template volume is seen at `/opt/flink/pod-template`, where the
//!   JobManager reads the TaskManagers' template (a mount namespace of the
//!   container's own, see [`POD_TEMPLATE_DIR`]);
//! - native Kubernetes mode (the command Flink's `CmdJobManagerDecorator` and
//!   `CmdTaskManagerDecorator` give its pods: `bash -c "kubernetes-jobmanager.sh
//!   kubernetes-session|kubernetes-application ..."`, `"kubernetes-taskmanager.sh ..."`):
//!   the JobManager's JVM memory flags from `BashJavaUtils GET_JM_RESOURCE_PARAMS`
//!   (its failure, e.g. a process size too small for Flink's memory model,
//!   ends the container with Flink's message), the TaskManager's from
//!   `FLINK_TM_JVM_MEM_OPTS` (set on the pods the JobManager creates) or
//!   `BashJavaUtils GET_TM_RESOURCE_PARAMS`; `env.java.opts.*` of the
//!   configuration; `flink-console.sh`'s log settings; the entry classes
//!   `KubernetesSessionClusterEntrypoint`, `KubernetesApplicationClusterEntrypoint`,
//!   `KubernetesTaskExecutorRunner`.
//!
//! What differs because there is no container: the pod's network namespace is
//! its own pod IP on `lo`, so the processes bind it (`jobmanager.bind-host`,
//! `rest.bind-address`, `taskmanager.bind-host`, `taskmanager.host` given as
//! dynamic properties, where the image binds `0.0.0.0` in its own namespace;
//! the Prometheus reporter's `metrics` port through dataport's HTTP server
//! provider, [`super::pod_address`]);
//! configuration values that are paths inside a mounted volume are given as
//! dynamic properties with the volume's local folder; the entrypoint's own
//! configuration writes (`jobmanager.rpc.address`, `blob.server.port`, ...) are
//! not made, as they fail on the read-only ConfigMap mount of a native pod.
//! Releases: the image's exact release runs when it is assembled; otherwise
//! the nearest assembled release of the same minor line, said in the pod's
//! status; with none, the container waits in `ErrImagePull` saying why.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Container;

use super::volumes::Mounts;
use super::{ContainerStart, shell_quote as quote};

/// The image's `FLINK_HOME`.
const FLINK_HOME: &str = "/opt/flink";

/// Where the image's scripts read the configuration when `FLINK_CONF_DIR` is unset.
const DEFAULT_CONF_DIR: &str = "/opt/flink/conf";

/// The module openings Flink's distribution gives every JVM on Java 17
/// (`env.java.default-opts.all` of flink-dist's `conf/config.yaml`, 1.20 and
/// 2.0), used when the mounted configuration does not set that key.
const DEFAULT_JAVA_OPTS: &str = "--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED";

/// A Flink release this node can run, assembled under the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// `1.20.0`.
    pub version: String,
    /// The assembled `lib/`, `opt/`, `plugins/`.
    pub home: PathBuf,
}

/// Whether `image` is the official Flink image (`flink:<tag>`, also as
/// `library/flink`, `docker.io/...` or `apache/flink`), and its release
/// (`1.20.5`, `1.20`) taken from the tag.
pub fn image_release(image: &str) -> Option<String> {
    let (repository, tag) = image.rsplit_once(':')?;
    let repository = repository
        .trim_start_matches("docker.io/")
        .trim_start_matches("library/");
    if repository != "flink" && repository != "apache/flink" {
        return None;
    }
    let version = tag.split('-').next()?;
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    (numeric && (2..=3).contains(&parts.len())).then(|| version.to_owned())
}

/// The releases assembled under `cache` (`flink-<version>/` folders that
/// `testenv/flink/assemble.sh` finished: they hold `.pom-sha256`).
pub fn assembled(cache: &Path) -> Vec<Release> {
    let mut releases: Vec<Release> = std::fs::read_dir(cache)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix("flink-")?.to_owned();
            let home = entry.path();
            (home.join(".pom-sha256").is_file()
                && image_release(&format!("flink:{version}")).is_some())
            .then_some(Release { version, home })
        })
        .collect();
    releases.sort_by_key(|r| numbers(&r.version));
    releases
}

fn numbers(version: &str) -> Vec<u32> {
    version.split('.').filter_map(|p| p.parse().ok()).collect()
}

/// The release to run for an image's release: the same one, else the nearest
/// of the same minor line. `Err` says why none can run (the waiting message).
pub fn choose<'a>(releases: &'a [Release], wanted: &str) -> Result<&'a Release, String> {
    let want = numbers(wanted);
    let line = &want[..2.min(want.len())];
    let patch = want.get(2).copied().unwrap_or(u32::MAX);
    releases
        .iter()
        .filter(|r| numbers(&r.version).starts_with(line))
        .min_by_key(|r| {
            let p = numbers(&r.version).get(2).copied().unwrap_or(0);
            (p.abs_diff(patch), std::cmp::Reverse(p))
        })
        .ok_or_else(|| {
            let have: Vec<&str> = releases.iter().map(|r| r.version.as_str()).collect();
            format!(
                "dataport process node: no Flink {}.{} release is assembled here (have: {}); see testenv/flink/RELEASES.md",
                line.first().copied().unwrap_or(0),
                line.get(1).copied().unwrap_or(0),
                if have.is_empty() { "none".to_owned() } else { have.join(", ") }
            )
        })
}

/// Why a Flink container cannot be started; shown as `RunContainerError`.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("dataport process node: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Writes the container's start script (the image's entrypoint and Flink's
/// scripts, as the module describes) and returns its path, to run with bash.
/// `provider` is the jar of dataport's HTTP server provider ([`super::pod_address`]),
/// which gives the pod's metrics port its own address.
pub fn start_script(
    start: &ContainerStart,
    release: &Release,
    provider: &Path,
) -> Result<PathBuf, StartError> {
    let argv = argv(start.container);
    let words = native_command(&argv)?;
    let (script, mode) = words
        .split_first()
        .ok_or_else(|| StartError::Unsupported("empty command".into()))?;
    let script = script.rsplit('/').next().unwrap_or(script);
    let conf_dir = start
        .env
        .get("FLINK_CONF_DIR")
        .cloned()
        .unwrap_or_else(|| DEFAULT_CONF_DIR.to_owned());
    let conf = start.mounts.resolve(&conf_dir).ok_or_else(|| {
        StartError::Unsupported(format!(
            "nothing is mounted at {conf_dir}: native Kubernetes pods mount their configuration there"
        ))
    })?;
    let config = read_configuration(&conf);
    let ip = start.pod_ip;
    let (class, memory, mut args, role_opts) = match script {
        "kubernetes-jobmanager.sh" => {
            let entry = mode.first().map(String::as_str).unwrap_or_default();
            let class = match entry {
                "kubernetes-session" => {
                    "org.apache.flink.kubernetes.entrypoint.KubernetesSessionClusterEntrypoint"
                }
                "kubernetes-application" => {
                    "org.apache.flink.kubernetes.entrypoint.KubernetesApplicationClusterEntrypoint"
                }
                other => {
                    return Err(StartError::Unsupported(format!(
                        "kubernetes-jobmanager.sh {other}: not an entry point of Flink's native Kubernetes mode"
                    )));
                }
            };
            let dynamic = mode[1..].to_vec();
            let mut args = dynamic.clone();
            args.push(format!("-Djobmanager.bind-host={ip}"));
            args.push(format!("-Drest.bind-address={ip}"));
            (
                class,
                Memory::BashJavaUtils("GET_JM_RESOURCE_PARAMS", dynamic),
                args,
                "env.java.opts.jobmanager",
            )
        }
        "kubernetes-taskmanager.sh" => {
            let dynamic = mode.to_vec();
            let memory = match start.env.get("FLINK_TM_JVM_MEM_OPTS") {
                Some(flags) => Memory::Given(flags.clone()),
                None => Memory::BashJavaUtils("GET_TM_RESOURCE_PARAMS", dynamic.clone()),
            };
            let mut args = dynamic;
            args.push(format!("-Dtaskmanager.bind-host={ip}"));
            args.push(format!("-Dtaskmanager.host={ip}"));
            (
                "org.apache.flink.kubernetes.taskmanager.KubernetesTaskExecutorRunner",
                memory,
                args,
                "env.java.opts.taskmanager",
            )
        }
        other => {
            return Err(StartError::Unsupported(format!(
                "the flink image runs only Flink's native Kubernetes entry points here, not {other}"
            )));
        }
    };
    for (key, value) in &config {
        if let Some(local) = local_path(start.mounts, value) {
            args.push(format!("-D{key}={local}"));
        }
    }
    // Flink reads the logging files it ships to the pods it creates from its
    // configuration folder in the pod (`kubernetes.flink.conf.dir`, read
    // through `$internal.deployment.config-dir` first: flink-kubernetes
    // `AbstractKubernetesParameters.getConfigDirectory`).
    let pod_conf_dir = config
        .get("kubernetes.flink.conf.dir")
        .cloned()
        .unwrap_or_else(|| DEFAULT_CONF_DIR.to_owned());
    if let Some(local) = start.mounts.resolve(&pod_conf_dir) {
        args.push(format!(
            "-D$internal.deployment.config-dir={}",
            local.display()
        ));
    }
    let plugins = start.dir.join("plugins");
    let tmp = start.dir.join("tmp");
    let log_dir = start.dir.join("log");
    for dir in [&plugins, &tmp, &log_dir] {
        std::fs::create_dir_all(dir)?;
    }
    let home = &release.home;
    let mut text = String::from(
        "#!/usr/bin/env bash\n# Written by the dataport process node: the flink image's entrypoint and Flink's\n# scripts for this container (see src/simulator/node/process/flink.rs).\nset -u\n",
    );
    text.push_str(&pod_template_mount(start.mounts));
    let _ = writeln!(
        text,
        "cp={}",
        quote(&format!("{}/lib/*:{}", home.display(), provider.display()))
    );
    // The image's plugins/ (metrics-prometheus), then ENABLE_BUILT_IN_PLUGINS.
    let _ = writeln!(
        text,
        "for p in {}/plugins/*; do ln -sfn \"$p\" {}/; done",
        quote(&home.display().to_string()),
        quote(&plugins.display().to_string())
    );
    if let Some(enabled) = start
        .env
        .get("ENABLE_BUILT_IN_PLUGINS")
        .filter(|v| !v.is_empty())
    {
        text.push_str("echo \"Enabling required built-in plugins\"\n");
        // The image's opt/ names its jars with the image's release: run as a
        // nearby release, `x-1.20.5.jar` of the image is `x-1.20.0.jar` here.
        let image_release = start.container.image.as_deref().and_then(image_release);
        for jar in enabled.split(';').filter(|j| !j.is_empty()) {
            let name = jar.trim_end_matches(".jar");
            let in_opt = match &image_release {
                Some(image) if *image != release.version => jar.replace(
                    &format!("-{image}.jar"),
                    &format!("-{}.jar", release.version),
                ),
                _ => jar.to_owned(),
            };
            let _ = writeln!(
                text,
                "echo {linking}\nmkdir -p {dir}\nif [ ! -e {opt} ]; then echo {missing}; exit 1; fi\nln -fs {opt} {dir}/\necho {ok}",
                linking = quote(&format!("Linking {jar} to plugin directory")),
                dir = quote(&plugins.join(name).display().to_string()),
                opt = quote(&home.join("opt").join(&in_opt).display().to_string()),
                missing = quote(&format!("Plugin {jar} does not exist. Exiting.")),
                ok = quote(&format!("Successfully enabled {jar}")),
            );
        }
    }
    let _ = writeln!(
        text,
        "export FLINK_CONF_DIR={} FLINK_PLUGINS_DIR={} FLINK_LIB_DIR={} FLINK_OPT_DIR={}",
        quote(&conf.display().to_string()),
        quote(&plugins.display().to_string()),
        quote(&home.join("lib").display().to_string()),
        quote(&home.join("opt").display().to_string())
    );
    let mut java_opts = vec![
        config
            .get("env.java.default-opts.all")
            .cloned()
            .unwrap_or_else(|| DEFAULT_JAVA_OPTS.to_owned()),
    ];
    java_opts.extend(config.get("env.java.opts.all").cloned());
    java_opts.extend(config.get(role_opts).cloned());
    java_opts.push(super::pod_address::java_options(ip));
    let java = quote(&start.java.display().to_string());
    match &memory {
        Memory::Given(flags) => {
            let _ = writeln!(text, "jvm_mem={}", quote(flags));
        }
        Memory::BashJavaUtils(command, dynamic) => {
            // As kubernetes-jobmanager.sh / config.sh's runBashJavaUtilsCmd: on
            // failure, print what BashJavaUtils said and exit 1.
            let _ = writeln!(
                text,
                "out=$({java} -cp \"$cp\" org.apache.flink.runtime.util.bash.BashJavaUtils {command} --configDir \"$FLINK_CONF_DIR\" {dyn} 2>&1)\n\
                 if [ $? -ne 0 ]; then echo \"[ERROR] Could not get JVM parameters and dynamic configurations properly.\"; echo \"[ERROR] Raw output from BashJavaUtils:\"; echo \"$out\"; exit 1; fi\n\
                 jvm_mem=$(echo \"$out\" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p' | head -n 1)",
                dyn = dynamic.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "),
            );
        }
    }
    // kubernetes-taskmanager.sh passes `--configDir`; kubernetes-jobmanager.sh
    // does not (the entry point reads FLINK_CONF_DIR, and its parser stops at
    // an option it does not know, dropping every dynamic property after it).
    if script == "kubernetes-taskmanager.sh" {
        args.insert(0, "\"$FLINK_CONF_DIR\"".into());
        args.insert(0, "--configDir".into());
    }
    let log_file = log_dir.join(format!("{}.log", start.container.name));
    let _ = writeln!(
        text,
        "exec {java} $jvm_mem {opts} -Djava.io.tmpdir={tmp} -Djava.net.preferIPv4Stack=true -Djdk.net.hosts.file={hosts} \
         -Dlog.file={log} -Dlog4j.configuration=file:\"$FLINK_CONF_DIR\"/log4j-console.properties \
         -Dlog4j.configurationFile=file:\"$FLINK_CONF_DIR\"/log4j-console.properties \
         -Dlogback.configurationFile=file:\"$FLINK_CONF_DIR\"/logback-console.xml -classpath \"$cp\" {class} {args}",
        opts = java_opts.join(" "),
        tmp = quote(&tmp.display().to_string()),
        hosts = quote(&start.hosts_file.display().to_string()),
        log = quote(&log_file.display().to_string()),
        args = args
            .iter()
            .map(|a| if a.starts_with('"') {
                a.clone()
            } else {
                quote(a)
            })
            .collect::<Vec<_>>()
            .join(" "),
    );
    let path = start.dir.join("start.sh");
    std::fs::write(&path, text)?;
    Ok(path)
}

enum Memory {
    Given(String),
    BashJavaUtils(&'static str, Vec<String>),
}

/// Where the JobManager reads the TaskManagers' pod template: a fixed path
/// in the pod, not a configuration key (flink-kubernetes
/// `KubernetesUtils.getTaskManagerPodTemplateFileInPod`, read by
/// `KubernetesResourceManagerDriver.initializeInternal`; mounted by
/// `PodTemplateMountDecorator`).
const POD_TEMPLATE_DIR: &str = "/opt/flink/pod-template";

/// Script lines that show the pod's template volume at its in-pod path, as a
/// container runtime would: the script runs again in a mount namespace of its
/// own (`unshare --mount`) where the volume is bound onto
/// `/opt/flink/pod-template` (an empty folder on the machine). Without a
/// mount there, nothing: Flink then uses no template, as in a pod.
fn pod_template_mount(mounts: &Mounts) -> String {
    let Some(local) = mounts.resolve(POD_TEMPLATE_DIR) else {
        return String::new();
    };
    format!(
        "if [ -z \"${{DATAPORT_OWN_MOUNTS:-}}\" ]; then export DATAPORT_OWN_MOUNTS=1; \
         exec unshare --mount --propagation private bash \"$0\" \"$@\"; fi\n\
         mkdir -p {dir} && mount --bind {local} {dir} || {{ echo {failed} >&2; exit 1; }}\n",
        dir = quote(POD_TEMPLATE_DIR),
        local = quote(&local.display().to_string()),
        failed = quote(&format!(
            "dataport process node: cannot bind the pod template volume onto {POD_TEMPLATE_DIR} \
             (needs root and unshare): Flink's JobManager reads its TaskManagers' template there"
        )),
    )
}

/// The container's argv as a container runtime forms it from the image's
/// `ENTRYPOINT ["/docker-entrypoint.sh"]` and `CMD ["help"]`.
fn argv(container: &Container) -> Vec<String> {
    let mut argv = container
        .command
        .clone()
        .unwrap_or_else(|| vec!["/docker-entrypoint.sh".into()]);
    match &container.args {
        Some(args) => argv.extend(args.iter().cloned()),
        None if container.command.is_none() => argv.push("help".into()),
        None => {}
    }
    argv
}

/// The words of the native-mode command under the entrypoint's pass-through
/// (`/docker-entrypoint.sh bash -c "<script> <args>"`).
fn native_command(argv: &[String]) -> Result<Vec<String>, StartError> {
    let rest = match argv.first().map(String::as_str) {
        Some("/docker-entrypoint.sh") => &argv[1..],
        _ => argv,
    };
    match rest {
        [bash, flag, script] if bash.ends_with("bash") && flag == "-c" => shlex::split(script)
            .ok_or_else(|| StartError::Unsupported(format!("cannot parse the command {script:?}"))),
        [first, ..] if first.ends_with(".sh") => Ok(rest.to_vec()),
        _ => Err(StartError::Unsupported(format!(
            "the flink image runs only Flink's native Kubernetes entry points here, not {:?}",
            rest.join(" ")
        ))),
    }
}

/// Flat `key: value` pairs of the mounted configuration: `config.yaml`
/// (standard YAML, 1.19+) when present, else `flink-conf.yaml` (flat).
fn read_configuration(conf: &Path) -> BTreeMap<String, String> {
    use crate::simulator::operator::config::{parse_legacy, parse_standard};
    if let Ok(text) = std::fs::read_to_string(conf.join("config.yaml")) {
        return parse_standard(&text).unwrap_or_default();
    }
    std::fs::read_to_string(conf.join("flink-conf.yaml"))
        .map(|text| parse_legacy(&text))
        .unwrap_or_default()
}

/// A configuration value that names a path inside a mounted volume, as the
/// local path (`/opt/flink/pod-template/x.yaml`, `file:///opt/flink/...`).
fn local_path(mounts: &Mounts, value: &str) -> Option<String> {
    let (scheme, path) = match value.strip_prefix("file://") {
        Some(path) => ("file://", path),
        None => ("", value),
    };
    if !path.starts_with('/') || path.starts_with(FLINK_HOME) && mounts.resolve(path).is_none() {
        return None;
    }
    mounts
        .resolve(path)
        .map(|local| format!("{scheme}{}", local.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_images_name_their_release() {
        assert_eq!(image_release("flink:1.20.5").as_deref(), Some("1.20.5"));
        assert_eq!(
            image_release("flink:1.20.5-scala_2.12-java17").as_deref(),
            Some("1.20.5")
        );
        assert_eq!(
            image_release("docker.io/library/flink:2.0").as_deref(),
            Some("2.0")
        );
        assert_eq!(
            image_release("apache/flink:2.0.0-java17").as_deref(),
            Some("2.0.0")
        );
        assert_eq!(image_release("flink:latest"), None);
        assert_eq!(image_release("example.org/my/flink:1.20.0"), None);
    }

    fn release(version: &str) -> Release {
        Release {
            version: version.into(),
            home: PathBuf::from(version),
        }
    }

    #[test]
    fn the_nearest_release_of_the_same_minor_line_runs() {
        let have = vec![release("1.20.0"), release("2.0.0")];
        assert_eq!(
            choose(&have, "1.20.5").map(|r| r.version.as_str()),
            Ok("1.20.0")
        );
        assert_eq!(
            choose(&have, "2.0.2").map(|r| r.version.as_str()),
            Ok("2.0.0")
        );
        let none = choose(&have, "2.2.1").expect_err("no 2.2 release");
        assert!(
            none.contains("no Flink 2.2 release") && none.contains("1.20.0, 2.0.0"),
            "{none}"
        );
    }

    #[test]
    fn native_mode_commands_are_read_through_the_entrypoint() {
        let words = native_command(&[
            "/docker-entrypoint.sh".into(),
            "bash".into(),
            "-c".into(),
            "kubernetes-taskmanager.sh -Dtaskmanager.resource-id='a b' -D x=1".into(),
        ])
        .expect("native command");
        assert_eq!(
            words,
            [
                "kubernetes-taskmanager.sh",
                "-Dtaskmanager.resource-id=a b",
                "-D",
                "x=1"
            ]
        );
        assert!(native_command(&["/docker-entrypoint.sh".into(), "jobmanager".into()]).is_err());
    }
}
