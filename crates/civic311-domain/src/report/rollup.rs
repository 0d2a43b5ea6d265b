//! The report rollups: what each request adds to the cells reports read, so that a
//! report costs in proportion to the cells it reads, not to the requests.
//!
//! A **cell** adds up, for one combination of dimensions and one stretch of local days
//! (a day, an ISO week, a month, or all time), the requests opened in it, closed in it
//! (with sketches of their times to close) and the day-by-day movements that give the
//! open work at any midnight. A **cube** is a set of dimensions cells are keyed by:
//! the base cube (service, department, team, channel, priority) and one per boundary
//! layer (service, department, team, feature). A request's [`Contribution`] lists what
//! it adds; when it changes, its old contribution is taken away and the new one added.
//!
//! Times to close are kept in a [`Sketch`]: exact values while a cell holds few, and
//! always counts in logarithmic buckets whose representative is within 0.5% of every
//! value in the bucket.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use super::flow::Flow;
use super::{Facts, Spread};
use crate::calendar::BusinessCalendar;
use crate::request::ServiceRequest;

/// Separates the dimension values of a cell's key (never in a code or an id).
pub const SEP: char = '\u{1f}';
/// The base cube's name; a layer's cube is named `layer:NAME`.
pub const BASE: &str = "";
/// A cell keeps exact values while it holds at most this many.
const EXACT_UP_TO: usize = 64;
/// Bucket growth: a bucket's representative is within (γ−1)/(γ+1) < 0.5% of its values.
const GAMMA: f64 = 1.01;
/// Times under a second (in hours) count as zero.
const SMALLEST: f64 = 1.0 / 3600.0;
const ZERO_BUCKET: i32 = i32::MIN;

/// The flow cubes, each keyed first by a department (so a supervisor's scope applies),
/// counted in [`Cell::opened`] with times (when any) in [`Cell::hours`]:
/// hours in each status of requests closed, by close day: department, service, status.
pub const STATUS_TIME: &str = "flow:status";
/// Hours with each department of requests closed, by close day: department (where the
/// time was spent), service.
pub const DEPARTMENT_TIME: &str = "flow:department";
/// Transfers, by the day made: from, to, service.
pub const TRANSFERS: &str = "flow:transfer";
/// Escalations, by the day made: department, service, team (as the request is now).
pub const ESCALATIONS: &str = "flow:escalation";
/// Residents following a request, by the day they asked: department, service.
pub const FOLLOWS: &str = "flow:follow";
/// Requests by the hour of the week they came in (0 is Monday 00:00–01:00, local), by
/// requested day: channel, hour. Kept for every department at once and, under
/// [`of_department`], for each: the two cubes large cities fill most, read whole.
pub const HOUR_OF_WEEK: &str = "demand:hour";
/// Requests by the grid square they lie in, by requested day: square. Kept like
/// [`HOUR_OF_WEEK`], for every department at once and for each.
pub const GRID: &str = "place:grid";
/// A grid square's side in degrees of latitude (about 550 m); longitude squares are
/// the same number of degrees.
pub const GRID_DEGREES: f64 = 0.005;
/// Requests filed at a place (see [`place_of`]) within this many days after another
/// request there was resolved, by requested day: department, service, place.
pub const REPEATS: &str = "place:repeat";
/// How soon after a resolution a report of the same place counts as a repeat.
pub const REPEAT_WITHIN_DAYS: i64 = 30;
/// The side of the square a request without an asset is placed in, in degrees (about
/// 33 m of latitude): reports of one pothole land in one square or the next.
const PLACE_DEGREES: f64 = 0.0003;

/// How long a stretch a cell covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Day = 0,
    Week = 1,
    Month = 2,
    All = 3,
}

impl Grain {
    pub const ALL: [Grain; 4] = [Grain::Day, Grain::Week, Grain::Month, Grain::All];

    /// The stored number.
    pub fn code(self) -> i64 {
        self as i64
    }

    /// The first day of the stretch of this grain holding `day` (`i32::MIN` for all time).
    pub fn start(self, day: i32) -> i32 {
        let date = date_of(day);
        match self {
            Grain::Day => day,
            Grain::Week => day - i32::from(date.weekday().to_monday_zero_offset()),
            Grain::Month => day_number(date.first_of_month()),
            Grain::All => i32::MIN,
        }
    }

    /// The day after the stretch starting on `start`.
    pub fn end(self, start: i32) -> i32 {
        match self {
            Grain::Day => start + 1,
            Grain::Week => start + 7,
            Grain::Month => {
                let d = date_of(start);
                day_number(d.last_of_month()) + 1
            }
            Grain::All => i32::MAX,
        }
    }
}

