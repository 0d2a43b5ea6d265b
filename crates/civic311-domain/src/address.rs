//! Addresses: what people type, normalised the way the city's address points are, and
//! a gazetteer of those points to find a typed address (forward) and the address
//! nearest a point (reverse). Pure: the points come from the store; nothing here looks
//! anything up on a network.

use std::collections::HashMap;

use rstar::primitives::GeomWithData;
use rstar::{PointDistance, RTree};
use serde::{Deserialize, Serialize};

use crate::geo::Point;

mod centrelines;
mod points;
mod streets;
pub use centrelines::{HouseRange, StreetSegment};
use centrelines::{crossing, node_key};
use points::Points;
use streets::StreetIndex;

/// One address point of the city's layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressPoint {
    /// The city's id for the point (OpenAddresses `ID`, else `HASH`, else made up).
    pub id: String,
    /// The house number as written: `120`, `120A`.
    pub number: String,
    /// The street as the city writes it: `North Oak Street`.
    pub street: String,
    pub unit: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    pub point: Point,
}

impl AddressPoint {
    /// How a person reads the address: `120 N Oak St`, `120 N Oak St #4`.
    pub fn label(&self) -> String {
        label(&self.number, &self.street, self.unit.as_deref())
    }
}

/// How a person reads an address: `120 N Oak St`, `120 N Oak St #4`.
fn label(number: &str, street: &str, unit: Option<&str>) -> String {
    let street = display(&normalize_street(street));
    match unit {
        Some(u) => format!("{number} {street} #{u}"),
        None => format!("{number} {street}"),
    }
}

/// Street types and their standard abbreviations (USPS Publication 28).
const STREET_TYPES: &[(&str, &str)] = &[
    ("street", "st"),
    ("str", "st"),
    ("avenue", "ave"),
    ("av", "ave"),
    ("boulevard", "blvd"),
    ("road", "rd"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("court", "ct"),
    ("place", "pl"),
    ("terrace", "ter"),
    ("parkway", "pkwy"),
    ("highway", "hwy"),
    ("circle", "cir"),
    ("square", "sq"),
    ("trail", "trl"),
    ("way", "way"),
    ("alley", "aly"),
    ("loop", "loop"),
    ("expressway", "expy"),
];

const DIRECTIONS: &[(&str, &str)] = &[
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
    ("northeast", "ne"),
    ("northwest", "nw"),
    ("southeast", "se"),
    ("southwest", "sw"),
];

const ORDINALS: &[(&str, &str)] = &[
    ("first", "1st"),
    ("second", "2nd"),
    ("third", "3rd"),
    ("fourth", "4th"),
    ("fifth", "5th"),
    ("sixth", "6th"),
    ("seventh", "7th"),
    ("eighth", "8th"),
    ("ninth", "9th"),
    ("tenth", "10th"),
    ("eleventh", "11th"),
    ("twelfth", "12th"),
    ("thirteenth", "13th"),
    ("fourteenth", "14th"),
    ("fifteenth", "15th"),
    ("sixteenth", "16th"),
    ("seventeenth", "17th"),
    ("eighteenth", "18th"),
    ("nineteenth", "19th"),
    ("twentieth", "20th"),
];

/// Words that introduce a unit: `Apt 4`, `Suite 200`, `#4`.
const UNIT_WORDS: &[&str] = &["apt", "apartment", "unit", "suite", "ste", "room", "rm", "fl", "floor", "bldg", "lot"];

fn is_type(token: &str) -> bool {
    STREET_TYPES.iter().any(|(_, abbr)| *abbr == token)
}

fn is_direction(token: &str) -> bool {
    DIRECTIONS.iter().any(|(_, abbr)| *abbr == token)
}

/// One word in its standard form: lower case, abbreviated, ordinals as `3rd`.
fn standard(token: &str) -> String {
    let t = token.to_lowercase();
    for table in [STREET_TYPES, DIRECTIONS, ORDINALS] {
        if let Some((_, abbr)) = table.iter().find(|(word, abbr)| *word == t || *abbr == t) {
            return (*abbr).to_owned();
        }
    }
    t
}

/// Splits text into words: letters and digits kept, everything else a separator
/// (`#` stays, as the start of a unit).
fn words(text: &str) -> Vec<String> {
    let spaced: String = text
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '#' { c } else { ' ' })
        .collect::<String>()
        .replace('#', " # ");
    spaced.split_whitespace().map(str::to_owned).collect()
}

