//! Services and their questions. Each service is edited by a form — its words beside
//! their Spanish (a missing translation is pointed out), its department, priority and
//! notice, its questions and answer choices — or, for bulk edits, as a short TOML
//! document. Either is checked with the whole city before it is saved (a notice must
//! promise what the service's SLA policy gives), and its questions are previewed as
//! the intake screen will ask them.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use civic311_domain::request::Priority;
use civic311_domain::service::{Service, Visibility};
use civic311_domain::workflow::notice_conflict;

use super::super::notice::Done;
use super::service_form::{DATATYPES, ServiceForm, blank_service, languages};
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
    services: Vec<Listed>,
    /// The languages translations are checked in, by name.
    languages: Vec<&'static str>,
    notice: Option<String>,
}

/// One service in the list.
struct Listed {
    code: String,
    name: String,
    group: String,
    owner: String,
    public: bool,
    asked: usize,
    /// How many texts the other languages still lack (residents read them; staff-only
    /// services are not counted).
    untranslated: usize,
    /// Why its notice contradicts its SLA policy, if it does.
    conflict: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/admin_service.html")]
struct ServicePage<'a> {
    c: StaffChrome,
    /// The path segment: the service's code, or `new`.
    code: &'a str,
    form: ServiceForm,
    departments: Vec<(String, String)>,
    priorities: Vec<&'static str>,
    datatypes: &'static [(civic311_domain::service::Datatype, &'static str)],
    text: &'a str,
    /// The questions as the intake screen will ask them.
    questions: Vec<Question>,
    /// Why the notice contradicts the SLA policy the service's requests get.
    conflict: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

/// `GET /staff/admin/services`: every service, public and internal, with what is
/// still untranslated and any notice its SLA policy contradicts.
pub async fn services(State(state): State<AppState>, Admin(staff): Admin, Query(n): Query<Notice>) -> Page {
    let city = state.city();
    let langs = languages();
    let page = ServicesPage {
        c: StaffChrome::new(&state, &staff),
        services: city
            .services()
            .map(|s| Listed {
                code: s.code.clone(),
                name: s.name.clone(),
                group: s.group.clone(),
                owner: city.department_name(&s.department).to_owned(),
                public: s.visibility == Visibility::Public,
                asked: s.attributes.iter().filter(|a| a.variable).count(),
                untranslated: langs
                    .iter()
                    .filter(|_| s.is_public())
                    .map(|(l, _)| s.missing_translations(l).len())
                    .sum(),
                conflict: notice_conflict(s, &city.workflow),
            })
            .collect(),
        languages: langs.iter().map(|(_, n)| *n).collect(),
        notice: n.text(),
    };
    Ok(html(StatusCode::OK, &page))
}

/// The editor for one service: the form shows `shown`, the text editor `text`.
fn page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    (code, shown, text): (&str, &Service, &str),
    said: Said,
) -> Page {
    let city = state.city();
    let page = ServicePage {
        c: StaffChrome::new(state, staff),
        code,
        form: ServiceForm::of(shown),
        departments: city.departments.iter().map(|d| (d.code.clone(), d.name.clone())).collect(),
        priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
        datatypes: &DATATYPES,
        text,
        questions: questions(shown, &[], crate::i18n::texts("en")),
        conflict: notice_conflict(shown, &city.workflow),
        notice: said.0,
        error: said.1,
    };
    Ok(html(status, &page))
}

/// The service as stored, or an empty one in the city's first department for `new`;
/// `None` when there is no such service.
async fn stored(state: &AppState, code: &str) -> Result<Option<Service>, Fault> {
    if code == NEW {
        let department = state.city().departments.iter().map(|d| d.code.clone()).next().unwrap_or_default();
        return Ok(Some(Service { department, ..blank_service() }));
    }
    Ok(state.store.services().await?.into_iter().find(|s| s.code == code))
}

/// `GET /staff/admin/services/{code}` (administrators only): one service in the form
/// and as text, or a starter for `new`.
pub async fn service(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(code): Path<String>,
    Query(n): Query<Notice>,
) -> Page {
    let Some(service) = stored(&state, &code).await? else {
        return Err(Fault::Refused(StatusCode::NOT_FOUND, format!("There is no service {code}.")));
    };
    let text = if code == NEW {
        STARTER.replace("{department}", &service.department)
    } else {
        toml::to_string(&service).unwrap_or_default()
    };
    page(&state, &staff, StatusCode::OK, (&code, &service, &text), (n.text(), None))
}

/// `POST /staff/admin/services/{code}` (administrators only, with the form's CSRF
/// value): save the service from the form, or from the text editor when that is what
/// was posted. A service keeps its code; `new` adds one whose code is not taken.
pub async fn save_service(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let base = stored(&state, &code).await?;
    let Some(base) = base else {
        return Err(Fault::Refused(StatusCode::NOT_FOUND, format!("There is no service {code}.")));
    };
    let as_text = fields.iter().find(|(k, _)| k == "service").map(|(_, v)| v.clone());
    let parsed = match &as_text {
        Some(text) => civic311_domain::exact::from_toml::<Service>("service", text).map_err(AppError::from),
        None => Ok(ServiceForm::read(&base, &fields)),
    };
    // What the page shows again if the change is refused: what was typed.
    let shown = parsed.as_ref().map_or(base, Clone::clone);
    let text = as_text.unwrap_or_else(|| toml::to_string(&shown).unwrap_or_default());
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
    let again =
        |status, error| std::future::ready(page(&state, &staff, status, (&code, &shown, &text), (None, Some(error))));
    submit(&staff, &fields, &back, change, again).await
}
