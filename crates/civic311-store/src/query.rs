//! Filters for listing requests, shared by Open311 and the staff API.

use civic311_domain::geo::Point;
use civic311_domain::request::Status;
use jiff::Timestamp;

/// Which requests to list. Empty lists mean "any". Results are newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestQuery {
    /// Request sequence numbers; when set, the other filters still apply.
    pub ids: Vec<i64>,
    pub service_codes: Vec<String>,
    /// Services whose requests must never be listed (internal-only ones on public APIs).
    pub exclude_services: Vec<String>,
    pub statuses: Vec<Status>,
    pub requested_from: Option<Timestamp>,
    pub requested_to: Option<Timestamp>,
    pub updated_from: Option<Timestamp>,
    pub updated_to: Option<Timestamp>,
    /// Within this many metres of a point.
    pub near: Option<(Point, f64)>,
    /// `min_lon, min_lat, max_lon, max_lat`.
    pub bbox: Option<[f64; 4]>,
    /// Owning departments, teams, assignees and priorities (staff filters).
    pub departments: Vec<String>,
    pub teams: Vec<String>,
    pub assignees: Vec<String>,
    pub priorities: Vec<civic311_domain::request::Priority>,
    /// Only requests whose resolution was due before this instant and are still open.
    pub overdue_at: Option<Timestamp>,
    /// Words that must all appear in the description (case-insensitive).
    pub text: Option<String>,
    /// Keyset cursor: only requests before `(requested_at µs, id)` in listing order.
    pub before: Option<(i64, i64)>,
    pub limit: u32,
    pub offset: u64,
}