/// A street name in its standard form: `North Oak Street` → `n oak st`,
/// `Third Ave.` → `3rd ave`.
pub fn normalize_street(street: &str) -> String {
    words(street).iter().filter(|w| *w != "#").map(|w| standard(w)).collect::<Vec<_>>().join(" ")
}

/// A normalised street as people read it: `n oak st` → `N Oak St`.
fn display(normalized: &str) -> String {
    normalized
        .split(' ')
        .map(|w| {
            if is_direction(w) {
                w.to_uppercase()
            } else if w.starts_with(|c: char| c.is_ascii_digit()) {
                w.to_owned()
            } else {
                let mut c = w.chars();
                c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An address published only to its block, as cities' open data does: `127 N Oak St,
/// Apt 4` → `100 block of N Oak St` (numbers below 100 are the `0 block`). `None`
/// when no house number and street can be read: the address is then withheld.
pub fn hundred_block(address: &str) -> Option<String> {
    // Already a block (an import of published data): kept as it is.
    if let Some((n, _)) = address.split_once(" block of ")
        && n.bytes().all(|b| b.is_ascii_digit())
        && !n.is_empty()
    {
        return Some(address.to_owned());
    }
    let typed = parse(address)?;
    let digits: String = typed.number?.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().ok()?;
    Some(format!("{} block of {}", n / 100 * 100, display(&typed.street)))
}

/// What a person typed, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    pub number: Option<String>,
    /// The street in its standard form (see [`normalize_street`]).
    pub street: String,
    pub unit: Option<String>,
    pub postcode: Option<String>,
}

/// Takes apart `120 N. Oak Street, Apt 4, Riverton 80601`: the house number, the
/// street, a unit and a five-digit postcode. `None` when no street is left.
pub fn parse(text: &str) -> Option<Typed> {
    let mut parts = text.split(',');
    let line = parts.next().unwrap_or_default();
    let rest: Vec<String> = parts.flat_map(words).collect();
    let mut tokens = words(line);
    let postcode =
        |ws: &[String]| ws.iter().rev().find(|w| w.len() == 5 && w.chars().all(|c| c.is_ascii_digit())).cloned();
    let mut found_postcode = postcode(&rest);
    // A postcode typed on the address line itself ends it.
    if found_postcode.is_none()
        && tokens.len() > 2
        && tokens.last().is_some_and(|w| postcode(std::slice::from_ref(w)).is_some())
    {
        found_postcode = tokens.pop();
    }
    let number = tokens
        .first()
        .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()) && !ORDINAL_SUFFIXES.iter().any(|s| is_ordinal(w, s)))
        .map(|w| w.to_uppercase());
    if number.is_some() {
        tokens.remove(0);
    }
    // A unit: `# 4`, `apt 4`, `unit B` on the line or after a comma.
    let mut unit = None;
    let mut street = Vec::new();
    let mut all: Vec<String> = tokens;
    all.extend(rest.iter().cloned());
    let mut i = 0;
    let line_len = words(line).len() - usize::from(number.is_some());
    while i < all.len() {
        let w = all[i].to_lowercase();
        if (w == "#" || UNIT_WORDS.contains(&w.as_str())) && i + 1 < all.len() {
            unit = Some(all[i + 1].to_uppercase());
            i += 2;
            continue;
        }
        if i < line_len {
            street.push(standard(&all[i]));
        }
        i += 1;
    }
    if let Some(p) = &found_postcode {
        street.retain(|w| w != p);
    }
    let street = street.join(" ");
    (!street.is_empty()).then_some(Typed { number, street, unit, postcode: found_postcode })
}

const ORDINAL_SUFFIXES: [&str; 4] = ["st", "nd", "rd", "th"];

fn is_ordinal(word: &str, suffix: &str) -> bool {
    let lower = word.to_lowercase();
    lower.strip_suffix(suffix).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Edits (insert, delete, substitute, swap two neighbours) between `a` and `b`, or
/// `None` when more than `max`.
fn edits(a: &str, b: &str, max: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut rows = vec![vec![0usize; width]; a.len() + 1];
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        rows[i][0] = i;
        let mut best = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
            best = best.min(d);
        }
        if best > max {
            return None;
        }
    }
    Some(rows[a.len()][b.len()]).filter(|d| *d <= max)
}

