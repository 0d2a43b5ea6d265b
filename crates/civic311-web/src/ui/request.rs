//! The request page: everything about one request at a glance — what, where, who owns
//! it, its SLA clocks, answers, photos, the requester (staff only), duplicates,
//! followers, the timeline with the routing trace, notifications — and every workflow
//! action the signed-in member of staff may take from here.

use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use civic311_domain::asset::ASSET_LAYER;
use civic311_domain::duplicates::Probe;
use civic311_domain::notify::NotifyChannel;
use civic311_domain::request::{EventKind, Priority, ServiceRequest, Status};
use civic311_domain::workflow::Action;

use super::timeline::{self, Entry};
use super::{Fault, Page, Staff};
use crate::page::html;
use crate::{AppState, CityModel};

#[derive(Template)]
#[template(path = "staff/request.html")]
pub struct RequestPage<'a> {
    c: StaffChrome,
    id: String,
    service: String,
    description: &'a str,
    status: &'static str,
    priority: &'static str,
    owner: String,
    facts: Vec<(&'static str, String)>,
    /// The asset the request is about (its label and page), when it names one.
    asset: Option<(String, String)>,
    /// Who gets updates besides the requester, each with how.
    followers: Vec<(String, &'static str)>,
    /// The outline map (SVG built from numbers only), when the request has a point.
    map: Option<String>,
    /// The same map for `static/map.js` to draw over tiles, when a tile source is set.
    tiles: Option<String>,
    flag: Option<(&'static str, &'static str)>,
    answers: Vec<(String, String)>,
    contact: Vec<(&'static str, String)>,
    /// The requester's other requests (by their email, or else their phone).
    caller: Vec<super::search::Found>,
    photos: Vec<(i64, bool)>,
    duplicates: Vec<(String, String, String)>,
    /// Open possible duplicates, offered to close when this one is resolved.
    open_duplicates: Vec<(String, String)>,
    timeline: Vec<Entry>,
    /// Whether this member of staff sees the notifications sent (supervisors, admins).
    shows_outbox: bool,
    notifications: Vec<(String, String, String, String)>,
    actions: Vec<&'static str>,
    priorities: Vec<&'static str>,
    teams: Vec<(String, String)>,
    people: Vec<(String, String)>,
    departments: Vec<(String, String)>,
    /// Why there is nothing to do, when there is nothing.
    no_actions: String,
    /// The signed-in member of staff and their team, when they may take the request
    /// ("Assign to me") and it is not theirs yet.
    take: Option<(String, Option<String>)>,
    /// `?queue=…` on every form, when the page was opened from a queue.
    keep: String,
    /// The queue's filters, to go back to it.
    queue: Option<String>,
    /// The next request in that queue.
    next: Option<super::search::Found>,
    notice: Option<String>,
    error: Option<String>,
}

impl RequestPage<'_> {
    fn can(&self, action: &str) -> bool {
        self.actions.contains(&action)
    }
}

/// One example of every action, to ask whether it is allowed now and for whom.
fn every_action() -> Vec<Action> {
    let s = String::new;
    vec![
        Action::Acknowledge { note: None },
        Action::Assign { team: None, assignee: None },
        Action::Transfer { department: s(), team: None, reason: s() },
        Action::Involve { department: s(), note: s() },
        Action::Start { note: None },
        Action::Hold { reason: s() },
        Action::WaitOnResident { question: s() },
        Action::Resume { note: None },
        Action::SetPriority { priority: Priority::Normal, reason: None },
        Action::Note { text: s(), public: false },
        Action::AttachPhotos { photos: Vec::new(), public: false, note: None },
        Action::Resolve { note: s() },
        Action::Close { note: None },
        Action::Reopen { reason: s() },
        Action::Merge { into: s() },
    ]
}

fn status_label(s: Status) -> &'static str {
    super::queue::status_label(s)
}

fn when(t: jiff::Timestamp, city: &CityModel) -> String {
    t.to_zoned(city.tz.clone()).strftime("%a %b %-d %Y, %H:%M").to_string()
}

