//! The city's open data (docs/OPEN_DATA.md). Public: anyone may read it, signed in or
//! not; nothing personal or internal is ever in it (see `civic311_app::open_data`).
//!
//! `GET /open-data` describes it for people, `GET /data.json` for data portals (DCAT-US),
//! and `GET /open-data/requests.{csv,json,geojson}` streams every published request (in
//! filing order, filtered by `from`/`to`, `service_code` and boundary features), or,
//! given `cursor`, `updated_after` or `limit`, one page of the change feed.

mod catalogue;
mod dashboard;
pub mod dumps;
mod encode;
mod page;
mod params;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use civic311_app::city::CityModel;
use civic311_app::open_data::{columns, merge_targets, row};
use civic311_store::{PublicRow, RequestQuery};
use sha2::{Digest, Sha256};
use tokio::sync::OwnedSemaphorePermit;

pub(crate) use dashboard::Cache as DashboardCache;
pub use encode::Format;
use encode::{Sink, Writer};
use params::Mode;

use crate::AppState;

/// Rows read from the store at a time while a whole export streams.
const STREAM_PAGE: u32 = 5_000;

/// How long a client refused for want of a free export slot is asked to wait.
const RETRY_AFTER_SECS: u64 = 5;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/open-data", get(page::page))
        .route("/open-data/{file}", get(export))
        .route("/open-data/dumps/{name}", get(dumps::serve))
        .route("/data.json", get(catalogue::catalogue))
}

/// An export refused: 400 for a bad parameter (nothing is read), 404 for an unknown
/// file, 503 when every export slot is busy; in the format asked for.
struct Refusal {
    status: StatusCode,
    format: Option<Format>,
    detail: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut res = match self.format {
            Some(Format::Json | Format::GeoJson) => {
                let body = serde_json::json!({ "error": { "code": self.status.as_u16(), "description": self.detail } });
                (self.status, axum::Json(body)).into_response()
            }
            _ => {
                (self.status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], self.detail + "\n").into_response()
            }
        };
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        res
    }
}

/// `GET /open-data/requests.{csv,json,geojson}`.
async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(given): Query<Vec<(String, String)>>,
) -> Response {
    match answer(state, &headers, &file, &given).await {
        Ok(res) | Err(res) => res,
    }
}

async fn answer(
    state: AppState,
    headers: &HeaderMap,
    file: &str,
    given: &[(String, String)],
) -> Result<Response, Response> {
    let format = match file.strip_prefix("requests.").and_then(Format::from_extension) {
        Some(f) => f,
        None => {
            let detail =
                format!("no open-data file {file}; there are requests.csv, requests.json and requests.geojson");
            return Err(Refusal { status: StatusCode::NOT_FOUND, format: None, detail }.into_response());
        }
    };
    let refuse = |status: StatusCode, detail: String| Refusal { status, format: Some(format), detail }.into_response();
    let city = state.city();
    let ask = params::parse(given, &city).map_err(|d| refuse(StatusCode::BAD_REQUEST, d))?;
    let store_fault = |e: civic311_store::StoreError| {
        tracing::error!(error = %e, "open-data export");
        refuse(StatusCode::INTERNAL_SERVER_ERROR, "the export could not be read; try again".to_owned())
    };
    let gzip = accepts_gzip(headers);
    let mark = state.store.change_mark().await.map_err(store_fault)?;
    let version = state.store.config_version().await.map_err(store_fault)?;
    let etag = entity_tag(&[&mark, &version.to_string(), file, &canonical(given), if gzip { "gzip" } else { "" }]);
    let mut head = HeaderMap::new();
    head.insert(header::ETAG, etag.clone());
    head.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    head.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, no-cache"));
    if headers.get_all(header::IF_NONE_MATCH).iter().any(|v| matches_tag(v, &etag)) {
        return Ok((StatusCode::NOT_MODIFIED, head).into_response());
    }
    head.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if gzip {
        head.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    match ask.mode {
        Mode::Changes { after, limit } => {
            let found = state.store.changes(&ask.query, after, limit).await.map_err(store_fault)?;
            let next = found.last().map_or(after, |(stamp, r)| (*stamp, r.id.seq));
            let page: Vec<PublicRow> = found.into_iter().map(|(_, r)| r).collect();
            let targets = merge_targets(state.store.as_ref(), &city, &page).await.map_err(store_fault)?;
            let cols = columns(&city);
            let mut w = Writer { format, columns: &cols, tz: &city.tz, rows: 0 };
            let mut text = String::new();
            w.head(&mut text);
            for values in page.iter().filter_map(|r| row(&city, r, &targets)) {
                w.row(&values, &mut text);
            }
            w.tail(&mut text);
            let body =
                Sink::new(gzip).finish(text).map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            let link = format!("</open-data/{file}?{}>; rel=\"next\"", params::next_query(given, next));
            if let Ok(v) = HeaderValue::from_str(&link) {
                head.insert(header::LINK, v);
            }
            Ok((head, body).into_response())
        }
        Mode::Everything => {
            let Ok(permit) = Arc::clone(&state.throttles.exports.0).try_acquire_owned() else {
                let detail = "every export slot is busy; try again in a few seconds".to_owned();
                return Err(refuse(StatusCode::SERVICE_UNAVAILABLE, detail));
            };
            let disposition = format!("attachment; filename=\"requests.{}\"", format.extension());
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                head.insert(header::CONTENT_DISPOSITION, v);
            }
            let dump = Dump::new(state, ask.query, format, gzip, permit);
            let stream = futures_util::stream::unfold(dump, |mut d| async move {
                let chunk = d.step().await?;
                Some((chunk, d))
            });
            Ok((head, Body::from_stream(stream)).into_response())
        }
    }
}