/// A place a typed address may mean, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// How people read it: `120 N Oak St`.
    pub label: String,
    pub point: Point,
    /// The address point's id; `None` for a place worked out from the centrelines (an
    /// intersection, an interpolated house number).
    pub id: Option<String>,
    pub postcode: Option<String>,
    /// 1.0 for the address exactly as typed; less for each typo, a missing street
    /// type, another postcode, a number interpolated along its street, or a house
    /// number the layers do not have.
    pub confidence: f64,
}

/// The longest text looked up (intake accepts addresses up to this long); longer text
/// names no address and is not taken apart at all.
pub const MAX_TYPED: usize = 250;

/// How confident the best candidate must be to locate a request by itself.
pub const CONFIDENT: f64 = 0.85;
/// How far ahead of the next different place the best candidate must be: one typo's
/// worth in a longer name (`Ashfrod` is one slip from Ashford, two from Ashwood).
const CLEAR_LEAD: f64 = 0.075;

/// Metres per degree of latitude.
const METRES_PER_DEGREE: f64 = 111_320.0;

/// The confidence of a house number interpolated along its street's range: a real
/// place, if less exact than an address point.
const INTERPOLATED: f64 = 0.9;
/// The confidence of a street named without a number: somewhere along it.
const STREET_ONLY: f64 = 0.4;

/// Where two streets (by id, the lower first) meet.
type Crossings = HashMap<(u32, u32), Point>;

/// The city's address points and street centrelines, indexed by street and by place.
#[derive(Debug, Default)]
pub struct Gazetteer {
    points: Points,
    streets: StreetIndex,
    /// The indexes of each street's points, by street id.
    on_street: Vec<Vec<u32>>,
    segments: Vec<StreetSegment>,
    /// The indexes of each street's centreline segments, by street id.
    segments_on: Vec<Vec<u32>>,
    /// Where two streets (by id, the lower first) meet.
    crossings: Crossings,
    tree: RTree<GeomWithData<[f64; 2], u32>>,
    /// Metres per degree of longitude at the layer's latitude.
    lon_scale: f64,
    /// The digest of the layer as imported (see the app's address import).
    pub digest: Option<String>,
}

/// A [`Gazetteer`] being made, its points added one at a time (a city's million
/// points are never all held as [`AddressPoint`]s).
#[derive(Debug, Default)]
pub struct GazetteerBuilder {
    points: Points,
    streets: StreetIndex,
    on_street: Vec<Vec<u32>>,
    /// The street id of each street name as written (by its index among the names):
    /// each name is normalised once, not once per point.
    street_of_name: HashMap<u32, u32>,
}

impl GazetteerBuilder {
    /// Adds one point (one whose texts are too long to hold is left out).
    pub fn push(&mut self, p: &AddressPoint) {
        let Some((i, name)) = self.points.push(p) else { return };
        let street = match self.street_of_name.get(&name) {
            Some(street) => *street,
            None => {
                let street = self.streets.insert(normalize_street(self.points.name_at(name)));
                self.street_of_name.insert(name, street);
                street
            }
        };
        if self.on_street.len() <= street as usize {
            self.on_street.resize_with(street as usize + 1, Vec::new);
        }
        self.on_street[street as usize].push(i);
    }

