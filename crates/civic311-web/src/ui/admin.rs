//! Administration in the browser: staff and their roles (with passwords), a panel to
//! try the routing rules on a sample request and see which rule fires and why, and
//! the audit log of configuration changes. Changes go through [`crate::configure`], so
//! they are checked, in effect at once and audited exactly as through the API.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use civic311_domain::geo::Point;
use civic311_domain::org::{Role, StaffUser};
use civic311_domain::request::Channel;
use civic311_domain::routing::RoutingInput;

use super::{Staff, encode, failure};
use crate::AppState;
use crate::configure::{self, ChangeError};
use crate::page::html;

const ROLES: [Role; 6] = [Role::Intake, Role::Staff, Role::Field, Role::Supervisor, Role::Admin, Role::Analyst];

/// The fields of the staff form, as sent back when it is refused.
#[derive(Default)]
struct StaffForm {
    username: String,
    display_name: String,
    email: String,
    department: String,
    team: String,
    role: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "staff/admin_users.html")]
struct UsersPage<'a> {
    city: &'a str,
    display_name: &'a str,
    csrf: &'a str,
    users: Vec<StaffUser>,
    departments: Vec<(String, String, bool)>,
    teams: Vec<(String, String, bool)>,
    roles: Vec<(&'static str, bool)>,
    form: StaffForm,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/admin_rules.html")]
struct RulesPage<'a> {
    city: &'a str,
    display_name: &'a str,
    csrf: &'a str,
    services: Vec<(String, String, bool)>,
    channels: Vec<(&'static str, bool)>,
    sample: BTreeMap<&'static str, String>,
    outcome: Option<Vec<(&'static str, String)>>,
    matched: Vec<(String, String)>,
    rules: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/admin_workflow.html")]
struct WorkflowPage<'a> {
    city: &'a str,
    display_name: &'a str,
    csrf: &'a str,
    text: String,
    /// Kind, language, subject and body of every template in effect, rendered with
    /// sample values.
    previews: Vec<(String, String, String, String)>,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/admin_audit.html")]
struct AuditPage<'a> {
    city: &'a str,
    display_name: &'a str,
    csrf: &'a str,
    changes: Vec<(String, String, String, String, String)>,
}

/// The refusal for anyone but administrators.
fn not_admin(staff: &Staff) -> Option<Response> {
    (staff.user.role != Role::Admin)
        .then(|| (StatusCode::FORBIDDEN, "Administration is for administrators.").into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Notice {
    done: Option<String>,
}

async fn users_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    form: StaffForm,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let city = state.city();
    let users = match state.store.users().await {
        Ok(u) => u,
        Err(e) => return failure(e),
    };
    let dir = &city.workflow.directory;
    let page = UsersPage {
        city: &city.settings.name,
        display_name: &staff.user.display_name,
        csrf: &staff.session.csrf,
        users,
        departments: dir
            .departments
            .values()
            .map(|d| (d.code.clone(), d.name.clone(), d.code == form.department))
            .collect(),
        teams: dir
            .teams
            .values()
            .map(|t| (t.code.clone(), format!("{} ({})", t.name, t.department), t.code == form.team))
            .collect(),
        roles: ROLES.iter().map(|r| (r.as_str(), r.as_str() == form.role)).collect(),
        form,
        notice,
        error,
    };
    html(status, &page)
}

/// `GET /staff/admin`: staff and roles.
pub async fn users(State(state): State<AppState>, staff: Staff, Query(n): Query<Notice>) -> Response {
    if let Some(r) = not_admin(&staff) {
        return r;
    }
    let form = StaffForm { active: true, role: "staff".into(), ..StaffForm::default() };
    users_page(&state, &staff, StatusCode::OK, form, n.done, None).await
}

fn field(fields: &[(String, String)], k: &str) -> String {
    fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_owned()).unwrap_or_default()
}

/// The staff page after a change: back with a notice, or again with the refusal.
async fn after_change(
    state: &AppState,
    staff: &Staff,
    form: StaffForm,
    result: Result<String, ChangeError>,
) -> Response {
    match result {
        Ok(notice) => Redirect::to(&format!("/staff/admin?done={}", encode(&notice))).into_response(),
        Err(ChangeError::Refused(f) | ChangeError::NotFound(f)) => {
            let message = format!("Not saved: {} — {}.", f.field, f.detail);
            users_page(state, staff, StatusCode::BAD_REQUEST, form, None, Some(message)).await
        }
        Err(e) => failure(e),
    }
}

/// A posted staff form from an administrator with the session's CSRF value, or the
/// page that refuses it.
async fn admitted(
    state: &AppState,
    staff: &Staff,
    fields: &[(String, String)],
    form: StaffForm,
) -> Result<StaffForm, Response> {
    if let Some(r) = not_admin(staff) {
        return Err(r);
    }
    if !staff.csrf_ok(Some(&field(fields, "csrf"))) {
        let expired = Some("This form had expired; nothing was saved.".to_owned());
        return Err(users_page(state, staff, StatusCode::FORBIDDEN, form, None, expired).await);
    }
    Ok(form)
}

/// `POST /staff/admin/users`: add or change a member of staff.
pub async fn save_user(
    State(state): State<AppState>,
    staff: Staff,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let form = StaffForm {
        username: field(&fields, "username"),
        display_name: field(&fields, "display_name"),
        email: field(&fields, "email"),
        department: field(&fields, "department"),
        team: field(&fields, "team"),
        role: field(&fields, "role"),
        active: field(&fields, "active") == "true",
    };
    let form = match admitted(&state, &staff, &fields, form).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let Some(role) = ROLES.iter().copied().find(|r| r.as_str() == form.role) else {
        return users_page(&state, &staff, StatusCode::BAD_REQUEST, form, None, Some("Choose a role.".into())).await;
    };
    let existing = state.store.users().await.ok().and_then(|us| us.into_iter().find(|u| u.username == form.username));
    let user = StaffUser {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        email: form.email.clone(),
        department: form.department.clone(),
        team: Some(form.team.clone()).filter(|t| !t.is_empty()),
        role,
        also_departments: existing.map(|u| u.also_departments).unwrap_or_default(),
        active: form.active,
    };
    let result = configure::put_item(&state, &staff.user, user)
        .await
        .map(|created| format!("{} {}.", form.username, if created { "added" } else { "saved" }));
    after_change(&state, &staff, form, result).await
}

/// `POST /staff/admin/password`: set a member of staff's password.
pub async fn set_password(
    State(state): State<AppState>,
    staff: Staff,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let form = StaffForm { active: true, role: "staff".into(), ..StaffForm::default() };
    let form = match admitted(&state, &staff, &fields, form).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let username = field(&fields, "username");
    let result = configure::set_password(&state, &staff.user, &username, field(&fields, "password"))
        .await
        .map(|()| format!("Password of {username} set; their sessions ended."));
    after_change(&state, &staff, form, result).await
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Sample {
    done: Option<String>,
    service_code: Option<String>,
    description: Option<String>,
    lat: Option<String>,
    long: Option<String>,
    channel: Option<String>,
    at: Option<String>,
}

/// `GET /staff/admin/rules`: the rules in order, and what they decide for a sample.
pub async fn rules(State(state): State<AppState>, staff: Staff, Query(s): Query<Sample>) -> Response {
    if let Some(r) = not_admin(&staff) {
        return r;
    }
    let rules = match state.store.rules().await {
        Ok(r) => toml::to_string(&r).unwrap_or_default(),
        Err(e) => return failure(e),
    };
    rules_page(&state, &staff, StatusCode::OK, s, rules, None)
}

/// The rules page with `rules` in the editor and `error` (a refused edit) shown.
fn rules_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    s: Sample,
    rules: String,
    error: Option<String>,
) -> Response {
    let city = state.city();
    let mut error = error;
    let (mut outcome, mut matched) = (None, Vec::new());
    let now_local = state.now().to_zoned(city.tz.clone()).strftime("%Y-%m-%dT%H:%M").to_string();
    if let Some(service) = s.service_code.as_deref().and_then(|c| city.service(c)) {
        let point = s
            .lat
            .as_deref()
            .zip(s.long.as_deref())
            .and_then(|(a, b)| Point::new(a.trim().parse().ok()?, b.trim().parse().ok()?).ok());
        let areas = point.map(|p| city.boundaries.locate(&p)).unwrap_or_default();
        let at = s.at.as_deref().filter(|a| !a.is_empty()).unwrap_or(&now_local);
        match at.parse::<jiff::civil::DateTime>().ok().and_then(|dt| dt.to_zoned(city.tz.clone()).ok()) {
            None => error = Some(format!("'{at}' is not a date and time.")),
            Some(when) => {
                let channel = s.channel.as_deref().and_then(Channel::parse).unwrap_or(Channel::Web);
                let answers = Default::default();
                let decision = city.routing.route(&RoutingInput {
                    service,
                    description: s.description.as_deref().unwrap_or(""),
                    areas: &areas,
                    channel,
                    answers: &answers,
                    requested_at: when.timestamp(),
                });
                let a = &decision.assignment;
                let found_in = areas
                    .iter()
                    .map(|(l, f)| format!("{l} {}", city.boundaries.feature_name(l, f).unwrap_or(f)))
                    .collect::<Vec<_>>();
                outcome = Some(vec![
                    ("Department", city.department_name(&a.department).to_owned()),
                    ("Team", a.team.clone().unwrap_or_else(|| "–".into())),
                    ("Assignee", a.assignee.clone().unwrap_or_else(|| "–".into())),
                    ("Priority", a.priority.as_str().to_owned()),
                    ("Tags", if a.tags.is_empty() { "–".into() } else { a.tags.join(", ") }),
                    ("Owner from", decision.trace.owner_from.clone()),
                    ("Priority from", decision.trace.priority_from.clone()),
                    (
                        "Located in",
                        if found_in.is_empty() {
                            "no boundary (no point given, or outside)".into()
                        } else {
                            found_in.join(", ")
                        },
                    ),
                    ("Rules evaluated", decision.trace.rules_evaluated.to_string()),
                ]);
                matched = decision.trace.matched.iter().map(|m| (m.rule.clone(), m.why.join("; "))).collect();
            }
        }
    }
    let sample: BTreeMap<&'static str, String> = [
        ("service_code", s.service_code),
        ("description", s.description),
        ("lat", s.lat),
        ("long", s.long),
        ("channel", s.channel),
        ("at", s.at.or(Some(now_local))),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.unwrap_or_default()))
    .collect();
    let page = RulesPage {
        city: &city.settings.name,
        display_name: &staff.user.display_name,
        csrf: &staff.session.csrf,
        services: city
            .services()
            .map(|x| (x.code.clone(), x.name.clone(), Some(&x.code) == sample.get("service_code")))
            .collect(),
        channels: Channel::ALL
            .iter()
            .map(|c| (c.as_str(), Some(&c.as_str().to_owned()) == sample.get("channel")))
            .collect(),
        sample,
        outcome,
        matched,
        rules,
        error,
        notice: s.done,
    };
    html(status, &page)
}

