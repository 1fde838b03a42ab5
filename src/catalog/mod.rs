//! The app catalog: what dataport can install, as data. Pure: no I/O.
//!
//! Each app lives in its own file under `apps/` so that adding an app touches
//! that file and the list in [`apps`].

mod apps;
pub mod contract;
mod feedback;
pub mod health;
pub mod jobs;
pub mod libraries;
pub mod params;
pub mod quantity;
pub mod render;
pub mod schema;
pub mod workload;

use std::collections::BTreeMap;

use serde::Serialize;

pub use apps::flink::memory as flink_memory;
pub use apps::flink::versions as flink_versions;
pub use apps::flink_operator;
pub use apps::minio::{S3Location, remove_objects_job};
pub use apps::prometheus;
pub use feedback::FieldFeedback;
pub use params::{FieldErrors, Param, ParamGroup, ParamKind, ServiceAddress, Values};

/// The shelf an app sits on in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Category {
    /// Stream and batch processing engines.
    Compute,
    /// Object and file storage.
    Storage,
    /// Coordination services (leader election, configuration).
    Coordination,
    /// Table and schema metadata.
    Metadata,
    /// Relational databases.
    Database,
    /// Dashboards and metrics.
    Monitoring,
    /// Tools for developing and operating jobs.
    Development,
}

impl Category {
    /// Every category, in the order the catalog shows them.
    pub const ALL: [Category; 7] = [
        Category::Compute,
        Category::Storage,
        Category::Coordination,
        Category::Metadata,
        Category::Database,
        Category::Monitoring,
        Category::Development,
    ];

    /// The name shown to users and accepted in `?category=`.
    pub fn label(self) -> &'static str {
        match self {
            Category::Compute => "Compute",
            Category::Storage => "Storage",
            Category::Coordination => "Coordination",
            Category::Metadata => "Metadata",
            Category::Database => "Database",
            Category::Monitoring => "Monitoring",
            Category::Development => "Development",
        }
    }

    /// The category whose label is `label`, ignoring case.
    pub fn parse(label: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|category| category.label().eq_ignore_ascii_case(label))
    }
}

/// Whether an app cannot work without another app's instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    /// An instance must exist before this app can be installed.
    Required,
    /// Only some of the app's options use it.
    Optional,
}

/// One app's reliance on another app's instances.
#[derive(Debug, Clone, Serialize)]
pub struct Dependency {
    /// The `name` of the app depended on.
    pub app: &'static str,
    /// Required or optional.
    pub need: Need,
    /// What the dependency is used for, shown to users.
    pub purpose: &'static str,
}

/// An app's web interface: which Service and port serve it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct WebUi {
    /// Its name in dataport's proxy path (`/instances/{id}/ui/{name}/`),
    /// e.g. `flink-webui`.
    pub name: &'static str,
    /// What it is, e.g. `Flink WebUI`.
    pub label: &'static str,
    /// Suffix of the Service's name after the instance name (`-rest` for Flink).
    pub service_suffix: &'static str,
    /// Port of the Service.
    pub port: u16,
    /// What to know before opening it (`<name>` stands for the instance name).
    pub note: Option<&'static str>,
    /// The parameter holding a public URL template (`{{name}}`, `{{namespace}}`), if any.
    pub public_url_param: Option<&'static str>,
    /// Whether, without a public address, the render configures the app to
    /// serve under [`WebUi::proxy_path`] (its links and assets name that
    /// path), so that dataport's proxy forwards the whole path instead of
    /// the part under it.
    pub serves_proxy_path: bool,
    /// A parameter that, when the instance has it, names the Service
    /// serving this interface instead of the instance's own, as
    /// `namespace/name:port` (the cluster's Prometheus, say).
    pub service_param: Option<&'static str>,
}

/// How to reach one instance's web interface.
#[derive(Debug, Clone, Serialize)]
pub struct Access {
    /// What it is.
    pub label: &'static str,
    /// The in-cluster address.
    pub url: String,
    /// The command that makes it reachable from a workstation.
    pub port_forward: String,
    /// The address once forwarded.
    pub local_url: String,
    /// The public address (an ingress), when one is configured.
    pub public_url: Option<String>,
    /// dataport's own address for it (its authenticated proxy), absolute
    /// path ending in `/`; set by the service layer, which knows the
    /// instance's id.
    pub proxy_url: Option<String>,
    /// What to know before opening it.
    pub note: Option<String>,
}

