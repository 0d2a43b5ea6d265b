//! Duplicate detection: which existing requests a new report probably repeats, ranked
//! by distance and by how alike the descriptions are.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::geo::Point;
use crate::text::words;

/// Where and when to look for duplicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DuplicateSettings {
    /// Candidates lie within this many metres.
    pub radius_m: f64,
    /// Open requests filed within this many days are candidates.
    pub window_days: i64,
    /// Requests closed within this many days are candidates too.
    pub recently_closed_days: i64,
    /// Requests of other services in the same group count as related.
    pub same_group: bool,
    /// At most this many candidates are offered.
    pub limit: usize,
}

impl Default for DuplicateSettings {
    fn default() -> Self {
        Self { radius_m: 150.0, window_days: 30, recently_closed_days: 7, same_group: true, limit: 5 }
    }
}

impl DuplicateSettings {
    pub fn validate(&self) -> Result<(), FieldError> {
        if !(1.0..=5_000.0).contains(&self.radius_m) {
            return Err(FieldError::new("duplicates.radius_m", "between 1 and 5000 metres"));
        }
        if !(1..=365).contains(&self.window_days) || !(0..=365).contains(&self.recently_closed_days) {
            return Err(FieldError::new("duplicates", "window_days 1-365, recently_closed_days 0-365"));
        }
        if !(1..=50).contains(&self.limit) {
            return Err(FieldError::new("duplicates.limit", "between 1 and 50"));
        }
        Ok(())
    }
}

/// Words too common in reports to say two of them are alike.
const STOP: [&str; 24] = [
    "a", "an", "the", "and", "or", "of", "on", "in", "at", "to", "is", "it", "there", "this", "near", "by", "for",
    "my", "with", "from", "has", "have", "been", "please",
];

fn terms(text: &str) -> BTreeSet<String> {
    words(text).into_iter().filter(|w| w.len() > 1 && !STOP.contains(&w.as_str())).collect()
}

/// How alike two descriptions are, 0 to 1 (shared words over all words).
pub fn text_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (terms(a), terms(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.intersection(&b).count() as f64;
    shared / a.union(&b).count() as f64
}

/// Metres between two points (equirectangular, exact enough at city scale).
pub fn distance_m(a: Point, b: Point) -> f64 {
    let k = crate::geo::METRES_PER_DEGREE;
    let dy = (a.lat - b.lat) * k;
    let dx = (a.lon - b.lon) * k * ((a.lat + b.lat) / 2.0).to_radians().cos();
    (dx * dx + dy * dy).sqrt()
}

/// A candidate's score, 0 to 1: nearness counts most, then the same service, then text.
pub fn score(settings: &DuplicateSettings, distance: f64, same_service: bool, similarity: f64) -> f64 {
    let near = (1.0 - distance / settings.radius_m).clamp(0.0, 1.0);
    0.5 * near + 0.25 * f64::from(u8::from(same_service)) + 0.25 * similarity
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alike_reports_score_higher() {
        let s = DuplicateSettings::default();
        let sim = text_similarity("Huge pothole on Main Street", "pothole main street, huge");
        assert!(sim > 0.7, "{sim}");
        assert_eq!(text_similarity("the a", "pothole"), 0.0);
        let close = score(&s, 10.0, true, sim);
        let far = score(&s, 140.0, false, 0.0);
        assert!(close > 0.8 && far < 0.1, "{close} {far}");
        let a = Point { lat: 39.74, lon: -104.99 };
        let b = Point { lat: 39.741, lon: -104.99 };
        assert!((distance_m(a, b) - 111.2).abs() < 1.0);
    }
}
