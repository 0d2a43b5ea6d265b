//! civic311's HTTP surface: the resident portal at `/` (report, track, rate, my
//! requests, browse, help), Open311 GeoReport v2 at `/open311/`, stored media at
//! `/media/`, the staff API at `/api/v1`, the staff workspace at `/staff`, and a
//! health check. HTTP only: handlers extract, call the application layer
//! (`civic311-app`) or read the store, and render; each surface maps the application's
//! one error to its own format in one place.

pub mod addresses;
pub mod api;
mod assets;
mod form;
mod headers;
pub use civic311_domain::i18n;
mod media;
pub mod open311;
pub mod open_data;
mod page;
mod portal;
mod questions;
pub mod throttle;
mod trace;
pub mod ui;

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

pub use civic311_app::{App, CityModel, Clock, LoadError, system_clock};

/// What every handler shares: the application, and what only HTTP needs.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// Where map tiles come from; without it maps are outlines drawn by civic311.
    pub map_tiles: Option<MapTiles>,
    /// Reverse proxies whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// This node's budgets per client address and per API key.
    pub throttles: Arc<throttle::Throttles>,
    /// The public dashboards built in the last minute.
    pub(crate) dashboards: Arc<open_data::DashboardCache>,
    /// Where the nightly open-data dumps are written and served from, when anywhere.
    pub dumps: Option<Arc<open_data::dumps::DumpConfig>>,
}

/// Handlers reach the application's store, city and clock through their state.
impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

/// A map tile source: a URL template with `{z}`, `{x}` and `{y}` (and optionally
/// `{s}`), and the attribution its licence asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapTiles {
    pub url: String,
    pub attribution: String,
}

impl AppState {
    /// The HTTP state around `app`: no map tiles, no trusted proxies, fresh budgets, no
    /// open-data dumps.
    pub fn new(app: App) -> Self {
        Self {
            app,
            map_tiles: None,
            trusted_proxies: Vec::new(),
            throttles: Arc::default(),
            dashboards: Arc::default(),
            dumps: None,
        }
    }

    /// Loads the application (see [`App::load`]) and wraps it.
    pub async fn load(
        store: civic311_store::SharedStore,
        clock: Clock,
        public_url: Option<String>,
        codecs: civic311_app::Codecs,
    ) -> Result<Self, LoadError> {
        Ok(Self::new(App::load(store, clock, public_url, codecs).await?))
    }

    /// The same state sending mail through `notifiers`.
    pub fn with_notifiers(mut self, notifiers: civic311_app::Notifiers) -> Self {
        self.app = self.app.with_notifiers(notifiers);
        self
    }

    /// The same state drawing maps over tiles from `tiles`.
    /// The same state writing nightly open-data dumps as `config` says (none without).
    pub fn with_open_data_dumps(mut self, config: Option<open_data::dumps::DumpConfig>) -> Self {
        self.dumps = config.map(Arc::new);
        self
    }

    pub fn with_map_tiles(mut self, tiles: Option<MapTiles>) -> Self {
        self.map_tiles = tiles;
        self
    }

    /// The same state taking the client's address from `X-Forwarded-For` when the
    /// connection comes from one of `proxies`.
    pub fn with_trusted_proxies(mut self, proxies: Vec<std::net::IpAddr>) -> Self {
        self.trusted_proxies = proxies;
        self
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let security = Arc::new(headers::SecurityHeaders::new(&state));
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/static/{hash}/{*name}", get(assets::serve))
        .merge(open311::router())
        .merge(media::router())
        .merge(api::router())
        .merge(portal::router())
        .merge(addresses::router())
        .merge(open_data::router())
        .merge(ui::router())
        .route_layer(axum::middleware::from_fn(trace::trace))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(axum::middleware::from_fn(move |req, next| headers::add(Arc::clone(&security), req, next)))
}

/// No route for the path: answered in the format of the surface the path belongs to.
async fn not_found(method: axum::http::Method, uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        let detail = format!("no operation {method} {}; see /api/v1/openapi.json", uri.path());
        return api::ApiError::new(axum::http::StatusCode::NOT_FOUND, "path", detail).into_response();
    }
    open311::not_found(method, uri).await
}

/// A known path asked with a method it does not serve: 405, with the methods it does in
/// `Allow` (set by the router), in the format of the surface.
async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    let path = uri.path();
    let detail = format!("{path} does not take {method}; the Allow header lists what it takes");
    if path.starts_with("/api/") {
        return api::ApiError::new(status, "method", detail).into_response();
    }
    if path.starts_with("/open311/") {
        return open311::method_not_allowed(path, detail);
    }
    (status, detail).into_response()
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address reaches handlers, for budgets per client.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
