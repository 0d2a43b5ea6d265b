//! The queues: my work, my team's, my department's — filtered, sorted, a page at a time
//! (the staff API's listing underneath), overdue and about-to-breach marked.

use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_domain::org::StaffUser;
use civic311_domain::request::{Priority, ServiceRequest, Status};
use civic311_store::{RequestQuery, Sort};
use jiff::{SignedDuration, Timestamp};

use super::Staff;
use crate::page::html;
use crate::{AppState, CityModel};

/// The team filter's value for requests on no team's queue.
pub(super) const NO_TEAM: &str = "none";

/// Requests shown per page.
const PAGE: u32 = 50;

/// Due within this long counts as about to breach.
const SOON: SignedDuration = SignedDuration::from_hours(4);

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Params {
    pub(super) view: Option<String>,
    /// On the department view, another department the member of staff covers (a
    /// supervisor's second department, any for an administrator).
    pub(super) department: Option<String>,
    pub(super) status: Option<String>,
    pub(super) priority: Option<String>,
    pub(super) service: Option<String>,
    pub(super) area: Option<String>,
    pub(super) sort: Option<String>,
    /// `overdue` or `today`.
    pub(super) due: Option<String>,
    /// `unassigned`, `me` or a username of the department.
    pub(super) owner: Option<String>,
    pub(super) team: Option<String>,
    pub(super) escalated: Option<String>,
    pub(super) cursor: Option<String>,
}

impl Params {
    /// These filters on the department view of `department`.
    pub(super) fn in_department(self, department: &str) -> Self {
        Params { view: Some("department".into()), department: Some(department.to_owned()), ..self }
    }

    /// These filters and one more, by its name in the queue's address (`due`, `owner`,
    /// `team`, `status`, `escalated`); other names change nothing.
    pub(super) fn and(mut self, name: &str, value: &str) -> Self {
        let slot = match name {
            "due" => &mut self.due,
            "owner" => &mut self.owner,
            "team" => &mut self.team,
            "status" => &mut self.status,
            "escalated" => &mut self.escalated,
            _ => return self,
        };
        *slot = Some(value.to_owned());
        self
    }
}

/// One request as a queue row.
struct Row {
    number: String,
    age: String,
    service: String,
    place: String,
    status: &'static str,
    priority: &'static str,
    owner: String,
    due: String,
    flag: Option<(&'static str, &'static str)>,
    /// Marked escalated by an escalation chain.
    escalated: bool,
}

/// The filter fields of a queue (`staff/filters.html`): each choice with its label and
/// whether it is chosen. The bulk list of the supervisor view offers the same.
pub(super) struct Filters {
    pub(super) statuses: Vec<(&'static str, &'static str, bool)>,
    pub(super) priorities: Vec<(&'static str, &'static str, bool)>,
    pub(super) sorts: Vec<(&'static str, &'static str, bool)>,
    pub(super) services: Vec<(String, String, bool)>,
    pub(super) areas: Vec<(String, String, bool)>,
    pub(super) dues: Vec<(&'static str, &'static str, bool)>,
    /// Anyone, unassigned, me, then each person of the department by name.
    pub(super) owners: Vec<(String, String, bool)>,
    pub(super) teams: Vec<(String, String, bool)>,
    pub(super) escalated: bool,
    /// Anything but the defaults is chosen.
    pub(super) filtered: bool,
}

