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

/// Text fields and photos of a multipart body. A part with a file name (or named
/// `media`) is a photo: JPEG, PNG, WebP or GIF whose bytes match the type, at most
/// 10 MB, at most five, cleaned by [`crate::photo::clean`] (upright, at most 2048 px,
/// no metadata). Photos come back public; the caller decides otherwise. The
/// error says what is wrong in words, for the caller to put in its own format.
pub(crate) async fn read_multipart(mut mp: Multipart) -> Result<(Vec<(String, String)>, Vec<Media>), String> {
    let mut fields = Vec::new();
    let mut media = Vec::new();
    while let Some(part) = mp.next_field().await.map_err(|e| format!("unreadable multipart body: {e}"))? {
        let name = part.name().unwrap_or("").to_owned();
        if part.file_name().is_some() || name == "media" {
            let ct = part.content_type().unwrap_or("application/octet-stream").to_owned();
            let bytes = part.bytes().await.map_err(|e| format!("unreadable upload {name}: {e}"))?;
            if bytes.is_empty() {
                continue;
            }
            if !matches!(ct.as_str(), "image/jpeg" | "image/png" | "image/webp" | "image/gif") {
                return Err(format!("{name}: photos must be JPEG, PNG, WebP or GIF, not {ct}"));
            }
            if !looks_like(&ct, &bytes) {
                return Err(format!("{name}: the file is not a valid {ct} image"));
            }
            if bytes.len() > MAX_PHOTO_BYTES {
                return Err(format!("{name}: a photo may be at most {} MB", MAX_PHOTO_BYTES / 1024 / 1024));
            }
            let cleaned = tokio::task::spawn_blocking(move || crate::photo::clean(&ct, &bytes))
                .await
                .map_err(|e| format!("{name}: the photo could not be read: {e}"))?
                .map_err(|e| format!("{name}: {e}"))?;
            media.push(Media { content_type: cleaned.content_type.to_owned(), bytes: cleaned.bytes, public: true });
            if media.len() > MAX_PHOTOS {
                return Err(format!("at most {MAX_PHOTOS} photos at a time"));
            }
        } else {
            let text = part.text().await.map_err(|e| format!("unreadable field {name}: {e}"))?;
            fields.push((name, text));
        }
    }
    Ok((fields, media))
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
