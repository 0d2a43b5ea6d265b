//! Departments and their teams: add one, or change its name and mailbox. Codes are
//! identities and never change; a team stays in the department it was made in.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_domain::org::{Department, DepartmentText, Team};

use super::super::notice::Done;
use super::service_form::languages;
use super::{Admin, Notice, Page, Staff, Typed, field, submit};
use crate::AppState;
use crate::page::html;
use civic311_app::configure;

/// A department as listed: code, name, mailbox, its teams (code, name), the team
/// transfers land on, and its name in each other language it has one in
/// (language's name, translation).
type Listed = (String, String, String, Vec<(String, String)>, String, Vec<(&'static str, String)>);

#[derive(Template)]
#[template(path = "staff/admin_departments.html")]
struct DepartmentsPage<'a> {
    c: StaffChrome,
    departments: Vec<Listed>,
    /// Which form was refused ("department" or "team"), and what was typed into it.
    form: &'a str,
    typed: &'a Typed,
    /// The languages a department's name is translated into: (code, name in English).
    languages: Vec<(&'static str, &'static str)>,
    notice: Option<String>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    (form, typed): (&str, &Typed),
    notice: Option<String>,
    error: Option<String>,
) -> Page {
    let (departments, teams) = tokio::try_join!(state.store.departments(), state.store.teams())?;
    let page = DepartmentsPage {
        c: StaffChrome::new(state, staff),
        departments: departments
            .into_iter()
            .map(|d| {
                let own = teams.iter().filter(|t| t.department == d.code).map(|t| (t.code.clone(), t.name.clone()));
                let intake = d.intake_team.unwrap_or_default();
                let names = languages()
                    .into_iter()
                    .filter_map(|(l, n)| Some((n, d.translations.get(l)?.name.clone())).filter(|(_, t)| !t.is_empty()))
                    .collect();
                (d.code.clone(), d.name, d.email, own.collect(), intake, names)
            })
            .collect(),
        form,
        typed,
        languages: languages(),
        notice,
        error,
    };
    Ok(html(status, &page))
}

/// `GET /staff/admin/departments`: departments with their teams.
pub async fn departments(State(state): State<AppState>, Admin(staff): Admin, Query(n): Query<Notice>) -> Page {
    page(&state, &staff, StatusCode::OK, ("", &Typed::default()), n.text(), None).await
}

/// `POST /staff/admin/departments`: add or change a department.
pub async fn save_department(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let intake_team = Some(field(&fields, "intake_team")).filter(|t| !t.is_empty());
    // As the mailbox: what the form says, so an emptied name is removed.
    let translations = languages()
        .into_iter()
        .map(|(l, _)| (l.to_owned(), DepartmentText { name: field(&fields, &format!("name_{l}")) }))
        .filter(|(_, t)| !t.name.is_empty())
        .collect();
    let department = Department {
        code: field(&fields, "code"),
        name: field(&fields, "name"),
        email: field(&fields, "email"),
        intake_team,
        translations,
    };
    let change = async {
        let created = configure::put_item(&state, configure::By::Staff(&staff.user), department).await?;
        Ok(Done::added_or_saved(created))
    };
    let typed = Typed(fields.clone());
    let again = |status, error| page(&state, &staff, status, ("department", &typed), None, Some(error));
    submit(&staff, &fields, "/staff/admin/departments", change, again).await
}

/// `POST /staff/admin/teams`: add a team to a department, or rename one.
pub async fn save_team(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let team =
        Team { code: field(&fields, "code"), department: field(&fields, "department"), name: field(&fields, "name") };
    let change = async {
        let created = configure::put_item(&state, configure::By::Staff(&staff.user), team).await?;
        Ok(Done::added_or_saved(created))
    };
    let typed = Typed(fields.clone());
    let again = |status, error| page(&state, &staff, status, ("team", &typed), None, Some(error));
    submit(&staff, &fields, "/staff/admin/departments", change, again).await
}
