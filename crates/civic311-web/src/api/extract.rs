//! The staff API's extractors: what the URL carries, refused in the API's JSON error
//! format rather than axum's plain text.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;

/// The query string as `T`. A parameter given empty (`?limit=&team=`) is absent, as
/// the OpenAPI document promises; an unknown parameter or a value of the wrong type is
/// a 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "query", format!("unreadable query: {e}")))?;
        let given: Vec<(String, String)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let encoded = serde_urlencoded::to_string(&given)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "query", format!("unreadable query: {e}")))?;
        serde_urlencoded::from_str(&encoded)
            .map(ApiQuery)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "query", e.to_string()))
    }
}

/// The path's parameters as `T`. A segment that is not valid percent-encoded UTF-8, or
/// not of `T`'s type (a letter where a number goes), names nothing: a 404.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => {
                Err(ApiError::new(StatusCode::NOT_FOUND, "path", format!("nothing at this path: {}", e.body_text())))
            }
        }
    }
}
