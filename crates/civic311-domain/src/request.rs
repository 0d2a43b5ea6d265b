//! Service requests: what a resident reports, where, through which channel, and what
//! the city has decided about it.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::geo::Point;
use crate::notify::NotifyChannel;
use crate::service::Answers;
use crate::workflow::WorkflowState;

/// Where a request is in its life. Open311 sees only `open` and `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Open,
    InProgress,
    OnHold,
    WaitingOnResident,
    Resolved,
    Closed,
    Duplicate,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::New,
        Status::Open,
        Status::InProgress,
        Status::OnHold,
        Status::WaitingOnResident,
        Status::Resolved,
        Status::Closed,
        Status::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::InProgress => "in_progress",
            Status::OnHold => "on_hold",
            Status::WaitingOnResident => "waiting_on_resident",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
            Status::Duplicate => "duplicate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The statuses of work still to do, in the order every query and index of open
    /// work names them.
    pub const ACTIVE: [Status; 5] =
        [Status::New, Status::Open, Status::InProgress, Status::OnHold, Status::WaitingOnResident];

    /// The statuses of work still to do as SQL: `'new', 'open', …` — the text of the
    /// open-work indexes' `WHERE status IN (…)`, which a query must repeat exactly for
    /// the database to use them.
    pub fn active_sql() -> &'static str {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        SQL.get_or_init(|| Self::ACTIVE.map(|s| format!("'{}'", s.as_str())).join(", "))
    }

    /// True once the city considers the work done.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed | Status::Duplicate)
    }

    /// The Open311 status: `open` or `closed`.
    pub fn open311(self) -> &'static str {
        if self.is_closed() { "closed" } else { "open" }
    }

    /// Every detailed status that maps to an Open311 status (`open` / `closed`).
    pub fn from_open311(s: &str) -> Option<Vec<Status>> {
        match s {
            "open" => Some(Self::ALL.into_iter().filter(|x| !x.is_closed()).collect()),
            "closed" => Some(Self::ALL.into_iter().filter(|x| x.is_closed()).collect()),
            _ => None,
        }
    }
}

/// How urgent a request is, lowest to highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How the request reached the city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Web,
    /// A mobile or third-party app through Open311.
    Mobile,
    Phone,
    Sms,
    Email,
    WalkIn,
    Internal,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::Web,
        Channel::Mobile,
        Channel::Phone,
        Channel::Sms,
        Channel::Email,
        Channel::WalkIn,
        Channel::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Mobile => "mobile",
            Channel::Phone => "phone",
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::WalkIn => "walk_in",
            Channel::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Where the problem is. At least one of point, address or address id is present.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Location {
    pub point: Option<Point>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
}

/// The requester's contact details. Private: never part of a public document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// How the requester wants to hear about the request; by email when unset and an
    /// address was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyChannel>,
    /// The requester's language (`en`, `es`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The problem in the resident's words: plain text, at most 4000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let s = s.trim();
        if s.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new("description", format!("at most {} characters", Self::MAX_CHARS)));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
            return Err(FieldError::new("description", "contains control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A photo or other file attached to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// Public media are served to anyone and listed in Open311; internal ones only to staff.
    pub public: bool,
}

/// A request as accepted at intake, before the store gives it an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub service_code: String,
    pub description: Description,
    pub location: Location,
    pub answers: Answers,
    pub channel: Channel,
    pub contact: Contact,
    /// A link to media the requester hosts elsewhere.
    pub media_url: Option<String>,
    pub media: Vec<Media>,
    /// Boundary features the point falls in, by layer name.
    pub areas: BTreeMap<String, String>,
    pub requested_at: Timestamp,
}

/// Who owns a request and how urgent it is, as decided by routing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub department: String,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub priority: Priority,
    pub tags: Vec<String>,
}

/// A stored service request.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRequest {
    pub id: RequestId,
    pub service_code: String,
    pub description: String,
    pub location: Location,
    pub answers: Answers,
    pub channel: Channel,
    pub contact: Contact,
    pub status: Status,
    pub status_notes: Option<String>,
    pub assignment: Assignment,
    pub areas: BTreeMap<String, String>,
    pub media_url: Option<String>,
    /// Ids of media stored with the request, served by the media endpoint.
    pub media_ids: Vec<i64>,
    pub token: String,
    pub requested_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    /// The SLA resolution due time (Open311 `expected_datetime`); none while the clock
    /// is paused (on hold, waiting on the resident).
    pub expected_at: Option<Timestamp>,
    pub workflow: WorkflowState,
    /// Bumped by every change; a change made on a stale copy is refused.
    pub version: i64,
}

impl ServiceRequest {
    /// True while the work is still to do, its SLA clock runs, and its resolution due
    /// time has passed: the resident is shown "Delayed".
    pub fn delayed(&self, now: Timestamp) -> bool {
        !self.status.is_closed() && self.workflow.sla.as_ref().and_then(|c| c.due()).is_some_and(|due| due < now)
    }

    /// The date the resident is told to expect: the new date set when the request was
    /// delayed, else the SLA resolution due time.
    pub fn expected_by(&self) -> Option<Timestamp> {
        let due = self.expected_at;
        self.workflow.new_expected.filter(|n| due.is_none_or(|d| *n > d)).or(due)
    }
}

/// A request's public number: the year it was filed and a sequence, `2026-000042`.
/// The sequence alone identifies the request; the year is checked on lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId {
    pub seq: i64,
    pub year: i16,
}

