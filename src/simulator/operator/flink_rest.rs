//! A session cluster's REST API as the operator's `RestClusterClient` calls
//! it for session jobs (`AbstractFlinkService`, flink-kubernetes-operator
//! release-1.15.0: `uploadJar`, `runJar`, `deleteJar`, `getJobStatus`,
//! `cancelSessionJob` → `stopWithSavepoint` / `cancel`), against the
//! endpoints of Flink's `flink-runtime-web` (`/jars/upload`,
//! `/jars/:jarid/run`, `/jobs/:jobid`, `/jobs/:jobid/stop`, `/jobs/:jobid/savepoints`,
//! `/jobs/:jobid/savepoints/:triggerid`, `PATCH /jobs/:jobid?mode=cancel`,
//! `/savepoint-disposal` for `disposeSavepoint`).
//!
//! Errors are the message the operator would record: Flink's own `errors`
//! array when the REST API answered with one.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

/// How long one REST call may take (the operator's
/// `kubernetes.operator.flink.client.timeout` default, 10 s).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The REST API of one session cluster, at `http://<ip>:<port>`.
pub struct SessionRest {
    http: reqwest::Client,
    base: String,
}

/// What `GET /jobs/:jobid` says of a job (`JobDetailsInfo`).
#[derive(Debug, Clone, Deserialize)]
pub struct JobDetails {
    /// The job's name.
    pub name: String,
    /// Flink's `JobStatus` name: `RUNNING`, `FINISHED`, `FAILED`, ...
    pub state: String,
    /// Epoch milliseconds.
    #[serde(rename = "start-time")]
    pub start_time: i64,
}

/// Where an asynchronous savepoint stands (`GET /jobs/:jobid/savepoints/:triggerid`).
#[derive(Debug, Clone, PartialEq)]
pub enum SavepointProgress {
    InProgress,
    /// The savepoint's location (`operation.location`).
    Completed(String),
    /// Flink's failure cause.
    Failed(String),
}

/// The body of `POST /jars/:jarid/run` as the operator builds it for Flink
/// 1.20 and later (`runJar`: no `restoreMode`, `claimMode` `NO_CLAIM`, the
/// deploy configuration as `flinkConfiguration`).
#[derive(Debug, Clone)]
pub struct RunRequest<'a> {
    pub entry_class: Option<&'a str>,
    pub args: Option<&'a [String]>,
    /// Only sent when positive.
    pub parallelism: Option<i64>,
    /// 32 hex digits (`JobID.toHexString`).
    pub job_id: &'a str,
    pub allow_non_restored_state: Option<bool>,
    pub savepoint_path: Option<&'a str>,
    pub configuration: &'a std::collections::BTreeMap<String, String>,
}

impl SessionRest {
    /// The REST API at `ip:port`.
    pub fn new(http: reqwest::Client, ip: std::net::Ipv4Addr, port: u16) -> Self {
        Self {
            http,
            base: format!("http://{ip}:{port}"),
        }
    }

    /// Uploads a jar (`multipart/form-data`, field `jarfile`, type
    /// `application/x-java-archive`); returns its jar id (the file name of
    /// the answer's `filename`).
    pub async fn upload_jar(&self, file_name: &str, jar: Vec<u8>) -> Result<String, String> {
        let part = reqwest::multipart::Part::bytes(jar)
            .file_name(file_name.to_owned())
            .mime_str("application/x-java-archive")
            .map_err(|e| e.to_string())?;
        let form = reqwest::multipart::Form::new().part("jarfile", part);
        let answer = self
            .send(
                self.http
                    .post(format!("{}/jars/upload", self.base))
                    .multipart(form),
            )
            .await?;
        let filename = answer
            .get("filename")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the jar upload answered without a filename: {answer}"))?;
        Ok(filename.rsplit('/').next().unwrap_or(filename).to_owned())
    }

