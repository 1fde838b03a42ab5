//! `dataport serve` as its own process, for tests that need what only a
//! process has: its start-up, its environment, its log.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `dataport serve`, killed when dropped.
pub struct ServeProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its standard error (the log).
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl ServeProcess {
    /// Starts `dataport serve` on a free port with `args` and `env`, logging
    /// at `RUST_LOG=debug`; returns once `/healthz` answers.
    pub async fn start(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> ServeProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = tempfile::tempdir().expect("log folder");
        let log = dir.path().join("serve.log");
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_dataport"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "debug")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file)
            .spawn()
            .expect("start dataport serve");
        let process = ServeProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = reqwest::Client::new();
        loop {
            if let Ok(response) = client.get(format!("{}/healthz", process.base)).send().await
                && response.status() == 200
            {
                return process;
            }
            assert!(
                Instant::now() < deadline,
                "dataport serve did not start:\n{}",
                process.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Everything it logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A copy of `kubeconfig` in `dir` whose server is a loopback port nothing listens on.
pub fn unreachable_kubeconfig(kubeconfig: &Path, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(kubeconfig).expect("kubeconfig");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let rewritten: String = text
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("server:") {
                format!("    server: https://127.0.0.1:{closed}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("unreachable.kubeconfig");
    std::fs::write(&path, rewritten).expect("write kubeconfig");
    path
}
