//! The headers every response carries: a Content-Security-Policy that lets pages load
//! scripts, styles and images from our own origin only (and map tiles from the
//! configured source), no framing by other sites, no MIME sniffing, a referrer policy,
//! and — when the city is served over HTTPS — HSTS and the `Secure` flag on every cookie.
//! A handler's own value (a page that must send no referrer at all) is kept.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::{AppState, MapTiles};

/// The headers, worked out once when the router is built.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    fixed: Vec<(HeaderName, HeaderValue)>,
    /// Served over HTTPS: cookies are `Secure`.
    https: bool,
}

/// The origin map tiles come from, as a CSP source: `https://tile.example.org`, or
/// `https://*.tile.example.org` for a template with `{s}` subdomains.
fn tile_source(tiles: &MapTiles) -> Option<String> {
    let (scheme, rest) = tiles.url.split_once("://")?;
    let host = rest.split('/').next()?.replace("{s}", "*");
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-.:*".contains(c);
    (!host.is_empty() && host.chars().all(allowed)).then(|| format!("{scheme}://{host}"))
}

/// The Content-Security-Policy of every response.
pub fn content_security_policy(tiles: Option<&MapTiles>) -> String {
    let tiles = tiles.and_then(tile_source).map(|s| format!(" {s}")).unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{tiles}; \
         connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

impl SecurityHeaders {
    pub fn new(state: &AppState) -> Self {
        let https = state.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
        let mut fixed = vec![
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        ];
        let csp = content_security_policy(state.map_tiles.as_ref());
        if let Ok(v) = HeaderValue::from_str(&csp) {
            fixed.push((header::CONTENT_SECURITY_POLICY, v));
        }
        if https {
            fixed.push((header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000")));
        }
        Self { fixed, https }
    }

    /// Adds the headers a response lacks, and `Secure` to its cookies over HTTPS.
    fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.fixed {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), value.clone());
            }
        }
        if self.https {
            let cookies: Vec<HeaderValue> = headers.get_all(header::SET_COOKIE).iter().cloned().collect();
            headers.remove(header::SET_COOKIE);
            for c in cookies {
                let secure = c.to_str().is_ok_and(|s| s.to_ascii_lowercase().contains("; secure"));
                let value = match c.to_str() {
                    Ok(s) if !secure => HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(c),
                    _ => c,
                };
                headers.append(header::SET_COOKIE, value);
            }
        }
    }
}

/// The middleware: runs the request, then adds the headers.
pub async fn add(headers: Arc<SecurityHeaders>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    headers.apply(response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_are_allowed_from_their_origin_only() {
        let t = |url: &str| MapTiles { url: url.into(), attribution: String::new() };
        assert_eq!(
            tile_source(&t("https://tile.openstreetmap.org/{z}/{x}/{y}.png")).as_deref(),
            Some("https://tile.openstreetmap.org")
        );
        assert_eq!(
            tile_source(&t("https://{s}.tiles.example.gov:8443/{z}/{x}/{y}.png")).as_deref(),
            Some("https://*.tiles.example.gov:8443")
        );
        assert_eq!(tile_source(&t("https://evil.example; script-src *")), None);
        let csp = content_security_policy(None);
        assert!(csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe"));
    }
}
