//! The HTTP edge: axum routes, askama pages and their JSON twins.
//!
//! Knows the service layer only: no sqlx, no kube.

mod account;
mod app_savepoints;
mod assets;
mod auth;
mod catalog;
mod confirm;
mod error;
mod figures;
mod health;
mod install;
mod instances;
mod job_page;
mod jobs;
mod live;
mod metrics;
mod page;
mod pods;
mod savepoint_delete;
mod savepoints;
mod sessions;
mod update;
mod users;
mod webui;

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, OriginalUri};
use axum::response::Response;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::cluster::Cluster;
use crate::cluster::leader::LeaseSettings;
use crate::cluster::webui::ServiceDial;
use crate::config::{ServeConfig, mask_password};
use crate::error::StartError;
use crate::service::Service;
use crate::store::Store;

pub use error::HttpError;
pub use metrics::Metrics;
pub use page::Layout;

/// A browser session ends after this long without a request.
pub const SESSION_IDLE: time::Duration = time::Duration::hours(8);

/// Largest request body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The portal's operations.
    pub service: Arc<Service>,
    /// Request counters and latencies.
    pub metrics: Arc<Metrics>,
    /// What every page's frame shows.
    pub layout: Layout,
    /// Session cookies carry the Secure flag (the portal is reached over TLS).
    pub secure_cookies: bool,
}

impl AppState {
    /// State for a portal over this service, with fresh metrics.
    pub fn new(service: Arc<Service>, layout: Layout) -> AppState {
        let mut metrics = Metrics::new();
        if let Some(requests) = service.cluster_requests() {
            metrics = metrics.with_cluster_requests(requests);
        }
        AppState {
            service,
            metrics: Arc::new(metrics),
            layout,
            secure_cookies: false,
        }
    }
}

/// Builds the whole application: routes, fallback and the tower layers.
pub fn router(state: AppState) -> Router {
    let session_layer = SessionManagerLayer::new(state.service.session_records())
        .with_name("dataport_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.secure_cookies)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));
    let routes = Router::new()
        .merge(account::router())
        .merge(catalog::router())
        .merge(health::router())
        .merge(install::router())
        .merge(instances::router())
        .merge(app_savepoints::router())
        .merge(figures::router())
        .merge(jobs::router())
        .merge(pods::router())
        .merge(update::router())
        .merge(users::router())
        .merge(webui::router())
        .merge(assets::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::record,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    let with_sessions = tower::Layer::layer(&session_layer, routes.clone());
    Router::new().fallback_service(sessions::SessionsForBrowsers::new(routes, with_sessions))
}

async fn not_found(layout: Layout, OriginalUri(uri): OriginalUri) -> Response {
    let error = HttpError::NotFound(format!("no page at {}", uri.path()));
    error::refusal(error, uri.path().starts_with("/api/"), layout)
}

/// Runs `dataport serve`: opens the store and the cluster, then serves until
/// SIGTERM or Ctrl-C, finishing requests in flight.
pub async fn serve(mut config: ServeConfig) -> Result<(), StartError> {
    // Chosen once: printed and used alike.
    config.identity = Some(config.identity());
    eprintln!(
        "dataport {} starting with:\n{config}",
        env!("CARGO_PKG_VERSION")
    );
    let store = Store::connect(&config.database_url)
        .await
        .map_err(|source| StartError::Database {
            url: mask_password(&config.database_url),
            source,
        })?;
    let mut cluster = Cluster::connect(config.kubeconfig.as_deref()).await?;
    if config.webui_dial.direct(config.kubeconfig.is_some()) {
        cluster = match cluster {
            Some(cluster) => Some(cluster.with_service_dial(ServiceDial::direct()?)),
            None => None,
        };
    }
    let mut service = Service::new(store, cluster.clone())
        .with_grafana_url(config.grafana_url.clone())
        .with_allowed_namespaces(config.allowed_namespaces.clone());
    if let (Some(name), Some(password)) = (&config.admin_user, &config.admin_password) {
        match service.bootstrap_admin(name, password).await {
            Ok(Some(user)) => tracing::info!(user = %user.name, "first admin created"),
            Ok(None) => {}
            Err(error) => {
                return Err(StartError::Refused(format!(
                    "first admin {name}: {}",
                    error.explain()
                )));
            }
        }
    }
    if config.leader_election
        && let Some(cluster) = &cluster
    {
        let settings = LeaseSettings {
            namespace: config.lease_namespace.clone(),
            name: config.lease_name.clone(),
            identity: config.identity(),
            duration: Duration::from_secs(config.lease_seconds),
        };
        service = service.with_leadership(cluster.lead(&settings).await?);
    }
    let service = Arc::new(service);
    let layout = Layout {
        local_cluster: config.local_cluster != crate::config::LocalCluster::Off,
        real_flink: config.local_cluster == crate::config::LocalCluster::RealFlink,
        ..Layout::default()
    };
    let mut state = AppState::new(service.clone(), layout);
    state.secure_cookies = config.secure_cookies;
    let worker = service.spawn_worker();
    let status_sync = service.spawn_status_sync();
    // Listening for signals before the port is open: a client may stop the
    // portal as soon as it answers.
    let shutdown = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    tracing::info!(address = %config.listen, "serving");
    let (signalled, mut on_signal) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = signalled.send(true);
        })
        .into_future();
    // Requests in flight finish; a live page (server-sent events) never
    // does, so the drain is bounded and then its connection is dropped.
    let drain_limit = async move {
        let _ = on_signal.wait_for(|signalled| *signalled).await;
        tokio::time::sleep(SHUTDOWN_DRAIN).await;
    };
    tokio::select! {
        result = server => result.map_err(StartError::Serve)?,
        () = drain_limit => tracing::warn!(
            seconds = SHUTDOWN_DRAIN.as_secs(),
            "connections still open after the drain (live pages); closing them"
        ),
    }
    // An operation cut short here is resumed from the store at the next start.
    for task in [worker, status_sync].into_iter().flatten() {
        task.abort();
    }
    // Requests have finished; give the pool a bounded moment to close cleanly.
    let _ = tokio::time::timeout(Duration::from_secs(5), service.close()).await;
    tracing::info!("stopped");
    Ok(())
}

/// How long a stopping portal waits for open connections to finish.
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(10);

/// Listens for SIGTERM and Ctrl-C (SIGINT) from now on, and resolves on
/// either. The handlers are registered when this is called, not when the
/// future is first awaited: a signal in between would otherwise take its
/// default action and kill the process uncleanly (CI saw a SIGTERM sent
/// right after the portal bound its port do that).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let terminated = async {
                match terminate.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupted = async {
                match interrupt.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = terminated => {},
                () = interrupted => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    }
}
