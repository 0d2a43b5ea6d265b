//! What happened to an invented request between its filing and its close: the steps
//! real work goes through (taken up, put on hold, waiting on the resident, passed to
//! another department, reopened), the escalations of late work, residents following it,
//! and the rating some give afterwards — so that the dashboards of where work stalls,
//! of escalations, of repeat contacts and of satisfaction have a past to show.

use civic311_app::CityModel;
use civic311_domain::request::EventKind;
use civic311_store::{Intake, PastEvent};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::history::Rng;

/// The past of a request filed at `filed`, closed at `closed`, owned by `department`
/// (one of `departments`), drawn from `seed`.
pub fn past(
    seed: u64,
    filed: Timestamp,
    closed: Timestamp,
    department: &str,
    departments: &[String],
) -> Vec<PastEvent> {
    let mut rng = Rng::new(seed ^ 0x9A57);
    let took = closed.duration_since(filed).as_secs_f64().max(60.0);
    let at = |share: f64| filed + SignedDuration::from_secs_f64(took * share);
    let mut out = Vec::new();
    let mut status = "open";
    let step = |out: &mut Vec<PastEvent>, status: &mut &'static str, when: Timestamp, to: &'static str, actor: &str| {
        out.push(PastEvent {
            at: when,
            kind: EventKind::StatusChanged,
            actor: actor.to_owned(),
            data: json!({ "from": *status, "to": to, "note": null }),
        });
        *status = to;
    };
    // About one in twenty starts in the wrong department and is passed on.
    let others: Vec<&String> = departments.iter().filter(|d| *d != department).collect();
    if !others.is_empty() && rng.unit() < 0.05 {
        let from = others[rng.below(others.len())];
        out.push(PastEvent {
            at: at(0.05 + rng.unit() * 0.15),
            kind: EventKind::Transferred,
            actor: "system".to_owned(),
            data: json!({ "from": from, "to": department, "team": null, "reason": "Not ours: passed on." }),
        });
    }
    if rng.unit() < 0.6 {
        step(&mut out, &mut status, at(0.25 + rng.unit() * 0.2), "in_progress", "system");
    }
    let pause = rng.unit();
    if pause < 0.12 {
        // Waiting on parts, a contractor, the weather, or the resident.
        let to = if pause < 0.08 { "on_hold" } else { "waiting_on_resident" };
        let back = if status == "in_progress" { "in_progress" } else { "open" };
        let start = 0.5 + rng.unit() * 0.1;
        step(&mut out, &mut status, at(start), to, "system");
        step(&mut out, &mut status, at(start + 0.2 + rng.unit() * 0.15), back, "system");
    }
    if rng.unit() < 0.03 {
        // Marked done too soon: the resident says it is not, and it is reopened.
        step(&mut out, &mut status, at(0.88), "resolved", "system");
        out.push(PastEvent {
            at: at(0.9),
            kind: EventKind::Reopened,
            actor: "resident".to_owned(),
            data: json!({ "reason": "Still not fixed." }),
        });
        step(&mut out, &mut status, at(0.9), "open", "resident");
    }
    if rng.unit() < 0.04 {
        out.push(PastEvent {
            at: at(rng.unit() * 0.8),
            kind: EventKind::Followed,
            actor: "resident".to_owned(),
            data: json!({ "channel": "email" }),
        });
    }
    if rng.unit() < 0.2 {
        // Quick work pleases; a long wait shows in the score.
        let days = took / 86_400.0;
        let mood = rng.unit() - (days / 30.0).min(0.5);
        let score = match mood {
            m if m > 0.45 => 5,
            m if m > 0.2 => 4,
            m if m > 0.05 => 3,
            m if m > -0.15 => 2,
            _ => 1,
        };
        out.push(PastEvent {
            at: closed + SignedDuration::from_hours(2 + rng.below(72) as i64),
            kind: EventKind::Rated,
            actor: "resident".to_owned(),
            data: json!({ "score": score, "comment": null }),
        });
    }
    out
}

/// The escalations the sweep would have recorded while `intake` was open until
/// `closed`: each level of its chain that fell due before then, as the sweep writes
/// them, but moving nothing and telling nobody (the past is not announced).
pub fn escalations(city: &CityModel, intake: &Intake, closed: Timestamp) -> Vec<PastEvent> {
    let workflow = &city.workflow;
    let department = &intake.decision.assignment.department;
    let Some(clock) = intake.workflow.sla.as_ref() else { return Vec::new() };
    let Some(calendar) = workflow.calendar(&clock.calendar) else { return Vec::new() };
    let Some(chain) = workflow.chain_for(department, &intake.request.service_code) else { return Vec::new() };
    (0..chain.config.levels.len())
        .map_while(|i| Some((i, chain.level_due(i, clock, calendar).filter(|due| *due < closed)?)))
        .map(|(i, due)| {
            let level = &chain.config.levels[i];
            PastEvent {
                at: due,
                kind: EventKind::Escalated,
                actor: "system".to_owned(),
                data: json!({
                    "level": i + 1,
                    "at": level.at,
                    "chain": chain.config.name,
                    "notified": level.notify,
                    "marked_escalated": level.mark_escalated,
                    "reassigned_to": null,
                    "resident_told": false,
                    "due": clock.resolution_due,
                }),
            }
        })
        .collect()
}
