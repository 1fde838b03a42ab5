//! MinIO's images on the process node: the server (`minio/minio`) runs
//! **S3Proxy** in its place, the client (`minio/mc`) runs the container's own
//! command with **mc-standin** as `mc`. MinIO's server and `mc` are AGPL and
//! are not used; both stand-ins are Apache-2.0 and are assembled by
//! `testenv/s3/assemble.sh` and `testenv/s3/mc-standin/build.sh` into the
//! node's cache (`s3proxy-<version>/lib/`, `mc-standin-<hash>/mc-standin.jar`).
//!
//! The server image's contract, read from minio/minio (`Dockerfile.release`:
//! `ENTRYPOINT ["/usr/bin/docker-entrypoint.sh"]`, `CMD ["minio"]`,
//! `EXPOSE 9000`, `VOLUME ["/data"]`; `dockerscripts/docker-entrypoint.sh`:
//! arguments not starting with `minio` get `minio` put in front;
//! `cmd/server-main.go` `ServerFlags`: `--address` (env `MINIO_ADDRESS`,
//! default `:9000`) and `--console-address` (env `MINIO_CONSOLE_ADDRESS`);
//! `minio server DIR` serves the objects in DIR; the root credentials are
//! `MINIO_ROOT_USER` / `MINIO_ROOT_PASSWORD`, `minioadmin` for both when unset):
//! - S3Proxy serves S3 at `http://<pod IP>:<port of --address>` (AWS SigV4 and
//!   V2) with identity `MINIO_ROOT_USER` and credential `MINIO_ROOT_PASSWORD`
//!   (the older `MINIO_ACCESS_KEY` / `MINIO_SECRET_KEY` when those are unset),
//!   buckets as folders of the local folder of the container's `server DIR`
//!   (its volume; without one, a folder of the container's own, as the image's
//!   anonymous `/data` volume). The credentials reach S3Proxy on a pipe, never
//!   on a command line or in a file.
//! - **What differs from MinIO**: the console (`--console-address`, `:9001`)
//!   is not served: nothing listens on that port. Only one local `DIR` is
//!   served (no erasure sets, no `http://` endpoints, no `{1...n}`); a host in
//!   `--address` is replaced by the pod IP. MinIO's health endpoints
//!   (`cmd/healthcheck-router.go`: `/minio/health/live`, `/ready`, `/cluster`,
//!   `/cluster/read`) do not exist in S3Proxy, which answers them
//!   `404 NoSuchBucket`; the node's prober asks S3Proxy's own `/healthz`
//!   instead ([`health_path`]), which answers 200 once its HTTP server serves:
//!   MinIO's `ready` also checks its drives' quorum, which a single folder
//!   always has. No IAM, policies, versioning or bucket notifications; the
//!   credentials are not checked for MinIO's minimum lengths.
//!
//! The client image (minio/mc `Dockerfile.release`: `ENTRYPOINT ["mc"]`): the
//! container's command runs as given (the bucket Job's `sh -c "..."`), with
//! `PATH` starting at a folder of the pod's own whose `mc` runs mc-standin
//! (`alias set`, `mb [--ignore-existing]`, `ls`, `rm --recursive --force`; see
//! `testenv/s3/README.md`)
//! with the pod's hosts file, so cluster names resolve, and `MC_CONFIG_DIR`
//! in the container's folder unless the pod sets it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Container;

use super::flink::StartError;
use super::{ContainerStart, shell_quote as quote};

/// MinIO's default API address (`cmd/server-main.go`, `--address`).
const DEFAULT_ADDRESS: &str = ":9000";

/// MinIO's root user and password when none is given (minio/minio
/// `internal/auth/credentials.go`, `DefaultAccessKey` / `DefaultSecretKey`).
const DEFAULT_CREDENTIAL: &str = "minioadmin";

/// S3Proxy's health endpoint: 200 with its status once it serves.
const S3PROXY_HEALTH: &str = "/healthz";

/// What a MinIO image is to the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    /// `minio/minio`, `quay.io/minio/minio`: the server.
    Server,
    /// `minio/mc`, `quay.io/minio/mc`: the client.
    Client,
}

/// The MinIO image `image` names (any tag or digest), if any.
pub fn image_kind(image: &str) -> Option<Image> {
    let (repository, _tag) = super::image_reference(image);
    match repository.strip_prefix("quay.io/").unwrap_or(repository) {
        "minio/minio" => Some(Image::Server),
        "minio/mc" => Some(Image::Client),
        _ => None,
    }
}