    /// The gazetteer of the points added and `segments`; `digest` names the layers
    /// they came from.
    pub fn finish(self, segments: Vec<StreetSegment>, digest: Option<String>) -> Gazetteer {
        let Self { mut points, mut streets, mut on_street, .. } = self;
        points.finish();
        on_street.iter_mut().for_each(Vec::shrink_to_fit);
        let count = points.len().max(1) as f64;
        let mean_lat = points.positions().map(|p| p.lat).sum::<f64>() / count;
        let lon_scale = METRES_PER_DEGREE * mean_lat.to_radians().cos();
        let entries: Vec<_> = (0u32..)
            .zip(points.positions())
            .map(|(i, p)| GeomWithData::new([p.lon * lon_scale, p.lat * METRES_PER_DEGREE], i))
            .collect();
        let (segments_on, crossings) = index_segments(&segments, &mut streets);
        streets.finish();
        Gazetteer {
            points,
            streets,
            on_street,
            segments,
            segments_on,
            crossings,
            tree: RTree::bulk_load(entries),
            lon_scale,
            digest,
        }
    }
}

impl Gazetteer {
    /// Indexes `points` and `segments`; `digest` names the layers they came from.
    pub fn new(points: Vec<AddressPoint>, segments: Vec<StreetSegment>, digest: Option<String>) -> Self {
        let mut builder = GazetteerBuilder::default();
        points.iter().for_each(|p| builder.push(p));
        builder.finish(segments, digest)
    }

