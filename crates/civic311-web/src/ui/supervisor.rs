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
use civic311_domain::request::Status;
use civic311_domain::workflow::Action;
use civic311_store::{RequestQuery, Sort};
use jiff::Timestamp;

use super::{Fault, Page, Staff};
use crate::AppState;
use crate::page::html;

/// Open requests offered for bulk reassignment, soonest due first.
const BULK_PAGE: u32 = 100;

/// Counts for one row of a table.
#[derive(Default)]
struct Tally {
    open: i64,
    overdue: i64,
    oldest: Option<Timestamp>,
}

impl Tally {
    fn add(&mut self, open: i64, overdue: i64, oldest: Timestamp) {
        self.open += open;
        self.overdue += overdue;
        self.oldest = Some(self.oldest.map_or(oldest, |o| o.min(oldest)));
    }
}

#[derive(Template)]
#[template(path = "staff/supervisor.html")]
struct SupervisorPage {
    c: StaffChrome,
    department: String,
    department_name: String,
    departments: Vec<(String, String, bool)>,
    /// Name, open, overdue, oldest waiting.
    teams: Vec<(String, i64, i64, String)>,
    people: Vec<(String, i64, i64, String)>,
    waits: Vec<(String, String, i64, String)>,
    open: Vec<OpenRow>,
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
    waited: String,
    late: bool,
    /// Marked escalated by an escalation chain.
    escalated: bool,
}

fn waited(since: Option<Timestamp>, now: Timestamp) -> String {
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
}

/// `GET /staff/supervisor`.
pub async fn page(State(state): State<AppState>, staff: Staff, Query(p): Query<Params>) -> Page {
    let notice = p.assigned.map(|n| format!("{n} request(s) reassigned."));
    render(&state, &staff, p.department, StatusCode::OK, notice, None).await
}

/// The supervisor view of `department` (else the member of staff's own), with a
/// notice and an error from what was just done.
async fn render(
    state: &AppState,
    staff: &Staff,
    department: Option<String>,
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
    let query = RequestQuery {
        departments: vec![department.clone()],
        statuses: Status::ACTIVE.to_vec(),
        sort: Sort::Due,
        limit: BULK_PAGE,
        ..RequestQuery::default()
    };
    let (rows, open) = tokio::try_join!(
        state.store.workload(std::slice::from_ref(&department), now),
        state.store.list_requests(&query)
    )?;
    let dir = &city.workflow.directory;
    let team_name = |t: &Option<String>| {
        t.as_ref()
            .map_or_else(|| "No team".to_owned(), |t| dir.teams.get(t).map_or_else(|| t.clone(), |x| x.name.clone()))
    };
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
        teams.entry(team_name(&r.team)).or_default().add(r.open, r.overdue, r.oldest);
        people.entry(person_name(&r.assignee)).or_default().add(r.open, r.overdue, r.oldest);
        let status = super::queue::status_label(r.status).to_owned();
        waits.entry((status, team_name(&r.team))).or_default().add(r.open, r.overdue, r.oldest);
    }
    let table = |m: BTreeMap<String, Tally>| -> Vec<(String, i64, i64, String)> {
        m.into_iter().map(|(k, t)| (k, t.open, t.overdue, waited(t.oldest, now))).collect()
    };
    let mut waits: Vec<_> = waits.into_iter().collect();
    waits.sort_by_key(|(_, t)| t.oldest);
    let body = SupervisorPage {
        c: StaffChrome::new(state, staff),
        department_name: city.department_name(&department).to_owned(),
        departments: mine.iter().map(|d| (d.clone(), city.department_name(d).to_owned(), *d == department)).collect(),
        teams: table(teams),
        people: table(people),
        waits: waits.into_iter().map(|((s, t), x)| (s, t, x.open, waited(x.oldest, now))).collect(),
        open: open
            .iter()
            .map(|r| {
                let service = city.service(&r.service_code).map_or(r.service_code.as_str(), |s| &s.name).to_owned();
                let owner = [r.assignment.team.as_deref(), r.assignment.assignee.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · ");
                OpenRow {
                    id: r.id.to_string(),
                    service,
                    owner,
                    waited: waited(Some(r.requested_at), now),
                    late: r.expected_at.is_some_and(|d| d <= now),
                    escalated: r.workflow.escalated,
                }
            })
            .collect(),
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

/// `POST /staff/supervisor/assign`: the checked requests to a team and/or person.
pub async fn assign(State(state): State<AppState>, staff: Staff, Form(fields): Form<Vec<(String, String)>>) -> Page {
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let department = field("department").unwrap_or_default().to_owned();
    // A refusal is shown at once with its reasons; only a count goes in an address.
    let again =
        |status, error: &str| render(&state, &staff, Some(department.clone()), status, None, Some(error.to_owned()));
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
        let to = format!("/staff/supervisor?department={}&assigned={done}", super::encode(&department));
        return Ok(Redirect::to(&to).into_response());
    }
    let notice = Some(format!("{done} request(s) reassigned."));
    let error = Some(format!("Not reassigned: {}.", refused.join("; ")));
    render(&state, &staff, Some(department), StatusCode::OK, notice, error).await
}
