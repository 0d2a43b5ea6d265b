//! The weekly report by email: on Monday from 07:00 (the city's time), each department
//! with an address gets last week's numbers (Monday to Sunday) against the week before,
//! with a link to the dashboard they come from. Queued in the outbox like every other
//! message, once per department and week however many app nodes look.

use std::collections::BTreeMap;

use civic311_domain::notify::Message;
use civic311_domain::report::Spread;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday};

use crate::reports::{Measures, ReportQuery, run};
use crate::{App, AppError};

/// The local hour on Monday from which last week's report goes out.
const FROM_HOUR: i8 = 7;
/// Fewer closed than this and a time or a compliance is not judged (as on the dashboards).
const TOO_FEW: u64 = crate::typical::ENOUGH as u64;

/// The Monday that starts the ISO week holding `d`.
fn monday(d: Date) -> Date {
    d.checked_sub(jiff::Span::new().days(i64::from(d.weekday().to_monday_zero_offset()))).unwrap_or(d)
}

fn days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// The ISO week of `d`, as `2026-W10`.
pub fn week_name(d: Date) -> String {
    let w = d.iso_week_date();
    format!("{}-W{:02}", w.year(), w.week())
}

fn hours(h: f64) -> String {
    if h < 48.0 { format!("{h:.1} h") } else { format!("{:.1} d", h / 24.0) }
}

fn median(m: &Measures) -> String {
    match m.hours_to_close {
        Some(Spread { median, .. }) if m.closed >= TOO_FEW => hours(median),
        _ => format!("too few closed to judge ({})", m.closed),
    }
}

fn compliance(m: &Measures) -> String {
    let judged = m.met + m.missed;
    match m.compliance() {
        Some(c) if judged >= TOO_FEW => format!("{:.0}% of {judged} closed within their SLA target", c * 100.0),
        _ => format!("too few to judge ({judged})"),
    }
}

/// The mail's text: each figure for last week, then the week before.
fn summary(name: &str, week: &str, (from, to): (Date, Date), now: &Measures, before: &Measures) -> String {
    let line = |label: &str, a: String, b: String| format!("{label}: {a} (the week before: {b})");
    [
        format!("{name}, week {week} ({} – {}):", from.strftime("%b %-d"), to.strftime("%b %-d, %Y")),
        String::new(),
        line("Requests opened", now.opened.to_string(), before.opened.to_string()),
        line("Requests closed", now.closed.to_string(), before.closed.to_string()),
        line("Median time to close", median(now), median(before)),
        line("SLA", compliance(now), compliance(before)),
        line(
            "Open at the end of the week",
            format!("{}, {} of them past due", now.open_at_end, now.open_past_due_at_end),
            format!("{}, {} past due", before.open_at_end, before.open_past_due_at_end),
        ),
    ]
    .join("\n")
}

/// The last whole week (Monday to Sunday) whose report is due at `now` in the city's
/// time: last week from Monday 07:00, the week before until then.
fn report_week(app: &App, now: Timestamp) -> (Date, Date) {
    let local = now.to_zoned(app.city().tz.clone());
    let early = local.weekday() == Weekday::Monday && local.hour() < FROM_HOUR;
    let start = days(monday(local.date()), if early { -14 } else { -7 });
    (start, days(start, 6))
}

/// The name of the week whose report is due at `now` (`2026-W10`).
pub fn due(app: &App, now: Timestamp) -> String {
    week_name(report_week(app, now).0)
}

/// Queues the report of the week due at `now` for every department with an address,
/// unless it was queued already (a node that was down on Monday sends it later in the
/// week); how many were queued by this call.
pub async fn send_due(app: &App, now: Timestamp) -> Result<usize, AppError> {
    let city = app.city();
    let last = report_week(app, now);
    let before = (days(last.0, -7), days(last.0, -1));
    let week = week_name(last.0);
    let mut queued = 0;
    for d in city.departments.iter().filter(|d| !d.email.trim().is_empty()) {
        let report = |(from, to): (Date, Date)| {
            let params = [("from", from.to_string()), ("to", to.to_string()), ("department", d.code.clone())];
            let params: Vec<(String, String)> = params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            ReportQuery::parse(&params, &city)
        };
        let now_report = run(app, report(last)?, None).await?;
        let before_report = run(app, report(before)?, None).await?;
        let dashboard = app.public_url.as_deref().map_or_else(
            || "(no link: the public address is not set)".to_owned(),
            |base| {
                format!(
                    "{base}/staff/reports?from={}&to={}&department={}",
                    last.0,
                    last.1,
                    civic311_domain::text::percent_encode(&d.code)
                )
            },
        );
        let vars: BTreeMap<String, String> = [
            ("department", d.name.clone()),
            ("week", week.clone()),
            ("summary", summary(&d.name, &week, last, &now_report.total, &before_report.total)),
            ("dashboard", dashboard),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let message = Message {
            channel: "email".into(),
            recipient: d.email.trim().to_owned(),
            kind: "weekly_report".into(),
            language: "en".into(),
            vars,
            not_before: None,
        };
        if app.store.queue_weekly_report(&week, &d.code, message, now).await? {
            queued += 1;
        }
    }
    Ok(queued)
}
