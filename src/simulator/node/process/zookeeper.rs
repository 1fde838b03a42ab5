//! The official `zookeeper` image on the process node: its container's command
//! runs as given, with the image's entrypoint and `bin/` scripts replaced by
//! scripts of the node's that run **Apache ZooKeeper** itself (server and
//! client), from the release's Maven artifacts that
//! `testenv/zookeeper/assemble.sh` puts in the node's cache
//! (`zookeeper-<version>/lib/`).
//!
//! The image's contract, read from 31z4/zookeeper-docker (the official
//! image's source) at 3.9.3 (`Dockerfile`: `ENV ZOO_CONF_DIR=/conf
//! ZOO_DATA_DIR=/data ZOO_DATA_LOG_DIR=/datalog ZOO_LOG_DIR=/logs
//! ZOO_TICK_TIME=2000 ZOO_INIT_LIMIT=5 ZOO_SYNC_LIMIT=2
//! ZOO_AUTOPURGE_PURGEINTERVAL=0 ZOO_AUTOPURGE_SNAPRETAINCOUNT=3
//! ZOO_MAX_CLIENT_CNXNS=60 ZOO_STANDALONE_ENABLED=true
//! ZOO_ADMINSERVER_ENABLED=true`, the distribution's `bin/` on `PATH`,
//! `ZOOCFGDIR=$ZOO_CONF_DIR`, `ENTRYPOINT ["/docker-entrypoint.sh"]`,
//! `CMD ["zkServer.sh", "start-foreground"]`; `docker-entrypoint.sh`: writes
//! `$ZOO_CONF_DIR/zoo.cfg` from the `ZOO_*` variables only when it is missing
//! (the `server.N` lines of `ZOO_SERVERS`, default
//! `server.1=localhost:2888:3888;2181`, `4lw.commands.whitelist` from
//! `ZOO_4LW_COMMANDS_WHITELIST`, the lines of `ZOO_CFG_EXTRA`), writes
//! `$ZOO_DATA_DIR/myid` from `ZOO_MY_ID` (default 1) only when it is missing,
//! then execs its arguments):
//! - The image's paths are the container's folder's: `/docker-entrypoint.sh`
//!   in the command is the node's entrypoint script, and the `ZOO_*_DIR`
//!   folders are where the container's volumes put them (else folders of the
//!   container's own, as the image's anonymous volumes).
//! - `zkServer.sh start-foreground` runs `QuorumPeerMain` on `zoo.cfg`, with
//!   the heap of `zkEnv.sh` (`ZK_SERVER_HEAP`, 1000 MB) and `SERVER_JVMFLAGS`;
//!   `zkCli.sh ARGS` runs `ZooKeeperMain ARGS` (`ZK_CLIENT_HEAP`, 256 MB;
//!   `CLIENT_JVMFLAGS`). Other `zkServer.sh` commands are refused.
//! - **What differs from the image**: every pod shares the machine, so the
//!   entrypoint gives the pod's own `server.N` line the pod IP as its client
//!   address (`;2181` becomes `;<pod IP>:2181`) and the AdminServer the pod
//!   IP (`admin.serverAddress`); the release run is the one assembled here, whatever the tag (the pod's
//!   status says so when they differ); no `/docker-entrypoint.d/` scripts,
//!   no `gosu`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::flink::StartError;
use super::{ContainerStart, image_reference, shell_quote as quote};

/// The image's entrypoint, as the container's command may name it.
const ENTRYPOINT: &str = "/docker-entrypoint.sh";

/// The image's `ENV` folders and their defaults (Dockerfile above).
const FOLDERS: [(&str, &str); 4] = [
    ("ZOO_CONF_DIR", "/conf"),
    ("ZOO_DATA_DIR", "/data"),
    ("ZOO_DATA_LOG_DIR", "/datalog"),
    ("ZOO_LOG_DIR", "/logs"),
];

/// The image's other `ENV` defaults (Dockerfile above).
const SETTINGS: [(&str, &str); 8] = [
    ("ZOO_TICK_TIME", "2000"),
    ("ZOO_INIT_LIMIT", "5"),
    ("ZOO_SYNC_LIMIT", "2"),
    ("ZOO_AUTOPURGE_PURGEINTERVAL", "0"),
    ("ZOO_AUTOPURGE_SNAPRETAINCOUNT", "3"),
    ("ZOO_MAX_CLIENT_CNXNS", "60"),
    ("ZOO_STANDALONE_ENABLED", "true"),
    ("ZOO_ADMINSERVER_ENABLED", "true"),
];

