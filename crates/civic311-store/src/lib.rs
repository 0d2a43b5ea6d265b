//! The storage contract of civic311: the [`Store`] trait every backend implements, its
//! query types, and [`sql::SqlStore`], the one implementation of that contract over SQL
//! that the SQLite and PostgreSQL backends plug their connections into.

pub mod error;
pub mod query;
pub mod sql;

use std::sync::Arc;

use async_trait::async_trait;
use civic311_domain::address::{AddressPoint, StreetSegment};
use civic311_domain::asset::Asset;
use civic311_domain::audit::SealedEvent;
use civic311_domain::city::CitySettings;
use civic311_domain::geo::BoundaryFeature;
use civic311_domain::kb::Article;
use civic311_domain::notify::Follower;
use civic311_domain::notify::Message;
use civic311_domain::org::{Department, StaffUser, Team};
use civic311_domain::request::{Event, EventKind, Media, NewRequest, ServiceRequest, Status};
use civic311_domain::routing::{Decision, RuleSet};
use civic311_domain::service::Service;
use civic311_domain::workflow::{NewEvent, TimerKind, WorkflowConfig};
use civic311_domain::workflow::{Timer, WorkflowState};
use jiff::Timestamp;

use civic311_domain::report::rollup::Grain;
pub use error::{StoreError, StoreResult};
pub use query::{RequestQuery, Sort, StaffSearch};
pub use sql::Rollup;

/// How many address points [`Store::address_points`] reads at once.
pub const ADDRESS_PAGE: u32 = 20_000;

/// Gives each of the city's address points to `f`, in id order, reading them a page
/// at a time.
pub async fn each_address_point<S: Store + ?Sized>(
    store: &S,
    mut f: impl FnMut(AddressPoint) + Send,
) -> StoreResult<()> {
    let mut after = String::new();
    loop {
        let page = store.address_points_after(&after, ADDRESS_PAGE).await?;
        let full = page.len() == ADDRESS_PAGE as usize;
        if let Some(last) = page.last() {
            after.clone_from(&last.id);
        }
        page.into_iter().for_each(&mut f);
        if !full {
            return Ok(());
        }
    }
}

/// Rows made on demand, afresh each time they are asked for: a layer of a million rows
/// is read from its file as it is written, never held whole.
#[derive(Clone)]
pub struct RowSource<T>(Arc<dyn Fn() -> Box<dyn Iterator<Item = T> + Send> + Send + Sync>);

impl<T> RowSource<T> {
    /// The rows `make` gives, each time it is called.
    pub fn new(make: impl Fn() -> Box<dyn Iterator<Item = T> + Send> + Send + Sync + 'static) -> Self {
        Self(Arc::new(make))
    }

    /// The rows, from the first.
    pub fn rows(&self) -> Box<dyn Iterator<Item = T> + Send> {
        (self.0)()
    }
}

impl<T: Clone + Send + Sync + 'static> From<Vec<T>> for RowSource<T> {
    fn from(rows: Vec<T>) -> Self {
        let rows = Arc::new(rows);
        Self::new(move || {
            let rows = Arc::clone(&rows);
            Box::new((0..rows.len()).filter_map(move |i| rows.get(i).cloned()))
        })
    }
}

impl<T> std::fmt::Debug for RowSource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RowSource")
    }
}

/// Two sources are the same when they are one source (their rows are not compared).
impl<T> PartialEq for RowSource<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A request ready to store: what was reported, how it was routed, and its lookup token.
#[derive(Debug, Clone)]
pub struct Intake {
    pub request: NewRequest,
    pub decision: Decision,
    /// Unguessable token for Open311 `GET tokens/{token}`.
    pub token: String,
    /// Set for historical imports: the request was closed at this time with this note.
    pub closed: Option<(jiff::Timestamp, String)>,
    /// The workflow state it starts with (its SLA clock).
    pub workflow: WorkflowState,
    /// Messages to send (the resident's acknowledgement, webhooks).
    pub messages: Vec<Message>,
    pub timers: Vec<Timer>,
    /// The member of staff who logged it on the caller's behalf (phone, walk-in);
    /// recorded as the actor of its `created` event.
    pub logged_by: Option<String>,
    /// For historical imports: what happened to it between its creation and now
    /// (status changes, transfers, follows, a rating), written as its events. Its
    /// status changes end before `closed`, which is written after them.
    pub history: Vec<PastEvent>,
    /// For requests imported from another system: their state as it recorded it.
    pub imported: Option<Imported>,
}

