//! The requests report (`GET /api/v1/reports/requests`): the measures of
//! [`civic311_domain::report`] over a period of local dates, grouped by up to two
//! dimensions and filtered by the same ones. Computed exactly from the requests and
//! their histories (see docs/REPORTS.md for every definition and for its cost).

use std::collections::BTreeMap;

use civic311_domain::report::{Facts, Spread};
use civic311_domain::request::{EventKind, ServiceRequest};
use civic311_store::{RequestQuery, Sort};
use jiff::Timestamp;
use jiff::civil::Date;

use crate::{App, AppError, CityModel};

mod cells;
pub mod tally;

/// Longest period one report covers.
const MOST_DAYS: i32 = 3_660;
/// Most requests one report reads; beyond that a narrower period or filter is asked for.
pub const MOST_READ: usize = 500_000;
/// Requests read, and events asked for, at a time.
const PAGE: u32 = 1_000;

/// What a report may be grouped and filtered by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Service,
    Group,
    Department,
    Team,
    Channel,
    Priority,
    /// A boundary layer: the feature a request lies in.
    Layer(String),
    Day,
    Week,
    Month,
}

impl Dim {
    /// `service_code`, `layer:wards`, `month`…, as the API writes it.
    pub fn name(&self) -> String {
        match self {
            Dim::Service => "service_code".into(),
            Dim::Group => "group".into(),
            Dim::Department => "department".into(),
            Dim::Team => "team".into(),
            Dim::Channel => "channel".into(),
            Dim::Priority => "priority".into(),
            Dim::Layer(l) => format!("layer:{l}"),
            Dim::Day => "day".into(),
            Dim::Week => "week".into(),
            Dim::Month => "month".into(),
        }
    }

    /// The dimension `name` names in `city`, or why not.
    fn parse(name: &str, city: &CityModel) -> Result<Dim, AppError> {
        let dim = match name {
            "service_code" => Dim::Service,
            "group" => Dim::Group,
            "department" => Dim::Department,
            "team" => Dim::Team,
            "channel" => Dim::Channel,
            "priority" => Dim::Priority,
            "day" => Dim::Day,
            "week" => Dim::Week,
            "month" => Dim::Month,
            other => match other.strip_prefix("layer:") {
                Some(l) if city.boundaries.layers().iter().any(|x| x == l) => Dim::Layer(l.to_owned()),
                Some(l) => {
                    let known = city.boundaries.layers().iter().map(String::as_str);
                    return Err(AppError::invalid("group_by", civic311_domain::error::unknown("layer", l, known)));
                }
                None => {
                    return Err(AppError::invalid(
                        "group_by",
                        format!(
                            "'{other}' is not a dimension: one of service_code, group, department, team, channel, \
                             priority, layer:NAME, day, week, month"
                        ),
                    ));
                }
            },
        };
        Ok(dim)
    }

    fn is_time(&self) -> bool {
        matches!(self, Dim::Day | Dim::Week | Dim::Month)
    }

    /// The request's value of a dimension that is not a time.
    fn of(&self, r: &ServiceRequest, city: &CityModel) -> Option<String> {
        match self {
            Dim::Service => Some(r.service_code.clone()),
            Dim::Group => city.service(&r.service_code).map(|s| s.group.clone()),
            Dim::Department => Some(r.assignment.department.clone()),
            Dim::Team => r.assignment.team.clone(),
            Dim::Channel => Some(r.channel.as_str().to_owned()),
            Dim::Priority => Some(r.assignment.priority.as_str().to_owned()),
            Dim::Layer(l) => r.areas.get(l).cloned(),
            Dim::Day | Dim::Week | Dim::Month => None,
        }
    }
}

/// A report asked for.
#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub from: Date,
    pub to: Date,
    pub group_by: Vec<Dim>,
    /// Each filtered dimension with the values it may take.
    pub filters: Vec<(Dim, Vec<String>)>,
}

