//! View data: what pages render and the JSON API returns, from one struct each.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::{self, AppDefinition, Category, Need};
use crate::store::Instance;

/// The catalog's search box and category filter (`?q=...&category=...`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CatalogQuery {
    /// Words to look for.
    pub q: Option<String>,
    /// A category label; unknown labels show every category.
    pub category: Option<String>,
}

/// The catalog page.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogView {
    /// The search as typed.
    pub query: String,
    /// The category filtered on, if any.
    pub category: Option<Category>,
    /// Every category, for the filter.
    pub categories: Vec<Category>,
    /// The apps that match.
    pub apps: Vec<AppCard>,
}

impl CatalogView {
    pub(super) fn new(query: String, category: Option<Category>, apps: Vec<AppCard>) -> Self {
        CatalogView {
            query,
            category,
            categories: Category::ALL.to_vec(),
            apps,
        }
    }

    /// Whether `category` is the one filtered on (for the filter's `selected`).
    pub fn is_selected(&self, category: &Category) -> bool {
        self.category == Some(*category)
    }
}

/// One card of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct AppCard {
    /// App name, as in URLs.
    pub name: &'static str,
    /// Name shown.
    pub display_name: &'static str,
    /// Two-letter monogram.
    pub icon: &'static str,
    /// Shelf.
    pub category: Category,
    /// One line.
    pub summary: &'static str,
    /// Versions offered, default first.
    pub versions: &'static [&'static str],
    /// Instances that are not uninstalled.
    pub installed: i64,
    /// Apps that must have an instance first.
    pub requires: Vec<&'static str>,
}

impl AppCard {
    pub(super) fn new(app: &'static AppDefinition, installed: i64) -> Self {
        AppCard {
            name: app.name,
            display_name: app.display_name,
            icon: app.icon,
            category: app.category,
            summary: app.summary,
            versions: app.versions,
            installed,
            requires: app
                .dependencies
                .iter()
                .filter(|dependency| dependency.need == Need::Required)
                .map(|dependency| dependency.app)
                .collect(),
        }
    }
}

/// A dependency, or a dependant, as the app page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct DependencyView {
    /// The other app's name.
    pub app: &'static str,
    /// The other app's display name.
    pub display_name: &'static str,
    /// Required or optional.
    pub need: Need,
    /// What for.
    pub purpose: &'static str,
}

/// An instance as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceSummary {
    /// Instance id.
    pub id: Uuid,
    /// Catalog app name.
    pub app: String,
    /// Kubernetes name.
    pub name: String,
    /// Kubernetes namespace.
    pub namespace: String,
    /// Version installed.
    pub version: String,
    /// Status word.
    pub status: String,
    /// The alerts firing for it in the Prometheus that scrapes it, by name.
    pub alerts: Vec<String>,
}

/// The app page.
#[derive(Debug, Clone, Serialize)]
pub struct AppView {
    /// The app's definition.
    pub app: &'static AppDefinition,
    /// What it needs.
    pub dependencies: Vec<DependencyView>,
    /// Which apps use it.
    pub used_by: Vec<DependencyView>,
    /// Its instances.
    pub instances: Vec<InstanceSummary>,
}

impl AppView {
    pub(super) fn new(app: &'static AppDefinition, instances: &[Instance]) -> Self {
        let view = |name: &'static str, need: Need, purpose: &'static str| DependencyView {
            app: name,
            display_name: catalog::find(name).map_or(name, |other| other.display_name),
            need,
            purpose,
        };
        AppView {
            app,
            dependencies: app
                .dependencies
                .iter()
                .map(|d| view(d.app, d.need, d.purpose))
                .collect(),
            used_by: catalog::dependants(app.name)
                .map(|(user, d)| view(user.name, d.need, d.purpose))
                .collect(),
            instances: instances.iter().map(InstanceSummary::of).collect(),
        }
    }
}

/// The result of one readiness check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Whether it passed.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

