//! What the workflow tests share: a city with a workflow configuration and staff with
//! API tokens, the staff API called as a user, and a pothole filed through Open311.

#![allow(clippy::unwrap_used, dead_code)]

use axum::body::Body;
use axum::http::Request;
use civic311_app::tokens::token_hash;
use civic311_domain::org::{Role, StaffUser};
use civic311_domain::workflow::WorkflowConfig;
use civic311_testkit::app::{TestResponse, encode};
use civic311_testkit::fixture::{API_KEY, IN_W1};
use civic311_testkit::{Backend, TestApp};
use serde_json::json;

pub const WORKFLOW: &str = r#"
[[calendar]]
name = "office"
time_zone = "America/Chicago"
[calendar.hours]
mon = ["08:00-17:00"]
tue = ["08:00-17:00"]
wed = ["08:00-17:00"]
thu = ["08:00-17:00"]
fri = ["08:00-17:00"]
[[calendar.holiday]]
name = "Memorial Day"
nth_weekday = { month = 5, weekday = "mon", n = -1 }

[[sla]]
name = "pothole"
services = ["POTHOLE"]
calendar = "office"
response = "4h"
resolution = "8h"

[[escalation]]
name = "standard"
[[escalation.level]]
at = "breach"
notify = ["supervisor"]
mark_escalated = true
notify_resident = true
"#;

/// Adds a member of staff (email `{username}@testville.example`) and reloads the city.
pub async fn add_staff(app: &TestApp, username: &str, department: &str, team: Option<&str>, role: Role) {
    let user = StaffUser {
        username: username.into(),
        display_name: username.into(),
        email: format!("{username}@testville.example"),
        department: department.into(),
        team: team.map(Into::into),
        role,
        also_departments: vec![],
        active: true,
        digest: Default::default(),
    };
    app.store.put_user(&user).await.unwrap();
    app.state.reload().await.unwrap();
}

pub async fn setup(backend: Backend) -> TestApp {
    setup_with(backend, |state| state).await
}

/// [`setup`] with the app's state adjusted first (mail to a test SMTP server, say).
pub async fn setup_with(
    backend: Backend,
    adjust: impl FnOnce(civic311_web::AppState) -> civic311_web::AppState,
) -> TestApp {
    let app = TestApp::spawn_with(backend, adjust).await;
    let user = |name: &str, dept: &str, role| StaffUser {
        username: name.into(),
        display_name: name.into(),
        email: format!("{name}@testville.example"),
        department: dept.into(),
        team: None,
        role,
        also_departments: vec![],
        active: true,
        digest: Default::default(),
    };
    app.store.put_user(&user("sam", "SAN", Role::Supervisor)).await.unwrap();
    app.store.put_user(&user("ada", "TRIAGE", Role::Admin)).await.unwrap();
    app.store.put_user(&user("ali", "PW", Role::Analyst)).await.unwrap();
    for u in ["pat", "sam", "ada", "ali"] {
        give_token(&app, u).await;
    }
    let config: WorkflowConfig = toml::from_str(WORKFLOW).unwrap();
    app.store.put_workflow_config(&config).await.unwrap();
    app.state.reload().await.unwrap();
    app
}

pub async fn api(
    app: &TestApp,
    method: &str,
    uri: &str,
    user: Option<&str>,
    body: Option<serde_json::Value>,
) -> TestResponse {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(u) = user {
        req = req.header("authorization", format!("Bearer {u}-token"));
    }
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    app.call(req.body(body).unwrap()).await
}

/// Files a pothole at a point through Open311 with `extra` fields; the raw response.
pub async fn post_pothole(app: &TestApp, at: (f64, f64), description: &str, extra: &[(&str, &str)]) -> TestResponse {
    let (lat, long) = (at.0.to_string(), at.1.to_string());
    let mut fields = vec![
        ("api_key", API_KEY),
        ("service_code", "POTHOLE"),
        ("lat", lat.as_str()),
        ("long", long.as_str()),
        ("description", description),
    ];
    fields.extend_from_slice(extra);
    app.post_form("/open311/v2/requests.json", &fields).await
}

/// A large pothole in ward 1 from a resident who wants updates by email and SMS, in Spanish.
pub async fn file_pothole(app: &TestApp) -> String {
    let extra = [
        ("attribute[SIZE]", "large"),
        ("phone", "+15550100"),
        ("email", "res@example.test"),
        ("notify", "both"),
        ("language", "es"),
    ];
    let r = post_pothole(app, IN_W1, "Deep pothole", &extra).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()[0]["service_request_id"].as_str().unwrap().to_owned()
}

/// Mail from the city through the test SMTP server `mail`.
pub fn smtp(mail: &civic311_testkit::smtp::SmtpServer) -> civic311_app::notifiers::SmtpConfig {
    civic311_app::notifiers::SmtpConfig {
        host: "127.0.0.1".into(),
        port: mail.port,
        from: "311@testville.example".into(),
        credentials: None,
    }
}

