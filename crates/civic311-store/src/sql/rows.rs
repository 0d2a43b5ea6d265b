//! Rows as both backends return them, and their mapping into the domain.

use civic311_domain::address::AddressPoint;
use civic311_domain::geo::{BoundaryFeature, Point, Polygon};
use civic311_domain::request::{
    Assignment, Channel, Contact, Event, EventKind, Location, Priority, RequestId, ServiceRequest, Status, from_micros,
};
use civic311_domain::workflow::WorkflowState;
use serde::de::DeserializeOwned;
use sqlx::FromRow;

use crate::error::{StoreError, StoreResult};

/// The columns of `requests`, in the order of [`REQUEST_COLUMNS`](super::writes::REQUEST_COLUMNS).
#[derive(Debug, FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub service_code: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub answers: String,
    pub channel: String,
    pub contact: String,
    pub status: String,
    pub status_notes: Option<String>,
    pub department: String,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub priority: String,
    pub tags: String,
    pub areas: String,
    pub media_url: Option<String>,
    pub media_ids: String,
    pub token: String,
    pub requested_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub expected_at: Option<i64>,
    pub workflow: String,
    pub version: i64,
}

impl RequestRow {
    /// A row from a JSON array of the columns in [`REQUEST_COLUMNS`](super::REQUEST_COLUMNS) order,
    /// as a backend that aggregates rows into JSON returns them.
    pub fn from_json_array(v: Vec<serde_json::Value>) -> StoreResult<Self> {
        use serde_json::Value;
        let bad = || StoreError::Corrupt("request row from JSON has the wrong shape".into());
        let mut it = v.into_iter();
        let mut next = || it.next().ok_or_else(bad);
        let text = |v: Value| match v {
            Value::String(s) => Ok(s),
            _ => Err(bad()),
        };
        let opt_text = |v: Value| match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            _ => Err(bad()),
        };
        let int = |v: Value| v.as_i64().ok_or_else(bad);
        let opt_int = |v: Value| if v.is_null() { Ok(None) } else { v.as_i64().map(Some).ok_or_else(bad) };
        // Coordinates may come as text, printed exactly.
        let opt_f64 = |v: Value| match v {
            Value::Null => Ok(None),
            Value::String(s) => s.parse::<f64>().map(Some).map_err(|_| bad()),
            v => v.as_f64().map(Some).ok_or_else(bad),
        };
        Ok(RequestRow {
            id: int(next()?)?,
            service_code: text(next()?)?,
            description: text(next()?)?,
            lat: opt_f64(next()?)?,
            lon: opt_f64(next()?)?,
            address: opt_text(next()?)?,
            address_id: opt_text(next()?)?,
            zipcode: opt_text(next()?)?,
            answers: text(next()?)?,
            channel: text(next()?)?,
            contact: text(next()?)?,
            status: text(next()?)?,
            status_notes: opt_text(next()?)?,
            department: text(next()?)?,
            team: opt_text(next()?)?,
            assignee: opt_text(next()?)?,
            priority: text(next()?)?,
            tags: text(next()?)?,
            areas: text(next()?)?,
            media_url: opt_text(next()?)?,
            media_ids: text(next()?)?,
            token: text(next()?)?,
            requested_at: int(next()?)?,
            updated_at: int(next()?)?,
            closed_at: opt_int(next()?)?,
            expected_at: opt_int(next()?)?,
            workflow: text(next()?)?,
            version: int(next()?)?,
        })
    }
}

fn json<T: DeserializeOwned>(what: &str, id: i64, text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("request {id} {what}: {e}")))
}

