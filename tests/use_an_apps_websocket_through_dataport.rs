//! An app's page that talks over a WebSocket (as MinIO's object browser and
//! Grafana Live do) works through dataport's proxy: the handshake goes
//! through the real API server's service proxy to an upstream of the test's
//! own ([`common::upstream`]), and the connection is relayed both ways. Only
//! an operator may open one, only from a page of the portal (or with a
//! token), and dataport's session cookie stays behind.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message as UpstreamMessage, WebSocketUpgrade};
use axum::http::HeaderMap;
use common::browser::{Browser, JavaScript};
use common::session::BrowserLike;
use common::upstream::{OutsideUpstream, known_flink_session};
use common::{Portal, add_user_with_token};
use dataport::service::Role;
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const PASSWORD: &str = "a password for the websocket test";

/// What the upstream's WebSocket endpoint saw of each handshake: its query,
/// `Cookie` and `Origin`.
type Handshakes = Arc<Mutex<Vec<(String, String, String)>>>;

/// The upstream: a page whose script opens `live` next to it and shows what
/// comes back, and `live`, which greets with the protocol it chose and
/// echoes every message.
fn upstream(handshakes: Handshakes) -> axum::Router {
    use axum::routing::get;
    let page = r#"<html><body><p id="out">waiting</p><p id="state">connecting</p><script>
const url = new URL('live?room=1', location.href);
url.protocol = url.protocol.replace('http', 'ws');
const socket = new WebSocket(url, ['echo.v1']);
socket.onopen = () => { document.getElementById('state').textContent = 'open'; socket.send('hello from the page'); };
socket.onmessage = (event) => { document.getElementById('out').textContent = event.data; };
socket.onclose = (event) => { document.getElementById('state').textContent = 'closed ' + event.code; };
</script></body></html>"#;
    axum::Router::new()
        .route(
            "/",
            get(move || async move { ([("content-type", "text/html; charset=utf-8")], page) }),
        )
        .route(
            "/live",
            get(
                move |upgrade: WebSocketUpgrade,
                      query: axum::extract::RawQuery,
                      headers: HeaderMap| async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    handshakes.lock().unwrap().push((
                        query.0.unwrap_or_default(),
                        header("cookie"),
                        header("origin"),
                    ));
                    upgrade
                        .protocols(["echo.v1"])
                        .on_upgrade(|mut socket| async move {
                            let chosen = socket
                                .protocol()
                                .and_then(|value| value.to_str().ok())
                                .unwrap_or("none")
                                .to_owned();
                            let greeting = format!("hello, protocol {chosen}");
                            if socket.send(greeting.into()).await.is_err() {
                                return;
                            }
                            while let Some(Ok(message)) = socket.recv().await {
                                let echo = match message {
                                    UpstreamMessage::Text(text) => UpstreamMessage::Text(
                                        format!("echo: {}", text.as_str()).into(),
                                    ),
                                    UpstreamMessage::Binary(bytes) => {
                                        UpstreamMessage::Binary(bytes)
                                    }
                                    UpstreamMessage::Close(_) => break,
                                    _ => continue,
                                };
                                if socket.send(echo).await.is_err() {
                                    break;
                                }
                            }
                        })
                },
            ),
        )
}

/// The session cookie (`dataport_session=…`) of `name` logged in on `base`.
async fn session_cookie(base: &str, name: &str) -> String {
    let mut tab = BrowserLike::new(base);
    let answer = tab.log_in(name, PASSWORD).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    answer
        .cookies
        .iter()
        .find_map(|line| {
            line.split(';')
                .next()
                .filter(|pair| pair.starts_with("dataport_session="))
        })
        .expect("a session cookie")
        .to_owned()
}

/// Opens the WebSocket at `url` with `headers`; the HTTP status of a
/// refused handshake and its body.
async fn open(
    url: &str,
    headers: &[(&str, &str)],
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    (u16, String),
> {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        let name = axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            assert_eq!(response.status(), 101);
            assert_eq!(response.headers()["sec-websocket-protocol"], "echo.v1");
            Ok(socket)
        }
        Err(WsError::Http(response)) => Err((
            response.status().as_u16(),
            String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned(),
        )),
        Err(other) => panic!("the handshake failed otherwise: {other}"),
    }
}

