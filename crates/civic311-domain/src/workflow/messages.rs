//! Turning a change into messages: residents and followers by their channel and
//! language, staff by email, webhooks by subscription.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::{NewEvent, WorkflowModel};
use crate::escalation::Audience;
use crate::i18n;
use crate::notify::{DIGEST_VAR, Follower, Message, NotifyChannel};
use crate::request::Priority;
use crate::request::ServiceRequest;

/// A time as residents read it, in the city's zone: `Mon 30 Nov 2026, 08:55`.
fn local(model: &WorkflowModel, t: Timestamp) -> String {
    t.to_zoned(model.directory.time_zone.clone()).strftime("%a %-d %b %Y, %H:%M").to_string()
}

/// `vars` in the words of `language`: the service's translated name, the status and
/// the expected date as that language's translation file writes them.
fn localized(
    model: &WorkflowModel,
    req: &ServiceRequest,
    vars: &BTreeMap<String, String>,
    language: &str,
) -> BTreeMap<String, String> {
    let t = i18n::texts(language);
    let mut v = vars.clone();
    if let Some(s) = model.directory.services.get(&req.service_code) {
        v.insert("service".into(), s.localized(language).name);
    }
    v.insert("status".into(), t.get(&format!("status.{}", req.status.as_str())).to_lowercase());
    if let Some(at) = req.expected_by() {
        let zoned = at.to_zoned(model.directory.time_zone.clone());
        v.insert("expected".into(), i18n::datetime(t, &zoned));
    }
    v
}

fn human_status(s: &str) -> String {
    s.replace('_', " ")
}

/// Placeholder values known when the change is decided; the number and links are
/// added at delivery.
fn vars(model: &WorkflowModel, req: &ServiceRequest, note: Option<&str>) -> BTreeMap<String, String> {
    let due = req.workflow.sla.as_ref().map(|c| local(model, c.resolution_due)).unwrap_or_default();
    let mut v = BTreeMap::new();
    v.insert("service".into(), model.directory.service_name(&req.service_code));
    v.insert("status".into(), human_status(req.status.as_str()));
    v.insert("note".into(), note.unwrap_or_default().to_owned());
    v.insert("expected".into(), req.expected_by().map(|t| local(model, t)).unwrap_or_else(|| "-".into()));
    v.insert("due".into(), due);
    v.insert(
        "department".into(),
        model
            .directory
            .departments
            .get(&req.assignment.department)
            .map_or_else(|| req.assignment.department.clone(), |d| d.name.clone()),
    );
    v.insert("original".into(), req.workflow.merged_into.clone().unwrap_or_default());
    v.insert("city".into(), model.directory.city_name.clone());
    // " (120 Oak St)", or nothing for a request without an address.
    let place = req.location.address.as_deref().map(str::trim).filter(|a| !a.is_empty());
    v.insert("where".into(), place.map(|a| format!(" ({a})")).unwrap_or_default());
    // "Pothole, 120 Oak St": what and where, for staff reading a subject line.
    let service = model.directory.service_name(&req.service_code);
    v.insert("what".into(), place.map_or_else(|| service.clone(), |a| format!("{service}, {a}")));
    let team = req
        .assignment
        .team
        .as_ref()
        .map(|t| model.directory.teams.get(t).map_or_else(|| t.clone(), |x| x.name.clone()));
    v.insert(
        "queue".into(),
        match &team {
            Some(t) => format!("It is on the {t} queue."),
            None => "It is on no team's queue yet: give it to one.".to_owned(),
        },
    );
    v.insert("team".into(), team.unwrap_or_default());
    v.insert("late".into(), late(req));
    v
}

/// How far past its due time the request was when it last changed: "3 days past
/// due", "5 hours past due", "past due" (under an hour), or nothing.
fn late(req: &ServiceRequest) -> String {
    let Some(due) = req.workflow.sla.as_ref().map(|c| c.resolution_due).filter(|d| *d < req.updated_at) else {
        return String::new();
    };
    let hours = req.updated_at.duration_since(due).as_hours();
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} past due", if n == 1 { "" } else { "s" });
    match hours {
        0 => "past due".to_owned(),
        1..48 => plural(hours, "hour"),
        _ => plural(hours / 24, "day"),
    }
}

/// Messages to the requester and followers (each address once).
pub fn resident_messages(
    model: &WorkflowModel,
    req: &ServiceRequest,
    followers: &[Follower],
    kind: &str,
    note: Option<&str>,
) -> Vec<Message> {
    let vars = vars(model, req, note);
    let mut seen = std::collections::BTreeSet::new();
    super::requester(req)
        .iter()
        .chain(followers)
        .filter(|f| f.channel != NotifyChannel::None && seen.insert(f.address.clone()))
        .map(|f| Message {
            channel: if f.channel == NotifyChannel::Sms { "sms" } else { "email" }.to_owned(),
            recipient: f.address.clone(),
            kind: kind.to_owned(),
            language: f.language.clone(),
            vars: localized(model, req, &vars, &f.language),
            not_before: None,
        })
        .collect()
}

/// An email to the staff `audience` of the request, when they have an address.
pub fn staff_messages(
    model: &WorkflowModel,
    req: &ServiceRequest,
    audience: Audience,
    kind: &str,
    note: Option<&str>,
) -> Vec<Message> {
    let dir = &model.directory;
    let a = &req.assignment;
    let supervisor = || dir.supervisor(&a.department, a.team.as_deref());
    let mailbox = || dir.departments.get(&a.department).map(|d| d.email.clone()).filter(|e| !e.is_empty());
    // Whoever is asked for, someone hears: the assignee, else the supervisor, else the
    // department's shared mailbox.
    let person = match audience {
        Audience::Assignee => a.assignee.as_ref().and_then(|u| dir.users.get(u)).or_else(supervisor),
        Audience::Supervisor => supervisor(),
        Audience::Department => None,
    };
    let Some(recipient) = person.map(|u| u.email.clone()).or_else(mailbox).filter(|a| !a.is_empty()) else {
        return Vec::new();
    };
    let mut vars = vars(model, req, note);
    // A person who asked for a digest gets this with the others at its release time;
    // an urgent request is never held.
    let digest = person.map(|u| u.digest).filter(|_| req.assignment.priority != Priority::Urgent);
    let not_before = digest.and_then(|d| d.release_after(req.updated_at, &dir.time_zone));
    if let (Some(d), Some(_)) = (digest, not_before) {
        vars.insert(DIGEST_VAR.into(), d.as_str().to_owned());
    }
    vec![Message { channel: "email".into(), recipient, kind: kind.to_owned(), language: "en".into(), vars, not_before }]
}

/// Signed JSON deliveries of `events` to every webhook that wants them.
pub fn webhook_messages(model: &WorkflowModel, req: &ServiceRequest, events: &[NewEvent]) -> Vec<Message> {
    let mut out = Vec::new();
    for w in &model.config.webhooks {
        for e in events.iter().filter(|e| w.wants(e.kind.as_str())) {
            let mut vars = BTreeMap::new();
            vars.insert("event".into(), e.kind.as_str().to_owned());
            vars.insert("actor".into(), e.actor.clone());
            vars.insert("data".into(), e.data.to_string());
            vars.insert("status".into(), req.status.as_str().to_owned());
            vars.insert("service_code".into(), req.service_code.clone());
            vars.insert("department".into(), req.assignment.department.clone());
            out.push(Message {
                channel: "webhook".into(),
                recipient: w.name.clone(),
                kind: e.kind.as_str().to_owned(),
                language: "en".into(),
                vars,
                not_before: None,
            });
        }
    }
    out
}
