//! The routing and priority rules: listed in order in words, each edited by a form
//! (see `rule_form`) or all at once as text (`[[rule]]` each), with a panel that tries
//! them on a sample request — answers to its category's questions too — and shows
//! which rule fires and why.

use crate::ui::session::StaffChrome;
use std::collections::BTreeMap;

use crate::form::Form;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_domain::geo::Point;
use civic311_domain::request::Channel;
use civic311_domain::routing::{Actions, Conditions, RoutingInput, RuleSet};
use civic311_domain::service::Answers;

use super::super::notice::Done;
use super::{Admin, AppError, Page, Staff, confirmed, submit};
use crate::AppState;
use crate::page::html;
use crate::questions::{Question, questions};
use civic311_app::configure;

#[derive(Template)]
#[template(path = "staff/admin_rules.html")]
struct RulesPage {
    c: StaffChrome,
    services: Vec<(String, String, bool)>,
    channels: Vec<(&'static str, bool)>,
    sample: BTreeMap<&'static str, String>,
    /// The chosen category's questions, with the sample's answers.
    questions: Vec<Question>,
    /// Each rule in order: position, name, when, then.
    listed: Vec<(usize, String, String, String)>,
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

/// `GET /staff/admin/rules`: the rules in order, and what they decide for a sample
/// (whose answers come as `attribute[CODE]`, as the intake forms post them).
pub async fn rules(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Query(s): Query<Sample>,
    Query(raw): Query<Vec<(String, String)>>,
) -> Page {
    let set = state.store.rules().await?;
    let text = toml::to_string(&set).unwrap_or_default();
    rules_page(&state, &staff, StatusCode::OK, (s, &raw), (&set, text), None)
}

/// What staff call a team or person, "–" for none.
fn name_of(code: Option<&str>, name: impl Fn(&str) -> Option<String>) -> String {
    code.map_or_else(|| "–".to_owned(), |c| name(c).unwrap_or_else(|| c.to_owned()))
}

/// A rule's conditions in words, with names where staff know things by name.
fn when_words(c: &Conditions, city: &crate::CityModel) -> String {
    let mut parts = Vec::new();
    let mut say = |what: &str, items: Vec<String>| {
        if !items.is_empty() {
            parts.push(format!("{what} {}", items.join(" or ")));
        }
    };
    say("category", c.services.iter().map(|code| city.service(code).map_or(code, |s| &s.name).clone()).collect());
    say("group", c.groups.clone());
    for (layer, features) in &c.within {
        let named = features.iter().map(|f| city.boundaries.feature_name(layer, f).unwrap_or(f).to_owned());
        say(&format!("in {layer}"), named.collect());
    }
    say("description says", c.keywords.iter().map(|k| format!("“{k}”")).collect());
    say("came by", c.channels.iter().map(|c| c.as_str().to_owned()).collect());
    for (code, answers) in &c.attributes {
        say(&format!("{code} answered"), answers.clone());
    }
    say("on", c.days.iter().filter_map(|d| serde_json::to_value(d).ok()?.as_str().map(str::to_owned)).collect());
    if let Some(t) = &c.time {
        parts.push(format!("between {} and {}", t.from, t.to));
    }
    if parts.is_empty() { "every request".to_owned() } else { parts.join("; ") }
}

/// What a rule does, in words (owners by name).
fn then_words(a: &Actions, stop: bool, city: &crate::CityModel) -> String {
    let mut parts = Vec::new();
    if a.department.is_some() || a.team.is_some() || a.assignee.is_some() {
        let department = a.department.as_deref().unwrap_or_default();
        let owner = crate::ui::owner_names(city, department, a.team.as_deref(), a.assignee.as_deref());
        parts.push(format!("to {}", owner.trim_start_matches(" · ")));
    }
    if let Some(p) = a.priority {
        parts.push(format!("priority at least {}", p.as_str()));
    }
    if !a.tags.is_empty() {
        parts.push(format!("tag {}", a.tags.join(", ")));
    }
    if stop {
        parts.push("stop".to_owned());
    }
    parts.join("; ")
}

/// The rules page with `rules` in the editor and `error` (a refused edit) shown.
fn rules_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    (s, raw): (Sample, &[(String, String)]),
    (set, rules): (&RuleSet, String),
    error: Option<String>,
) -> Page {
    let city = state.city();
    let mut error = error;
    let (mut outcome, mut matched) = (None, Vec::new());
    let mut asked = Vec::new();
    let now_local = state.now().to_zoned(city.tz.clone()).strftime("%Y-%m-%dT%H:%M").to_string();
    if let Some(service) = s.service_code.as_deref().and_then(|c| city.service(c)) {
        // The tester asks every question, none required: a rule may look at any.
        asked = questions(service, raw, crate::i18n::texts("en"));
        for q in &mut asked {
            q.required = false;
        }
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
                let mut answers = Answers::new();
                for (k, v) in raw {
                    let code = k.strip_prefix("attribute[").map(|r| r.trim_end_matches("[]").trim_end_matches(']'));
                    if let Some(code) = code.filter(|_| !v.trim().is_empty()) {
                        answers.entry(code.to_owned()).or_default().push(v.trim().to_owned());
                    }
                }
                let decision = city.routing.route(&RoutingInput {
                    service,
                    description: s.description.as_deref().unwrap_or(""),
                    areas: &areas,
                    channel,
                    answers: &answers,
                    requested_at: when.timestamp(),
                });
                let a = &decision.assignment;
                let dir = &city.workflow.directory;
                let found_in = areas
                    .iter()
                    .map(|(l, f)| format!("{l} {}", city.boundaries.feature_name(l, f).unwrap_or(f)))
                    .collect::<Vec<_>>();
                outcome = Some(vec![
                    ("Department", city.department_name(&a.department).to_owned()),
                    ("Team", name_of(a.team.as_deref(), |t| dir.teams.get(t).map(|t| t.name.clone()))),
                    ("Assignee", name_of(a.assignee.as_deref(), |u| dir.users.get(u).map(|u| u.display_name.clone()))),
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
        questions: asked,
        listed: set
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (i + 1, r.name.clone(), when_words(&r.when, &city), then_words(&r.then, r.stop, &city)))
            .collect(),
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
    let stored = state.store.rules().await?;
    let change = async {
        let rules: RuleSet = civic311_domain::exact::from_toml("rules", &text).map_err(AppError::from)?;
        configure::put_rules(&state, configure::By::Staff(&staff.user), &rules, confirmed(&fields)).await?;
        Ok(Done::Saved)
    };
    let again = |status, error| {
        let sample = (Sample::default(), &[][..]);
        std::future::ready(rules_page(&state, &staff, status, sample, (&stored, text.clone()), Some(error)))
    };
    submit(&staff, &fields, "/staff/admin/rules", change, again).await
}
