//! Requests straight to a Service's cluster DNS name (dataport inside the
//! cluster).

use futures::StreamExt;

use super::{ServiceTarget, UpstreamRequest, UpstreamResponse};
use crate::cluster::ClusterError;

pub(super) async fn direct(
    client: &reqwest::Client,
    target: &ServiceTarget,
    request: UpstreamRequest,
) -> Result<UpstreamResponse, ClusterError> {
    let response = send_direct(client, target, request).await?;
    Ok(direct_answer(response, target.cluster_url()))
}

/// `request` sent straight to `target`'s cluster address; the answer as
/// received. Errors: [`ClusterError::Upstream`] naming the innermost cause.
pub(super) async fn send_direct(
    client: &reqwest::Client,
    target: &ServiceTarget,
    request: UpstreamRequest,
) -> Result<reqwest::Response, ClusterError> {
    let base = target.cluster_url();
    client
        .request(request.method, format!("{base}{}", request.path_and_query))
        .headers(request.headers)
        .body(request.body)
        .send()
        .await
        .map_err(|error| {
            ClusterError::Upstream(format!(
                "cannot reach {base}: {}",
                error_chain(&error).unwrap_or_else(|| error.to_string())
            ))
        })
}

/// An answer from the upstream at `base`, its body streamed.
pub(super) fn direct_answer(response: reqwest::Response, base: String) -> UpstreamResponse {
    let status = response.status();
    let headers = response.headers().clone();
    let body = futures::stream::unfold(Some(response), |response| async move {
        let mut response = response?;
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(response))),
            Ok(None) => None,
            Err(error) => Some((Err(ClusterError::Upstream(error.to_string())), None)),
        }
    })
    .boxed();
    UpstreamResponse {
        status,
        headers,
        body,
        upstream_prefixes: vec![base],
    }
}

/// The innermost cause of a client error ("connection refused"), which
/// reqwest's own line leaves out.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = error.source()?;
    while let Some(next) = source.source() {
        source = next;
    }
    Some(source.to_string())
}
