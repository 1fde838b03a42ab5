//! `GET /containerLogs/NS/POD/CONTAINER`: a container's output, as the
//! kubelet serves it (kubernetes v1.34 `pkg/kubelet/server/server.go`
//! `containerLogs`, `pkg/kubelet/kuberuntime/logs` `ReadLogs`): the last
//! `tailLines` lines, at most `limitBytes` bytes from where they start, and
//! with `follow` what the process writes next until it ends.
//!
//! The process node keeps each run's stdout and stderr together in one file,
//! as written, without a time per line: `timestamps`, `sinceSeconds` and
//! `sinceTime` (which need one) and `stream=Stdout|Stderr` are refused with a
//! 400 saying so, rather than answered with made-up times.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::Kubelet;
use crate::simulator::node::process::{self, ContainerLog};

/// How often a followed log is looked at for more output.
const FOLLOW_POLL: Duration = Duration::from_millis(250);

/// The query the API server sends (`PodLogOptions` as URL parameters).
#[derive(Debug, Default, PartialEq)]
struct LogOptions {
    follow: bool,
    previous: bool,
    /// Lines from the end; `None`: all.
    tail_lines: Option<u64>,
    /// Bytes at most; `None`: no limit.
    limit_bytes: Option<u64>,
}

impl LogOptions {
    /// Parsed as the kubelet validates them; the error is the 400's text.
    fn parse(query: &HashMap<String, String>) -> Result<LogOptions, String> {
        let flag = |key: &str| -> Result<bool, String> {
            match query.get(key).map(String::as_str) {
                None | Some("") => Ok(false),
                Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
                Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
                Some(other) => Err(format!("{key}: invalid boolean {other:?}")),
            }
        };
        let number = |key: &str, least: u64| -> Result<Option<u64>, String> {
            match query.get(key) {
                None => Ok(None),
                Some(text) => match text.parse::<u64>() {
                    Ok(n) if n >= least => Ok(Some(n)),
                    _ => Err(format!("{key}: must be an integer of at least {least}")),
                },
            }
        };
        if flag("timestamps")?
            || query.contains_key("sinceSeconds")
            || query.contains_key("sinceTime")
        {
            return Err("timestamps, sinceSeconds and sinceTime are not served: the dataport process node keeps no time per log line".into());
        }
        if query
            .get("stream")
            .is_some_and(|stream| !stream.is_empty() && stream != "All")
        {
            return Err("stream: the dataport process node keeps stdout and stderr together; only All is served".into());
        }
        Ok(LogOptions {
            follow: flag("follow")?,
            previous: flag("previous")?,
            tail_lines: number("tailLines", 0)?,
            limit_bytes: number("limitBytes", 1)?,
        })
    }
}

fn refuse(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

/// The handler of `/containerLogs/{namespace}/{pod}/{container}`.
pub(super) async fn container_logs(
    State(kubelet): State<Kubelet>,
    UrlPath((namespace, pod, container)): UrlPath<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let options = match LogOptions::parse(&query) {
        Ok(options) => options,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    let found = kubelet
        .processes
        .as_ref()
        .and_then(|node| node.container_log(&namespace, &pod, &container, options.previous));
    let (path, running) = match found {
        Some(ContainerLog::File { path, running }) => (path, running),
        Some(ContainerLog::NoLog(message)) => return refuse(StatusCode::BAD_REQUEST, message),
        Some(ContainerLog::NoContainer(message)) => return refuse(StatusCode::NOT_FOUND, message),
        None => return not_run_here(&kubelet, &namespace, &pod, &container).await,
    };
    let start = match tokio::task::spawn_blocking({
        let path = path.clone();
        move || tail_start(&path, options.tail_lines)
    })
    .await
    {
        Ok(Ok(start)) => start,
        Ok(Err(error)) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("failed to read the log of container {container:?}: {error}"),
            );
        }
        Err(error) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(error) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("failed to open the log of container {container:?}: {error}"),
            );
        }
    };
    let reading = Reading {
        file,
        offset: start,
        left: options.limit_bytes,
        follow: options.follow && running,
        still_writing: Box::new(move || {
            kubelet.processes.as_ref().is_some_and(|node| {
                node.container_log(&namespace, &pod, &container, false)
                    == Some(ContainerLog::File {
                        path: path.clone(),
                        running: true,
                    })
            })
        }),
    };
    let body = Body::from_stream(futures::stream::unfold(reading, Reading::next));
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// The answer for a pod the process node does not run: the kubelet's 404
/// when the pod is not on this node or has no such container; else its
/// containers are simulated, and have no log.
async fn not_run_here(kubelet: &Kubelet, namespace: &str, pod: &str, container: &str) -> Response {
    let pods: Api<Pod> = Api::namespaced(kubelet.client.clone(), namespace);
    let found = match pods.get_opt(pod).await {
        Ok(found) => found,
        Err(error) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    };
    let Some(spec) = found
        .and_then(|p| p.spec)
        .filter(|spec| spec.node_name.as_deref() == Some(kubelet.node_name.as_str()))
    else {
        return refuse(StatusCode::NOT_FOUND, format!("pod {pod:?} does not exist"));
    };
    let known = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(|c| c.name == container);
    if !known {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("container {container:?} not found in pod {pod:?}"),
        );
    }
    refuse(
        StatusCode::BAD_REQUEST,
        process::simulated_log_message(container, pod),
    )
}

