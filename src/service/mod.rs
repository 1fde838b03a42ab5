//! The service layer: what the portal does, independent of HTML and JSON.
//!
//! It joins the pure catalog with what the store remembers and what the
//! cluster says, and hands `http` view data that both pages and the JSON API
//! serialize.

mod audit;
mod auth;
mod cache;
mod diff;
mod form;
mod install;
mod job_views;
mod jobs;
mod lifecycle;
mod monitoring;
mod pods;
mod savepoints;
mod session_upgrade;
mod sessions;
mod status;
mod update;
mod views;
mod webui;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use thiserror::Error;

use crate::catalog::{self, Category};
use crate::cluster::{Cluster, ClusterError};
use crate::store::{Store, StoreError};

pub use crate::cluster::pods::{ContainerView, LogRequest, LogText, PodView, Termination};
pub use crate::cluster::webui::{
    SwitchedConnection, UpgradeAnswer, UpstreamRequest, UpstreamResponse,
};
pub use crate::store::{ApiToken, AuditEntry, Role, User};
pub use audit::{AUDIT_PAGE_SIZE, AuditPage};
pub use auth::{MIN_PASSWORD_CHARS, TOKEN_PREFIX, check_password, check_user_name};
pub use diff::{DiffLine, LineChange, ObjectChange, ObjectDiff};
pub use form::{FieldView, INSTANCE_ID_FIELD, InstallFormView, MissingDependency, UpdateContext};
pub use install::{InstallRequest, Prepared, PreviewView};
pub use job_views::{JobFormView, JobView};
pub use lifecycle::Dependant;
pub use monitoring::{AlertView, FIGURES_WINDOW, FigureView, InstanceFigures};
pub use pods::{LOG_DOWNLOAD_BYTES, LOG_PAGE_BYTES, LOG_TAIL_LINES, LogView, PodDetail};
pub use savepoints::{
    APPLICATION_APP, DELETE_FIELD, DELETE_SAVEPOINTS_FIELD, SAVEPOINT_FIELD, START_FIELD,
    START_POINT_FIELD, SavepointSchedule, SavepointStore, SavepointsOf, SnapshotView,
    delete_refusal, readable_size,
};
pub use session_upgrade::InterruptedJob;
pub use sessions::SessionRecords;
pub use update::UpdatePlan;
pub use views::{
    AppCard, AppView, CatalogQuery, CatalogView, Check, DependencyView, FlinkLeftovers,
    GrafanaLink, InstanceSummary, InstanceView, InstancesView, LiveJob, LiveStatus, OwnedObject,
    Readiness,
};

/// Errors of the service layer.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// The catalog has no app by this name.
    #[error("no app named {0:?} in the catalog")]
    AppNotFound(String),
    /// No instance has this id.
    #[error("no instance with id {0}")]
    InstanceNotFound(uuid::Uuid),
    /// The session cluster has no (existing) job by this name.
    #[error("no job named {0:?} on this session cluster")]
    JobNotFound(String),
    /// The job has no savepoint or checkpoint by this name.
    #[error("no savepoint or checkpoint named {0:?} of this job")]
    SnapshotNotFound(String),
    /// The instance has no pod (or container, `pod/container`) by this name.
    #[error("no pod {0:?} in this instance")]
    PodNotFound(String),
    /// No user has this id.
    #[error("no user with id {0}")]
    UserNotFound(uuid::Uuid),
    /// The user has no API token with this id.
    #[error("you have no API token with id {0}")]
    TokenNotFound(uuid::Uuid),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The cluster failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The request has invalid fields: every error, by field.
    #[error("Invalid fields: {}", .0.keys().cloned().collect::<Vec<_>>().join(", "))]
    Invalid(crate::catalog::FieldErrors),
    /// Installing needs a cluster and none is configured.
    #[error("no Kubernetes cluster is configured: start the portal with --kubeconfig")]
    NoCluster,
    /// Rendering failed (a bug: validation lets through only what renders).
    #[error(transparent)]
    Render(#[from] crate::catalog::render::RenderError),
    /// The request conflicts with the instance's state (dependants, already uninstalled).
    #[error("{0}")]
    Conflict(String),
    /// An operation gave up waiting, saying for what.
    #[error("{0}")]
    Waiting(String),
    /// The user's role does not allow this.
    #[error("{0}")]
    NotAllowed(String),
    /// Encoding a preview failed.
    #[error("cannot encode: {0}")]
    Encode(String),
    /// The instance has no such web interface (or no longer any).
    #[error("{0}")]
    NoWebUi(String),
    /// An app's web interface could not be reached (down, no endpoints).
    #[error("{0}")]
    Upstream(String),
}

