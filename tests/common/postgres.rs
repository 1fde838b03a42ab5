//! A Postgres server of one test's own, which the test may restart: the
//! server binaries of the Debian package, a throwaway data folder.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A running Postgres server, stopped when dropped.
pub struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

fn as_postgres(command: &mut Command) -> &mut Command {
    command.stdout(Stdio::null()).stderr(Stdio::null())
}

impl PrivatePostgres {
    /// initdb and start a server on a free loopback port.
    pub fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Postgres server binaries under /usr/lib/postgresql")
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max()
            .expect("a Postgres version with initdb");
        let dir = tempfile::tempdir().expect("data folder");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let server = PrivatePostgres { bin, dir, port };
        // initdb and postgres refuse to run as root: run them as `postgres` then.
        if is_root() {
            let status = Command::new("chown")
                .args(["postgres"])
                .arg(server.dir.path())
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let status = as_postgres(&mut server.command("initdb"))
            .arg("-D")
            .arg(server.data())
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
            .status()
            .expect("initdb");
        assert!(status.success(), "initdb failed");
        server.pg_ctl("start");
        server
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let status = as_postgres(&mut self.command("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-m", "fast", "-o", &options, action])
            .status()
            .expect("pg_ctl");
        assert!(status.success(), "pg_ctl {action} failed");
    }

    /// Stops the server (fast: connections are cut).
    pub fn stop(&self) {
        self.pg_ctl("stop");
    }

    /// Starts it again on the same port and data.
    pub fn start_again(&self) {
        self.pg_ctl("start");
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&mut self.command("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}
