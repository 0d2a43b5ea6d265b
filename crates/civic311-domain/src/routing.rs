//! Automatic routing and priority: an ordered, data-driven rule set that decides who
//! owns a request and how urgent it is, and records why.
//!
//! Precedence, in the words staff are told:
//! - rules are tried in order; the first matching rule that names a department or team
//!   decides the owner (department, team and person together);
//! - the priority is the highest of the service's default and every priority set by a
//!   matching rule: rules raise priority, they never lower it;
//! - tags of every matching rule are added;
//! - a matching rule marked `stop` ends the evaluation;
//! - with no owner from the rules, the service's department owns the request, and when
//!   that department does not exist, the city's triage department does.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::request::{Assignment, Channel, Priority};
use crate::service::{Answers, Service};
use crate::text::{contains_phrase, words};

/// The whole rule set, in evaluation order. Serialised as TOML with one `[[rule]]` table
/// per rule, so it can be exported, edited and imported again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleSet {
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// Refuses a new version of boundary layer `layer`, holding the feature ids
    /// `features`, when a rule names a feature of that layer the new version lacks:
    /// the rule would silently stop matching.
    pub fn check_layer<'a>(&self, layer: &str, features: impl IntoIterator<Item = &'a str>) -> Result<(), FieldError> {
        let features: HashSet<&str> = features.into_iter().collect();
        for rule in &self.rules {
            let named = rule.when.within.get(layer).into_iter().flatten();
            if let Some(lost) = named.into_iter().find(|f| !features.contains(f.as_str())) {
                return Err(FieldError::new(
                    layer,
                    format!("rule '{}' names {layer} {lost}, which this file does not have", rule.name),
                ));
            }
        }
        Ok(())
    }
}

/// One routing or priority rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub when: Conditions,
    pub then: Actions,
    /// When true and the rule matches, later rules are not tried.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stop: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What must hold for a rule to match. Every listed condition must hold; a list
/// matches when any of its entries does; an empty condition set matches everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Service codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Service groups (`Streets`, `Sanitation`…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Boundary features by layer: `within = { wards = ["3", "4"] }`. Every layer
    /// listed must match one of its features.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub within: BTreeMap<String, Vec<String>>,
    /// Words or phrases in the description: case-insensitive, whole words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Answers to service questions: `attributes = { HAZARD = ["yes"] }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Local days of the week: `mon` … `sun`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Day>,
    /// Local time-of-day window `HH:MM`–`HH:MM`; `from` after `to` wraps past midnight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeWindow>,
}

/// What a matching rule does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Actions {
    fn sets_owner(&self) -> bool {
        self.department.is_some() || self.team.is_some() || self.assignee.is_some()
    }
}

/// A day of the week as written in rule files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn of(w: Weekday) -> Self {
        match w {
            Weekday::Monday => Day::Mon,
            Weekday::Tuesday => Day::Tue,
            Weekday::Wednesday => Day::Wed,
            Weekday::Thursday => Day::Thu,
            Weekday::Friday => Day::Fri,
            Weekday::Saturday => Day::Sat,
            Weekday::Sunday => Day::Sun,
        }
    }
}

/// A local time-of-day window, `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub from: String,
    pub to: String,
}

fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

/// What routing needs to know about a request.
#[derive(Debug, Clone)]
pub struct RoutingInput<'a> {
    pub service: &'a Service,
    pub description: &'a str,
    pub areas: &'a BTreeMap<String, String>,
    pub channel: Channel,
    pub answers: &'a Answers,
    pub requested_at: Timestamp,
}

/// The outcome of routing and the reasons for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub assignment: Assignment,
    pub trace: Trace,
}

/// Why routing decided what it did: recorded on the request's `routed` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trace {
    /// Rules that matched, in order, each with the conditions that held.
    pub matched: Vec<MatchedRule>,
    /// `rule 'NAME'`, `service default` or `triage fallback`.
    pub owner_from: String,
    /// `rule 'NAME'` or `service default`.
    pub priority_from: String,
    pub rules_evaluated: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchedRule {
    pub rule: String,
    pub why: Vec<String>,
}