impl Check {
    pub(super) fn ok(detail: impl Into<String>) -> Self {
        Check {
            ok: true,
            detail: detail.into(),
        }
    }

    pub(super) fn failed(detail: impl Into<String>) -> Self {
        Check {
            ok: false,
            detail: detail.into(),
        }
    }
}

/// What `/readyz` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    /// Ready when every check passed.
    pub ready: bool,
    /// The database check.
    pub database: Check,
    /// The cluster check; `None` when no cluster is configured.
    pub cluster: Option<Check>,
    /// Whether this replica leads (runs the worker and the status sync).
    pub leader: bool,
    /// Whether the watches follow the cluster; `None` before they start or
    /// without a cluster. Informational: an interruption shows as a banner
    /// and does not make the portal unready.
    pub watches: Option<Check>,
}

impl Readiness {
    pub(super) fn new(
        database: Check,
        cluster: Option<Check>,
        leader: bool,
        watches: Option<Check>,
    ) -> Self {
        let ready = database.ok && cluster.as_ref().is_none_or(|check| check.ok);
        Readiness {
            ready,
            database,
            cluster,
            leader,
            watches,
        }
    }
}

/// An object an instance owns, as its page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct OwnedObject {
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Deleted by the instance's uninstall: no longer in the cluster.
    pub removed: bool,
}

/// The instance page.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceView {
    /// The instance record.
    pub instance: crate::store::Instance,
    /// Its app's display name.
    pub display_name: &'static str,
    /// Its operations, newest first.
    pub operations: Vec<crate::store::Operation>,
    /// The objects of its current revision.
    pub objects: Vec<OwnedObject>,
    /// What the watches report of its workloads (empty without a cluster).
    pub observed: Vec<crate::catalog::health::Observed>,
    /// Recent Kubernetes events of its objects, or why they could not be read.
    pub events: Result<Vec<crate::cluster::events::EventView>, String>,
    /// How to reach its web interface, if its app has one.
    pub access: Option<crate::catalog::Access>,
    /// Its Grafana dashboard; `None` for apps without one.
    pub grafana: Option<GrafanaLink>,
    /// For a Flink session cluster, the jobs it runs; `None` for other apps.
    pub jobs: Option<Vec<super::JobView>>,
    /// Once uninstalled, what its teardown leaves in the cluster, one
    /// sentence each; empty before.
    pub left_behind: Vec<String>,
    /// Its parameters as the form shows them: labels, the form's order,
    /// only those that apply and are set, references linked.
    pub parameters: Vec<ParamLine>,
    /// Whether its app has a password field (kept in a Secret, never shown).
    pub has_password: bool,
    /// Once uninstalled, the instance installed again under its name, if
    /// any (the new one's `previous_id` is this one).
    pub reinstalled_as: Option<uuid::Uuid>,
}

/// What a Flink cluster keeps outside its own objects, as its uninstall
/// page says it.
#[derive(Debug, Clone, Serialize)]
pub struct FlinkLeftovers {
    /// The label selector of Flink's Kubernetes HA ConfigMaps, which the
    /// uninstall deletes once the cluster is gone.
    pub ha_config_maps: String,
    /// With ZooKeeper HA, the ZooKeeper node of its HA data: the catalog's
    /// `high-availability.zookeeper.path.root` (`/flink/<namespace>/<name>`)
    /// and the HA cluster id, which the operator sets to the name
    /// (Flink's `ZooKeeperUtils.generateZookeeperPath`). The operator deletes
    /// it with the cluster (`AbstractFlinkService.deleteHAData`, release-1.15.0).
    pub zookeeper_path: Option<String>,
    /// Where its checkpoints and savepoints go (`s3`, `hdfs`), with HA: kept.
    pub storage: Option<String>,
    /// Its savepoint directory as its FlinkDeployment names it (e.g.
    /// `s3://flink/streaming/flink-main/savepoints`), when it could be read:
    /// kept. Filled by [`super::Service::uninstall_leftovers`].
    pub savepoint_dir: Option<String>,
    /// The MinIO instance holding the savepoint directory, when the uninstall
    /// can delete it ([`super::Service::savepoint_store`]). Filled by
    /// [`super::Service::uninstall_leftovers`].
    pub deletable_on: Option<String>,
}