/// `POST /staff/admin/rules`: replace the rules from the editor (TOML, `[[rule]]` each).
pub async fn save_rules(
    State(state): State<AppState>,
    staff: Staff,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = not_admin(&staff) {
        return r;
    }
    let text = fields.iter().find(|(k, _)| k == "rules").map(|(_, v)| v.clone()).unwrap_or_default();
    let refuse = |error: String| {
        rules_page(&state, &staff, StatusCode::BAD_REQUEST, Sample::default(), text.clone(), Some(error))
    };
    if !staff.csrf_ok(Some(&field(&fields, "csrf"))) {
        return refuse("This form had expired; nothing was saved.".into());
    }
    let rules: civic311_domain::routing::RuleSet = match toml::from_str(&text) {
        Ok(r) => r,
        Err(e) => return refuse(format!("Not saved: the rules are not valid TOML — {e}")),
    };
    match configure::put_rules(&state, &staff.user, &rules).await {
        Ok(()) => {
            Redirect::to(&format!("/staff/admin/rules?done={}", encode(&format!("{} rules saved.", rules.rules.len()))))
                .into_response()
        }
        Err(ChangeError::Refused(f) | ChangeError::NotFound(f)) => {
            refuse(format!("Not saved: {} — {}.", f.field, f.detail))
        }
        Err(e) => failure(e),
    }
}

