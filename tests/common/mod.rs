//! Helpers shared by the integration tests: real databases, a portal on a
//! loopback port, and the real Kubernetes control plane.
#![allow(dead_code)] // each test binary uses its own part of these helpers

pub mod application;
pub mod browser;
pub mod cluster;
pub mod flink;
pub mod operator;
pub mod postgres;
pub mod process;
pub mod prometheus;
pub mod render;
pub mod s3;
pub mod savepoints;
pub mod session;
pub mod upstream;

use std::sync::Arc;

use serde_json::json;

use dataport::cluster::Cluster;
use dataport::http::{AppState, Layout, router};
use dataport::service::{Role, Service};
use dataport::store::Store;
use sqlx::Connection;

/// Runs each named `async fn(Backend)` as two tests: `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! on_both_databases {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $test() { super::$test(super::Backend::Sqlite).await })+
        }
        mod postgres {
            $(#[tokio::test] async fn $test() { super::$test(super::Backend::Postgres).await })+
        }
    };
}

/// Which database a store test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// A SQLite file in a fresh temporary folder.
    Sqlite,
    /// A fresh database on the Postgres server named by `DATAPORT_TEST_POSTGRES_URL`.
    Postgres,
}

/// The variable naming the Postgres server the tests use.
pub const POSTGRES_ENV: &str = "DATAPORT_TEST_POSTGRES_URL";

/// A database of its own for one test.
pub struct TestDatabase {
    /// URL the portal connects with.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A new, empty database on `backend`.
    pub async fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = format!("sqlite://{}", dir.path().join("dataport.db").display());
                TestDatabase {
                    url,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin_url = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
                    panic!(
                        "{POSTGRES_ENV} is not set: the store tests need a real Postgres server; \
                         `scripts/test.sh` starts a throwaway one"
                    )
                });
                let name = format!("dataport_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach Postgres at {admin_url}: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("Postgres URL");
                url.set_path(&name);
                TestDatabase {
                    url: url.to_string(),
                    _dir: None,
                }
            }
        }
    }

    /// A store on this database, migrated.
    pub async fn store(&self) -> Store {
        Store::connect(&self.url).await.expect("store connects")
    }
}

/// The first admin every test portal has.
pub const ADMIN: &str = "admin";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin password for tests";

/// Adds user `name` with `role` and `password`, and an API token for them, to
/// the database at `url` (before or beside a running portal); returns the token.
pub async fn add_user_with_token(url: &str, name: &str, password: &str, role: Role) -> String {
    let service = Service::new(Store::connect(url).await.expect("store"), None);
    user_with_token(&service, name, password, role).await
}

async fn user_with_token(service: &Service, name: &str, password: &str, role: Role) -> String {
    let user = service
        .add_user("tests", name, password, role)
        .await
        .expect("add user");
    service.create_token(&user, "tests").await.expect("token").1
}

/// The body of a GET of `url` by `client` (e.g. a page as one user sees it),
/// whatever its status.
pub async fn text_of(client: &reqwest::Client, url: &str) -> String {
    client
        .get(url)
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("body")
}

/// A client that sends `token` as its Bearer token on every request.
pub fn client_with_token(token: &str, follow_redirects: bool) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header value"),
    );
    let mut builder = reqwest::Client::builder().default_headers(headers);
    if !follow_redirects {
        builder = builder.redirect(reqwest::redirect::Policy::none());
    }
    builder.build().expect("client")
}

/// A portal served on a free loopback port for the length of a test.
pub struct Portal {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client for it, signed in as the admin with an API token.
    pub http: reqwest::Client,
    /// The admin's API token.
    pub token: String,
}

impl Portal {
    /// A portal served elsewhere (another process), used with `token`.
    pub fn at(base: String, token: &str) -> Portal {
        Portal {
            base,
            http: client_with_token(token, true),
            token: token.to_owned(),
        }
    }

    /// Adds a user with `role` and returns a client holding their API token.
    pub async fn client_as(&self, database_url: &str, name: &str, role: Role) -> reqwest::Client {
        let token = add_user_with_token(database_url, name, ADMIN_PASSWORD, role).await;
        client_with_token(&token, false)
    }

    /// Serves a portal over `store` (and `cluster`, if any) in this runtime.
    pub async fn start(store: Store, cluster: Option<Cluster>, layout: Layout) -> Portal {
        Portal::start_service(Service::new(store, cluster), layout).await
    }

