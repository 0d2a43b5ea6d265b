//! The city's GIS layers for geocoding and assets — address points, street
//! centrelines, assets by type — what is loaded, and an upload for each that checks
//! every row and imports the file as a whole (or, when asked, its good rows).

use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use civic311_app::addresses::Format;
use civic311_app::configure;
use civic311_app::layers::{Layer, NotImported};

use super::super::notice::Done;
use super::boundaries::read_upload;
use super::{Admin, Notice, Page, Said, Staff, Typed, field, refuse, submit};
use crate::AppState;
use crate::page::html;

/// The largest layer file the page takes (a city's million address points as CSV are
/// about 70 MB).
pub const MAX_UPLOAD: usize = 256 * 1024 * 1024;

/// How many bad rows the page lists; the count goes on.
const LISTED: usize = 20;

#[derive(Template)]
#[template(path = "staff/admin_layers.html")]
struct LayersPage<'a> {
    c: StaffChrome,
    addresses: usize,
    streets: usize,
    /// Asset types and how many of each.
    assets: Vec<(String, usize)>,
    typed: &'a Typed,
    notice: Option<String>,
    error: Option<String>,
}

fn page(state: &AppState, staff: &Staff, status: StatusCode, typed: &Typed, said: Said) -> Page {
    let city = state.city();
    let mut assets: Vec<(String, usize)> = Vec::new();
    for a in city.assets.iter() {
        match assets.iter_mut().find(|(k, _)| *k == a.kind) {
            Some((_, n)) => *n += 1,
            None => assets.push((a.kind.clone(), 1)),
        }
    }
    let page = LayersPage {
        c: StaffChrome::new(state, staff),
        addresses: city.addresses.len(),
        streets: city.addresses.segment_count(),
        assets,
        typed,
        notice: said.0,
        error: said.1,
    };
    Ok(html(status, &page))
}

/// `GET /staff/admin/layers`: administrators only.
pub async fn layers(State(state): State<AppState>, Admin(staff): Admin, Query(n): Query<Notice>) -> Page {
    page(&state, &staff, StatusCode::OK, &Typed::default(), (n.text(), None))
}

/// `POST /staff/admin/layers` (multipart: `layer` = addresses, streets or assets,
/// `type` for assets, `skip_bad`, `file`): administrators only; in effect at once.
pub async fn import(
    State(state): State<AppState>,
    Admin(staff): Admin,
    body: Result<Multipart, MultipartRejection>,
) -> Page {
    let upload = match read_upload(body).await {
        Ok(u) => u,
        Err(e) => return page(&state, &staff, StatusCode::BAD_REQUEST, &Typed::default(), (None, Some(e))),
    };
    let fields = upload.fields;
    let change = async {
        if upload.file.is_empty() {
            return Err(refuse("file", "choose a file"));
        }
        let layer = match field(&fields, "layer").as_str() {
            "addresses" => Layer::Addresses(Format::of(&upload.name).unwrap_or(Format::GeoJson)),
            "streets" => Layer::Streets,
            "assets" => Layer::Assets(field(&fields, "type")),
            _ => return Err(refuse("layer", "choose addresses, streets or assets")),
        };
        let skip_bad = field(&fields, "skip_bad") == "1";
        let by = configure::By::Staff(&staff.user);
        match civic311_app::layers::import(&state, by, &layer, upload.file, skip_bad).await {
            Ok(_) => Ok(Done::LayerImported),
            Err(NotImported::Unreadable(e)) => Err(refuse("file", e)),
            Err(NotImported::BadRows { bad, refused }) => {
                let place = layer.place();
                let listed: Vec<String> = bad.iter().take(LISTED).map(|b| format!("{place} {b}")).collect();
                let more = if refused > listed.len() { format!("; … {} in all", refused) } else { String::new() };
                Err(refuse(
                    "file",
                    format!(
                        "{refused} bad rows, nothing imported (fix them, or tick “skip bad rows”): {}{more}",
                        listed.join("; ")
                    ),
                ))
            }
            Err(NotImported::Refused(e)) => Err(e),
        }
    };
    let typed = Typed(fields.clone());
    let again = |status, error| std::future::ready(page(&state, &staff, status, &typed, (None, Some(error))));
    submit(&staff, &fields, "/staff/admin/layers", change, again).await
}