/// The path the node's prober asks instead of `path` for a container of
/// `image`: S3Proxy's `/healthz` for MinIO's health endpoints (the module
/// says what differs), `None` to ask `path` itself.
pub fn health_path(image: &str, path: &str) -> Option<&'static str> {
    let health = [
        "/minio/health/live",
        "/minio/health/ready",
        "/minio/health/cluster",
        "/minio/health/cluster/read",
    ];
    (image_kind(image) == Some(Image::Server)
        && health.contains(&path.split('?').next().unwrap_or(path)))
    .then_some(S3PROXY_HEALTH)
}

/// S3Proxy's assembled classpath in `cache`: the newest `s3proxy-<version>/`
/// with a `lib/` and the `.pom-sha256` that `testenv/s3/assemble.sh` writes
/// last. `Err` is the waiting message.
pub fn s3proxy(cache: &Path) -> Result<(String, PathBuf), String> {
    super::cache::newest_release(cache, "s3proxy-").ok_or_else(|| {
        format!(
            "dataport process node: MinIO's server runs as S3Proxy here, and S3Proxy is not assembled in {}: run testenv/s3/assemble.sh",
            cache.display()
        )
    })
}

/// mc-standin's jar in `cache`: the newest `mc-standin-<hash>/mc-standin.jar`
/// that `testenv/s3/mc-standin/build.sh` built. `Err` is the waiting message.
pub fn mc_standin(cache: &Path) -> Result<PathBuf, String> {
    super::cache::newest_build(cache, "mc-standin-", "mc-standin.jar")
        .map(|(_, jar)| jar)
        .ok_or_else(|| {
            format!(
                "dataport process node: MinIO's client runs as mc-standin here, and it is not built in {}: run testenv/s3/mc-standin/build.sh",
                cache.display()
            )
        })
}

/// The server's start script (S3Proxy with `home`'s classpath, as the module
/// describes), written into the container's folder; run it with bash.
pub fn server_script(start: &ContainerStart, home: &Path) -> Result<PathBuf, StartError> {
    let server = server_command(start.container, start.env)?;
    let data = start.mounts.resolve(&server.dir).unwrap_or_else(|| {
        start
            .dir
            .join("rootfs")
            .join(server.dir.trim_start_matches('/'))
    });
    let tmp = start.dir.join("tmp");
    for dir in [&data, &tmp] {
        std::fs::create_dir_all(dir)?;
    }
    let logback = start.dir.join("logback.xml");
    std::fs::write(&logback, LOGBACK)?;
    let mut text = String::from(
        "#!/usr/bin/env bash\n# Written by the dataport process node: S3Proxy in place of MinIO's server\n# (see src/simulator/node/process/minio.rs).\nset -u\n",
    );
    if let Some(console) = &server.console {
        let _ = writeln!(
            text,
            "echo {}",
            quote(&format!(
                "dataport process node: S3Proxy serves S3 on {}:{} in place of MinIO; MinIO's console ({console}) is not served",
                start.pod_ip, server.port
            ))
        );
    }
    // The credentials come from the environment at run time, on a pipe.
    let _ = writeln!(
        text,
        "user=\"${{MINIO_ROOT_USER:-${{MINIO_ACCESS_KEY:-{DEFAULT_CREDENTIAL}}}}}\"\n\
         password=\"${{MINIO_ROOT_PASSWORD:-${{MINIO_SECRET_KEY:-{DEFAULT_CREDENTIAL}}}}}\"\n\
         exec {java} -XX:+UseSerialGC -Djava.io.tmpdir={tmp} -Djava.net.preferIPv4Stack=true \
         -Djdk.net.hosts.file={hosts} -Dlogback.configurationFile={logback} \
         -cp {cp} org.gaul.s3proxy.Main --properties /dev/fd/3 3< <(printf '%s\\n' \
         {endpoint} 's3proxy.authorization=aws-v2-or-v4' \"s3proxy.identity=$user\" \
         \"s3proxy.credential=$password\" 'jclouds.provider=filesystem' {basedir})",
        java = quote(&start.java.display().to_string()),
        tmp = quote(&tmp.display().to_string()),
        hosts = quote(&start.hosts_file.display().to_string()),
        logback = quote(&logback.display().to_string()),
        cp = quote(&format!("{}/lib/*", home.display())),
        endpoint = quote(&format!(
            "s3proxy.endpoint=http://{}:{}",
            start.pod_ip, server.port
        )),
        basedir = quote(&format!("jclouds.filesystem.basedir={}", data.display())),
    );
    let path = start.dir.join("start.sh");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The client's start script: the container's command with mc-standin
/// (`jar`) as `mc` first on `PATH`; run it with bash.
pub fn client_script(start: &ContainerStart, jar: &Path) -> Result<PathBuf, StartError> {
    // The image's `ENTRYPOINT ["mc"]` when the pod gives no command.
    let mut argv = start
        .container
        .command
        .clone()
        .unwrap_or_else(|| vec!["mc".into()]);
    argv.extend(start.container.args.iter().flatten().cloned());
    let bin = start.dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    let mc = bin.join("mc");
    std::fs::write(
        &mc,
        format!(
            "#!/usr/bin/env bash\n# mc-standin as `mc` (dataport process node, src/simulator/node/process/minio.rs).\n\
             exec {java} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.net.preferIPv4Stack=true -Djdk.net.hosts.file={hosts} -jar {jar} \"$@\"\n",
            java = quote(&start.java.display().to_string()),
            hosts = quote(&start.hosts_file.display().to_string()),
            jar = quote(&jar.display().to_string()),
        ),
    )?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&mc, std::fs::Permissions::from_mode(0o755))?;
    }
    let config = start.dir.join("mc");
    std::fs::create_dir_all(&config)?;
    let mut text = String::from(
        "#!/usr/bin/env bash\n# Written by the dataport process node: the minio/mc container's command with\n# mc-standin as mc (see src/simulator/node/process/minio.rs).\n",
    );
    let _ = writeln!(
        text,
        "export PATH={bin}:\"$PATH\"\nconfig={config}\nexport MC_CONFIG_DIR=\"${{MC_CONFIG_DIR:-$config}}\"\nexec {argv}",
        bin = quote(&bin.display().to_string()),
        config = quote(&config.display().to_string()),
        argv = argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "),
    );
    let path = start.dir.join("start.sh");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// `minio server` as the container runs it: the folder, the API port, the
