//! Reading a Prometheus in the cluster through its HTTP API (`/api/v1/`),
//! dialled as the apps' web interfaces are ([`Cluster::service_request`]:
//! the API server's service proxy, or the Service itself).
//!
//! A few serde types for the two answers dataport reads, rather than a client
//! crate: the crates on offer bring their own HTTP client, which could not go
//! through the API server's service proxy with the kube client's credentials.
//! Shapes as prometheus/prometheus v3.5.0 `web/api/v1/api.go` writes them:
//! `{"status": "success", "data": …}` or `{"status": "error", "errorType",
//! "error"}` (docs/querying/api.md, "Format overview", "Range queries",
//! "Alerts").

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::webui::ServiceTarget;
use super::{Cluster, ClusterError};

/// Largest answer read from Prometheus.
const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// How long one question to Prometheus may take, answer included: a page
/// waits for it.
pub const PROMETHEUS_TIMEOUT: Duration = Duration::from_secs(5);

/// One series of a range query: its labels and `(unix seconds, value)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// Its samples, oldest first; values Prometheus writes as `NaN` or
    /// `±Inf` are left out.
    pub points: Vec<(f64, f64)>,
}

/// An alert Prometheus evaluates (`pending` or `firing`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusAlert {
    /// Its labels, `alertname` among them.
    pub labels: BTreeMap<String, String>,
    /// Its annotations (`summary`, `description`, …).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// `pending` or `firing`.
    pub state: String,
    /// Since when its expression has been true.
    #[serde(default)]
    pub active_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer<T> {
    status: String,
    data: Option<T>,
    error: Option<String>,
    error_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Matrix {
    result: Vec<MatrixSeries>,
}

#[derive(Debug, Deserialize)]
struct MatrixSeries {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
struct Alerts {
    alerts: Vec<PrometheusAlert>,
}

impl Cluster {
    /// The series of PromQL `query` from `start` to `end` every `step`
    /// (`/api/v1/query_range`). Errors: [`ClusterError::Upstream`] when
    /// Prometheus cannot be reached, refuses the query (its `error`), or
    /// answers something else than its API's JSON.
    pub async fn prometheus_range(
        &self,
        prometheus: &ServiceTarget,
        query: &str,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        step: Duration,
    ) -> Result<Vec<Series>, ClusterError> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("query", query)
            .append_pair("start", &start.timestamp().to_string())
            .append_pair("end", &end.timestamp().to_string())
            .append_pair("step", &format!("{}s", step.as_secs().max(1)))
            .finish();
        let matrix: Matrix = self
            .prometheus_get(prometheus, &format!("/api/v1/query_range?{query}"))
            .await?;
        Ok(matrix
            .result
            .into_iter()
            .map(|series| Series {
                labels: series.metric,
                points: series
                    .values
                    .into_iter()
                    .filter_map(|(at, value)| {
                        value
                            .parse::<f64>()
                            .ok()
                            .filter(|v| v.is_finite())
                            .map(|v| (at, v))
                    })
                    .collect(),
            })
            .collect())
    }

    /// The alerts Prometheus evaluates now, pending and firing
    /// (`/api/v1/alerts`). Errors as [`Cluster::prometheus_range`].
    pub async fn prometheus_alerts(
        &self,
        prometheus: &ServiceTarget,
    ) -> Result<Vec<PrometheusAlert>, ClusterError> {
        let alerts: Alerts = self.prometheus_get(prometheus, "/api/v1/alerts").await?;
        Ok(alerts.alerts)
    }

    async fn prometheus_get<T: serde::de::DeserializeOwned>(
        &self,
        prometheus: &ServiceTarget,
        path_and_query: &str,
    ) -> Result<T, ClusterError> {
        let (status, body) = self
            .get_json_answer(
                prometheus,
                path_and_query.to_owned(),
                "Prometheus",
                MAX_ANSWER_BYTES,
                PROMETHEUS_TIMEOUT,
            )
            .await?;
        answer_data(status, &body)
    }
}

/// The `data` of an API answer, or why there is none.
fn answer_data<T: serde::de::DeserializeOwned>(
    status: http::StatusCode,
    body: &[u8],
) -> Result<T, ClusterError> {
    let answer: Answer<T> = serde_json::from_slice(body).map_err(|error| {
        let text = String::from_utf8_lossy(body);
        let start: String = text.trim().chars().take(200).collect();
        ClusterError::Upstream(format!(
            "Prometheus answered {status} with no API answer ({error}): is the address a \
             Prometheus? It began: {start:?}"
        ))
    })?;
    match (answer.status.as_str(), answer.data) {
        ("success", Some(data)) => Ok(data),
        _ => Err(ClusterError::Upstream(format!(
            "Prometheus refused: {} ({})",
            answer.error.unwrap_or_else(|| "no data".into()),
            answer.error_type.unwrap_or_else(|| status.to_string())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn a_range_answer_gives_its_series_and_points() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"instance":"analytics"},"values":[[1700000000,"1"],[1700000030,"NaN"],[1700000060,"2.5"]]}]}}"#;
        let matrix: Matrix = answer_data(StatusCode::OK, body).unwrap();
        assert_eq!(matrix.result.len(), 1);
        assert_eq!(matrix.result[0].values.len(), 3);
        assert_eq!(matrix.result[0].metric["instance"], "analytics");
    }

    #[test]
    fn an_alerts_answer_gives_state_labels_and_since() {
        let body = br#"{"status":"success","data":{"alerts":[{"labels":{"alertname":"FlinkJobRestarting","namespace":"data"},
            "annotations":{"summary":"restarting"},"state":"firing","activeAt":"2026-12-01T03:00:00.5Z","value":"3e+00"}]}}"#;
        let alerts: Alerts = answer_data(StatusCode::OK, body).unwrap();
        assert_eq!(alerts.alerts[0].state, "firing");
        assert_eq!(alerts.alerts[0].labels["alertname"], "FlinkJobRestarting");
        assert!(alerts.alerts[0].active_at.is_some());
    }

    #[test]
    fn a_refusal_or_another_server_says_why() {
        let refused =
            br#"{"status":"error","errorType":"bad_data","error":"parse error at char 4"}"#;
        let error = answer_data::<Matrix>(StatusCode::BAD_REQUEST, refused).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Prometheus refused: parse error at char 4 (bad_data)"
        );
        let other = answer_data::<Matrix>(StatusCode::OK, b"<html>Grafana</html>").unwrap_err();
        assert!(
            other.to_string().contains("is the address a Prometheus?"),
            "{other}"
        );
    }
}
