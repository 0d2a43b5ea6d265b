//! City-wide settings: its name, time zone and intake policy.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Settings that apply to the whole jurisdiction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitySettings {
    /// Open311 `jurisdiction_id` (a domain name by convention).
    pub jurisdiction_id: String,
    pub name: String,
    /// IANA time zone the city works in (`America/Chicago`).
    pub time_zone: String,
    /// When true, a request whose point falls in no feature of `boundary_layer` is refused.
    pub require_inside: bool,
    /// The layer that outlines the city (usually `wards`).
    pub boundary_layer: String,
    /// Department that receives whatever no rule and no service default claims.
    pub triage_department: String,
    /// Where staff and residents can reach the 311 centre (Open311 discovery `contact`).
    pub contact: String,
}

impl CitySettings {
    /// The city's time zone; an unknown name is reported rather than silently taken as UTC.
    pub fn tz(&self) -> Result<TimeZone, jiff::Error> {
        TimeZone::get(&self.time_zone)
    }
}
