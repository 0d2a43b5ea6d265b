//! Photos and files stored with requests, served back at `/media/{id}`.

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use civic311_domain::request::Media;
use civic311_domain::workflow::MAX_PHOTOS;

use crate::AppState;

/// The largest photo accepted.
const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;

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

/// Why an uploaded photo was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PhotoProblem {
    WrongType { field: String, content_type: String },
    Invalid { field: String, detail: String },
    TooLarge { field: String },
    TooMany,
}

impl std::fmt::Display for PhotoProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongType { field, content_type } => {
                write!(f, "{field}: photos must be JPEG, PNG, WebP or GIF, not {content_type}")
            }
            Self::Invalid { field, detail } => write!(f, "{field}: {detail}"),
            Self::TooLarge { field } => {
                write!(f, "{field}: a photo may be at most {} MB", MAX_PHOTO_BYTES / 1024 / 1024)
            }
            Self::TooMany => write!(f, "at most {MAX_PHOTOS} photos at a time"),
        }
    }
}

/// What a multipart body held: its text fields, the photos kept, and the first photo
/// that was refused (reading goes on past it, so a form can be shown again).
pub(crate) struct Parts {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) media: Vec<Media>,
    pub(crate) problem: Option<PhotoProblem>,
}

/// Text fields and photos of a multipart body. A part with a file name (or named
/// `media`) is a photo: JPEG, PNG, WebP or GIF whose bytes match the type, at most
/// 10 MB, at most five, cleaned by [`crate::photo::clean`] (upright, at most 2048 px,
/// no metadata). Photos come back public; the caller decides otherwise. The error says
/// what is wrong in words, for the caller to put in its own format.
pub(crate) async fn read_multipart(mp: Multipart) -> Result<(Vec<(String, String)>, Vec<Media>), String> {
    let parts = read_parts(mp, true).await?;
    match parts.problem {
        Some(p) => Err(p.to_string()),
        None => Ok((parts.fields, parts.media)),
    }
}

/// Every part of a multipart body; photos are checked and cleaned when `photos` is
/// set and skipped unread otherwise. Only an unreadable body is an error.
pub(crate) async fn read_parts(mut mp: Multipart, photos: bool) -> Result<Parts, String> {
    let mut out = Parts { fields: Vec::new(), media: Vec::new(), problem: None };
    while let Some(part) = mp.next_field().await.map_err(|e| format!("unreadable multipart body: {e}"))? {
        let name = part.name().unwrap_or("").to_owned();
        if part.file_name().is_some() || name == "media" {
            let ct = part.content_type().unwrap_or("application/octet-stream").to_owned();
            let bytes = part.bytes().await.map_err(|e| format!("unreadable upload {name}: {e}"))?;
            if bytes.is_empty() || !photos || out.problem.is_some() {
                continue;
            }
            match photo(name, ct, bytes).await {
                Ok(m) if out.media.len() < MAX_PHOTOS => out.media.push(m),
                Ok(_) => out.problem = Some(PhotoProblem::TooMany),
                Err(p) => out.problem = Some(p),
            }
        } else {
            let text = part.text().await.map_err(|e| format!("unreadable field {name}: {e}"))?;
            out.fields.push((name, text));
        }
    }
    Ok(out)
}

/// One uploaded photo, checked and cleaned.
async fn photo(field: String, ct: String, bytes: axum::body::Bytes) -> Result<Media, PhotoProblem> {
    if !matches!(ct.as_str(), "image/jpeg" | "image/png" | "image/webp" | "image/gif") {
        return Err(PhotoProblem::WrongType { field, content_type: ct });
    }
    if !looks_like(&ct, &bytes) {
        return Err(PhotoProblem::Invalid { detail: format!("the file is not a valid {ct} image"), field });
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(PhotoProblem::TooLarge { field });
    }
    match tokio::task::spawn_blocking(move || crate::photo::clean(&ct, &bytes)).await {
        Ok(Ok(c)) => Ok(Media { content_type: c.content_type.to_owned(), bytes: c.bytes, public: true }),
        Ok(Err(detail)) => Err(PhotoProblem::Invalid { field, detail }),
        Err(e) => Err(PhotoProblem::Invalid { field, detail: format!("the photo could not be read: {e}") }),
    }
}

/// True when the file starts with the signature of its declared image type.
fn looks_like(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "image/webp" => bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        _ => false,
    }
}