/// A rule set checked against the organisation and prepared for fast evaluation.
#[derive(Debug, Clone)]
pub struct RoutingEngine {
    rules: Vec<CompiledRule>,
    tz: TimeZone,
    departments: HashSet<String>,
    team_department: HashMap<String, String>,
    triage: String,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    rule: Rule,
    keywords: Vec<(String, Vec<String>)>,
    window: Option<(u16, u16)>,
}

/// The organisation routing may assign to.
#[derive(Debug, Clone, Default)]
pub struct Org {
    pub departments: HashSet<String>,
    /// Team code → its department.
    pub teams: HashMap<String, String>,
    pub triage_department: String,
}

impl RoutingEngine {
    /// Checks every rule (names, times, departments and teams that exist) and prepares it.
    pub fn new(set: &RuleSet, org: Org, tz: TimeZone) -> Result<Self, FieldError> {
        if !org.departments.contains(&org.triage_department) {
            return Err(FieldError::new(
                "triage_department",
                crate::error::unknown("department", &org.triage_department, org.departments.iter().map(String::as_str)),
            ));
        }
        let mut names = HashSet::new();
        let mut rules = Vec::with_capacity(set.rules.len());
        for rule in &set.rules {
            let field = || format!("rule '{}'", rule.name);
            if rule.name.trim().is_empty() {
                return Err(FieldError::new("rule", "every rule needs a name"));
            }
            if !names.insert(rule.name.clone()) {
                return Err(FieldError::new(field(), "two rules have this name"));
            }
            let a = &rule.then;
            if !a.sets_owner() && a.priority.is_none() && a.tags.is_empty() {
                return Err(FieldError::new(
                    field(),
                    "the rule does nothing: set a department, team, priority or tags",
                ));
            }
            if let Some(d) = &a.department
                && !org.departments.contains(d)
            {
                let known = org.departments.iter().map(String::as_str);
                return Err(FieldError::new(field(), crate::error::unknown("department", d, known)));
            }
            if let Some(t) = &a.team {
                match org.teams.get(t) {
                    None => {
                        let known = org.teams.keys().map(String::as_str);
                        return Err(FieldError::new(field(), crate::error::unknown("team", t, known)));
                    }
                    Some(d) if a.department.as_ref().is_some_and(|ad| ad != d) => {
                        return Err(FieldError::new(
                            field(),
                            format!("team {t} belongs to {d}, not {}", a.department.as_deref().unwrap_or("")),
                        ));
                    }
                    Some(_) => {}
                }
            }
            if a.assignee.is_some() && a.department.is_none() && a.team.is_none() {
                return Err(FieldError::new(field(), "an assignee needs a department or team"));
            }
            let window = match &rule.when.time {
                None => None,
                Some(w) => match (parse_hhmm(&w.from), parse_hhmm(&w.to)) {
                    (Some(f), Some(t)) if f != t => Some((f, t)),
                    _ => return Err(FieldError::new(field(), "time needs from and to as different HH:MM values")),
                },
            };
            let keywords = rule.when.keywords.iter().map(|k| (k.clone(), words(k))).collect::<Vec<_>>();
            if keywords.iter().any(|(_, w)| w.is_empty()) {
                return Err(FieldError::new(field(), "a keyword has no letters or digits"));
            }
            rules.push(CompiledRule { rule: rule.clone(), keywords, window });
        }
        Ok(Self { rules, tz, departments: org.departments, team_department: org.teams, triage: org.triage_department })
    }

