//! Who is signed in: the session cookie, looked up by its SHA-256, and the CSRF value
//! every state-changing form of the session carries.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use civic311_domain::org::StaffUser;
use civic311_store::Session;

use crate::AppState;
use civic311_app::tokens::token_hash;

/// The session cookie's name.
pub const SESSION: &str = "civic311_session";

/// How long a sign-in lasts: a working day and then some.
pub const LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(12);

/// A signed-in, active member of staff. Extracting it from a request without a live
/// session answers with a redirect to the sign-in page, coming back afterwards.
pub struct Staff {
    pub user: StaffUser,
    pub session: Session,
}

/// The value of cookie `name`, if the request sent it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, whole site, Secure when the city is
/// served over HTTPS. `None` for `max_age` clears the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<jiff::SignedDuration>) -> HeaderValue {
    let secure = state.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let age = max_age.map_or(0, |d| d.as_secs());
    let text = format!(
        "{name}={value}; Max-Age={age}; Path=/; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Where an unsigned-in visitor to `path` is sent.
fn to_sign_in(parts: &Parts) -> Response {
    let path = parts.uri.path_and_query().map_or("/staff", |p| p.as_str());
    Redirect::to(&format!("/staff/sign-in?next={}", super::encode(path))).into_response()
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION) else { return Err(to_sign_in(parts)) };
        let hash = token_hash(token);
        match state.store.session(&hash, state.now()).await {
            Ok(Some((session, user))) if user.active => Ok(Staff { user, session }),
            Ok(Some(_)) => {
                // Deactivated since signing in: the session ends here.
                if let Err(e) = state.store.end_session(&hash).await {
                    tracing::warn!(error = %e, "ending a deactivated user's session failed");
                }
                Err(to_sign_in(parts))
            }
            Ok(None) => Err(to_sign_in(parts)),
            Err(e) => Err(super::Fault::from(e).into_response()),
        }
    }
}

/// A signed-in administrator. Anyone else signed in is refused with a 403 page before
/// the handler runs; someone not signed in is sent to sign in.
pub struct Admin(pub Staff);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let staff = Staff::from_request_parts(parts, state).await?;
        if staff.user.role != civic311_domain::org::Role::Admin {
            return Err((StatusCode::FORBIDDEN, "Administration is for administrators.").into_response());
        }
        Ok(Admin(staff))
    }
}

/// What every signed-in staff page shows in its header: the city, who is signed in,
/// and the session's CSRF value for the sign-out form (and the page's own forms); the
/// links their role opens and the search box.
pub struct StaffChrome {
    pub city: String,
    /// Empty before sign-in: then the header shows the city alone.
    pub display_name: String,
    pub role: &'static str,
    pub csrf: String,
    /// What the search box holds (the search being shown).
    pub search: String,
}

impl StaffChrome {
    pub fn new(state: &AppState, staff: &Staff) -> Self {
        Self {
            city: state.city().settings.name.clone(),
            display_name: staff.user.display_name.clone(),
            role: staff.user.role.as_str(),
            csrf: staff.session.csrf.clone(),
            search: String::new(),
        }
    }

    /// The header of a page shown before sign-in: the city only, and the CSRF value
    /// the page's form carries.
    pub fn signed_out(state: &AppState, csrf: &str) -> Self {
        Self {
            city: state.city().settings.name.clone(),
            display_name: String::new(),
            role: "",
            csrf: csrf.to_owned(),
            search: String::new(),
        }
    }
}

impl Staff {
    /// True when `sent` is this session's CSRF value.
    pub fn csrf_ok(&self, sent: Option<&str>) -> bool {
        sent.is_some_and(|s| constant_time_eq(s.as_bytes(), self.session.csrf.as_bytes()))
    }
}

/// True when a form posted before sign-in carries the value its page put in cookie
/// `name` (a double-submitted CSRF value: another site can post the field but cannot
/// read or set the cookie).
pub fn form_cookie_ok(headers: &HeaderMap, name: &str, sent: &str) -> bool {
    let expected = cookie(headers, name).unwrap_or("");
    !expected.is_empty() && constant_time_eq(expected.as_bytes(), sent.as_bytes())
}

/// Compares without stopping at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
