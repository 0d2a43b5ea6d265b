//! Street centrelines: named lines with, where the city gives them, the house numbers
//! each side spans. They place what the address points cannot: intersections
//! ("Oak St & 3rd Ave") and house numbers missing from the points, interpolated along
//! the range that holds them.

use geo::{Haversine, InterpolatableLine, Length, LineString};
use serde::{Deserialize, Serialize};

use crate::geo::Point;

/// The house numbers one side of a segment spans, from its first position to its last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseRange {
    pub from: u32,
    pub to: u32,
}

impl HouseRange {
    /// How far along the range `n` lies (0.0 at `from`, 1.0 at `to`), when it is in
    /// the range and on its side of the street (odd or even, when both ends are).
    pub fn fraction(&self, n: u32) -> Option<f64> {
        let (lo, hi) = (self.from.min(self.to), self.from.max(self.to));
        if n < lo || n > hi || (self.from % 2 == self.to % 2 && n % 2 != self.from % 2) {
            return None;
        }
        if self.from == self.to {
            return Some(0.5);
        }
        Some((f64::from(n) - f64::from(self.from)) / (f64::from(self.to) - f64::from(self.from)))
    }
}

/// One segment of a street's centreline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreetSegment {
    /// The city's id for the segment (made up from its place in the file when absent).
    pub id: String,
    /// The street as the city writes it: `North Oak Street`.
    pub name: String,
    /// Its line, or lines, as `[lon, lat]` positions.
    pub lines: Vec<Vec<[f64; 2]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<HouseRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right: Option<HouseRange>,
}

impl StreetSegment {
    fn parts(&self) -> impl Iterator<Item = LineString<f64>> + '_ {
        self.lines.iter().map(|line| LineString::from(line.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>()))
    }

    /// The point `fraction` of the way along the segment (its lines end to end).
    pub fn point_at(&self, fraction: f64) -> Option<Point> {
        let parts: Vec<LineString<f64>> = self.parts().collect();
        let lengths: Vec<f64> = parts.iter().map(|l| Haversine.length(l)).collect();
        let mut left = fraction.clamp(0.0, 1.0) * lengths.iter().sum::<f64>();
        let last = parts.len().checked_sub(1)?;
        for (i, (part, length)) in parts.iter().zip(&lengths).enumerate() {
            if left <= *length || i == last {
                let at = part.point_at_distance_from_start(&Haversine, left.min(*length))?;
                return Point::new(at.y(), at.x()).ok();
            }
            left -= length;
        }
        None
    }

    /// Where house number `n` lies, interpolated along the side whose range holds it.
    pub fn interpolate(&self, n: u32) -> Option<Point> {
        let fraction = [self.left, self.right].into_iter().flatten().find_map(|r| r.fraction(n))?;
        self.point_at(fraction)
    }

    /// Every position of the segment.
    pub fn positions(&self) -> impl Iterator<Item = [f64; 2]> + '_ {
        self.lines.iter().flatten().copied()
    }
}

/// A position as a key: two segments meet where they share one (to about 10 cm).
pub(super) fn node_key(p: [f64; 2]) -> (i64, i64) {
    // Coordinates are within ±180, so the products fit; rounding is the point.
    #[allow(clippy::cast_possible_truncation)]
    ((p[0] * 1e6).round() as i64, (p[1] * 1e6).round() as i64)
}

/// The two streets of an intersection as typed (`Oak St & 3rd Ave`, `Oak and Third`,
/// `Oak at 3rd`, `Oak / 3rd`, `Oak @ 3rd`): `None` when the text names one street.
pub(super) fn crossing(text: &str) -> Option<(String, String)> {
    let spaced = text.replace(['&', '/', '@'], " and ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let at = words.iter().position(|w| {
        let w = w.to_lowercase();
        w == "and" || w == "at"
    })?;
    let (a, b) = (words[..at].join(" "), words[at + 1..].join(" "));
    // A house number first means an address (`120 Oak St and …` is not a crossing).
    let numbered = a.split_whitespace().next().is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()));
    (!a.trim().is_empty() && !b.trim().is_empty() && !numbered).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(left: Option<(u32, u32)>, right: Option<(u32, u32)>) -> StreetSegment {
        StreetSegment {
            id: "s1".into(),
            name: "Oak Street".into(),
            lines: vec![vec![[-104.0, 40.0], [-104.0, 40.001]], vec![[-104.0, 40.001], [-104.0, 40.002]]],
            left: left.map(|(from, to)| HouseRange { from, to }),
            right: right.map(|(from, to)| HouseRange { from, to }),
        }
    }

    #[test]
    fn a_range_places_numbers_on_its_side_only() {
        let r = HouseRange { from: 100, to: 198 };
        assert_eq!(r.fraction(100), Some(0.0));
        assert_eq!(r.fraction(149), None, "odd numbers are on the other side");
        assert_eq!(r.fraction(200), None);
        assert!((r.fraction(149 + 1).unwrap_or(0.0) - 50.0 / 98.0).abs() < 1e-9);
        assert_eq!(HouseRange { from: 7, to: 7 }.fraction(7), Some(0.5));
    }

    #[test]
    fn a_house_number_is_interpolated_along_both_lines_of_a_segment() {
        let s = segment(Some((101, 199)), Some((100, 200)));
        let half = s.interpolate(150).expect("in the range");
        assert!((half.lat - 40.001).abs() < 1e-6 && (half.lon + 104.0).abs() < 1e-9, "{half:?}");
        let end = s.interpolate(199).expect("in the range");
        assert!((end.lat - 40.002).abs() < 1e-6, "{end:?}");
        assert_eq!(s.interpolate(300), None);
        assert_eq!(segment(None, None).interpolate(150), None);
    }

    #[test]
    fn intersections_are_recognised_in_the_ways_people_write_them() {
        let pair = |a: &str, b: &str| Some((a.to_owned(), b.to_owned()));
        assert_eq!(crossing("Oak St & 3rd Ave"), pair("Oak St", "3rd Ave"));
        assert_eq!(crossing("oak and third"), pair("oak", "third"));
        assert_eq!(crossing("Oak/3rd"), pair("Oak", "3rd"));
        assert_eq!(crossing("Oak St at Elm"), pair("Oak St", "Elm"));
        assert_eq!(crossing("120 Oak St"), None);
        assert_eq!(crossing("120 Oak St and Elm"), None, "a numbered address");
        assert_eq!(crossing("Oak &"), None);
        assert_eq!(crossing("Andover Rd"), None, "a word that only starts with and");
    }
}