impl Filters {
    fn of(ch: &Chosen, city: &CityModel) -> Self {
        let pick = |k: &str, chosen: &str| k == chosen;
        Filters {
            statuses: ch.status_choices.iter().map(|(k, l, v)| (*k, *l, *v == ch.status)).collect(),
            priorities: ch.priority_choices.iter().map(|(k, l, v)| (*k, *l, *v == ch.priority)).collect(),
            sorts: options(&SORT_CHOICES, ch.q.sort),
            services: city.services().map(|s| (s.code.clone(), s.name.clone(), s.code == ch.service)).collect(),
            areas: ch.area_choices.iter().map(|(k, name)| (k.clone(), name.clone(), pick(k, &ch.area))).collect(),
            dues: DUE_CHOICES.iter().map(|(k, l)| (*k, *l, pick(k, ch.due))).collect(),
            owners: [("", "Anyone"), ("unassigned", "Unassigned"), ("me", "Me")]
                .into_iter()
                .map(|(k, l)| (k.to_owned(), l.to_owned()))
                .chain(ch.people.iter().cloned())
                .map(|(k, l)| {
                    let on = pick(&k, &ch.owner);
                    (k, l, on)
                })
                .collect(),
            teams: ch.team_choices.iter().map(|(k, l)| (k.clone(), l.clone(), pick(k, &ch.team_filter))).collect(),
            escalated: ch.escalated,
            filtered: ch.status != "active"
                || ch.priority != "any"
                || !ch.service.is_empty()
                || !ch.area.is_empty()
                || ch.due != "any"
                || !ch.owner.is_empty()
                || !ch.team_filter.is_empty()
                || ch.escalated,
        }
    }
}

/// The queue these filters choose, for `user`: its query (the count of which the queue
/// lists) and its address.
pub(super) fn link(city: &CityModel, user: &StaffUser, p: &Params, now: Timestamp) -> (RequestQuery, String) {
    let ch = choose(city, user, p, now);
    (ch.q, format!("/staff?{}", ch.filters))
}

/// The queue these filters choose, for `user`: its query (limited to `limit`), its
/// filter fields, and its filters as a query string.
pub(super) fn chosen(
    city: &CityModel,
    user: &StaffUser,
    p: &Params,
    now: Timestamp,
    limit: u32,
) -> (RequestQuery, Filters, String) {
    let mut ch = choose(city, user, p, now);
    ch.q.limit = limit;
    let f = Filters::of(&ch, city);
    (ch.q, f, ch.filters)
}

#[derive(Template)]
#[template(path = "staff/queue.html")]
struct QueuePage<'a> {
    c: StaffChrome,
    view: &'a str,
    /// The department shown when it is not the member of staff's own, else empty.
    department: &'a str,
    /// Key, label, open requests in it, current.
    views: Vec<(&'static str, &'static str, String, bool)>,
    heading: &'a str,
    f: Filters,
    rows: Vec<Row>,
    /// Requests matching the filters, and how many of those are overdue.
    matching: String,
    overdue: i64,
    problem: Option<&'static str>,
    /// The filters, encoded for a request link's `queue=` (see [`next_after`]).
    queue: String,
    next_page: Option<String>,
}

pub(super) fn status_label(s: Status) -> &'static str {
    match s {
        Status::New => "New",
        Status::Open => "Open",
        Status::InProgress => "In progress",
        Status::OnHold => "On hold",
        Status::WaitingOnResident => "Waiting on resident",
        Status::Resolved => "Resolved",
        Status::Closed => "Closed",
        Status::Duplicate => "Duplicate",
    }
}

fn priority_label(p: Priority) -> &'static str {
    match p {
        Priority::Low => "Low",
        Priority::Normal => "Normal",
        Priority::High => "High",
        Priority::Urgent => "Urgent",
    }
}

/// "3 h ago", "2 d ago": how long a request has waited.
fn age(since: Timestamp, now: Timestamp) -> String {
    let mins = now.duration_since(since).as_secs().max(0) / 60;
    match mins {
        0..60 => format!("{mins} min ago"),
        60..2880 => format!("{} h ago", mins / 60),
        _ => format!("{} d ago", mins / 1440),
    }
}

/// How an open request's due time is marked: overdue, due within [`SOON`], or not at
/// all (also for closed requests and those without an SLA). CSS class and label.
pub(super) fn urgency(r: &ServiceRequest, now: Timestamp) -> Option<(&'static str, &'static str)> {
    let due = r.expected_at.filter(|_| !r.status.is_closed())?;
    if due <= now {
        Some(("overdue", "Overdue"))
    } else if due.duration_since(now) <= SOON {
        Some(("soon", "Due soon"))
    } else {
        None
    }
}

