//! One routing rule edited by a form: the conditions (services, groups, areas of each
//! boundary layer, words, channels, answers to questions, days, hours), what it does
//! (owner, priority, tags, stop) and where it stands in the order. Saving replaces that
//! rule in the whole set, which is checked as a whole as the text editor's is.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use civic311_domain::request::{Channel, Priority};
use civic311_domain::routing::{Actions, Conditions, Day, Rule, RuleSet, TimeWindow};

use super::super::notice::Done;
use super::{Admin, AppError, Fault, Page, Staff, comma_list, field, submit};
use crate::AppState;
use crate::form::Form;
use crate::page::html;
use crate::ui::session::StaffChrome;
use civic311_app::configure;

/// The path segment that adds a rule.
const NEW: &str = "new";

/// The days of the week as rules write them.
const DAYS: [(&str, &str); 7] =
    [("mon", "Mon"), ("tue", "Tue"), ("wed", "Wed"), ("thu", "Thu"), ("fri", "Fri"), ("sat", "Sat"), ("sun", "Sun")];

/// A choice in a list of checkboxes or a select: `(value, words, chosen)`.
type Choice = (String, String, bool);

#[derive(Template)]
#[template(path = "staff/admin_rule.html")]
struct RulePage {
    c: StaffChrome,
    /// The path segment: the rule's position (1 first) or `new`.
    at: String,
    /// The rule's name as stored, to tell whether it moved meanwhile.
    was: String,
    name: String,
    services: Vec<Choice>,
    groups: Vec<Choice>,
    /// Each boundary layer with its areas.
    layers: Vec<(String, Vec<Choice>)>,
    keywords: String,
    channels: Vec<Choice>,
    attributes: String,
    days: Vec<Choice>,
    time: (String, String),
    departments: Vec<Choice>,
    /// Teams with their department's name.
    teams: Vec<(String, String, String, bool)>,
    assignees: Vec<Choice>,
    priorities: Vec<Choice>,
    tags: String,
    stop: bool,
    position: usize,
    count: usize,
    error: Option<String>,
}

impl RulePage {
    /// True when some item of a list is chosen: its section starts open.
    fn any(&self, items: &[Choice]) -> bool {
        items.iter().any(|c| c.2)
    }
}

/// Values of a checkbox list: every `name` field posted.
fn all(fields: &[(String, String)], name: &str) -> Vec<String> {
    fields.iter().filter(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim().to_owned()).collect()
}

/// Something set, or nothing for an empty field.
fn some(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

/// The rule the posted fields describe. Never fails: what is wrong with it is for the
/// rule set's checks to name.
fn read(fields: &[(String, String)], layers: &[String]) -> Rule {
    let f = |k: &str| field(fields, k);
    let attributes = f("attributes")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(code, answers)| (code.trim().to_owned(), comma_list(answers)))
        .filter(|(code, _)| !code.is_empty())
        .collect();
    let (from, to) = (f("time_from"), f("time_to"));
    Rule {
        name: f("name"),
        when: Conditions {
            services: all(fields, "services"),
            groups: all(fields, "groups"),
            within: layers
                .iter()
                .map(|l| (l.clone(), all(fields, &format!("within.{l}"))))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
            keywords: comma_list(&f("keywords")),
            channels: all(fields, "channels").iter().filter_map(|c| Channel::parse(c)).collect(),
            attributes,
            days: all(fields, "days")
                .into_iter()
                .filter_map(|d| serde_json::from_value::<Day>(d.into()).ok())
                .collect(),
            time: (!from.is_empty() || !to.is_empty()).then_some(TimeWindow { from, to }),
        },
        then: Actions {
            department: some(f("department")),
            team: some(f("team")),
            assignee: some(f("assignee")),
            priority: Priority::parse(&f("priority")),
            tags: comma_list(&f("tags")),
        },
        stop: f("stop") == "yes",
    }
}

