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
    /// Request sequence numbers; when set, the other filters still apply. SQLite, which
    /// keeps no statistics, may then read through another filter's index instead of
    /// the primary key (90 – 140 ms a chunk of 500 among 1,000,000 requests): to fetch
    /// known requests, ask by id alone and filter what comes back.
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
    /// Owning departments, teams, assignees and priorities (staff filters). A count of
    /// open requests that names departments reads SQLite's indexes of open work by
    /// department; without them it may walk every request of the services named.
    pub departments: Vec<String>,
    pub teams: Vec<String>,
    pub assignees: Vec<String>,
    pub priorities: Vec<civic311_domain::request::Priority>,
    /// Only requests whose resolution was due before this instant and are still open.
    pub overdue_at: Option<Timestamp>,
    /// Only open requests due in `[from, to)` (due today: from now to midnight).
    pub due_between: Option<(Timestamp, Timestamp)>,
    /// Only requests nobody is assigned to.
    pub unassigned: bool,
    /// Only requests on no team's queue.
    pub no_team: bool,
    /// Only requests an escalation chain has marked escalated.
    pub escalated: bool,
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
    /// Only requests whose last change stamp is at most this (see
    /// [`Store::changes`](crate::Store::changes)): a page of the change feed read
    /// again leaves out what changed since.
    pub changed_through: Option<i64>,
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

/// What a staff member typed into the header search, read for every kind of key it
/// could be: request numbers (`2026-005001`, `2026005001`, `5001`), an email address,
/// a phone number, and words (an address, a name, words of the description).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffSearch {
    /// Request sequence numbers the text could name.
    pub numbers: Vec<i64>,
    /// An email address, lowercased: requests filed with it or followed by it.
    pub email: Option<String>,
    /// Words that must all appear in a request's search document; the last one may be
    /// the start of a word (when [`Self::prefix`]).
    pub words: Vec<String>,
    /// True when the last word is matched as a prefix (it may still be being typed).
    pub prefix: bool,
    /// How many of the newest requests a word search tries before the older ones, on
    /// PostgreSQL (see `sql::search`); 0 searches them all at once.
    pub recent: i64,
}

impl StaffSearch {
    /// Most words used from one search.
    pub const MAX_WORDS: usize = 8;
    /// Most characters read of one search.
    pub const MAX_CHARS: usize = 200;
    /// A last word shorter than this is matched whole, not as a prefix (a one- or
    /// two-letter prefix would match half the city).
    const MIN_PREFIX: usize = 3;
    /// The newest requests a word search tries first: common words fill a page there.
    pub const RECENT: i64 = 20_000;

    /// Reads a search. Empty when nothing searchable was typed.
    pub fn parse(text: &str) -> Self {
        let text: String = text.chars().take(Self::MAX_CHARS).collect();
        // A search ending in a space or a stop has its last word finished.
        let last_is_whole = text.ends_with(|c: char| !c.is_alphanumeric());
        let text = text.trim();
        let mut search = StaffSearch { numbers: request_numbers(text), recent: Self::RECENT, ..Self::default() };
        if let Some(email) = text.split_whitespace().find(|w| w.contains('@')) {
            search.email = Some(email.to_lowercase());
            return search;
        }
        if civic311_domain::text::looks_like_phone(text) {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            // The document holds a phone's digits and their last ten and last seven.
            let keep = if digits.len() >= 10 { 10 } else { 7 };
            search.words = vec![digits[digits.len() - keep..].to_owned()];
            search.recent = 0;
            return search;
        }
        search.words = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(civic311_domain::text::fold)
            .take(Self::MAX_WORDS)
            .collect();
        search.prefix = !last_is_whole && search.words.last().is_some_and(|w| w.chars().count() >= Self::MIN_PREFIX);
        // Numbers (a house number, digits of a phone or a request) are rare words: the
        // index finds their few matches at once.
        if search.words.iter().any(|w| w.bytes().all(|b| b.is_ascii_digit())) {
            search.recent = 0;
        }
        search
    }

    /// True when there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty() && self.email.is_none() && self.words.is_empty()
    }
}

/// The request sequence numbers `text` could be: `2026-005001` and `2026005001` (a
/// year and a number) are 5001; plain digits are that number.
fn request_numbers(text: &str) -> Vec<i64> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    let year = |y: &str| y.len() == 4 && y.parse::<u16>().is_ok_and(|y| (1990..=2199).contains(&y));
    let all_digits = |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((y, n)) = compact.split_once('-') {
        if year(y) && all_digits(n) {
            out.extend(n.parse::<i64>().ok());
        }
    } else if all_digits(&compact) {
        if compact.len() >= 10 && year(&compact[..4]) {
            out.extend(compact[4..].parse::<i64>().ok());
        }
        out.extend(compact.parse::<i64>().ok());
    }
    out.retain(|n| *n > 0);
    out.dedup();
    out
}

#[cfg(test)]
mod staff_search {
    use super::StaffSearch;

    fn words(s: &StaffSearch) -> Vec<&str> {
        s.words.iter().map(String::as_str).collect()
    }

    #[test]
    fn a_request_number_is_read_with_or_without_its_dash_and_year() {
        assert_eq!(StaffSearch::parse("2026-005001").numbers, [5001]);
        assert_eq!(StaffSearch::parse(" 2026005001 ").numbers, [5001, 2_026_005_001]);
        assert_eq!(StaffSearch::parse("5001").numbers, [5001]);
        assert_eq!(StaffSearch::parse("5001").words, ["5001"]);
        assert!(StaffSearch::parse("Oak St").numbers.is_empty());
        assert!(StaffSearch::parse("12-3").numbers.is_empty());
    }

    #[test]
    fn a_phone_is_its_last_ten_or_seven_digits() {
        assert_eq!(words(&StaffSearch::parse("+1 (303) 555-0142")), ["3035550142"]);
        assert_eq!(words(&StaffSearch::parse("555-0142")), ["5550142"]);
        assert!(!StaffSearch::parse("555-0142").prefix);
    }

    #[test]
    fn an_email_is_looked_up_whole_and_lowercased() {
        let s = StaffSearch::parse("Maria.Lopez@Example.test");
        assert_eq!(s.email.as_deref(), Some("maria.lopez@example.test"));
        assert!(s.words.is_empty());
    }

    #[test]
    fn words_are_split_lowercased_and_the_last_may_be_a_prefix() {
        let s = StaffSearch::parse("120 Oak St, pothole-deep Garcí");
        assert_eq!(words(&s), ["120", "oak", "st", "pothole", "deep", "garci"]);
        assert!(s.prefix);
        assert!(!StaffSearch::parse("oak st").prefix, "a two-letter last word is whole");
        assert!(!StaffSearch::parse("pothole ").prefix, "a finished word is whole");
        assert!(StaffSearch::parse("  ").is_empty());
        assert_eq!(StaffSearch::parse(&"word ".repeat(100)).words.len(), StaffSearch::MAX_WORDS);
    }
}