    /// Decides owner, priority and tags for a request.
    pub fn route(&self, input: &RoutingInput<'_>) -> Decision {
        let text = words(input.description);
        let local = input.requested_at.to_zoned(self.tz.clone());
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        let ctx = Context {
            input,
            text: &text,
            day: Day::of(local.weekday()),
            minute,
            local: local.strftime("%a %H:%M").to_string(),
        };

        let mut owner: Option<(&Actions, &str)> = None;
        let mut priority: Option<(Priority, &str)> = None;
        let mut tags: Vec<String> = Vec::new();
        let mut matched = Vec::new();
        let mut evaluated = 0;
        for c in &self.rules {
            evaluated += 1;
            let Some(why) = c.matches(&ctx) else { continue };
            let a = &c.rule.then;
            if owner.is_none() && a.sets_owner() {
                owner = Some((a, &c.rule.name));
            }
            if let Some(p) = a.priority
                && priority.is_none_or(|(q, _)| p > q)
            {
                priority = Some((p, &c.rule.name));
            }
            for t in &a.tags {
                if !tags.contains(t) {
                    tags.push(t.clone());
                }
            }
            matched.push(MatchedRule { rule: c.rule.name.clone(), why });
            if c.rule.stop {
                break;
            }
        }

        let (department, team, assignee, owner_from) = match owner {
            Some((a, name)) => {
                let department = a
                    .department
                    .clone()
                    .or_else(|| a.team.as_ref().and_then(|t| self.team_department.get(t).cloned()))
                    .unwrap_or_else(|| self.triage.clone());
                (department, a.team.clone(), a.assignee.clone(), format!("rule '{name}'"))
            }
            None if self.departments.contains(&input.service.department) => {
                (input.service.department.clone(), None, None, "service default".to_owned())
            }
            None => (self.triage.clone(), None, None, "triage fallback".to_owned()),
        };
        let (priority, priority_from) = match priority {
            Some((p, name)) if p > input.service.default_priority => (p, format!("rule '{name}'")),
            _ => (input.service.default_priority, "service default".to_owned()),
        };
        Decision {
            assignment: Assignment { department, team, assignee, priority, tags },
            trace: Trace { matched, owner_from, priority_from, rules_evaluated: evaluated },
        }
    }
}

struct Context<'a> {
    input: &'a RoutingInput<'a>,
    text: &'a [String],
    day: Day,
    minute: u16,
    local: String,
}

impl CompiledRule {
    /// The reasons the rule matches, or None when a condition fails.
    fn matches(&self, ctx: &Context<'_>) -> Option<Vec<String>> {
        let w = &self.rule.when;
        let i = ctx.input;
        let mut why = Vec::new();
        if !w.services.is_empty() {
            w.services.contains(&i.service.code).then_some(())?;
            why.push(format!("service is {}", i.service.code));
        }
        if !w.groups.is_empty() {
            w.groups.contains(&i.service.group).then_some(())?;
            why.push(format!("service group is {}", i.service.group));
        }
        for (layer, features) in &w.within {
            let f = i.areas.get(layer).filter(|f| features.contains(f))?;
            why.push(format!("location is in {layer} {f}"));
        }
        if !self.keywords.is_empty() {
            let (k, _) = self.keywords.iter().find(|(_, phrase)| contains_phrase(ctx.text, phrase))?;
            why.push(format!("description mentions '{k}'"));
        }
        if !w.channels.is_empty() {
            w.channels.contains(&i.channel).then_some(())?;
            why.push(format!("channel is {}", i.channel.as_str()));
        }
        for (code, values) in &w.attributes {
            let answer = i.answers.get(code).and_then(|a| a.iter().find(|v| values.contains(v)))?;
            why.push(format!("answer to {code} is {answer}"));
        }
        if !w.days.is_empty() {
            w.days.contains(&ctx.day).then_some(())?;
        }
        if let Some((from, to)) = self.window {
            let inside =
                if from < to { ctx.minute >= from && ctx.minute < to } else { ctx.minute >= from || ctx.minute < to };
            inside.then_some(())?;
        }
        if !w.days.is_empty() || self.window.is_some() {
            why.push(format!("filed {} local time", ctx.local));
        }
        if why.is_empty() {
            why.push("matches every request".to_owned());
        }
        Some(why)
    }
}

#[cfg(test)]
mod tests;