/// A request's state as another system (or an earlier export of ours) recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Where it came from and its id there (`nyc:58813212`); a request is imported
    /// from one source once ([`Store::imported_requests`]).
    pub source: String,
    /// The number to keep (an import of our own export), when no request has it yet.
    pub seq: Option<i64>,
    pub status: civic311_domain::request::Status,
    pub status_notes: Option<String>,
    pub updated_at: Timestamp,
    /// When it was resolved, closed or merged, if it is.
    pub closed_at: Option<Timestamp>,
    pub expected_at: Option<Timestamp>,
}

/// What open data may publish of a request, read without its contact details, answers
/// or staff fields (`civic311_app::open_data` decides what of it is published).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicRow {
    pub id: civic311_domain::request::RequestId,
    pub service_code: String,
    pub description: String,
    pub point: Option<civic311_domain::geo::Point>,
    pub address: Option<String>,
    pub status: civic311_domain::request::Status,
    pub status_notes: Option<String>,
    pub department: String,
    pub channel: civic311_domain::request::Channel,
    pub areas: std::collections::BTreeMap<String, String>,
    pub requested_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub expected_at: Option<Timestamp>,
    pub merged_into: Option<String>,
}

/// An event of an imported request's past.
#[derive(Debug, Clone)]
pub struct PastEvent {
    pub at: jiff::Timestamp,
    pub kind: civic311_domain::request::EventKind,
    pub actor: String,
    pub data: serde_json::Value,
}

impl Intake {
    /// The request as it will be stored, before it has a number (sequence 0): what
    /// timers and messages are computed from.
    pub fn provisional(&self) -> ServiceRequest {
        let r = &self.request;
        ServiceRequest {
            id: civic311_domain::request::RequestId::new(0, r.requested_at),
            service_code: r.service_code.clone(),
            description: r.description.as_str().to_owned(),
            location: r.location.clone(),
            answers: r.answers.clone(),
            channel: r.channel,
            contact: r.contact.clone(),
            status: civic311_domain::request::Status::Open,
            status_notes: None,
            assignment: self.decision.assignment.clone(),
            areas: r.areas.clone(),
            media_url: r.media_url.clone(),
            media_ids: Vec::new(),
            token: self.token.clone(),
            requested_at: r.requested_at,
            updated_at: r.requested_at,
            closed_at: None,
            expected_at: self.workflow.sla.as_ref().map(|c| c.resolution_due),
            workflow: self.workflow.clone(),
            version: 1,
        }
    }
}

/// A decided change to one request, applied as one unit with everything it causes.
#[derive(Debug, Clone)]
pub struct RequestUpdate {
    /// The request as it is after the change; its `version` is the one it was read at.
    pub request: ServiceRequest,
    pub events: Vec<NewEvent>,
    pub messages: Vec<Message>,
    /// The request's timers from now on (replacing the old ones).
    pub timers: Vec<Timer>,
    /// The timer this change carries out; the change fails if another node did it first.
    pub fired: Option<(TimerKind, Timestamp)>,
    pub follow: Vec<Follower>,
    /// Addresses that stop following.
    pub unfollow: Vec<String>,
    /// Moves the followers of this request here (a merge).
    pub followers_from: Option<i64>,
    pub media: Vec<Media>,
}

