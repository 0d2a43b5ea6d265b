//! `/staff/reports`: the dashboards for directors, analysts and supervisors. Every
//! number on them comes from the requests report (`civic311_app::reports`), the same
//! one `GET /api/v1/reports/requests` answers, so the two always agree; each chart's
//! CSV is that report's CSV. Analysts and administrators see every department,
//! supervisors theirs; everyone else is refused.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use civic311_app::reports::{Dim, Measures, Report, ReportQuery};
use civic311_domain::org::StaffUser;
use jiff::civil::Date;

use super::chart::{self, Series};
use super::session::StaffChrome;
use super::{Fault, Page, Staff, query_string};
use crate::AppState;
use crate::page::html;

/// Fewer closed requests than this and a time or a compliance is not worth judging
/// (the same line the public "typical time" draws).
pub(crate) const TOO_FEW: u64 = civic311_app::typical::ENOUGH as u64;
/// Request types in "most frequent" and rows of the category × area table.
const TOP: usize = 10;
/// The default period: the last twelve weeks to today.
const DEFAULT_DAYS: i64 = 84;

/// The dashboard's filters, as its URL carries them.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
    department: Option<String>,
    service_code: Option<String>,
    /// The boundary layer the category table breaks down by.
    layer: Option<String>,
    /// The channel demand is shown for.
    pub(super) channel: Option<String>,
    /// `csv`: the table named by `table` as CSV (the pages whose tables are not a
    /// requests report).
    pub(super) format: Option<String>,
    pub(super) table: Option<String>,
}

/// One cell of a table: its text, a class (`too-few`, `number`…), and where it links.
#[derive(Clone)]
pub(crate) struct Cell {
    pub(crate) text: String,
    pub(crate) class: &'static str,
    pub(crate) href: Option<String>,
}

pub(crate) fn cell(text: impl Into<String>) -> Cell {
    Cell { text: text.into(), class: "", href: None }
}

pub(crate) fn number(n: u64) -> Cell {
    Cell { text: n.to_string(), class: "number", href: None }
}

/// Nothing to show.
pub(crate) fn dash() -> Cell {
    Cell { text: "–".into(), class: "muted", href: None }
}

/// A figure not worth judging, with what there was.
pub(crate) fn too_few(text: String) -> Cell {
    Cell { text, class: "too-few", href: None }
}

/// A chart, its numbers as a table, and the CSV of the report behind them.
#[derive(Clone)]
pub(crate) struct Section {
    pub(crate) id: &'static str,
    pub(crate) title: String,
    pub(crate) note: Option<String>,
    pub(crate) svg: String,
    pub(crate) headers: Vec<String>,
    pub(crate) rows: Vec<Vec<Cell>>,
    /// Narrow enough to stay a table on a phone (else each row becomes a card).
    pub(crate) compact: bool,
    /// Where its CSV downloads from.
    pub(crate) csv: String,
}

impl Section {
    /// The table as RFC 4180 CSV with its header, as the page shows it.
    /// A name a city gave (a team called "=SUM(…)") is written so that a spreadsheet
    /// reads it as text, never as a formula.
    pub(crate) fn to_csv(&self) -> String {
        let cell = |v: &str| {
            let text = if v.starts_with(['=', '+', '-', '@']) { format!("'{v}") } else { v.to_owned() };
            crate::api::reports::field(&text)
        };
        let line = |cells: Vec<&str>| cells.into_iter().map(cell).collect::<Vec<_>>().join(",");
        let mut out = line(self.headers.iter().map(String::as_str).collect()) + "\r\n";
        for row in &self.rows {
            out += &line(row.iter().map(|c| c.text.as_str()).collect());
            out += "\r\n";
        }
        out
    }
}