impl ReportQuery {
    /// Reads the query parameters (`from`, `to`, `group_by`, and a filter per
    /// dimension); `format` and anything unknown are left to the caller.
    pub fn parse(params: &[(String, String)], city: &CityModel) -> Result<ReportQuery, AppError> {
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
        let date = |k: &str| -> Result<Date, AppError> {
            let v = get(k).ok_or_else(|| AppError::invalid(k, "required: a date like 2026-11-01"))?;
            v.parse::<Date>().map_err(|_| AppError::invalid(k, format!("'{v}' is not a date like 2026-11-01")))
        };
        let (from, to) = (date("from")?, date("to")?);
        if to < from {
            return Err(AppError::invalid("to", "the period ends before it starts"));
        }
        if from.until(to).map_or(true, |span| span.get_days() >= MOST_DAYS) {
            return Err(AppError::invalid("to", format!("a report covers at most {MOST_DAYS} days")));
        }
        if period(from, to, city).is_err() {
            return Err(AppError::invalid("to", "the period is outside the dates a report can cover"));
        }
        let mut group_by = Vec::new();
        for name in get("group_by").unwrap_or("").split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let dim = Dim::parse(name, city)?;
            if group_by.contains(&dim) {
                return Err(AppError::invalid("group_by", format!("{name} is given twice")));
            }
            group_by.push(dim);
        }
        if group_by.len() > 2 {
            return Err(AppError::invalid("group_by", "at most two dimensions"));
        }
        if group_by.iter().filter(|d| d.is_time()).count() > 1 {
            return Err(AppError::invalid("group_by", "at most one of day, week and month"));
        }
        let mut filters = Vec::new();
        for (name, value) in params {
            if matches!(name.as_str(), "from" | "to" | "group_by" | "format") || value.trim().is_empty() {
                continue;
            }
            if name == "area" {
                for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let (layer, feature) = pair
                        .split_once(':')
                        .ok_or_else(|| AppError::invalid("area", format!("'{pair}' is not layer:feature")))?;
                    let dim = Dim::parse(&format!("layer:{layer}"), city).map_err(|_| {
                        let known = city.boundaries.layers().iter().map(String::as_str);
                        AppError::invalid("area", civic311_domain::error::unknown("layer", layer, known))
                    })?;
                    add_filter(&mut filters, dim, vec![feature.to_owned()]);
                }
                continue;
            }
            let dim = Dim::parse(name, city).map_err(|_| AppError::invalid(name, "not a filter of this report"))?;
            if dim.is_time() {
                return Err(AppError::invalid(name, "the period is set by from and to"));
            }
            add_filter(
                &mut filters,
                dim,
                value.split(',').map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect(),
            );
        }
        Ok(ReportQuery { from, to, group_by, filters })
    }
}

/// Adds `values` to the filter of `dim` (any of them may match), or starts one.
fn add_filter(filters: &mut Vec<(Dim, Vec<String>)>, dim: Dim, values: Vec<String>) {
    match filters.iter_mut().find(|(d, _)| *d == dim) {
        Some((_, had)) => had.extend(values),
        None => filters.push((dim, values)),
    }
}

/// Counts and times of one row (or of the whole report).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measures {
    pub opened: u64,
    pub closed: u64,
    pub open_at_end: u64,
    pub hours_to_close: Option<Spread>,
    pub business_hours_to_close: Option<Spread>,
    pub met: u64,
    pub missed: u64,
    pub open_past_due_at_end: u64,
    pub duplicates: u64,
    pub transfers: u64,
    pub reopened: u64,
    pub rating_count: u64,
    pub rating_mean: Option<f64>,
}

impl Measures {
    /// Met / (met + missed), when any closed with a due time.
    pub fn compliance(&self) -> Option<f64> {
        let judged = self.met + self.missed;
        (judged > 0).then(|| self.met as f64 / judged as f64)
    }
}

/// What a row adds up before its spreads are taken.
#[derive(Debug, Default)]
struct Acc {
    m: Measures,
    hours: Vec<f64>,
    business: Vec<f64>,
    rating_sum: u64,
}

impl Acc {
    fn finish(mut self) -> Measures {
        self.m.hours_to_close = Spread::of(self.hours);
        self.m.business_hours_to_close = Spread::of(self.business);
        self.m.rating_mean = (self.m.rating_count > 0).then(|| self.rating_sum as f64 / self.m.rating_count as f64);
        self.m
    }
}

/// A finished report: one row per key (the values of `group_by`, in its order), and
/// the whole.
#[derive(Debug)]
pub struct Report {
    pub query: ReportQuery,
    pub time_zone: String,
    pub rows: Vec<(Vec<Option<String>>, Measures)>,
    pub total: Measures,
}

/// One stretch of local time a time dimension keys by.
struct Bucket {
    key: String,
    start: Timestamp,
    end: Timestamp,
    /// Its first and last local day.
    days: (Date, Date),
}