impl RequestId {
    pub fn new(seq: i64, requested_at: Timestamp) -> Self {
        let year = requested_at.to_zoned(jiff::tz::TimeZone::UTC).year();
        Self { seq, year }
    }

    /// Parses `2026-000042` as people type it: with or without its dash (`2026000042`),
    /// with spaces (`2026 000042`), a leading `#` or a typographic dash; a bare
    /// sequence number (`42`) is accepted too.
    pub fn parse(s: &str) -> Option<(Option<i16>, i64)> {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '#')
            .map(|c| if matches!(c, '\u{2010}'..='\u{2015}' | '\u{2212}') { '-' } else { c })
            .collect();
        let digits = |n: &str| !n.is_empty() && n.len() <= 15 && n.bytes().all(|b| b.is_ascii_digit());
        let (year, seq) = match s.split_once('-') {
            Some((y, n)) if y.len() == 4 && digits(y) && digits(n) => (Some(y.parse::<i16>().ok()?), n),
            Some(_) => return None,
            // Ten digits or more starting with a year are a number typed without its dash.
            None if s.len() >= 10 && digits(&s) && (s.starts_with("19") || s.starts_with("2")) => {
                (Some(s[..4].parse::<i16>().ok()?), &s[4..])
            }
            None if digits(&s) => (None, s.as_str()),
            None => return None,
        };
        let seq = seq.parse::<i64>().ok().filter(|n| *n > 0)?;
        Some((year, seq))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:06}", self.year, self.seq)
    }
}

/// What happened to a request: the kind of an entry in its history, stored and sent
/// (to webhooks, through the API) as its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Routed,
    StatusChanged,
    Acknowledged,
    Assigned,
    Transferred,
    Involved,
    PriorityChanged,
    Note,
    PhotosAttached,
    Reopened,
    Merged,
    MergedIn,
    Rated,
    Followed,
    Unfollowed,
    Escalated,
    ResponseOverdue,
    Reminder,
}

impl EventKind {
    pub const ALL: [EventKind; 19] = [
        EventKind::Created,
        EventKind::Routed,
        EventKind::StatusChanged,
        EventKind::Acknowledged,
        EventKind::Assigned,
        EventKind::Transferred,
        EventKind::Involved,
        EventKind::PriorityChanged,
        EventKind::Note,
        EventKind::PhotosAttached,
        EventKind::Reopened,
        EventKind::Merged,
        EventKind::MergedIn,
        EventKind::Rated,
        EventKind::Followed,
        EventKind::Unfollowed,
        EventKind::Escalated,
        EventKind::ResponseOverdue,
        EventKind::Reminder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Routed => "routed",
            EventKind::StatusChanged => "status_changed",
            EventKind::Acknowledged => "acknowledged",
            EventKind::Assigned => "assigned",
            EventKind::Transferred => "transferred",
            EventKind::Involved => "involved",
            EventKind::PriorityChanged => "priority_changed",
            EventKind::Note => "note",
            EventKind::PhotosAttached => "photos_attached",
            EventKind::Reopened => "reopened",
            EventKind::Merged => "merged",
            EventKind::MergedIn => "merged_in",
            EventKind::Rated => "rated",
            EventKind::Followed => "followed",
            EventKind::Unfollowed => "unfollowed",
            EventKind::Escalated => "escalated",
            EventKind::ResponseOverdue => "response_overdue",
            EventKind::Reminder => "reminder",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An entry in a request's history. Events are only ever appended.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event's id: increasing over all requests.
    pub id: i64,
    pub at: Timestamp,
    pub kind: EventKind,
    /// Who acted: `resident`, `system`, `rule`, or a staff username.
    pub actor: String,
    pub data: serde_json::Value,
}

/// Event kinds that can be part of a request's public history (Open311 `notes` with
/// `extensions=true`, the update feed, the portal's timeline); notes only when staff
/// made them public.
pub const PUBLIC_EVENT_KINDS: [EventKind; 3] = [EventKind::Created, EventKind::StatusChanged, EventKind::Note];

impl Event {
    /// True for events the public may see: see [`PUBLIC_EVENT_KINDS`].
    pub fn is_public(&self) -> bool {
        match self.kind {
            EventKind::Note => self.data.get("public").and_then(serde_json::Value::as_bool) == Some(true),
            k => PUBLIC_EVENT_KINDS.contains(&k),
        }
    }
}

/// Rounds to whole microseconds, the precision both stores keep.
pub fn to_micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// The timestamp of a stored microsecond count.
pub fn from_micros(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_round_trip() {
        let t: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        let id = RequestId::new(42, t);
        assert_eq!(id.to_string(), "2026-000042");
        assert_eq!(RequestId::parse("2026-000042"), Some((Some(2026), 42)));
        assert_eq!(RequestId::parse("42"), Some((None, 42)));
        assert_eq!(RequestId::parse("x-1"), None);
        assert_eq!(RequestId::parse("2026-0"), None);
        // As people type it: without its dash, with spaces, a hash or a typographic dash.
        for typed in ["2026000042", " 2026 000042 ", "#2026-000042", "2026\u{2013}000042", "2026 - 000042"] {
            assert_eq!(RequestId::parse(typed), Some((Some(2026), 42)), "{typed:?}");
        }
        assert_eq!(RequestId::parse("2026-4-2"), None);
        assert_eq!(RequestId::parse("4 2"), Some((None, 42)));
    }

    #[test]
    fn description_limits() {
        assert!(Description::parse(&"a".repeat(4000)).is_ok());
        assert!(Description::parse(&"a".repeat(4001)).is_err());
        assert!(Description::parse("bad\u{0}byte").is_err());
    }
}