/// A dashboard over a period: its filters, figures and sections.
#[derive(Template)]
#[template(path = "staff/reports.html")]
pub(super) struct ReportsPage {
    c: StaffChrome,
    tab: &'static str,
    /// Where its filter form goes.
    action: &'static str,
    from: String,
    to: String,
    /// Code, name, chosen; the first is "every department" when the caller may see all.
    departments: Vec<(String, String, bool)>,
    /// Category choices (none: the page has no category filter).
    pub(super) services: Vec<(String, String, bool)>,
    /// Boundary layer choices: code, name, chosen (none: no layer choice).
    pub(super) layers: Vec<(String, String, bool)>,
    /// Channel choices (none: the page has no channel filter).
    pub(super) channels: Vec<(String, String, bool)>,
    /// Label, value, hint.
    pub(super) tiles: Vec<(String, String, String)>,
    pub(super) sections: Vec<Section>,
    pub(super) error: Option<String>,
    /// Said above the figures when they are not the whole story yet.
    pub(super) notice: Option<String>,
}

/// What every dashboard over a period starts from: the caller's scope, the filters as
/// report parameters (defaults filled) and the period they name.
pub(super) struct Frame {
    pub(super) page: ReportsPage,
    pub(super) scope: Option<Vec<String>>,
    pub(super) base: Vec<(String, String)>,
    pub(super) from: Date,
    pub(super) to: Date,
}

impl Frame {
    /// The frame of the dashboard `tab` at `action`, for `staff` with filters `p`.
    pub(super) fn new(
        state: &AppState,
        staff: &Staff,
        p: &Params,
        tab: &'static str,
        action: &'static str,
    ) -> Result<Frame, Fault> {
        let scope = scope(&staff.user)?;
        let city = state.city();
        let today = state.now().to_zoned(city.tz.clone()).date();
        let base = base(p, today, &scope);
        let layer = p
            .layer
            .clone()
            .filter(|l| city.boundaries.layers().contains(l))
            .or_else(|| city.boundaries.broadest_layer().map(str::to_owned));
        let page = ReportsPage {
            c: StaffChrome::new(state, staff),
            tab,
            action,
            from: base[0].1.clone(),
            to: base[1].1.clone(),
            departments: choices_of_departments(&city, &scope, &base),
            services: {
                let chosen = value(&base, "service_code");
                let mut s: Vec<_> =
                    city.services().map(|s| (s.code.clone(), s.name.clone(), chosen == Some(&s.code))).collect();
                s.sort_by(|a, b| a.1.cmp(&b.1));
                s
            },
            layers: city
                .boundaries
                .layers()
                .iter()
                .map(|l| {
                    (
                        l.clone(),
                        city.settings.layer_name(l, civic311_domain::i18n::DEFAULT).to_owned(),
                        Some(l) == layer.as_ref(),
                    )
                })
                .collect(),
            channels: Vec::new(),
            tiles: Vec::new(),
            sections: Vec::new(),
            error: None,
            notice: None,
        };
        let (from, to) = match (base[0].1.parse::<Date>(), base[1].1.parse::<Date>()) {
            (Ok(f), Ok(t)) => (f, t),
            _ => (today, today),
        };
        Ok(Frame { page, scope, base, from, to })
    }

    /// The departments the caller looks at: `None` for every one (an analyst or an
    /// administrator without a department filter).
    pub(super) fn departments(&self) -> Option<Vec<String>> {
        match (value(&self.base, "department"), &self.scope) {
            (Some(d), _) => Some(vec![d.clone()]),
            (None, Some(mine)) => Some(mine.clone()),
            (None, None) => None,
        }
    }