    /// Serves a portal over `service` in this runtime.
    pub async fn start_service(service: Service, layout: Layout) -> Portal {
        let token = user_with_token(&service, ADMIN, ADMIN_PASSWORD, Role::Admin).await;
        let service = Arc::new(service);
        // The worker and the status sync run for the life of the test's runtime, as in `serve`.
        let _ = service.spawn_worker();
        let _ = service.spawn_status_sync();
        let app = router(AppState::new(service, layout));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Portal::at(base, &token)
    }

    /// Serves a portal on a fresh SQLite database and the shared test control
    /// plane, with a new namespace named after `prefix` for the test.
    pub async fn on_test_cluster(prefix: &str) -> (Portal, TestDatabase, String) {
        Portal::on_test_cluster_with(prefix, Layout::default()).await
    }

    /// [`Portal::on_test_cluster`] with its pages framed by `layout`.
    pub async fn on_test_cluster_with(
        prefix: &str,
        layout: Layout,
    ) -> (Portal, TestDatabase, String) {
        let cluster = cluster::shared();
        let namespace = cluster.namespace(prefix).await;
        let database = TestDatabase::new(Backend::Sqlite).await;
        let portal = Portal::start(
            database.store().await,
            Some(cluster.cluster().await),
            layout,
        )
        .await;
        (portal, database, namespace)
    }

    /// A portal on the control plane whose node runs Flink for real
    /// ([`cluster::real_flink`]), and a fresh namespace on it; its pages
    /// say so, as `dataport serve --local-cluster real-flink` does.
    pub async fn on_real_flink_cluster(prefix: &str) -> (Portal, TestDatabase, String) {
        let cluster = cluster::real_flink();
        let namespace = cluster.namespace(prefix).await;
        let database = TestDatabase::new(Backend::Sqlite).await;
        let layout = Layout {
            local_cluster: true,
            real_flink: true,
            ..Layout::default()
        };
        let portal = Portal::start(
            database.store().await,
            Some(cluster.cluster().await),
            layout,
        )
        .await;
        (portal, database, namespace)
    }

    /// Serves a portal on a fresh SQLite database, without a cluster.
    pub async fn on_sqlite() -> (Portal, TestDatabase) {
        let database = TestDatabase::new(Backend::Sqlite).await;
        let portal = Portal::start(database.store().await, None, Layout::default()).await;
        (portal, database)
    }