/// Where a streamed export is.
enum Stage {
    Head,
    Rows,
    Done,
}

/// A whole export being streamed, a page of requests at a time.
struct Dump {
    state: AppState,
    city: Arc<CityModel>,
    query: RequestQuery,
    columns: Vec<String>,
    format: Format,
    sink: Option<Sink>,
    /// The `(filing time, number)` of the last request read.
    after: Option<(i64, i64)>,
    /// The next page, being read while this one is written.
    next: Option<tokio::task::JoinHandle<civic311_store::StoreResult<Vec<PublicRow>>>>,
    rows: u64,
    stage: Stage,
    /// Held until the stream ends (or the client goes away).
    _permit: OwnedSemaphorePermit,
}

impl Dump {
    /// A whole export of what `query` matches in `format`, gzipped when `gzip`, holding
    /// an export slot (`permit`) until it ends.
    fn new(state: AppState, query: RequestQuery, format: Format, gzip: bool, permit: OwnedSemaphorePermit) -> Self {
        let city = state.city();
        Dump {
            state,
            city,
            query,
            columns: Vec::new(),
            format,
            sink: Some(Sink::new(gzip)),
            after: None,
            next: None,
            rows: 0,
            stage: Stage::Head,
            _permit: permit,
        }
    }

    /// The next bytes to send; `None` once the body is complete. A failure ends the
    /// body early as an error, so the client sees a broken transfer, never a short file.
    async fn step(&mut self) -> Option<std::io::Result<Bytes>> {
        match self.stage {
            Stage::Done => None,
            Stage::Head => {
                self.stage = Stage::Rows;
                self.columns = columns(&self.city);
                let mut text = String::new();
                self.writer().head(&mut text);
                Some(self.push(text))
            }
            Stage::Rows => {
                let result = self.page().await;
                if result.is_err() {
                    self.stage = Stage::Done;
                }
                Some(result)
            }
        }
    }

    fn writer(&self) -> Writer<'_> {
        Writer { format: self.format, columns: &self.columns, tz: &self.city.tz, rows: self.rows }
    }

    fn push(&mut self, text: String) -> std::io::Result<Bytes> {
        match self.sink.as_mut() {
            Some(sink) => sink.push(text),
            None => Ok(Bytes::new()),
        }
    }

    /// Starts reading the page after `self.after`.
    fn read_ahead(&mut self) {
        let store = self.state.store.clone();
        let query = RequestQuery { after: self.after, limit: STREAM_PAGE, ..self.query.clone() };
        self.next = Some(tokio::spawn(async move { store.public_rows(&query).await }));
    }

    async fn page(&mut self) -> std::io::Result<Bytes> {
        if self.next.is_none() {
            self.read_ahead();
        }
        let reading = self.next.take().ok_or_else(|| std::io::Error::other("no page being read"))?;
        let page = reading.await.map_err(std::io::Error::other)?.map_err(std::io::Error::other)?;
        if let (Some(last), true) = (page.last(), page.len() == STREAM_PAGE as usize) {
            // The next page is read while this one is written.
            self.after = Some((last.requested_at.as_microsecond(), last.id.seq));
            self.read_ahead();
        }
        let targets =
            merge_targets(self.state.store.as_ref(), &self.city, &page).await.map_err(std::io::Error::other)?;
        let mut text = String::with_capacity(page.len() * 400);
        let mut w = self.writer();
        for values in page.iter().filter_map(|r| row(&self.city, r, &targets)) {
            w.row(&values, &mut text);
        }
        self.rows = w.rows;
        if page.len() < STREAM_PAGE as usize {
            self.writer().tail(&mut text);
            self.stage = Stage::Done;
            return self.sink.take().map_or(Ok(Bytes::new()), |s| s.finish(text));
        }
        self.push(text)
    }
}

/// True when the client takes gzip (`Accept-Encoding: gzip`, not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        },
    )
}

/// The parameters as given, in a fixed order, for the entity tag.
fn canonical(given: &[(String, String)]) -> String {
    let mut pairs: Vec<String> = given.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.sort();
    pairs.join("&")
}

/// A strong entity tag over `parts`.
fn entity_tag(parts: &[&str]) -> HeaderValue {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// True when an `If-None-Match` value names `tag` (or is `*`).
fn matches_tag(given: &HeaderValue, tag: &HeaderValue) -> bool {
    let Ok(given) = given.to_str() else { return false };
    let ours = tag.to_str().unwrap_or_default();
    given.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == "*" || t == ours)
}