fn epoch() -> Date {
    Date::constant(1970, 1, 1)
}

/// A local date as a day number (days since 1970-01-01).
pub fn day_number(d: Date) -> i32 {
    d.since(epoch()).map_or(0, |s: Span| s.get_days())
}

/// The local date of a day number.
pub fn date_of(day: i32) -> Date {
    epoch().checked_add(Span::new().days(i64::from(day))).unwrap_or(epoch())
}

/// The local day number of an instant in `tz`.
pub fn day_of(t: Timestamp, tz: &TimeZone) -> i32 {
    day_number(t.to_zoned(tz.clone()).date())
}

/// Splits the days `[from, to]` into as few whole months, weeks and days as cover them.
pub fn pieces(from: i32, to: i32) -> Vec<(Grain, i32)> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        let grain = [Grain::Month, Grain::Week]
            .into_iter()
            .find(|g| g.start(d) == d && g.end(d) - 1 <= to)
            .unwrap_or(Grain::Day);
        out.push((grain, d));
        d = grain.end(d);
    }
    out
}

/// A time to close when a request closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closed {
    pub day: i32,
    pub hours: f64,
    /// On the request's SLA calendar; `None` without an SLA.
    pub business: Option<f64>,
    /// Met its SLA; `None` without one.
    pub met: Option<bool>,
    pub rating: Option<u8>,
}

/// What one request adds to the cells: its dimensions as it is now, and the local days
/// its facts fall on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub request: i64,
    pub service: String,
    pub department: String,
    pub team: Option<String>,
    pub channel: String,
    pub priority: String,
    /// The feature of each of the city's layers the request lies in.
    pub areas: Vec<(String, Option<String>)>,
    /// The day it was requested (it entered the open work).
    pub requested: i32,
    pub duplicate: bool,
    pub transferred: bool,
    pub reopened: bool,
    pub closed: Option<Closed>,
    /// The day it left the open work: closed, or merged as a duplicate.
    pub left: Option<i32>,
    /// The day its resolution fell due.
    pub due: Option<i32>,
    /// The day it was both due and gone (the later of the two).
    pub due_out: Option<i32>,
    /// What it adds to the flow cubes.
    #[serde(default)]
    pub tallies: Vec<Tally>,
}

/// One count (with a time, when it has one) filed under a flow cube on a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub cube: String,
    pub dims: String,
    pub day: i32,
    pub hours: Option<f64>,
}

/// The name of `cube`'s copy for one department (`place:grid@PW`).
pub fn of_department(cube: &str, department: &str) -> String {
    format!("{cube}@{department}")
}

/// The grid square holding a point: `row:column`, numbered from latitude and longitude 0.
pub fn grid_square(lat: f64, lon: f64) -> String {
    format!("{}:{}", (lat / GRID_DEGREES).floor() as i64, (lon / GRID_DEGREES).floor() as i64)
}

/// The south-west corner of a grid square from [`grid_square`]'s text.
pub fn grid_corner(square: &str) -> Option<(f64, f64)> {
    let (row, column) = square.split_once(':')?;
    Some((row.parse::<f64>().ok()? * GRID_DEGREES, column.parse::<f64>().ok()? * GRID_DEGREES))
}

/// Where a request is, to tell the same problem reported again: its service and the
/// asset it names, else its service and a square of about 33 m; `None` without either.
pub fn place_of(r: &ServiceRequest) -> Option<String> {
    let asset = r.answers.get(crate::service::AssetUse::FIELD).and_then(|v| v.first()).filter(|a| !a.is_empty());
    let place = match (asset, r.location.point) {
        (Some(a), _) => format!("asset:{a}"),
        (None, Some(p)) => {
            format!("at:{}:{}", (p.lat / PLACE_DEGREES).floor() as i64, (p.lon / PLACE_DEGREES).floor() as i64)
        }
        (None, None) => return None,
    };
    Some(format!("{}{SEP}{place}", r.service_code))
}

/// The middle of a place from [`place_of`], as latitude and longitude, when it is a
/// square (an asset's place is its id).
pub fn place_centre(place: &str) -> Option<(f64, f64)> {
    let (row, column) = place.strip_prefix("at:")?.split_once(':')?;
    let middle = |i: &str| i.parse::<f64>().ok().map(|i| (i + 0.5) * PLACE_DEGREES);
    Some((middle(row)?, middle(column)?))
}

