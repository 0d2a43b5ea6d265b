//! civic311's end-to-end tests, in one binary: the HTTP surfaces (Open311, the staff API,
//! the workspace, the portal) served by the production `serve` over either store, and
//! the command line. They live with the binary because they need every real part,
//! argon2 and image included, which the web crate itself does not link; and linking
//! the whole application once instead of once per file is most of what building the
//! tests costs.

mod common;
mod support;

mod address_browser;
mod addresses;
mod admin_browser;
mod admin_forms;
mod asset_browser;
mod assets;
mod browser;
mod cli;
mod config;
mod delay_browser;
mod demo_rules;
mod digests;
mod duplicates;
mod field_browser;
mod handoffs;
mod hardening;
mod history_import;
mod internal;
mod next_in_queue;
mod open311;
mod open_data;
mod open_data_dashboard;
mod photos;
mod portal;
mod portal_browser;
mod queue;
mod reports;
mod reports_browser;
mod rollups;
mod search;
mod supervisor;
mod sweep;
mod weekly_report;
mod workflow;
mod workspace;
