//! A real headless Chromium, driven over the W3C WebDriver protocol by Debian's
//! `chromedriver` (installed by `.ci/run` and `scripts/test`), for tests that click
//! through pages as a person would. The protocol is plain JSON over HTTP, so a few
//! calls cover what the tests need: open a page, find, click, type, read, run a
//! script, take a screenshot.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The key WebDriver uses for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser window; the driver and browser stop when dropped.
pub struct Browser {
    http: reqwest::Client,
    session_url: String,
    driver: Child,
    /// Chromium's profile directory, removed with the browser.
    profile: std::path::PathBuf,
}

/// Where screenshots are kept: `target/screenshots/` of the workspace, or
/// `CIVIC311_SCREENSHOTS` when set.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("CIVIC311_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"))
}

impl Browser {
    /// Starts chromedriver and a headless Chromium window `width` × `height` CSS
    /// pixels. Panics with a hint when either is not installed.
    pub async fn start(width: u32, height: u32) -> Self {
        Self::launch(width, height, true).await
    }

    /// [`Browser::start`] with the pages' own scripts switched off, as some residents
    /// browse; the test can still run its scripts through the driver.
    pub async fn start_without_scripts(width: u32, height: u32) -> Self {
        Self::launch(width, height, false).await
    }

    async fn launch(width: u32, height: u32, scripts: bool) -> Self {
        let port = crate::smtp::free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromedriver ({e}): install Debian's chromium and chromium-driver (scripts/test does)"
                )
            });
        // A driver call that never answers fails the test instead of holding the run.
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("HTTP client");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not get ready on port {port} within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = std::env::temp_dir().join(format!("civic311-chromium-{}-{port}", std::process::id()));
        // Without the networking switches Chromium keeps trying to reach the internet.
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            format!("--window-size={},{}", width.max(800), height.max(600)),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            // The page's viewport is exactly the size asked for, phone widths included
            // (a headless window has a minimum width).
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": args,
                "mobileEmulation": { "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0 } },
                // 2 blocks every page's JavaScript.
                "prefs": { "profile.managed_default_content_settings.javascript": if scripts { 1 } else { 2 } },
            },
        } } });
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("JSON");
        let id = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("chromedriver refused a session: {r}"));
        Self { http, session_url: format!("{base}/session/{id}"), driver, profile }
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.session_url);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self.http.post(&url).json(&body),
        };
        let r: Value = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}")).json().await.expect("JSON");
        if r["value"].get("error").is_some() {
            panic!("{method} {path} {body}: {}", r["value"]);
        }
        r["value"].clone()
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    pub async fn current_url(&self) -> String {
        self.call("GET", "/url", Value::Null).await.as_str().unwrap_or_default().to_owned()
    }

    /// The element matching `css`, waiting up to 5 s for it to appear.
    pub async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let url = format!("{}/element", self.session_url);
            let r: Value = self
                .http
                .post(&url)
                .json(&json!({ "using": "css selector", "value": css }))
                .send()
                .await
                .expect("find")
                .json()
                .await
                .expect("JSON");
            if let Some(id) = r["value"][ELEMENT].as_str() {
                return id.to_owned();
            }
            assert!(Instant::now() < deadline, "no element matches {css}: {r}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call("POST", &format!("/element/{id}/click"), json!({})).await;
    }

    /// Clicks what matches `css` and waits until the next page has loaded (a link, a
    /// submit button).
    pub async fn follow(&self, css: &str) {
        self.script("window.__civic311_before = true", json!([])).await;
        self.click(css).await;
        self.wait_for_new_page().await;
    }

    /// Waits until the document marked before a navigation has been replaced and the new
    /// one has loaded.
    async fn wait_for_new_page(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let state =
                self.script("return window.__civic311_before === true ? 'old' : document.readyState", json!([])).await;
            if state == "complete" {
                return;
            }
            assert!(Instant::now() < deadline, "the next page did not load within 10 s");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Types `text` into the field matching `css` (after what it holds).
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call("POST", &format!("/element/{id}/value"), json!({ "text": text })).await;
    }

    /// Chooses the option with this value in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]")).await;
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call("GET", &format!("/element/{id}/text"), Value::Null).await.as_str().unwrap_or_default().to_owned()
    }

    /// The attribute `name` of the element matching `css` (read by the driver, so also
    /// where the page's scripts are off), or "" without one.
    pub async fn attribute(&self, css: &str, name: &str) -> String {
        let id = self.find(css).await;
        self.call("GET", &format!("/element/{id}/attribute/{name}"), Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's HTML as the browser holds it now.
    pub async fn source(&self) -> String {
        self.call("GET", "/source", Value::Null).await.as_str().unwrap_or_default().to_owned()
    }

    /// Presses keys and waits for the page they lead to (Enter in a form).
    pub async fn keys_to_new_page(&self, text: &str) {
        self.script("window.__civic311_before = true", json!([])).await;
        self.keys(text).await;
        self.wait_for_new_page().await;
    }

    /// Presses keys (WebDriver key codes, e.g. `\u{E004}` for Tab) on whatever has focus.
    pub async fn keys(&self, text: &str) {
        let actions: Vec<Value> = text
            .chars()
            .flat_map(|c| {
                [
                    json!({ "type": "keyDown", "value": c.to_string() }),
                    json!({ "type": "keyUp", "value": c.to_string() }),
                ]
            })
            .collect();
        self.call("POST", "/actions", json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] }))
            .await;
    }

    /// Waits until the JavaScript expression `condition` is true in the page (10 s at
    /// most; `what` says what was awaited when it never is).
    pub async fn wait_until(&self, condition: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.script(&format!("return !!({condition})"), json!([])).await != json!(true) {
            assert!(Instant::now() < deadline, "{what} did not happen within 10 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses Tab until what matches `css` has the focus, as someone without a mouse
    /// moves through a page; fails when 80 presses do not get there.
    pub async fn tab_to(&self, css: &str) {
        let focused = json!([css]);
        for _ in 0..80 {
            if self.script("return document.activeElement.matches(arguments[0])", focused.clone()).await == json!(true)
            {
                return;
            }
            self.keys("\u{E004}").await;
        }
        panic!("Tab never reached {css}");
    }

    /// Runs `script` in the page (its `arguments` are `args`) and returns its result;
    /// an `async` script's promise is awaited.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.call("POST", "/execute/sync", json!({ "script": script, "args": args })).await
    }

    /// Runs an `async` script: it gets a callback as its last argument and the call
    /// returns what that callback is given.
    pub async fn script_async(&self, script: &str, args: Value) -> Value {
        self.call("POST", "/execute/async", json!({ "script": script, "args": args })).await
    }

    /// Runs axe-core on the page and returns its serious and critical violations, each
    /// as `rule: help (selectors)`. axe-core comes from npm (`scripts/test` installs it;
    /// `CIVIC311_AXE` names the file).
    pub async fn accessibility_problems(&self) -> Vec<String> {
        let path = std::env::var_os("CIVIC311_AXE").map(PathBuf::from).unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/npm/node_modules/axe-core/axe.min.js")
        });
        let axe = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core is needed for the accessibility scans ({}: {e}): run the suite with scripts/test",
                path.display()
            )
        });
        self.script(&axe, json!([])).await;
        let result = self
            .script_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations), e => done([{ id: 'axe-failed', impact: 'critical', help: String(e), nodes: [] }]));",
                json!([]),
            )
            .await;
        result
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| {
                let targets: Vec<String> =
                    v["nodes"].as_array().into_iter().flatten().map(|n| n["target"].to_string()).collect();
                format!(
                    "{}: {} ({})",
                    v["id"].as_str().unwrap_or("?"),
                    v["help"].as_str().unwrap_or(""),
                    targets.join(", ")
                )
            })
            .collect()
    }

    /// Saves a PNG of the window as `name.png` in [`screenshot_dir`]; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.call("GET", "/screenshot", Value::Null).await;
        let png = base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap_or_default()).expect("PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Ends the session (closing the browser); the driver stops when dropped.
    pub async fn close(self) {
        let _ = self.http.delete(&self.session_url).send().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // About 2.5 MB each; a suite run opens dozens.
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