    /// A note for a section whose cube has no category, when one is chosen.
    pub(super) fn every_category(&self) -> &'static str {
        if value(&self.base, "service_code").is_some() {
            " Every category: this table cannot be narrowed to one."
        } else {
            ""
        }
    }

    /// The chosen layer, if the city has any.
    pub(super) fn layer(&self) -> Option<String> {
        self.page.layers.iter().find(|(_, _, on)| *on).map(|(l, _, _)| l.clone())
    }

    /// The requests report over the frame's filters, grouped by `group_by` (when
    /// given), as the caller may see it.
    pub(super) async fn run(&self, state: &AppState, staff: &Staff, group_by: Option<&str>) -> Result<Report, Fault> {
        let params = group_by.map_or_else(|| self.base.clone(), |g| with(&self.base, g));
        report(state, &staff.user, &self.scope, &params).await
    }

    /// The page with the reason a report was refused, or the fault.
    pub(super) fn refused(mut self, fault: Fault) -> Page {
        match fault {
            Fault::Refused(status, why) => {
                self.page.error = Some(why);
                Ok(html(status, &self.page))
            }
            e => Err(e),
        }
    }

    /// Whether a cell's department (and, when `service` is given, its service) passes
    /// the caller's scope and filters.
    pub(super) fn keeps(&self, department: &str, service: Option<&str>) -> bool {
        let in_scope = self.scope.as_ref().is_none_or(|mine| mine.iter().any(|m| m == department));
        in_scope
            && value(&self.base, "department").is_none_or(|d| d == department)
            && service.is_none_or(|s| value(&self.base, "service_code").is_none_or(|c| c == s))
    }

    /// Says on the page when requests still wait to be added to the rollups (right after
    /// an upgrade or a rebuild, once the report before has drained what it may): the
    /// flow cubes are read as they stand, so their tables are not complete yet.
    pub(super) async fn warn_if_filling(&mut self, state: &AppState) -> Result<(), Fault> {
        let waiting = state.store.reports_pending().await?;
        if waiting > 0 {
            self.page.notice = Some(format!(
                "{waiting} requests are still being added to the report totals: the tables below will be \
                 complete once they are (the summary figures already count them)."
            ));
        }
        Ok(())
    }

    /// The page, or the CSV of its table `p.table` when `p.format` asks for one.
    pub(super) fn finish(mut self, p: &Params, query: &str) -> Page {
        for s in &mut self.page.sections {
            s.csv = format!("{}?{query}&format=csv&table={}", self.page.action, s.id);
        }
        if p.format.as_deref() == Some("csv") {
            let name = format!("{}-{}-{}", self.page.tab, self.page.from, self.page.to);
            return section_csv(&self.page.sections, p.table.as_deref(), &name);
        }
        Ok(html(StatusCode::OK, &self.page))
    }
}

/// The section named `table` as a CSV download called `name`.csv, or a 400 naming the
/// tables there are.
pub(crate) fn section_csv(sections: &[Section], table: Option<&str>, name: &str) -> Page {
    let Some(s) = sections.iter().find(|s| Some(s.id) == table) else {
        let names: Vec<&str> = sections.iter().map(|s| s.id).collect();
        let why = format!("Not done: table — one of {}.", names.join(", "));
        return Err(Fault::Refused(StatusCode::BAD_REQUEST, why));
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}-{name}.csv\"", s.id)),
        ],
        s.to_csv(),
    )
        .into_response())
}