    /// Runs an uploaded jar as job `request.job_id`.
    pub async fn run_jar(&self, jar_id: &str, request: &RunRequest<'_>) -> Result<(), String> {
        let mut body = json!({
            "jobId": request.job_id,
            "claimMode": "NO_CLAIM",
            "flinkConfiguration": request.configuration,
        });
        let fields = [
            ("entryClass", request.entry_class.map(|c| json!(c))),
            ("programArgsList", request.args.map(|a| json!(a))),
            (
                "parallelism",
                request.parallelism.filter(|p| *p > 0).map(|p| json!(p)),
            ),
            (
                "allowNonRestoredState",
                request.allow_non_restored_state.map(|a| json!(a)),
            ),
            ("savepointPath", request.savepoint_path.map(|p| json!(p))),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                body[key] = value;
            }
        }
        self.send(
            self.http
                .post(format!("{}/jars/{jar_id}/run", self.base))
                .json(&body),
        )
        .await
        .map(drop)
    }

    /// Deletes an uploaded jar (the operator does after every run).
    pub async fn delete_jar(&self, jar_id: &str) -> Result<(), String> {
        self.send(self.http.delete(format!("{}/jars/{jar_id}", self.base)))
            .await
            .map(drop)
    }

    /// The job's details; `None` when the cluster does not know the job (404).
    pub async fn job(&self, job_id: &str) -> Result<Option<JobDetails>, String> {
        let response = self
            .http
            .get(format!("{}/jobs/{job_id}", self.base))
            .timeout(CLIENT_TIMEOUT)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let answer = answer_of(response).await?;
        serde_json::from_value(answer)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// Stops the job with a savepoint into `directory` (canonical format);
    /// returns the trigger id to follow with [`Self::savepoint_progress`].
    pub async fn stop_with_savepoint(
        &self,
        job_id: &str,
        directory: &str,
        drain: bool,
    ) -> Result<String, String> {
        let answer = self
            .send(
                self.http
                    .post(format!("{}/jobs/{job_id}/stop", self.base))
                    .json(&json!({"targetDirectory": directory, "drain": drain, "formatType": "CANONICAL"})),
            )
            .await?;
        answer
            .get("request-id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("stop-with-savepoint answered without a request-id: {answer}"))
    }

    /// Triggers a savepoint of the running job into `directory` without
    /// stopping it (`POST /jobs/:jobid/savepoints`, `SavepointTriggerRequestBody`
    /// with `cancel-job: false`, as `AbstractFlinkService.triggerSavepoint`
    /// sends it); returns the trigger id to follow with [`Self::savepoint_progress`].
    pub async fn trigger_savepoint(
        &self,
        job_id: &str,
        directory: &str,
        format_type: &str,
    ) -> Result<String, String> {
        let answer = self
            .send(
                self.http
                    .post(format!("{}/jobs/{job_id}/savepoints", self.base))
                    .json(&json!({"target-directory": directory, "cancel-job": false, "formatType": format_type})),
            )
            .await?;
        answer
            .get("request-id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("the savepoint trigger answered without a request-id: {answer}"))
    }

    /// Where the savepoint of `trigger` stands.
    pub async fn savepoint_progress(
        &self,
        job_id: &str,
        trigger: &str,
    ) -> Result<SavepointProgress, String> {
        let answer = self
            .send(
                self.http
                    .get(format!("{}/jobs/{job_id}/savepoints/{trigger}", self.base)),
            )
            .await?;
        if answer.pointer("/status/id").and_then(Value::as_str) != Some("COMPLETED") {
            return Ok(SavepointProgress::InProgress);
        }
        if let Some(location) = answer
            .pointer("/operation/location")
            .and_then(Value::as_str)
        {
            return Ok(SavepointProgress::Completed(location.to_owned()));
        }
        let cause = answer
            .pointer("/operation/failure-cause/stack-trace")
            .and_then(Value::as_str)
            .and_then(|trace| trace.lines().next())
            .unwrap_or("the savepoint failed without a cause")
            .to_owned();
        Ok(SavepointProgress::Failed(cause))
    }

    /// Asks the cluster to dispose of the savepoint at `path` (`POST
    /// /savepoint-disposal`, `SavepointDisposalRequest` with
    /// `savepoint-path`, as `AbstractFlinkService.disposeSavepoint` sends
    /// it); returns the trigger id. Flink disposes of it asynchronously;
    /// the operator does not wait for the outcome.
    pub async fn dispose_savepoint(&self, path: &str) -> Result<String, String> {
        let answer = self
            .send(
                self.http
                    .post(format!("{}/savepoint-disposal", self.base))
                    .json(&json!({"savepoint-path": path})),
            )
            .await?;
        answer
            .get("request-id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                format!("the savepoint disposal answered without a request-id: {answer}")
            })
    }

    /// Cancels the job (`PATCH /jobs/:jobid?mode=cancel`); `Ok(false)` when
    /// the cluster does not know it (404) or it already ended (409).
    pub async fn cancel(&self, job_id: &str) -> Result<bool, String> {
        let response = self
            .http
            .patch(format!("{}/jobs/{job_id}?mode=cancel", self.base))
            .timeout(CLIENT_TIMEOUT)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        match response.status() {
            reqwest::StatusCode::NOT_FOUND | reqwest::StatusCode::CONFLICT => Ok(false),
            _ => answer_of(response).await.map(|_| true),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, String> {
        let response = request
            .timeout(CLIENT_TIMEOUT)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        answer_of(response).await
    }
}

/// The JSON of a successful answer, or Flink's `errors` of a failed one.
async fn answer_of(response: reqwest::Response) -> Result<Value, String> {
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        return Ok(serde_json::from_str(&text).unwrap_or(Value::Null));
    }
    Err(flink_errors(status.as_u16(), &text))
}

/// `[<status>] <errors joined>`: Flink's `ErrorResponseBody`, first lines only.
fn flink_errors(status: u16, text: &str) -> String {
    let errors: Vec<String> = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("errors").cloned())
        .and_then(|e| serde_json::from_value::<Vec<String>>(e).ok())
        .unwrap_or_else(|| vec![text.to_owned()]);
    let first_lines: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.lines().find(|l| !l.trim().is_empty()))
        .collect();
    format!("[{status}] {}", first_lines.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flinks_error_body_becomes_one_line() {
        let body = r#"{"errors":["org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\n\tat x","Internal server error."]}"#;
        assert_eq!(
            flink_errors(500, body),
            "[500] org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.; Internal server error."
        );
        assert_eq!(flink_errors(502, "bad gateway"), "[502] bad gateway");
    }
}
