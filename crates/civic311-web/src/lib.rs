//! civic311's HTTP surface: the resident portal at `/` (report, track, rate, my
//! requests, browse, help), Open311 GeoReport v2 at `/open311/`, stored media at
//! `/media/`, the staff API at `/api/v1`, the staff workspace at `/staff`, and a
//! health check. Handlers are thin: extract, parse into domain types,
//! one store call, render.

pub mod api;
mod assets;
pub mod city;
pub mod configure;
pub mod duplicates;
pub mod follow;
mod form;
mod headers;
pub use civic311_domain::i18n;
pub mod intake;
mod media;
pub mod open311;
mod page;
pub mod passwords;
pub mod photo;
mod portal;
mod questions;
pub mod throttle;
mod trace;
pub mod ui;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::routing::get;
use civic311_store::SharedStore;
use jiff::Timestamp;
use tokio::net::TcpListener;

pub use city::{CityModel, LoadError};

/// Where the current time comes from: the system clock in production, a movable one in tests.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: SharedStore,
    city: Arc<RwLock<Arc<CityModel>>>,
    pub clock: Clock,
    /// The address residents and staff reach this civic311 at (`CIVIC311_PUBLIC_URL`).
    /// Links in mail are built from it and nothing else; without it no link is mailed.
    /// Open311 documents fall back to the request's Host for `media_url`.
    pub public_url: Option<String>,
    /// Held while a configuration change is checked, written and loaded.
    config_lock: Arc<tokio::sync::Mutex<()>>,
    /// The store's configuration version the loaded city reflects.
    version: Arc<AtomicI64>,
    /// Mail sent at once rather than through the outbox (password reset links, which
    /// must never be readable in the outbox); logged only until SMTP is configured.
    pub notifiers: civic311_jobs::Notifiers,
    /// Where map tiles come from; without it maps are outlines drawn by civic311.
    pub map_tiles: Option<MapTiles>,
    /// Reverse proxies whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// This node's budgets per client address and per API key.
    pub throttles: Arc<throttle::Throttles>,
    /// The key that signs links in messages (confirm a follow, stop following); the
    /// same on every node, kept in the store.
    pub link_key: Arc<String>,
}

/// A map tile source: a URL template with `{z}`, `{x}` and `{y}` (and optionally
/// `{s}`), and the attribution its licence asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapTiles {
    pub url: String,
    pub attribution: String,
}

impl AppState {
    /// Loads the city's configuration from the store.
    pub async fn load(store: SharedStore, clock: Clock, public_url: Option<String>) -> Result<Self, LoadError> {
        // Read before the city, so a change made meanwhile is loaded again later.
        let version = store.config_version().await?;
        let city = CityModel::load(store.as_ref()).await?;
        let candidate = format!("{}{}", intake::new_token(), intake::new_token());
        let link_key = Arc::new(store.link_key(&candidate).await?);
        Ok(Self {
            store,
            city: Arc::new(RwLock::new(Arc::new(city))),
            clock,
            public_url,
            config_lock: Arc::new(tokio::sync::Mutex::new(())),
            version: Arc::new(AtomicI64::new(version)),
            notifiers: civic311_jobs::Notifiers::new(None, None),
            map_tiles: None,
            trusted_proxies: Vec::new(),
            throttles: Arc::default(),
            link_key,
        })
    }

    /// The same state sending mail through `notifiers`.
    pub fn with_notifiers(mut self, notifiers: civic311_jobs::Notifiers) -> Self {
        self.notifiers = notifiers;
        self
    }

    /// The same state drawing maps over tiles from `tiles`.
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

    /// The configuration as of now; cheap to call on every request.
    pub fn city(&self) -> Arc<CityModel> {
        match self.city.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Re-reads the configuration after it changed in the store.
    pub async fn reload(&self) -> Result<(), LoadError> {
        let version = self.store.config_version().await?;
        let fresh = Arc::new(CityModel::load(self.store.as_ref()).await?);
        self.version.store(version, Ordering::Release);
        match self.city.write() {
            Ok(mut c) => *c = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    /// Reloads whenever the store's configuration version moves: a change made through
    /// another app node (or `civic311 import`) is in effect here within `every`.
    pub async fn follow_config(self, every: std::time::Duration) {
        loop {
            tokio::time::sleep(every).await;
            match self.store.config_version().await {
                Ok(v) if v != self.version.load(Ordering::Acquire) => match self.reload().await {
                    Ok(()) => tracing::info!(version = v, "configuration changed elsewhere; reloaded"),
                    Err(e) => {
                        tracing::error!(error = %e, "the changed configuration could not be loaded; keeping the old")
                    }
                },
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not check the configuration version"),
            }
        }
    }

    /// Serialises configuration changes on this node.
    pub async fn config_lock(&self) -> tokio::sync::OwnedMutexGuard<()> {
        Arc::clone(&self.config_lock).lock_owned().await
    }

    /// The base of every link put in a message (password reset, "my requests",
    /// notifications): the configured public URL only — never a request's `Host`
    /// header, which whoever sends the request chooses. `None` when not configured.
    pub fn mail_base(&self) -> Option<&str> {
        self.public_url.as_deref().map(|u| u.trim_end_matches('/')).filter(|u| !u.is_empty())
    }

    /// The request a number names, matched whole: `2026-000042` is request 42 only if
    /// it was filed in 2026; a bare `42` is request 42.
    pub async fn request_named(
        &self,
        number: &str,
    ) -> civic311_store::StoreResult<Option<civic311_domain::request::ServiceRequest>> {
        let Some((year, seq)) = civic311_domain::request::RequestId::parse(number) else { return Ok(None) };
        let found = self.store.request(seq).await?;
        Ok(found.filter(|r| year.is_none_or(|y| y == r.id.year)))
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
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
        .merge(ui::router())
        .route_layer(axum::middleware::from_fn(trace::trace))
        .fallback(open311::not_found)
        .method_not_allowed_fallback(open311::not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(move |req, next| headers::add(Arc::clone(&security), req, next)))
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
