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
    match state.store.media(id).await {
        Ok(Some(m)) => (
            [
                (header::CONTENT_TYPE, m.content_type),
                (header::CACHE_CONTROL, "public, max-age=86400, immutable".to_owned()),
            ],
            m.bytes,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such media").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading media failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the media could not be read").into_response()
        }
    }
}
