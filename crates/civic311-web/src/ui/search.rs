//! `GET /staff/search?q=`: the one search in every staff header. A request number (with
//! or without its dash or year), a caller's email or phone, an address, a name or
//! words of the description find the request in one step; a number that names one
//! request opens it. Any signed-in member of staff may search, as any may read a
//! request; the words are bounded ([`StaffSearch::MAX_CHARS`], `MAX_WORDS`) before a
//! query is built.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use civic311_domain::request::ServiceRequest;
use civic311_store::StaffSearch;

use super::session::StaffChrome;
use super::{Page, Staff};
use crate::page::html;
use crate::{AppState, CityModel};

/// Most requests one search lists.
pub const MOST: u32 = 50;

#[derive(Debug, Default, serde::Deserialize)]
pub struct Params {
    q: Option<String>,
}

/// One request found.
pub(crate) struct Found {
    pub number: String,
    pub filed: String,
    pub service: String,
    pub place: String,
    pub requester: String,
    pub status: &'static str,
    pub owner: String,
}

#[derive(Template)]
#[template(path = "staff/search.html")]
struct SearchPage {
    c: StaffChrome,
    /// What was searched for, as typed.
    query: String,
    /// What kind of key it was read as, in words.
    read_as: String,
    found: Vec<Found>,
    /// True when the list stopped at [`MOST`].
    more: bool,
}

/// A found request as a row: number, when filed, what, where, who asked, its status and
/// owner.
pub(crate) fn found(r: &ServiceRequest, city: &CityModel) -> Found {
    let c = &r.contact;
    let name = [c.first_name.as_deref(), c.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let reach = c.phone.as_deref().or(c.email.as_deref()).unwrap_or("");
    let requester = match (name.is_empty(), reach.is_empty()) {
        (false, false) => format!("{name} · {reach}"),
        (false, true) => name,
        (true, _) => reach.to_owned(),
    };
    Found {
        number: r.id.to_string(),
        filed: r.requested_at.to_zoned(city.tz.clone()).strftime("%b %-d %Y").to_string(),
        service: city.service(&r.service_code).map_or_else(|| r.service_code.clone(), |s| s.name.clone()),
        place: super::place(city, &r.location).unwrap_or_else(|| "–".to_owned()),
        requester: if requester.is_empty() { "–".to_owned() } else { requester },
        status: super::queue::status_label(r.status),
        owner: city.department_name(&r.assignment.department).to_owned(),
    }
}

/// Most of a caller's other requests listed on a request page.
const CALLER_MOST: u32 = 10;

/// The other requests of `r`'s requester, newest first: those filed with or following
/// their email address, or else those with their phone number.
pub(crate) async fn caller_requests(
    state: &AppState,
    r: &ServiceRequest,
) -> civic311_store::StoreResult<Vec<ServiceRequest>> {
    let c = &r.contact;
    let search = match (&c.email, &c.phone) {
        (Some(email), _) => StaffSearch { email: Some(email.to_lowercase()), ..StaffSearch::default() },
        (None, Some(phone)) if civic311_domain::text::looks_like_phone(phone) => StaffSearch::parse(phone),
        _ => return Ok(Vec::new()),
    };
    let mut found = state.store.search_requests(&search, CALLER_MOST + 1).await?;
    found.retain(|o| o.id.seq != r.id.seq);
    found.truncate(CALLER_MOST as usize);
    Ok(found)
}

/// How a search was read, for the page to say.
fn read_as(s: &StaffSearch) -> String {
    let mut kinds = Vec::new();
    if !s.numbers.is_empty() {
        kinds.push("a request number");
    }
    if s.email.is_some() {
        kinds.push("an email address");
    } else if !s.words.is_empty() {
        kinds.push("words of an address, a name, a phone number or the description");
    }
    kinds.join(" and ")
}

/// `GET /staff/search?q=`.
pub async fn page(State(state): State<AppState>, staff: Staff, Query(p): Query<Params>) -> Page {
    let query: String = p.q.unwrap_or_default().chars().take(StaffSearch::MAX_CHARS).collect();
    let search = StaffSearch::parse(&query);
    let found = if search.is_empty() { Vec::new() } else { state.store.search_requests(&search, MOST).await? };
    if let [only] = found.as_slice()
        && search.numbers.contains(&only.id.seq)
    {
        return Ok(Redirect::to(&format!("/staff/requests/{}", only.id)).into_response());
    }
    let city = state.city();
    let mut c = StaffChrome::new(&state, &staff);
    c.search.clone_from(&query);
    let body = SearchPage {
        c,
        read_as: read_as(&search),
        more: found.len() == MOST as usize,
        found: found.iter().map(|r| self::found(r, &city)).collect(),
        query,
    };
    Ok(html(StatusCode::OK, &body))
}
