//! Reading form bodies strictly: `application/x-www-form-urlencoded` whose
//! percent-decoded bytes must be UTF-8. A common decoder replaces invalid bytes with
//! U+FFFD and carries on, storing text the sender never wrote; here such a body is
//! refused with a reason instead.

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
    let content_type =
        req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !essence.is_empty() && essence != "application/x-www-form-urlencoded" {
        return Err(FormProblem::bad(format!("expected a form (application/x-www-form-urlencoded), not {essence}")));
    }
    let bytes = axum::body::to_bytes(req.into_body(), limit).await.map_err(|e| {
        if over_limit(&e) {
            FormProblem { too_large: true, detail: format!("the body is larger than {} MB", limit / 1024 / 1024) }
        } else {
            FormProblem::bad(format!("the body could not be read: {e}"))
        }
    })?;
    parse_urlencoded(&bytes)
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
