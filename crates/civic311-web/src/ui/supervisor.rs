//! The supervisor's view of a department: workload per team and person, what is
//! overdue, where requests wait longest (by status and team), and reassignment in bulk.

use crate::ui::session::StaffChrome;
use std::collections::BTreeMap;

use crate::form::Form;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use civic311_domain::org::Role;
use civic311_domain::request::{Event, ServiceRequest};
use civic311_domain::workflow::Action;
use jiff::{SignedDuration, Timestamp};

use super::queue::Params as QueueParams;

use super::{Fault, Page, Staff};
use crate::AppState;
use crate::page::html;

/// Open requests offered for bulk reassignment, soonest due first.
const BULK_PAGE: u32 = 100;

/// Counts for one row of a table, and the queue filters that list them.
#[derive(Default)]
struct Tally {
    open: i64,
    overdue: i64,
    oldest: Option<Timestamp>,
    /// `(name, value)` queue filters for this row: `team=…`, `owner=…`, `status=…`.
    filters: Vec<(&'static str, String)>,
}

impl Tally {
    fn add(&mut self, open: i64, overdue: i64, oldest: Timestamp) {
        self.open += open;
        self.overdue += overdue;
        self.oldest = Some(self.oldest.map_or(oldest, |o| o.min(oldest)));
    }
}

/// A row of a workload table: what it counts, and each count with the queue it opens.
struct CountRow {
    name: String,
    /// A second column (the team, in "where requests wait").
    also: String,
    open: (i64, String),
    overdue: (i64, String),
    oldest: String,
}

/// One escalation of the department's requests.
struct EscalationRow {
    id: String,
    service: String,
    at: String,
    level: String,
    /// Who was told, and where the request was moved.
    to: String,
    /// Still open, or its closed status.
    state: &'static str,
    open: bool,
}

#[derive(Template)]
#[template(path = "staff/supervisor.html")]
struct SupervisorPage {
    c: StaffChrome,
    department: String,
    department_name: String,
    departments: Vec<(String, String, bool)>,
    /// Open, overdue, due today, unassigned, escalated: label, count, queue.
    summary: Vec<(&'static str, i64, String)>,
    teams: Vec<CountRow>,
    people: Vec<CountRow>,
    waits: Vec<CountRow>,
    escalations: Vec<EscalationRow>,
    /// The queue of every escalated open request.
    escalated_queue: String,
    open: Vec<OpenRow>,
    /// The bulk list's filters, as the queues have them.
    f: super::queue::Filters,
    /// The bulk list's filters as a query string, for "check all".
    filters: String,
    checked: bool,
    team_choices: Vec<(String, String)>,
    people_choices: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
}

/// An open request offered for bulk reassignment.
struct OpenRow {
    id: String,
    service: String,
    owner: String,
    due: String,
    waited: String,
    late: bool,
    /// Marked escalated by an escalation chain.
    escalated: bool,
}

/// "5 h" or "3 d" since `since`; "–" without one.
pub(super) fn waited(since: Option<Timestamp>, now: Timestamp) -> String {
    let Some(since) = since else { return "–".to_owned() };
    let hours = now.duration_since(since).as_hours().max(0);
    if hours < 48 { format!("{hours} h") } else { format!("{} d", hours / 24) }
}

/// The departments this member of staff supervises.
fn supervised(staff: &Staff, all: impl Iterator<Item = String>) -> Vec<String> {
    let u = &staff.user;
    match u.role {
        Role::Admin => all.collect(),
        Role::Supervisor => std::iter::once(u.department.clone()).chain(u.also_departments.iter().cloned()).collect(),
        _ => Vec::new(),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Params {
    department: Option<String>,
    /// How many requests a bulk reassignment moved (a number, never words).
    assigned: Option<usize>,
    /// `all`: every request of the bulk list checked.
    check: Option<String>,
}

/// Requests shown in the escalations list; the escalated queue has them all.
const ESCALATIONS_SHOWN: usize = 20;

/// How far back the escalations list looks.
const ESCALATIONS_SINCE: SignedDuration = SignedDuration::from_hours(30 * 24);

/// `GET /staff/supervisor`: the view, its bulk list filtered as a queue is.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(p): Query<Params>,
    Query(filters): Query<QueueParams>,
) -> Page {
    let notice = p.assigned.map(|n| format!("{n} request(s) reassigned."));
    let checked = p.check.as_deref() == Some("all");
    render(&state, &staff, p.department, &filters, checked, StatusCode::OK, notice, None).await
}

/// The department's queue with `filters` (`(name, value)` pairs): its query, for
/// counting, and its link.
fn queue_of(
    state: &AppState,
    staff: &Staff,
    department: &str,
    filters: &[(&str, &str)],
) -> (civic311_store::RequestQuery, String) {
    let p = filters.iter().fold(QueueParams::default().in_department(department), |p, (k, v)| p.and(k, v));
    super::queue::link(&state.city(), &staff.user, &p, state.now())
}

/// The supervisor view of `department` (else the member of staff's own), its bulk list
/// filtered by `filters`, with a notice and an error from what was just done.
#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    staff: &Staff,
    department: Option<String>,
    filters: &QueueParams,
    checked: bool,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Page {
    let city = state.city();
    let now = state.now();
    let mine = supervised(staff, city.departments.iter().map(|d| d.code.clone()));
    if mine.is_empty() {
        let why = "The supervisor view is for supervisors and administrators.";
        return Err(Fault::Refused(StatusCode::FORBIDDEN, why.to_owned()));
    }
    let department = department.filter(|d| mine.contains(d)).unwrap_or_else(|| {
        if mine.contains(&staff.user.department) { staff.user.department.clone() } else { mine[0].clone() }
    });
    let bulk_params = filters.clone().in_department(&department);
    let (query, f, bulk_filters) = super::queue::chosen(&city, &staff.user, &bulk_params, now, BULK_PAGE);
    let summary_filters: [(&str, &[(&str, &str)]); 5] = [
        ("Open", &[]),
        ("Overdue", &[("due", "overdue")]),
        ("Due today", &[("due", "today")]),
        ("Unassigned", &[("owner", "unassigned")]),
        ("Escalated", &[("escalated", "on")]),
    ];
    let summary_queues: Vec<_> =
        summary_filters.iter().map(|(label, f)| (*label, queue_of(state, staff, &department, f))).collect();
    let counts = async {
        let mut out = Vec::with_capacity(summary_queues.len());
        for (_, (q, _)) in &summary_queues {
            out.push(state.store.count_matching(q).await?);
        }
        Ok(out)
    };
    let since = now - ESCALATIONS_SINCE;
    let (rows, open, counts, escalated) = tokio::try_join!(
        state.store.workload(std::slice::from_ref(&department), now),
        state.store.list_requests(&query),
        counts,
        state.store.escalations(std::slice::from_ref(&department), since, 200),
    )?;
    let escalated_requests = {
        let ids: Vec<i64> = escalated.iter().map(|(seq, _)| *seq).collect();
        let q = civic311_store::RequestQuery { ids, limit: 200, ..Default::default() };
        state.store.list_requests(&q).await?
    };
    let dir = &city.workflow.directory;
    let team_name = |t: &Option<String>| {
        t.as_ref()
            .map_or_else(|| "No team".to_owned(), |t| dir.teams.get(t).map_or_else(|| t.clone(), |x| x.name.clone()))
    };
    let team_filter = |t: &Option<String>| t.clone().unwrap_or_else(|| super::queue::NO_TEAM.to_owned());
    let person_name = |u: &Option<String>| {
        u.as_ref().map_or_else(
            || "Unassigned".to_owned(),
            |u| dir.users.get(u).map_or_else(|| u.clone(), |x| x.display_name.clone()),
        )
    };
    let (mut teams, mut people, mut waits) = (
        BTreeMap::<String, Tally>::new(),
        BTreeMap::<String, Tally>::new(),
        BTreeMap::<(String, String), Tally>::new(),
    );
    for r in &rows {
        let team = teams.entry(team_name(&r.team)).or_default();
        team.add(r.open, r.overdue, r.oldest);
        team.filters = vec![("team", team_filter(&r.team))];
        let person = people.entry(person_name(&r.assignee)).or_default();
        person.add(r.open, r.overdue, r.oldest);
        person.filters = vec![("owner", r.assignee.clone().unwrap_or_else(|| "unassigned".to_owned()))];
        let status = super::queue::status_label(r.status).to_owned();
        let wait = waits.entry((status, team_name(&r.team))).or_default();
        wait.add(r.open, r.overdue, r.oldest);
        wait.filters = vec![("status", r.status.as_str().to_owned()), ("team", team_filter(&r.team))];
    }
    let count_row = |name: String, also: String, t: Tally| {
        let base: Vec<(&str, &str)> = t.filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let overdue: Vec<(&str, &str)> = base.iter().copied().chain([("due", "overdue")]).collect();
        CountRow {
            name,
            also,
            open: (t.open, queue_of(state, staff, &department, &base).1),
            overdue: (t.overdue, queue_of(state, staff, &department, &overdue).1),
            oldest: waited(t.oldest, now),
        }
    };
    let mut waits: Vec<_> = waits.into_iter().collect();
    waits.sort_by_key(|(_, t)| t.oldest);
    let when = |t: Timestamp| t.to_zoned(city.tz.clone()).strftime("%a %b %-d, %H:%M").to_string();
    let mut seen = std::collections::BTreeSet::new();
    let summary_link_escalated = summary_queues.last().map(|(_, (_, link))| link.clone()).unwrap_or_default();
    let body = SupervisorPage {
        c: StaffChrome::new(state, staff),
        department_name: city.department_name(&department).to_owned(),
        departments: mine.iter().map(|d| (d.clone(), city.department_name(d).to_owned(), *d == department)).collect(),
        summary: summary_queues.into_iter().zip(counts).map(|((label, (_, link)), n)| (label, n, link)).collect(),
        teams: teams.into_iter().map(|(k, t)| count_row(k, String::new(), t)).collect(),
        people: people.into_iter().map(|(k, t)| count_row(k, String::new(), t)).collect(),
        waits: waits.into_iter().map(|((s, team), t)| count_row(s, team, t)).collect(),
        // Each request once, at its latest escalation (the events come newest first).
        escalations: escalated
            .iter()
            .filter(|(seq, _)| seen.insert(*seq))
            .filter_map(|(seq, e)| {
                let r = escalated_requests.iter().find(|r| r.id.seq == *seq)?;
                Some(escalation_row(&city, r, e, when(e.at)))
            })
            .take(ESCALATIONS_SHOWN)
            .collect(),
        escalated_queue: summary_link_escalated,
        open: open
            .iter()
            .map(|r| {
                let service = city.service(&r.service_code).map_or(r.service_code.as_str(), |s| &s.name).to_owned();
                let a = &r.assignment;
                let owner = super::owner_names(&city, &a.department, a.team.as_deref(), a.assignee.as_deref());
                OpenRow {
                    id: r.id.to_string(),
                    service,
                    owner,
                    due: r.expected_at.map_or_else(|| "–".to_owned(), when),
                    waited: waited(Some(r.requested_at), now),
                    late: r.expected_at.is_some_and(|d| d <= now),
                    escalated: r.workflow.escalated,
                }
            })
            .collect(),
        f,
        filters: bulk_filters,
        checked,
        team_choices: dir
            .teams
            .values()
            .filter(|t| t.department == department)
            .map(|t| (t.code.clone(), t.name.clone()))
            .collect(),
        people_choices: dir
            .users
            .values()
            .filter(|u| u.active && u.department == department)
            .map(|u| (u.username.clone(), u.display_name.clone()))
            .collect(),
        department,
        notice,
        error,
    };
    Ok(html(status, &body))
}

/// What an escalation event says: its level, who was told, where the request went.
fn escalation_row(city: &crate::CityModel, r: &ServiceRequest, e: &Event, at: String) -> EscalationRow {
    let dir = &city.workflow.directory;
    let audiences: Vec<String> = e
        .data
        .get("notified")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .map(|who| match who {
                    "assignee" => "the assignee".to_owned(),
                    "supervisor" => "the supervisor".to_owned(),
                    "department" => "the department's mailbox".to_owned(),
                    other => other.to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let moved = e
        .data
        .get("reassigned_to")
        .and_then(|v| v.as_str())
        .map(|t| format!("moved to {}", dir.teams.get(t).map_or(t, |x| x.name.as_str())));
    let told = (!audiences.is_empty()).then(|| format!("told {}", audiences.join(", ")));
    let to = [told, moved].into_iter().flatten().collect::<Vec<_>>().join("; ");
    EscalationRow {
        id: r.id.to_string(),
        service: city.service(&r.service_code).map_or_else(|| r.service_code.clone(), |s| s.name.clone()),
        at,
        level: e.data.get("level").and_then(serde_json::Value::as_u64).map_or_else(String::new, |l| l.to_string()),
        to: if to.is_empty() { "marked escalated".to_owned() } else { to },
        state: super::queue::status_label(r.status),
        open: !r.status.is_closed(),
    }
}

/// `POST /staff/supervisor/assign`: the checked requests to a team and/or person.
pub async fn assign(State(state): State<AppState>, staff: Staff, Form(fields): Form<Vec<(String, String)>>) -> Page {
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let department = field("department").unwrap_or_default().to_owned();
    // The list's filters come back with the form, so the same list is shown after.
    let listed: QueueParams = serde_urlencoded::from_str(field("filters").unwrap_or_default()).unwrap_or_default();
    // A refusal is shown at once with its reasons; only a count goes in an address.
    let again = |status, error: &str| {
        render(&state, &staff, Some(department.clone()), &listed, false, status, None, Some(error.to_owned()))
    };
    if !staff.csrf_ok(field("csrf")) {
        return again(StatusCode::FORBIDDEN, "This form had expired; nothing was changed.").await;
    }
    // The page is only for supervisors and administrators; which requests they may
    // reassign is the same role-and-department check as one at a time.
    if !matches!(staff.user.role, Role::Supervisor | Role::Admin) {
        let why = "Only supervisors and administrators reassign in bulk.";
        return Err(Fault::Refused(StatusCode::FORBIDDEN, why.to_owned()));
    }
    let action =
        Action::Assign { team: field("team").map(str::to_owned), assignee: field("assignee").map(str::to_owned) };
    let ids: Vec<&str> = fields.iter().filter(|(k, _)| k == "id").map(|(_, v)| v.as_str()).collect();
    if ids.is_empty() {
        return again(StatusCode::BAD_REQUEST, "No request was checked; nothing was changed.").await;
    }
    let (mut done, mut refused) = (0, Vec::new());
    for id in ids {
        let Some(seq) = state.request_named(id).await?.map(|r| r.id.seq) else {
            refused.push(format!("{id}: no such request"));
            continue;
        };
        match civic311_app::engine::act_as_staff(&state, &staff.user, seq, &action, None).await {
            Ok(_) => done += 1,
            Err(e @ civic311_app::AppError::Internal(_)) => return Err(e.into()),
            Err(e) => refused.push(format!("{id}: {e}")),
        }
    }
    if refused.is_empty() {
        // The filters as the queue writes them (never as posted) go in the address.
        let (_, _, filters) = super::queue::chosen(
            &state.city(),
            &staff.user,
            &listed.clone().in_department(&department),
            state.now(),
            1,
        );
        let to = format!("/staff/supervisor?{filters}&assigned={done}#bulk");
        return Ok(Redirect::to(&to).into_response());
    }
    let notice = Some(format!("{done} request(s) reassigned."));
    let error = Some(format!("Not reassigned: {}.", refused.join("; ")));
    render(&state, &staff, Some(department), &listed, false, StatusCode::OK, notice, error).await
}