/// A key of dimension values.
pub fn key(parts: &[&str]) -> String {
    parts.join(&SEP.to_string())
}

impl Contribution {
    /// What `r`, with facts `f` and flow `flow`, adds: days in `tz`, business hours on
    /// `calendar`, features of every layer in `layers`; `last_resolved_here` is when
    /// another request of its place (see [`place_of`]) was last resolved before it was
    /// filed.
    pub fn of(
        r: &ServiceRequest,
        f: &Facts,
        flow: &Flow,
        last_resolved_here: Option<Timestamp>,
        calendar: Option<&BusinessCalendar>,
        tz: &TimeZone,
        layers: &[String],
    ) -> Contribution {
        let day = |t: Timestamp| day_of(t, tz);
        let end = f.closed_at.or(f.duplicate_at);
        Contribution {
            request: r.id.seq,
            service: r.service_code.clone(),
            department: r.assignment.department.clone(),
            team: r.assignment.team.clone(),
            channel: r.channel.as_str().to_owned(),
            priority: r.assignment.priority.as_str().to_owned(),
            areas: layers.iter().map(|l| (l.clone(), r.areas.get(l).cloned())).collect(),
            requested: day(f.requested_at),
            duplicate: f.duplicate,
            transferred: f.transferred,
            reopened: f.reopened,
            closed: f.closed_at.map(|c| Closed {
                day: day(c),
                hours: f.hours_to_close().unwrap_or(0.0),
                business: calendar.and_then(|cal| f.business_hours_to_close(cal)),
                met: f.met(),
                rating: f.rating,
            }),
            left: end.map(day),
            due: f.due.map(day),
            due_out: match (f.due, end) {
                (Some(d), Some(e)) => Some(day(d.max(e))),
                _ => None,
            },
            tallies: tallies(r, f, flow, last_resolved_here, tz),
        }
    }

    /// The cube names and keys this contribution is filed under.
    pub fn keys(&self) -> Vec<(String, String)> {
        let team = self.team.as_deref().unwrap_or("");
        let mut out = vec![(
            BASE.to_owned(),
            [self.service.as_str(), &self.department, team, &self.channel, &self.priority].join(&SEP.to_string()),
        )];
        for (layer, feature) in &self.areas {
            let key = [self.service.as_str(), &self.department, team, feature.as_deref().unwrap_or("")]
                .join(&SEP.to_string());
            out.push((format!("layer:{layer}"), key));
        }
        out
    }

    /// What it adds to each day, before cubes and grains.
    fn days(&self) -> Vec<(i32, Cell)> {
        let mut out: Vec<(i32, Cell)> = Vec::new();
        let mut at = |day: i32, change: &dyn Fn(&mut Cell)| match out.iter_mut().find(|(d, _)| *d == day) {
            Some((_, c)) => change(c),
            None => {
                let mut c = Cell::default();
                change(&mut c);
                out.push((day, c));
            }
        };
        at(self.requested, &|c| {
            c.opened += 1;
            c.duplicates += i64::from(self.duplicate);
            c.transfers += i64::from(self.transferred);
            c.reopened += i64::from(self.reopened);
        });
        if let Some(closed) = &self.closed {
            at(closed.day, &|c| {
                c.closed += 1;
                c.hours.insert(closed.hours, 1);
                c.hours_sum += closed.hours;
                if let Some(b) = closed.business {
                    c.business.insert(b, 1);
                    c.business_sum += b;
                }
                match closed.met {
                    Some(true) => c.met += 1,
                    Some(false) => c.missed += 1,
                    None => {}
                }
                if let Some(score) = closed.rating {
                    c.rating_count += 1;
                    c.rating_sum += i64::from(score);
                }
            });
        }
        if let Some(day) = self.left {
            at(day, &|c| c.left += 1);
        }
        if let Some(day) = self.due {
            at(day, &|c| c.due_in += 1);
        }
        if let Some(day) = self.due_out {
            at(day, &|c| c.due_out += 1);
        }
        out
    }

    /// Adds this contribution, times `sign` (1 to add, −1 to take away), to `cells`.
    pub fn apply(&self, sign: i64, cells: &mut Cells) {
        let keys = self.keys();
        for (day, piece) in self.days() {
            for grain in Grain::ALL {
                for (cube, dims) in &keys {
                    let key = CellKey { cube: cube.clone(), grain, start: grain.start(day), dims: dims.clone() };
                    cells.entry(key).or_default().add(&piece, sign);
                }
            }
        }
        for t in &self.tallies {
            let mut piece = Cell { opened: 1, ..Cell::default() };
            if let Some(h) = t.hours {
                piece.closed = 1;
                piece.hours.insert(h, 1);
                piece.hours_sum = h;
            }
            for grain in Grain::ALL {
                let key = CellKey { cube: t.cube.clone(), grain, start: grain.start(t.day), dims: t.dims.clone() };
                cells.entry(key).or_default().add(&piece, sign);
            }
        }
    }
}

