//! Reading form bodies strictly: `application/x-www-form-urlencoded` whose
//! percent-decoded bytes must be UTF-8, at most [`MAX_FORM`] bytes. A common decoder
//! replaces invalid bytes with U+FFFD and carries on, storing text the sender never
//! wrote; here such a body is refused with a reason instead — in the format of the
//! interface it came through: an Open311 error document, the portal's page in the
//! resident's language, or a staff page.

use axum::response::Response;

use crate::AppState;

/// Why a form body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormProblem {
    /// The body was larger than the route accepts (413 rather than 400).
    pub(crate) too_large: bool,
    pub(crate) detail: String,
}

impl FormProblem {
    pub(crate) fn bad(detail: impl Into<String>) -> Self {
        Self { too_large: false, detail: detail.into() }
    }

    /// The HTTP status this problem is answered with.
    pub(crate) fn status(&self) -> axum::http::StatusCode {
        if self.too_large { axum::http::StatusCode::PAYLOAD_TOO_LARGE } else { axum::http::StatusCode::BAD_REQUEST }
    }
}

impl std::fmt::Display for FormProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

/// Decodes one `+`-for-space, percent-encoded component; `None` when it is not UTF-8.
fn decode(component: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(component.len());
    let mut i = 0;
    while i < component.len() {
        match component[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < component.len() => {
                let hex = |b: u8| char::from(b).to_digit(16);
                match (hex(component[i + 1]), hex(component[i + 2])) {
                    (Some(h), Some(l)) => {
                        // Two hex digits make one byte.
                        out.push(u8::try_from(h * 16 + l).unwrap_or(0));
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The `name=value` pairs of a form-encoded body, in order. Invalid UTF-8 — raw or
/// percent-encoded — is refused, naming the field it was found in.
pub(crate) fn parse_urlencoded(body: &[u8]) -> Result<Vec<(String, String)>, FormProblem> {
    let mut pairs = Vec::new();
    for piece in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match piece.iter().position(|b| *b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &piece[..0]),
        };
        let key = decode(k).ok_or_else(|| FormProblem::bad("a field name is not valid UTF-8 text"))?;
        let value = decode(v).ok_or_else(|| FormProblem::bad(format!("{key}: the text is not valid UTF-8")))?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Reads a whole request body of at most `limit` bytes as a form: 413 beyond the
/// limit, 400 (with the reason) when it is not form-encoded UTF-8.
pub(crate) async fn read_urlencoded(
    req: axum::extract::Request,
    limit: usize,
) -> Result<Vec<(String, String)>, FormProblem> {
    parse_urlencoded(&read_form_bytes(req, limit).await?)
}

/// The bytes of a form-encoded body of at most `limit` bytes, not yet decoded.
async fn read_form_bytes(req: axum::extract::Request, limit: usize) -> Result<axum::body::Bytes, FormProblem> {
    let content_type =
        req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/x-www-form-urlencoded" {
        let sent = if essence.is_empty() { "no Content-Type".to_owned() } else { essence };
        return Err(FormProblem::bad(format!("expected a form (application/x-www-form-urlencoded), not {sent}")));
    }
    axum::body::to_bytes(req.into_body(), limit).await.map_err(|e| {
        if over_limit(&e) {
            FormProblem { too_large: true, detail: format!("the body is larger than {} MB", limit / 1024 / 1024) }
        } else {
            FormProblem::bad(format!("the body could not be read: {e}"))
        }
    })
}

/// The largest form body (without files) any page accepts: the biggest is an
/// administrator's rules or workflow document.
pub const MAX_FORM: usize = 1024 * 1024;

/// A form body read strictly (see the module); a drop-in for `axum::Form`.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send> axum::extract::FromRequest<AppState> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let req = axum::extract::Request::from_parts(parts.clone(), body);
        // Checked strictly first (UTF-8 throughout); the same bytes then decode into
        // the handler's type.
        let bytes = match read_form_bytes(req, MAX_FORM).await.and_then(|b| parse_urlencoded(&b).map(|_| b)) {
            Ok(b) => b,
            Err(p) => return Err(refusal(&mut parts, state, p).await),
        };
        let parsed = serde_urlencoded::from_bytes(&bytes).map_err(|e| e.to_string());
        match parsed {
            Ok(t) => Ok(Form(t)),
            Err(e) => {
                let p = FormProblem::bad(format!("the form could not be read: {e}"));
                Err(refusal(&mut parts, state, p).await)
            }
        }
    }
}

/// A refused form, answered as the interface it was sent to answers.
async fn refusal(parts: &mut axum::http::request::Parts, state: &AppState, p: FormProblem) -> Response {
    use axum::extract::FromRequestParts;
    use axum::response::IntoResponse;
    let status = p.status();
    let path = parts.uri.path().to_owned();
    if path.starts_with("/open311/") {
        let format = if path.ends_with(".xml") { crate::open311::Format::Xml } else { crate::open311::Format::Json };
        return crate::open311::Open311Error::new(status, format, p.detail).into_response();
    }
    if path.starts_with("/staff") {
        return crate::ui::message(state, status, "This form could not be read", &p.detail);
    }
    let Ok(lang) = crate::portal::Lang::from_request_parts(parts, state).await;
    let t = lang.t;
    let key = if p.too_large { "page.too_large" } else { "page.unreadable" };
    crate::portal::message(state, &lang, status, t.get("page.error_title"), t.get(key))
}

/// True when reading a body failed because it was longer than allowed.
pub(crate) fn over_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.to_string().contains("length limit exceeded") {
            return true;
        }
        cause = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_like_browsers_send_them() {
        let pairs = parse_urlencoded(b"a=1&b=two+words&c=%C3%A9t%C3%A9&empty=&flag&d=100%25&e=%2").expect("a form");
        let want =
            [("a", "1"), ("b", "two words"), ("c", "été"), ("empty", ""), ("flag", ""), ("d", "100%"), ("e", "%2")];
        assert_eq!(pairs, want.map(|(k, v)| (k.to_owned(), v.to_owned())));
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_not_replaced() {
        assert_eq!(
            parse_urlencoded(b"description=caf%E9").expect_err("refused").detail,
            "description: the text is not valid UTF-8"
        );
        assert!(parse_urlencoded(b"description=caf\xe9").is_err());
        assert!(parse_urlencoded(b"%FF=x").is_err());
    }
}