/// Sample values for template previews.
fn sample_vars(city: &str) -> BTreeMap<String, String> {
    [
        ("number", "2026-000123"),
        ("service", "Pothole"),
        ("status", "in progress"),
        ("note", "A crew is booked for Thursday."),
        ("expected", "Fri Nov 27, 17:00"),
        ("url", "https://311.example.gov/open311/v2/requests/2026-000123.json"),
        ("rating_url", "https://311.example.gov/rate/…"),
        ("department", "Public Works"),
        ("due", "Fri Nov 27, 17:00"),
        ("original", "2026-000101"),
        ("city", city),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn workflow_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    text: String,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let city = state.city();
    let vars = sample_vars(&city.settings.name);
    let previews = city
        .workflow
        .templates
        .all()
        .map(|t| {
            let (subject, body) = t.render(&vars);
            (t.kind.clone(), t.language.clone(), subject, body)
        })
        .collect();
    let page = WorkflowPage {
        city: &city.settings.name,
        display_name: &staff.user.display_name,
        csrf: &staff.session.csrf,
        text,
        previews,
        error,
        notice,
    };
    html(status, &page)
}

/// `GET /staff/admin/workflow`: calendars, SLA policies, escalation, templates,
/// webhooks and duplicate settings as one TOML document, with every message template
/// previewed.
pub async fn workflow(State(state): State<AppState>, staff: Staff, Query(n): Query<Notice>) -> Response {
    if let Some(r) = not_admin(&staff) {
        return r;
    }
    let text = match state.store.workflow_config().await {
        Ok(c) => toml::to_string(&c.unwrap_or_default()).unwrap_or_default(),
        Err(e) => return failure(e),
    };
    workflow_page(&state, &staff, StatusCode::OK, text, None, n.done)
}

/// `POST /staff/admin/workflow`: replace the workflow document from the editor.
pub async fn save_workflow(
    State(state): State<AppState>,
    staff: Staff,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = not_admin(&staff) {
        return r;
    }
    let text = fields.iter().find(|(k, _)| k == "workflow").map(|(_, v)| v.clone()).unwrap_or_default();
    let refuse =
        |error: String| workflow_page(&state, &staff, StatusCode::BAD_REQUEST, text.clone(), Some(error), None);
    if !staff.csrf_ok(Some(&field(&fields, "csrf"))) {
        return refuse("This form had expired; nothing was saved.".into());
    }
    let config: civic311_domain::workflow::WorkflowConfig = match toml::from_str(&text) {
        Ok(c) => c,
        Err(e) => return refuse(format!("Not saved: not valid TOML — {e}")),
    };
    match configure::put_workflow(&state, &staff.user, &config).await {
        Ok(()) => Redirect::to("/staff/admin/workflow?done=Saved%3B%20in%20effect%20now.").into_response(),
        Err(ChangeError::Refused(f) | ChangeError::NotFound(f)) => {
            refuse(format!("Not saved: {} — {}.", f.field, f.detail))
        }
        Err(e) => failure(e),
    }
}

/// `GET /staff/admin/audit`: the newest configuration changes.
pub async fn audit(State(state): State<AppState>, staff: Staff) -> Response {
    if let Some(r) = not_admin(&staff) {
        return r;
    }
    let city = state.city();
    let changes = match state.store.config_changes(200).await {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    let page = AuditPage {
        city: &city.settings.name,
        display_name: &staff.user.display_name,
        csrf: &staff.session.csrf,
        changes: changes
            .into_iter()
            .map(|c| {
                let body: String = c.body.to_string().chars().take(300).collect();
                (c.at.to_zoned(city.tz.clone()).strftime("%Y-%m-%d %H:%M").to_string(), c.actor, c.kind, c.item, body)
            })
            .collect(),
    };
    html(StatusCode::OK, &page)
}
