//! Reading configuration exactly: a field the document's type does not know is
//! refused, naming it, instead of being ignored — a misspelt `rules` must never
//! quietly become "no rules".

use serde::de::DeserializeOwned;

use crate::FieldError;

/// What was ignored, as paths (`rule[2].whn`), or the parse error.
fn refuse_ignored(what: &str, ignored: Vec<String>) -> Result<(), FieldError> {
    if ignored.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = ignored.iter().take(5).map(|p| format!("`{p}`")).collect();
    Err(FieldError::new(
        what,
        format!(
            "unknown field{} {}: check the spelling against the documentation",
            if ignored.len() == 1 { "" } else { "s" },
            shown.join(", ")
        ),
    ))
}

/// A JSON value as `T`, refusing fields `T` does not have.
pub fn from_json<T: DeserializeOwned>(what: &str, value: serde_json::Value) -> Result<T, FieldError> {
    let mut ignored = Vec::new();
    let parsed = serde_ignored::deserialize(value, |path| ignored.push(path.to_string()))
        .map_err(|e| FieldError::new(what, e.to_string()))?;
    refuse_ignored(what, ignored)?;
    Ok(parsed)
}

/// A TOML document as `T`, refusing tables and keys `T` does not have.
pub fn from_toml<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, FieldError> {
    let de = toml::Deserializer::parse(text).map_err(|e| FieldError::new(what, format!("not valid TOML: {e}")))?;
    let mut ignored = Vec::new();
    let parsed = serde_ignored::deserialize(de, |path| ignored.push(path.to_string()))
        .map_err(|e| FieldError::new(what, format!("not valid: {e}")))?;
    refuse_ignored(what, ignored)?;
    Ok(parsed)
}

/// Refuses a document that lacks its top-level `key` (`rule` for the routing rules):
/// without it the document would mean "none at all".
pub fn require_key(what: &str, value: &serde_json::Value, key: &str) -> Result<(), FieldError> {
    match value.as_object() {
        Some(o) if o.contains_key(key) => Ok(()),
        Some(_) => Err(FieldError::new(what, format!("the document needs its top-level `{key}` list"))),
        None => Err(FieldError::new(what, "send a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::RuleSet;

    #[test]
    fn unknown_fields_are_named_not_ignored() {
        let e = from_json::<RuleSet>("rules", serde_json::json!({ "rules": [] })).expect_err("a typo");
        assert_eq!(e.field, "rules");
        assert!(e.detail.contains("`rules`"), "{}", e.detail);
        let e = from_toml::<RuleSet>("rules", "[[rules]]\nname = \"x\"\n").expect_err("a typo");
        assert!(e.detail.contains("`rules`"), "{}", e.detail);
        assert!(from_json::<RuleSet>("rules", serde_json::json!({ "rule": [] })).is_ok());
        assert!(require_key("rules", &serde_json::json!({}), "rule").is_err());
    }
}
