//! Real headless Chromium through WebDriver (Debian's chromium and chromedriver).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

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

    /// Saves a PNG of the viewport as `target/screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// The elements matching a CSS selector.
    pub async fn all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find elements")
    }

    /// How many elements matching `css` are displayed.
    pub async fn count_displayed(&self, css: &str) -> usize {
        let mut shown = 0;
        for element in self.all(css).await {
            if element.is_displayed().await.expect("is displayed") {
                shown += 1;
            }
        }
        shown
    }

    /// Waits (up to WebDriver's default 30 s) until an element matching `css`
    /// is on the page: after a click that navigates, the next page has loaded.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
    }

    /// Waits up to 30 s until the address contains `text` (a form submitted
    /// without scripts has navigated).
    pub async fn wait_for_url_containing(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self
            .client
            .current_url()
            .await
            .expect("url")
            .as_str()
            .contains(text)
        {
            assert!(
                Instant::now() < deadline,
                "the address never contained {text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// Types `text` into the field with id `id`, replacing what it held.
    pub async fn fill(&self, id: &str, text: &str) {
        let input = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
        input.clear().await.expect("clear");
        input.send_keys(text).await.expect("type");
    }

    /// Picks `value` in the select named `name`.
    pub async fn choose(&self, name: &str, value: &str) {
        self.client
            .find(Locator::Css(&format!(
                "select[name={name}] option[value=\"{value}\"]"
            )))
            .await
            .unwrap_or_else(|e| panic!("{name}={value}: {e}"))
            .click()
            .await
            .expect("choose");
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// Waits up to 30 s until the text of the first element matching `css`
    /// satisfies `done` (a page updating itself live); returns that text.
    pub async fn wait_for_text(
        &self,
        css: &str,
        what: &str,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.text(css).await;
            if done(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "{css} never {what}: {text:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
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
        self.click("[data-login]").await;
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
