//! A real headless Chromium driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/install-test-deps`), with every
//! request the browser makes logged, so a test can show that nothing was
//! fetched from outside the server.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A ChromeDriver process and one browser session, both ended on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    pub downloads: PathBuf,
    /// Every URL the browser asked for so far.
    pub requests: Vec<String>,
}

impl Browser {
    /// Starts ChromeDriver on a free port and a headless Chromium that saves
    /// downloads in `downloads`, with a phone-sized window when `phone`.
    pub async fn start(downloads: &Path) -> Browser {
        assert!(
            Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists(),
            "the browser tests need Debian's chromium and chromium-driver (scripts/install-test-deps)"
        );
        let port = free_port();
        // A process group of its own, so that the browser it starts is
        // killed with it even when a test fails before closing the session.
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1000", "--autoplay-policy=no-user-gesture-required",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-default-apps", "--disable-sync"],
                "prefs": {
                    "download.default_directory": downloads.to_str().unwrap(),
                    "download.prompt_for_download": false,
                }
            },
            "goog:loggingPrefs": {"performance": "ALL"},
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session: {e}"),
            }
        };
        Browser {
            client,
            driver,
            downloads: downloads.to_owned(),
            requests: Vec::new(),
        }
    }

    pub async fn goto(&mut self, url: &str) {
        self.client.goto(url).await.unwrap();
        self.log_requests().await;
    }

    /// Reads the browser's performance log and keeps the URL of every
    /// request it shows.
    pub async fn log_requests(&mut self) {
        let entries = self.client.issue_cmd(PerformanceLog).await.unwrap();
        for entry in entries.as_array().into_iter().flatten() {
            let Some(message) = entry["message"].as_str() else {
                continue;
            };
            let Ok(message) = serde_json::from_str::<Value>(message) else {
                continue;
            };
            if message["message"]["method"] == "Network.requestWillBeSent" {
                if let Some(url) = message["message"]["params"]["request"]["url"].as_str() {
                    self.requests.push(url.to_owned());
                }
            }
        }
    }

    /// Every logged request went to `base` (or stayed in the page: data: and blob: URLs).
    pub async fn assert_nothing_fetched_from_outside(&mut self, base: &str) {
        self.log_requests().await;
        assert!(!self.requests.is_empty(), "no request was logged");
        let outside: Vec<&String> = self
            .requests
            .iter()
            .filter(|url| {
                !(url.starts_with(&format!("{base}/"))
                    || url.starts_with("data:")
                    || url.starts_with("blob:"))
            })
            .collect();
        assert!(
            outside.is_empty(),
            "fetched from outside {base}: {outside:?}"
        );
    }

    /// Runs axe-core (from the npm registry, installed by
    /// `scripts/install-test-deps`, injected by WebDriver, so the page fetches
    /// nothing) against the WCAG 2 A and AA rules; fails on every serious or
    /// critical violation: missing labels, contrast below AA, and the like.
    pub async fn assert_accessible(&self, page: &str) {
        let axe = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/clients/axe/node_modules/axe-core/axe.min.js"),
        )
        .expect("axe-core is installed (scripts/install-test-deps)");
        self.run(&format!("{axe}\nreturn true;"), vec![]).await;
        let violations = self
            .client
            .execute_async(
                "const done = arguments[0];
                 axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))),
                         e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(violations, json!([]), "accessibility of {page}");
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn click(&mut self, css: &str) {
        self.find(css).await.click().await.unwrap();
        self.log_requests().await;
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub async fn run(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// Waits until `script` returns true, polling; panics with `what` after
    /// [`PATIENCE`].
    pub async fn wait_for(&self, what: &str, script: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.run(script, vec![]).await == Value::Bool(true) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// Saves a PNG of the page as `name` in `$KINOFLOW_SCREENSHOTS` (the
    /// README's pictures are made so), else in the test's own folder.
    pub async fn screenshot(&self, fallback_dir: &Path, name: &str) {
        let dir = std::env::var_os("KINOFLOW_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| fallback_dir.to_owned());
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }

    /// Waits for a finished download whose name ends with `suffix`.
    pub async fn downloaded(&self, suffix: &str) -> PathBuf {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found = std::fs::read_dir(&self.downloads)
                .unwrap()
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .find(|path| path.to_string_lossy().ends_with(suffix));
            if let Some(path) = found {
                return path;
            }
            assert!(
                Instant::now() < deadline,
                "nothing ending in {suffix} was downloaded"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Ends the browser session; dropping then stops ChromeDriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.driver.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// ChromeDriver's log endpoint, which the WebDriver standard lacks.
#[derive(Debug)]
struct PerformanceLog;

impl WebDriverCompatibleCommand for PerformanceLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "performance"}).to_string()),
        )
    }
}