    /// The number of street centreline segments.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.len() == 0
    }

    /// The address point nearest `p`, if one lies within `within_m` metres.
    pub fn nearest(&self, p: Point, within_m: f64) -> Option<AddressPoint> {
        let at = [p.lon * self.lon_scale, p.lat * METRES_PER_DEGREE];
        let found = self.tree.nearest_neighbor(&at)?;
        if found.distance_2(&at) > within_m * within_m {
            return None;
        }
        self.points.get(found.data).map(points::PointRef::to_point)
    }

    /// Places `text` may mean, best first, at most `limit`.
    pub fn forward(&self, text: &str, limit: usize) -> Vec<Candidate> {
        // Characters, as intake counts them; the byte length first, so that a huge
        // text is not even counted.
        if text.len() > 4 * MAX_TYPED || text.chars().count() > MAX_TYPED {
            return Vec::new();
        }
        let mut out = match crossing(text) {
            Some((a, b)) => self.intersections(&a, &b),
            None => parse(text).map(|typed| self.addresses(&typed)).unwrap_or_default(),
        };
        out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then_with(|| a.label.cmp(&b.label)));
        out.dedup_by(|a, b| a.label == b.label);
        out.truncate(limit);
        out
    }

    /// Candidates for a typed address (a number and a street, or a street alone).
    fn addresses(&self, typed: &Typed) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = Vec::new();
        for (street, penalty) in self.streets.like(&typed.street) {
            let on_street: &[u32] = self.on_street.get(street as usize).map_or(&[], Vec::as_slice);
            let segments: &[u32] = self.segments_on.get(street as usize).map_or(&[], Vec::as_slice);
            let mut add = |i: u32, confidence: f64| {
                let Some(p) = self.points.get(i) else { return };
                let off_postcode =
                    typed.postcode.is_some() && p.postcode.is_some() && typed.postcode.as_deref() != p.postcode;
                let confidence = (confidence - penalty - if off_postcode { 0.2 } else { 0.0 }).max(0.0);
                out.push(Candidate {
                    label: p.label(),
                    point: p.point,
                    id: Some(p.id.to_owned()),
                    postcode: p.postcode.map(str::to_owned),
                    confidence,
                });
            };
            match &typed.number {
                Some(number) => {
                    let point = |i: &u32| self.points.get(*i);
                    let same: Vec<u32> =
                        on_street.iter().copied().filter(|i| point(i).is_some_and(|p| p.number == *number)).collect();
                    let unit_match =
                        |i: &u32| typed.unit.is_none() || point(i).and_then(|p| p.unit) == typed.unit.as_deref();
                    let exact: Vec<u32> = same.iter().copied().filter(unit_match).collect();
                    if let Some(first) = exact.iter().copied().find(|i| point(i).is_some_and(|p| p.unit.is_none())) {
                        add(first, 1.0);
                    } else if let Some(first) = exact.first().or(same.first()) {
                        add(*first, if exact.is_empty() { 0.9 } else { 1.0 });
                    } else if let Some(point) = self.interpolate(segments, number) {
                        // The points lack this number; the street's range places it.
                        let label = format!("{} {}", number, display(self.streets.key(street)));
                        out.push(Candidate {
                            label,
                            point,
                            id: None,
                            postcode: None,
                            confidence: (INTERPOLATED - penalty).max(0.0),
                        });
                    } else if let Some(near) = nearest_number(&self.points, on_street, number) {
                        // Nor does a range: the nearest number on the street.
                        add(near, 0.5);
                    }
                }
                None => {
                    // No number: the street itself, at its middle.
                    let mut sorted = on_street.to_vec();
                    sorted.sort_by_key(|i| self.points.get(*i).map_or(0, |p| house_number(p.number)));
                    if let Some(mid) = sorted.get(sorted.len() / 2) {
                        add(*mid, STREET_ONLY);
                    } else if let Some(point) =
                        segments.get(segments.len() / 2).and_then(|s| self.segments[*s as usize].point_at(0.5))
                    {
                        let label = display(self.streets.key(street));
                        let confidence = (STREET_ONLY - penalty).max(0.0);
                        out.push(Candidate { label, point, id: None, postcode: None, confidence });
                    }
                }
            }
        }
        out
    }

    /// The number on one of `segments` (a street's) whose range holds it.
    fn interpolate(&self, segments: &[u32], number: &str) -> Option<Point> {
        let n = u32::try_from(house_number(number)).ok().filter(|n| *n > 0)?;
        segments.iter().find_map(|s| self.segments[*s as usize].interpolate(n))
    }

    /// Candidates for two typed streets' intersection: where streets like each meet.
    fn intersections(&self, a: &str, b: &str) -> Vec<Candidate> {
        let (a, b) = (normalize_street(a), normalize_street(b));
        let like_b = self.streets.like(&b);
        let mut out = Vec::new();
        for (sa, ca) in self.streets.like(&a) {
            for (sb, cb) in &like_b {
                let Some(point) = self.crossings.get(&(sa.min(*sb), sa.max(*sb))) else { continue };
                out.push(Candidate {
                    label: format!("{} & {}", display(self.streets.key(sa)), display(self.streets.key(*sb))),
                    point: *point,
                    id: None,
                    postcode: None,
                    confidence: (1.0 - ca - cb).max(0.0),
                });
            }
        }
        out
    }

    /// The one place `text` clearly means: confident, and clearly ahead of any other.
    pub fn locate(&self, text: &str) -> Option<Candidate> {
        let found = self.forward(text, 2);
        let best = found.first()?;
        let clear = found.get(1).is_none_or(|next| best.confidence - next.confidence >= CLEAR_LEAD);
        (best.confidence >= CONFIDENT && clear).then(|| best.clone())
    }
}

