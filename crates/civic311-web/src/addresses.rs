//! Address suggestions as a person types: `GET /addresses/suggest?q=…` answers the
//! city's addresses that best match, as `<option>`s for an address box's `<datalist>`
//! (the portal's and the call taker's forms swap them in with htmx). Public: an address
//! point is the city's published GIS data, never a person's. Bounded before any work:
//! the text is at most [`MAX_TYPED`] characters, the answer at most [`SUGGESTED`]
//! addresses, and each client has a budget ([`crate::throttle::LOOKUPS`]).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::throttle::{self, ClientAddr};
use crate::{AppState, CityModel};

/// The longest text looked up; anything longer names no address.
pub const MAX_TYPED: usize = 100;
/// The most addresses suggested at once.
pub const SUGGESTED: usize = 8;
/// Fewer characters than this suggest nothing yet.
const MIN_TYPED: usize = 3;

pub fn router() -> Router<AppState> {
    Router::new().route("/addresses/suggest", get(suggest))
}

/// What was typed: `q`, or the address box's own field (htmx sends the input's name).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Typed {
    q: Option<String>,
    address: Option<String>,
    address_string: Option<String>,
}

#[derive(Template)]
#[template(source = "{% for s in found %}<option value=\"{{ s }}\"></option>\n{% endfor %}", ext = "html")]
struct Options {
    found: Vec<String>,
}

/// `GET /addresses/suggest?q=120 oak`: the best-matching addresses as `<option>`s.
/// Anyone may ask.
pub async fn suggest(State(state): State<AppState>, client: ClientAddr, Query(typed): Query<Typed>) -> Response {
    if let Err(r) = state.throttles.lookups.take(&client.key(), throttle::LOOKUPS, state.now()) {
        let mut busy = (StatusCode::TOO_MANY_REQUESTS, "Too many lookups; wait a moment.").into_response();
        busy.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(r.retry_after));
        return busy;
    }
    let text = [typed.q, typed.address, typed.address_string].into_iter().flatten().find(|t| !t.trim().is_empty());
    let text = text.unwrap_or_default();
    let length = text.trim().chars().count();
    let found = if (MIN_TYPED..=MAX_TYPED).contains(&length) {
        state.city().addresses.forward(&text, SUGGESTED).into_iter().map(|c| c.label).collect()
    } else {
        Vec::new()
    };
    crate::page::html(StatusCode::OK, &Options { found })
}

/// What became of an address typed into a form without a point.
pub(crate) enum Lookup {
    /// Found on the city's map: the form now carries its point and its address.
    Located,
    /// Not clearly one place, but there are places it may mean (best first).
    Unclear(Vec<String>),
    /// Nothing to look up, no place like it, or the person chose to go on with the
    /// address as typed (`as_typed`): staff will place it.
    AsTyped,
}

/// The form's `name`, trimmed; `None` when empty.
fn typed<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// Looks up the address in the form's `key` field when the form gives no point
/// (`lat`, `long`); a clear match puts its address and point into the form.
pub(crate) fn locate_in_form(city: &CityModel, fields: &mut Vec<(String, String)>, key: &str) -> Lookup {
    let has_point = typed(fields, "lat").is_some() && typed(fields, "long").is_some();
    let Some(address) = typed(fields, key).filter(|_| !has_point).map(str::to_owned) else { return Lookup::AsTyped };
    if let Some(found) = city.addresses.locate(&address) {
        fields.retain(|(k, _)| k != key && k != "lat" && k != "long");
        fields.push((key.to_owned(), found.label));
        fields.push(("lat".into(), found.point.lat.to_string()));
        fields.push(("long".into(), found.point.lon.to_string()));
        return Lookup::Located;
    }
    let places: Vec<String> = city.addresses.forward(&address, OFFERED).into_iter().map(|c| c.label).collect();
    if places.is_empty() || typed(fields, "as_typed").is_some() { Lookup::AsTyped } else { Lookup::Unclear(places) }
}

/// The most places offered for an address that may mean several.
const OFFERED: usize = 5;