impl InstanceView {
    /// For a Flink cluster, what it keeps outside its objects; `None` for
    /// other apps.
    pub fn flink_leftovers(&self) -> Option<FlinkLeftovers> {
        let instance = &self.instance;
        if !matches!(instance.app.as_str(), "flink" | "flink-application") {
            return None;
        }
        let params = &instance.params;
        let ha = params["highAvailability"] == serde_json::Value::Bool(true);
        Some(FlinkLeftovers {
            ha_config_maps: crate::cluster::flink_ha_selector(&instance.name),
            zookeeper_path: (ha && params["haType"] == "zookeeper").then(|| {
                let (namespace, name) = (&instance.namespace, &instance.name);
                format!("/flink/{namespace}/{name}/{name}")
            }),
            storage: ha
                .then(|| params["storage"].as_str().map(str::to_owned))
                .flatten(),
            savepoint_dir: None,
            deletable_on: None,
        })
    }
}

/// One parameter of an instance, as its page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ParamLine {
    /// The title of the form's group it is in, e.g. "High availability".
    pub group: &'static str,
    /// The form's label, e.g. "JobManager memory".
    pub label: &'static str,
    /// The value as the form offers it (a choice's label, On or Off).
    pub value: String,
    /// For a reference, the page of the instance it names, when it exists.
    pub link: Option<String>,
}

/// Where an instance's Grafana dashboard is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrafanaLink {
    /// The deep link, filtered to the instance.
    Dashboard(String),
    /// No monitoring instance serves dashboards yet.
    NoMonitoring,
}

impl InstanceView {
    /// Its parameters under the form's groups, in order, as `(title,
    /// lines)`; groups with nothing to show are left out.
    pub fn parameter_groups(&self) -> Vec<(&'static str, Vec<&ParamLine>)> {
        let mut groups: Vec<(&'static str, Vec<&ParamLine>)> = Vec::new();
        for line in &self.parameters {
            match groups.last_mut() {
                Some((title, lines)) if *title == line.group => lines.push(line),
                _ => groups.push((line.group, vec![line])),
            }
        }
        groups
    }

    /// Whether an operation is still pending or running (the page refreshes).
    pub fn is_busy(&self) -> bool {
        use crate::store::OperationState;
        self.operations
            .iter()
            .any(|op| matches!(op.state, OperationState::Pending | OperationState::Running))
    }

    /// Whether it is uninstalled or being uninstalled: nothing to open, roll back or restart.
    pub fn is_gone(&self) -> bool {
        use crate::store::InstanceStatus;
        matches!(
            self.instance.status,
            InstanceStatus::Uninstalled | InstanceStatus::Uninstalling
        )
    }

    /// The parameters as `key = value` lines, in key order.
    pub fn params(&self) -> Vec<(String, String)> {
        param_texts(&self.instance.params).into_iter().collect()
    }
}

/// What an uninstall leaves of `objects` (a revision's rendered objects),
/// in `namespace`: the PersistentVolumeClaims of its StatefulSets (the
/// StatefulSet controller never deletes them under the default
/// `persistentVolumeClaimRetentionPolicy` Retain, Kubernetes
/// apps/v1 StatefulSetSpec) and the namespace itself. Its Secrets, if it
/// had any, carry its labels and went with its other objects.
pub(super) fn left_behind(objects: &serde_json::Value, namespace: &str) -> Vec<String> {
    let mut left = Vec::new();
    for object in objects.as_array().into_iter().flatten() {
        if object["kind"] != "StatefulSet" {
            continue;
        }
        let set = object["metadata"]["name"].as_str().unwrap_or_default();
        let replicas = object["spec"]["replicas"].as_i64().unwrap_or(1);
        let retention = object["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"]
            .as_str()
            .unwrap_or("Retain");
        if retention != "Retain" {
            continue;
        }
        for template in object["spec"]["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let claim = template["metadata"]["name"].as_str().unwrap_or_default();
            let names: Vec<String> = (0..replicas)
                .map(|ordinal| format!("{claim}-{set}-{ordinal}"))
                .collect();
            left.push(format!(
                "PersistentVolumeClaims {} (the data of StatefulSet {set}) are kept: \
                 delete them with kubectl -n {namespace} delete pvc {} when the data is \
                 no longer needed.",
                names.join(", "),
                names.join(" ")
            ));
        }
    }
    let had_secrets = objects
        .as_array()
        .into_iter()
        .flatten()
        .any(|object| object["kind"] == "Secret");
    left.push(if had_secrets {
        format!(
            "Its Secrets (passwords) were deleted with its other objects; the namespace \
             {namespace} stays."
        )
    } else {
        format!("The namespace {namespace} stays.")
    });
    left
}

/// Stored parameters (a JSON object) as the text a form sends: strings as
/// they are, numbers and booleans written out.
pub(super) fn param_texts(
    params: &serde_json::Value,
) -> std::collections::BTreeMap<String, String> {
    match params {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(key, value)| {
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                (key.clone(), text)
            })
            .collect(),
        _ => std::collections::BTreeMap::new(),
    }
}