/// What a request adds to the flow cubes (see [`STATUS_TIME`] and those after it).
fn tallies(r: &ServiceRequest, f: &Facts, flow: &Flow, last: Option<Timestamp>, tz: &TimeZone) -> Vec<Tally> {
    let day = |t: Timestamp| day_of(t, tz);
    let (department, service) = (r.assignment.department.as_str(), r.service_code.as_str());
    let mut out = Vec::new();
    let mut tally = |cube: &str, dims: String, day: i32, hours: Option<f64>| {
        out.push(Tally { cube: cube.to_owned(), dims, day, hours });
    };
    if let Some(closed) = f.closed_at.map(day) {
        for (status, h) in &flow.statuses {
            tally(STATUS_TIME, key(&[department, service, status.as_str()]), closed, Some(*h));
        }
        for (held_by, h) in &flow.departments {
            tally(DEPARTMENT_TIME, key(&[held_by, service]), closed, Some(*h));
        }
    }
    for (from, to, at) in &flow.transfers {
        tally(TRANSFERS, key(&[from, to, service]), day(*at), None);
    }
    let team = r.assignment.team.as_deref().unwrap_or("");
    for at in &flow.escalations {
        tally(ESCALATIONS, key(&[department, service, team]), day(*at), None);
    }
    for at in &flow.follows {
        tally(FOLLOWS, key(&[department, service]), day(*at), None);
    }
    let local = f.requested_at.to_zoned(tz.clone());
    let hour = i32::from(local.weekday().to_monday_zero_offset()) * 24 + i32::from(local.hour());
    let requested = day(f.requested_at);
    let when = key(&[r.channel.as_str(), &hour.to_string()]);
    tally(&of_department(HOUR_OF_WEEK, department), when.clone(), requested, None);
    tally(HOUR_OF_WEEK, when, requested, None);
    if let Some(p) = r.location.point {
        let square = grid_square(p.lat, p.lon);
        tally(&of_department(GRID, department), square.clone(), requested, None);
        tally(GRID, square, requested, None);
    }
    let window = jiff::SignedDuration::from_hours(24 * REPEAT_WITHIN_DAYS);
    if let (Some(place), Some(resolved)) = (place_of(r), last)
        && f.requested_at.duration_since(resolved) <= window
    {
        tally(REPEATS, format!("{department}{SEP}{place}"), requested, None);
    }
    out
}

/// Cells being added up, by where each is stored. Hashed rather than ordered: a drain
/// adds every request's pieces to tens of thousands of cells whose keys share long
/// prefixes, and comparing them was a fifth of building the rollups from scratch.
pub type Cells = HashMap<CellKey, Cell>;

/// Where a cell is stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    pub cube: String,
    pub grain: Grain,
    pub start: i32,
    pub dims: String,
}

/// The sums of one cell (or of many, added up for a report row).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    pub opened: i64,
    pub duplicates: i64,
    pub transfers: i64,
    pub reopened: i64,
    pub closed: i64,
    pub met: i64,
    pub missed: i64,
    pub rating_count: i64,
    pub rating_sum: i64,
    /// Requests that left the open work (closed or merged).
    pub left: i64,
    /// Requests whose resolution fell due.
    pub due_in: i64,
    /// Requests both due and gone.
    pub due_out: i64,
    pub hours_sum: f64,
    pub business_sum: f64,
    pub hours: Sketch,
    pub business: Sketch,
}

impl Cell {
    /// Adds `other` times `sign`.
    pub fn add(&mut self, other: &Cell, sign: i64) {
        self.add_counts(other, sign);
        self.hours.merge(&other.hours, sign);
        self.business.merge(&other.business, sign);
    }

    /// Clears what adding and taking away floats leaves behind once a sketch is empty;
    /// for a stored cell (a difference may hold a sum without a count).
    pub fn settle(&mut self) {
        if self.hours.count == 0 {
            self.hours_sum = 0.0;
        }
        if self.business.count == 0 {
            self.business_sum = 0.0;
        }
    }

