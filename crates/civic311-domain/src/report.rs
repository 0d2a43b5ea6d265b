//! What the reports count about one request, read from its history, and the summary
//! statistics they give — the exact definitions the reporting API is held to:
//!
//! - A request's **close time** is the moment it last entered resolved or closed (from
//!   an open status) with no reopening after it; a request closed as a duplicate has
//!   none and counts as a duplicate instead.
//! - Hours to close are close time − requested time; business hours the same on the
//!   calendar of the request's SLA policy.
//! - The SLA is **met** when it closed at or before its resolution due time (as moved by
//!   pauses), missed when after.
//! - A **median** of an even count is the mean of the two middle values; **p90** is the
//!   nearest-rank value. Both exact.

pub mod flow;
pub mod rollup;

use jiff::Timestamp;

use crate::calendar::BusinessCalendar;
use crate::request::{Event, EventKind, ServiceRequest, Status};

/// What the reports need to know of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub requested_at: Timestamp,
    /// See the module's definition; `None` while open and for duplicates.
    pub closed_at: Option<Timestamp>,
    pub duplicate: bool,
    /// When it was closed as a duplicate.
    pub duplicate_at: Option<Timestamp>,
    /// Transferred between departments at least once.
    pub transferred: bool,
    pub reopened: bool,
    /// The resident's latest rating, 1 to 5.
    pub rating: Option<u8>,
    /// When resolution is due, as moved by pauses; `None` without an SLA.
    pub due: Option<Timestamp>,
}

/// A status change's target, from its event.
fn entered(e: &Event) -> Option<Status> {
    (e.kind == EventKind::StatusChanged).then(|| e.data["to"].as_str().and_then(Status::parse)).flatten()
}

fn closing(s: Status) -> bool {
    matches!(s, Status::Resolved | Status::Closed)
}

impl Facts {
    /// The facts of `r` from its events (in the order they happened).
    pub fn of(r: &ServiceRequest, events: &[Event]) -> Facts {
        let mut closed_at = None;
        let mut duplicate_at = None;
        let mut open = true;
        let (mut transferred, mut reopened, mut rating) = (false, false, None);
        for e in events {
            match e.kind {
                EventKind::Transferred => transferred = true,
                EventKind::Reopened => reopened = true,
                EventKind::Rated => rating = e.data["score"].as_u64().and_then(|s| u8::try_from(s).ok()),
                _ => {}
            }
            match entered(e) {
                Some(Status::Duplicate) => duplicate_at = Some(e.at),
                Some(s) if closing(s) => {
                    if open {
                        closed_at = Some(e.at);
                    }
                    open = false;
                }
                Some(_) => {
                    closed_at = None;
                    open = true;
                }
                None => {}
            }
        }
        let duplicate = r.status == Status::Duplicate;
        Facts {
            requested_at: r.requested_at,
            closed_at: if duplicate || !closing(r.status) { None } else { closed_at },
            duplicate,
            duplicate_at: if duplicate { duplicate_at.or(Some(r.updated_at)) } else { None },
            transferred,
            reopened,
            rating,
            due: r.workflow.sla.as_ref().map(|c| c.resolution_due),
        }
    }

    /// Hours from request to close.
    pub fn hours_to_close(&self) -> Option<f64> {
        self.closed_at.map(|c| c.duration_since(self.requested_at).as_secs_f64() / 3600.0)
    }

    /// Business hours from request to close on `calendar`.
    pub fn business_hours_to_close(&self, calendar: &BusinessCalendar) -> Option<f64> {
        self.closed_at.map(|c| calendar.between(self.requested_at, c).as_secs_f64() / 3600.0)
    }

    /// Whether the SLA was met: `None` while open or without an SLA.
    pub fn met(&self) -> Option<bool> {
        Some(self.closed_at? <= self.due?)
    }
}

/// Median, 90th percentile and mean of some values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub p90: f64,
    pub mean: f64,
}

impl Spread {
    /// Of `values`, by the module's definitions; `None` for none.
    pub fn of(mut values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n.is_multiple_of(2) { (values[n / 2 - 1] + values[n / 2]) / 2.0 } else { values[n / 2] };
        // Nearest rank: the smallest value with at least 90% of them at or below it.
        let rank = (n * 9).div_ceil(10).max(1);
        let mean = values.iter().sum::<f64>() / n as f64;
        Some(Spread { median, p90: values[rank - 1], mean })
    }
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn medians_of_even_counts_are_means_and_p90_is_the_nearest_rank() {
        let s = Spread::of(vec![4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.median, s.p90, s.mean), (2.5, 4.0, 2.5));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(Spread::of(ten).unwrap().p90, 9.0);
        let eleven: Vec<f64> = (1..=11).map(f64::from).collect();
        let s = Spread::of(eleven).unwrap();
        assert_eq!((s.median, s.p90), (6.0, 10.0));
        assert_eq!(Spread::of(vec![7.0]).unwrap(), Spread { median: 7.0, p90: 7.0, mean: 7.0 });
        assert_eq!(Spread::of(vec![]), None);
    }
}
