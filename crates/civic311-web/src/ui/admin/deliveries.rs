//! The delivery log: every email, text message and webhook the city has sent or is
//! trying to send, newest first, filtered by channel and state, with the reason of the
//! last failure; a dead letter can be sent again.

use crate::form::Form;
use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use civic311_store::{OutboxQuery, OutboxState};

use super::super::notice::Done;
use super::{Admin, Page, Said, Staff, refuse, submit};
use crate::AppState;
use crate::page::html;

const CHANNELS: [&str; 3] = ["webhook", "email", "sms"];
/// How many deliveries a page lists.
const SHOWN: i64 = 200;

/// One delivery as listed.
struct Row {
    id: i64,
    created: String,
    channel: String,
    recipient: String,
    kind: String,
    /// The request's number, for its link.
    request: Option<i64>,
    state: String,
    attempts: i64,
    /// When it went, or when the next attempt is.
    when: String,
    last_error: String,
}

#[derive(Template)]
#[template(path = "staff/admin_deliveries.html")]
struct DeliveriesPage {
    c: StaffChrome,
    rows: Vec<Row>,
    states: Vec<(&'static str, bool)>,
    channels: Vec<(&'static str, bool)>,
    notice: Option<String>,
    error: Option<String>,
}

/// `?channel=`, `?state=` (unknown values list everything) and `?done=`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Filter {
    state: Option<String>,
    channel: Option<String>,
    done: Option<String>,
}

async fn page(state: &AppState, staff: &Staff, status: StatusCode, filter: &Filter, said: Said) -> Page {
    let only = |v: &Option<String>, known: &[&str]| v.clone().filter(|v| known.contains(&v.as_str()));
    let query = OutboxQuery {
        state: filter.state.as_deref().and_then(OutboxState::parse),
        channel: only(&filter.channel, &CHANNELS),
        request: None,
        limit: SHOWN,
    };
    let items = state.store.outbox(&query).await?;
    let city = state.city();
    let local = |t: jiff::Timestamp| t.to_zoned(city.tz.clone()).strftime("%b %d %H:%M").to_string();
    let rows = items
        .into_iter()
        .map(|m| Row {
            id: m.id,
            created: local(m.created_at),
            channel: m.message.channel,
            recipient: m.message.recipient,
            kind: m.message.kind,
            request: m.request_id,
            when: match (m.state, m.sent_at) {
                (OutboxState::Sent, Some(at)) => format!("sent {}", local(at)),
                (OutboxState::Pending, _) => format!("next try {}", local(m.next_at)),
                _ => "given up".to_owned(),
            },
            state: m.state.as_str().to_owned(),
            attempts: m.attempts,
            last_error: m.last_error.unwrap_or_default(),
        })
        .collect();
    let page = DeliveriesPage {
        c: StaffChrome::new(state, staff),
        rows,
        states: OutboxState::ALL.iter().map(|s| (s.as_str(), query.state == Some(*s))).collect(),
        channels: CHANNELS.iter().map(|c| (*c, query.channel.as_deref() == Some(*c))).collect(),
        notice: said.0,
        error: said.1,
    };
    Ok(html(status, &page))
}

/// `GET /staff/admin/deliveries`: the newest deliveries, `?channel=` and `?state=`.
pub async fn deliveries(State(state): State<AppState>, Admin(staff): Admin, Query(f): Query<Filter>) -> Page {
    let notice = super::super::notice::text(f.done.as_deref());
    page(&state, &staff, StatusCode::OK, &f, (notice, None)).await
}

/// `POST /staff/admin/deliveries/{id}/retry`: send a dead letter again.
pub async fn retry(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Page {
    let change = async {
        if state.store.retry_message(id, state.now()).await? {
            Ok(Done::RetryQueued)
        } else {
            Err(refuse("delivery", format!("{id} is not a dead letter (already sent, or being tried)")))
        }
    };
    let filter = Filter::default();
    let again = |status, error| page(&state, &staff, status, &filter, (None, Some(error)));
    submit(&staff, &fields, "/staff/admin/deliveries", change, again).await
}
