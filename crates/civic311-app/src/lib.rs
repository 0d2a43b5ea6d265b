//! civic311's application layer, between the store and the edges (the web surfaces,
//! background jobs and the command line). [`App`] holds what every edge shares — the
//! store, the city model it keeps current, the clock, the notifiers — and the modules
//! hold what the application does: intake for every channel ([`intake`]), staff and
//! resident actions ([`engine`], [`follow`]), configuration changes as one unit of
//! work each ([`configure`]), duplicates, passwords, photos and tokens. Every
//! operation that can be refused says why with one [`AppError`], which each edge maps
//! to its own format in one place.

pub mod addresses;
pub mod assets;
pub mod city;
pub mod configure;
pub mod duplicates;
pub mod engine;
pub mod error;
pub mod follow;
pub mod import;
pub mod intake;
pub mod layers;
pub mod notifiers;
pub mod open_data;
pub mod passwords;
pub mod photo;
pub mod reports;
pub mod rollup;
pub mod tokens;
pub mod typical;
pub mod weekly;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use civic311_domain::request::ServiceRequest;
use civic311_store::{SharedStore, StoreResult};
use jiff::Timestamp;

pub use city::{CityModel, LoadError};
pub use error::AppError;
pub use notifiers::Notifiers;

/// Where the current time comes from: the system clock in production, a movable one in tests.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
}

/// The slow, heavy work the application hands to implementations the binary supplies
/// (civic311-codecs): password hashing and photo decoding.
#[derive(Clone)]
pub struct Codecs {
    pub passwords: Arc<dyn passwords::PasswordHasher>,
    pub photos: Arc<dyn photo::PhotoDecoder>,
}

/// The application: what every edge shares. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub store: SharedStore,
    city: Arc<RwLock<Arc<CityModel>>>,
    pub clock: Clock,
    /// The address residents and staff reach this civic311 at (`CIVIC311_PUBLIC_URL`).
    /// Links in mail are built from it and nothing else; without it no link is mailed.
    pub public_url: Option<String>,
    /// The store's configuration version the loaded city reflects.
    version: Arc<AtomicI64>,
    /// Mail sent at once rather than through the outbox (password reset links, which
    /// must never be readable in the outbox); logged only until SMTP is configured.
    pub notifiers: Notifiers,
    /// The key that signs links in messages (confirm a follow, stop following); the
    /// same on every node, kept in the store.
    pub link_key: Arc<String>,
    /// Password hashing and photo decoding.
    pub codecs: Codecs,
    /// Typical times to resolve, lately worked out (see [`typical`]).
    pub typical: typical::Cache,
}

impl App {
    /// Loads the city's configuration from the store.
    pub async fn load(
        store: SharedStore,
        clock: Clock,
        public_url: Option<String>,
        codecs: Codecs,
    ) -> Result<Self, LoadError> {
        // Read before the city, so a change made meanwhile is loaded again later.
        let version = store.config_version().await?;
        let city = CityModel::load(store.as_ref()).await?;
        let candidate = format!("{}{}", tokens::new_token(), tokens::new_token());
        let link_key = Arc::new(store.link_key(&candidate).await?);
        Ok(Self {
            store,
            city: Arc::new(RwLock::new(Arc::new(city))),
            clock,
            public_url,
            version: Arc::new(AtomicI64::new(version)),
            notifiers: Notifiers::new(None, None),
            link_key,
            codecs,
            typical: typical::Cache::default(),
        })
    }

    /// The same application sending mail through `notifiers`.
    pub fn with_notifiers(mut self, notifiers: Notifiers) -> Self {
        self.notifiers = notifiers;
        self
    }

    /// The configuration as of now; cheap to call on every request.
    pub fn city(&self) -> Arc<CityModel> {
        match self.city.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The store's configuration version the loaded city reflects.
    pub fn config_version(&self) -> i64 {
        self.version.load(Ordering::Acquire)
    }

    /// Re-reads the configuration after it changed in the store.
    pub async fn reload(&self) -> Result<(), LoadError> {
        let version = self.store.config_version().await?;
        let fresh = Arc::new(CityModel::load_after(self.store.as_ref(), Some(&self.city())).await?);
        self.version.store(version, Ordering::Release);
        match self.city.write() {
            Ok(mut c) => *c = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    /// Reloads whenever the store's configuration version moves, so a change made
    /// through another app node (or `civic311 import`) is in effect here too: at once
    /// where the store announces changes (PostgreSQL's `LISTEN`/`NOTIFY`), and within
    /// `every` in any case (the fallback, and the only way on SQLite).
    pub async fn follow_config(self, every: Duration) {
        let mut notices = match self.store.config_notices().await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for configuration changes; checking every {every:?}");
                None
            }
        };
        // Checked once as soon as the listener is in place (a change made before it
        // was would not be announced), then whenever a notice comes or `every` passes.
        loop {
            match self.store.config_version().await {
                Ok(v) if v != self.config_version() => match self.reload().await {
                    Ok(()) => tracing::info!(version = v, "configuration changed elsewhere; reloaded"),
                    Err(e) => {
                        tracing::error!(error = %e, "the changed configuration could not be loaded; keeping the old")
                    }
                },
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not check the configuration version"),
            }
            match notices.as_mut() {
                Some(rx) => {
                    if let Ok(None) = tokio::time::timeout(every, rx.recv()).await {
                        tracing::warn!("configuration notices stopped; checking every {every:?}");
                        notices = None;
                    }
                }
                None => tokio::time::sleep(every).await,
            }
        }
    }

    /// The base of every link put in a message (password reset, "my requests",
    /// notifications): the configured public URL only — never a request's `Host`
    /// header, which whoever sends the request chooses. `None` when not configured.
    pub fn mail_base(&self) -> Option<&str> {
        self.public_url.as_deref().map(|u| u.trim_end_matches('/')).filter(|u| !u.is_empty())
    }

    /// The request a number names, matched whole: `2026-000042` is request 42 only if
    /// it was filed in 2026; a bare `42` is request 42.
    pub async fn request_named(&self, number: &str) -> StoreResult<Option<ServiceRequest>> {
        let Some((year, seq)) = civic311_domain::request::RequestId::parse(number) else { return Ok(None) };
        let found = self.store.request(seq).await?;
        Ok(found.filter(|r| year.is_none_or(|y| y == r.id.year)))
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }
}