    fn add_counts(&mut self, other: &Cell, sign: i64) {
        self.opened += sign * other.opened;
        self.duplicates += sign * other.duplicates;
        self.transfers += sign * other.transfers;
        self.reopened += sign * other.reopened;
        self.closed += sign * other.closed;
        self.met += sign * other.met;
        self.missed += sign * other.missed;
        self.rating_count += sign * other.rating_count;
        self.rating_sum += sign * other.rating_sum;
        self.left += sign * other.left;
        self.due_in += sign * other.due_in;
        self.due_out += sign * other.due_out;
        self.hours_sum += sign as f64 * other.hours_sum;
        self.business_sum += sign as f64 * other.business_sum;
    }

    /// The counts, in the order the stored text has them.
    fn counts(&self) -> [i64; 12] {
        [
            self.opened,
            self.duplicates,
            self.transfers,
            self.reopened,
            self.closed,
            self.met,
            self.missed,
            self.rating_count,
            self.rating_sum,
            self.left,
            self.due_in,
            self.due_out,
        ]
    }

    /// True when it counts nothing and changes nothing (then it need not be stored).
    pub fn is_empty(&self) -> bool {
        self.counts().iter().all(|n| *n == 0)
            && self.hours_sum == 0.0
            && self.business_sum == 0.0
            && self.hours.is_empty()
            && self.business.is_empty()
    }

    /// The stored text: the counts, the two sums, then the two sketches.
    pub fn encode(&self) -> String {
        let counts = self.counts().map(|n| n.to_string()).join(",");
        format!("{counts},{},{};{};{}", self.hours_sum, self.business_sum, self.hours.encode(), self.business.encode())
    }

    /// A cell from [`Cell::encode`]'s text; `None` when it is not one.
    pub fn decode(text: &str) -> Option<Cell> {
        let mut parts = text.split(';');
        let numbers: Vec<&str> = parts.next()?.split(',').collect();
        if numbers.len() != 14 {
            return None;
        }
        let n = |i: usize| numbers[i].parse::<i64>().ok();
        let x = |i: usize| numbers[i].parse::<f64>().ok();
        Some(Cell {
            opened: n(0)?,
            duplicates: n(1)?,
            transfers: n(2)?,
            reopened: n(3)?,
            closed: n(4)?,
            met: n(5)?,
            missed: n(6)?,
            rating_count: n(7)?,
            rating_sum: n(8)?,
            left: n(9)?,
            due_in: n(10)?,
            due_out: n(11)?,
            hours_sum: x(12)?,
            business_sum: x(13)?,
            hours: Sketch::decode(parts.next()?)?,
            business: Sketch::decode(parts.next()?)?,
        })
    }
}

/// A distribution of times (hours): counts in logarithmic buckets, and the exact values
/// while there are few enough to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    pub count: i64,
    pub buckets: BTreeMap<i32, i64>,
    /// Every value, while known; `None` once there were too many to keep.
    pub values: Option<Vec<f64>>,
    /// Values taken away that this sketch did not hold: a difference to apply to a
    /// stored sketch, which holds them. Always empty in a stored sketch.
    pub minus: Vec<f64>,
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch { count: 0, buckets: BTreeMap::new(), values: Some(Vec::new()), minus: Vec::new() }
    }
}

fn bucket(x: f64) -> i32 {
    if x < SMALLEST { ZERO_BUCKET } else { (x.ln() / GAMMA.ln()).ceil() as i32 }
}

/// The value a bucket stands for.
fn representative(i: i32) -> f64 {
    if i == ZERO_BUCKET { 0.0 } else { 2.0 * GAMMA.powi(i) / (GAMMA + 1.0) }
}

/// The value each of a report's dense buckets stands for, worked out once.
fn dense_values() -> &'static [f64] {
    static VALUES: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    VALUES.get_or_init(|| (0..DENSE_LEN).map(|k| representative(DENSE_FROM + k as i32)).collect())
}