/// The `/instances` list: one page of instances matching the filters.
#[derive(Debug, Clone, Serialize)]
pub struct InstancesView {
    /// The filters as given.
    pub filter: crate::store::InstanceFilter,
    /// The instances on this page.
    pub instances: Vec<InstanceSummary>,
    /// How many match in all.
    pub total: i64,
    /// This page, from 1.
    pub page: i64,
    /// How many pages.
    pub pages: i64,
    /// Every app name, for the filter.
    pub apps: Vec<&'static str>,
    /// Every status word, for the filter.
    pub statuses: Vec<&'static str>,
}

impl InstancesView {
    /// The query string of another page with the same filters.
    pub fn page_query(&self, page: i64) -> String {
        let filter = &self.filter;
        let pairs = [
            ("app", filter.app.as_str()),
            ("namespace", filter.namespace.as_str()),
            ("status", filter.status.as_str()),
        ];
        let mut query: String = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| format!("{key}={}&", url_escape(value)))
            .collect();
        query.push_str(&format!("page={page}"));
        query
    }
}

/// Percent-escapes a query value (filter values are DNS labels and status
/// words, but a hand-typed URL may hold anything).
fn url_escape(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl InstanceSummary {
    pub(super) fn of(instance: &Instance) -> Self {
        InstanceSummary {
            id: instance.id,
            app: instance.app.clone(),
            name: instance.name.clone(),
            namespace: instance.namespace.clone(),
            version: instance.version.clone(),
            status: instance.status.to_string(),
            alerts: Vec::new(),
        }
    }
}

/// What an instance page follows live.
#[derive(Debug, Clone, Serialize)]
pub struct LiveStatus {
    /// The instance's status word.
    pub status: String,
    /// Its latest operation.
    pub operation: Option<crate::store::Operation>,
    /// Its session jobs: name, state and last savepoint.
    pub jobs: Vec<LiveJob>,
    /// What the cluster reports of its objects (the page renders them).
    #[serde(skip)]
    pub observed: Vec<crate::catalog::health::Observed>,
}

/// A session job's state, as an instance page follows it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveJob {
    /// The job's name.
    pub name: String,
    /// Flink's job state in a word.
    pub state: String,
    /// The operator's lifecycle state of the job, once reconciled.
    pub lifecycle: Option<String>,
    /// The last savepoint the operator reports.
    pub savepoint: Option<String>,
}
