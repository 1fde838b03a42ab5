//! A real Prometheus as the tests use it: the server and promtool that
//! `testenv/prometheus/build.sh` builds from upstream's Go module (Debian's
//! package has no Kubernetes service discovery), and its HTTP API.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The folder holding `prometheus` and `promtool`, built on first use
/// (cached); fails saying how to get them when they cannot be built.
pub fn built() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testenv/prometheus/build.sh");
    let output = Command::new(&script)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
    assert!(
        output.status.success(),
        "testenv/prometheus/build.sh could not build Prometheus and promtool (it needs Go and \
         the Go module proxy; `scripts/test.sh` checks for Go): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// Prometheus's answer at `path` (`/api/v1/...`) of the server at `base`
/// (`http://IP:9090`): its `data` when `status` is `success`, else `None`.
pub async fn api(base: &str, path: &str) -> Option<Value> {
    let answer: Value = reqwest::get(format!("{base}{path}"))
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    (answer["status"] == "success").then(|| answer["data"].clone())
}

/// The processes of the Prometheus server built here that the process node
/// runs for pods of `namespace` (their `HOME` is the container's folder on
/// the node), as their command lines.
pub fn processes_of(namespace: &str) -> Vec<String> {
    let marker = format!("/node/{namespace}/");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let program = cmdline.split(' ').next().unwrap_or_default();
        if !program.ends_with("/prometheus") {
            continue;
        }
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if String::from_utf8_lossy(&environ).contains(&marker) {
            found.push(cmdline.chars().take(200).collect());
        }
    }
    found
}

/// The answer of instant query `promql` on the server at `base` (its
/// `data`), `None` while it does not answer.
pub async fn query(base: &str, promql: &str) -> Option<Value> {
    let encoded: String = url::form_urlencoded::byte_serialize(promql.as_bytes()).collect();
    api(base, &format!("/api/v1/query?query={encoded}")).await
}

/// The active alerts (pending or firing) of the server at `base`, as
/// `/api/v1/alerts` lists them (`labels`, `annotations`, `state`, ...).
pub async fn alerts(base: &str) -> Option<Vec<Value>> {
    api(base, "/api/v1/alerts")
        .await
        .and_then(|data| data["alerts"].as_array().cloned())
}

/// A query of a Grafana dashboard: where it is (`panel title/refId`, or
/// `variable NAME`) and its PromQL with the dashboard's variables put in.
#[derive(Debug)]
pub struct PanelQuery {
    pub place: String,
    pub promql: String,
}

/// Every panel query of `dashboard` (Grafana's JSON model) with
/// `variables` (name, value) put in as Grafana does for one chosen value
/// each, and `$__rate_interval` as Grafana sets it for a 15 s scrape
/// interval and a short time range: `1m` (four scrape intervals;
/// grafana/grafana docs/sources/datasources/prometheus `$__rate_interval`).
pub fn panel_queries(dashboard: &Value, variables: &[(&str, &str)]) -> Vec<PanelQuery> {
    let fill = |expr: &str| {
        let mut promql = expr.replace("$__rate_interval", "1m");
        for (name, value) in variables {
            promql = promql.replace(&format!("${name}"), value);
        }
        promql
    };
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            queries.push(PanelQuery {
                place: format!("{}/{}", panel["title"], target["refId"]),
                promql: fill(target["expr"].as_str().unwrap_or_default()),
            });
        }
    }
    queries
}

/// The `(name, selector, label)` of each `label_values(selector, label)`
/// variable of `dashboard`, its selector with `variables` put in.
pub fn label_value_variables(
    dashboard: &Value,
    variables: &[(&str, &str)],
) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let query = variable["query"].as_str().unwrap_or_default();
        let Some(inner) = query
            .strip_prefix("label_values(")
            .and_then(|rest| rest.strip_suffix(')'))
        else {
            continue;
        };
        let Some((selector, label)) = inner.rsplit_once(',') else {
            continue;
        };
        let mut selector = selector.trim().to_owned();
        for (name, value) in variables {
            selector = selector.replace(&format!("${name}"), value);
        }
        found.push((
            variable["name"].as_str().unwrap_or_default().to_owned(),
            selector,
            label.trim().to_owned(),
        ));
    }
    found
}