/// What the page shows of a request; `error` re-renders it after a refused action.
pub async fn render(
    state: &AppState,
    staff: &Staff,
    r: &ServiceRequest,
    queue: Option<&str>,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Page {
    let city = state.city();
    let now = state.now();
    let seq = r.id.seq;
    // Who was sent what is for supervisors and administrators.
    let shows_outbox = civic311_domain::policy::reads_outbox(&staff.user);
    let messages = civic311_store::OutboxQuery { request: Some(seq), limit: 100, ..Default::default() };
    let outbox = async { if shows_outbox { state.store.outbox(&messages).await } else { Ok(Vec::new()) } };
    let caller = super::search::caller_requests(state, r);
    let next = async {
        match queue {
            Some(q) => super::queue::next_after(state, &staff.user, q, r).await,
            None => Ok(None),
        }
    };
    let (events, followers, outbox, photos, caller, next) = tokio::try_join!(
        state.store.events(seq),
        state.store.followers(seq),
        outbox,
        state.store.photos(seq),
        caller,
        next
    )?;
    let duplicates = match r.location.point.filter(|_| !r.status.is_closed()) {
        Some(point) => {
            let probe = Probe { service_code: &r.service_code, point, description: &r.description, seq: Some(seq) };
            civic311_app::duplicates::candidates(state, &city, &probe, false).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "duplicate lookup failed");
                Vec::new()
            })
        }
        None => Vec::new(),
    };
    let service = city.service(&r.service_code);
    let sla = r.workflow.sla.as_ref();
    let outline = city.outline_of(&r.areas);
    let others: Vec<_> = duplicates.iter().filter_map(|f| f.request.location.point).collect();
    let tiles =
        state.map_tiles.as_ref().zip(r.location.point).map(|(t, p)| super::map::over_tiles(t, p, &outline, &others));
    let map = r.location.point.and_then(|p| {
        let place = outline.first().map_or_else(String::new, |f| format!(" in {}", f.name));
        let label = format!("Map: request {}{place}, with {} possible duplicate(s) nearby", r.id, others.len());
        super::map::svg(p, &outline, &others, &label)
    });
    let mut facts = vec![
        ("Filed", format!("{} via {}", when(r.requested_at, &city), r.channel.as_str())),
        ("Updated", when(r.updated_at, &city)),
    ];
    // A phone or counter request names the call taker who logged it.
    let logged_by = events.iter().find(|e| e.kind == EventKind::Created).and_then(|e| e.data["logged_by"].as_str());
    if let Some(u) = logged_by {
        let dir = &city.workflow.directory;
        facts.push(("Logged by", dir.users.get(u).map_or_else(|| u.to_owned(), |x| x.display_name.clone())));
    }
    let place = [
        crate::ui::place(&city, &r.location),
        Some(
            r.areas
                .iter()
                .filter(|(l, _)| *l != ASSET_LAYER)
                .map(|(l, f)| city.boundaries.feature_name(l, f).unwrap_or(f).to_owned())
                .collect::<Vec<_>>()
                .join(", "),
        )
        .filter(|s| !s.is_empty()),
        r.location.point.map(|p| format!("{:.5}, {:.5}", p.lat, p.lon)),
    ];
    facts.push(("Where", place.into_iter().flatten().collect::<Vec<_>>().join(" · ")));
    if let Some(c) = sla {
        match (c.responded_at, c.response_due) {
            (Some(at), _) => facts.push(("First response", format!("made {}", when(at, &city)))),
            (None, Some(due)) => facts.push(("First response due", when(due, &city))),
            _ => {}
        }
        let paused = if c.paused_at.is_some() { " (clock paused)" } else { "" };
        facts.push(("Resolution due", format!("{}{paused}", when(c.resolution_due, &city))));
        facts.push(("SLA policy", c.policy.clone()));
    }
    facts.push(("Followers", followers.len().to_string()));
    if r.workflow.escalated {
        facts.push(("Escalated", format!("level {}", r.workflow.escalation_level)));
    }
    if let Some(rating) = &r.workflow.rating {
        facts.push(("Resident's rating", format!("{}/5 {}", rating.score, rating.comment)));
    }
    let flag = super::queue::urgency(r, now);
    let answers = service
        .map(|s| {
            s.ordered_attributes()
                .into_iter()
                .filter_map(|a| {
                    let given = r.answers.get(&a.code)?;
                    let names: Vec<String> = given
                        .iter()
                        .map(|v| a.values.iter().find(|x| &x.key == v).map_or_else(|| v.clone(), |x| x.name.clone()))
                        .collect();
                    Some((a.description.clone(), names.join(", ")))
                })
                .collect()
        })
        .unwrap_or_default();
    let c = &r.contact;
    let name = [c.first_name.as_deref(), c.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let contact: Vec<(&'static str, String)> = [
        ("Name", Some(name).filter(|n| !n.is_empty())),
        ("Email", c.email.clone()),
        ("Phone", c.phone.clone()),
        ("Updates by", c.notify.map(|n| format!("{n:?}").to_lowercase())),
        ("Language", c.language.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let dir = &city.workflow.directory;
    let dept = &r.assignment.department;
    let actions: Vec<&'static str> = every_action()
        .into_iter()
        .filter(|a| {
            a.allowed_from().contains(&r.status)
                && civic311_domain::policy::may_act(&staff.user, r, a, &city.workflow.config.roles).is_ok()
        })
        .map(|a| a.name())
        .collect();
    let body = RequestPage {
        c: StaffChrome::new(state, staff),
        id: r.id.to_string(),
        service: service.map_or_else(|| r.service_code.clone(), |s| s.name.clone()),
        description: &r.description,
        status: status_label(r.status),
        priority: r.assignment.priority.as_str(),
        owner: super::owner_names(&city, dept, r.assignment.team.as_deref(), r.assignment.assignee.as_deref()),
        facts,
        asset: r.areas.get(ASSET_LAYER).map(|key| {
            let known = city.assets.by_key(key);
            let label = known.map_or_else(|| key.replace(':', " "), civic311_domain::asset::Asset::label);
            let (kind, id) = key.split_once(':').unwrap_or((key.as_str(), ""));
            (label, format!("/staff/assets/{}/{}", crate::ui::encode(kind), crate::ui::encode(id)))
        }),
        map,
        tiles,
        flag,
        answers,
        contact,
        caller: caller.iter().map(|o| super::search::found(o, &city)).collect(),
        photos: photos.iter().map(|p| (p.id, p.public)).collect(),
        duplicates: duplicates
            .iter()
            .map(|f| {
                let name = city.service(&f.request.service_code).map_or(f.request.service_code.as_str(), |s| &s.name);
                (
                    f.request.id.to_string(),
                    format!("{name}, {}", status_label(f.request.status)),
                    super::distance_away(&city, civic311_domain::i18n::texts("en"), f.distance_m),
                )
            })
            .collect(),
        open_duplicates: duplicates
            .iter()
            .filter(|f| !f.request.status.is_closed())
            .map(|f| {
                let name = city.service(&f.request.service_code).map_or(f.request.service_code.as_str(), |s| &s.name);
                let away = super::distance_away(&city, civic311_domain::i18n::texts("en"), f.distance_m);
                (f.request.id.to_string(), format!("{name}, {away}"))
            })
            .collect(),
        timeline: timeline::entries(&events, &city),
        followers: followers
            .iter()
            .map(|f| (f.address.clone(), if f.channel == NotifyChannel::Sms { "SMS" } else { "email" }))
            .collect(),
        shows_outbox,
        notifications: outbox
            .iter()
            .map(|m| {
                (
                    m.message.kind.clone(),
                    m.message.channel.clone(),
                    m.message.recipient.clone(),
                    m.state.as_str().to_owned(),
                )
            })
            .collect(),
        actions,
        priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
        teams: dir.teams.values().filter(|t| &t.department == dept).map(|t| (t.code.clone(), t.name.clone())).collect(),
        people: dir
            .users
            .values()
            .filter(|u| u.active && &u.department == dept)
            .map(|u| (u.username.clone(), u.display_name.clone()))
            .collect(),
        // Transfers and involvement go elsewhere: never to the owning department.
        departments: dir
            .departments
            .values()
            .filter(|d| &d.code != dept)
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect(),
        no_actions: if staff.user.covers(dept) || staff.user.role == civic311_domain::org::Role::Intake {
            format!("Nothing to do while it is {}.", status_label(r.status).to_lowercase())
        } else {
            format!(
                "{} owns this request; you can read it but act only on {} requests.",
                city.department_name(dept),
                city.department_name(&staff.user.department)
            )
        },
        take: take(staff, r, &city.workflow.config.roles),
        keep: queue.map(|q| format!("?queue={}", super::encode(q))).unwrap_or_default(),
        queue: queue.map(str::to_owned),
        next: next.as_ref().map(|n| super::search::found(n, &city)),
        notice,
        error,
    };
    Ok(html(status, &body))
}

/// "Assign to me": offered when the member of staff works for the owning department
/// and the request is not already theirs.
fn take(
    staff: &Staff,
    r: &ServiceRequest,
    roles: &civic311_domain::workflow::RoleSettings,
) -> Option<(String, Option<String>)> {
    let user = &staff.user;
    let assign = Action::Assign { team: user.team.clone(), assignee: Some(user.username.clone()) };
    let theirs = r.assignment.assignee.as_deref() == Some(user.username.as_str());
    let allowed = assign.allowed_from().contains(&r.status)
        && user.department == r.assignment.department
        && civic311_domain::policy::may_act(user, r, &assign, roles).is_ok();
    (allowed && !theirs).then(|| (user.username.clone(), user.team.clone()))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Flash {
    done: Option<String>,
    queue: Option<String>,
}

/// The request numbered `id`, or a 404.
pub async fn load(state: &AppState, id: &str) -> Result<ServiceRequest, Fault> {
    state
        .request_named(id)
        .await?
        .ok_or_else(|| Fault::Refused(StatusCode::NOT_FOUND, format!("There is no request {id}.")))
}

/// `GET /staff/requests/{id}`.
pub async fn page(State(state): State<AppState>, staff: Staff, Path(id): Path<String>, Query(q): Query<Flash>) -> Page {
    let r = load(&state, &id).await?;
    let mut notice = q.done.as_deref().and_then(done_notice);
    // Just logged: what the caller can be told about how long such requests take here.
    if q.done.as_deref() == Some("filed")
        && !r.status.is_closed()
        && let Some(typical) = civic311_app::typical::typical(&state, &r).await?
    {
        let service = state.city().service(&r.service_code).map_or_else(|| r.service_code.clone(), |s| s.name.clone());
        let said = crate::portal::typical_words(civic311_domain::i18n::texts("en"), &service, &typical);
        notice = notice.map(|n| format!("{n} You can tell the caller: {said}"));
    }
    let queue = q.queue.as_deref().filter(|q| !q.is_empty() && q.len() <= 1000);
    render(&state, &staff, &r, queue, StatusCode::OK, notice, None).await
}

/// What the page says after `?done=`: the name of an action (or `filed`, `follow`,
/// `unfollow`), in words of our own — text in the address is never shown.
fn done_notice(code: &str) -> Option<String> {
    let actions = every_action();
    let known = actions.iter().map(Action::name).chain(["filed", "follow", "unfollow"]).find(|n| *n == code)?;
    Some(match known {
        "filed" => "Filed; it is routed and on its team's queue.".to_owned(),
        "follow" => "The caller now follows this request.".to_owned(),
        "unfollow" => "That address gets no more updates on this request.".to_owned(),
        "acknowledge" => "Acknowledged.".to_owned(),
        "assign" => "Assigned; the person given it has been told.".to_owned(),
        "transfer" => "Transferred; the receiving department has been told.".to_owned(),
        "involve" => "The other department has been asked to help.".to_owned(),
        "start" => "Work started.".to_owned(),
        "hold" => "Put on hold; the SLA clock is paused.".to_owned(),
        "wait_on_resident" => "Question sent; the SLA clock is paused until they answer.".to_owned(),
        "resume" => "Resumed; the SLA clock runs again.".to_owned(),
        "set_priority" => "Priority changed.".to_owned(),
        "note" => "Note added.".to_owned(),
        "attach_photos" => "Photos attached.".to_owned(),
        "resolve" => "Resolved; the requester and followers have been told.".to_owned(),
        "close" => "Closed.".to_owned(),
        "reopen" => "Reopened.".to_owned(),
        "merge" => "Merged into the original; its requester and followers moved over.".to_owned(),
        action => format!("Done: {}.", action.replace('_', " ")),
    })
}
