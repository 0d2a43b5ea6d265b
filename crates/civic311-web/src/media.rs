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
    WrongType {
        field: String,
        content_type: String,
    },
    Invalid {
        field: String,
        detail: String,
    },
    /// Too many bytes, or too many pixels (`detail` says which).
    TooLarge {
        field: String,
        detail: String,
    },
    TooMany,
    /// Every photo worker stayed busy: nothing is wrong with the photo.
    Busy,
}

impl PhotoProblem {
    /// The status a refusal is answered with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl std::fmt::Display for PhotoProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongType { field, content_type } => {
                write!(f, "{field}: photos must be JPEG, PNG, WebP or GIF, not {content_type}")
            }
            Self::Invalid { field, detail } | Self::TooLarge { field, detail } => write!(f, "{field}: {detail}"),
            Self::TooMany => write!(f, "at most {MAX_PHOTOS} photos at a time"),
            Self::Busy => write!(f, "the server is busy with other photos; try again in a minute"),
        }
    }
}

/// An uploaded file as received: nothing about it is decoded yet.
pub(crate) struct Upload {
    field: String,
    content_type: String,
    bytes: axum::body::Bytes,
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
pub(crate) async fn read_multipart(mp: Multipart) -> Result<(Vec<(String, String)>, Vec<Media>), (StatusCode, String)> {
    let parts = read_parts(mp).await.map_err(|e| {
        (if e.too_large { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::BAD_REQUEST }, e.to_string())
    })?;
    let media = clean_photos(parts.uploads).await.map_err(|p| (p.status(), p.to_string()))?;
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
                out.uploads.push(Upload { field: name, content_type, bytes });
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

/// Checks and cleans uploads as photos: JPEG, PNG, WebP or GIF whose bytes match the
/// type, at most 10 MB and [`crate::photo::MAX_PIXELS`], at most five, each cleaned by
/// [`crate::photo::clean`] (upright, at most 2048 px, no metadata) on one of a few
/// workers. Photos come back public; the caller decides otherwise. The first problem
/// stops the work.
pub(crate) async fn clean_photos(uploads: Vec<Upload>) -> Result<Vec<Media>, PhotoProblem> {
    if uploads.len() > MAX_PHOTOS {
        return Err(PhotoProblem::TooMany);
    }
    let mut out = Vec::with_capacity(uploads.len());
    for u in uploads {
        out.push(photo(u).await?);
    }
    Ok(out)
}

/// How many photos are decoded at once, whoever sends them: decoding is the costliest
/// thing an outsider can ask for, in time and memory.
fn decoders() -> &'static tokio::sync::Semaphore {
    static DECODERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    DECODERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        tokio::sync::Semaphore::new(cores.clamp(1, 4))
    })
}

/// How long a photo waits for a worker before the sender is asked to come back.
const DECODE_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// One uploaded photo, checked and cleaned.
async fn photo(u: Upload) -> Result<Media, PhotoProblem> {
    let Upload { field, content_type: ct, bytes } = u;
    if !matches!(ct.as_str(), "image/jpeg" | "image/png" | "image/webp" | "image/gif") {
        return Err(PhotoProblem::WrongType { field, content_type: ct });
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        let detail = format!("a photo may be at most {} MB", MAX_PHOTO_BYTES / 1024 / 1024);
        return Err(PhotoProblem::TooLarge { field, detail });
    }
    if !looks_like(&ct, &bytes) {
        return Err(PhotoProblem::Invalid { detail: format!("the file is not a valid {ct} image"), field });
    }
    let Ok(Ok(_permit)) = tokio::time::timeout(DECODE_WAIT, decoders().acquire()).await else {
        return Err(PhotoProblem::Busy);
    };
    match tokio::task::spawn_blocking(move || crate::photo::clean(&ct, &bytes)).await {
        Ok(Ok(c)) => Ok(Media { content_type: c.content_type.to_owned(), bytes: c.bytes, public: true }),
        Ok(Err(crate::photo::Refusal::TooLarge(detail))) => Err(PhotoProblem::TooLarge { field, detail }),
        Ok(Err(r)) => Err(PhotoProblem::Invalid { field, detail: r.to_string() }),
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
