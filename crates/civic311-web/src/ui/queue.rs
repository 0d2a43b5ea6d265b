//! The queues: my work, my team's, my department's — filtered, sorted, a page at a time
//! (the staff API's listing underneath), overdue and about-to-breach marked.

use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_domain::request::{Priority, ServiceRequest, Status};
use civic311_store::{RequestQuery, Sort};
use jiff::{SignedDuration, Timestamp};

use super::Staff;
use crate::page::html;
use crate::{AppState, CityModel};

/// Requests shown per page.
const PAGE: u32 = 50;

/// Due within this long counts as about to breach.
const SOON: SignedDuration = SignedDuration::from_hours(4);

#[derive(Debug, Default, serde::Deserialize)]
pub struct Params {
    view: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    service: Option<String>,
    area: Option<String>,
    sort: Option<String>,
    /// `overdue` or `today`.
    due: Option<String>,
    /// `unassigned`, `me` or a username of the department.
    owner: Option<String>,
    team: Option<String>,
    escalated: Option<String>,
    cursor: Option<String>,
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

#[derive(Template)]
#[template(path = "staff/queue.html")]
struct QueuePage<'a> {
    c: StaffChrome,
    view: &'a str,
    /// Key, label, open requests in it, current.
    views: Vec<(&'static str, &'static str, String, bool)>,
    heading: &'static str,
    statuses: Vec<(&'static str, &'static str, bool)>,
    priorities: Vec<(&'static str, &'static str, bool)>,
    sorts: Vec<(&'static str, &'static str, bool)>,
    services: Vec<(String, String, bool)>,
    areas: Vec<(String, String, bool)>,
    dues: Vec<(&'static str, &'static str, bool)>,
    /// Anyone, unassigned, me, then each person of the department by name.
    owners: Vec<(String, String, bool)>,
    teams: Vec<(String, String, bool)>,
    escalated: bool,
    rows: Vec<Row>,
    /// Requests matching the filters, and how many of those are overdue.
    matching: String,
    overdue: i64,
    filtered: bool,
    problem: Option<&'static str>,
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
    let owner =
        [Some(r.assignment.department.as_str()), r.assignment.team.as_deref(), r.assignment.assignee.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
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

/// `GET /staff`: a queue.
pub async fn page(State(state): State<AppState>, staff: Staff, Query(p): Query<Params>) -> super::Page {
    let city = state.city();
    let now = state.now();
    let user = &staff.user;
    let view = match p.view.as_deref() {
        Some("team") if user.team.is_some() => "team",
        Some("department") => "department",
        _ => "mine",
    };
    // The open requests of each tab, counted on it; the tab shown is then filtered.
    let open = RequestQuery { statuses: Status::ACTIVE.to_vec(), limit: PAGE, ..RequestQuery::default() };
    let mine = RequestQuery { assignees: vec![user.username.clone()], ..open.clone() };
    let team = RequestQuery { teams: user.team.iter().cloned().collect(), ..open.clone() };
    let department = RequestQuery { departments: vec![user.department.clone()], ..open };
    let (mut q, heading) = match view {
        "team" => (team.clone(), "My team's requests"),
        "department" => (department.clone(), "My department's requests"),
        _ => (mine.clone(), "My work"),
    };
    let status_choices: Vec<(&str, &str, &str)> = [("active", "All open", "active"), ("all", "Any", "all")]
        .into_iter()
        .chain(Status::ALL.iter().map(|s| (s.as_str(), status_label(*s), s.as_str())))
        .collect();
    let status = p.status.as_deref().filter(|s| status_choices.iter().any(|c| c.0 == *s)).unwrap_or("active");
    q.statuses = match status {
        "active" => Status::ACTIVE.to_vec(),
        "all" => Vec::new(),
        s => Status::parse(s).into_iter().collect(),
    };
    let priority_choices: Vec<(&str, &str, &str)> = std::iter::once(("any", "Any", "any"))
        .chain(Priority::ALL.iter().rev().map(|v| (v.as_str(), priority_label(*v), v.as_str())))
        .collect();
    let priority = p.priority.as_deref().filter(|s| priority_choices.iter().any(|c| c.0 == *s)).unwrap_or("any");
    q.priorities = Priority::parse(priority).into_iter().collect();
    let sort_choices = [
        ("due", "Due soonest", Sort::Due),
        ("priority", "Most urgent", Sort::Priority),
        ("oldest", "Waiting longest", Sort::Oldest),
        ("newest", "Newest", Sort::Newest),
        ("updated", "Recently changed", Sort::Updated),
    ];
    q.sort = p.sort.as_deref().and_then(Sort::parse).unwrap_or(Sort::Due);
    let service = p.service.as_deref().filter(|c| city.service(c).is_some()).unwrap_or("");
    q.service_codes = Some(service).filter(|s| !s.is_empty()).map(str::to_owned).into_iter().collect();
    // Areas of the city's outline layer (its wards, say), as `layer:feature`.
    let layer = &city.settings.boundary_layer;
    let area_choices: Vec<(String, String)> = city
        .boundaries
        .features()
        .iter()
        .filter(|f| &f.layer == layer)
        .map(|f| (format!("{}:{}", f.layer, f.feature), f.name.clone()))
        .collect();
    let area = p.area.as_deref().filter(|a| area_choices.iter().any(|(k, _)| k == a)).unwrap_or("");
    if let Some((l, f)) = area.split_once(':') {
        q.areas = vec![(l.to_owned(), vec![f.to_owned()])];
    }
    let due_choices = [("any", "Any time"), ("overdue", "Overdue"), ("today", "Due today")];
    let due = p.due.as_deref().filter(|d| due_choices.iter().any(|c| c.0 == *d)).unwrap_or("any");
    match due {
        "overdue" => q.overdue_at = Some(now),
        "today" => q.due_between = Some((now, end_of_day(now, &city))),
        _ => {}
    }
    let dir = &city.workflow.directory;
    let people: Vec<(String, String)> = dir
        .users
        .values()
        .filter(|u| u.active && u.department == user.department && u.username != user.username)
        .map(|u| (u.username.clone(), u.display_name.clone()))
        .collect();
    let owner = p
        .owner
        .as_deref()
        .filter(|o| ["unassigned", "me"].contains(o) || people.iter().any(|(u, _)| u == o))
        .unwrap_or("");
    match owner {
        "unassigned" => q.unassigned = true,
        "me" => q.assignees = vec![user.username.clone()],
        "" => {}
        other => q.assignees = vec![other.to_owned()],
    }
    let team_choices: Vec<(String, String)> = dir
        .teams
        .values()
        .filter(|t| t.department == user.department)
        .map(|t| (t.code.clone(), t.name.clone()))
        .collect();
    let team_filter = p.team.as_deref().filter(|t| team_choices.iter().any(|(c, _)| c == t)).unwrap_or("");
    if !team_filter.is_empty() {
        q.teams = vec![team_filter.to_owned()];
    }
    let escalated = p.escalated.is_some_and(|e| !e.is_empty());
    q.escalated = escalated;
    let mut problem = None;
    if let Some(c) = p.cursor.as_deref() {
        match c.split_once('.').and_then(|(k, i)| Some((k.parse().ok()?, i.parse().ok()?))) {
            Some(after) => q.after = Some(after),
            None => problem = Some("That page link was not right; showing the first page."),
        }
    }
    let overdue_q = RequestQuery { overdue_at: Some(now), ..q.clone() };
    let store = &state.store;
    let counts = tokio::try_join!(
        store.list_requests(&q),
        store.count_matching(&q),
        store.count_matching(&overdue_q),
        store.count_matching(&mine),
        async { if user.team.is_some() { store.count_matching(&team).await } else { Ok(0) } },
        store.count_matching(&department),
    );
    let (page, matching, overdue, in_mine, in_team, in_department) = counts?;
    let filters = format!(
        "view={view}&status={status}&priority={priority}&service={}&area={}&due={due}&owner={}&team={}{}&sort={}",
        super::encode(service),
        super::encode(area),
        super::encode(owner),
        super::encode(team_filter),
        if escalated { "&escalated=on" } else { "" },
        q.sort.as_str(),
    );
    let next_page = (page.len() == PAGE as usize)
        .then(|| page.last())
        .flatten()
        .map(|last| format!("/staff?{filters}&cursor={}.{}", q.sort.key(last), last.id.seq));
    let rows: Vec<Row> = page.iter().map(|r| row(r, &city, now)).collect();
    let mut views = vec![("mine", "My work", thousands(in_mine), view == "mine")];
    if user.team.is_some() {
        views.push(("team", "My team", thousands(in_team), view == "team"));
    }
    views.push(("department", "My department", thousands(in_department), view == "department"));
    let body = QueuePage {
        c: StaffChrome::new(&state, &staff),
        view,
        views,
        heading,
        statuses: status_choices.iter().map(|(k, l, v)| (*k, *l, *v == status)).collect(),
        priorities: priority_choices.iter().map(|(k, l, v)| (*k, *l, *v == priority)).collect(),
        sorts: options(&sort_choices, q.sort),
        rows,
        matching: thousands(matching),
        overdue,
        services: city.services().map(|s| (s.code.clone(), s.name.clone(), s.code == service)).collect(),
        areas: area_choices.into_iter().map(|(k, name)| (k.clone(), name, k == area)).collect(),
        dues: due_choices.iter().map(|(k, l)| (*k, *l, *k == due)).collect(),
        owners: [("", "Anyone"), ("unassigned", "Unassigned"), ("me", "Me")]
            .into_iter()
            .map(|(k, l)| (k.to_owned(), l.to_owned()))
            .chain(people)
            .map(|(k, l)| {
                let on = k == owner;
                (k, l, on)
            })
            .collect(),
        teams: team_choices
            .into_iter()
            .map(|(k, l)| {
                let on = k == team_filter;
                (k, l, on)
            })
            .collect(),
        escalated,
        filtered: status != "active"
            || priority != "any"
            || !service.is_empty()
            || !area.is_empty()
            || due != "any"
            || !owner.is_empty()
            || !team_filter.is_empty()
            || escalated,
        problem,
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
