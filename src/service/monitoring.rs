//! An instance's numbers from Prometheus: the last hour of its key figures
//! and the alerts firing for it, read from a dataport Prometheus instance
//! that scrapes its namespace.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{Service, ServiceError};
use crate::catalog::prometheus::{self as figures, FigureUnit};
use crate::cluster::ClusterError;
use crate::cluster::prometheus::PrometheusAlert;
use crate::cluster::webui::ServiceTarget;
use crate::store::{Instance, InstanceStatus};

/// How far back the figures reach.
pub const FIGURES_WINDOW: Duration = Duration::from_secs(3600);

/// Seconds between two points of a figure: 120 points over the hour.
const FIGURES_STEP: Duration = Duration::from_secs(30);

/// An instance's numbers, as its page shows them.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceFigures {
    /// The Prometheus instance they come from: `(id, namespace/name)`.
    pub prometheus: (Uuid, String),
    /// The alerts for the instance, firing ones first.
    pub alerts: Vec<AlertView>,
    /// The key figures over [`FIGURES_WINDOW`].
    pub figures: Vec<FigureView>,
    /// Why the figures could not be read, when Prometheus did not answer.
    pub problem: Option<String>,
}

/// One key figure over the last hour.
#[derive(Debug, Clone, Serialize)]
pub struct FigureView {
    /// Stable key, e.g. `running_jobs`.
    pub key: &'static str,
    /// What it is called.
    pub label: &'static str,
    /// How its values read.
    pub unit: FigureUnit,
    /// Its points, `(unix seconds, value)`, oldest first; empty when
    /// Prometheus has no sample of it in the window.
    pub points: Vec<(f64, f64)>,
}

impl FigureView {
    /// The newest value, if any.
    pub fn latest(&self) -> Option<f64> {
        self.points.last().map(|&(_, value)| value)
    }
}

/// An alert Prometheus evaluates for the instance.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    /// Its rule's name (`alertname`).
    pub name: String,
    /// `firing` or `pending` (its condition holds, not yet for its `for:`).
    pub state: String,
    /// Its `severity` label, if any.
    pub severity: Option<String>,
    /// Its `summary` annotation, else its `description`.
    pub summary: Option<String>,
    /// Since when its condition has held.
    pub since: Option<DateTime<Utc>>,
    /// The Flink job it is about (its `job_id` label), as Flink names it
    /// (`job_name`, where `_` stands for other characters).
    pub flink_job: Option<(String, String)>,
    /// That job's name in dataport (a session job of the instance), when
    /// it is one: several jobs of one jar share Flink's name.
    pub job: Option<String>,
}

impl AlertView {
    fn from_prometheus(alert: PrometheusAlert) -> AlertView {
        let mut annotations = alert.annotations;
        let mut labels = alert.labels;
        AlertView {
            name: labels.remove("alertname").unwrap_or_default(),
            state: alert.state,
            severity: labels.remove("severity"),
            summary: annotations
                .remove("summary")
                .or_else(|| annotations.remove("description")),
            since: alert.active_at,
            flink_job: labels.remove("job_id").map(|id| {
                let name = labels.remove("job_name").unwrap_or_default();
                (id, name)
            }),
            job: None,
        }
    }

    /// Whether it fires (rather than waits for its `for:`).
    pub fn is_firing(&self) -> bool {
        self.state == "firing"
    }
}