/// A staff action on a request through the API, as `user`; the request afterwards.
pub async fn act(app: &TestApp, id: &str, user: &str, action: serde_json::Value) -> serde_json::Value {
    let r = api(app, "POST", &format!("/api/v1/requests/{id}/actions"), Some(user), Some(action)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// A 1×1 PNG, as a tile.
const TILE: [u8; 70] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f, 0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba,
    0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A local tile server: every `/tiles/{z}/{x}/{y}` is a PNG; the count of tiles served.
pub async fn tile_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let served = std::sync::Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let app = axum::Router::new().route(
        "/tiles/{*zxy}",
        axum::routing::get(move || {
            count.fetch_add(1, Ordering::SeqCst);
            async { ([(axum::http::header::CONTENT_TYPE, "image/png")], TILE.as_slice()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/tiles/{{z}}/{{x}}/{{y}}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, served)
}

pub const PASSWORD: &str = "pothole patrol 42";

/// A browser's cookie jar, just enough for these pages.
#[derive(Default)]
pub struct Browser {
    pub cookies: Vec<(String, String)>,
    /// Headers sent with every request (a forged `Host`, say).
    pub headers: Vec<(String, String)>,
    /// The client address the server sees; 127.0.0.1 when `None`.
    pub from: Option<std::net::SocketAddr>,
}

impl Browser {
    /// A browser at client address `ip`.
    pub fn at(ip: &str) -> Self {
        Self { from: Some(std::net::SocketAddr::new(ip.parse().unwrap(), 50_000)), ..Self::default() }
    }

    fn send(&self, req: axum::http::request::Builder) -> axum::http::request::Builder {
        let mut req = req.header("cookie", self.header());
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match self.from {
            Some(addr) => req.extension(axum::extract::ConnectInfo(addr)),
            None => req,
        }
    }

    pub fn header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub fn keep(&mut self, r: &TestResponse) {
        for v in r.headers.get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.contains("Max-Age=0") {
                self.cookies.push((k.to_owned(), val.to_owned()));
            }
        }
    }

    pub async fn get(&mut self, app: &TestApp, uri: &str) -> TestResponse {
        let req = self.send(Request::get(uri)).body(Body::empty()).unwrap();
        let r = app.call(req).await;
        self.keep(&r);
        r
    }

    pub async fn post(&mut self, app: &TestApp, uri: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = fields.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&");
        let req = self
            .send(Request::post(uri))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let r = app.call(req).await;
        self.keep(&r);
        r
    }

    /// Opens the sign-in form and sends it; the response to the POST.
    pub async fn sign_in(&mut self, app: &TestApp, user: &str, password: &str, next: &str) -> TestResponse {
        let form = self.get(app, &format!("/staff/sign-in?next={}", encode(next))).await;
        assert_eq!(form.status, 200);
        let csrf = hidden(&form.body, "csrf");
        self.post(app, "/staff/sign-in", &[("username", user), ("password", password), ("csrf", &csrf), ("next", next)])
            .await
    }
}

/// Text as a browser reads it back from HTML.
pub fn unescape(html: &str) -> String {
    let pairs = [("&#34;", "\""), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&#38;", "&"), ("&amp;", "&")];
    pairs.iter().fold(html.to_owned(), |s, (from, to)| s.replace(from, to))
}

/// The value of a hidden field on a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no {name} field in {page}")) + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Sets `user`'s password as an administrator would. A new password revokes the
/// user's API tokens, so the fixture's `{user}-token` is issued again afterwards.
pub async fn set_password(app: &TestApp, user: &str, password: &str) -> TestResponse {
    let r = api(
        app,
        "PUT",
        &format!("/api/v1/config/users/{user}/password"),
        Some("ada"),
        Some(json!({ "password": password })),
    )
    .await;
    if r.status == 200 {
        give_token(app, user).await;
    }
    r
}

/// Issues the fixture's API token `{user}-token`.
pub async fn give_token(app: &TestApp, user: &str) {
    let hash = token_hash(&format!("{user}-token"));
    app.store.put_user_token(&hash, user, "test", app.now(), None).await.unwrap();
}

/// Confirms a follow of request `id` (`2026-000001`) by `address`, as its owner would
/// from the link mailed to it; the response to the confirming POST.
pub async fn confirm_follow(app: &TestApp, id: &str, address: &str) -> TestResponse {
    let seq: i64 = id.split('-').nth(1).unwrap().parse().unwrap();
    let sig = civic311_domain::notify::link_signature(
        &app.state.link_key,
        civic311_domain::notify::LinkPurpose::Confirm,
        seq,
        address,
    );
    let r = app.post_form(&format!("/requests/{id}/confirm/{sig}"), &[]).await;
    assert_eq!(r.status, 303, "confirming {address}: {}", r.body);
    r
}

/// Makes `service` sensitive in open data: its text withheld, its place published to
/// the block.
pub async fn publish_to_the_block(app: &TestApp, service: &str) {
    use civic311_domain::service::{OpenDataPolicy, Precision};
    publish_as(app, service, OpenDataPolicy { withhold_text: true, location: Precision::Block }).await;
}

/// Gives `service` the open-data `policy`.
pub async fn publish_as(app: &TestApp, service: &str, policy: civic311_domain::service::OpenDataPolicy) {
    let mut s = app.state.city().service(service).unwrap().clone();
    s.open_data = policy;
    app.store.put_service(&s).await.unwrap();
    app.state.reload().await.unwrap();
}

/// Files a bulk-item pickup at 1234 Elm St (41.01234, -87.98766, ward 2) with
/// `description` and `extra` fields through Open311; its number.
pub async fn file_bulk_on_elm(app: &TestApp, description: &str, extra: &[(&str, &str)]) -> String {
    let mut fields = vec![
        ("api_key", API_KEY),
        ("service_code", "BULK"),
        ("lat", "41.01234"),
        ("long", "-87.98766"),
        ("address_string", "1234 Elm St"),
        ("description", description),
    ];
    fields.extend_from_slice(extra);
    let r = app.post_form("/open311/v2/requests.json", &fields).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()[0]["service_request_id"].as_str().unwrap().to_owned()
}

/// A new database holding the demo city and `requests` requests of its history, seeded
/// by the command line as a city would; its URL.
pub async fn seeded_demo(backend: Backend, requests: usize) -> String {
    let url = civic311_testkit::fresh_database_url(backend).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_civic311"))
        .args(["demo", "--seed-only", "--requests", &requests.to_string(), "--database-url", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    url
}
