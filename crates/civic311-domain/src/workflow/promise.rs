//! What a service notice promises ("filled within 3 business days", "en 48 horas"),
//! checked against the SLA policy a request of that service gets: a notice that
//! promises other than the policy gives tells residents something untrue.

use jiff::SignedDuration;

use super::WorkflowModel;
use crate::calendar::BusinessCalendar;
use crate::service::Service;

/// An amount of time a notice names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promise {
    Hours(i64),
    /// Days as residents read them: working days on a business calendar.
    Days(i64),
    Weeks(i64),
}

impl Promise {
    /// The promise in business time on `calendar`: a day is one of its working days,
    /// a week five of them (seven on a calendar open round the clock).
    fn on(self, calendar: &BusinessCalendar) -> SignedDuration {
        let day = calendar.working_day();
        let week = if calendar.always_open() { 7 } else { 5 };
        let days = |n: i64| i32::try_from(n).ok().and_then(|n| day.checked_mul(n)).unwrap_or(SignedDuration::MAX);
        match self {
            Promise::Hours(n) => SignedDuration::from_hours(n.clamp(0, 1 << 40)),
            Promise::Days(n) => days(n),
            Promise::Weeks(n) => days(n.saturating_mul(week)),
        }
    }
}

impl std::fmt::Display for Promise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, unit) = match *self {
            Promise::Hours(n) => (n, "hour"),
            Promise::Days(n) => (n, "day"),
            Promise::Weeks(n) => (n, "week"),
        };
        write!(f, "{n} {unit}{}", if n == 1 { "" } else { "s" })
    }
}

/// Numbers written as words, in English and Spanish, up to ten. Articles ("a day",
/// "un día") are left out: "put it out a day before" promises nothing.
const NUMBER_WORDS: [(&str, i64); 19] = [
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("dos", 2),
    ("tres", 3),
    ("cuatro", 4),
    ("cinco", 5),
    ("seis", 6),
    ("siete", 7),
    ("ocho", 8),
    ("nueve", 9),
    ("diez", 10),
];

/// Words that may stand between a number and its unit ("3 business days").
const QUALIFIERS: [&str; 3] = ["business", "working", "calendar"];

/// The first amount of time `text` names with a number (`3 business days`, `48 horas`,
/// `two weeks`), in English or Spanish; `None` when it names none.
pub fn promised(text: &str) -> Option<Promise> {
    let words: Vec<String> =
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    for (i, word) in words.iter().enumerate() {
        let n = match word.parse::<i64>() {
            Ok(n) => n,
            Err(_) => match NUMBER_WORDS.iter().find(|(w, _)| w == word) {
                Some(&(_, n)) => n,
                None => continue,
            },
        };
        let unit = words[i + 1..].iter().find(|w| !QUALIFIERS.contains(&w.as_str()));
        let promise = match unit.map(String::as_str) {
            Some("hour" | "hours" | "hora" | "horas") => Promise::Hours(n),
            Some("day" | "days" | "día" | "días" | "dia" | "dias") => Promise::Days(n),
            Some("week" | "weeks" | "semana" | "semanas") => Promise::Weeks(n),
            _ => continue,
        };
        return Some(promise);
    }
    None
}

/// `d` in the words a notice would use on `calendar`: whole working days as days,
/// anything else in hours.
fn in_words(d: SignedDuration, calendar: &BusinessCalendar) -> String {
    let day = calendar.working_day().as_secs();
    let secs = d.as_secs();
    let business = if calendar.always_open() { "" } else { "business " };
    if day > 0 && secs % day == 0 && !(calendar.always_open() && secs < 2 * day) {
        let n = secs / day;
        format!("{n} {business}day{}", if n == 1 { "" } else { "s" })
    } else {
        let h = secs as f64 / 3600.0;
        format!("{} {business}hours", if h.fract() == 0.0 { format!("{h:.0}") } else { format!("{h:.1}") })
    }
}

/// Why a notice of `service` (in any language) promises other than the resolution
/// target of the SLA policy its requests get (at its default priority, with its own
/// department), if one does. A notice that names no time promises nothing to check.
pub fn notice_conflict(service: &Service, workflow: &WorkflowModel) -> Option<String> {
    let (policy, calendar) = workflow.policy_for(&service.code, &service.department, service.default_priority)?;
    let notices = std::iter::once((None, &service.service_notice))
        .chain(service.translations.iter().map(|(language, t)| (Some(language), &t.service_notice)));
    for (language, text) in notices {
        let Some(promise) = promised(text) else { continue };
        if promise.on(calendar) != policy.resolution {
            let which = language.map_or(String::new(), |l| format!(" ({l})"));
            return Some(format!(
                "the notice{which} promises {promise}, but requests of {} get SLA policy '{}', which gives {} \
                 ({} on calendar {}); change the notice or the policy so residents are told the truth",
                service.code,
                policy.config.name,
                in_words(policy.resolution, calendar),
                policy.config.resolution,
                calendar.name
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_their_time_in_either_language() {
        assert_eq!(promised("Most potholes are filled within 3 business days."), Some(Promise::Days(3)));
        assert_eq!(promised("La mayoría de los baches se rellenan en 3 días hábiles."), Some(Promise::Days(3)));
        assert_eq!(promised("Answered within 48 hours."), Some(Promise::Hours(48)));
        assert_eq!(promised("Se atienden en dos semanas."), Some(Promise::Weeks(2)));
        assert_eq!(promised("Usually within one week."), Some(Promise::Weeks(1)));
        assert_eq!(promised("Put them out a day before; collected within 4 business days."), Some(Promise::Days(4)));
        assert_eq!(promised("If water is entering a building, call 911."), None);
        assert_eq!(promised("Answered around the clock."), None);
        assert_eq!(Promise::Days(1).to_string(), "1 day");
        assert_eq!(Promise::Hours(48).to_string(), "48 hours");
    }
}