impl Service {
    /// The numbers of instance `id`: `None` when its app has no key figures,
    /// it is uninstalled, or no dataport Prometheus scrapes its namespace.
    /// A Prometheus that does not answer is not an error: the figures say
    /// why in [`InstanceFigures::problem`]. Errors:
    /// [`ServiceError::InstanceNotFound`], [`ServiceError::NoCluster`], the store's.
    pub async fn instance_figures(
        &self,
        id: Uuid,
    ) -> Result<Option<InstanceFigures>, ServiceError> {
        let instance = self.instance_record(id).await?;
        let wanted = figures::key_figures(&instance.app);
        if wanted.is_empty() || instance.status == InstanceStatus::Uninstalled {
            return Ok(None);
        }
        let cluster = self.cluster.as_ref().ok_or(ServiceError::NoCluster)?;
        let Some(prometheus) = self.prometheus_of(&instance).await? else {
            return Ok(None);
        };
        let target = target_of(&prometheus);
        let end = Utc::now();
        // Not before it was installed: a name installed again would show
        // the series of the cluster that had it before.
        let start = (end - chrono::Duration::seconds(FIGURES_WINDOW.as_secs() as i64))
            .max(instance.created_at);
        let queries: Vec<String> = wanted
            .iter()
            .map(|figure| figure.query(&instance.namespace, &instance.name))
            .collect();
        let ranges = futures::future::join_all(
            queries
                .iter()
                .map(|query| cluster.prometheus_range(&target, query, (start, end), FIGURES_STEP)),
        );
        let (ranges, alerts) = futures::join!(ranges, self.alerts_of(&prometheus));
        let mut problem = None;
        let mut noted = |error: String| {
            problem.get_or_insert(error);
        };
        let figures = wanted
            .iter()
            .zip(ranges)
            .map(|(figure, series)| FigureView {
                key: figure.key,
                label: figure.label,
                unit: figure.unit,
                // Each query sums or maximises to one series.
                points: series
                    .map_err(|error| noted(error.to_string()))
                    .ok()
                    .and_then(|series| series.into_iter().next())
                    // Flink writes -1 for a value it has none of yet (the
                    // last checkpoint's duration before the first one).
                    .map(|series| {
                        series
                            .points
                            .into_iter()
                            .filter(|&(_, v)| v >= 0.0)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let mut alerts: Vec<AlertView> = match alerts.as_ref() {
            Ok(alerts) => alerts
                .iter()
                .filter(|alert| is_about(alert, &instance) && !predates(alert, &instance))
                .cloned()
                .map(AlertView::from_prometheus)
                .collect(),
            Err(error) => {
                noted(error.clone());
                Vec::new()
            }
        };
        // Name each job alert's job as the user named it.
        let jobs = self.jobs_of(&instance).await?.unwrap_or_default();
        for alert in &mut alerts {
            alert.job = alert.flink_job.as_ref().and_then(|(id, _)| {
                jobs.iter()
                    .find(|job| job.observed.job_id.as_ref() == Some(id))
                    .map(|job| job.name.clone())
            });
        }
        alerts.sort_by_key(|alert| (!alert.is_firing(), alert.since));
        Ok(Some(InstanceFigures {
            prometheus: (prometheus.id, prometheus.target()),
            alerts,
            figures,
            problem,
        }))
    }

    /// The names of the alerts firing for each of `instances` that has
    /// key figures, by instance id; instances without any are left out. A
    /// Prometheus that does not answer leaves its instances out (their
    /// pages say why).
    pub(super) async fn firing_alerts(
        &self,
        instances: &[Instance],
    ) -> Result<HashMap<Uuid, Vec<String>>, ServiceError> {
        let watched: Vec<&Instance> = instances
            .iter()
            .filter(|i| {
                !figures::key_figures(&i.app).is_empty() && i.status != InstanceStatus::Uninstalled
            })
            .collect();
        if watched.is_empty() || self.cluster.is_none() {
            return Ok(HashMap::new());
        }
        let servers = self.prometheus_instances().await?;
        let mut firing = HashMap::new();
        for instance in watched {
            let Some(prometheus) = serving(&servers, instance) else {
                continue;
            };
            if let Ok(alerts) = self.alerts_of(prometheus).await.as_ref() {
                let names: Vec<String> = alerts
                    .iter()
                    .filter(|alert| {
                        alert.state == "firing"
                            && is_about(alert, instance)
                            && !predates(alert, instance)
                    })
                    .filter_map(|alert| alert.labels.get("alertname").cloned())
                    .collect();
                if !names.is_empty() {
                    firing.insert(instance.id, names);
                }
            }
        }
        Ok(firing)
    }

    /// The alerts `prometheus` evaluates, or why it gave none; asked at
    /// most every 15 s however many pages ask.
    async fn alerts_of(&self, prometheus: &Instance) -> Arc<Result<Vec<PrometheusAlert>, String>> {
        let Some(cluster) = self.cluster.as_ref() else {
            return Arc::new(Err(ServiceError::NoCluster.to_string()));
        };
        let target = target_of(prometheus);
        let read = || async {
            Ok(cluster
                .prometheus_alerts(&target)
                .await
                .map_err(|error: ClusterError| error.to_string()))
        };
        self.views
            .alerts
            .get_or_read(prometheus.id, read)
            .await
            .unwrap_or_else(|error| Arc::new(Err(error.to_string())))
    }

    /// The dataport Prometheus scraping `instance`'s namespace, preferring
    /// one in that namespace, then the oldest.
    async fn prometheus_of(&self, instance: &Instance) -> Result<Option<Instance>, ServiceError> {
        let servers = self.prometheus_instances().await?;
        Ok(serving(&servers, instance).cloned())
    }

    /// The Prometheus instances that are installed, oldest first.
    async fn prometheus_instances(&self) -> Result<Vec<Instance>, ServiceError> {
        let mut servers: Vec<Instance> = self
            .store
            .instances(Some(figures::APP))
            .await?
            .into_iter()
            .filter(|prometheus| {
                !matches!(
                    prometheus.status,
                    InstanceStatus::Uninstalled | InstanceStatus::Uninstalling
                )
            })
            .collect();
        servers.sort_by_key(|p| p.created_at);
        Ok(servers)
    }
}

/// The Prometheus of `servers` scraping `instance`'s namespace, preferring
/// one in that namespace (`servers` oldest first).
fn serving<'a>(servers: &'a [Instance], instance: &Instance) -> Option<&'a Instance> {
    let watching = |prometheus: &&Instance| {
        prometheus.params.as_object().is_some_and(|params| {
            let values = params.clone().into_iter().collect();
            figures::watches(&prometheus.namespace, &values, &instance.namespace)
        })
    };
    servers
        .iter()
        .filter(watching)
        .min_by_key(|p| p.namespace != instance.namespace)
}

/// Where `prometheus`'s HTTP API is: its own Service's port, or the
/// Service of the cluster's Prometheus its form names.
fn target_of(prometheus: &Instance) -> ServiceTarget {
    let served =
        figures::WEB_UI.service(&prometheus.name, &prometheus.namespace, &prometheus.params);
    ServiceTarget {
        namespace: served.namespace,
        service: served.name,
        port: served.port,
    }
}

/// Whether `alert` is about `instance` (its `namespace` and `instance` labels).
fn is_about(alert: &PrometheusAlert, instance: &Instance) -> bool {
    figures::is_about(
        alert.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &instance.namespace,
        &instance.name,
    )
}

/// Whether `alert` became active before `instance` was installed: it is
/// about an earlier cluster of the same name (uninstalled, its series still
/// in Prometheus), not this one.
fn predates(alert: &PrometheusAlert, instance: &Instance) -> bool {
    alert.active_at.is_some_and(|at| at < instance.created_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_older_than_the_instance_is_about_an_earlier_cluster_of_its_name() {
        let installed = Utc::now();
        let instance = Instance {
            id: Uuid::new_v4(),
            app: "flink".into(),
            name: "analytics".into(),
            namespace: "data".into(),
            version: "1.20".into(),
            status: InstanceStatus::Running,
            params: serde_json::json!({}),
            current_revision: 1,
            created_at: installed,
            updated_at: installed,
            previous_id: None,
        };
        let alert = |active: DateTime<Utc>| PrometheusAlert {
            labels: [("namespace", "data"), ("flink_cluster", "analytics")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            annotations: Default::default(),
            state: "firing".into(),
            active_at: Some(active),
        };
        let earlier = alert(installed - chrono::Duration::minutes(5));
        let later = alert(installed + chrono::Duration::seconds(30));
        assert!(is_about(&earlier, &instance) && predates(&earlier, &instance));
        assert!(is_about(&later, &instance) && !predates(&later, &instance));
    }
}
