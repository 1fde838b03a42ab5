//! Benchmark of the web interface proxy (`/instances/{id}/ui/{name}/…`):
//! the latency of N GET requests through dataport next to the same requests
//! sent straight to the same upstream, on loopback, one at a time, in
//! alternating rounds so both meet the machine's same moments. Prints p50,
//! p99 and max of each and the p99 the proxy adds (target ≤ 2 ms).
//!
//! The upstream is a small HTTP server on 127.77.0.1:8081 answering what a
//! Flink JobManager's `/overview` answers; dataport dials it as it dials a
//! Service inside the cluster (`--webui-dial service`), the Service's name
//! resolved to that address. The caller is a viewer with an API token; the
//! instance record is read from a SQLite store, as every proxied request does.
//!
//!     cargo run --release --example webui_proxy_bench -- [REQUESTS] [BODY_BYTES]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dataport::cluster::Cluster;
use dataport::cluster::webui::ServiceDial;
use dataport::http::{AppState, Layout, router};
use dataport::service::{Role, Service};
use dataport::store::{NewInstance, Store};

/// Where the upstream listens: a loopback address of its own, on the Flink
/// REST port the catalog names (the dial keeps the Service's port).
const UPSTREAM: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 77, 0, 1)), 8081);

/// Every name resolves to the upstream: cluster DNS for the benchmark.
struct ToUpstream;

impl reqwest::dns::Resolve for ToUpstream {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async {
            let addresses: reqwest::dns::Addrs = Box::new(std::iter::once(UPSTREAM));
            Ok(addresses)
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let requests: usize = args.next().map_or(Ok(5000), |n| n.parse())?;
    let body_bytes: usize = args.next().map_or(Ok(0), |n| n.parse())?;

    // The upstream: Flink's /overview answer, padded to BODY_BYTES if asked.
    let mut overview =
        serde_json::json!({"taskmanagers": 1, "slots-total": 1, "slots-available": 0,
        "jobs-running": 1, "jobs-finished": 0, "jobs-cancelled": 0, "jobs-failed": 0,
        "flink-version": "1.20.0", "flink-commit": "b1fe7b4"})
        .to_string();
    if overview.len() < body_bytes {
        overview = format!(
            "{}, \"padding\": \"{}\"}}",
            overview.trim_end_matches('}'),
            "x".repeat(body_bytes - overview.len())
        );
    }
    let upstream_app = axum::Router::new().route(
        "/overview",
        axum::routing::get(move || {
            let overview = overview.clone();
            async move { ([("content-type", "application/json")], overview) }
        }),
    );
    let upstream = tokio::net::TcpListener::bind(UPSTREAM).await?;
    tokio::spawn(async move { axum::serve(upstream, upstream_app).await });

    // dataport: a store with one Flink instance and a viewer's token.
    let folder = std::env::temp_dir().join(format!("dataport-webui-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let store = Store::connect(&format!("sqlite://{}/bench.db", folder.display())).await?;
    let id = uuid::Uuid::new_v4();
    store
        .create_instance(NewInstance {
            id,
            app: "flink".into(),
            name: "bench".into(),
            namespace: "bench".into(),
            version: "1.20".into(),
            params: serde_json::json!({}),
            objects: serde_json::json!([]),
            actor: "bench".into(),
        })
        .await?;
    // The API server is never asked: Services are dialed directly.
    let unused_api_server = kube::Config::new("http://127.0.0.1:9".parse()?);
    let dial = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(ToUpstream))
        .no_proxy()
        .build()?;
    let cluster =
        Cluster::from_config(unused_api_server)?.with_service_dial(ServiceDial::Direct(dial));
    let service = Service::new(store, Some(cluster));
    let user = service
        .add_user("bench", "viewer", "a-long-bench-password", Role::Viewer)
        .await
        .map_err(|e| e.to_string())?;
    let (_, token) = service
        .create_token(&user, "bench")
        .await
        .map_err(|e| e.to_string())?;
    let portal = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let portal_address = portal.local_addr()?;
    let app = router(AppState::new(Arc::new(service), Layout::default()));
    tokio::spawn(async move { axum::serve(portal, app).await });

    let client = reqwest::Client::builder().no_proxy().build()?;
    let direct_url = format!("http://{UPSTREAM}/overview");
    let proxy_url = format!("http://{portal_address}/instances/{id}/ui/flink-webui/overview");
    let auth = format!("Bearer {token}");
    let once = |url: String, auth: Option<String>| {
        let client = client.clone();
        async move {
            let mut request = client.get(&url).header("accept", "application/json");
            if let Some(auth) = auth {
                request = request.header("authorization", auth);
            }
            let started = Instant::now();
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let body = response.bytes().await.map_err(|e| e.to_string())?;
            let took = started.elapsed();
            if status != 200 {
                return Err(format!(
                    "{url} answered {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            Ok::<(Duration, usize), String>((took, body.len()))
        }
    };

    // Warm both paths (connections, caches), then alternate rounds of 100.
    for _ in 0..200 {
        once(direct_url.clone(), None).await?;
        once(proxy_url.clone(), Some(auth.clone())).await?;
    }
    let mut direct = Vec::with_capacity(requests);
    let mut proxied = Vec::with_capacity(requests);
    let mut bytes = 0;
    while direct.len() < requests {
        for _ in 0..100.min(requests - direct.len()) {
            direct.push(once(direct_url.clone(), None).await?.0);
        }
        for _ in 0..100.min(requests - proxied.len()) {
            let (took, size) = once(proxy_url.clone(), Some(auth.clone())).await?;
            proxied.push(took);
            bytes = size;
        }
    }
    let _ = std::fs::remove_dir_all(&folder);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let quantile = |samples: &mut Vec<Duration>, q: f64| {
        samples.sort();
        let at = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[at]
    };
    println!("{requests} GET /overview each, one at a time, {bytes} bytes per answer, loopback");
    println!(
        "{:<34} {:>8} {:>8} {:>8}",
        "path", "p50 ms", "p99 ms", "max ms"
    );
    let mut rows = Vec::new();
    for (name, samples) in [
        ("direct to the upstream", &mut direct),
        ("through dataport's proxy", &mut proxied),
    ] {
        let (p50, p99) = (quantile(samples, 0.50), quantile(samples, 0.99));
        let max = *samples.last().unwrap_or(&Duration::ZERO);
        println!(
            "{name:<34} {:>8.3} {:>8.3} {:>8.3}",
            ms(p50),
            ms(p99),
            ms(max)
        );
        rows.push((p50, p99));
    }
    let added_p50 = ms(rows[1].0) - ms(rows[0].0);
    let added_p99 = ms(rows[1].1) - ms(rows[0].1);
    println!(
        "added by the proxy: p50 {added_p50:.3} ms, p99 {added_p99:.3} ms (target p99 <= 2 ms): {}",
        if added_p99 <= 2.0 { "met" } else { "NOT met" }
    );
    Ok(())
}
