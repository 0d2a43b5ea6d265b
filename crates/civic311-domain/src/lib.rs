//! civic311's pure core: what a city configures and what the system decides, with no
//! I/O and no clock — `now` is always an argument.

pub mod address;
pub mod asset;
pub mod audit;
pub mod calendar;
pub mod city;
pub mod duplicates;
pub mod error;
pub mod escalation;
pub mod exact;
pub mod geo;
pub mod i18n;
pub mod kb;
pub mod notify;
pub mod org;
pub mod policy;
pub mod report;
pub mod request;
pub mod routing;
pub mod service;
pub mod signin;
pub mod sla;
pub mod text;
pub mod workflow;

pub use error::FieldError;
