//! The application in-process, called through `tower::ServiceExt::oneshot`.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use civic311_store::SharedStore;
use civic311_web::{AppState, Clock};
use http_body_util::BodyExt;
use jiff::Timestamp;
use tower::ServiceExt;

use crate::{Backend, fixture, fresh_database_url, open_store};

/// A response as tests look at it.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// The fixture city served in-process, with a clock the test sets.
pub struct TestApp {
    pub store: SharedStore,
    /// Where the store lives, so a test can open a second node on the same database.
    pub database_url: String,
    pub backend: Backend,
    pub state: AppState,
    router: Router,
    now: Arc<Mutex<Timestamp>>,
}

/// When the fixture's clock starts: a Tuesday afternoon in Testville.
pub const START: &str = "2026-03-03T15:00:00-06:00";

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |state| state).await
    }

    /// An app whose state is adjusted first (e.g. to send mail to a test SMTP server).
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(AppState) -> AppState) -> Self {
        let database_url = fresh_database_url(backend).await;
        let store = open_store(backend, &database_url).await;
        fixture::seed(store.as_ref()).await;
        Self::serving(backend, database_url, store, START.parse().expect("start time"), adjust).await
    }

    /// An app over a database something else filled (the demo's seeding, say), its
    /// clock starting at the real time.
    pub async fn over(backend: Backend, database_url: String) -> Self {
        let store = open_store(backend, &database_url).await;
        Self::serving(backend, database_url, store, Timestamp::now(), |state| state).await
    }

    async fn serving(
        backend: Backend,
        database_url: String,
        store: SharedStore,
        start: Timestamp,
        adjust: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let now = Arc::new(Mutex::new(start));
        let clock_now = Arc::clone(&now);
        let clock: Clock = Arc::new(move || *clock_now.lock().expect("clock"));
        let state = adjust(
            AppState::load(store.clone(), clock, Some("http://civic311.test".into()), civic311_codecs::codecs())
                .await
                .expect("load city"),
        );
        let router = civic311_web::router(state.clone());
        Self { store, database_url, backend, state, router, now }
    }

    /// A second store handle on the same database: another app node.
    pub async fn second_node(&self) -> SharedStore {
        open_store(self.backend, &self.database_url).await
    }

    /// Serves the app on a loopback port, for a real browser; returns its base URL.
    pub async fn listen(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        // Served as production serves it: the same router, connection info and shutdown.
        let state = self.state.clone();
        tokio::spawn(async move { civic311_web::serve(listener, state, std::future::pending()).await.expect("serve") });
        url
    }

    pub fn set_now(&self, t: &str) {
        *self.now.lock().expect("clock") = t.parse().expect("a timestamp");
    }

    pub fn now(&self) -> Timestamp {
        *self.now.lock().expect("clock")
    }

    pub async fn call(&self, req: Request<Body>) -> TestResponse {
        let resp = self.router.clone().oneshot(req).await.expect("the router never fails");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// Sends every request at once and waits for all the answers, in order.
    pub async fn call_all(&self, reqs: Vec<Request<Body>>) -> Vec<TestResponse> {
        let mut sent = tokio::task::JoinSet::new();
        for (i, req) in reqs.into_iter().enumerate() {
            let router = self.router.clone();
            sent.spawn(async move {
                let resp = router.oneshot(req).await.expect("the router never fails");
                let (status, headers) = (resp.status(), resp.headers().clone());
                let bytes = resp.into_body().collect().await.expect("body").to_bytes();
                (i, TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() })
            });
        }
        let mut answers = sent.join_all().await;
        answers.sort_by_key(|(i, _)| *i);
        answers.into_iter().map(|(_, r)| r).collect()
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.call(Request::get(uri).body(Body::empty()).expect("request")).await
    }

    pub async fn get_bytes(&self, uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        self.call_bytes(Request::get(uri).body(Body::empty()).expect("request")).await
    }

    /// [`Self::call`] with the body as it came, bytes not read as text (gzip, images).
    pub async fn call_bytes(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let resp = self.router.clone().oneshot(req).await.expect("router");
        let (status, headers) = (resp.status(), resp.headers().clone());
        (status, headers, resp.into_body().collect().await.expect("body").to_bytes().to_vec())
    }

    /// POSTs a form-encoded body.
    pub async fn post_form(&self, uri: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        let req = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.call(req).await
    }

    /// POSTs a multipart body with text fields and files `(field, filename, type, bytes)`.
    pub async fn post_multipart(
        &self,
        uri: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> TestResponse {
        self.call(multipart(uri, fields, files)).await
    }
}

/// A multipart POST of `fields` and `files` (field name, file name, content type, bytes).
pub fn multipart(uri: &str, fields: &[(&str, &str)], files: &[(&str, &str, &str, &[u8])]) -> Request<Body> {
    let boundary = "civic311-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    for (name, filename, ct, bytes) in files {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {ct}\r\n\r\n")
                .as_bytes(),
        );
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    Request::post(uri)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .expect("request")
}

/// Percent-encodes a form value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