impl RequestUpdate {
    /// An update that writes `request` and nothing else yet.
    pub fn new(request: ServiceRequest) -> Self {
        Self {
            request,
            events: Vec::new(),
            messages: Vec::new(),
            timers: Vec::new(),
            fired: None,
            follow: Vec::new(),
            unfollow: Vec::new(),
            followers_from: None,
            media: Vec::new(),
        }
    }
}

/// One change to the city's configuration, for the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigChange {
    pub at: Timestamp,
    /// The member of staff who made it.
    pub actor: String,
    /// `department`, `team`, `user`, `service`, `rules`, `workflow`, `password`.
    pub kind: String,
    /// Which one (a code or username; empty for whole documents).
    pub item: String,
    /// What it became (never a secret: a password change records only that it happened).
    pub body: serde_json::Value,
}

/// One piece of configuration a change writes (see [`Store::change_config`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigWrite {
    Settings(CitySettings),
    Department(Department),
    Team(Team),
    /// A member of staff; one made inactive loses their sessions and tokens with it.
    User(StaffUser),
    Service(Service),
    /// A whole boundary layer, replacing the one of that name.
    BoundaryLayer {
        layer: String,
        features: Vec<BoundaryFeature>,
    },
    Rules(RuleSet),
    Workflow(WorkflowConfig),
    ApiKey(ApiKey),
    RevokeApiKey(String),
    Article(Article),
    DeleteArticle(String),
    /// A new password hash: the user's sessions, tokens and failed sign-ins go with the old one.
    Password {
        username: String,
        hash: String,
    },
    /// The whole address layer of `count` points, replacing the one before; `digest`
    /// names it. The points are made as they are written (from a file read again).
    Addresses {
        points: RowSource<AddressPoint>,
        count: usize,
        digest: String,
    },
    /// The whole street centreline layer, replacing the one before; `digest` names it.
    Streets {
        segments: Vec<StreetSegment>,
        digest: String,
    },
    /// Assets added or changed (by type and id; the others stay); `digest` names the
    /// import.
    Assets {
        assets: Vec<Asset>,
        digest: String,
    },
}

/// Open requests of one team, person and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub status: Status,
    pub open: i64,
    /// Past their resolution due time.
    pub overdue: i64,
    /// When the oldest of them was filed.
    pub oldest: Timestamp,
}

/// A password and its throttling state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// PHC string (`$argon2id$…`).
    pub password_hash: String,
}

/// A staff API token as listed: what it is for, when it was issued and when it
/// expires; `id` is the first 12 hex digits of its SHA-256, enough to revoke it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserToken {
    pub id: String,
    pub username: String,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

impl UserToken {
    /// How many hex digits of a token's hash name it in lists.
    pub const ID_LEN: usize = 12;
}

/// A signed-in browser. The cookie carries the token; only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub username: String,
    /// Every state-changing form of the session carries this value.
    pub csrf: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A stored photo, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub id: i64,
    pub content_type: String,
    pub public: bool,
}

/// Where a message in the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for its next try.
    Pending,
    /// Delivered.
    Sent,
    /// Given up on after its last try (a dead letter), until an administrator retries it.
    Dead,
}

