//! Starting `dataport` as a user would: bad databases stop it with one clear
//! line, and SIGTERM stops it gracefully.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn dataport() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dataport"));
    command
        .env_remove("KUBECONFIG")
        .env_remove("DATABASE_URL")
        .env("RUST_BACKTRACE", "1");
    command
}

fn stderr_of_failed_start(args: &[&str]) -> String {
    let output = dataport()
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .output()
        .expect("run dataport");
    assert!(
        !output.status.success(),
        "dataport {args:?} should have failed"
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    assert!(
        !stderr.contains("stack backtrace"),
        "no backtrace: {stderr}"
    );
    stderr
}

/// The last line: the one that says what went wrong.
fn error_line(stderr: &str) -> &str {
    let line = stderr.lines().last().unwrap_or_default();
    assert!(
        line.starts_with("dataport: "),
        "one clear last line: {stderr}"
    );
    line
}

#[test]
fn an_unreachable_postgres_stops_the_start_with_one_clear_line() {
    // A port nothing listens on: bind and drop.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://dp:hunter2@127.0.0.1:{port}/dataport");
    let stderr = stderr_of_failed_start(&["--database-url", &url]);
    let line = error_line(&stderr);
    assert!(line.contains("cannot open the database"), "{line}");
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    assert!(line.to_lowercase().contains("refused"), "{line}");
    assert!(
        !stderr.contains("hunter2"),
        "the password is masked: {stderr}"
    );
}

#[test]
fn an_unwritable_sqlite_path_stops_the_start_with_one_clear_line() {
    let stderr = stderr_of_failed_start(&["--database-url", "sqlite:///proc/dataport/nope.db"]);
    let line = error_line(&stderr);
    assert!(
        line.contains("cannot open the database sqlite:///proc/dataport/nope.db"),
        "{line}"
    );
    assert!(line.contains("unable to open database file"), "{line}");
}

#[test]
fn a_bad_kubeconfig_stops_the_start_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, "this: [is not a kubeconfig").unwrap();
    let database = format!("sqlite://{}", dir.path().join("d.db").display());
    let stderr = stderr_of_failed_start(&[
        "--database-url",
        &database,
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
    ]);
    let line = error_line(&stderr);
    assert!(line.contains("cannot use kubeconfig"), "{line}");
}

#[test]
fn sigterm_stops_the_portal_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = dataport()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--database-url",
            &format!("sqlite://{}", dir.path().join("d.db").display()),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dataport");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "dataport did not start listening"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().expect("dataport exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "clean exit on SIGTERM: {stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "a log that is not a terminal carries no colour codes: {stderr:?}"
    );
    assert!(
        stderr.contains("shutting down") && stderr.contains("stopped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("database_url  = sqlite://"),
        "config printed: {stderr}"
    );
}
