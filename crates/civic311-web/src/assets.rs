//! Static files compiled into the binary (nothing is fetched from elsewhere at run
//! time): the workspace's and the portal's stylesheets, htmx, Leaflet and our scripts. Each is served
//! at `/static/{hash}/{name}`, the hash being of its content, so a browser keeps it
//! for a year and a new release is fetched at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One file: its name under `static/`, type and content.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset { name: $name, content_type: $type, bytes: include_bytes!(concat!("../static/", $name)) }
    };
}

const FILES: [Asset; 8] = [
    asset!("staff.css", "text/css; charset=utf-8"),
    asset!("staff.js", "text/javascript; charset=utf-8"),
    asset!("portal.css", "text/css; charset=utf-8"),
    asset!("portal.js", "text/javascript; charset=utf-8"),
    asset!("map.js", "text/javascript; charset=utf-8"),
    asset!("vendor/htmx.min.js", "text/javascript; charset=utf-8"),
    asset!("vendor/leaflet.js", "text/javascript; charset=utf-8"),
    asset!("vendor/leaflet.css", "text/css; charset=utf-8"),
];

/// Each file with its content hash (12 hex digits) and URL.
static INDEX: LazyLock<Vec<(&'static Asset, String, String)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|a| {
            let digest = Sha256::digest(a.bytes);
            let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
            let url = format!("/static/{hash}/{}", a.name);
            (a, hash, url)
        })
        .collect()
});

/// The URL of the file `name` (as under `static/`), naming its content's hash.
pub fn url(name: &str) -> &'static str {
    INDEX.iter().find(|(a, _, _)| a.name == name).map_or("/static/missing", |(_, _, url)| url.as_str())
}

/// `GET /static/{hash}/{*name}`. The current hash is cached for a year; an old one
/// (a page from before an upgrade) gets the current file, not to be cached.
pub async fn serve(Path((hash, name)): Path<(String, String)>) -> Response {
    let Some((asset, current, _)) = INDEX.iter().find(|(a, _, _)| a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let cache = if &hash == current { "public, max-age=31536000, immutable" } else { "no-cache" };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_url_that_names_its_content() {
        for a in &FILES {
            let u = url(a.name);
            assert!(u.starts_with("/static/") && u.ends_with(a.name), "{u}");
            assert_eq!(u.split('/').nth(2).map(str::len), Some(12), "{u}");
        }
        assert_eq!(url("nope.css"), "/static/missing");
    }
}