impl WebUi {
    /// How to reach this interface of the instance `name` in `namespace`
    /// whose parameters are `params`.
    pub fn access(&self, name: &str, namespace: &str, params: &serde_json::Value) -> Access {
        let ServiceAddress {
            namespace: at,
            name: service,
            port,
        } = self.service(name, namespace, params);
        Access {
            label: self.label,
            url: format!("http://{service}.{at}.svc:{port}/"),
            port_forward: format!("kubectl -n {at} port-forward svc/{service} {port}:{port}"),
            local_url: format!("http://localhost:{port}/"),
            public_url: self.public_url(name, namespace, params),
            proxy_url: None,
            note: self.note.map(|note| note.replace("<name>", name)),
        }
    }

    /// The Service serving this interface of instance `name` in
    /// `namespace` with `params`: the one its [`WebUi::service_param`]
    /// names, else its own (`<name><suffix>` on [`WebUi::port`]).
    pub fn service(
        &self,
        name: &str,
        namespace: &str,
        params: &serde_json::Value,
    ) -> ServiceAddress {
        self.service_param
            .and_then(|key| params.get(key))
            .and_then(|value| value.as_str())
            .and_then(|raw| params::parse_service(raw).ok())
            .unwrap_or_else(|| ServiceAddress {
                namespace: namespace.to_owned(),
                name: format!("{name}{}", self.service_suffix),
                port: self.port,
            })
    }

    /// Whether the instance with `params` serves this interface under
    /// dataport's proxy path (see [`WebUi::serves_proxy_path`]).
    pub fn is_under_proxy_path(&self, params: &serde_json::Value) -> bool {
        self.serves_proxy_path && self.public_url("", "", params).is_none()
    }

    /// The public address of instance `name` in `namespace`, ending in `/`,
    /// when its parameters name one.
    fn public_url(
        &self,
        name: &str,
        namespace: &str,
        params: &serde_json::Value,
    ) -> Option<String> {
        self.public_url_param
            .and_then(|key| params.get(key))
            .and_then(|template| template.as_str())
            .filter(|template| !template.is_empty())
            .map(|template| {
                let url = template
                    .replace("{{name}}", name)
                    .replace("{{namespace}}", namespace);
                let url = web_url(&url);
                if url.ends_with('/') {
                    url
                } else {
                    format!("{url}/")
                }
            })
    }
}

impl WebUi {
    /// dataport's proxy path for this interface of instance `id`, ending in `/`.
    pub fn proxy_path(&self, id: impl std::fmt::Display) -> String {
        format!("/instances/{id}/ui/{}/", self.name)
    }
}

/// `text` as an address a link may point at: kept when it is `http(s)://`,
/// otherwise made `http://` (so that a typed `javascript:` or `data:` address
/// can never become a link that runs something).
pub fn web_url(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        text.to_owned()
    } else {
        let rest = text.split_once(':').map_or(text, |(_, rest)| rest);
        format!("http://{}", rest.trim_start_matches('/'))
    }
}

/// An app the portal can install: its identity and what it relies on.
#[derive(Debug, Clone, Serialize)]
pub struct AppDefinition {
    /// Stable identifier used in URLs and labels, e.g. `flink`.
    pub name: &'static str,
    /// Name shown to users.
    pub display_name: &'static str,
    /// A two-letter monogram standing in for a logo.
    pub icon: &'static str,
    /// Catalog shelf.
    pub category: Category,
    /// One line for the catalog card.
    pub summary: &'static str,
    /// A paragraph for the app page.
    pub description: &'static str,
    /// Versions offered, the default first.
    pub versions: &'static [&'static str],
    /// `(version, note)`: what to know before choosing a version, e.g. that
    /// its upstream line is no longer maintained. Shown next to the choice.
    pub version_notes: &'static [(&'static str, &'static str)],
    /// Other apps whose instances this one uses.
    pub dependencies: &'static [Dependency],
    /// The app's web interface, if it has one.
    pub web_ui: Option<WebUi>,
    /// Home page of the upstream project.
    pub homepage: &'static str,
    /// Titled parts of the form, in order (see [`ParamGroup`]); empty: one
    /// part, [`params::SETTINGS`].
    pub groups: &'static [ParamGroup],
    /// The install parameters, in form order.
    pub params: &'static [Param],
    /// Rules across fields (and the version) that single fields cannot check.
    #[serde(skip)]
    pub rules: fn(version: &str, values: &Values) -> FieldErrors,
    /// The namespaces the app's instances serve beyond their own, if any
    /// (the operator's watched namespaces); `None`: only its own.
    #[serde(skip)]
    pub scope: Option<NamespaceScope>,
    /// Parameters and resolved dependencies → the objects to apply.
    #[serde(skip)]
    pub render: fn(&render::RenderInput) -> Result<Vec<render::Object>, render::RenderError>,
    /// What the app's images expect of the rendered objects, checked by its tests.
    #[serde(skip)]
    pub contract: &'static contract::Contract,
}

