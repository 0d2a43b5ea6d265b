//! `/staff/reports/operations`: the live picture — the open backlog by department and
//! team, what is overdue and due today, escalations today, today's intake against a
//! typical day of the same weekday (a storm shows at once) and how old the open work
//! is. Read from the requests as they are now; each table downloads as CSV.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_domain::request::{EventKind, Status};
use civic311_store::RequestQuery;
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::chart;
use super::reports::{Cell, Section, cell, number, scope};
use super::session::StaffChrome;
use super::{Fault, Page, Staff};
use crate::AppState;
use crate::page::html;

/// Same weekdays a typical day is the mean of.
const WEEKS_BACK: i32 = 8;
/// How old open work is, in days: each bucket's first day and its name.
pub(crate) const AGES: [(i64, Option<i64>, &str); 4] =
    [(0, Some(7), "0–7 days"), (8, Some(30), "8–30 days"), (31, Some(90), "31–90 days"), (91, None, "over 90 days")];

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Params {
    department: Option<String>,
    /// `csv`: the table named by `table` as CSV.
    format: Option<String>,
    table: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/operations.html")]
struct OperationsPage {
    c: StaffChrome,
    departments: Vec<(String, String, bool)>,
    department: String,
    /// Label, value, hint.
    figures: Vec<(String, String, String)>,
    sections: Vec<Section>,
}

/// `GET /staff/reports/operations`: analysts and administrators for every department,
/// supervisors for theirs.
pub async fn page(State(state): State<AppState>, staff: Staff, Query(p): Query<Params>) -> Page {
    let scope = scope(&staff.user)?;
    let city = state.city();
    let mine: Vec<String> = match &scope {
        Some(mine) => mine.clone(),
        None => city.departments.iter().map(|d| d.code.clone()).collect(),
    };
    let chosen = p.department.clone().filter(|d| !d.is_empty());
    if let Some(d) = &chosen
        && !mine.contains(d)
    {
        return Err(match civic311_domain::policy::report_departments_allowed(&staff.user, &scope, [d]) {
            Err(why) => Fault::Refused(StatusCode::FORBIDDEN, format!("Not allowed: {why}.")),
            Ok(()) => Fault::Refused(StatusCode::BAD_REQUEST, format!("Not done: there is no department {d}.")),
        });
    }
    let departments: Vec<String> = chosen.clone().map_or_else(|| mine.clone(), |d| vec![d]);
    // Intake counts over every department name none, so the databases read their time
    // index rather than a list of every department; open work always names them, so
    // they read the index of open requests by department (few, even in a city with
    // decades of closed ones) instead of walking the history by date.
    let every = departments.len() == city.departments.len();
    let filter: Vec<String> = if every { Vec::new() } else { departments.clone() };
    let now = state.now();
    let local = now.to_zoned(city.tz.clone());
    let midnight = local.start_of_day().map_err(|e| Fault::Internal(e.to_string()))?.timestamp();
    let open =
        RequestQuery { statuses: Status::ACTIVE.to_vec(), departments: departments.clone(), ..Default::default() };
    let store = &state.store;
    let count = |q: RequestQuery| async move { store.count_matching(&q).await };
    let open_now = count(open.clone()).await?;
    let overdue = count(RequestQuery { overdue_at: Some(now), ..open.clone() }).await?;
    let tomorrow = local.tomorrow().and_then(|t| t.start_of_day()).map_err(|e| Fault::Internal(e.to_string()))?;
    let due_today = count(RequestQuery { due_between: Some((now, tomorrow.timestamp())), ..open.clone() }).await?;
    let escalated = count(RequestQuery { escalated: true, ..open.clone() }).await?;
    let escalations_today = escalations_since(&state, midnight, now, &filter).await?;
    let all = RequestQuery { departments: filter.clone(), ..Default::default() };
    let today = count(RequestQuery { requested_from: Some(midnight), requested_to: Some(now), ..all.clone() }).await?;
    // The same stretch of the same weekday in each of the last weeks.
    let mut before = Vec::new();
    for w in 1..=WEEKS_BACK {
        let (Ok(start), Ok(end)) =
            (local.start_of_day().and_then(|m| m.checked_sub((w * 7).days())), local.checked_sub((w * 7).days()))
        else {
            continue;
        };
        let q = RequestQuery {
            requested_from: Some(start.timestamp()),
            requested_to: Some(end.timestamp()),
            ..all.clone()
        };
        before.push(count(q).await?);
    }
    let typical = (!before.is_empty()).then(|| before.iter().sum::<i64>() as f64 / before.len() as f64);
    let weekday = local.strftime("%A").to_string();
    let by = local.strftime("%H:%M").to_string();
    let figures = vec![
        ("Open".into(), open_now.to_string(), "requests still to do".into()),
        ("Overdue".into(), overdue.to_string(), "past their resolution due time".into()),
        ("Due today".into(), due_today.to_string(), "still open, due before midnight".into()),
        ("Escalated".into(), escalated.to_string(), format!("open; {escalations_today} escalations today")),
        (
            format!("Opened today by {by}"),
            today.to_string(),
            typical.map_or_else(
                || "no earlier weeks to compare".to_owned(),
                |t| format!("typical {weekday} by {by}: {t:.1} (last {} weeks)", before.len()),
            ),
        ),
    ];
    let mut sections = vec![backlog(&state, &departments, now).await?];
    if departments.len() == 1 {
        sections.push(teams(&state, &departments[0], now).await?);
    }
    sections.push(aging(&state, &open, now).await?);
    let query = chosen.as_ref().map(|d| format!("department={}&", super::encode(d))).unwrap_or_default();
    for s in &mut sections {
        s.csv = format!("/staff/reports/operations?{query}format=csv&table={}", s.id);
    }
    if p.format.as_deref() == Some("csv") {
        return super::reports::section_csv(&sections, p.table.as_deref(), &local.date().to_string());
    }
    let page = OperationsPage {
        c: StaffChrome::new(&state, &staff),
        departments: std::iter::once((String::new(), all_label(&scope), chosen.is_none()))
            .filter(|_| mine.len() > 1)
            .chain(mine.iter().map(|d| (d.clone(), city.department_name(d).to_owned(), chosen.as_ref() == Some(d))))
            .collect(),
        department: chosen.map_or_else(|| all_label(&scope), |d| city.department_name(&d).to_owned()),
        figures,
        sections,
    };
    Ok(html(StatusCode::OK, &page))
}

/// Escalations between `since` and `now` of requests of `departments` (every one when
/// empty), read through the events' time index.
async fn escalations_since(
    state: &AppState,
    since: Timestamp,
    now: Timestamp,
    departments: &[String],
) -> Result<usize, Fault> {
    let events = state.store.events_between(since, now, &[EventKind::Escalated], 10_000).await?;
    if departments.is_empty() {
        return Ok(events.len());
    }
    let ids: Vec<i64> = events.iter().map(|(seq, _)| *seq).collect();
    let mut theirs = std::collections::BTreeSet::new();
    for chunk in ids.chunks(500) {
        // Read by id alone and filtered here: asked for departments too, SQLite walked
        // the departments' index instead (140 ms a chunk among 1,000,000 requests).
        let q = RequestQuery { ids: chunk.to_vec(), limit: 500, ..Default::default() };
        let found = state.store.list_requests(&q).await?;
        theirs.extend(found.into_iter().filter(|r| departments.contains(&r.assignment.department)).map(|r| r.id.seq));
    }
    Ok(events.iter().filter(|(seq, _)| theirs.contains(seq)).count())
}

fn all_label(scope: &Option<Vec<String>>) -> String {
    if scope.is_some() { "All my departments".into() } else { "All departments".into() }
}

/// Open requests by department, most first.
async fn backlog(state: &AppState, departments: &[String], now: Timestamp) -> Result<Section, Fault> {
    let city = state.city();
    let mut rows = Vec::new();
    for d in departments {
        let load = state.store.workload(std::slice::from_ref(d), now).await?;
        let open: i64 = load.iter().map(|w| w.open).sum();
        let overdue: i64 = load.iter().map(|w| w.overdue).sum();
        let oldest = load.iter().map(|w| w.oldest).min();
        rows.push((city.department_name(d).to_owned(), open, overdue, oldest));
    }
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let bars: Vec<(String, f64)> = rows.iter().map(|(n, open, ..)| (n.clone(), *open as f64)).collect();
    Ok(Section {
        id: "backlog",
        title: "Backlog by department".into(),
        note: None,
        svg: chart::bars("Open requests by department", &bars),
        headers: vec!["Department".into(), "Open".into(), "Overdue".into(), "Oldest waiting".into()],
        rows: rows
            .into_iter()
            .map(|(name, open, overdue, oldest)| load_row(name, (open, overdue, oldest), now))
            .collect(),
        compact: true,
        csv: String::new(),
    })
}

/// A row of open work: who, how many open and overdue, how long the oldest has waited.
fn load_row(name: String, (open, overdue, oldest): (i64, i64, Option<Timestamp>), now: Timestamp) -> Vec<Cell> {
    vec![cell(name), number(open.unsigned_abs()), overdue_cell(overdue), cell(super::supervisor::waited(oldest, now))]
}

fn overdue_cell(n: i64) -> Cell {
    let mut c = number(n.unsigned_abs());
    if n > 0 {
        c.class = "number overdue";
    }
    c
}

/// Open requests of one department by team.
async fn teams(state: &AppState, department: &str, now: Timestamp) -> Result<Section, Fault> {
    let city = state.city();
    let dir = &city.workflow.directory;
    let load = state.store.workload(&[department.to_owned()], now).await?;
    let mut by_team: std::collections::BTreeMap<String, (i64, i64, Option<Timestamp>)> = Default::default();
    for w in &load {
        let name = w
            .team
            .as_ref()
            .map_or_else(|| "No team".to_owned(), |t| dir.teams.get(t).map_or_else(|| t.clone(), |x| x.name.clone()));
        let e = by_team.entry(name).or_default();
        e.0 += w.open;
        e.1 += w.overdue;
        e.2 = Some(e.2.map_or(w.oldest, |o| o.min(w.oldest)));
    }
    Ok(Section {
        id: "teams",
        title: format!("{} by team", city.department_name(department)),
        note: None,
        svg: String::new(),
        headers: vec!["Team".into(), "Open".into(), "Overdue".into(), "Oldest waiting".into()],
        rows: by_team.into_iter().map(|(name, load)| load_row(name, load, now)).collect(),
        compact: true,
        csv: String::new(),
    })
}

/// How many of the requests `open` matches were filed in each bucket of [`AGES`] before
/// `now`, in its order.
pub(crate) async fn ages(state: &AppState, open: &RequestQuery, now: Timestamp) -> Result<Vec<i64>, Fault> {
    let day = |d: i64| now - SignedDuration::from_hours(24 * d);
    let mut counts = Vec::new();
    for (first, last, _) in AGES {
        let q = RequestQuery {
            // Both ends are inclusive in a query: the bucket ends a microsecond short
            // of where the next begins.
            requested_to: Some(if first == 0 { now } else { day(first) - SignedDuration::from_micros(1) }),
            requested_from: last.map(|l| day(l + 1)),
            ..open.clone()
        };
        counts.push(state.store.count_matching(&q).await?);
    }
    Ok(counts)
}

/// Open requests by how long ago they were filed.
async fn aging(state: &AppState, open: &RequestQuery, now: Timestamp) -> Result<Section, Fault> {
    let counts: Vec<(&str, i64)> = AGES.iter().map(|a| a.2).zip(ages(state, open, now).await?).collect();
    let bars: Vec<(String, f64)> = counts.iter().map(|(n, c)| ((*n).to_owned(), *c as f64)).collect();
    Ok(Section {
        id: "aging",
        title: "How old the open work is".into(),
        note: Some("Open requests by the time since they were filed.".into()),
        svg: chart::bars("Open requests by age", &bars),
        headers: vec!["Age".into(), "Open".into()],
        rows: counts.into_iter().map(|(n, c)| vec![cell(n), number(c.unsigned_abs())]).collect(),
        compact: true,
        csv: String::new(),
    })
}