fn row(r: &ServiceRequest, city: &CityModel, now: Timestamp) -> Row {
    let flag = urgency(r, now);
    let due = r
        .expected_at
        .map_or_else(|| "–".to_owned(), |d| d.to_zoned(city.tz.clone()).strftime("%a %b %-d, %H:%M").to_string());
    let place = crate::ui::place(city, &r.location).or_else(|| {
        r.areas
            .iter()
            .find(|(layer, _)| *layer != civic311_domain::asset::ASSET_LAYER)
            .map(|(layer, f)| city.boundaries.feature_name(layer, f).unwrap_or(f).to_owned())
    });
    let a = &r.assignment;
    let owner = super::owner_names(city, &a.department, a.team.as_deref(), a.assignee.as_deref());
    Row {
        number: r.id.to_string(),
        age: age(r.requested_at, now),
        service: city.service(&r.service_code).map_or_else(|| r.service_code.clone(), |s| s.name.clone()),
        place: place.unwrap_or_else(|| "–".to_owned()),
        status: status_label(r.status),
        priority: priority_label(r.assignment.priority),
        owner,
        due,
        flag,
        escalated: r.workflow.escalated,
    }
}

/// The first instant of tomorrow in the city's time zone: the end of "due today".
fn end_of_day(now: Timestamp, city: &CityModel) -> Timestamp {
    let today = now.to_zoned(city.tz.clone()).date();
    today
        .tomorrow()
        .and_then(|d| d.to_zoned(city.tz.clone()))
        .map_or(now + SignedDuration::from_hours(24), |z| z.timestamp())
}

/// 50000 as "50,000".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn options<T: Copy + PartialEq>(
    all: &[(&'static str, &'static str, T)],
    chosen: T,
) -> Vec<(&'static str, &'static str, bool)> {
    all.iter().map(|(k, l, v)| (*k, *l, *v == chosen)).collect()
}

