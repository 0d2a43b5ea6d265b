//! The binary's integration tests, in one test binary (see the web crate's `tests/it`).

mod cli;
mod demo_rules;
