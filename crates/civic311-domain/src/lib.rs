//! civic311's pure core: what a city configures and what the system decides, with no
//! I/O and no clock — `now` is always an argument.

pub mod city;
pub mod error;
pub mod geo;
pub mod org;
pub mod request;
pub mod routing;
pub mod service;
pub mod text;

pub use error::FieldError;