/// Local midnight at the start of `day` in the city.
pub fn midnight(day: Date, city: &CityModel) -> Result<Timestamp, AppError> {
    day.to_zoned(city.tz.clone()).map(|z| z.timestamp()).map_err(bad)
}

fn bad(e: jiff::Error) -> AppError {
    AppError::Internal(format!("report period: {e}"))
}

/// Where the period from `from` to `to` (inclusive local dates) starts and ends.
fn period(from: Date, to: Date, city: &CityModel) -> Result<(Timestamp, Timestamp), AppError> {
    Ok((midnight(from, city)?, midnight(to.tomorrow().map_err(bad)?, city)?))
}

/// The buckets of `dim` over the period (the first and last clipped to it).
fn buckets(dim: &Dim, from: Date, to: Date, city: &CityModel) -> Result<Vec<Bucket>, AppError> {
    let (start, end) = period(from, to, city)?;
    let midnight = |d: Date| midnight(d, city);
    // The day after the period, which `ReportQuery::parse` checked exists.
    let after = to.tomorrow().map_err(bad)?;
    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        let (key, next) = match dim {
            Dim::Week => {
                let iso = day.iso_week_date();
                let into_week = jiff::Span::new().days(i64::from(day.weekday().to_monday_zero_offset()));
                let monday = day.checked_sub(into_week).unwrap_or(day);
                (format!("{}-W{:02}", iso.year(), iso.week()), monday.checked_add(jiff::Span::new().days(7)))
            }
            Dim::Month => {
                (day.strftime("%Y-%m").to_string(), day.first_of_month().checked_add(jiff::Span::new().months(1)))
            }
            _ => (day.to_string(), day.tomorrow()),
        };
        let next = next.map_or(after, |n| n.min(after));
        let b_start = midnight(day)?.max(start);
        let b_end = midnight(next)?.min(end);
        let last = next.yesterday().map_err(bad)?;
        out.push(Bucket { key, start: b_start, end: b_end, days: (day, last) });
        day = next;
    }
    Ok(out)
}

/// The stretches a report's rows are keyed by: the time dimension's buckets, or the
/// whole period.
fn spans(q: &ReportQuery, city: &CityModel) -> Result<Vec<Bucket>, AppError> {
    let (start, end) = period(q.from, q.to, city)?;
    Ok(match q.group_by.iter().find(|d| d.is_time()) {
        Some(d) => buckets(d, q.from, q.to, city)?,
        None => vec![Bucket { key: String::new(), start, end, days: (q.from, q.to) }],
    })
}

/// The report `q` over the requests of `departments` (`None`: every department). Read
/// from the rollups after adding what was written since the last drain; from the
/// requests themselves when the rollups cannot answer it (two boundary layers at once,
/// or a layer with channel or priority) or are still being built.
pub async fn run(app: &App, q: ReportQuery, departments: Option<Vec<String>>) -> Result<Report, AppError> {
    if crate::rollup::catch_up(app).await? > 0 {
        return exact(app, q, departments).await;
    }
    match from_rollups(app, q.clone(), departments.clone()).await? {
        Some(report) => Ok(report),
        None => exact(app, q, departments).await,
    }
}

/// The report `q` from the rollup cells as they stand (without draining first);
/// `None` when no one cube holds every dimension it needs.
pub async fn from_rollups(
    app: &App,
    q: ReportQuery,
    departments: Option<Vec<String>>,
) -> Result<Option<Report>, AppError> {
    match cells::cube_for(&q) {
        Some(cube) => Ok(Some(cells::run(app, q, departments, &cube).await?)),
        None => Ok(None),
    }
}

