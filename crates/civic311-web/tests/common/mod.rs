//! What the workflow tests share: a city with a workflow configuration and staff with
//! API tokens, the staff API called as a user, and a pothole filed through Open311.

#![allow(clippy::unwrap_used, dead_code)]

use axum::body::Body;
use axum::http::Request;
use civic311_domain::org::{Role, StaffUser};
use civic311_domain::workflow::WorkflowConfig;
use civic311_testkit::app::TestResponse;
use civic311_testkit::fixture::{API_KEY, IN_W1};
use civic311_testkit::{Backend, TestApp};
use civic311_web::api::token_hash;

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
    };
    app.store.put_user(&user("sam", "SAN", Role::Supervisor)).await.unwrap();
    app.store.put_user(&user("ada", "TRIAGE", Role::Admin)).await.unwrap();
    app.store.put_user(&user("ali", "PW", Role::Analyst)).await.unwrap();
    for u in ["pat", "sam", "ada", "ali"] {
        app.store.put_user_token(&token_hash(&format!("{u}-token")), u, "test").await.unwrap();
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
pub fn smtp(mail: &civic311_testkit::smtp::SmtpServer) -> civic311_jobs::SmtpConfig {
    civic311_jobs::SmtpConfig {
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