/// A queue as its filters choose it: the query, the choices each filter offered, and
/// the filters again as a query string (for the next page and the request pages).
struct Chosen {
    q: RequestQuery,
    view: &'static str,
    heading: String,
    /// The department shown when it is not the member of staff's own, else empty.
    other_department: String,
    /// The open requests of each tab, to count on it.
    mine: RequestQuery,
    team: RequestQuery,
    department: RequestQuery,
    status_choices: Vec<(&'static str, &'static str, &'static str)>,
    status: &'static str,
    priority_choices: Vec<(&'static str, &'static str, &'static str)>,
    priority: &'static str,
    service: String,
    area_choices: Vec<(String, String)>,
    area: String,
    due: &'static str,
    people: Vec<(String, String)>,
    owner: String,
    team_choices: Vec<(String, String)>,
    team_filter: String,
    escalated: bool,
    problem: Option<&'static str>,
    filters: String,
}

const DUE_CHOICES: [(&str, &str); 3] = [("any", "Any time"), ("overdue", "Overdue"), ("today", "Due today")];

const SORT_CHOICES: [(&str, &str, Sort); 5] = [
    ("due", "Due soonest", Sort::Due),
    ("priority", "Most urgent", Sort::Priority),
    ("oldest", "Waiting longest", Sort::Oldest),
    ("newest", "Newest", Sort::Newest),
    ("updated", "Recently changed", Sort::Updated),
];

/// Reads a queue's filters; anything not offered is ignored (shown as its default).
fn choose(city: &CityModel, user: &StaffUser, p: &Params, now: Timestamp) -> Chosen {
    let view = match p.view.as_deref() {
        Some("team") if user.team.is_some() => "team",
        Some("department") => "department",
        _ => "mine",
    };
    let dept = p
        .department
        .clone()
        .filter(|d| view == "department" && user.covers(d) && city.workflow.directory.departments.contains_key(d))
        .unwrap_or_else(|| user.department.clone());
    let open = RequestQuery { statuses: Status::ACTIVE.to_vec(), limit: PAGE, ..RequestQuery::default() };
    let mine = RequestQuery { assignees: vec![user.username.clone()], ..open.clone() };
    let team = RequestQuery { teams: user.team.iter().cloned().collect(), ..open.clone() };
    let department = RequestQuery { departments: vec![dept.clone()], ..open };
    let (mut q, heading) = match view {
        "team" => (team.clone(), "My team's requests".to_owned()),
        "department" if dept != user.department => {
            (department.clone(), format!("{}: open requests", city.department_name(&dept)))
        }
        "department" => (department.clone(), "My department's requests".to_owned()),
        _ => (mine.clone(), "My work".to_owned()),
    };
    let status_choices: Vec<(&str, &str, &str)> = [("active", "All open", "active"), ("all", "Any", "all")]
        .into_iter()
        .chain(Status::ALL.iter().map(|s| (s.as_str(), status_label(*s), s.as_str())))
        .collect();
    let status = status_choices.iter().find(|c| Some(c.0) == p.status.as_deref()).map_or("active", |c| c.0);
    q.statuses = match status {
        "active" => Status::ACTIVE.to_vec(),
        "all" => Vec::new(),
        s => Status::parse(s).into_iter().collect(),
    };
    let priority_choices: Vec<(&str, &str, &str)> = std::iter::once(("any", "Any", "any"))
        .chain(Priority::ALL.iter().rev().map(|v| (v.as_str(), priority_label(*v), v.as_str())))
        .collect();
    let priority = priority_choices.iter().find(|c| Some(c.0) == p.priority.as_deref()).map_or("any", |c| c.0);
    q.priorities = Priority::parse(priority).into_iter().collect();
    q.sort = p.sort.as_deref().and_then(Sort::parse).unwrap_or(Sort::Due);
    let service = p.service.clone().filter(|c| city.service(c).is_some()).unwrap_or_default();
    q.service_codes = Some(service.clone()).filter(|s| !s.is_empty()).into_iter().collect();
    // Areas of the city's outline layer (its wards, say), as `layer:feature`.
    let layer = &city.settings.boundary_layer;
    let area_choices: Vec<(String, String)> = city
        .boundaries
        .features()
        .iter()
        .filter(|f| &f.layer == layer)
        .map(|f| (format!("{}:{}", f.layer, f.feature), f.name.clone()))
        .collect();
    let area = p.area.clone().filter(|a| area_choices.iter().any(|(k, _)| k == a)).unwrap_or_default();
    if let Some((l, f)) = area.split_once(':') {
        q.areas = vec![(l.to_owned(), vec![f.to_owned()])];
    }
    let due = DUE_CHOICES.iter().find(|c| Some(c.0) == p.due.as_deref()).map_or("any", |c| c.0);
    match due {
        "overdue" => q.overdue_at = Some(now),
        "today" => q.due_between = Some((now, end_of_day(now, city))),
        _ => {}
    }
    let dir = &city.workflow.directory;
    let people: Vec<(String, String)> = dir
        .users
        .values()
        .filter(|u| u.active && u.department == dept && u.username != user.username)
        .map(|u| (u.username.clone(), u.display_name.clone()))
        .collect();
    let owner = p
        .owner
        .clone()
        .map(|o| if o == user.username { "me".to_owned() } else { o })
        .filter(|o| ["unassigned", "me"].contains(&o.as_str()) || people.iter().any(|(u, _)| u == o))
        .unwrap_or_default();
    match owner.as_str() {
        "unassigned" => q.unassigned = true,
        "me" => q.assignees = vec![user.username.clone()],
        "" => {}
        other => q.assignees = vec![other.to_owned()],
    }
    let team_choices: Vec<(String, String)> = dir
        .teams
        .values()
        .filter(|t| t.department == dept)
        .map(|t| (t.code.clone(), t.name.clone()))
        .chain(std::iter::once((NO_TEAM.to_owned(), "No team".to_owned())))
        .collect();
    let team_filter = p.team.clone().filter(|t| team_choices.iter().any(|(c, _)| c == t)).unwrap_or_default();
    match team_filter.as_str() {
        "" => {}
        NO_TEAM => q.no_team = true,
        t => q.teams = vec![t.to_owned()],
    }
    let escalated = p.escalated.as_deref().is_some_and(|e| !e.is_empty());
    q.escalated = escalated;
    let mut problem = None;
    if let Some(c) = p.cursor.as_deref() {
        match c.split_once('.').and_then(|(k, i)| Some((k.parse().ok()?, i.parse().ok()?))) {
            Some(after) => q.after = Some(after),
            None => problem = Some("That page link was not right; showing the first page."),
        }
    }
    let other_department =
        if view == "department" { format!("&department={}", super::encode(&dept)) } else { String::new() };
    let filters = format!(
        "view={view}{other_department}&status={status}&priority={priority}&service={}&area={}&due={due}&owner={}&team={}{}&sort={}",
        super::encode(&service),
        super::encode(&area),
        super::encode(&owner),
        super::encode(&team_filter),
        if escalated { "&escalated=on" } else { "" },
        q.sort.as_str(),
    );
    Chosen {
        other_department: if dept == user.department { String::new() } else { dept },
        q,
        view,
        heading,
        mine,
        team,
        department,
        status_choices,
        status,
        priority_choices,
        priority,
        service,
        area_choices,
        area,
        due,
        people,
        owner,
        team_choices,
        team_filter,
        escalated,
        problem,
        filters,
    }
}

/// The request after `current` in the queue its `filters` (a queue's query string)
/// choose, in that queue's order: where to go once done with `current`.
pub(super) async fn next_after(
    state: &AppState,
    user: &StaffUser,
    filters: &str,
    current: &ServiceRequest,
) -> civic311_store::StoreResult<Option<ServiceRequest>> {
    let Ok(p) = serde_urlencoded::from_str::<Params>(filters) else { return Ok(None) };
    let city = state.city();
    let mut q = choose(&city, user, &p, state.now()).q;
    q.after = Some((q.sort.key(current), current.id.seq));
    q.limit = 1;
    Ok(state.store.list_requests(&q).await?.into_iter().next())
}

/// `GET /staff`: a queue.
pub async fn page(State(state): State<AppState>, staff: Staff, Query(p): Query<Params>) -> super::Page {
    let city = state.city();
    let now = state.now();
    let user = &staff.user;
    let ch = choose(&city, user, &p, now);
    let q = &ch.q;
    let overdue_q = RequestQuery { overdue_at: Some(now), ..q.clone() };
    let store = &state.store;
    let counts = tokio::try_join!(
        store.list_requests(q),
        store.count_matching(q),
        store.count_matching(&overdue_q),
        store.count_matching(&ch.mine),
        async { if user.team.is_some() { store.count_matching(&ch.team).await } else { Ok(0) } },
        store.count_matching(&ch.department),
    );
    let (page, matching, overdue, in_mine, in_team, in_department) = counts?;
    let next_page = (page.len() == PAGE as usize)
        .then(|| page.last())
        .flatten()
        .map(|last| format!("/staff?{}&cursor={}.{}", ch.filters, q.sort.key(last), last.id.seq));
    let rows: Vec<Row> = page.iter().map(|r| row(r, &city, now)).collect();
    let view = ch.view;
    let mut views = vec![("mine", "My work", thousands(in_mine), view == "mine")];
    if user.team.is_some() {
        views.push(("team", "My team", thousands(in_team), view == "team"));
    }
    views.push(("department", "My department", thousands(in_department), view == "department"));
    let body = QueuePage {
        c: StaffChrome::new(&state, &staff),
        view,
        views,
        heading: &ch.heading,
        department: &ch.other_department,
        rows,
        matching: thousands(matching),
        overdue,
        f: Filters::of(&ch, &city),
        problem: ch.problem,
        queue: super::encode(&ch.filters),
        next_page,
    };
    Ok(html(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn counts_are_grouped_by_thousands() {
        let shown: Vec<String> = [0, 7, 999, 1000, 50_000, 1_234_567, -4200].into_iter().map(thousands).collect();
        assert_eq!(shown, ["0", "7", "999", "1,000", "50,000", "1,234,567", "-4,200"]);
    }
}