/// Which namespaces an app's instance serves: other apps' instances there
/// may refer to it (as `namespace/name`), and it has objects there.
#[derive(Debug, Clone, Copy)]
pub struct NamespaceScope {
    /// The parameter that lists them (where errors about them go).
    pub param: &'static str,
    /// Its own namespace and parameters → the namespaces it serves.
    pub namespaces: fn(own_namespace: &str, params: &Values) -> Vec<String>,
}

/// For apps whose fields need no rule across them.
pub(crate) fn no_rules(_: &str, _: &Values) -> FieldErrors {
    FieldErrors::new()
}

impl AppDefinition {
    /// Its parameters under the form's groups, in order, as `(title, parameters)`.
    pub fn param_groups(&self) -> Vec<(&'static str, &'static [Param])> {
        params::grouped(self.params, self.groups)
    }

    /// The parameter with key `key`, if the app has one.
    pub fn param(&self, key: &str) -> Option<&'static Param> {
        self.params.iter().find(|param| param.key == key)
    }

    /// A note for field `key` holding `text`, shown next to it on the form
    /// (e.g. how Flink splits a TaskManager's memory); `None` for most fields.
    pub fn field_note(&self, key: &str, text: &str) -> Option<String> {
        apps::field_note(self.name, key, text)
    }

    /// The version an install form offers first.
    pub fn default_version(&self) -> &'static str {
        self.versions[0]
    }

    /// The namespaces an instance of this app in `own_namespace` with
    /// `params` serves: its own only, unless the app has a [`NamespaceScope`].
    pub fn served_namespaces(&self, own_namespace: &str, params: &Values) -> Vec<String> {
        match &self.scope {
            Some(scope) => (scope.namespaces)(own_namespace, params),
            None => vec![own_namespace.to_owned()],
        }
    }

    /// Whether an instance in `own_namespace` with `params` serves instances
    /// of other apps in `namespace`.
    pub fn serves_namespace(&self, own_namespace: &str, params: &Values, namespace: &str) -> bool {
        self.served_namespaces(own_namespace, params)
            .iter()
            .any(|served| served == namespace)
    }

    /// The note shown next to `version`, if it has one.
    pub fn version_note(&self, version: &str) -> Option<&'static str> {
        self.version_notes
            .iter()
            .find(|(noted, _)| *noted == version)
            .map(|(_, note)| *note)
    }

    /// Validates an install's version and raw parameters: every error at once,
    /// keyed by field (`version` for the version), or the typed values.
    pub fn validate(
        &self,
        version: &str,
        raw: &BTreeMap<String, String>,
    ) -> Result<Values, FieldErrors> {
        let mut errors = FieldErrors::new();
        if !self.versions.contains(&version) {
            errors.insert(
                "version".into(),
                format!("version must be one of {}", self.versions.join(", ")),
            );
        }
        let (values, field_errors) = params::validate(self.params, raw);
        errors.extend(field_errors);
        // Rules see the fields that are valid, so their errors come with the
        // others; a field's own error stays the one shown for it.
        let rule_errors = (self.rules)(version, &values);
        params::with_rule_errors(values, errors, rule_errors)
    }

    /// Whether `query` occurs, ignoring case, in the app's name, display name,
    /// summary or category.
    pub fn matches(&self, query: &str) -> bool {
        let query = query.trim().to_lowercase();
        query.is_empty()
            || [
                self.name,
                self.display_name,
                self.summary,
                self.category.label(),
            ]
            .iter()
            .any(|text| text.to_lowercase().contains(&query))
    }
}