impl Sketch {
    /// True when it holds no value and owes none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
            && self.buckets.is_empty()
            && self.minus.is_empty()
            && self.values.as_ref().is_none_or(Vec::is_empty)
    }

    /// Adds (`sign` 1) or removes (−1) one value.
    pub fn insert(&mut self, x: f64, sign: i64) {
        let x = x.max(0.0);
        self.count += sign;
        let b = self.buckets.entry(bucket(x)).or_default();
        *b += sign;
        if *b == 0 {
            self.buckets.remove(&bucket(x));
        }
        if sign > 0 {
            self.change_values(&[x], &[], EXACT_UP_TO);
        } else {
            self.change_values(&[], &[x], EXACT_UP_TO);
        }
    }

    /// Adds the values `plus` and takes away `minus`, keeping at most `keep`.
    fn change_values(&mut self, plus: &[f64], minus: &[f64], keep: usize) {
        let Some(values) = &mut self.values else { return };
        let same = |a: &f64, b: &f64| a.to_bits() == b.to_bits();
        for x in plus {
            match self.minus.iter().position(|m| same(m, x)) {
                Some(i) => {
                    self.minus.swap_remove(i);
                }
                None => values.push(*x),
            }
        }
        for x in minus {
            match values.iter().position(|v| same(v, x)) {
                Some(i) => {
                    values.swap_remove(i);
                }
                None => self.minus.push(*x),
            }
        }
        if values.len() > keep {
            self.values = None;
            self.minus.clear();
        }
    }

    /// Adds `other` times `sign` (a stored cell: exact values kept while few).
    pub fn merge(&mut self, other: &Sketch, sign: i64) {
        self.combine(other, sign, EXACT_UP_TO);
    }

    fn combine(&mut self, other: &Sketch, sign: i64, keep: usize) {
        if other.count == 0 && other.buckets.is_empty() {
            return;
        }
        self.count += sign * other.count;
        for (i, n) in &other.buckets {
            let b = self.buckets.entry(*i).or_default();
            *b += sign * n;
            if *b == 0 {
                self.buckets.remove(i);
            }
        }
        match &other.values {
            Some(xs) if sign > 0 => self.change_values(xs, &other.minus, keep),
            Some(xs) => self.change_values(&other.minus, xs, keep),
            None => {
                self.values = None;
                self.minus.clear();
            }
        }
    }

    fn encode(&self) -> String {
        let buckets: Vec<String> = self.buckets.iter().map(|(i, c)| format!("{i}:{c}")).collect();
        let values = match &self.values {
            // A stored sketch owes no values; one that does is no longer exact.
            Some(v) if self.minus.is_empty() => v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(" "),
            _ => "-".to_owned(),
        };
        format!("{}/{}/{}", self.count, buckets.join(" "), values)
    }

    fn decode(text: &str) -> Option<Sketch> {
        let mut parts = text.splitn(3, '/');
        let count = parts.next()?.parse().ok()?;
        let mut buckets = BTreeMap::new();
        for pair in parts.next()?.split(' ').filter(|p| !p.is_empty()) {
            let (i, c) = pair.split_once(':')?;
            buckets.insert(i.parse().ok()?, c.parse().ok()?);
        }
        let values = match parts.next()? {
            "-" => None,
            v => Some(v.split(' ').filter(|x| !x.is_empty()).map(str::parse).collect::<Result<Vec<f64>, _>>().ok()?),
        };
        Some(Sketch { count, buckets, values, minus: Vec::new() })
    }
}

/// Values a report row keeps to answer exactly; beyond, it answers from the buckets.
const EXACT_IN_A_ROW: usize = 10_000;
/// The bucket indexes a report adds up: from the smallest a time over a second has…
const DENSE_FROM: i32 = -823;
/// …for this many (about 10^13 hours: anything later falls in the last).
const DENSE_LEN: usize = 3_824;

/// Sketches added up for a report row: bucket counts in a dense array, and the exact
/// values while every part had them and there are few enough.
#[derive(Debug, Clone, PartialEq)]
pub struct Gather {
    count: i64,
    zero: i64,
    /// Counts of the buckets from index `base` on, as far as any was seen.
    base: i32,
    dense: Vec<i64>,
    values: Option<Vec<f64>>,
}

impl Default for Gather {
    fn default() -> Self {
        Gather { count: 0, zero: 0, base: 0, dense: Vec::new(), values: Some(Vec::new()) }
    }
}

impl Gather {
    /// Adds `n` to bucket `i`, widening the counted stretch as needed.
    fn bump(&mut self, i: i32, n: i64) {
        if i == ZERO_BUCKET {
            self.zero += n;
            return;
        }
        let i = i.clamp(DENSE_FROM, DENSE_FROM + DENSE_LEN as i32 - 1);
        if self.dense.is_empty() {
            self.base = i;
        }
        if i < self.base {
            let mut wider = vec![0; usize::try_from(self.base - i).unwrap_or(0)];
            wider.extend_from_slice(&self.dense);
            self.dense = wider;
            self.base = i;
        }
        let k = usize::try_from(i - self.base).unwrap_or(0);
        if k >= self.dense.len() {
            self.dense.resize(k + 1, 0);
        }
        self.dense[k] += n;
    }

