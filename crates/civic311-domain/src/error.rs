//! Errors that name the input field at fault, so every interface can show them next to it.

use std::fmt;

/// One problem with one input field, in words a resident or app developer understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field as the caller named it (`description`, `attribute[WHERE]`, `lat`).
    pub field: String,
    /// What is wrong and, where it helps, what would be right.
    pub detail: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { field: field.into(), detail: detail.into() }
    }
}

/// "unknown department 'PARK'; one of PARKS, PW, SAN": a code that names nothing, with
/// the codes that would (sorted, at most 30 named).
pub fn unknown<'a>(kind: &str, code: &str, choices: impl IntoIterator<Item = &'a str>) -> String {
    let mut all: Vec<&str> = choices.into_iter().collect();
    all.sort_unstable();
    all.dedup();
    match all.len() {
        0 => format!("unknown {kind} '{code}': there are none yet"),
        n if n > 30 => format!("unknown {kind} '{code}'; one of {}, … ({n} in all)", all[..30].join(", ")),
        _ => format!("unknown {kind} '{code}'; one of {}", all.join(", ")),
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.detail)
    }
}

impl std::error::Error for FieldError {}