async fn next_text(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Message {
    tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
        .await
        .expect("an answer within 10 s")
        .expect("the connection stays open")
        .expect("a message")
}

#[tokio::test]
async fn an_operator_talks_to_an_apps_websocket_through_the_api_server() {
    let (portal, database, namespace) = Portal::on_test_cluster("webuiws").await;
    let client = common::cluster::shared().client().await;
    let handshakes = Handshakes::default();
    let upstream = OutsideUpstream::serve(
        &client,
        &namespace,
        "analytics-rest",
        8081,
        upstream(handshakes.clone()),
    )
    .await;
    let id = known_flink_session(&database, &namespace).await;
    let token = add_user_with_token(&database.url, "doer", PASSWORD, Role::Operator).await;
    add_user_with_token(&database.url, "looker", PASSWORD, Role::Viewer).await;
    let operator = session_cookie(&portal.base, "doer").await;
    let viewer = session_cookie(&portal.base, "looker").await;
    let host = portal.base.trim_start_matches("http://");
    let live = format!("ws://{host}/instances/{id}/ui/flink-webui/live?room=1");
    let own_origin = portal.base.as_str();
    let protocol = ("sec-websocket-protocol", "echo.v1");

    // An operator's page: messages go both ways, text and binary.
    let with_cookie = format!("{operator}; theme=dark");
    let mut socket = open(
        &live,
        &[("cookie", &with_cookie), ("origin", own_origin), protocol],
    )
    .await
    .expect("the operator's WebSocket opens");
    assert_eq!(
        next_text(&mut socket).await,
        Message::text("hello, protocol echo.v1")
    );
    socket.send(Message::text("cancel job 1")).await.unwrap();
    assert_eq!(
        next_text(&mut socket).await,
        Message::text("echo: cancel job 1")
    );
    socket
        .send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .unwrap();
    assert_eq!(
        next_text(&mut socket).await,
        Message::binary(vec![0u8, 1, 2, 255])
    );
    socket.close(None).await.unwrap();

    // The upstream saw the app's cookie, never dataport's, and the page's
    // origin. The API server's service proxy dropped the query, as it does
    // with every upgrade (kubernetes/kubernetes#77142, open).
    let seen = handshakes.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(
            String::new(),
            "theme=dark".to_owned(),
            own_origin.to_owned()
        )]
    );

    // An API token needs no Origin (no browser sends it).
    let bearer = format!("Bearer {token}");
    let mut socket = open(&live, &[("authorization", &bearer), protocol])
        .await
        .expect("a token's WebSocket opens");
    assert_eq!(
        next_text(&mut socket).await,
        Message::text("hello, protocol echo.v1")
    );
    socket.close(None).await.unwrap();

    // A viewer may look, not talk; nobody anonymous; no other site's page.
    let refused = open(
        &live,
        &[("cookie", &viewer), ("origin", own_origin), protocol],
    )
    .await
    .map(|_| ())
    .unwrap_err();
    assert_eq!(refused.0, 403, "{}", refused.1);
    assert!(
        refused.1.contains("This needs the operator role"),
        "{}",
        refused.1
    );
    let refused = open(&live, &[("origin", own_origin), protocol])
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(refused.0, 401, "{}", refused.1);
    let refused = open(
        &live,
        &[
            ("cookie", &operator),
            ("origin", "http://evil.example"),
            protocol,
        ],
    )
    .await
    .map(|_| ())
    .unwrap_err();
    assert_eq!(refused.0, 403, "{}", refused.1);
    assert!(
        refused
            .1
            .contains("WebSockets through an app's web interface must be opened from its page"),
        "{}",
        refused.1
    );
    assert_eq!(
        handshakes.lock().unwrap().len(),
        2,
        "refusals reach no upstream"
    );

    // An upstream that does not switch answers as it would any request.
    let missing = format!("ws://{host}/instances/{id}/ui/flink-webui/missing");
    let refused = open(
        &missing,
        &[("cookie", &operator), ("origin", own_origin), protocol],
    )
    .await
    .map(|_| ())
    .unwrap_err();
    assert_eq!(refused.0, 404, "{}", refused.1);

    upstream.remove(&client).await;
}