impl OutboxState {
    pub const ALL: [OutboxState; 3] = [OutboxState::Pending, OutboxState::Sent, OutboxState::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxItem {
    pub id: i64,
    pub request_id: Option<i64>,
    pub message: Message,
    pub state: OutboxState,
    pub attempts: i64,
    pub next_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// What was sent (after delivery).
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// Which outbox messages to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct OutboxQuery {
    pub state: Option<OutboxState>,
    /// `email`, `sms` or `webhook`.
    pub channel: Option<String>,
    pub request: Option<i64>,
    pub limit: i64,
}

/// An Open311 API key, who it was issued to, and how many requests a minute it may
/// file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub key: String,
    pub label: String,
    /// POSTs a minute; `None` is unlimited (a trusted integration).
    pub per_minute: Option<u32>,
}

impl ApiKey {
    /// The budget of a key issued without one: five filings a second, sustained.
    pub const DEFAULT_PER_MINUTE: u32 = 300;
}

/// How one delivery attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        subject: String,
        body: String,
    },
    /// Failed; try again at `at`.
    Retry {
        at: Timestamp,
        error: String,
    },
    /// Failed for good: kept as a dead letter.
    Dead {
        error: String,
    },
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

    /// Up to `limit` of the city's address points whose ids come after `after`, in
    /// id order: a city's million points are read a page at a time.
    async fn address_points_after(&self, after: &str, limit: u32) -> StoreResult<Vec<AddressPoint>>;

    /// All the city's address points, in id order.
    async fn address_points(&self) -> StoreResult<Vec<AddressPoint>> {
        let mut all = Vec::new();
        each_address_point(self, |p| all.push(p)).await?;
        Ok(all)
    }

    /// The digest of a layer (`addresses`, `streets`, `assets`) as last imported;
    /// `None` before any import.
    async fn layer_digest(&self, layer: &str) -> StoreResult<Option<String>>;

    /// The city's street centreline segments, in id order.
    async fn street_segments(&self) -> StoreResult<Vec<StreetSegment>>;

    /// The city's assets, by type and id.
    async fn assets(&self) -> StoreResult<Vec<Asset>>;

    /// Replaces the whole routing rule set, keeping its order.
    async fn put_rules(&self, rules: &RuleSet) -> StoreResult<()>;
    async fn rules(&self) -> StoreResult<RuleSet>;
    /// Writes `writes` and records `audit` in one transaction, only if the
    /// configuration is still at version `checked_at` (the version the change was
    /// checked against), and moves the version on. The new version; `None` when the
    /// configuration changed since `checked_at` — then nothing was written.
    async fn change_config(
        &self,
        checked_at: i64,
        writes: Vec<ConfigWrite>,
        audit: ConfigChange,
    ) -> StoreResult<Option<i64>>;
    /// A channel that receives a message whenever any writer changes the
    /// configuration, where the database can announce it (PostgreSQL's
    /// `LISTEN`/`NOTIFY`); `None` where it cannot, and readers poll [`Self::config_version`].
    async fn config_notices(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
        Ok(None)
    }
    /// A number every configuration write increases (settings, organisation, services,
    /// boundaries, rules, keys, workflow), for app nodes to notice each other's changes.
    async fn config_version(&self) -> StoreResult<i64>;
    /// Adds a configuration change to the audit log.
    async fn record_config_change(&self, change: &ConfigChange) -> StoreResult<()>;
    /// The newest configuration changes first.
    async fn config_changes(&self, limit: i64) -> StoreResult<Vec<ConfigChange>>;

    async fn put_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    /// Every Open311 API key.
    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>>;
    /// Removes an API key at once; false when there was none.
    async fn revoke_api_key(&self, key: &str) -> StoreResult<bool>;

    /// Creates or replaces a knowledge-base article (by slug).
    async fn put_article(&self, article: &Article) -> StoreResult<()>;
    /// Removes an article; false when there was none.
    async fn delete_article(&self, slug: &str) -> StoreResult<bool>;
    /// Every article, public and internal, by title.
    async fn articles(&self) -> StoreResult<Vec<Article>>;

    /// Stores a new request with its `created` and `routed` events and its media.
    async fn create_request(&self, intake: Intake) -> StoreResult<ServiceRequest>;
    /// Stores many historical requests at once (demo data, imports), in one transaction.
    async fn import_requests(&self, batch: Vec<Intake>) -> StoreResult<u64>;
    /// Before a large import into a city holding fewer than `below` requests: sets
    /// aside the secondary indexes (and, PostgreSQL, the foreign keys) of the tables an
    /// import writes, to build them once at its end instead of row by row. How many it
    /// set aside; 0 when the city holds more or they are set aside already. Until
    /// [`Store::restore_indexes`] (or the store's next opening) reads that need them
    /// are slower, never wrong.
    async fn park_indexes(&self, below: i64) -> StoreResult<usize>;
    /// Builds again what [`Store::park_indexes`] set aside; how many indexes and keys.
    async fn restore_indexes(&self) -> StoreResult<usize>;
    /// After a bulk write (an import, the demo's seeding), lets reads of what it wrote
    /// be as fast as any: SQLite moves it from its write-ahead log into the database
    /// file (readers otherwise look every page up in the log first) and empties the
    /// log; PostgreSQL gathers the tables' statistics for its planner.
    async fn settle(&self) -> StoreResult<()>;
    /// Of `sources` (see [`Imported::source`]), those already imported, each with the
    /// number of the request imported from it.
    async fn imported_requests(
        &self,
        sources: &[String],
    ) -> StoreResult<Vec<(String, civic311_domain::request::RequestId)>>;
    /// Of the request numbers `seqs`, those taken.
    async fn taken_numbers(&self, seqs: &[i64]) -> StoreResult<Vec<i64>>;

    async fn request(&self, seq: i64) -> StoreResult<Option<ServiceRequest>>;
    async fn request_by_token(&self, token: &str) -> StoreResult<Option<ServiceRequest>>;
    async fn list_requests(&self, query: &RequestQuery) -> StoreResult<Vec<ServiceRequest>>;
    async fn count_requests(&self) -> StoreResult<i64>;
    /// The open-data change feed: requests matching `query`'s filters (not its sort,
    /// cursor or limit) whose last change comes after the cursor `after` =
    /// `(stamp, id)`, in the order the changes were committed, at most `limit`, each
    /// with its stamp. Resuming from the last pair never skips a change committed
    /// meanwhile nor repeats a request that has not changed again (see `sql::changes`).
    async fn changes(&self, query: &RequestQuery, after: (i64, i64), limit: u32) -> StoreResult<Vec<(i64, PublicRow)>>;
    /// What open data may publish of the requests `query` lists (its filters, cursor
    /// and limit; in filing order, oldest first, whatever its sort).
    async fn public_rows(&self, query: &RequestQuery) -> StoreResult<Vec<PublicRow>>;
    /// Text that differs whenever a request changed (an export's `ETag` is made of it).
    async fn change_mark(&self) -> StoreResult<String>;
    /// What a staff search finds, at most `limit`: the requests it names by number
    /// first, then those filed with or followed by its email address and those whose
    /// description, address, requester's name or phone hold all its words, newest
    /// first. Read from indexes (full-text ones for the words), never a scan.
    async fn search_requests(&self, search: &StaffSearch, limit: u32) -> StoreResult<Vec<ServiceRequest>>;
    /// How many requests match the filters of `query` (its sort, cursor and limit aside).
    async fn count_matching(&self, query: &RequestQuery) -> StoreResult<i64>;
    /// Open requests of these departments counted by team, person and status, with how
    /// many are past due at `now` and when the oldest was filed.
    async fn workload(&self, departments: &[String], now: Timestamp) -> StoreResult<Vec<Workload>>;
    /// The escalations since `since` of requests these departments now own, newest
    /// first, with the request's sequence number (read from a partial index on
    /// escalation events).
    async fn escalations(&self, departments: &[String], since: Timestamp, limit: u32)
    -> StoreResult<Vec<(i64, Event)>>;
    async fn events(&self, seq: i64) -> StoreResult<Vec<Event>>;
    /// The events of the given kinds of many requests at once, by request, oldest first.
    async fn events_of(&self, seqs: &[i64], kinds: &[EventKind]) -> StoreResult<Vec<(i64, Event)>>;
    /// A stored photo and the service code of the request it belongs to.
    async fn media(&self, id: i64) -> StoreResult<Option<(Media, String)>>;
    /// Every photo of a request, public and internal, oldest first (for staff).
    async fn photos(&self, seq: i64) -> StoreResult<Vec<Photo>>;

    /// The workflow configuration (calendars, SLAs, escalations, templates, webhooks).
    async fn workflow_config(&self) -> StoreResult<Option<WorkflowConfig>>;
    async fn put_workflow_config(&self, config: &WorkflowConfig) -> StoreResult<()>;

    /// Stores a staff API token by its SHA-256 (the token itself is never kept).
    /// Keeps the hash of a staff API token of `username`, issued at `created_at` and
    /// working until `expires_at` if given.
    async fn put_user_token(
        &self,
        token_sha256: &str,
        username: &str,
        label: &str,
        created_at: Timestamp,
        expires_at: Option<Timestamp>,
    ) -> StoreResult<()>;
    /// The member of staff a token belongs to, while it has not expired.
    async fn user_for_token(&self, token_sha256: &str, now: Timestamp) -> StoreResult<Option<StaffUser>>;
    /// A member of staff's API tokens, newest first (never the tokens themselves).
    async fn user_tokens(&self, username: &str) -> StoreResult<Vec<UserToken>>;
    /// Revokes the token of `username` listed as `id`; false when there is none.
    async fn revoke_user_token(&self, username: &str, id: &str) -> StoreResult<bool>;

    /// A member of staff's password hash and throttling state, if they have a password.
    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>>;
    /// Sets a password (its argon2id hash), clears failed attempts and ends every
    /// session of theirs.
    async fn set_password(&self, username: &str, hash: &str) -> StoreResult<()>;
    /// Counts a failed sign-in (or clears the count after a success) and records when
    /// the next attempt may come.
    /// Counts one sign-in attempt as `username` in `scope` (a client address, or
    /// [`civic311_domain::signin::EVERYWHERE`]) before its password is checked, so
    /// guesses sent at once cannot slip past the count: `Ok(())` when the attempt may
    /// be checked, `Err(until)` when the scope is locked until then. Any typed
    /// username is counted, known or not.
    async fn claim_sign_in(
        &self,
        username: &str,
        scope: &str,
        lockout: civic311_domain::signin::Lockout,
        now: Timestamp,
    ) -> StoreResult<Result<(), Timestamp>>;
    /// Forgets the counted attempts of `username` in `scope`, or in every scope.
    async fn clear_sign_ins(&self, username: &str, scope: Option<&str>) -> StoreResult<()>;
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// The unexpired session with this token hash, and its member of staff.
    async fn session(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<(Session, StaffUser)>>;
    async fn end_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Records a password reset link; false (nothing recorded) when one was already
    /// issued to this user after `not_since`, so a form cannot flood their inbox.
    async fn create_password_reset(
        &self,
        token_hash: &str,
        username: &str,
        now: Timestamp,
        expires_at: Timestamp,
        not_since: Timestamp,
    ) -> StoreResult<bool>;
    /// Whose unused, unexpired reset link this is.
    async fn password_reset_user(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<String>>;
    /// Uses the link: sets the password hash, ends the user's sessions and voids their
    /// other links, all at once; false when the link was used, expired or unknown.
    async fn finish_password_reset(&self, token_hash: &str, password_hash: &str, now: Timestamp) -> StoreResult<bool>;

    /// Records a link that lists a resident's requests, for the email address it is
    /// mailed to (kept lowercased); false (nothing recorded) when one was already sent
    /// to that address after `not_since`.
    async fn create_resident_link(
        &self,
        token_hash: &str,
        email: &str,
        now: Timestamp,
        expires_at: Timestamp,
        not_since: Timestamp,
    ) -> StoreResult<bool>;
    /// The address an unexpired resident link was sent to.
    async fn resident_link_email(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<String>>;

    /// Applies decided changes in one transaction; returns the requests as stored.
    async fn commit(&self, updates: Vec<RequestUpdate>) -> StoreResult<Vec<ServiceRequest>>;
    /// The confirmed followers of a request (those messages go to).
    async fn followers(&self, seq: i64) -> StoreResult<Vec<Follower>>;
    /// Records that `follower` asked to follow request `seq`, pending until the
    /// address confirms: false, recording nothing, when it already follows, when it was
    /// asked about this request after `since`, or when it was asked about `most`
    /// requests after `since` (so a form cannot flood an inbox).
    async fn ask_to_follow(
        &self,
        seq: i64,
        follower: &Follower,
        now: Timestamp,
        since: Timestamp,
        most: i64,
    ) -> StoreResult<bool>;
    /// The followers of `seq` still to confirm, asked after `asked_since`.
    async fn pending_followers(&self, seq: i64, asked_since: Timestamp) -> StoreResult<Vec<Follower>>;
    /// The key that signs links in messages: the stored one, or `candidate` stored now
    /// if there is none yet (every node then agrees on the first one written).
    async fn link_key(&self, candidate: &str) -> StoreResult<String>;

    /// Leases due timers: `(request, kind, due)`. Costs in proportion to what is due.
    async fn claim_timers(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<(i64, TimerKind, Timestamp)>>;
    /// Leases pending messages that are due.
    async fn claim_messages(&self, now: Timestamp, lease_until: Timestamp, limit: i64) -> StoreResult<Vec<OutboxItem>>;
    async fn finish_message(&self, id: i64, outcome: Delivery, now: Timestamp) -> StoreResult<()>;
    /// Gives up the lease on a claimed message untouched, so the next claim may take it.
    async fn release_message(&self, id: i64) -> StoreResult<()>;
    /// Outbox messages, newest first, optionally only of one state or one request.
    async fn outbox(&self, query: &OutboxQuery) -> StoreResult<Vec<OutboxItem>>;
    /// Puts a dead letter back in the queue; false if there is no such dead letter.
    async fn retry_message(&self, id: i64, now: Timestamp) -> StoreResult<bool>;

    /// Adds the requests written since the last drain to the report rollups: up to
    /// `limit` queued entries, each request recomputed by `rollup`, in one transaction.
    /// How many entries were taken (0 when none were waiting).
    async fn drain_reports(&self, limit: i64, rollup: Rollup) -> StoreResult<usize>;
    /// How many written requests the rollups have still to add.
    async fn reports_pending(&self) -> StoreResult<i64>;
    /// Empties the rollups and queues every request, so drains build them afresh; how
    /// many requests were queued.
    async fn reset_reports(&self) -> StoreResult<i64>;
    /// The cells of `cube` at `grain` starting on any of the days `starts`, each as
    /// `(start, dims, data)`: the data as [`civic311_domain::report::rollup::Cell::encode`] wrote it, for the reader to
    /// decode as much of as it needs.
    async fn report_cells(&self, cube: &str, grain: Grain, starts: &[i32]) -> StoreResult<Vec<(i32, String, String)>>;
    /// The first and last day any day cell of `cube` covers.
    async fn report_days(&self, cube: &str) -> StoreResult<Option<(i32, i32)>>;

    /// Queues `message` (about no request) as `department`'s report for `week`, unless
    /// one was queued already (by any node): true when this call queued it.
    async fn queue_weekly_report(
        &self,
        week: &str,
        department: &str,
        message: Message,
        at: Timestamp,
    ) -> StoreResult<bool>;

    /// Events with their hashes, ordered by request then id, after `(request, event)`.
    async fn sealed_events(&self, after: (i64, i64), limit: i64) -> StoreResult<Vec<SealedEvent>>;
    /// Events of the given kinds in a time range, oldest first, for change feeds.
    async fn events_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        kinds: &[EventKind],
        limit: i64,
    ) -> StoreResult<Vec<(i64, Event)>>;
}

/// The store as the rest of the program holds it.
pub type SharedStore = Arc<dyn Store>;
