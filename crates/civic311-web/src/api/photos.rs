//! Photos through the staff API: a crew attaches before-and-after photos, public or
//! internal, and staff see every photo of a request.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use civic311_domain::workflow::Action;
use civic311_store::Photo;
use serde_json::{Value, json};

use super::auth::caller;
use super::extract::ApiPath;
use super::handlers::{apply, load};
use super::{ApiError, view};
use crate::AppState;
use crate::media::read_multipart;

fn bad(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, field, detail)
}

/// A photo as staff see it listed, with where to fetch it.
pub fn photo(p: &Photo) -> Value {
    json!({ "id": p.id, "content_type": p.content_type, "public": p.public, "url": format!("/api/v1/media/{}", p.id) })
}

/// `POST /api/v1/requests/{id}/photos`: multipart files, `public` (true or false,
/// required: nobody should publish a photo by accident) and an optional `note`.
pub async fn attach(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, ApiError> {
    let user = caller(&state, &headers).await?;
    let (seq, _) = load(&state, &id).await?;
    let mp = body.map_err(|e| bad("body", format!("send photos as multipart/form-data: {}", e.body_text())))?;
    let (fields, mut photos) =
        read_multipart(&state.codecs.photos, mp).await.map_err(|(status, e)| ApiError::new(status, "photo", e))?;
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_owned());
    let public = match field("public").as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(bad("public", "say whether residents may see these photos: public=true or public=false")),
    };
    for p in &mut photos {
        p.public = public;
    }
    let action = Action::AttachPhotos { photos, public, note: field("note") };
    let stored = apply(&state, &user, seq, &action, None).await?;
    let mut body = view::request(&stored);
    body["photos"] = state.store.photos(seq).await?.iter().map(photo).collect();
    Ok(Json(body))
}

/// `GET /api/v1/media/{id}`: any photo, public or internal, to signed-in staff.
pub async fn media(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller(&state, &headers).await?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "id", format!("no photo {id}"));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let (m, _) = state.store.media(id).await?.ok_or_else(not_found)?;
    // Internal photos must not sit in shared caches.
    Ok(([(header::CONTENT_TYPE, m.content_type), (header::CACHE_CONTROL, "private, max-age=3600".to_owned())], m.bytes)
        .into_response())
}
