//! Business calendars: working windows per weekday in an IANA time zone, recurring and
//! one-off holidays, or 24×7. SLA clocks count only the time inside working windows.
//!
//! Windows are civil times (08:00–17:00 local); the business time inside one is the
//! real elapsed time between its start and end instants, so a window that spans a
//! daylight-saving change counts the hour that actually passed, no more.

use std::collections::BTreeMap;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::FieldError;

#[cfg(test)]
mod tests;

/// How far ahead a calculation looks for working time before giving up (ten years).
const MAX_DAYS: usize = 3_660;

/// A calendar as the city configures it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarConfig {
    pub name: String,
    pub time_zone: String,
    /// Open around the clock, every day (emergency work).
    #[serde(default)]
    pub always_open: bool,
    /// Working windows by weekday (`mon` … `sun`), each `"HH:MM-HH:MM"`.
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "holiday")]
    pub holidays: Vec<Holiday>,
}

/// A day with no working time. Exactly one of `date`, `annual` or `nth_weekday` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub name: String,
    /// A one-off date (`2026-02-03`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Date>,
    /// The same day every year, `MM-DD` (`12-25`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annual: Option<String>,
    /// The n-th weekday of a month every year (4th Thursday of November); `n = -1` is
    /// the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth_weekday: Option<NthWeekday>,
    /// For annual holidays: a Saturday holiday is observed on Friday, a Sunday one on Monday.
    #[serde(default)]
    pub observed: bool,
}

/// The n-th weekday of a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NthWeekday {
    pub month: i8,
    pub weekday: String,
    pub n: i8,
}

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

fn weekday(s: &str) -> Option<Weekday> {
    let s = s.trim().to_ascii_lowercase();
    DAYS.iter().find(|(n, _)| s.starts_with(n)).map(|(_, w)| *w)
}

/// A working window within one day, as civil times; `end` may be 24:00 (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    start: Time,
    /// `None` is midnight at the end of the day.
    end: Option<Time>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HolidayRule {
    Date(Date),
    Annual { month: i8, day: i8, observed: bool },
    Nth { month: i8, weekday: Weekday, n: i8 },
}

/// A calendar ready for arithmetic.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    pub name: String,
    tz: TimeZone,
    always_open: bool,
    /// Windows by weekday, Monday first, sorted and not overlapping.
    week: [Vec<Window>; 7],
    holidays: Vec<HolidayRule>,
}

fn parse_time(field: &str, s: &str) -> Result<Option<Time>, FieldError> {
    if s.trim() == "24:00" {
        return Ok(None);
    }
    s.trim().parse::<Time>().map(Some).map_err(|_| FieldError::new(field, format!("'{s}' is not a time like 08:30")))
}

impl BusinessCalendar {
    /// Checks and compiles a configured calendar.
    pub fn new(c: &CalendarConfig) -> Result<Self, FieldError> {
        let field = |f: &str| format!("calendar[{}].{f}", c.name);
        let tz = TimeZone::get(&c.time_zone)
            .map_err(|_| FieldError::new(field("time_zone"), format!("unknown time zone '{}'", c.time_zone)))?;
        let mut week: [Vec<Window>; 7] = Default::default();
        for (day, windows) in &c.hours {
            let wd = weekday(day).ok_or_else(|| {
                FieldError::new(field("hours"), format!("'{day}' is not a weekday (mon, tue, … sun)"))
            })?;
            let slot = &mut week[usize::from(wd.to_monday_zero_offset().unsigned_abs())];
            for w in windows {
                let (a, b) = w.split_once('-').ok_or_else(|| {
                    FieldError::new(field("hours"), format!("'{w}' is not a window like 08:00-17:00"))
                })?;
                let start = parse_time(&field("hours"), a)?
                    .ok_or_else(|| FieldError::new(field("hours"), format!("'{w}' starts at 24:00")))?;
                let end = parse_time(&field("hours"), b)?;
                if end.is_some_and(|e| e <= start) {
                    return Err(FieldError::new(field("hours"), format!("'{w}' ends before it starts")));
                }
                slot.push(Window { start, end });
            }
            slot.sort_by_key(|w| w.start);
            for pair in slot.windows(2) {
                if pair[0].end.is_none_or(|e| e > pair[1].start) {
                    return Err(FieldError::new(field("hours"), format!("windows on '{day}' overlap")));
                }
            }
        }
        if !c.always_open && week.iter().all(Vec::is_empty) {
            return Err(FieldError::new(field("hours"), "a calendar needs working hours or always_open = true"));
        }
        let mut holidays = Vec::new();
        for h in &c.holidays {
            let hf = field(&format!("holiday[{}]", h.name));
            let rule = match (&h.date, &h.annual, &h.nth_weekday) {
                (Some(d), None, None) => HolidayRule::Date(*d),
                (None, Some(md), None) => {
                    let bad = || FieldError::new(&hf, format!("annual '{md}' is not MM-DD"));
                    let (m, d) = md.split_once('-').ok_or_else(bad)?;
                    let (month, day) = (m.parse::<i8>().map_err(|_| bad())?, d.parse::<i8>().map_err(|_| bad())?);
                    Date::new(2024, month, day).map_err(|_| bad())?;
                    HolidayRule::Annual { month, day, observed: h.observed }
                }
                (None, None, Some(n)) => {
                    let wd = weekday(&n.weekday)
                        .ok_or_else(|| FieldError::new(&hf, format!("'{}' is not a weekday", n.weekday)))?;
                    if !(1..=12).contains(&n.month) || n.n == 0 || !(-5..=5).contains(&n.n) {
                        return Err(FieldError::new(&hf, "nth_weekday needs month 1-12 and n 1-5 or -1"));
                    }
                    HolidayRule::Nth { month: n.month, weekday: wd, n: n.n }
                }
                _ => return Err(FieldError::new(&hf, "give exactly one of date, annual or nth_weekday")),
            };
            holidays.push(rule);
        }
        Ok(Self { name: c.name.clone(), tz, always_open: c.always_open, week, holidays })
    }