/// Adds the segments' streets to `streets`; each street's segments, and where two
/// streets meet (a position their segments share).
fn index_segments(segments: &[StreetSegment], streets: &mut StreetIndex) -> (Vec<Vec<u32>>, Crossings) {
    let mut segments_on: Vec<Vec<u32>> = Vec::new();
    let mut at_node: HashMap<(i64, i64), (Vec<u32>, [f64; 2])> = HashMap::new();
    let mut named: HashMap<&str, u32> = HashMap::new();
    for (i, segment) in segments.iter().enumerate() {
        let Ok(i) = u32::try_from(i) else { break };
        let street =
            *named.entry(segment.name.as_str()).or_insert_with(|| streets.insert(normalize_street(&segment.name)));
        if segments_on.len() <= street as usize {
            segments_on.resize_with(street as usize + 1, Vec::new);
        }
        segments_on[street as usize].push(i);
        for p in segment.positions() {
            let (meeting, _) = at_node.entry(node_key(p)).or_insert_with(|| (Vec::new(), p));
            if !meeting.contains(&street) {
                meeting.push(street);
            }
        }
    }
    // In a fixed order, so that streets meeting twice always meet at the same one.
    let mut nodes: Vec<_> = at_node.into_iter().filter(|(_, (m, _))| m.len() > 1).collect();
    nodes.sort_unstable_by_key(|(key, _)| *key);
    let mut crossings = HashMap::new();
    for (_, (meeting, p)) in nodes {
        let Ok(point) = Point::new(p[1], p[0]) else { continue };
        for (k, a) in meeting.iter().enumerate() {
            for b in &meeting[k + 1..] {
                crossings.entry((*a.min(b), *a.max(b))).or_insert(point);
            }
        }
    }
    (segments_on, crossings)
}

/// `n` as an ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st.
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The numeric part of a house number (`120A` → 120).
fn house_number(number: &str) -> u64 {
    number.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap_or(0)
}

