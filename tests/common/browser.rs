//! Real headless Chromium through WebDriver (Debian's chromium and chromedriver).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long any step waits for what it reads or acts on: generous for a
/// loaded 2-core machine, bounded so a broken page fails the test.
const WAIT: Duration = Duration::from_secs(30);

/// How often a waiting step looks again.
const POLL: Duration = Duration::from_millis(100);

/// A Chromium session with a fresh profile, driven by its own chromedriver.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    // Declared last: dropped after the client, killing chromedriver and Chromium.
    _driver: Driver,
}

/// chromedriver and the profile its Chromium uses; both go when this is
/// dropped, also when `Browser::start` panics half-way.
struct Driver {
    process: Child,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(self.profile.path())
            .status();
    }
}

/// Whether pages run their scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaScript {
    /// As most users browse.
    On,
    /// To prove every form works without scripts.
    Off,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub async fn start(javascript: JavaScript) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let driver = Driver {
            process: Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver (Debian package chromium-driver) must be installed"),
            profile: tempfile::tempdir().expect("profile folder"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut options = json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
                "--window-size=1280,900",
                format!("--user-data-dir={}", driver.profile.path().display()),
            ],
        });
        if javascript == JavaScript::Off {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let capabilities = json!({"browserName": "chrome", "goog:chromeOptions": options});
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("capabilities are an object")
        };
        // chromedriver speaks plain HTTP on loopback: no TLS stack needed.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("WebDriver session");
        Browser {
            client,
            _driver: driver,
        }
    }

    /// Marks the open page, so that [`Browser::assert_not_reloaded`] can
    /// tell it was updated in place rather than loaded again.
    pub async fn mark_page(&self) {
        self.client
            .execute("window.dataportMark = 'kept'; return null;", vec![])
            .await
            .expect("mark the page");
    }

    /// Fails unless the page marked by [`Browser::mark_page`] is still open.
    pub async fn assert_not_reloaded(&self) {
        let mark = self
            .client
            .execute("return window.dataportMark || null;", vec![])
            .await
            .expect("read the mark");
        assert_eq!(mark, serde_json::json!("kept"), "the page was reloaded");
    }

    /// Saves a PNG of the viewport as `target/screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// The elements matching a CSS selector right now, without waiting:
    /// for counting what a page shows once it is known to have loaded.
    pub async fn all_now(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find elements")
    }

    /// How many elements matching `css` are displayed right now, without
    /// waiting (call it after something that waited for the page).
    pub async fn count_displayed_now(&self, css: &str) -> usize {
        let mut shown = 0;
        for element in self.all_now(css).await {
            // An element the page replaced in between is not displayed.
            if element.is_displayed().await.unwrap_or(false) {
                shown += 1;
            }
        }
        shown
    }

    /// Waits until exactly `expected` elements matching `css` are displayed
    /// (a live filter or a toggle has done its work).
    pub async fn wait_for_displayed(&self, css: &str, expected: usize) {
        let deadline = Instant::now() + WAIT;
        loop {
            let shown = self.count_displayed_now(css).await;
            if shown == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css}: {shown} displayed, never {expected}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until an element matching `css` is on the page: after a click
    /// that navigates, the next page has loaded that far.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = self
                .client
                .wait()
                .at_most(Duration::from_secs(2))
                .for_element(Locator::Css(css))
                .await;
            match found {
                Ok(element) => return element,
                Err(_) if self.reloaded_after_a_network_change().await => {}
                Err(e) if Instant::now() >= deadline => {
                    panic!("waiting {WAIT:?} for {css}: {e}")
                }
                Err(_) => {}
            }
        }
    }

    /// Whether the page was Chromium's "network changed" error, loaded again.
    /// Chromium abandons a load when the host's addresses change
    /// (`ERR_NETWORK_CHANGED`). The local node no longer changes them per pod
    /// (one `local` route for all its pod IPs), but anything else on a
    /// shared test machine may; a real cluster's user would load again too.
    async fn reloaded_after_a_network_change(&self) -> bool {
        let changed = self
            .client
            .execute(
                "return !!document.body && document.body.innerText.includes('ERR_NETWORK_CHANGED')",
                vec![],
            )
            .await
            .ok()
            .and_then(|answer| answer.as_bool())
            .unwrap_or(false);
        if changed {
            let _ = self.client.refresh().await;
        }
        changed
    }

    /// Waits until the address contains `text` (a form submitted without
    /// scripts has navigated).
    pub async fn wait_for_url_containing(&self, text: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.client.current_url().await.expect("url");
            if url.as_str().contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the address never contained {text}: {url}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Does `act` on the first element matching `css`, waiting for the
    /// element to be there; tried again on an element that a reloading
    /// page replaced between finding and acting.
    async fn on_element<T, F, Fut>(&self, css: &str, what: &str, act: F) -> T
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            let element = self.wait_for(css).await;
            match act(element).await {
                Ok(value) => return value,
                Err(e) if e.is_stale_element_reference() && Instant::now() < deadline => {
                    tokio::time::sleep(POLL).await;
                }
                Err(e) => panic!("{what} {css}: {e}"),
            }
        }
    }

    /// The text of the first element matching `css`, waiting for it.
    pub async fn text(&self, css: &str) -> String {
        self.on_element(css, "text of", |e| async move { e.text().await })
            .await
    }

    /// Types `text` into the field with id `id`, replacing what it held.
    pub async fn fill(&self, id: &str, text: &str) {
        self.on_element(&format!("[id=\"{id}\"]"), "type into", |e| async move {
            e.clear().await?;
            e.send_keys(text).await
        })
        .await
    }

    /// Picks `value` in the select named `name`.
    pub async fn choose(&self, name: &str, value: &str) {
        let css = format!("select[name={name}] option[value=\"{value}\"]");
        self.on_element(&css, "choose", |e| async move { e.click().await })
            .await
    }

    /// Clicks the first element matching `css`, for a click that stays on
    /// the page (a toggle, a live filter). For one that loads another page,
    /// use [`Browser::click_to_load`].
    pub async fn click(&self, css: &str) {
        self.on_element(css, "click", |e| async move { e.click().await })
            .await
    }

    /// Clicks the first element matching `css` (a submit button, a link) and
    /// waits until the browser has left this page and the next one has
    /// loaded: what is read afterwards is the new page, never the old one.
    pub async fn click_to_load(&self, css: &str) {
        let old_page = self
            .client
            .find(Locator::Css("html"))
            .await
            .expect("the page has a document");
        self.click(css).await;
        let deadline = Instant::now() + WAIT;
        // The old document's root goes stale once the next one replaced it.
        while old_page.tag_name().await.is_ok() {
            assert!(Instant::now() < deadline, "clicking {css} loaded no page");
            tokio::time::sleep(POLL).await;
        }
        self.wait_until_loaded().await;
    }

    /// Opens `path` of the portal at `base` and waits until it has loaded.
    pub async fn open(&self, base: &str, path: &str) {
        self.client
            .goto(&format!("{base}{path}"))
            .await
            .expect("page");
        self.wait_until_loaded().await;
    }

    /// Waits until the current document has loaded completely.
    pub async fn wait_until_loaded(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            let state = self
                .client
                .execute("return document.readyState", vec![])
                .await;
            // A page whose scripts are off may not answer: it can still be
            // read, and finding an element waits for what is needed.
            match state {
                Ok(state) if state != "complete" => {}
                _ => return,
            }
            assert!(Instant::now() < deadline, "the page never finished loading");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the text of the first element matching `css` satisfies
    /// `done` (a page updating itself live); returns that text.
    pub async fn wait_for_text(
        &self,
        css: &str,
        what: &str,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text(css).await;
            if done(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "{css} never {what}: {text:?}");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Logs in on the login page as `name`; waits until the portal shows them signed in.
    pub async fn log_in(&self, base: &str, name: &str, password: &str) {
        self.client
            .goto(&format!("{base}/login"))
            .await
            .expect("login page");
        self.fill("f-name", name).await;
        self.fill("f-password", password).await;
        self.click_to_load("[data-login]").await;
        self.wait_for(&format!("[data-signed-in=\"{name}\"]")).await;
    }

    /// Logs in as the test portal's admin.
    pub async fn log_in_as_admin(&self, base: &str) {
        self.log_in(base, super::ADMIN, super::ADMIN_PASSWORD).await;
    }

    /// Ends the session (Chromium exits) and stops chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}