    /// The calendar's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// True when `date` is a holiday of this calendar.
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.iter().any(|h| match *h {
            HolidayRule::Date(d) => d == date,
            HolidayRule::Annual { month, day, observed } => {
                let on = |d: Date| d.month() == month && d.day() == day;
                if on(date) {
                    return !observed || !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
                }
                observed
                    && match date.weekday() {
                        Weekday::Friday => date.tomorrow().is_ok_and(on),
                        Weekday::Monday => date.yesterday().is_ok_and(on),
                        _ => false,
                    }
            }
            HolidayRule::Nth { month, weekday, n } => {
                date.month() == month && date.nth_weekday_of_month(n, weekday).is_ok_and(|d| d == date)
            }
        })
    }

    /// The working intervals of one local date, as instants.
    fn intervals(&self, date: Date) -> Vec<(Timestamp, Timestamp)> {
        if self.is_holiday(date) {
            return Vec::new();
        }
        let day = &self.week[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())];
        day.iter()
            .filter_map(|w| {
                let start = date.to_datetime(w.start).to_zoned(self.tz.clone()).ok()?.timestamp();
                let end = match w.end {
                    Some(e) => date.to_datetime(e).to_zoned(self.tz.clone()).ok()?.timestamp(),
                    None => date.tomorrow().ok()?.to_zoned(self.tz.clone()).ok()?.timestamp(),
                };
                (end > start).then_some((start, end))
            })
            .collect()
    }

    fn local_date(&self, t: Timestamp) -> Date {
        t.to_zoned(self.tz.clone()).date()
    }

    /// The instant `amount` of business time after `start`. A zero amount from outside
    /// working hours is the start itself. `None` only if the calendar has no working
    /// time within ten years.
    pub fn add(&self, start: Timestamp, amount: SignedDuration) -> Option<Timestamp> {
        if self.always_open || amount <= SignedDuration::ZERO {
            return start.checked_add(amount.max(SignedDuration::ZERO)).ok();
        }
        let mut remaining = amount;
        let mut date = self.local_date(start);
        // The local date of `start` may begin before `start` (or a window of the
        // previous date may run past midnight — windows end at 24:00 at the latest).
        for _ in 0..MAX_DAYS {
            for (a, b) in self.intervals(date) {
                let from = a.max(start);
                if from >= b {
                    continue;
                }
                let avail = b.duration_since(from);
                if avail >= remaining {
                    return from.checked_add(remaining).ok();
                }
                remaining -= avail;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The business time between two instants (zero when `to` is not after `from`).
    pub fn between(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        if to <= from {
            return SignedDuration::ZERO;
        }
        if self.always_open {
            return to.duration_since(from);
        }
        let mut total = SignedDuration::ZERO;
        let mut date = self.local_date(from);
        let last = self.local_date(to);
        while date <= last {
            for (a, b) in self.intervals(date) {
                let (s, e) = (a.max(from), b.min(to));
                if e > s {
                    total += e.duration_since(s);
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        total
    }

    /// True when `t` falls inside a working window.
    pub fn is_working(&self, t: Timestamp) -> bool {
        self.always_open || self.intervals(self.local_date(t)).iter().any(|(a, b)| *a <= t && t < *b)
    }

    /// True for a calendar open round the clock (`24x7`).
    pub fn always_open(&self) -> bool {
        self.always_open
    }

    /// The length of a typical working day (the longest weekday), used to turn "1
    /// business day" into business time.
    pub fn working_day(&self) -> SignedDuration {
        if self.always_open {
            return SignedDuration::from_hours(24);
        }
        self.week
            .iter()
            .map(|ws| {
                ws.iter()
                    .map(|w| {
                        let end = w.end.map_or(24 * 3600, |e| i64::from(e.hour()) * 3600 + i64::from(e.minute()) * 60);
                        let start = i64::from(w.start.hour()) * 3600 + i64::from(w.start.minute()) * 60;
                        SignedDuration::from_secs(end - start)
                    })
                    .sum::<SignedDuration>()
            })
            .max()
            .unwrap_or(SignedDuration::ZERO)
    }
}

/// Parses an amount of business time: `4h`, `90m`, `2d` (working days of `calendar`),
/// or combinations (`1d 4h`).
pub fn parse_business_duration(
    field: &str,
    s: &str,
    calendar: &BusinessCalendar,
) -> Result<SignedDuration, FieldError> {
    let bad = || FieldError::new(field, format!("'{s}' is not a duration like 4h, 90m or 2d"));
    let mut total = SignedDuration::ZERO;
    let mut any = false;
    for part in s.split_whitespace() {
        let (num, unit) = part.split_at(part.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
        let n: i64 = num.parse().map_err(|_| bad())?;
        let piece = match unit {
            "m" | "min" => SignedDuration::from_mins(n),
            "h" => SignedDuration::from_hours(n),
            "d" => calendar.working_day().checked_mul(i32::try_from(n).map_err(|_| bad())?).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        total += piece;
        any = true;
    }
    if !any || total <= SignedDuration::ZERO {
        return Err(bad());
    }
    Ok(total)
}