/// The release of the official ZooKeeper image `image` names (`Some(None)`
/// without a tag); `None` for other images.
pub fn image_release(image: &str) -> Option<Option<String>> {
    let (repository, tag) = image_reference(image);
    (repository == "zookeeper").then(|| tag.map(str::to_owned))
}

/// The ZooKeeper release assembled in `cache`, as `(version, folder)`; `Err`
/// is the waiting message.
pub fn assembled(cache: &Path) -> Result<(String, PathBuf), String> {
    super::cache::newest_release(cache, "zookeeper-").ok_or_else(|| {
        format!(
            "dataport process node: ZooKeeper's image runs Apache ZooKeeper from its Maven artifacts here, and it is not assembled in {}: run testenv/zookeeper/assemble.sh",
            cache.display()
        )
    })
}

/// The container's start script (the module says what it does), with the
/// release in `home`; run it with bash.
pub fn start_script(start: &ContainerStart, home: &Path) -> Result<PathBuf, StartError> {
    let bin = start.dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    let classpath = format!("{}/lib/*", home.display());
    let logback = start.dir.join("logback.xml");
    std::fs::write(&logback, LOGBACK)?;
    let java = |heap: &str, flags: &str| {
        format!(
            "exec {java} -Xmx\"${{{heap}}}\"m ${{{flags}:-}} ${{JVMFLAGS:-}} -Djava.net.preferIPv4Stack=true \
             -Djdk.net.hosts.file={hosts} -Dlogback.configurationFile={logback} \
             -Dzookeeper.log.dir=\"$ZOO_LOG_DIR\" -cp {cp}",
            java = quote(&start.java.display().to_string()),
            hosts = quote(&start.hosts_file.display().to_string()),
            logback = quote(&logback.display().to_string()),
            cp = quote(&classpath),
        )
    };
    let server = format!(
        "#!/usr/bin/env bash\n# zkServer.sh of the dataport process node (src/simulator/node/process/zookeeper.rs).\n\
         if [ \"${{1:-}}\" != start-foreground ]; then\n  \
           echo \"dataport process node: zkServer.sh runs only start-foreground here, not: $*\" >&2\n  exit 1\nfi\n\
         ZK_SERVER_HEAP=\"${{ZK_SERVER_HEAP:-1000}}\"\n{} org.apache.zookeeper.server.quorum.QuorumPeerMain \"$ZOOCFGDIR/zoo.cfg\"\n",
        java("ZK_SERVER_HEAP", "SERVER_JVMFLAGS"),
    );
    let client = format!(
        "#!/usr/bin/env bash\n# zkCli.sh of the dataport process node (src/simulator/node/process/zookeeper.rs).\n\
         ZK_CLIENT_HEAP=\"${{ZK_CLIENT_HEAP:-256}}\"\n{} org.apache.zookeeper.ZooKeeperMain \"$@\"\n",
        java("ZK_CLIENT_HEAP", "CLIENT_JVMFLAGS"),
    );
    let entrypoint = bin.join("docker-entrypoint.sh");
    for (name, text) in [
        ("zkServer.sh", server),
        ("zkCli.sh", client),
        ("docker-entrypoint.sh", entrypoint_script(start.pod_ip)),
    ] {
        write_executable(&bin.join(name), &text)?;
    }

    let mut text = String::from(
        "#!/usr/bin/env bash\n# Written by the dataport process node: the zookeeper image's command with\n# Apache ZooKeeper's own classes (see src/simulator/node/process/zookeeper.rs).\nset -u\n",
    );
    let _ = writeln!(
        text,
        "export PATH={}:\"$PATH\"",
        quote(&bin.display().to_string())
    );
    for (variable, default) in FOLDERS {
        let image_path = start.env.get(variable).map_or(default, String::as_str);
        let local = start.mounts.resolve(image_path).unwrap_or_else(|| {
            start
                .dir
                .join("rootfs")
                .join(image_path.trim_start_matches('/'))
        });
        std::fs::create_dir_all(&local)?;
        let _ = writeln!(
            text,
            "export {variable}={}",
            quote(&local.display().to_string())
        );
    }
    for (variable, default) in SETTINGS {
        let _ = writeln!(text, "export {variable}=\"${{{variable}:-{default}}}\"");
    }
    text.push_str("export ZOOCFGDIR=\"$ZOO_CONF_DIR\"\n");
    let entrypoint = entrypoint.display().to_string();
    let _ = writeln!(
        text,
        "exec {}",
        command(start.container)
            .iter()
            .map(|word| quote(&word.replace(ENTRYPOINT, &entrypoint)))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let path = start.dir.join("start.sh");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The container's command line: its command and args over the image's
/// `ENTRYPOINT` and `CMD`, as the container runtime joins them.
fn command(container: &k8s_openapi::api::core::v1::Container) -> Vec<String> {
    let image_cmd = || vec!["zkServer.sh".to_owned(), "start-foreground".to_owned()];
    let mut argv = container
        .command
        .clone()
        .unwrap_or_else(|| vec![ENTRYPOINT.to_owned()]);
    match (&container.command, &container.args) {
        (_, Some(args)) => argv.extend(args.iter().cloned()),
        (None, None) => argv.extend(image_cmd()),
        (Some(_), None) => {}
    }
    argv
}

/// The image's `docker-entrypoint.sh` as the module describes it, for a pod
/// at `pod_ip`.
fn entrypoint_script(pod_ip: std::net::Ipv4Addr) -> String {
    format!(
        r#"#!/usr/bin/env bash
# docker-entrypoint.sh of the official zookeeper image, as the dataport process node runs it
# (src/simulator/node/process/zookeeper.rs): the pod's own server line and the AdminServer get the
# pod IP, as every pod shares this machine.
set -e
pod_ip={pod_ip}
if [[ ! -f "$ZOO_CONF_DIR/zoo.cfg" ]]; then
    CONFIG="$ZOO_CONF_DIR/zoo.cfg"
    {{
        echo "dataDir=$ZOO_DATA_DIR"
        echo "dataLogDir=$ZOO_DATA_LOG_DIR"
        echo "tickTime=$ZOO_TICK_TIME"
        echo "initLimit=$ZOO_INIT_LIMIT"
        echo "syncLimit=$ZOO_SYNC_LIMIT"
        echo "autopurge.snapRetainCount=$ZOO_AUTOPURGE_SNAPRETAINCOUNT"
        echo "autopurge.purgeInterval=$ZOO_AUTOPURGE_PURGEINTERVAL"
        echo "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
        echo "standaloneEnabled=$ZOO_STANDALONE_ENABLED"
        echo "admin.enableServer=$ZOO_ADMINSERVER_ENABLED"
        echo "admin.serverAddress=$pod_ip"
    }} >> "$CONFIG"
    if [[ -z ${{ZOO_SERVERS:-}} ]]; then
      ZOO_SERVERS="server.1=localhost:2888:3888;2181"
    fi
    for server in $ZOO_SERVERS; do
        if [[ "${{server%%=*}}" == "server.${{ZOO_MY_ID:-1}}" && "$server" =~ \;([0-9]+)$ ]]; then
            server="${{server%;*}};$pod_ip:${{BASH_REMATCH[1]}}"
        fi
        echo "$server" >> "$CONFIG"
    done
    if [[ -n ${{ZOO_4LW_COMMANDS_WHITELIST:-}} ]]; then
        echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST" >> "$CONFIG"
    fi
    for cfg_extra_entry in ${{ZOO_CFG_EXTRA:-}}; do
        echo "$cfg_extra_entry" >> "$CONFIG"
    done
fi
if [[ ! -f "$ZOO_DATA_DIR/myid" ]]; then
    echo "${{ZOO_MY_ID:-1}}" > "$ZOO_DATA_DIR/myid"
fi
exec "$@"
"#
    )
}

fn write_executable(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

/// Logging as the release's `conf/logback.xml` sets it for a foreground
/// server: INFO and above to the console, which is the container's log.
const LOGBACK: &str = r#"<configuration>
  <appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="CONSOLE"/></root>
</configuration>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_official_image_is_known_by_its_repository() {
        assert_eq!(image_release("zookeeper:3.9.3"), Some(Some("3.9.3".into())));
        assert_eq!(
            image_release("docker.io/library/zookeeper:3.8.4"),
            Some(Some("3.8.4".into()))
        );
        assert_eq!(image_release("zookeeper"), Some(None));
        assert_eq!(image_release("bitnami/zookeeper:3.9"), None);
    }

    #[test]
    fn the_command_joins_the_images_entrypoint_and_cmd_as_a_runtime_does() {
        let container = |command: Option<&[&str]>, args: Option<&[&str]>| {
            let owned = |words: &[&str]| words.iter().map(|w| w.to_string()).collect();
            k8s_openapi::api::core::v1::Container {
                command: command.map(owned),
                args: args.map(owned),
                ..Default::default()
            }
        };
        assert_eq!(
            command(&container(None, None)),
            ["/docker-entrypoint.sh", "zkServer.sh", "start-foreground"]
        );
        assert_eq!(
            command(&container(None, Some(&["zkCli.sh", "ls", "/"]))),
            ["/docker-entrypoint.sh", "zkCli.sh", "ls", "/"]
        );
        assert_eq!(
            command(&container(Some(&["sh", "-c", "exec zkServer.sh"]), None)),
            ["sh", "-c", "exec zkServer.sh"]
        );
    }
}