impl RequestRow {
    pub fn into_domain(self) -> StoreResult<ServiceRequest> {
        let id = self.id;
        let bad = |what: &str, v: &str| StoreError::Corrupt(format!("request {id} has unknown {what} '{v}'"));
        let point = match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => Some(Point { lat, lon }),
            _ => None,
        };
        let requested_at = from_micros(self.requested_at);
        Ok(ServiceRequest {
            id: RequestId::new(id, requested_at),
            status: Status::parse(&self.status).ok_or_else(|| bad("status", &self.status))?,
            channel: Channel::parse(&self.channel).ok_or_else(|| bad("channel", &self.channel))?,
            assignment: Assignment {
                department: self.department,
                team: self.team,
                assignee: self.assignee,
                priority: Priority::parse(&self.priority).ok_or_else(|| bad("priority", &self.priority))?,
                tags: json("tags", id, &self.tags)?,
            },
            answers: json("answers", id, &self.answers)?,
            contact: json::<Contact>("contact", id, &self.contact)?,
            areas: json("areas", id, &self.areas)?,
            media_ids: json("media_ids", id, &self.media_ids)?,
            service_code: self.service_code,
            description: self.description,
            location: Location { point, address: self.address, address_id: self.address_id, zipcode: self.zipcode },
            status_notes: self.status_notes,
            media_url: self.media_url,
            token: self.token,
            requested_at,
            updated_at: from_micros(self.updated_at),
            closed_at: self.closed_at.map(from_micros),
            expected_at: self.expected_at.map(from_micros),
            workflow: json("workflow", id, &self.workflow)?,
            version: self.version,
        })
    }
}

/// A row of `events`.
#[derive(Debug, FromRow)]
pub struct EventRow {
    pub id: i64,
    pub request_id: i64,
    pub at: i64,
    pub kind: String,
    pub actor: String,
    pub data: String,
}

impl EventRow {
    pub fn into_domain(self) -> StoreResult<Event> {
        Ok(Event {
            id: self.id,
            at: from_micros(self.at),
            data: serde_json::from_str(&self.data).map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?,
            kind: EventKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("event {} kind '{}'", self.id, self.kind)))?,
            actor: self.actor,
        })
    }
}

/// A configuration row kept as a JSON document.
#[derive(Debug, FromRow)]
pub struct BodyRow {
    pub body: String,
}

impl BodyRow {
    pub fn parse<T: DeserializeOwned>(&self, what: &str) -> StoreResult<T> {
        serde_json::from_str(&self.body).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
    }
}

/// A staff API token's row (its hash, never the token).
#[derive(Debug, FromRow)]
pub struct UserTokenRow {
    pub token_hash: String,
    pub username: String,
    pub label: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// A password hash.
#[derive(Debug, FromRow)]
pub struct CredentialsRow {
    pub password_hash: String,
}

/// A session joined with its user's body.
#[derive(Debug, FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub body: String,
}

/// Open requests of one team, person and status, counted.
#[derive(Debug, FromRow)]
pub struct WorkloadRow {
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub status: String,
    pub n: i64,
    pub overdue: i64,
    pub oldest: i64,
}

/// A configuration change from the audit log.
#[derive(Debug, FromRow)]
pub struct ConfigChangeRow {
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub item: String,
    pub body: String,
}

/// What open data publishes of a request, as [`PUBLIC_COLUMNS`](super::PUBLIC_COLUMNS)
/// selects it: no contact, answers or staff fields are ever read. Also read from a JSON
/// array of those columns (SQLite aggregates a page into one).
#[derive(Debug, FromRow, serde::Deserialize)]
pub struct PublicRowRaw {
    pub id: i64,
    pub service_code: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub status: String,
    pub status_notes: Option<String>,
    pub department: String,
    pub channel: String,
    pub areas: String,
    pub requested_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    pub expected_at: Option<i64>,
    /// The workflow state of a duplicate (for the request it was merged into).
    pub merged: Option<String>,
}