/// The Grafana dashboard that shows instances of `app`, if the monitoring app
/// provisions one, as a deep link filtered to instance `name` in `namespace`.
pub fn dashboard_link(grafana: &str, app: &str, namespace: &str, name: &str) -> Option<String> {
    use apps::monitoring::{FLINK_DASHBOARD, OPERATOR_DASHBOARD, dashboard_link};
    let dashboard = match app {
        "flink" | "flink-application" => FLINK_DASHBOARD,
        "flink-kubernetes-operator" => OPERATOR_DASHBOARD,
        _ => return None,
    };
    Some(dashboard_link(grafana, dashboard, namespace, name))
}

/// The CRDs an instance of `app` with `values` needs the cluster to have
/// (an app's objects of kinds the cluster does not serve cannot be
/// applied): the form field that asked for them, their names, and what
/// installs them; `None` for most.
pub fn required_crds(app: &str, values: &Values) -> Option<RequiredCrds> {
    match app {
        prometheus::APP
            if prometheus::existing(values) == Some(prometheus::Existing::PrometheusOperator) =>
        {
            Some(RequiredCrds {
                field: "configuredBy",
                names: &prometheus::REQUIRED_CRDS,
                installed_by: "the Prometheus Operator",
            })
        }
        _ => None,
    }
}

/// CRDs an instance needs the cluster to have ([`required_crds`]).
#[derive(Debug, Clone, Copy)]
pub struct RequiredCrds {
    /// The form field whose choice needs them.
    pub field: &'static str,
    /// Their names, e.g. `podmonitors.monitoring.coreos.com`.
    pub names: &'static [&'static str],
    /// What installs them, for the message.
    pub installed_by: &'static str,
}

/// Every app in the catalog, in display order.
pub fn apps() -> &'static [AppDefinition] {
    apps::ALL
}

/// The app called `name`, if the catalog has it.
pub fn find(name: &str) -> Option<&'static AppDefinition> {
    apps().iter().find(|app| app.name == name)
}

