//! Duplicate detection: which existing requests a new report probably repeats, ranked
//! by distance and by how alike the descriptions are.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use jiff::{SignedDuration, Timestamp};

use crate::FieldError;
use crate::geo::Point;
use crate::request::{ServiceRequest, Status};
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

/// A candidate's score, 0 to 1: nearness counts most, then the same service, then text.
pub fn score(settings: &DuplicateSettings, distance: f64, same_service: bool, similarity: f64) -> f64 {
    let near = (1.0 - distance / settings.radius_m).clamp(0.0, 1.0);
    0.5 * near + 0.25 * f64::from(u8::from(same_service)) + 0.25 * similarity
}

/// What a new (or existing) report says, to compare others against.
#[derive(Debug, Clone)]
pub struct Probe<'a> {
    pub service_code: &'a str,
    pub point: Point,
    pub description: &'a str,
    /// The request itself, when it is already stored: never its own duplicate.
    pub seq: Option<i64>,
}

/// An existing request that the probe probably repeats.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub request: &'a ServiceRequest,
    pub distance_m: f64,
    pub similarity: f64,
    pub score: f64,
}

/// Ranks `existing` (already narrowed to related services nearby) as duplicates of the
/// probe, best first: open requests, or ones closed within `recently_closed_days`,
/// within the radius; never requests already closed as duplicates.
pub fn rank<'a>(
    settings: &DuplicateSettings,
    probe: &Probe<'_>,
    existing: &'a [ServiceRequest],
    now: Timestamp,
) -> Vec<Candidate<'a>> {
    let closed_since = now - SignedDuration::from_hours(24 * settings.recently_closed_days);
    let mut out: Vec<Candidate<'a>> = existing
        .iter()
        .filter(|r| Some(r.id.seq) != probe.seq && r.status != Status::Duplicate)
        .filter(|r| !r.status.is_closed() || r.closed_at.is_some_and(|t| t >= closed_since))
        .filter_map(|r| {
            let distance = probe.point.distance_m(&r.location.point?);
            (distance <= settings.radius_m).then(|| {
                let similarity = text_similarity(probe.description, &r.description);
                let same = r.service_code == probe.service_code;
                Candidate {
                    request: r,
                    distance_m: distance,
                    similarity,
                    score: score(settings, distance, same, similarity),
                }
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.request.requested_at.cmp(&a.request.requested_at)));
    out.truncate(settings.limit);
    out
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
        assert!((a.distance_m(&b) - 111.2).abs() < 1.0);
    }
}
