//! Filters for listing requests, shared by Open311 and the staff API.

use civic311_domain::geo::Point;
use civic311_domain::request::Status;
use jiff::Timestamp;

/// The order of a listing. Each is total (ties broken by request number), so a keyset
/// cursor can resume exactly where a page ended.
/// A request's due time as the queues sort by it and the open-by-due index keys it:
/// requests without one come last.
pub const DUE_KEY: &str = "COALESCE(expected_at, 9223372036854775807)";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Most recently filed first.
    #[default]
    Newest,
    /// Longest waiting first.
    Oldest,
    /// Most recently changed first.
    Updated,
    /// Resolution due soonest first; requests without a due time last.
    Due,
    /// Urgent first, then high, normal, low; oldest first within a priority.
    Priority,
}

impl Sort {
    pub const ALL: [Sort; 5] = [Sort::Newest, Sort::Oldest, Sort::Updated, Sort::Due, Sort::Priority];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::Updated => "updated",
            Sort::Due => "due",
            Sort::Priority => "priority",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Two requests in this order, as the SQL orders them.
    pub fn compare(
        self,
        a: &civic311_domain::request::ServiceRequest,
        b: &civic311_domain::request::ServiceRequest,
    ) -> std::cmp::Ordering {
        let (_, key_desc, id_desc) = self.sql();
        let by_key = self.key(a).cmp(&self.key(b));
        let by_id = a.id.seq.cmp(&b.id.seq);
        (if key_desc { by_key.reverse() } else { by_key }).then(if id_desc { by_id.reverse() } else { by_id })
    }

    /// The SQL of the sort key and whether it descends, and whether ties (by id) descend.
    pub fn sql(self) -> (&'static str, bool, bool) {
        match self {
            Sort::Newest => ("requested_at", true, true),
            Sort::Oldest => ("requested_at", false, false),
            Sort::Updated => ("updated_at", true, true),
            Sort::Due => (DUE_KEY, false, false),
            Sort::Priority => {
                ("(CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END)", true, false)
            }
        }
    }

    /// This sort's key for a request, as the cursor carries it.
    pub fn key(self, r: &civic311_domain::request::ServiceRequest) -> i64 {
        use civic311_domain::request::Priority;
        match self {
            Sort::Newest | Sort::Oldest => r.requested_at.as_microsecond(),
            Sort::Updated => r.updated_at.as_microsecond(),
            Sort::Due => r.expected_at.map_or(i64::MAX, |t| t.as_microsecond()),
            Sort::Priority => match r.assignment.priority {
                Priority::Urgent => 3,
                Priority::High => 2,
                Priority::Normal => 1,
                Priority::Low => 0,
            },
        }
    }
}

/// Which requests to list. Empty lists mean "any".
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
    /// Requests in any of these features, per layer (`wards` → `W1`, `W3`); several
    /// layers must all match.
    pub areas: Vec<(String, Vec<String>)>,
    /// Requests reported with this email address or followed by it (any case).
    pub email: Option<String>,
    pub sort: Sort,
    /// Keyset cursor: only requests after `(sort key, id)` in listing order.
    pub after: Option<(i64, i64)>,
    pub limit: u32,
    pub offset: u64,
}

#[cfg(test)]
mod active_statuses {
    use civic311_domain::request::Status;

    /// The open-work indexes were written before the status set had one home; the
    /// queries built from [`Status::active_sql`] must still name it exactly as the
    /// indexes do, or the databases stop using them.
    #[test]
    fn the_open_work_indexes_name_the_active_statuses_as_queries_do() {
        let predicate = format!("WHERE status IN ({})", Status::active_sql());
        for migration in [
            include_str!("../../civic311-store-sqlite/migrations/0008_queue_index.sql"),
            include_str!("../../civic311-store-postgres/migrations/0008_queue_index.sql"),
            include_str!("../../civic311-store-postgres/migrations/0009_overdue_count.sql"),
        ] {
            let indexes = migration.matches("CREATE INDEX").count();
            assert!(indexes > 0);
            assert_eq!(migration.matches(&predicate).count(), indexes, "{migration}");
        }
    }
}