/// Hours as a person reads them: hours under two days, days beyond.
pub(crate) fn duration(hours: f64) -> String {
    if hours < 48.0 { format!("{hours:.1} h") } else { format!("{:.1} d", hours / 24.0) }
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The median time to close of `m`, or why it is not shown.
pub(super) fn median_cell(m: &Measures) -> Cell {
    match m.hours_to_close {
        Some(s) if m.closed >= TOO_FEW => cell(duration(s.median)),
        Some(_) => too_few(format!("too few ({})", m.closed)),
        None => dash(),
    }
}

/// SLA compliance of `m`, or why it is not shown.
fn compliance_cell(m: &Measures) -> Cell {
    let judged = m.met + m.missed;
    match m.compliance() {
        Some(c) if judged >= TOO_FEW => cell(percent(c)),
        Some(_) => too_few(format!("too few ({judged})")),
        None => dash(),
    }
}

/// A time bucket's key as a chart labels it: `Nov 3`, `W45`, `Nov 2026`.
fn short_label(key: &str) -> String {
    if let Ok(d) = key.parse::<Date>() {
        return d.strftime("%b %-d").to_string();
    }
    if let Some((_, w)) = key.split_once("-W") {
        return format!("W{w}");
    }
    match format!("{key}-01").parse::<Date>() {
        Ok(d) => d.strftime("%b %Y").to_string(),
        Err(_) => key.to_owned(),
    }
}

/// A time bucket's key as its table row names it: `2026-W45` with a hyphen that does
/// not break, so a phone's narrow column keeps it on one line.
fn period(key: &Option<String>) -> String {
    key.as_deref().unwrap_or("").replace('-', "\u{2011}")
}

/// The time dimension that suits a period: days up to a month, weeks up to a year.
fn time_dim(from: Date, to: Date) -> Dim {
    let days = from.until(to).map_or(0, |s| s.get_days());
    if days <= 31 {
        Dim::Day
    } else if days <= 400 {
        Dim::Week
    } else {
        Dim::Month
    }
}

/// What the caller may see, or the refusal page's fault.
pub(super) fn scope(user: &StaffUser) -> Result<Option<Vec<String>>, Fault> {
    civic311_domain::policy::report_scope(user).map_err(|why| Fault::Refused(StatusCode::FORBIDDEN, why))
}

/// The filters as report parameters (period, department, service), defaults filled.
fn base(p: &Params, today: Date, scope: &Option<Vec<String>>) -> Vec<(String, String)> {
    let to = p.to.clone().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| today.to_string());
    let from = p.from.clone().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| {
        let start = to.parse::<Date>().unwrap_or(today).checked_sub(jiff::Span::new().days(DEFAULT_DAYS - 1));
        start.unwrap_or(today).to_string()
    });
    let mut out = vec![("from".to_owned(), from), ("to".to_owned(), to)];
    // A supervisor of one department sees it without asking; of several, all of theirs.
    let department = p.department.clone().filter(|d| !d.is_empty()).or_else(|| match scope {
        Some(mine) if mine.len() == 1 => Some(mine[0].clone()),
        _ => None,
    });
    out.extend(department.map(|d| ("department".to_owned(), d)));
    out.extend(p.service_code.clone().filter(|s| !s.is_empty()).map(|s| ("service_code".to_owned(), s)));
    out
}

fn with(base: &[(String, String)], group_by: &str) -> Vec<(String, String)> {
    let mut p = base.to_vec();
    p.push(("group_by".to_owned(), group_by.to_owned()));
    p
}

fn csv_link(params: &[(String, String)]) -> String {
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    format!("/staff/reports/csv?{}", query_string(&pairs))
}

/// Runs the report `params` asks for, as the caller may see it.
async fn report(
    state: &AppState,
    user: &StaffUser,
    scope: &Option<Vec<String>>,
    params: &[(String, String)],
) -> Result<Report, Fault> {
    let q = ReportQuery::parse(params, &state.city())?;
    let asked = q.filters.iter().filter(|(d, _)| *d == Dim::Department).flat_map(|(_, v)| v);
    civic311_domain::policy::report_departments_allowed(user, scope, asked)
        .map_err(|why| Fault::Refused(StatusCode::FORBIDDEN, format!("Not allowed: {why}.")))?;
    Ok(civic311_app::reports::run(state, q, scope.clone()).await?)
}