impl PublicRowRaw {
    pub fn into_domain(self) -> StoreResult<crate::PublicRow> {
        let id = self.id;
        let bad = |what: &str, v: &str| StoreError::Corrupt(format!("request {id} has unknown {what} '{v}'"));
        let requested_at = from_micros(self.requested_at);
        let merged_into = match self.merged {
            Some(w) => {
                serde_json::from_str::<WorkflowState>(&w)
                    .map_err(|e| StoreError::Corrupt(format!("request {id} workflow: {e}")))?
                    .merged_into
            }
            None => None,
        };
        Ok(crate::PublicRow {
            id: RequestId::new(id, requested_at),
            status: Status::parse(&self.status).ok_or_else(|| bad("status", &self.status))?,
            channel: Channel::parse(&self.channel).ok_or_else(|| bad("channel", &self.channel))?,
            areas: serde_json::from_str(&self.areas)
                .map_err(|e| StoreError::Corrupt(format!("request {id} areas: {e}")))?,
            service_code: self.service_code,
            description: self.description,
            point: match (self.lat, self.lon) {
                (Some(lat), Some(lon)) => Some(Point { lat, lon }),
                _ => None,
            },
            address: self.address,
            status_notes: self.status_notes,
            department: self.department,
            requested_at,
            updated_at: from_micros(self.updated_at),
            closed_at: self.closed_at.map(from_micros),
            expected_at: self.expected_at.map(from_micros),
            merged_into,
        })
    }
}

/// A request's change stamp and number, as the change feed orders them.
#[derive(Debug, FromRow)]
pub struct ChangeRow {
    pub changed: i64,
    pub id: i64,
}

/// A single count.
#[derive(Debug, FromRow)]
pub struct CountRow {
    pub n: i64,
}

/// A source id and the request imported from it.
#[derive(Debug, FromRow)]
pub struct SourceRow {
    pub source: String,
    pub id: i64,
    pub requested_at: i64,
}

/// A stored photo or file, with the service of its request.
#[derive(Debug, FromRow)]
pub struct MediaRow {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub public: i64,
    pub service_code: String,
}

/// A photo's description without its bytes.
#[derive(Debug, FromRow)]
pub struct PhotoRow {
    pub id: i64,
    pub content_type: String,
    pub public: i64,
}

/// What `INSERT INTO requests … RETURNING id, token` gives back.
#[derive(Debug, FromRow)]
pub struct IdTokenRow {
    pub id: i64,
    pub token: String,
}

/// An Open311 API key and who it is for.
#[derive(Debug, FromRow)]
pub struct ApiKeyRow {
    pub key: String,
    pub label: String,
    pub per_minute: Option<i64>,
}

/// A row of `boundary_features`; the geometry is JSON polygons.
#[derive(Debug, FromRow)]
pub struct BoundaryRow {
    pub layer: String,
    pub feature: String,
    pub name: String,
    pub geometry: String,
}

impl BoundaryRow {
    pub fn into_domain(self) -> StoreResult<BoundaryFeature> {
        let polygons: Vec<Polygon> = serde_json::from_str(&self.geometry)
            .map_err(|e| StoreError::Corrupt(format!("boundary {}/{}: {e}", self.layer, self.feature)))?;
        Ok(BoundaryFeature { layer: self.layer, feature: self.feature, name: self.name, polygons })
    }
}

/// A row of `addresses`.
#[derive(Debug, FromRow)]
pub struct AddressRow {
    pub id: String,
    pub number: String,
    pub street: String,
    pub unit: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

impl AddressRow {
    pub fn into_domain(self) -> StoreResult<AddressPoint> {
        let point = Point::new(self.lat, self.lon)
            .map_err(|e| StoreError::Corrupt(format!("address {}: {}", self.id, e.detail)))?;
        let AddressRow { id, number, street, unit, city, postcode, .. } = self;
        Ok(AddressPoint { id, number, street, unit, city, postcode, point })
    }
}

/// A claimed timer.
#[derive(Debug, FromRow)]
pub struct TimerRow {
    pub request_id: i64,
    pub kind: String,
    pub due_at: i64,
}

/// A row of the notification outbox.
#[derive(Debug, FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub request_id: Option<i64>,
    pub channel: String,
    pub recipient: String,
    pub kind: String,
    pub language: String,
    pub vars: String,
    pub state: String,
    pub attempts: i64,
    pub next_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// An event with its place in the hash chain.
#[derive(Debug, FromRow)]
pub struct SealedRow {
    pub id: i64,
    pub request_id: i64,
    pub at: i64,
    pub kind: String,
    pub actor: String,
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A follower of a request.
#[derive(Debug, FromRow)]
pub struct FollowerRow {
    pub address: String,
    pub channel: String,
    pub language: String,
}
