//! The storage contract of civic311: the [`Store`] trait every backend implements, its
//! query types, and [`sql::SqlStore`], the one implementation of that contract over SQL
//! that the SQLite and PostgreSQL backends plug their connections into.

pub mod error;
pub mod query;
pub mod sql;

use std::sync::Arc;

use async_trait::async_trait;
use civic311_domain::city::CitySettings;
use civic311_domain::geo::BoundaryFeature;
use civic311_domain::org::{Department, StaffUser, Team};
use civic311_domain::request::{Event, Media, NewRequest, ServiceRequest};
use civic311_domain::routing::{Decision, RuleSet};
use civic311_domain::service::Service;

pub use error::{StoreError, StoreResult};
pub use query::RequestQuery;

/// A request ready to store: what was reported, how it was routed, and its lookup token.
#[derive(Debug, Clone)]
pub struct Intake {
    pub request: NewRequest,
    pub decision: Decision,
    /// Unguessable token for Open311 `GET tokens/{token}`.
    pub token: String,
    /// Set for historical imports: the request was closed at this time with this note.
    pub closed: Option<(jiff::Timestamp, String)>,
}

/// Everything civic311 keeps. Each method is one whole unit of work: when it returns
/// `Ok`, the change is committed and survives a crash.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    async fn settings(&self) -> StoreResult<Option<CitySettings>>;
    async fn put_settings(&self, settings: &CitySettings) -> StoreResult<()>;

    async fn put_department(&self, department: &Department) -> StoreResult<()>;
    async fn departments(&self) -> StoreResult<Vec<Department>>;
    async fn put_team(&self, team: &Team) -> StoreResult<()>;
    async fn teams(&self) -> StoreResult<Vec<Team>>;
    async fn put_user(&self, user: &StaffUser) -> StoreResult<()>;
    async fn users(&self) -> StoreResult<Vec<StaffUser>>;

    /// Adds or replaces a service definition; its position in lists is kept.
    async fn put_service(&self, service: &Service) -> StoreResult<()>;
    async fn services(&self) -> StoreResult<Vec<Service>>;

    /// Replaces every feature of one boundary layer.
    async fn replace_boundary_layer(&self, layer: &str, features: &[BoundaryFeature]) -> StoreResult<()>;
    async fn boundary_features(&self) -> StoreResult<Vec<BoundaryFeature>>;

    /// Replaces the whole routing rule set, keeping its order.
    async fn put_rules(&self, rules: &RuleSet) -> StoreResult<()>;
    async fn rules(&self) -> StoreResult<RuleSet>;

    async fn put_api_key(&self, key: &str, label: &str) -> StoreResult<()>;
    /// Every Open311 API key.
    async fn api_keys(&self) -> StoreResult<Vec<String>>;

    /// Stores a new request with its `created` and `routed` events and its media.
    async fn create_request(&self, intake: Intake) -> StoreResult<ServiceRequest>;
    /// Stores many historical requests at once (demo data, imports), in one transaction.
    async fn import_requests(&self, batch: Vec<Intake>) -> StoreResult<u64>;

    async fn request(&self, seq: i64) -> StoreResult<Option<ServiceRequest>>;
    async fn request_by_token(&self, token: &str) -> StoreResult<Option<ServiceRequest>>;
    async fn list_requests(&self, query: &RequestQuery) -> StoreResult<Vec<ServiceRequest>>;
    async fn count_requests(&self) -> StoreResult<i64>;
    async fn events(&self, seq: i64) -> StoreResult<Vec<Event>>;
    /// The events of the given kinds of many requests at once, by request, oldest first.
    async fn events_of(&self, seqs: &[i64], kinds: &[&str]) -> StoreResult<Vec<(i64, Event)>>;
    /// A stored photo and the service code of the request it belongs to.
    async fn media(&self, id: i64) -> StoreResult<Option<(Media, String)>>;
}

/// The store as the rest of the program holds it.
pub type SharedStore = Arc<dyn Store>;
