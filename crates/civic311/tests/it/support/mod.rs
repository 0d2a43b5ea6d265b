//! Shared helpers for the Open311 tests: schema validation.

#![allow(dead_code)]

use serde_json::Value;

fn schema(name: &str) -> Value {
    let text = match name {
        "request" => include_str!("../schema/request.json"),
        "service" => include_str!("../schema/service.json"),
        "service-definition" => include_str!("../schema/service-definition.json"),
        other => panic!("no schema {other}"),
    };
    serde_json::from_str(text).expect("schema is JSON")
}

/// Asserts `doc` is valid against the named Open311 schema, formats included.
pub fn assert_valid(name: &str, doc: &Value) {
    let validator = jsonschema::options().should_validate_formats(true).build(&schema(name)).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "{name} document is invalid: {errors:?}\n{doc:#}");
}

/// Asserts `doc` is a bare JSON array (Spark convention) whose items are valid.
pub fn assert_valid_list(item: &str, doc: &Value) {
    let items = doc.as_array().unwrap_or_else(|| panic!("expected a bare array, got {doc}"));
    for i in items {
        assert_valid(item, i);
    }
}
