//! A request's history in words staff read at a glance: who did what, and why
//! ("Routed to PW · PW-NORTH by rule 'bulk items in ward 2'").

use crate::CityModel;
use civic311_domain::request::{Event, EventKind};
use serde_json::Value;

/// One line of the timeline.
pub struct Entry {
    pub at: String,
    pub actor: String,
    pub what: String,
    /// Notes, reasons, resolution texts: shown under the line.
    pub detail: Option<String>,
    /// `public` or `internal` for notes and photos, so they are told apart.
    pub visibility: Option<&'static str>,
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or("")
}

fn opt(v: &Value, k: &str) -> Option<String> {
    v[k].as_str().filter(|x| !x.is_empty()).map(str::to_owned)
}

fn owner(city: &CityModel, v: &Value) -> String {
    let department = v["department"].as_str().unwrap_or_default();
    super::owner_names(city, department, v["team"].as_str(), v["assignee"].as_str())
}

fn status(v: &str) -> String {
    v.replace('_', " ")
}

/// What an event says, in words.
pub fn describe(e: &Event, city: &CityModel) -> (String, Option<String>, Option<&'static str>) {
    let d = &e.data;
    let visibility = |public: bool| Some(if public { "public" } else { "internal" });
    match e.kind {
        EventKind::Created => match opt(d, "logged_by") {
            Some(staff) => {
                (format!("Logged by {staff} for the caller ({})", s(d, "channel").replace('_', "-")), None, None)
            }
            None => (format!("Reported ({})", s(d, "channel")), None, None),
        },
        EventKind::Routed => {
            let to = owner(city, &d["assignment"]);
            // Events routed before the event was slimmed keep the whole trace under `trace`.
            let trace = if d["trace"].is_object() { &d["trace"] } else { d };
            let why = format!("owner from {}; priority from {}", s(trace, "owner_from"), s(trace, "priority_from"));
            let named = |m: &'_ serde_json::Value| m.as_str().or_else(|| m["rule"].as_str()).map(str::to_owned);
            let listed = trace.get("rules").or_else(|| trace.get("matched"));
            let rules: Vec<String> =
                listed.and_then(|l| l.as_array()).into_iter().flatten().filter_map(named).collect();
            let detail = if rules.is_empty() { why } else { format!("{why}; rules matched: {}", rules.join(", ")) };
            (format!("Routed to {to}"), Some(detail), None)
        }
        EventKind::StatusChanged => {
            (format!("Status {} → {}", status(s(d, "from")), status(s(d, "to"))), opt(d, "note"), None)
        }
        EventKind::Acknowledged => ("Acknowledged".to_owned(), opt(d, "note"), None),
        EventKind::Assigned => (format!("Assigned to {}", owner(city, d)), None, None),
        EventKind::Transferred => {
            let to = super::owner_names(city, s(d, "to"), d["team"].as_str(), None);
            (format!("Transferred from {} to {to}", city.department_name(s(d, "from"))), opt(d, "reason"), None)
        }
        EventKind::Involved => (format!("Involved {}", city.department_name(s(d, "department"))), opt(d, "note"), None),
        EventKind::Note => {
            let public = d["public"].as_bool().unwrap_or(false);
            (if public { "Public note" } else { "Internal note" }.to_owned(), opt(d, "text"), visibility(public))
        }
        EventKind::PhotosAttached => {
            let public = d["public"].as_bool().unwrap_or(false);
            (format!("{} photo(s) attached", d["count"]), opt(d, "note"), visibility(public))
        }
        EventKind::Reopened => ("Reopened".to_owned(), opt(d, "reason"), None),
        EventKind::Merged => (format!("Merged into {}", s(d, "into")), None, None),
        EventKind::MergedIn => (format!("{} was merged into this request", s(d, "from")), None, None),
        EventKind::Escalated => {
            let reassigned = opt(d, "reassigned_to").map(|t| format!("; moved to {t}")).unwrap_or_default();
            (
                format!("Escalated: level {} ({}) of chain {}{reassigned}", d["level"], s(d, "at"), s(d, "chain")),
                None,
                None,
            )
        }
        EventKind::ResponseOverdue => ("First response overdue: supervisors told".to_owned(), None, None),
        EventKind::Reminder => ("Reminder sent: no activity".to_owned(), None, None),
        EventKind::Followed => (format!("Someone started following ({})", s(d, "channel")), None, None),
        EventKind::Unfollowed => ("Someone stopped following".to_owned(), None, None),
        EventKind::Rated => (format!("Rated {}/5 by the resident", d["score"]), opt(d, "comment"), None),
        EventKind::PriorityChanged => (format!("Priority {} → {}", s(d, "from"), s(d, "to")), opt(d, "reason"), None),
    }
}

/// The timeline, oldest first, with times in the city's zone and names for codes.
pub fn entries(events: &[Event], city: &CityModel) -> Vec<Entry> {
    let dir = &city.workflow.directory;
    events
        .iter()
        .map(|e| {
            let (what, detail, visibility) = describe(e, city);
            Entry {
                at: e.at.to_zoned(city.tz.clone()).strftime("%a %b %-d %Y, %H:%M").to_string(),
                actor: dir.users.get(&e.actor).map_or_else(|| e.actor.clone(), |u| u.display_name.clone()),
                what,
                detail,
                visibility,
            }
        })
        .collect()
}
