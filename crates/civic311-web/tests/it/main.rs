//! The web crate's integration tests, in one binary: linking the whole application
//! once instead of once per file is most of what building the tests costs.

mod common;
mod support;

mod browser;
mod config;
mod duplicates;
mod hardening;
mod open311;
mod photos;
mod portal;
mod portal_browser;
mod queue;
mod sweep;
mod workflow;
mod workspace;