/// The report `q` computed from every request and its history: the definition the
/// rollups are held to.
pub async fn exact(app: &App, q: ReportQuery, departments: Option<Vec<String>>) -> Result<Report, AppError> {
    let city = app.city();
    let (start, end) = period(q.from, q.to, &city)?;
    let spans = spans(&q, &city)?;
    let bucket_of = |t: Timestamp| spans.iter().position(|b| b.start <= t && t < b.end);
    let mut rows: BTreeMap<Vec<Option<String>>, Acc> = BTreeMap::new();
    let mut total = Acc::default();
    let mut query = RequestQuery {
        requested_to: Some(end),
        departments: departments.unwrap_or_default(),
        sort: Sort::Oldest,
        limit: PAGE,
        ..RequestQuery::default()
    };
    for (dim, values) in &q.filters {
        match dim {
            Dim::Service => query.service_codes = values.clone(),
            Dim::Team => query.teams = values.clone(),
            Dim::Layer(l) => query.areas.push((l.clone(), values.clone())),
            _ => {}
        }
    }
    let kinds = [EventKind::StatusChanged, EventKind::Transferred, EventKind::Reopened, EventKind::Rated];
    let mut read = 0usize;
    loop {
        let page = app.store.list_requests(&query).await?;
        read += page.len();
        if read > MOST_READ {
            return Err(AppError::invalid(
                "from",
                format!("more than {MOST_READ} requests to read; choose a shorter period or a filter"),
            ));
        }
        let seqs: Vec<i64> = page.iter().map(|r| r.id.seq).collect();
        let mut events: BTreeMap<i64, Vec<civic311_domain::request::Event>> = BTreeMap::new();
        for (seq, e) in app.store.events_of(&seqs, &kinds).await? {
            events.entry(seq).or_default().push(e);
        }
        for r in &page {
            let keep = q.filters.iter().all(|(d, values)| d.of(r, &city).is_some_and(|v| values.contains(&v)));
            if !keep {
                continue;
            }
            let mut history = events.remove(&r.id.seq).unwrap_or_default();
            history.sort_by_key(|e| (e.at, e.id));
            let f = Facts::of(r, &history);
            let fixed: Vec<Option<String>> =
                q.group_by.iter().map(|d| if d.is_time() { None } else { d.of(r, &city) }).collect();
            let key_at = |bucket: &Bucket| -> Vec<Option<String>> {
                q.group_by
                    .iter()
                    .zip(&fixed)
                    .map(|(d, v)| if d.is_time() { Some(bucket.key.clone()) } else { v.clone() })
                    .collect()
            };
            let calendar = r.workflow.sla.as_ref().and_then(|c| city.workflow.calendar(&c.calendar));
            add(&f, calendar, (start, end), &mut total);
            let opened_in = bucket_of(f.requested_at);
            let closed_in = f.closed_at.and_then(bucket_of);
            for (i, bucket) in spans.iter().enumerate() {
                let touched = opened_in == Some(i) || closed_in == Some(i) || open_at(&f, bucket.end);
                if touched {
                    add(&f, calendar, (bucket.start, bucket.end), rows.entry(key_at(bucket)).or_default());
                }
            }
        }
        if page.len() < PAGE as usize {
            break;
        }
        query.offset += u64::from(PAGE);
    }
    Ok(Report {
        query: q,
        time_zone: city.settings.time_zone.clone(),
        rows: rows.into_iter().map(|(k, a)| (k, a.finish())).collect(),
        total: total.finish(),
    })
}

/// True when `f` was open at `at`: requested before it, not closed by then (its close
/// time, if any, is after), and not yet a duplicate.
fn open_at(f: &Facts, at: Timestamp) -> bool {
    f.requested_at < at && f.closed_at.is_none_or(|c| c >= at) && f.duplicate_at.is_none_or(|d| d >= at)
}

/// Adds a request with facts `f` (its SLA calendar `calendar`) to `acc` for the
/// stretch `[start, end)`: opened and closed within it, open at its end.
fn add(
    f: &Facts,
    calendar: Option<&civic311_domain::calendar::BusinessCalendar>,
    (start, end): (Timestamp, Timestamp),
    acc: &mut Acc,
) {
    let within = |t: Timestamp| start <= t && t < end;
    if within(f.requested_at) {
        acc.m.opened += 1;
        acc.m.duplicates += u64::from(f.duplicate);
        acc.m.transfers += u64::from(f.transferred);
        acc.m.reopened += u64::from(f.reopened);
    }
    if f.closed_at.is_some_and(within) {
        acc.m.closed += 1;
        acc.hours.extend(f.hours_to_close());
        acc.business.extend(calendar.and_then(|c| f.business_hours_to_close(c)));
        match f.met() {
            Some(true) => acc.m.met += 1,
            Some(false) => acc.m.missed += 1,
            None => {}
        }
        if let Some(score) = f.rating {
            acc.m.rating_count += 1;
            acc.rating_sum += u64::from(score);
        }
    }
    if open_at(f, end) {
        acc.m.open_at_end += 1;
        acc.m.open_past_due_at_end += u64::from(f.due.is_some_and(|d| d < end));
    }
}