/// `GET /staff/reports`: performance over a period — opened against closed, time to
/// close and SLA compliance over time, the most frequent request types, category by
/// area, and each department with its residents' ratings.
pub async fn performance(State(state): State<AppState>, staff: Staff, Query(p): Query<Params>) -> Page {
    let frame = Frame::new(&state, &staff, &p, "performance", "/staff/reports")?;
    let city = state.city();
    let layer = frame.layer();
    let time = time_dim(frame.from, frame.to).name();
    let over_time = match frame.run(&state, &staff, Some(&time)).await {
        Ok(r) => r,
        Err(fault) => return frame.refused(fault),
    };
    let Frame { mut page, scope, base, .. } = frame;
    page.tiles = tiles(&over_time.total);
    page.sections.push(opened_and_closed(&over_time, &with(&base, &time)));
    page.sections.push(speed(&over_time, &with(&base, &time)));
    let by_service = report(&state, &staff.user, &scope, &with(&base, "service_code")).await?;
    page.sections.push(frequent(&city, &by_service, &with(&base, "service_code")));
    if let Some(layer) = &layer {
        let params = with(&base, &format!("service_code,layer:{layer}"));
        let matrix = report(&state, &staff.user, &scope, &params).await?;
        page.sections.push(by_area(&city, layer, &by_service, &matrix, &params));
    }
    let by_department = report(&state, &staff.user, &scope, &with(&base, "department")).await?;
    page.sections.push(departments(&city, &by_department, &with(&base, "department")));
    Ok(html(StatusCode::OK, &page))
}

fn value<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a String> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The department choices the caller has: every one (and "all") for analysts and
/// administrators, theirs for supervisors.
fn choices_of_departments(
    city: &crate::CityModel,
    scope: &Option<Vec<String>>,
    base: &[(String, String)],
) -> Vec<(String, String, bool)> {
    let chosen = value(base, "department");
    let mut out = Vec::new();
    if scope.as_ref().is_none_or(|mine| mine.len() > 1) {
        out.push((String::new(), "All departments".to_owned(), chosen.is_none()));
    }
    for d in &city.departments {
        if scope.as_ref().is_none_or(|mine| mine.contains(&d.code)) {
            out.push((d.code.clone(), d.name.clone(), chosen == Some(&d.code)));
        }
    }
    out
}

fn tiles(m: &Measures) -> Vec<(String, String, String)> {
    let median = median_cell(m).text;
    let compliance = compliance_cell(m).text;
    vec![
        ("Opened".into(), m.opened.to_string(), "requests filed in the period".into()),
        ("Closed".into(), m.closed.to_string(), "resolved or closed in the period".into()),
        ("Median time to close".into(), median, "of those closed".into()),
        ("SLA met".into(), compliance, format!("{} met, {} missed", m.met, m.missed)),
        ("Open at the end".into(), m.open_at_end.to_string(), format!("{} of them past due", m.open_past_due_at_end)),
    ]
}

/// Opened against closed in each stretch of the period.
fn opened_and_closed(r: &Report, params: &[(String, String)]) -> Section {
    let labels: Vec<String> = r.rows.iter().map(|(k, _)| short_label(k[0].as_deref().unwrap_or(""))).collect();
    let series = [
        Series { name: "Opened".into(), values: r.rows.iter().map(|(_, m)| Some(m.opened as f64)).collect() },
        Series { name: "Closed".into(), values: r.rows.iter().map(|(_, m)| Some(m.closed as f64)).collect() },
    ];
    Section {
        id: "opened-closed",
        title: "Opened and closed".into(),
        note: None,
        svg: chart::columns("Requests opened and closed", &labels, &series, None),
        headers: vec!["Period".into(), "Opened".into(), "Closed".into(), "Open at the end".into()],
        rows: r
            .rows
            .iter()
            .map(|(k, m)| vec![cell(period(&k[0])), number(m.opened), number(m.closed), number(m.open_at_end)])
            .collect(),
        compact: true,
        csv: csv_link(params),
    }
}

