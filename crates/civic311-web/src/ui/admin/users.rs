//! Staff and their roles, and setting a member of staff's password.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_domain::org::{Role, StaffUser};

use super::super::notice::Done;
use super::{Admin, Notice, Page, Staff, field, refuse, submit};
use crate::AppState;
use crate::page::html;
use civic311_app::configure;

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

impl StaffForm {
    /// The form for someone new.
    fn blank() -> Self {
        StaffForm { active: true, role: "staff".into(), ..StaffForm::default() }
    }
}

#[derive(Template)]
#[template(path = "staff/admin_users.html")]
struct UsersPage<'a> {
    c: StaffChrome,
    users: Vec<StaffUser>,
    departments: Vec<(String, String, bool)>,
    teams: Vec<(String, String, bool)>,
    roles: Vec<(&'static str, bool)>,
    form: &'a StaffForm,
    notice: Option<String>,
    error: Option<String>,
}

async fn users_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    form: &StaffForm,
    notice: Option<String>,
    error: Option<String>,
) -> Page {
    let city = state.city();
    let users = state.store.users().await?;
    let dir = &city.workflow.directory;
    let page = UsersPage {
        c: StaffChrome::new(state, staff),
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
    Ok(html(status, &page))
}

/// `GET /staff/admin`: staff and roles.
pub async fn users(State(state): State<AppState>, Admin(staff): Admin, Query(n): Query<Notice>) -> Page {
    users_page(&state, &staff, StatusCode::OK, &StaffForm::blank(), n.text(), None).await
}

/// `POST /staff/admin/users`: add or change a member of staff.
pub async fn save_user(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let form = StaffForm {
        username: field(&fields, "username"),
        display_name: field(&fields, "display_name"),
        email: field(&fields, "email"),
        department: field(&fields, "department"),
        team: field(&fields, "team"),
        role: field(&fields, "role"),
        active: field(&fields, "active") == "true",
    };
    let change = async {
        let role =
            ROLES.iter().copied().find(|r| r.as_str() == form.role).ok_or_else(|| refuse("role", "choose a role"))?;
        let existing = state.store.users().await?.into_iter().find(|u| u.username == form.username);
        let user = StaffUser {
            username: form.username.clone(),
            display_name: form.display_name.clone(),
            email: form.email.clone(),
            department: form.department.clone(),
            team: Some(form.team.clone()).filter(|t| !t.is_empty()),
            role,
            also_departments: existing.as_ref().map(|u| u.also_departments.clone()).unwrap_or_default(),
            active: form.active,
            // How they get their mail is their own choice (`/staff/me`).
            digest: existing.map(|u| u.digest).unwrap_or_default(),
        };
        let created = configure::put_item(&state, configure::By::Staff(&staff.user), user).await?;
        Ok(Done::added_or_saved(created))
    };
    let again = |status, error| users_page(&state, &staff, status, &form, None, Some(error));
    submit(&staff, &fields, "/staff/admin", change, again).await
}

/// `POST /staff/admin/password`: set a member of staff's password.
pub async fn set_password(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let username = field(&fields, "username");
    let change = async {
        configure::set_password(&state, configure::By::Staff(&staff.user), &username, field(&fields, "password"))
            .await?;
        Ok(Done::PasswordSet)
    };
    let form = StaffForm::blank();
    let again = |status, error| users_page(&state, &staff, status, &form, None, Some(error));
    submit(&staff, &fields, "/staff/admin", change, again).await
}