/// console address when given.
#[derive(Debug, PartialEq)]
struct Server {
    dir: String,
    port: u16,
    console: Option<String>,
}

/// Reads the server's command line through the image's entrypoint.
fn server_command(
    container: &Container,
    env: &std::collections::BTreeMap<String, String>,
) -> Result<Server, StartError> {
    let mut argv = container
        .command
        .clone()
        .unwrap_or_else(|| vec!["/usr/bin/docker-entrypoint.sh".into()]);
    match &container.args {
        Some(args) => argv.extend(args.iter().cloned()),
        None if container.command.is_none() => argv.push("minio".into()),
        None => {}
    }
    let mut words = argv.as_slice();
    if words
        .first()
        .is_some_and(|w| w.ends_with("docker-entrypoint.sh"))
    {
        words = &words[1..];
    }
    if words
        .first()
        .is_some_and(|w| w == "minio" || w.ends_with("/minio"))
    {
        words = &words[1..];
    }
    let unsupported = |what: String| Err(StartError::Unsupported(what));
    let Some(("server", mut rest)) = words.split_first().map(|(w, r)| (w.as_str(), r)) else {
        return unsupported(format!(
            "MinIO's image runs only `minio server DIR` here (as S3Proxy), not {:?}",
            argv.join(" ")
        ));
    };
    let mut address = env.get("MINIO_ADDRESS").cloned();
    let mut console = env.get("MINIO_CONSOLE_ADDRESS").cloned();
    let mut dirs = Vec::new();
    while let Some((word, tail)) = rest.split_first() {
        rest = tail;
        let Some(flag) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else {
            dirs.push(word.clone());
            continue;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        let mut value = || -> Result<String, StartError> {
            if let Some(value) = inline.clone() {
                return Ok(value);
            }
            let (value, tail) = rest.split_first().ok_or_else(|| {
                StartError::Unsupported(format!("minio server: --{name} needs a value"))
            })?;
            rest = tail;
            Ok(value.clone())
        };
        match name {
            "address" => address = Some(value()?),
            "console-address" => console = Some(value()?),
            // Flags whose value S3Proxy has no use for.
            "config" | "certs-dir" | "S" | "ftp" | "sftp" => {
                value()?;
            }
            "quiet" | "json" | "anonymous" => {}
            other => {
                return unsupported(format!(
                    "minio server: the flag --{other} is not known to dataport's S3Proxy stand-in"
                ));
            }
        }
    }
    let dir = match dirs.as_slice() {
        [dir] if dir.starts_with('/') && !dir.contains("...") => dir.clone(),
        _ => {
            return unsupported(format!(
                "MinIO's server runs here as S3Proxy on one local folder, not on {:?} (no erasure sets or remote drives)",
                dirs.join(" ")
            ));
        }
    };
    let address = address.unwrap_or_else(|| DEFAULT_ADDRESS.to_owned());
    let port = address
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .filter(|port| *port != 0)
        .ok_or_else(|| {
            StartError::Unsupported(format!(
                "minio server --address {address:?}: a port of 1 to 65535 is needed here"
            ))
        })?;
    Ok(Server { dir, port, console })
}

/// S3Proxy's logging: INFO on stderr (logback's default is DEBUG on stdout).
const LOGBACK: &str = r#"<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDERR"/></root>
</configuration>
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn minio_images_are_known_by_repository_with_any_tag() {
        assert_eq!(
            image_kind("minio/minio:RELEASE.2025-04-22T22-12-26Z"),
            Some(Image::Server)
        );
        assert_eq!(image_kind("quay.io/minio/minio"), Some(Image::Server));
        assert_eq!(image_kind("minio/mc:latest"), Some(Image::Client));
        assert_eq!(
            image_kind("docker.io/minio/mc:RELEASE.2025-04-16T18-13-26Z@sha256:aa"),
            Some(Image::Client)
        );
        assert_eq!(image_kind("bitnami/minio:2025"), None);
        assert_eq!(image_kind("flink:1.20.0"), None);
    }

    fn container(command: Option<&[&str]>, args: &[&str]) -> Container {
        Container {
            name: "minio".into(),
            command: command.map(|c| c.iter().map(|w| (*w).to_owned()).collect()),
            args: Some(args.iter().map(|w| (*w).to_owned()).collect()),
            ..Container::default()
        }
    }

    #[test]
    fn the_server_command_is_read_through_the_entrypoint() {
        let env = BTreeMap::new();
        let server = server_command(
            &container(None, &["server", "/data", "--console-address", ":9001"]),
            &env,
        )
        .expect("minio server");
        assert_eq!(
            server,
            Server {
                dir: "/data".into(),
                port: 9000,
                console: Some(":9001".into())
            }
        );
        let server = server_command(
            &container(
                Some(&["minio"]),
                &["server", "--address=0.0.0.0:9100", "/export"],
            ),
            &env,
        )
        .expect("minio server");
        assert_eq!((server.dir.as_str(), server.port), ("/export", 9100));
        let env = BTreeMap::from([("MINIO_ADDRESS".to_owned(), ":9200".to_owned())]);
        assert_eq!(
            server_command(&container(None, &["server", "/data"]), &env)
                .expect("minio server")
                .port,
            9200
        );
    }

    #[test]
    fn what_s3proxy_cannot_stand_in_for_is_refused() {
        let env = BTreeMap::new();
        for args in [
            &["gateway", "s3"][..],
            &["server", "http://minio-{0...3}.minio/data"],
            &["server", "/data1", "/data2"],
            &["server", "--address", ":0", "/data"],
            &["server", "--unknown", "/data"],
        ] {
            assert!(
                server_command(&container(None, args), &env).is_err(),
                "{args:?}"
            );
        }
    }

    #[test]
    fn minio_health_is_asked_of_s3proxy() {
        let image = "minio/minio:RELEASE.2025-04-22T22-12-26Z";
        assert_eq!(health_path(image, "/minio/health/ready"), Some("/healthz"));
        assert_eq!(health_path(image, "/minio/health/live"), Some("/healthz"));
        assert_eq!(health_path(image, "/metrics"), None);
        assert_eq!(health_path("nginx:1", "/minio/health/ready"), None);
    }

    #[test]
    fn missing_stand_ins_name_the_script_that_makes_them() {
        let empty = std::env::temp_dir().join(format!("dataport-minio-{}", std::process::id()));
        std::fs::create_dir_all(&empty).expect("temp dir");
        let s3 = s3proxy(&empty).expect_err("nothing assembled");
        assert!(s3.contains("testenv/s3/assemble.sh"), "{s3}");
        let mc = mc_standin(&empty).expect_err("nothing built");
        assert!(mc.contains("testenv/s3/mc-standin/build.sh"), "{mc}");
        let _ = std::fs::remove_dir_all(&empty);
    }
}
