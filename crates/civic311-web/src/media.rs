//! Photos and files stored with requests, served back at `/media/{id}`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

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
        // Photos of internal-only requests are not public.
        Ok(Some((m, service))) if city.service(&service).is_some_and(|s| s.is_public()) => (
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