/// The point on a street whose number is closest to `number`, on the same side
/// (odd or even) when there is one.
fn nearest_number(points: &Points, on_street: &[u32], number: &str) -> Option<u32> {
    let wanted = house_number(number);
    if wanted == 0 {
        return None;
    }
    on_street.iter().copied().min_by_key(|i| {
        let n = points.get(*i).map_or(0, |p| house_number(p.number));
        (n % 2 != wanted % 2, n.abs_diff(wanted))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_published_to_its_hundred_block() {
        assert_eq!(hundred_block("127 North Oak Street, Apt 4").as_deref(), Some("100 block of N Oak St"));
        assert_eq!(hundred_block("42 3rd Ave").as_deref(), Some("0 block of 3rd Ave"));
        assert_eq!(hundred_block("1520B Elm St, Riverton 80601").as_deref(), Some("1500 block of Elm St"));
        assert_eq!(hundred_block("Oak St and 3rd Ave"), None, "no house number: withheld");
        assert_eq!(hundred_block("100 block of N Oak St").as_deref(), Some("100 block of N Oak St"), "kept");
        assert_eq!(hundred_block(""), None);
    }

    fn point(id: &str, number: &str, street: &str, lat: f64, lon: f64) -> AddressPoint {
        AddressPoint {
            id: id.into(),
            number: number.into(),
            street: street.into(),
            unit: None,
            city: Some("Riverton".into()),
            postcode: Some("80601".into()),
            point: Point::new(lat, lon).expect("point"),
        }
    }

    fn layer() -> Gazetteer {
        Gazetteer::new(
            vec![
                point("1", "120", "Oak Street", 40.1527, -104.6359),
                point("2", "122", "Oak Street", 40.1528, -104.6359),
                point("3", "121", "Oak Street", 40.1527, -104.6357),
                point("4", "120", "Oak Avenue", 40.1600, -104.6000),
                point("5", "45", "North Third Avenue", 40.1400, -104.6200),
                point("6", "300", "Elm Street", 40.1300, -104.6100),
                point("7", "310", "Elm Street", 40.1301, -104.6100),
            ],
            vec![
                segment(
                    "c1",
                    "Oak Street",
                    &[[-104.6360, 40.1520], [-104.6360, 40.1530], [-104.6360, 40.1540]],
                    (101, 199),
                    (100, 198),
                ),
                segment("c2", "North Third Avenue", &[[-104.6380, 40.1530], [-104.6360, 40.1530]], (1, 99), (2, 98)),
                segment(
                    "c3",
                    "North Third Avenue",
                    &[[-104.6360, 40.1530], [-104.6340, 40.1530]],
                    (101, 199),
                    (100, 198),
                ),
                segment("c4", "Birch Lane", &[[-104.6340, 40.1520], [-104.6340, 40.1540]], (1, 99), (2, 98)),
            ],
            None,
        )
    }

    fn segment(id: &str, name: &str, line: &[[f64; 2]], left: (u32, u32), right: (u32, u32)) -> StreetSegment {
        StreetSegment {
            id: id.into(),
            name: name.into(),
            lines: vec![line.to_vec()],
            left: Some(HouseRange { from: left.0, to: left.1 }),
            right: Some(HouseRange { from: right.0, to: right.1 }),
        }
    }

    #[test]
    fn streets_are_normalised_as_people_write_them() {
        assert_eq!(normalize_street("North Third Avenue"), "n 3rd ave");
        assert_eq!(normalize_street("N. 3rd Ave."), "n 3rd ave");
        assert_eq!(normalize_street("OAK STREET"), "oak st");
        assert_eq!(point("x", "45", "North Third Avenue", 40.0, -104.0).label(), "45 N 3rd Ave");
    }

    #[test]
    fn typed_addresses_are_taken_apart() {
        let t = parse("120 N. Oak Street, Apt 4, Riverton 80601").expect("parsed");
        assert_eq!(
            t,
            Typed {
                number: Some("120".into()),
                street: "n oak st".into(),
                unit: Some("4".into()),
                postcode: Some("80601".into())
            }
        );
        let t = parse("3rd Avenue").expect("parsed");
        assert_eq!((t.number, t.street.as_str()), (None, "3rd ave"));
        let t = parse("120B Oak St #7").expect("parsed");
        assert_eq!((t.number.as_deref(), t.street.as_str(), t.unit.as_deref()), (Some("120B"), "oak st", Some("7")));
        assert_eq!(parse("  , "), None);
    }

    #[test]
    fn an_exact_address_is_found_with_full_confidence() {
        let g = layer();
        let found = g.forward("120 Oak Street", 5);
        assert_eq!(found[0].label, "120 Oak St");
        assert!((found[0].confidence - 1.0).abs() < 1e-9);
        assert_eq!(g.locate("120 oak st.").and_then(|c| c.id), Some("1".into()));
        assert_eq!(g.locate("45 north third ave").and_then(|c| c.id), Some("5".into()));
    }

    #[test]
    fn typos_lower_the_confidence_in_order() {
        let g = layer();
        let one = g.forward("120 Oka Street", 1);
        let two = g.forward("120 Okaa Stret", 1);
        assert_eq!(one[0].id.as_deref(), Some("1"));
        assert!(one[0].confidence < 1.0 && one[0].confidence >= CONFIDENT, "{one:?}");
        assert!(two.is_empty() || two[0].confidence < one[0].confidence, "{two:?}");
        let abbreviated = g.forward("120 oak st.", 1);
        assert!(abbreviated[0].confidence > one[0].confidence, "{abbreviated:?}");
    }

    #[test]
    fn an_ambiguous_address_is_not_located() {
        let g = layer();
        // Oak Street and Oak Avenue both have a 120.
        let found = g.forward("120 Oak", 5);
        assert_eq!(found.len(), 2);
        assert_eq!(g.locate("120 Oak"), None);
    }

    #[test]
    fn a_street_typed_partway_is_suggested_but_not_located() {
        let g = layer();
        let found = g.forward("300 el", 3);
        assert_eq!(found.first().map(|c| c.label.as_str()), Some("300 Elm St"));
        assert_eq!(g.locate("300 el"), None);
    }

    #[test]
    fn a_number_neither_layer_places_gives_the_nearest_on_that_side_with_low_confidence() {
        let g = layer();
        let found = g.forward("124 Oak Avenue", 1);
        assert_eq!(found[0].id.as_deref(), Some("4"), "120 is the only number");
        assert!(found[0].confidence < CONFIDENT);
        assert_eq!(g.locate("124 Oak Avenue"), None);
        let mut points = vec![point("1", "120", "Oak Street", 40.1527, -104.6359)];
        points.push(point("2", "122", "Oak Street", 40.1528, -104.6359));
        let points_only = Gazetteer::new(points, vec![], None);
        let found = points_only.forward("124 Oak Street", 1);
        assert_eq!(found[0].id.as_deref(), Some("2"), "122 is the nearest even number");
        assert!(found[0].confidence < CONFIDENT);
        assert_eq!(points_only.locate("124 Oak Street"), None);
    }

    #[test]
    fn a_number_the_points_lack_is_interpolated_along_its_range() {
        let g = layer();
        let found = g.forward("150 Oak St", 3);
        assert_eq!(found[0].label, "150 Oak St");
        assert_eq!(found[0].id, None, "no address point");
        assert!((found[0].point.lat - 40.1530).abs() < 1e-4, "{:?}", found[0].point);
        assert!(found[0].confidence >= CONFIDENT && found[0].confidence < 1.0);
        assert!(g.locate("150 Oak Street").is_some(), "an interpolated number locates a request");
        assert_eq!(g.forward("40 Birch Ln", 1)[0].label, "40 Birch Ln");
    }

    #[test]
    fn intersections_are_found_however_they_are_written() {
        let g = layer();
        for typed in ["Oak St & 3rd Ave", "oak and third", "Oak Street / N Third Avenue", "3rd ave at oak st"] {
            let found = g.locate(typed).unwrap_or_else(|| panic!("{typed} is not located"));
            assert!(found.label.contains("Oak St") && found.label.contains("N 3rd Ave"), "{found:?}");
            assert!((found.point.lat - 40.1530).abs() < 1e-9 && (found.point.lon + 104.6360).abs() < 1e-9);
        }
        let exact = g.forward("Oak St & N 3rd Ave", 1)[0].confidence;
        let abbreviated = g.forward("Oak & 3rd", 1)[0].confidence;
        let typo = g.forward("Oka St & N 3rd Ave", 1)[0].confidence;
        assert!((exact - 1.0).abs() < 1e-9);
        assert!(exact > abbreviated && exact > typo, "{exact} {abbreviated} {typo}");
        assert!(g.forward("Oak St & Birch Ln", 1).is_empty(), "streets that do not meet");
        assert_eq!(g.forward("Birch Lane", 1)[0].label, "Birch Ln", "a street known only by its centreline");
    }

    #[test]
    fn the_nearest_address_is_found_within_a_distance() {
        let g = layer();
        let near = g.nearest(Point::new(40.15271, -104.63591).expect("point"), 50.0);
        assert_eq!(near.as_ref().map(AddressPoint::label), Some("120 Oak St".into()));
        assert_eq!(g.nearest(Point::new(40.2, -104.7).expect("point"), 50.0), None);
    }

    #[test]
    fn text_longer_than_an_address_is_not_looked_up() {
        let g = layer();
        let long = format!("120 Oak Street{}", " ".repeat(MAX_TYPED));
        assert!(g.forward(&long, 5).is_empty());
        assert_eq!(g.locate(&long), None);
    }

    #[test]
    fn ordinals_read_as_written() {
        let written: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 102, 111].map(ordinal).to_vec();
        assert_eq!(written, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "102nd", "111th"]);
    }

    #[test]
    fn edit_distance_counts_swaps_once() {
        assert_eq!(edits("oak st", "oka st", 2), Some(1));
        assert_eq!(edits("elm", "oak", 2), None);
        assert_eq!(edits("main st", "main st", 0), Some(0));
    }
}