/// The form showing `rule` at `position` (1 first) of `count` rules.
async fn page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    (at, rule, was): (&str, &Rule, &str),
    (position, count): (usize, usize),
    error: Option<String>,
) -> Page {
    let (teams, users) = tokio::try_join!(state.store.teams(), state.store.users())?;
    let city = state.city();
    let w = &rule.when;
    let on = |list: &[String], v: &str| list.iter().any(|x| x == v);
    let mut groups: Vec<String> = city.services().map(|s| s.group.clone()).collect();
    groups.sort();
    groups.dedup();
    let layers = city
        .boundaries
        .layers()
        .iter()
        .map(|l| {
            let chosen = w.within.get(l).cloned().unwrap_or_default();
            let areas = city
                .boundaries
                .features()
                .iter()
                .filter(|f| &f.layer == l)
                .map(|f| (f.feature.clone(), f.name.clone(), on(&chosen, &f.feature)))
                .collect();
            (l.clone(), areas)
        })
        .collect();
    let a = &rule.then;
    let is = |x: &Option<String>, v: &str| x.as_deref() == Some(v);
    let dept_name = |code: &str| city.department_name(code).to_owned();
    let page = RulePage {
        c: StaffChrome::new(state, staff),
        at: at.to_owned(),
        was: was.to_owned(),
        name: rule.name.clone(),
        services: city.services().map(|s| (s.code.clone(), s.name.clone(), on(&w.services, &s.code))).collect(),
        groups: groups.into_iter().map(|g| (g.clone(), g.clone(), on(&w.groups, &g))).collect(),
        layers,
        keywords: w.keywords.join(", "),
        channels: Channel::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), c.as_str().to_owned(), w.channels.contains(c)))
            .collect(),
        attributes: w.attributes.iter().map(|(k, v)| format!("{k} = {}", v.join(", "))).collect::<Vec<_>>().join("\n"),
        days: DAYS
            .iter()
            .map(|(d, words)| {
                let chosen =
                    w.days.iter().any(|x| serde_json::to_value(x).ok().as_ref().and_then(|v| v.as_str()) == Some(d));
                ((*d).to_owned(), (*words).to_owned(), chosen)
            })
            .collect(),
        time: w.time.as_ref().map(|t| (t.from.clone(), t.to.clone())).unwrap_or_default(),
        departments: city
            .departments
            .iter()
            .map(|d| (d.code.clone(), d.name.clone(), is(&a.department, &d.code)))
            .collect(),
        teams: teams
            .iter()
            .map(|t| (t.code.clone(), t.name.clone(), dept_name(&t.department), is(&a.team, &t.code)))
            .collect(),
        assignees: users
            .iter()
            .filter(|u| u.active)
            .map(|u| (u.username.clone(), u.display_name.clone(), is(&a.assignee, &u.username)))
            .collect(),
        priorities: Priority::ALL
            .iter()
            .map(|p| (p.as_str().to_owned(), p.as_str().to_owned(), a.priority == Some(*p)))
            .collect(),
        tags: a.tags.join(", "),
        stop: rule.stop,
        position,
        count,
        error,
    };
    Ok(html(status, &page))
}

/// The rule at the path's position (1 first), or a new empty one; `None` when there
/// is no such rule.
fn find(rules: &RuleSet, at: &str) -> Option<(Rule, usize)> {
    if at == NEW {
        let empty = Rule { name: String::new(), when: Conditions::default(), then: Actions::default(), stop: false };
        return Some((empty, rules.rules.len() + 1));
    }
    let n: usize = at.parse().ok().filter(|n| *n >= 1)?;
    rules.rules.get(n - 1).map(|r| (r.clone(), n))
}

/// `GET /staff/admin/rules/{at}` (administrators only): one rule in the form, or an
/// empty one for `new`.
pub async fn rule(State(state): State<AppState>, Admin(staff): Admin, Path(at): Path<String>) -> Page {
    let rules = state.store.rules().await?;
    let Some((rule, n)) = find(&rules, &at) else {
        return Err(Fault::Refused(StatusCode::NOT_FOUND, format!("There is no rule {at}.")));
    };
    let count = rules.rules.len() + usize::from(at == NEW);
    page(&state, &staff, StatusCode::OK, (&at, &rule, &rule.name), (n, count), None).await
}

/// `POST /staff/admin/rules/{at}` (administrators only, with the form's CSRF value):
/// put the rule in place (at its new position), or remove it; the whole set is then
/// checked and saved, or nothing changes. A rule that someone else moved or renamed
/// meanwhile is not overwritten.
pub async fn save_rule(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(at): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let mut rules = state.store.rules().await?;
    let Some((_, n)) = find(&rules, &at) else {
        return Err(Fault::Refused(StatusCode::NOT_FOUND, format!("There is no rule {at}.")));
    };
    let rule = read(&fields, state.city().boundaries.layers());
    let was = field(&fields, "was");
    let count = rules.rules.len() + usize::from(at == NEW);
    let position = field(&fields, "position").parse::<usize>().unwrap_or(n).clamp(1, count);
    let delete = field(&fields, "delete") == "yes";
    let change = async {
        if at != NEW {
            if rules.rules[n - 1].name != was {
                return Err(AppError::conflict(
                    "rule",
                    format!(
                        "the rules changed since this one was opened: rule {n} is now '{}'; open it again",
                        rules.rules[n - 1].name
                    ),
                ));
            }
            rules.rules.remove(n - 1);
        }
        if !delete {
            rules.rules.insert(position - 1, rule.clone());
        }
        configure::put_rules(&state, configure::By::Staff(&staff.user), &rules, delete).await?;
        Ok(if delete { Done::Deleted } else { Done::Saved })
    };
    let again = |status, error| page(&state, &staff, status, (&at, &rule, &was), (position, count), Some(error));
    submit(&staff, &fields, "/staff/admin/rules", change, again).await
}
