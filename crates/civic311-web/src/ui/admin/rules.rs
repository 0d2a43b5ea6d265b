//! The routing and priority rules: edited as text (`[[rule]]` each, in order), with a
//! panel that tries them on a sample request and shows which rule fires and why.

use crate::ui::session::StaffChrome;
use std::collections::BTreeMap;

use crate::form::Form;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_domain::geo::Point;
use civic311_domain::request::Channel;
use civic311_domain::routing::{RoutingInput, RuleSet};

use super::super::notice::Done;
use super::{Admin, AppError, Page, Staff, confirmed, submit};
use crate::AppState;
use crate::page::html;
use civic311_app::configure;

#[derive(Template)]
#[template(path = "staff/admin_rules.html")]
struct RulesPage {
    c: StaffChrome,
    services: Vec<(String, String, bool)>,
    channels: Vec<(&'static str, bool)>,
    sample: BTreeMap<&'static str, String>,
    outcome: Option<Vec<(&'static str, String)>>,
    matched: Vec<(String, String)>,
    rules: String,
    error: Option<String>,
    notice: Option<String>,
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
pub async fn rules(State(state): State<AppState>, Admin(staff): Admin, Query(s): Query<Sample>) -> Page {
    let rules = toml::to_string(&state.store.rules().await?).unwrap_or_default();
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
) -> Page {
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
        c: StaffChrome::new(state, staff),
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
        notice: super::super::notice::text(s.done.as_deref()),
    };
    Ok(html(status, &page))
}

/// `POST /staff/admin/rules`: replace the rules from the editor (TOML, `[[rule]]` each).
pub async fn save_rules(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let text = fields.iter().find(|(k, _)| k == "rules").map(|(_, v)| v.clone()).unwrap_or_default();
    let change = async {
        let rules: RuleSet = civic311_domain::exact::from_toml("rules", &text).map_err(AppError::from)?;
        configure::put_rules(&state, configure::By::Staff(&staff.user), &rules, confirmed(&fields)).await?;
        Ok(Done::Saved)
    };
    let again = |status, error| {
        std::future::ready(rules_page(&state, &staff, status, Sample::default(), text.clone(), Some(error)))
    };
    submit(&staff, &fields, "/staff/admin/rules", change, again).await
}
