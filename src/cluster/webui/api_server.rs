//! Requests through the API server's service proxy, and telling its own
//! refusals (`Status` objects) from an upstream's answers.

use futures::{StreamExt, TryStreamExt};
use http::{HeaderMap, StatusCode};
use http_body_util::BodyDataStream;

use super::{ServiceTarget, UpstreamRequest, UpstreamResponse};
use crate::cluster::{Cluster, ClusterError};

impl Cluster {
    pub(super) fn through_api_server(
        &self,
        target: &ServiceTarget,
        request: UpstreamRequest,
    ) -> futures::future::BoxFuture<'static, Result<UpstreamResponse, ClusterError>> {
        let sent = self.send_through_api_server(target, request);
        let prefix = target.api_server_prefix();
        let service = target.service.clone();
        Box::pin(async move { api_server_answer(sent.await?, prefix, &service).await })
    }

    /// `request` sent to `target` through the API server's service proxy,
    /// with the kube client's credentials; the answer as received.
    pub(super) fn send_through_api_server(
        &self,
        target: &ServiceTarget,
        request: UpstreamRequest,
    ) -> futures::future::BoxFuture<'static, Result<http::Response<kube::client::Body>, ClusterError>>
    {
        let client = self.proxy_client().clone();
        let uri = format!("{}{}", target.api_server_prefix(), request.path_and_query);
        let mut headers = request.headers;
        if wants_html(&headers) {
            // The API server rewrites links in pages it can read; a page
            // it compressed again could not be moved under dataport's path.
            headers.insert(
                http::header::ACCEPT_ENCODING,
                http::HeaderValue::from_static("identity"),
            );
        }
        let mut builder = http::Request::builder().method(request.method).uri(uri);
        if let Some(slot) = builder.headers_mut() {
            *slot = headers;
        }
        let built = builder.body(kube::client::Body::from(request.body.to_vec()));
        Box::pin(async move {
            let built = built.map_err(|error| ClusterError::Upstream(error.to_string()))?;
            client.send(built).await.map_err(|error| match error {
                kube::Error::HyperError(_) | kube::Error::Service(_) => ClusterError::Api(error),
                other => ClusterError::Upstream(other.to_string()),
            })
        })
    }
}

/// The API server's answer from `service` (reached at API server path
/// `prefix`): its own refusals and proxy failures as errors, an upstream's
/// answers as they are.
pub(super) async fn api_server_answer(
    response: http::Response<kube::client::Body>,
    prefix: String,
    service: &str,
) -> Result<UpstreamResponse, ClusterError> {
    let (parts, body) = response.into_parts();
    let status = parts.status;
    // The API server's own refusals and proxy errors are `Status`
    // objects; an upstream's own answers pass through as they are.
    if is_status_object(&parts.headers) && is_proxy_failure(status) {
        let bytes =
            http_body_util::BodyExt::collect(http_body_util::Limited::new(body, STATUS_BYTES))
                .await
                .map(|collected| collected.to_bytes())
                .unwrap_or_default();
        if let Some(message) = api_server_status(&bytes) {
            return Err(ClusterError::Upstream(match status {
                StatusCode::FORBIDDEN => {
                    format!("the API server refused the service proxy: {message}")
                }
                // A missing Endpoints object is reported under the
                // request's resource: "services \"x\" not found".
                StatusCode::NOT_FOUND => format!(
                    "the API server has no Endpoints for Service {service} \
                     (no ready pod behind it, or no such Service): {message}"
                ),
                _ => message,
            }));
        }
        return Ok(UpstreamResponse {
            status,
            headers: parts.headers,
            body: futures::stream::once(async move { Ok(bytes) }).boxed(),
            upstream_prefixes: vec![prefix],
        });
    }
    let body = BodyDataStream::new(body)
        .map_err(|error| ClusterError::Upstream(error.to_string()))
        .boxed();
    Ok(UpstreamResponse {
        status,
        headers: parts.headers,
        body,
        upstream_prefixes: vec![prefix],
    })
}

/// Largest JSON error body read to tell the API server's `Status` from an
/// upstream's own error.
const STATUS_BYTES: usize = 64 * 1024;

/// The message of a Kubernetes `Status` object, when `bytes` is one.
fn api_server_status(bytes: &[u8]) -> Option<String> {
    let status: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    (status["kind"] == "Status" && status["apiVersion"] == "v1").then(|| {
        status["message"]
            .as_str()
            .unwrap_or("no message")
            .to_owned()
    })
}

/// Whether a request asks for a page (a browser's navigation).
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Whether an answer is JSON (as the API server's `Status` objects are).
fn is_status_object(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}

/// Statuses the API server answers itself when the proxy cannot do its job
/// (no endpoints, dial failed, not allowed, no such Service).
fn is_proxy_failure(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::FORBIDDEN
            | StatusCode::NOT_FOUND
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_servers_own_failures_are_errors() {
        let mut json = HeaderMap::new();
        json.insert(
            http::header::CONTENT_TYPE,
            "application/json".parse().unwrap(),
        );
        assert!(is_status_object(&json) && is_proxy_failure(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!is_proxy_failure(StatusCode::OK));
        assert!(!is_proxy_failure(StatusCode::BAD_REQUEST));
        assert!(!is_status_object(&HeaderMap::new()));
        let status = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no endpoints available for service \"flink-main-rest:8081\"","code":503}"#;
        assert_eq!(
            api_server_status(status).as_deref(),
            Some(r#"no endpoints available for service "flink-main-rest:8081""#)
        );
        // Flink's own 404 is the upstream's answer, not the API server's.
        assert_eq!(api_server_status(br#"{"errors":["Not found: /x"]}"#), None);
    }
}
