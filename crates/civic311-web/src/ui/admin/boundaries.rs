//! Boundary layers — wards, neighbourhoods, service districts — that routing rules,
//! queues and open data use: the layers in effect, and a GeoJSON upload that replaces
//! one layer (or adds a new one).

use crate::ui::session::StaffChrome;
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use civic311_domain::geo::parse_geojson;

use super::super::notice::Done;
use super::{Admin, Notice, Page, Said, Staff, Typed, field, refuse, submit};
use crate::AppState;
use crate::page::html;
use civic311_app::AppError;
use civic311_app::configure;

#[derive(Template)]
#[template(path = "staff/admin_boundaries.html")]
struct BoundariesPage<'a> {
    c: StaffChrome,
    /// Each layer with its features' names.
    layers: Vec<(String, Vec<String>)>,
    typed: &'a Typed,
    notice: Option<String>,
    error: Option<String>,
}

fn page(state: &AppState, staff: &Staff, status: StatusCode, typed: &Typed, said: Said) -> Page {
    let city = state.city();
    let layers = city
        .boundaries
        .layers()
        .iter()
        .map(|l| {
            let names = city.boundaries.features().iter().filter(|f| &f.layer == l).map(|f| f.name.clone());
            (l.clone(), names.collect())
        })
        .collect();
    let page = BoundariesPage { c: StaffChrome::new(state, staff), layers, typed, notice: said.0, error: said.1 };
    Ok(html(status, &page))
}

/// `GET /staff/admin/boundaries`: the layers in effect.
pub async fn boundaries(State(state): State<AppState>, Admin(staff): Admin, Query(n): Query<Notice>) -> Page {
    page(&state, &staff, StatusCode::OK, &Typed::default(), (n.text(), None))
}

/// A form with one uploaded file: the other fields, the file's name and its bytes.
pub(super) struct Upload {
    pub fields: Vec<(String, String)>,
    pub name: String,
    pub file: Vec<u8>,
}

/// Reads a multipart form whose part `file` is the upload.
pub(super) async fn read_upload(body: Result<Multipart, MultipartRejection>) -> Result<Upload, String> {
    let mut mp = body.map_err(|_| "send the form with a file".to_owned())?;
    let mut upload = Upload { fields: Vec::new(), name: String::new(), file: Vec::new() };
    while let Some(part) = mp.next_field().await.map_err(|e| format!("the upload was cut short: {e}"))? {
        let name = part.name().unwrap_or("").to_owned();
        let file_name = part.file_name().unwrap_or("").to_owned();
        let bytes = part.bytes().await.map_err(|e| format!("the upload was cut short: {e}"))?;
        if name == "file" {
            (upload.name, upload.file) = (file_name, bytes.to_vec());
        } else {
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| format!("{name} is not UTF-8 text"))?;
            upload.fields.push((name, text));
        }
    }
    Ok(upload)
}

/// The form fields and the uploaded file's text.
async fn read(body: Result<Multipart, MultipartRejection>) -> Result<(Vec<(String, String)>, String), String> {
    let upload = read_upload(body).await?;
    let text = String::from_utf8(upload.file).map_err(|_| "file is not UTF-8 text".to_owned())?;
    Ok((upload.fields, text))
}

/// `POST /staff/admin/boundaries` (multipart: `layer`, optional `id_property`, `file`):
/// replaces the layer with the file's Polygons and MultiPolygons, in effect at once.
pub async fn import_layer(
    State(state): State<AppState>,
    Admin(staff): Admin,
    body: Result<Multipart, MultipartRejection>,
) -> Page {
    // Refused before the upload is read, not after.
    let (fields, file) = match read(body).await {
        Ok(read) => read,
        Err(e) => {
            let error = format!("Not imported: {e}.");
            return page(&state, &staff, StatusCode::BAD_REQUEST, &Typed::default(), (None, Some(error)));
        }
    };
    let layer = field(&fields, "layer");
    let change = async {
        if file.trim().is_empty() {
            return Err(refuse("file", "choose a GeoJSON file"));
        }
        let id_property = Some(field(&fields, "id_property")).filter(|p| !p.is_empty());
        let features = parse_geojson(&layer, &file, id_property.as_deref()).map_err(AppError::from)?;
        configure::put_boundary_layer(&state, configure::By::Staff(&staff.user), &layer, &features).await?;
        Ok(Done::LayerImported)
    };
    let typed = Typed(fields.clone());
    let again = |status, error| std::future::ready(page(&state, &staff, status, &typed, (None, Some(error))));
    submit(&staff, &fields, "/staff/admin/boundaries", change, again).await
}