    /// Adds a stored sketch.
    pub fn add(&mut self, s: &Sketch) {
        if s.count == 0 && s.buckets.is_empty() {
            return;
        }
        self.count += s.count;
        for (i, n) in &s.buckets {
            self.bump(*i, *n);
        }
        match (&mut self.values, &s.values) {
            (Some(v), Some(x)) if s.minus.is_empty() && v.len() + x.len() <= EXACT_IN_A_ROW => v.extend_from_slice(x),
            _ => self.values = None,
        }
    }

    /// Adds a stored sketch from its text (as [`Sketch`] encodes it), without building
    /// it; `None` when the text is not one.
    fn add_text(&mut self, text: &str) -> Option<()> {
        let mut parts = text.splitn(3, '/');
        let count: i64 = parts.next()?.parse().ok()?;
        let buckets = parts.next()?;
        let values = parts.next()?;
        if count == 0 && buckets.is_empty() {
            return Some(());
        }
        self.count += count;
        for pair in buckets.split(' ').filter(|p| !p.is_empty()) {
            let (i, c) = pair.split_once(':')?;
            self.bump(i.parse().ok()?, c.parse().ok()?);
        }
        match (&mut self.values, values) {
            (Some(_), "-") | (None, _) => self.values = None,
            (Some(v), xs) => {
                for x in xs.split(' ').filter(|x| !x.is_empty()) {
                    v.push(x.parse().ok()?);
                }
                if v.len() > EXACT_IN_A_ROW {
                    self.values = None;
                }
            }
        }
        Some(())
    }

    /// Adds another row's.
    pub fn merge(&mut self, other: &Gather) {
        if other.count == 0 && other.dense.is_empty() && other.zero == 0 {
            return;
        }
        self.count += other.count;
        self.zero += other.zero;
        for (k, c) in other.dense.iter().enumerate().filter(|(_, c)| **c != 0) {
            self.bump(other.base + k as i32, *c);
        }
        match (&mut self.values, &other.values) {
            (Some(v), Some(x)) if v.len() + x.len() <= EXACT_IN_A_ROW => v.extend_from_slice(x),
            _ => self.values = None,
        }
    }

    /// Median, p90 and mean (from `sum`): exact while the values are all known, else
    /// each within 0.5%.
    pub fn spread(&self, sum: f64) -> Option<Spread> {
        if self.count <= 0 {
            return None;
        }
        if let Some(values) = &self.values
            && values.len() as i64 == self.count
        {
            return Spread::of(values.clone());
        }
        let n = self.count as u64;
        let at = |rank: u64| -> f64 {
            let mut seen = self.zero.max(0) as u64;
            if seen >= rank {
                return 0.0;
            }
            let mut last = 0.0;
            for (k, c) in self.dense.iter().enumerate() {
                if *c == 0 {
                    continue;
                }
                let i = self.base + k as i32;
                last = dense_values()[usize::try_from(i - DENSE_FROM).unwrap_or(0)];
                seen += (*c).max(0) as u64;
                if seen >= rank {
                    return last;
                }
            }
            last
        };
        let median = if n.is_multiple_of(2) { (at(n / 2) + at(n / 2 + 1)) / 2.0 } else { at(n / 2 + 1) };
        let p90 = at((n * 9).div_ceil(10).max(1));
        Some(Spread { median, p90, mean: sum / n as f64 })
    }
}

/// Cells added up for a report row: the counts and sums, and the two sketches gathered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// The counts and sums (its sketches stay empty).
    pub counts: Cell,
    pub hours: Gather,
    pub business: Gather,
}

impl Totals {
    /// Adds a stored cell.
    pub fn add(&mut self, c: &Cell) {
        self.counts.add_counts(c, 1);
        self.hours.add(&c.hours);
        self.business.add(&c.business);
    }

    /// Adds a stored cell from its text (as [`Cell::encode`] writes it): its counts, and
    /// its sketches only when `sketches` (the open work needs none). `None` when the
    /// text is not a cell.
    pub fn add_encoded(&mut self, text: &str, sketches: bool) -> Option<()> {
        let mut parts = text.splitn(3, ';');
        let mut numbers = parts.next()?.split(',');
        let mut n = || -> Option<i64> { numbers.next()?.parse().ok() };
        let c = &mut self.counts;
        for field in [
            &mut c.opened,
            &mut c.duplicates,
            &mut c.transfers,
            &mut c.reopened,
            &mut c.closed,
            &mut c.met,
            &mut c.missed,
            &mut c.rating_count,
            &mut c.rating_sum,
            &mut c.left,
            &mut c.due_in,
            &mut c.due_out,
        ] {
            *field += n()?;
        }
        let mut x = || -> Option<f64> { numbers.next()?.parse().ok() };
        c.hours_sum += x()?;
        c.business_sum += x()?;
        if sketches {
            self.hours.add_text(parts.next()?)?;
            self.business.add_text(parts.next()?)?;
        }
        Some(())
    }