/// The apps that depend on `name`, with how.
pub fn dependants(
    name: &str,
) -> impl Iterator<Item = (&'static AppDefinition, &'static Dependency)> {
    apps().iter().flat_map(move |app| {
        app.dependencies
            .iter()
            .filter(move |dependency| dependency.app == name)
            .map(move |dependency| (app, dependency))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_the_apps_of_the_design() {
        let names: Vec<_> = apps().iter().map(|app| app.name).collect();
        assert_eq!(
            names,
            [
                "flink",
                "flink-application",
                "flink-kubernetes-operator",
                "streampark",
                "zookeeper",
                "hdfs",
                "minio",
                "hive-metastore",
                "mysql",
                "prometheus",
                "monitoring",
            ]
        );
    }

    #[test]
    fn names_are_unique_dns_labels_and_dependencies_resolve() {
        for app in apps() {
            assert_eq!(apps().iter().filter(|a| a.name == app.name).count(), 1);
            assert!(
                app.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not a DNS label",
                app.name
            );
            assert!(!app.versions.is_empty(), "{} offers no version", app.name);
            for dependency in app.dependencies {
                assert!(
                    find(dependency.app).is_some(),
                    "{} depends on unknown app {}",
                    app.name,
                    dependency.app
                );
                assert_ne!(dependency.app, app.name, "{} depends on itself", app.name);
            }
        }
    }

    #[test]
    fn form_groups_start_at_parameters_in_form_order() {
        for app in apps() {
            let starts: Vec<usize> = app
                .groups
                .iter()
                .map(|group| {
                    app.params
                        .iter()
                        .position(|param| param.key == group.first)
                        .unwrap_or_else(|| panic!("{}: no parameter {}", app.name, group.first))
                })
                .collect();
            assert!(
                starts.windows(2).all(|pair| pair[0] < pair[1]),
                "{}: groups out of form order",
                app.name
            );
            let grouped: Vec<&str> = app
                .param_groups()
                .iter()
                .flat_map(|(_, params)| params.iter().map(|param| param.key))
                .collect();
            let all: Vec<&str> = app.params.iter().map(|param| param.key).collect();
            assert_eq!(grouped, all, "{}: every parameter once, in order", app.name);
        }
        let titles: Vec<&str> = find("flink")
            .unwrap()
            .param_groups()
            .iter()
            .map(|(title, _)| *title)
            .collect();
        assert_eq!(
            titles,
            [
                "Cluster",
                "High availability",
                "Ingress",
                "Flink on Hive",
                "Image and libraries"
            ]
        );
        let zookeeper = find("zookeeper").unwrap().param_groups();
        assert_eq!(zookeeper.len(), 1);
        assert_eq!(zookeeper[0].0, params::SETTINGS);
    }

    #[test]
    fn flink_requires_the_operator_and_offers_ha_and_hive_dependencies() {
        let flink = find("flink").expect("flink is in the catalog");
        let need = |app: &str| {
            flink
                .dependencies
                .iter()
                .find(|d| d.app == app)
                .map(|d| d.need)
        };
        assert_eq!(need("flink-kubernetes-operator"), Some(Need::Required));
        for optional in ["zookeeper", "hdfs", "minio", "hive-metastore"] {
            assert_eq!(need(optional), Some(Need::Optional), "{optional}");
        }
    }

    #[test]
    fn search_matches_names_summaries_and_categories() {
        let flink = find("flink").expect("flink is in the catalog");
        assert!(flink.matches("FLINK"));
        assert!(flink.matches("compute"));
        assert!(flink.matches(""));
        assert!(!flink.matches("postgres"));
        assert_eq!(Category::parse("storage"), Some(Category::Storage));
        assert_eq!(Category::parse("nope"), None);
    }

    #[test]
    fn every_app_installs_with_its_defaults_and_its_references_named() {
        for app in apps() {
            let raw: BTreeMap<String, String> = app
                .params
                .iter()
                .filter(|p| p.shown_when.is_empty())
                .filter_map(|p| match p.kind {
                    ParamKind::Reference { .. } => {
                        Some((p.key.to_owned(), "some-instance".to_owned()))
                    }
                    ParamKind::Uri { schemes, .. } if schemes.contains(&"local") => {
                        Some((p.key.to_owned(), "local:///opt/job.jar".to_owned()))
                    }
                    // What the stock image lacks: the metastore's JDBC driver.
                    _ if p.key == "extraLibraries"
                        && matches!(app.name, "hive-metastore" | "streampark") =>
                    {
                        Some((
                            p.key.to_owned(),
                            "https://repo.example/mysql-connector-j-8.4.0.jar".to_owned(),
                        ))
                    }
                    _ => None,
                })
                .collect();
            let values = app
                .validate(app.default_version(), &raw)
                .unwrap_or_else(|errors| panic!("{}: {errors:?}", app.name));
            assert!(!values.is_empty(), "{} has parameters", app.name);
        }
    }

    #[test]
    fn every_rendered_container_has_a_written_contract_with_sources() {
        use serde_json::json;
        for app in apps() {
            assert!(
                !app.contract.sources.is_empty(),
                "{}: cite sources",
                app.name
            );
            let raw: Vec<(&str, &str)> = app
                .params
                .iter()
                .filter(|p| p.shown_when.is_empty())
                .filter_map(|p| match p.kind {
                    ParamKind::Reference { .. } => Some((p.key, "dep")),
                    ParamKind::Uri { schemes, .. } if schemes.contains(&"local") => {
                        Some((p.key, "local:///opt/job.jar"))
                    }
                    _ if p.key == "extraLibraries"
                        && matches!(app.name, "hive-metastore" | "streampark") =>
                    {
                        Some((p.key, "https://repo.example/mysql-connector-j-8.4.0.jar"))
                    }
                    _ => None,
                })
                .collect();
            let references: Vec<(&str, render::Resolved)> = raw
                .iter()
                .filter(|(_, v)| *v == "dep")
                .map(|(k, _)| (*k, contract::testing::resolved("dep", json!({}))))
                .collect();
            let objects = contract::testing::render(app, &raw, &references);
            for object in &objects {
                let pod = match object["kind"].as_str() {
                    Some("Deployment" | "StatefulSet" | "Job") => {
                        &object["spec"]["template"]["spec"]
                    }
                    Some("FlinkDeployment") => &object["spec"]["podTemplate"]["spec"],
                    _ => continue,
                };
                for container in pod["containers"].as_array().into_iter().flatten() {
                    assert!(
                        app.contract
                            .containers
                            .iter()
                            .any(|c| c.kind == object["kind"] && container["name"] == c.container),
                        "{}: {} {} container {} has no contract",
                        app.name,
                        object["kind"],
                        object["metadata"]["name"],
                        container["name"]
                    );
                }
            }
        }
    }

    #[test]
    fn parameter_keys_are_unique_and_references_name_catalog_apps() {
        for app in apps() {
            for param in app.params {
                assert_eq!(
                    app.params.iter().filter(|p| p.key == param.key).count(),
                    1,
                    "{}.{}",
                    app.name,
                    param.key
                );
                if let ParamKind::Reference { app: other } = param.kind {
                    assert!(
                        find(other).is_some(),
                        "{}.{} refers to {other}",
                        app.name,
                        param.key
                    );
                    assert!(
                        app.dependencies.iter().any(|d| d.app == other),
                        "{}.{}: {other} is listed as a dependency",
                        app.name,
                        param.key
                    );
                }
                for (key, _) in param.shown_when {
                    assert!(
                        app.params.iter().any(|p| p.key == *key),
                        "{}.{} shown by {key}",
                        app.name,
                        param.key
                    );
                }
            }
        }
    }

    #[test]
    fn rules_across_fields_catch_what_fields_cannot() {
        let raw = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let hdfs = find("hdfs").unwrap();
        let errors = hdfs
            .validate("3.4.1", &raw(&[("datanodes", "2"), ("replication", "3")]))
            .unwrap_err();
        assert_eq!(
            errors["replication"],
            "Replication (3) cannot exceed the datanodes (2)"
        );
        let minio = find("minio").unwrap();
        let errors = minio
            .validate(
                minio.default_version(),
                &raw(&[("bucket", "No_Caps"), ("rootPassword", "short")]),
            )
            .unwrap_err();
        assert!(errors["bucket"].starts_with("Bucket must be"));
        assert!(errors["rootPassword"].contains("at least 8 characters"));
    }

    #[test]
    fn the_flink_webui_is_its_rest_service_on_8081() {
        let flink = find("flink").unwrap().web_ui.unwrap();
        let access = flink.access("analytics", "data", &serde_json::json!({}));
        assert_eq!(access.url, "http://analytics-rest.data.svc:8081/");
        assert_eq!(access.public_url, None);
        let ingress =
            serde_json::json!({"ingressTemplate": "{{name}}.{{namespace}}.flink.example.com"});
        assert_eq!(
            flink
                .access("analytics", "data", &ingress)
                .public_url
                .as_deref(),
            Some("http://analytics.data.flink.example.com/")
        );
        assert_eq!(
            access.port_forward,
            "kubectl -n data port-forward svc/analytics-rest 8081:8081"
        );
        let streampark = find("streampark").unwrap().web_ui.unwrap().access(
            "sp",
            "data",
            &serde_json::json!({}),
        );
        assert!(streampark.note.unwrap().contains("admin / streampark"));
    }

    #[test]
    fn grafana_deep_links_filter_to_the_instance() {
        assert_eq!(
            dashboard_link("https://grafana.example/", "flink", "data", "analytics").unwrap(),
            "https://grafana.example/d/dataport-flink/flink-dataport?var-namespace=data&var-cluster=analytics"
        );
        assert_eq!(dashboard_link("http://g", "mysql", "data", "db"), None);
    }

    #[test]
    fn links_only_ever_point_at_web_addresses() {
        assert_eq!(
            web_url("https://flink.example.com/"),
            "https://flink.example.com/"
        );
        assert_eq!(web_url("flink.example.com"), "http://flink.example.com");
        assert_eq!(web_url("javascript://%0aalert(1)"), "http://%0aalert(1)");
        assert_eq!(web_url("JavaScript:alert(1)"), "http://alert(1)");
        assert_eq!(web_url("data:text/html,x"), "http://text/html,x");
    }

    #[test]
    fn dependants_lists_who_uses_an_app() {
        let users: Vec<_> = dependants("mysql").map(|(app, _)| app.name).collect();
        assert_eq!(users, ["streampark", "hive-metastore"]);
    }
}