/// Where the last `tail` lines of `path` start (a final newline ends the
/// last line, it does not start another); 0 for all of it.
fn tail_start(path: &Path, tail: Option<u64>) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let Some(tail) = tail else {
        return Ok(0);
    };
    if tail == 0 {
        return Ok(len);
    }
    const CHUNK: u64 = 64 * 1024;
    let mut end = len;
    let mut newlines = 0;
    let mut skip_last = true;
    let mut buffer = vec![0u8; CHUNK as usize];
    while end > 0 {
        let begin = end.saturating_sub(CHUNK);
        let size = usize::try_from(end - begin).unwrap_or(0);
        file.seek(SeekFrom::Start(begin))?;
        file.read_exact(&mut buffer[..size])?;
        for (at, byte) in buffer[..size].iter().enumerate().rev() {
            if *byte != b'\n' {
                skip_last = false;
                continue;
            }
            if std::mem::take(&mut skip_last) {
                continue;
            }
            newlines += 1;
            if newlines == tail {
                return Ok(begin + at as u64 + 1);
            }
        }
        end = begin;
    }
    Ok(0)
}

/// A log being sent: from `offset`, at most `left` bytes more, and while
/// `follow`, what is written next until the process ends.
struct Reading {
    file: tokio::fs::File,
    offset: u64,
    left: Option<u64>,
    follow: bool,
    still_writing: Box<dyn Fn() -> bool + Send>,
}

impl Reading {
    /// Reads what follows `offset` into `buffer`.
    async fn read_at(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.file.seek(SeekFrom::Start(self.offset)).await?;
        self.file.read(buffer).await
    }

    /// This reading, ended: no more reads, no following.
    fn ended(self) -> Reading {
        Reading {
            follow: false,
            left: Some(0),
            ..self
        }
    }

    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Reading)> {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let room = self
                .left
                .map_or(buffer.len(), |left| buffer.len().min(left as usize));
            if room == 0 {
                return None;
            }
            let read = match self.read_at(&mut buffer[..room]).await {
                Ok(read) => read,
                // The stream ends with the error; nothing is read after it.
                Err(error) => return Some((Err(error), self.ended())),
            };
            if read > 0 {
                self.offset += read as u64;
                self.left = self.left.map(|left| left - read as u64);
                buffer.truncate(read);
                return Some((Ok(Bytes::from(buffer)), self));
            }
            // At the end: done, unless following a process that still writes.
            // Once it ended, one more read takes what it wrote last.
            if !self.follow {
                return None;
            }
            if !(self.still_writing)() {
                self.follow = false;
                continue;
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write");
        file
    }

    fn tail(text: &str, lines: Option<u64>) -> String {
        let file = file_with(text);
        let start = tail_start(file.path(), lines).expect("tail") as usize;
        text[start..].to_owned()
    }

    #[test]
    fn tail_lines_counts_lines_from_the_end() {
        assert_eq!(tail("a\nb\nc\n", Some(2)), "b\nc\n");
        assert_eq!(tail("a\nb\nc", Some(2)), "b\nc");
        assert_eq!(tail("a\nb\nc\n", Some(5)), "a\nb\nc\n");
        assert_eq!(tail("a\nb\nc\n", Some(0)), "");
        assert_eq!(tail("a\nb\nc\n", None), "a\nb\nc\n");
        assert_eq!(tail("", Some(3)), "");
        let long: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(tail(&long, Some(2)), "line 99998\nline 99999\n");
    }

    #[test]
    fn options_refuse_what_the_node_cannot_serve_truthfully() {
        let query = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            LogOptions::parse(&query(&[
                ("follow", "true"),
                ("tailLines", "10"),
                ("limitBytes", "100")
            ])),
            Ok(LogOptions {
                follow: true,
                previous: false,
                tail_lines: Some(10),
                limit_bytes: Some(100)
            })
        );
        assert!(LogOptions::parse(&query(&[("timestamps", "true")])).is_err());
        assert!(LogOptions::parse(&query(&[("sinceSeconds", "10")])).is_err());
        assert!(LogOptions::parse(&query(&[("limitBytes", "0")])).is_err());
        assert!(LogOptions::parse(&query(&[("stream", "Stdout")])).is_err());
        assert!(LogOptions::parse(&query(&[("stream", "All")])).is_ok());
    }
}