    /// Adds another row's totals.
    pub fn merge(&mut self, other: &Totals) {
        self.counts.add_counts(&other.counts, 1);
        self.hours.merge(&other.hours);
        self.business.merge(&other.business);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_split_into_whole_months_weeks_and_days() {
        let d = |s: &str| day_number(s.parse::<Date>().unwrap());
        // Friday 27 Feb to Tuesday 14 April 2026.
        let got = pieces(d("2026-02-27"), d("2026-04-14"));
        let named: Vec<String> = got.iter().map(|(g, s)| format!("{g:?} {}", date_of(*s))).collect();
        let want = [
            "Day 2026-02-27",
            "Day 2026-02-28",
            "Month 2026-03-01",
            "Day 2026-04-01",
            "Day 2026-04-02",
            "Day 2026-04-03",
            "Day 2026-04-04",
            "Day 2026-04-05",
            "Week 2026-04-06",
            "Day 2026-04-13",
            "Day 2026-04-14",
        ];
        assert_eq!(named, want);
        assert_eq!(Grain::Week.start(d("2026-03-08")), d("2026-03-02"), "a Sunday is in Monday's week");
    }

    fn spread(s: &Sketch, sum: f64) -> Option<Spread> {
        let mut g = Gather::default();
        g.add(s);
        g.spread(sum)
    }

    #[test]
    fn sketches_are_exact_while_small_and_within_half_a_percent_after() {
        let mut s = Sketch::default();
        for x in [1.0, 2.0, 3.0, 4.0] {
            s.insert(x, 1);
        }
        assert_eq!(spread(&s, 10.0), Some(Spread { median: 2.5, p90: 4.0, mean: 2.5 }));
        s.insert(3.0, -1);
        assert_eq!(spread(&s, 7.0).unwrap().median, 2.0);
        // A difference made on its own (taking 2 away, adding 5) applies exactly.
        let mut change = Sketch::default();
        change.insert(2.0, -1);
        change.insert(5.0, 1);
        s.merge(&change, 1);
        assert_eq!(spread(&s, 10.0), Some(Spread { median: 4.0, p90: 5.0, mean: 10.0 / 3.0 }));
        let mut big = Sketch::default();
        let xs: Vec<f64> = (1..=1000).map(|i| f64::from(i) * 0.37).collect();
        for x in &xs {
            big.insert(*x, 1);
        }
        assert!(big.values.is_none(), "too many to keep");
        let exact = Spread::of(xs.clone()).unwrap();
        let got = spread(&big, xs.iter().sum()).unwrap();
        for (a, b) in [(got.median, exact.median), (got.p90, exact.p90)] {
            assert!((a - b).abs() / b < 0.005, "{a} vs {b}");
        }
        let back = Sketch::decode(&big.encode()).unwrap();
        assert_eq!(back, big);
        // Read straight from the text, a report gets the same.
        let mut cell = Cell { closed: 1000, hours_sum: xs.iter().sum(), ..Cell::default() };
        cell.hours = big.clone();
        let mut read = Totals::default();
        read.add_encoded(&cell.encode(), true).unwrap();
        let mut built = Totals::default();
        built.add(&cell);
        assert_eq!(read, built);
    }

    #[test]
    fn a_cell_survives_its_text_and_empties_when_taken_away() {
        let mut c = Cell { opened: 2, closed: 1, met: 1, hours_sum: 1.5, ..Cell::default() };
        c.hours.insert(1.5, 1);
        let back = Cell::decode(&c.encode()).unwrap();
        assert_eq!(back, c);
        let mut zero = c.clone();
        zero.add(&c, -1);
        assert!(zero.is_empty());
        // Moving a time to close within a cell is a change, though it counts nothing.
        let (mut was, mut now) = (Cell::default(), Cell::default());
        was.hours.insert(3.0, 1);
        now.hours.insert(48.0, 1);
        let mut change = now.clone();
        change.add(&was, -1);
        assert!(!change.is_empty());
        assert_eq!(Cell::decode("1,2"), None);
    }
}