/// Time to close and SLA compliance in each stretch of the period.
fn speed(r: &Report, params: &[(String, String)]) -> Section {
    let labels: Vec<String> = r.rows.iter().map(|(k, _)| short_label(k[0].as_deref().unwrap_or(""))).collect();
    let judged = |m: &Measures| (m.met + m.missed >= TOO_FEW).then(|| m.compliance()).flatten();
    let series =
        [Series { name: "SLA met".into(), values: r.rows.iter().map(|(_, m)| judged(m).map(|c| c * 100.0)).collect() }];
    Section {
        id: "speed",
        title: "Time to close and SLA compliance".into(),
        note: Some(format!(
            "Of the requests closed in each stretch. A stretch with fewer than {TOO_FEW} is too few to judge and is \
             left out of the chart."
        )),
        svg: chart::columns("Share of requests closed within their SLA, percent", &labels, &series, Some(100.0)),
        headers: vec![
            "Period".into(),
            "Closed".into(),
            "Median time to close".into(),
            "90% closed within".into(),
            "SLA met".into(),
        ],
        rows: r
            .rows
            .iter()
            .map(|(k, m)| {
                let p90 = match m.hours_to_close {
                    Some(s) if m.closed >= TOO_FEW => cell(duration(s.p90)),
                    _ => dash(),
                };
                vec![cell(period(&k[0])), number(m.closed), median_cell(m), p90, compliance_cell(m)]
            })
            .collect(),
        compact: true,
        csv: csv_link(params),
    }
}

fn service_name(city: &crate::CityModel, code: &str) -> String {
    city.service(code).map_or_else(|| code.to_owned(), |s| s.name.clone())
}

/// The services with most requests opened, most first.
fn top_services(r: &Report) -> Vec<(&str, &Measures)> {
    let mut rows: Vec<(&str, &Measures)> =
        r.rows.iter().filter(|(_, m)| m.opened > 0).map(|(k, m)| (k[0].as_deref().unwrap_or(""), m)).collect();
    rows.sort_by(|a, b| b.1.opened.cmp(&a.1.opened).then(a.0.cmp(b.0)));
    rows.truncate(TOP);
    rows
}

/// The most frequent request types, with how fast each was closed.
fn frequent(city: &crate::CityModel, r: &Report, params: &[(String, String)]) -> Section {
    let top = top_services(r);
    let bars: Vec<(String, f64)> = top.iter().map(|(c, m)| (service_name(city, c), m.opened as f64)).collect();
    Section {
        id: "frequent",
        title: "Most frequent requests".into(),
        note: Some(format!("The {TOP} categories with most requests opened in the period.")),
        svg: chart::bars("Requests opened by category", &bars),
        headers: vec![
            "Category".into(),
            "Opened".into(),
            "Closed".into(),
            "Median time to close".into(),
            "SLA met".into(),
        ],
        rows: top
            .iter()
            .map(|(c, m)| {
                vec![
                    cell(service_name(city, c)),
                    number(m.opened),
                    number(m.closed),
                    median_cell(m),
                    compliance_cell(m),
                ]
            })
            .collect(),
        compact: false,
        csv: csv_link(params),
    }
}

/// The most frequent categories by the features of `layer`: SLA compliance and median
/// time to close in each cell, or "too few" to judge.
fn by_area(
    city: &crate::CityModel,
    layer: &str,
    by_service: &Report,
    matrix: &Report,
    params: &[(String, String)],
) -> Section {
    let features: Vec<(String, String)> = {
        let mut seen: Vec<String> = matrix.rows.iter().filter_map(|(k, _)| k[1].clone()).collect();
        seen.sort();
        seen.dedup();
        seen.into_iter().map(|f| (city.boundaries.feature_name(layer, &f).unwrap_or(&f).to_owned(), f)).collect()
    };
    let mut headers = vec!["Category".to_owned()];
    headers.extend(features.iter().map(|(name, _)| name.clone()));
    let rows = top_services(by_service)
        .iter()
        .map(|(code, _)| {
            let mut row = vec![cell(service_name(city, code))];
            for (_, f) in &features {
                let m = matrix
                    .rows
                    .iter()
                    .find(|(k, _)| k[0].as_deref() == Some(*code) && k[1].as_deref() == Some(f.as_str()))
                    .map(|(_, m)| m);
                row.push(match m {
                    Some(m) => area_cell(m),
                    None => dash(),
                });
            }
            row
        })
        .collect();
    Section {
        id: "by-area",
        title: format!("Categories by area: {}", city.settings.layer_name(layer, civic311_domain::i18n::DEFAULT)),
        note: Some(format!(
            "For the {TOP} most frequent categories: requests opened in the period, then the share of those closed \
             in it that met their SLA and their median time to close — or \"too few\" when fewer than {TOO_FEW} \
             closed."
        )),
        svg: String::new(),
        headers,
        rows,
        compact: false,
        csv: csv_link(params),
    }
}