    /// GET `path`; returns the status and the body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// POST a JSON body to `path`; returns the status and the JSON answer.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path} answered non-JSON ({e}): {text}"));
        (status, json)
    }

    /// POST form fields to `path` without following redirects; returns the
    /// status, the Location header and the body.
    pub async fn post_form(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (u16, Option<String>, String) {
        let response = client_with_token(&self.token, false)
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, location, response.text().await.expect("body"))
    }

    /// Installs through the JSON API and waits until the install operation
    /// has ended; returns the instance's JSON.
    pub async fn install(&self, body: serde_json::Value) -> serde_json::Value {
        let (status, created) = self.post_json("/api/v1/instances", &body).await;
        assert_eq!(status, 201, "install {body}: {created}");
        let id = created["id"].as_str().expect("id").to_owned();
        self.wait_for_instance(&id, "installed", |instance| {
            matches!(
                instance["operations"][0]["state"].as_str(),
                Some("succeeded" | "failed")
            )
        })
        .await
    }

    /// Updates instance `id` from `revision` to `params` through the JSON
    /// API, expecting it accepted (202); returns the answer (the operation).
    pub async fn update(
        &self,
        id: &str,
        revision: i64,
        params: &serde_json::Value,
    ) -> serde_json::Value {
        let (status, answer) = self
            .post_json(
                &format!("/api/v1/instances/{id}/update"),
                &serde_json::json!({"revision": revision, "params": params}),
            )
            .await;
        assert_eq!(status, 202, "update {id} to {params}: {answer}");
        answer
    }

    /// Uninstalls instance `id`, confirmed by its `name`, through the JSON
    /// API (202), and waits until it is uninstalled; returns its JSON then.
    pub async fn uninstall(&self, id: &str, name: &str) -> serde_json::Value {
        let (status, answer) = self
            .post_json(
                &format!("/api/v1/instances/{id}/uninstall"),
                &serde_json::json!({"confirm": name}),
            )
            .await;
        assert_eq!(status, 202, "uninstall {name}: {answer}");
        self.wait_until_uninstalled(id).await
    }

    /// Polls `/api/v1/instances/{id}` until `done` holds (60 s at most);
    /// returns the instance's JSON.
    pub async fn wait_for_instance(
        &self,
        id: &str,
        what: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        self.wait_for_json(&format!("/api/v1/instances/{id}"), what, done)
            .await
    }

    /// Polls instance `id` until it is uninstalled and its uninstall operation
    /// is finished (the status is written just before the operation ends).
    pub async fn wait_until_uninstalled(&self, id: &str) -> serde_json::Value {
        self.wait_for_instance(id, "uninstalled, its operation finished", |i| {
            i["instance"]["status"] == "Uninstalled"
                && matches!(
                    i["operations"][0]["state"].as_str(),
                    Some("succeeded" | "failed")
                )
        })
        .await
    }

    /// Polls the JSON at `path` until `done` holds (60 s at most); returns it.
    pub async fn wait_for_json(
        &self,
        path: &str,
        what: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        self.wait_for_json_within(path, what, std::time::Duration::from_secs(60), done)
            .await
    }

    /// Polls the JSON at `path` until `done` holds (`limit` at most); returns it.
    pub async fn wait_for_json_within(
        &self,
        path: &str,
        what: &str,
        limit: std::time::Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let (_, answer) = self.get_json(path).await;
            if done(&answer) {
                return answer;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never {what} within {limit:?}: {answer}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Polls the page at `path` until its HTML contains `text` (60 s at
    /// most); returns the HTML. A page shows what the status sync last saw,
    /// so a test reads it only once it shows what it checks.
    pub async fn wait_for_page_containing(&self, path: &str, text: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (_, html) = self.get(path).await;
            if html.contains(text) {
                return html;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{path} never showed {text:?} within 60 s: {html}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Polls session job `name` of instance `id` (its API JSON) until `done`
    /// holds (`limit` at most); returns it.
    pub async fn wait_for_job(
        &self,
        id: &str,
        name: &str,
        what: &str,
        limit: std::time::Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let path = format!("/api/v1/instances/{id}/jobs/{name}");
        self.wait_for_json_within(&path, what, limit, done).await
    }

    /// Installs the Flink operator, MinIO and a Flink session cluster
    /// `analytics` in `namespace` (with HA on S3 when `ha`); returns the
    /// session's id.
    pub async fn install_flink_session(&self, namespace: &str, ha: bool) -> String {
        self.install(json!({"app": "flink-kubernetes-operator", "name": "flink-operator", "namespace": namespace, "params": {}}))
            .await;
        let mut params = json!({"operator": "flink-operator"});
        if ha {
            self.install(
                json!({"app": "minio", "name": "minio", "namespace": namespace, "params": {}}),
            )
            .await;
            params = json!({"operator": "flink-operator", "highAvailability": true, "haType": "kubernetes", "storage": "s3", "minio": "minio"});
        }
        let session = self
            .install(json!({"app": "flink", "name": "analytics", "namespace": namespace, "params": params}))
            .await;
        session["instance"]["id"].as_str().expect("id").to_owned()
    }

    /// GET `path` and parse the body as JSON.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, body) = self.get(path).await;
        let json = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{path} answered non-JSON ({e}): {body}"));
        (status, json)
    }
}

/// Stores an instance of `app` (its default version, no parameters or
/// objects) as a fixture the forms can refer to.
pub async fn seed_instance(store: &dataport::store::Store, app: &str, name: &str, namespace: &str) {
    store
        .create_instance(dataport::store::NewInstance {
            id: uuid::Uuid::new_v4(),
            app: app.into(),
            name: name.into(),
            namespace: namespace.into(),
            version: dataport::catalog::find(app)
                .expect("a catalog app")
                .default_version()
                .into(),
            params: serde_json::json!({}),
            objects: serde_json::json!([]),
            actor: "fixture".into(),
        })
        .await
        .expect("store the fixture instance");
}

/// Uninstalls instance `id` (confirmed with `name`) through the JSON API and
/// waits until the process node has no Java process left for `namespace`.
pub async fn uninstall_until_no_process_is_left(
    portal: &Portal,
    id: &str,
    name: &str,
    namespace: &str,
) {
    let (status, _) = portal
        .post_json(
            &format!("/api/v1/instances/{id}/uninstall"),
            &json!({"confirm": name}),
        )
        .await;
    assert!(status < 300, "uninstall answered {status}");
    operator::eventually(
        std::time::Duration::from_secs(120),
        "no Java process left",
        || async {
            cluster::java_processes_of(namespace)
                .is_empty()
                .then_some(())
        },
    )
    .await;
}