#[tokio::test]
async fn an_apps_page_talks_over_its_websocket_in_chromium() {
    let (portal, database, namespace) = Portal::on_test_cluster("webuiwspage").await;
    let client = common::cluster::shared().client().await;
    let upstream = OutsideUpstream::serve(
        &client,
        &namespace,
        "analytics-rest",
        8081,
        upstream(Handshakes::default()),
    )
    .await;
    let id = known_flink_session(&database, &namespace).await;
    add_user_with_token(&database.url, "doer", PASSWORD, Role::Operator).await;
    add_user_with_token(&database.url, "looker", PASSWORD, Role::Viewer).await;
    let page = format!("/instances/{id}/ui/flink-webui/");

    // The operator's page gets its answer over the relayed connection.
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in(&portal.base, "doer", PASSWORD).await;
    browser.open(&portal.base, &page).await;
    browser
        .wait_for_text("#out", "got the echo", |text| {
            text == "echo: hello from the page"
        })
        .await;
    assert_eq!(browser.text("#state").await, "open");
    let shot = browser.screenshot("websocket-through-dataport").await;
    assert!(shot.exists());
    browser.close().await;

    // A viewer's page loads, but its WebSocket is refused.
    let browser = Browser::start(JavaScript::On).await;
    browser.log_in(&portal.base, "looker", PASSWORD).await;
    browser.open(&portal.base, &page).await;
    browser
        .wait_for_text("#state", "closed", |text| text.starts_with("closed"))
        .await;
    assert_eq!(browser.text("#out").await, "waiting");
    browser.close().await;

    upstream.remove(&client).await;
}

/// Inside the cluster dataport dials the Service itself (`--webui-dial
/// service`), and the handshake keeps its query. Cluster DNS is played by
/// the client's forward proxy: the upstream itself, which then gets
/// `analytics-rest.{namespace}.svc:8081`'s requests.
#[tokio::test]
async fn a_websocket_keeps_its_query_when_dataport_dials_the_service_itself() {
    let cluster = common::cluster::shared();
    let namespace = cluster.namespace("webuiwsdirect").await;
    let database = common::TestDatabase::new(common::Backend::Sqlite).await;
    let handshakes = Handshakes::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_address = listener.local_addr().unwrap();
    let app = upstream(handshakes.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let as_cluster_dns = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(format!("http://{upstream_address}")).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let dialing_services =
        cluster
            .cluster()
            .await
            .with_service_dial(dataport::cluster::webui::ServiceDial::Direct(
                as_cluster_dns,
            ));
    let portal = Portal::start(
        database.store().await,
        Some(dialing_services),
        dataport::http::Layout::default(),
    )
    .await;
    let id = known_flink_session(&database, &namespace).await;
    let token = add_user_with_token(&database.url, "doer", PASSWORD, Role::Operator).await;
    let host = portal.base.trim_start_matches("http://");

    let bearer = format!("Bearer {token}");
    let mut socket = open(
        &format!("ws://{host}/instances/{id}/ui/flink-webui/live?room=1"),
        &[
            ("authorization", &bearer),
            ("sec-websocket-protocol", "echo.v1"),
        ],
    )
    .await
    .expect("the WebSocket opens");
    assert_eq!(
        next_text(&mut socket).await,
        Message::text("hello, protocol echo.v1")
    );
    socket.send(Message::text("ping")).await.unwrap();
    assert_eq!(next_text(&mut socket).await, Message::text("echo: ping"));
    socket.close(None).await.unwrap();
    let seen = handshakes.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, "room=1");
}