/// A category in an area: requests opened, then SLA met and median time to close
/// when enough closed to judge, shaded by how well the SLA was met.
fn area_cell(m: &Measures) -> Cell {
    let judged = m.met + m.missed;
    match m.compliance() {
        Some(c) if judged >= TOO_FEW => Cell {
            text: format!("{} · {} · {}", m.opened, percent(c), median_cell(m).text),
            class: if c < 0.6 {
                "bad"
            } else if c < 0.8 {
                "fair"
            } else {
                "good"
            },
            href: None,
        },
        _ => too_few(format!("{} · too few", m.opened)),
    }
}

/// Each department: what came in and went out, how fast, and what residents thought.
fn departments(city: &crate::CityModel, r: &Report, params: &[(String, String)]) -> Section {
    let rated: Vec<(String, f64)> = r
        .rows
        .iter()
        .filter(|(_, m)| m.rating_count > 0)
        .map(|(k, m)| (city.department_name(k[0].as_deref().unwrap_or("")).to_owned(), m.rating_mean.unwrap_or(0.0)))
        .collect();
    Section {
        id: "departments",
        title: "Departments and satisfaction".into(),
        note: Some("Ratings are those residents gave to requests closed in the period, 1 to 5.".into()),
        svg: if rated.is_empty() { String::new() } else { chart::bars("Mean rating by department, 1 to 5", &rated) },
        headers: vec![
            "Department".into(),
            "Opened".into(),
            "Closed".into(),
            "Median time to close".into(),
            "SLA met".into(),
            "Transferred".into(),
            "Ratings".into(),
            "Mean rating".into(),
        ],
        rows: r
            .rows
            .iter()
            .map(|(k, m)| {
                vec![
                    cell(city.department_name(k[0].as_deref().unwrap_or(""))),
                    number(m.opened),
                    number(m.closed),
                    median_cell(m),
                    compliance_cell(m),
                    number(m.transfers),
                    number(m.rating_count),
                    m.rating_mean.map_or_else(dash, |x| cell(format!("{x:.1}"))),
                ]
            })
            .collect(),
        compact: false,
        csv: csv_link(params),
    }
}

/// `GET /staff/reports/csv`: a report as CSV, with the parameters of the API's; what
/// each chart's download link points at.
pub async fn csv(State(state): State<AppState>, staff: Staff, Query(params): Query<Vec<(String, String)>>) -> Page {
    let scope = scope(&staff.user)?;
    let params: Vec<(String, String)> = params.into_iter().filter(|(k, _)| k != "format").collect();
    let r = report(&state, &staff.user, &scope, &params).await?;
    let name = format!("requests-{}-{}.csv", r.query.from, r.query.to);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        crate::api::reports::csv(&r),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_downloads_as_csv_with_names_that_spreadsheets_read_as_text() {
        let s = Section {
            id: "teams",
            title: "Teams".into(),
            note: None,
            svg: String::new(),
            headers: vec!["Team".into(), "Open".into()],
            rows: vec![vec![cell("=HYPERLINK(\"x\")"), number(2)], vec![cell("North, crew"), number(0)]],
            compact: true,
            csv: String::new(),
        };
        assert_eq!(s.to_csv(), "Team,Open\r\n\"'=HYPERLINK(\"\"x\"\")\",2\r\n\"North, crew\",0\r\n");
    }
}