impl ServiceError {
    /// One field's error, as the form shows it next to the field.
    pub fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::Invalid(catalog::FieldErrors::from([(
            field.to_owned(),
            message.into(),
        )]))
    }

    /// One line for a person: field errors spelled out as `field: message; …`.
    pub fn explain(&self) -> String {
        match self {
            ServiceError::Invalid(errors) => errors
                .iter()
                .map(|(field, message)| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }
}

/// The portal's operations, shared by every request.
#[derive(Debug)]
pub struct Service {
    store: Store,
    cluster: Option<Cluster>,
    /// Views pages read most, for a second at most.
    views: cache::ViewCaches,
    /// Wakes the worker when an operation is queued.
    work: tokio::sync::Notify,
    /// Where users open Grafana, when configured.
    grafana_url: Option<String>,
    /// The watched objects, once the status sync has started.
    watches: std::sync::OnceLock<crate::cluster::watch::Watches>,
    /// Every instance whose watched objects changed, for open pages.
    changed: tokio::sync::broadcast::Sender<crate::cluster::watch::InstanceKey>,
    /// Whether this replica leads: runs the worker and writes statuses.
    leadership: tokio::sync::watch::Receiver<bool>,
    /// Recent API token lookups.
    tokens_seen: auth::TokenCache,
    /// Namespaces installs may use; any when empty.
    allowed_namespaces: Vec<String>,
}

impl Service {
    /// A service over this store and, if configured, this cluster.
    pub fn new(store: Store, cluster: Option<Cluster>) -> Service {
        Service {
            store,
            cluster,
            views: cache::ViewCaches::new(),
            work: tokio::sync::Notify::new(),
            watches: std::sync::OnceLock::new(),
            changed: tokio::sync::broadcast::channel(status::CHANGES_KEPT).0,
            grafana_url: None,
            // A lone replica always leads.
            leadership: tokio::sync::watch::channel(true).1,
            tokens_seen: auth::token_cache(),
            allowed_namespaces: Vec::new(),
        }
    }

    /// Installs only into these namespaces (any when empty).
    pub fn with_allowed_namespaces(mut self, namespaces: Vec<String>) -> Service {
        self.allowed_namespaces = namespaces
            .into_iter()
            .map(|namespace| namespace.trim().to_owned())
            .filter(|namespace| !namespace.is_empty())
            .collect();
        self
    }

    /// Why the portal cannot follow the cluster right now, if it cannot (the
    /// watches are interrupted: the API server is unreachable or refusing).
    pub fn cluster_problem(&self) -> Option<String> {
        self.watches.get()?.interrupted()
    }

    /// Whether installs may use `namespace`.
    fn namespace_allowed(&self, namespace: &str) -> bool {
        self.allowed_namespaces.is_empty() || self.allowed_namespaces.iter().any(|n| n == namespace)
    }

    /// Leads only while `leadership` says so (a Lease held, see
    /// [`crate::cluster::leader`]).
    pub fn with_leadership(mut self, leadership: tokio::sync::watch::Receiver<bool>) -> Service {
        self.leadership = leadership;
        self
    }

    /// Whether this replica runs the worker and the status sync now.
    pub fn is_leader(&self) -> bool {
        *self.leadership.borrow()
    }

    /// Resolves when leadership changes; never, when it cannot (a lone replica).
    async fn leadership_changed(&self) {
        let mut leadership = self.leadership.clone();
        if leadership.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Uses `url` as the Grafana address in dashboard links.
    pub fn with_grafana_url(mut self, url: Option<String>) -> Service {
        self.grafana_url = url;
        self
    }

    /// The dashboard link of an instance; `None` when its app has no dashboard.
    async fn grafana_link(
        &self,
        instance: &crate::store::Instance,
    ) -> Result<Option<GrafanaLink>, ServiceError> {
        if catalog::dashboard_link("", &instance.app, "", "").is_none() {
            return Ok(None);
        }
        let monitoring = self
            .store
            .instances(Some("monitoring"))
            .await?
            .into_iter()
            .filter(|m| m.status != crate::store::InstanceStatus::Uninstalled)
            .min_by_key(|m| m.namespace != instance.namespace);
        let base = match (&self.grafana_url, monitoring) {
            (Some(url), _) => catalog::web_url(url),
            (None, Some(monitoring)) => match monitoring
                .params
                .get("externalUrl")
                .and_then(|v| v.as_str())
            {
                Some(url) if !url.is_empty() => catalog::web_url(url),
                // Grafana serves under dataport's proxy path (see the
                // monitoring app's render), which a user's browser reaches.
                _ if self.cluster.is_some() => catalog::find("monitoring")
                    .and_then(|app| app.web_ui)
                    .map(|ui| ui.proxy_path(monitoring.id))
                    .unwrap_or_default()
                    .trim_end_matches('/')
                    .to_owned(),
                _ => format!(
                    "http://{}.{}.svc:3000",
                    monitoring.name, monitoring.namespace
                ),
            },
            (None, None) => return Ok(Some(GrafanaLink::NoMonitoring)),
        };
        Ok(
            catalog::dashboard_link(&base, &instance.app, &instance.namespace, &instance.name)
                .map(GrafanaLink::Dashboard),
        )
    }

    /// Instances per app that are not uninstalled, at most a second old.
    async fn instance_counts(&self) -> Result<Arc<HashMap<String, i64>>, ServiceError> {
        self.views
            .counts
            .get_or_read((), || async {
                Ok(self.store.instance_counts().await?.into_iter().collect())
            })
            .await
    }

    /// The catalog filtered by the query, with installed counts.
    pub async fn catalog(&self, query: &CatalogQuery) -> Result<CatalogView, ServiceError> {
        let counts = self.instance_counts().await?;
        let search = query.q.as_deref().unwrap_or("").trim().to_owned();
        let category = query.category.as_deref().and_then(Category::parse);
        let apps = catalog::apps()
            .iter()
            .filter(|app| category.is_none_or(|c| app.category == c) && app.matches(&search))
            .map(|app| AppCard::new(app, counts.get(app.name).copied().unwrap_or(0)))
            .collect();
        Ok(CatalogView::new(search, category, apps))
    }

    /// One app: what it is, what it needs, who needs it, its instances.
    pub async fn app(&self, name: &str) -> Result<AppView, ServiceError> {
        let app = catalog::find(name).ok_or_else(|| ServiceError::AppNotFound(name.to_owned()))?;
        let instances = self.store.instances(Some(app.name)).await?;
        Ok(AppView::new(app, &instances))
    }

    /// One page of instances matching `filter`, 50 a page.
    pub async fn instances(
        &self,
        filter: crate::store::InstanceFilter,
        page: i64,
    ) -> Result<Arc<InstancesView>, ServiceError> {
        let key = (filter.clone(), page);
        self.views
            .lists
            .get_or_read(key, || self.read_instances(filter.clone(), page))
            .await
    }

    async fn read_instances(
        &self,
        filter: crate::store::InstanceFilter,
        page: i64,
    ) -> Result<InstancesView, ServiceError> {
        const PER_PAGE: i64 = 50;
        let page = page.max(1);
        let (instances, total) = self
            .store
            .instance_page(&filter, PER_PAGE, (page - 1) * PER_PAGE)
            .await?;
        Ok(InstancesView {
            filter,
            instances: {
                let mut firing = self.firing_alerts(&instances).await?;
                instances
                    .iter()
                    .map(|instance| views::InstanceSummary {
                        alerts: firing.remove(&instance.id).unwrap_or_default(),
                        ..views::InstanceSummary::of(instance)
                    })
                    .collect()
            },
            total,
            page,
            pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
            apps: catalog::apps().iter().map(|app| app.name).collect(),
            statuses: crate::store::InstanceStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect(),
        })
    }

    /// One instance with its operations and the objects it owns.
    pub async fn instance(&self, id: uuid::Uuid) -> Result<Arc<InstanceView>, ServiceError> {
        self.views
            .instances
            .get_or_read(id, || self.read_instance(id))
            .await
    }

    async fn read_instance(&self, id: uuid::Uuid) -> Result<InstanceView, ServiceError> {
        let instance = self.instance_record(id).await?;
        let operations = self.store.operations(id).await?;
        let revision = self.store.revision(id, instance.current_revision).await?;
        let uninstalled = instance.status == crate::store::InstanceStatus::Uninstalled;
        let left_behind = if uninstalled {
            views::left_behind(&revision.objects, &instance.namespace)
        } else {
            Vec::new()
        };
        let objects = revision
            .objects
            .as_array()
            .map(|objects| {
                objects
                    .iter()
                    .map(|object| OwnedObject {
                        kind: object["kind"].as_str().unwrap_or_default().to_owned(),
                        name: object["metadata"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        removed: uninstalled,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let observed = self.observed(&instance);
        let reinstalled_as = if uninstalled {
            self.store.reinstalled_as(id).await?.map(|next| next.id)
        } else {
            None
        };
        // Events are a nicety: an unreachable cluster must not take the page down.
        let neighbours: Vec<String> = self
            .store
            .instances(None)
            .await?
            .into_iter()
            .filter(|other| other.namespace == instance.namespace && other.name != instance.name)
            .map(|other| other.name)
            .collect();
        let events = match &self.cluster {
            Some(cluster) => cluster
                .instance_events(&instance.namespace, &instance.name, &neighbours, 20)
                .await
                .map_err(|error| error.to_string()),
            None => Ok(Vec::new()),
        };
        let (parameters, has_password) = self.param_lines(&instance).await?;
        let grafana = self.grafana_link(&instance).await?;
        let jobs = self.jobs_of(&instance).await?;
        let app = catalog::find(&instance.app);
        let access = app.and_then(|app| app.web_ui).map(|ui| {
            let mut access = ui.access(&instance.name, &instance.namespace, &instance.params);
            // Reachable through dataport only when it has a cluster to dial.
            access.proxy_url = self.cluster.is_some().then(|| ui.proxy_path(instance.id));
            access
        });
        Ok(InstanceView {
            display_name: app.map_or("", |app| app.display_name),
            instance,
            operations,
            objects,
            observed,
            events,
            access,
            grafana,
            jobs,
            left_behind,
            parameters,
            has_password,
            reinstalled_as,
        })
    }

    /// An instance's parameters as its form labels them, in the form's
    /// order, leaving out secrets, fields that do not apply and empty ones;
    /// references linked to the instance they name. Also whether the app
    /// has a password field.
    async fn param_lines(
        &self,
        instance: &crate::store::Instance,
    ) -> Result<(Vec<views::ParamLine>, bool), ServiceError> {
        use crate::catalog::ParamKind;
        let Some(app) = catalog::find(&instance.app) else {
            return Ok((Vec::new(), false));
        };
        let texts = views::param_texts(&instance.params);
        let mut lines = Vec::new();
        let mut has_password = false;
        let mut params: Vec<(&'static str, &'static crate::catalog::Param)> = Vec::new();
        for (group, in_group) in app.param_groups() {
            params.extend(in_group.iter().map(|param| (group, param)));
        }
        for (group, param) in params {
            if matches!(param.kind, ParamKind::Secret { .. }) {
                has_password = true;
                continue;
            }
            let Some(text) = texts.get(param.key).filter(|text| !text.is_empty()) else {
                continue;
            };
            if !param.is_shown(&texts, app.params) {
                continue;
            }
            let (value, link) = match param.kind {
                ParamKind::Toggle => {
                    let on = matches!(text.as_str(), "true" | "on");
                    ((if on { "On" } else { "Off" }).to_owned(), None)
                }
                ParamKind::Choice { options } => (
                    options
                        .iter()
                        .find(|choice| choice.value == text)
                        .map_or_else(|| text.clone(), |choice| choice.label.to_owned()),
                    None,
                ),
                ParamKind::Reference { .. } => {
                    let (namespace, name) =
                        crate::catalog::params::reference_target(text, &instance.namespace);
                    let target = self.store.instance_named(&namespace, &name).await?;
                    (
                        text.clone(),
                        target.map(|target| format!("/instances/{}", target.id)),
                    )
                }
                _ => (text.clone(), None),
            };
            lines.push(views::ParamLine {
                group,
                label: param.label,
                value,
                link,
            });
        }
        Ok((lines, has_password))
    }

    /// An instance's status and latest operation: what its page updates live.
    pub async fn live_status(&self, id: uuid::Uuid) -> Result<LiveStatus, ServiceError> {
        let instance = self.instance_record(id).await?;
        let operation = self.store.operations(id).await?.into_iter().next();
        let jobs = self
            .jobs_of(&instance)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|job| LiveJob {
                name: job.name,
                state: job.state,
                lifecycle: job.observed.lifecycle,
                savepoint: job.observed.savepoint,
            })
            .collect();
        Ok(LiveStatus {
            status: instance.status.to_string(),
            operation,
            jobs,
            observed: self.observed(&instance),
        })
    }

    /// What the cluster's watches report of an instance's objects; nothing
    /// without a cluster or once it is uninstalled (what runs under its name
    /// then is another instance's).
    fn observed(&self, instance: &crate::store::Instance) -> Vec<catalog::health::Observed> {
        if instance.status == crate::store::InstanceStatus::Uninstalled {
            return Vec::new();
        }
        let key = crate::cluster::watch::InstanceKey {
            namespace: instance.namespace.clone(),
            name: instance.name.clone(),
        };
        self.watches
            .get()
            .map(|watches| watches.observed(&key))
            .unwrap_or_default()
    }

    /// The JSON Schema of an install request for one app.
    pub fn app_schema(&self, name: &str) -> Result<serde_json::Value, ServiceError> {
        let app = catalog::find(name).ok_or_else(|| ServiceError::AppNotFound(name.to_owned()))?;
        Ok(catalog::schema::install_schema(app))
    }

    /// Whether the database and, when one is configured, the cluster answer.
    pub async fn readiness(&self) -> Readiness {
        let database = match self.store.ping().await {
            Ok(()) => Check::ok("reachable"),
            Err(error) => Check::failed(error.to_string()),
        };
        let cluster = match &self.cluster {
            None => None,
            Some(cluster) => Some(match cluster.ping().await {
                Ok(version) => Check::ok(format!("reachable, Kubernetes {version}")),
                Err(error) => Check::failed(error.to_string()),
            }),
        };
        let watches = self
            .watches
            .get()
            .map(|watches| match watches.interrupted() {
                None => Check::ok("following Deployments, StatefulSets and FlinkDeployments"),
                Some(problem) => Check::failed(format!("interrupted: {problem}")),
            });
        Readiness::new(database, cluster, self.is_leader(), watches)
    }

    /// The counter of requests sent to the API server, if a cluster is configured.
    pub fn cluster_requests(&self) -> Option<crate::cluster::RequestCounter> {
        self.cluster
            .as_ref()
            .map(|cluster| cluster.requests().clone())
    }

    /// Closes the database pool (at shutdown).
    pub async fn close(&self) {
        self.store.close().await;
    }
}
