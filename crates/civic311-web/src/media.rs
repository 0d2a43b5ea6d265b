//! Photos and files stored with requests, served back at `/media/{id}`.

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use civic311_domain::request::Media;

use civic311_app::photo::{PhotoProblem, Upload, clean_photos};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/media/{id}", get(media))
}

async fn media(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return (StatusCode::NOT_FOUND, "no such media").into_response();
    };
    let city = state.city();
    match state.store.media(id).await {
        // Internal photos, and photos of internal-only requests, are not public.
        Ok(Some((m, service))) if m.public && city.service(&service).is_some_and(|s| s.is_public()) => (
            [
                (header::CONTENT_TYPE, m.content_type),
                (header::CACHE_CONTROL, "public, max-age=86400, immutable".to_owned()),
            ],
            m.bytes,
        )
            .into_response(),
        Ok(_) => (StatusCode::NOT_FOUND, "no such media").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading media failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the media could not be read").into_response()
        }
    }
}

/// What a multipart body held: its text fields and its files, unread as images, so
/// the caller can check who is sending before any decoding work starts.
pub(crate) struct Parts {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) uploads: Vec<Upload>,
}

/// Text fields and photos of a multipart body, photos cleaned (see [`clean_photos`]).
/// The error is a status (413 for anything too large, 503 when every photo worker
/// stayed busy, else 400) and what is wrong in words, for the caller's own format.
pub(crate) async fn read_multipart(
    decoder: &std::sync::Arc<dyn civic311_app::photo::PhotoDecoder>,
    mp: Multipart,
) -> Result<(Vec<(String, String)>, Vec<Media>), (StatusCode, String)> {
    let parts = read_parts(mp).await.map_err(|e| {
        (if e.too_large { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::BAD_REQUEST }, e.to_string())
    })?;
    let media = clean_photos(decoder, parts.uploads).await.map_err(|p| (photo_status(&p), p.to_string()))?;
    Ok((parts.fields, media))
}

/// Every part of a multipart body: a part with a file name (or named `media`) is an
/// upload, kept as bytes; empty uploads are dropped. Only an unreadable body is an
/// error (a body over the size limit among them: see [`BodyError::too_large`]).
pub(crate) async fn read_parts(mut mp: Multipart) -> Result<Parts, BodyError> {
    let mut out = Parts { fields: Vec::new(), uploads: Vec::new() };
    while let Some(part) = mp.next_field().await.map_err(BodyError::from)? {
        let name = part.name().unwrap_or("").to_owned();
        if part.file_name().is_some() || name == "media" {
            let content_type = part.content_type().unwrap_or("application/octet-stream").to_owned();
            let bytes = part.bytes().await.map_err(BodyError::from)?;
            if !bytes.is_empty() {
                out.uploads.push(Upload { field: name, content_type, bytes: bytes.into() });
            }
        } else {
            // Text that is not UTF-8 is refused, never replaced with what was not sent.
            let bytes = part.bytes().await.map_err(BodyError::from)?;
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| BodyError { too_large: false, detail: format!("{name}: the text is not valid UTF-8") })?;
            out.fields.push((name, text));
        }
    }
    Ok(out)
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) struct BodyError {
    /// The body was larger than the route accepts.
    pub(crate) too_large: bool,
    detail: String,
}

impl From<axum::extract::multipart::MultipartError> for BodyError {
    fn from(e: axum::extract::multipart::MultipartError) -> Self {
        let too_large = e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE;
        Self { too_large, detail: e.body_text() }
    }
}

impl From<axum::extract::multipart::MultipartRejection> for BodyError {
    fn from(e: axum::extract::multipart::MultipartRejection) -> Self {
        let too_large = e.status() == StatusCode::PAYLOAD_TOO_LARGE;
        Self { too_large, detail: format!("expected a form with files (multipart/form-data): {}", e.body_text()) }
    }
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.too_large {
            write!(f, "the body is larger than {} MB", crate::open311::MAX_BODY / 1024 / 1024)
        } else {
            write!(f, "unreadable form: {}", self.detail)
        }
    }
}

/// The status a refused photo is answered with: 413 for anything too large, 503 when
/// every photo worker stayed busy, else 400.
pub(crate) fn photo_status(p: &PhotoProblem) -> StatusCode {
    match p {
        PhotoProblem::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        PhotoProblem::Busy => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}
