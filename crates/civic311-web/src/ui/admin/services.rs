//! Services and their questions. Each service is edited as a short TOML document —
//! its name, group, keywords, department, priority, notice and questions — checked
//! with the whole city before it is saved, with its questions previewed as the intake
//! screen will ask them.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use civic311_domain::service::{Service, Visibility};

use super::super::notice::Done;
use super::{Admin, AppError, Fault, Notice, Page, Said, Staff, refuse, submit};
use crate::AppState;
use crate::page::html;
use crate::questions::{Question, questions};
use civic311_app::configure;

/// The path segment that starts a new service.
const NEW: &str = "new";

/// What a new service starts from; `{department}` becomes one of the city's.
const STARTER: &str = r#"code = "NEW-CODE"
name = "What residents call it"
description = "One sentence on what to report here."
group = "Streets"
keywords = ["words", "residents use"]
department = "{department}"
default_priority = "normal"
visibility = "public"
service_notice = "What happens next, and how long it usually takes."

[[attributes]]
code = "where_exactly"
datatype = "string"
required = false
order = 1
description = "Where exactly? (e.g. in front of number 12)"
"#;

#[derive(Template)]
#[template(path = "staff/admin_services.html")]
struct ServicesPage {
    c: StaffChrome,
    /// Code, name, group, department, public, number of questions.
    services: Vec<(String, String, String, String, bool, usize)>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/admin_service.html")]
struct ServicePage<'a> {
    c: StaffChrome,
    /// The path segment: the service's code, or `new`.
    code: &'a str,
    text: &'a str,
    /// The questions of the service as last saved (or as typed, when it parses).
    questions: Vec<Question>,
    notice: Option<String>,
    error: Option<String>,
}

/// `GET /staff/admin/services`: every service, public and internal.
pub async fn services(State(state): State<AppState>, Admin(staff): Admin, Query(n): Query<Notice>) -> Page {
    let city = state.city();
    let page = ServicesPage {
        c: StaffChrome::new(&state, &staff),
        services: city
            .services()
            .map(|s| {
                let asked = s.attributes.iter().filter(|a| a.variable).count();
                let owner = city.department_name(&s.department).to_owned();
                (s.code.clone(), s.name.clone(), s.group.clone(), owner, s.visibility == Visibility::Public, asked)
            })
            .collect(),
        notice: n.text(),
    };
    Ok(html(StatusCode::OK, &page))
}

/// The editor for one service, with the questions of the text shown when it parses.
fn page(state: &AppState, staff: &Staff, status: StatusCode, (code, text): (&str, &str), said: Said) -> Page {
    let page = ServicePage {
        c: StaffChrome::new(state, staff),
        code,
        text,
        questions: toml::from_str::<Service>(text)
            .map(|s| questions(&s, &[], crate::i18n::texts("en")))
            .unwrap_or_default(),
        notice: said.0,
        error: said.1,
    };
    Ok(html(status, &page))
}

/// `GET /staff/admin/services/{code}`: one service as text, or a starter for `new`.
pub async fn service(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(code): Path<String>,
    Query(n): Query<Notice>,
) -> Page {
    let text = if code == NEW {
        let department = state.city().departments.iter().map(|d| d.code.clone()).next().unwrap_or_default();
        STARTER.replace("{department}", &department)
    } else {
        let all = state.store.services().await?;
        let Some(service) = all.into_iter().find(|s| s.code == code) else {
            return Err(Fault::Refused(StatusCode::NOT_FOUND, format!("There is no service {code}.")));
        };
        toml::to_string(&service).unwrap_or_default()
    };
    page(&state, &staff, StatusCode::OK, (&code, &text), (n.text(), None))
}

/// `POST /staff/admin/services/{code}`: save the service from the editor. A service
/// keeps its code; `new` adds one whose code is not taken.
pub async fn save_service(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let text = fields.iter().find(|(k, _)| k == "service").map(|(_, v)| v.clone()).unwrap_or_default();
    let parsed = civic311_domain::exact::from_toml::<Service>("service", &text).map_err(AppError::from);
    let back = format!("/staff/admin/services/{}", crate::ui::encode(parsed.as_ref().map_or("", |s| &s.code)));
    let change = async {
        let service = parsed?;
        let taken = state.city().service(&service.code).is_some();
        if code == NEW && taken {
            return Err(refuse("code", format!("{} is taken; edit that service instead", service.code)));
        }
        if code != NEW && service.code != code {
            return Err(refuse("code", format!("a service keeps its code ({code}); add a new service instead")));
        }
        let created = configure::put_item(&state, configure::By::Staff(&staff.user), service).await?;
        Ok(Done::added_or_saved(created))
    };
    let again = |status, error| std::future::ready(page(&state, &staff, status, (&code, &text), (None, Some(error))));
    submit(&staff, &fields, &back, change, again).await
}
