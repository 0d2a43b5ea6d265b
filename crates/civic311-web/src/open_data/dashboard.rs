//! The public dashboard at the top of `GET /open-data`: requests by category and by
//! area, time to resolve and the on-time share, escalations and how they ended, the
//! open backlog and its age, and a hotspot map — over the last 30, 90 or 365 days, in
//! the resident's language. Public, so it only ever counts the city's public services,
//! withholds any count under [`LEAST`], and shows no team, person or place finer than a
//! square of about 550 m.
//!
//! Its figures come from the same measures as the staff dashboards
//! (`civic311_app::reports`, the grid rollup, the open-request counts). A build reads a
//! few dozen rollup cells and counts; it is kept for a minute per period, layer and
//! language, and one build runs at a time however many people ask, so a crowd costs
//! the database what one visitor does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use civic311_app::reports::{self, Dim, Measures, Report, ReportQuery};
use civic311_domain::i18n::Texts;
use civic311_domain::request::{EventKind, Status};
use civic311_store::RequestQuery;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::AppState;
use crate::ui::chart::{self, Series};
use crate::ui::reports::{Cell, Section, TOO_FEW, cell, dash, number, too_few};
use crate::ui::{Fault, operations, recurring};

/// The periods a visitor may choose, in days ending today.
pub(crate) const PERIODS: [i64; 3] = [30, 90, 365];
const DEFAULT_PERIOD: i64 = 90;
/// Fewer requests than this in a cell and its count is withheld.
pub(crate) const LEAST: u64 = 5;
/// How long a built dashboard is shown before it is built again.
const FRESH: SignedDuration = SignedDuration::from_secs(60);
/// Escalations of a period read at most to say how they ended.
const MOST_ESCALATIONS: i64 = 20_000;
/// Requests read at a time while escalations are looked up.
const CHUNK: usize = 500;

/// The dashboard's choices as its URL carries them (with `table` and `format=csv` for
/// one table's CSV).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Params {
    period: Option<String>,
    layer: Option<String>,
    pub(crate) format: Option<String>,
    pub(crate) table: Option<String>,
}

/// What the dashboard is built for: a period and the layer areas are shown by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Choice {
    pub(crate) days: i64,
    pub(crate) layer: Option<String>,
}

impl Choice {
    /// The choice `p` names in `city`, or the text key of why not.
    pub(crate) fn parse(p: &Params, city: &crate::CityModel) -> Result<Choice, &'static str> {
        let days = match p.period.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => DEFAULT_PERIOD,
            Some(v) => v.parse::<i64>().ok().filter(|d| PERIODS.contains(d)).ok_or("open_data.dash.bad_period")?,
        };
        let layers = city.boundaries.layers();
        let layer = match p.layer.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => city.boundaries.broadest_layer().map(str::to_owned),
            Some(l) if layers.iter().any(|x| x == l) => Some(l.to_owned()),
            Some(_) => return Err("open_data.dash.bad_layer"),
        };
        Ok(Choice { days, layer })
    }

    /// The query string that shows this choice again.
    pub(crate) fn query(&self) -> String {
        let layer = self.layer.as_deref().map(|l| format!("&layer={}", crate::ui::encode(l))).unwrap_or_default();
        format!("period={}{layer}", self.days)
    }
}

/// A built dashboard: the figures in short and the sections beneath.
pub(crate) struct Dashboard {
    pub(crate) from: Date,
    pub(crate) to: Date,
    /// Label, value, hint.
    pub(crate) tiles: Vec<(String, String, String)>,
    pub(crate) sections: Vec<Section>,
}

/// A dashboard's choice and language.
type Key = (Choice, &'static str);

/// Dashboards built in the last minute, by choice and language; one build at a time.
#[derive(Default)]
pub struct Cache {
    built: Mutex<HashMap<Key, (Timestamp, Arc<Dashboard>)>>,
    building: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cache")
    }
}

impl Cache {
    fn fresh(&self, key: &Key, now: Timestamp) -> Option<Arc<Dashboard>> {
        let built = self.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        built.get(key).filter(|(at, _)| *at <= now && now.duration_since(*at) < FRESH).map(|(_, d)| d.clone())
    }
}

/// The dashboard for `choice` in the language `t`: the one built in the last minute,
/// or a new one.
pub(crate) async fn get(state: &AppState, choice: &Choice, t: &'static Texts) -> Result<Arc<Dashboard>, Fault> {
    let cache = &state.dashboards;
    let key = (choice.clone(), t.code);
    if let Some(d) = cache.fresh(&key, state.now()) {
        return Ok(d);
    }
    let _one = cache.building.lock().await;
    let now = state.now();
    if let Some(d) = cache.fresh(&key, now) {
        return Ok(d);
    }
    let d = Arc::new(build(state, choice, t, now).await?);
    let mut built = cache.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Only the choices there are fit (periods × layers × languages); stale ones go.
    built.retain(|_, (at, _)| *at <= now && now.duration_since(*at) < FRESH);
    built.insert(key, (now, d.clone()));
    Ok(d)
}

/// Builds the dashboard for `choice` as of `now`.
async fn build(state: &AppState, choice: &Choice, t: &'static Texts, now: Timestamp) -> Result<Dashboard, Fault> {
    let city = state.city();
    let to = now.to_zoned(city.tz.clone()).date();
    let from = to.checked_sub((choice.days - 1).days()).map_err(|e| Fault::Internal(e.to_string()))?;
    let public: Vec<String> = city.public_services().map(|s| s.code.clone()).collect();
    let run = |group_by: Vec<Dim>| {
        let q = ReportQuery { from, to, group_by, filters: vec![(Dim::Service, public.clone())] };
        reports::run(state, q, None)
    };
    let by_service = run(vec![Dim::Service]).await?;
    // Every department is named, as the operations dashboard does, although that
    // filters nothing out (a request transferred away from its service's department
    // still counts): then the stores count through their indexes of open work by
    // department (20 ms among 1,000,000 requests) instead of walking every request of
    // each public service (2 s).
    let open = RequestQuery {
        statuses: Status::ACTIVE.to_vec(),
        service_codes: public.clone(),
        departments: city.departments.iter().map(|d| d.code.clone()).collect(),
        ..Default::default()
    };
    let open_now = state.store.count_matching(&open).await?;
    let late = state.store.count_matching(&RequestQuery { overdue_at: Some(now), ..open.clone() }).await?;
    let w = Words(t);
    let mut tiles = tiles(&w, &by_service.total);
    tiles.push((
        w.get("open_now"),
        suppressed(open_now.unsigned_abs()).text,
        w.get("open_now_hint").replace("{n}", &suppressed(late.unsigned_abs()).text),
    ));
    let mut sections = vec![categories(&w, &city, &by_service)];
    if let Some(layer) = &choice.layer {
        sections.push(by_area(&w, &city, layer, &run(vec![Dim::Layer(layer.clone())]).await?));
    }
    let time = if choice.days <= 31 {
        Dim::Day
    } else if choice.days <= 120 {
        Dim::Week
    } else {
        Dim::Month
    };
    sections.push(over_time(&w, &run(vec![time]).await?));
    sections.push(escalations(state, &w, (from, to), &public).await?);
    sections.push(backlog(state, &w, &open, now).await?);
    sections.push(hotspots(state, &w, choice, (from, to)).await?);
    Ok(Dashboard { from, to, tiles, sections })
}

/// The dashboard's texts in one language.
struct Words(&'static Texts);

impl Words {
    fn get(&self, key: &str) -> String {
        self.0.get(&format!("open_data.dash.{key}")).to_owned()
    }
}

/// A count as published: withheld (`<5`) when under [`LEAST`] but not none.
fn suppressed(n: u64) -> Cell {
    if n > 0 && n < LEAST { Cell { text: "<5".into(), class: "number too-few", href: None } } else { number(n) }
}

/// Hours as a resident reads them: hours under two days, days beyond.
fn duration(w: &Words, hours: f64) -> String {
    if hours < 48.0 {
        w.get("hours").replace("{n}", &format!("{hours:.1}"))
    } else {
        w.get("days_short").replace("{n}", &format!("{:.1}", hours / 24.0))
    }
}

/// The typical (median) time to resolve of `m`, when enough were resolved to say.
fn median(w: &Words, m: &Measures) -> Cell {
    match m.hours_to_close {
        Some(s) if m.closed >= TOO_FEW => cell(duration(w, s.median)),
        Some(_) => too_few(w.get("too_few")),
        None => dash(),
    }
}

/// The on-time share of `m`, when enough were judged to say.
fn on_time(w: &Words, m: &Measures) -> Cell {
    match m.compliance() {
        Some(c) if m.met + m.missed >= TOO_FEW => cell(format!("{:.0}%", c * 100.0)),
        Some(_) => too_few(w.get("too_few")),
        None => dash(),
    }
}

fn tiles(w: &Words, m: &Measures) -> Vec<(String, String, String)> {
    vec![
        (w.get("opened"), suppressed(m.opened).text, w.get("opened_hint")),
        (w.get("closed"), suppressed(m.closed).text, w.get("closed_hint")),
        (w.get("median"), median(w, m).text, w.get("median_hint")),
        (w.get("sla"), on_time(w, m).text, w.get("sla_hint")),
    ]
}

/// A section with the common parts filled; its CSV link is set by the page.
fn section(id: &'static str, title: String, note: String, svg: String, headers: Vec<String>) -> Section {
    Section { id, title, note: Some(note), svg, headers, rows: Vec::new(), compact: false, csv: String::new() }
}

/// Bars of the values that are published (a withheld count is not drawn).
fn published_bars(rows: impl Iterator<Item = (String, u64)>) -> Vec<(String, f64)> {
    rows.filter(|(_, n)| *n >= LEAST).map(|(name, n)| (name, n as f64)).collect()
}

/// Requests, resolutions, time and on-time share of one row.
fn measure_cells(w: &Words, m: &Measures) -> Vec<Cell> {
    vec![suppressed(m.opened), suppressed(m.closed), median(w, m), on_time(w, m)]
}

fn measure_headers(w: &Words, first: &str) -> Vec<String> {
    vec![w.get(first), w.get("opened"), w.get("closed"), w.get("median"), w.get("sla")]
}

/// Every category with requests in the period, most first.
fn categories(w: &Words, city: &crate::CityModel, r: &Report) -> Section {
    let mut rows: Vec<(String, &Measures)> = r
        .rows
        .iter()
        .filter(|(_, m)| m.opened + m.closed > 0)
        .map(|(k, m)| {
            let code = k[0].as_deref().unwrap_or("");
            (city.service(code).map_or_else(|| code.to_owned(), |s| s.localized(w.0.code).name), m)
        })
        .collect();
    rows.sort_by(|a, b| b.1.opened.cmp(&a.1.opened).then(a.0.cmp(&b.0)));
    let bars = published_bars(rows.iter().take(10).map(|(name, m)| (name.clone(), m.opened)));
    let mut s = section(
        "categories",
        w.get("categories"),
        format!("{} {}", w.get("categories_note"), w.get("suppressed_note")),
        if bars.is_empty() { String::new() } else { chart::bars(&w.get("categories_chart"), &bars) },
        vec![w.get("category"), w.get("opened"), w.get("median"), w.get("sla")],
    );
    s.compact = true;
    s.rows =
        rows.into_iter().map(|(name, m)| vec![cell(name), suppressed(m.opened), median(w, m), on_time(w, m)]).collect();
    s
}

/// Each area of `layer`, with the requests made there.
fn by_area(w: &Words, city: &crate::CityModel, layer: &str, r: &Report) -> Section {
    let name = |k: &Option<String>| match k {
        Some(f) => city.boundaries.feature_name(layer, f).unwrap_or(f).to_owned(),
        None => w.get("no_area"),
    };
    let mut rows: Vec<(String, &Measures)> =
        r.rows.iter().filter(|(_, m)| m.opened + m.closed + m.open_at_end > 0).map(|(k, m)| (name(&k[0]), m)).collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let bars = published_bars(rows.iter().map(|(name, m)| (name.clone(), m.opened)));
    let mut headers = measure_headers(w, "area");
    headers.push(w.get("open_at_end"));
    let called = city.settings.layer_name(layer, w.0.code);
    let mut s = section(
        "areas",
        w.get("by_area").replace("{layer}", called),
        format!("{} {}", w.get("by_area_note"), w.get("suppressed_note")),
        if bars.is_empty() {
            String::new()
        } else {
            chart::bars(&w.get("by_area_chart").replace("{layer}", called), &bars)
        },
        headers,
    );
    s.rows = rows
        .into_iter()
        .map(|(name, m)| [vec![cell(name)], measure_cells(w, m), vec![suppressed(m.open_at_end)]].concat())
        .collect();
    s
}

/// Each stretch of the period: how many were resolved, how fast, and how many on time.
fn over_time(w: &Words, r: &Report) -> Section {
    let key = |k: &[Option<String>]| k[0].clone().unwrap_or_default();
    let labels: Vec<String> = r.rows.iter().map(|(k, _)| short(&key(k))).collect();
    let judged = |m: &Measures| (m.met + m.missed >= TOO_FEW).then(|| m.compliance()).flatten();
    let series =
        [Series { name: w.get("sla"), values: r.rows.iter().map(|(_, m)| judged(m).map(|c| c * 100.0)).collect() }];
    let mut headers = measure_headers(w, "stretch");
    headers.insert(4, w.get("p90"));
    let mut s = section(
        "time",
        w.get("over_time"),
        format!("{} {}", w.get("over_time_note"), w.get("suppressed_note")),
        chart::columns(&w.get("over_time_chart"), &labels, &series, Some(100.0)),
        headers,
    );
    s.rows = r
        .rows
        .iter()
        .map(|(k, m)| {
            let p90 = match m.hours_to_close {
                Some(x) if m.closed >= TOO_FEW => cell(duration(w, x.p90)),
                _ => dash(),
            };
            vec![
                cell(key(k).replace('-', "\u{2011}")),
                suppressed(m.opened),
                suppressed(m.closed),
                median(w, m),
                p90,
                on_time(w, m),
            ]
        })
        .collect();
    s
}

/// A stretch as a chart labels it, the same in every language: `11-03` for a day,
/// `W45` for a week, a month as it is (`2026-11`).
fn short(key: &str) -> String {
    match key.split_once("-W") {
        Some((_, week)) => format!("W{week}"),
        None if key.len() == 10 => key.get(5..).unwrap_or(key).to_owned(),
        None => key.to_owned(),
    }
}

/// Requests escalated in the period, by the department responsible, and how each
/// stands now: resolved, merged with an earlier report, or still open.
async fn escalations(
    state: &AppState,
    w: &Words,
    (from, to): (Date, Date),
    public: &[String],
) -> Result<Section, Fault> {
    let city = state.city();
    let start = reports::midnight(from, &city)?;
    let end = reports::midnight(to.checked_add(1.days()).map_err(|e| Fault::Internal(e.to_string()))?, &city)?;
    let events = state.store.events_between(start, end, &[EventKind::Escalated], MOST_ESCALATIONS).await?;
    let capped = events.len() as i64 >= MOST_ESCALATIONS;
    let ids: Vec<i64> = events.iter().map(|(seq, _)| *seq).collect::<BTreeSet<_>>().into_iter().collect();
    // Department → escalated, resolved, merged, still open.
    let mut by: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        // Read by id alone and the internal services left out here: asked for the
        // public services too, SQLite walked their index instead (90 ms a chunk
        // among 1,000,000 requests; 1 ms by id).
        let q = RequestQuery { ids: chunk.to_vec(), limit: CHUNK as u32, ..Default::default() };
        for r in state.store.list_requests(&q).await?.into_iter().filter(|r| public.contains(&r.service_code)) {
            let row = by.entry(r.assignment.department.clone()).or_default();
            row[0] += 1;
            match r.status {
                Status::Resolved | Status::Closed => row[1] += 1,
                Status::Duplicate => row[2] += 1,
                _ => row[3] += 1,
            }
        }
    }
    let mut totals = [0u64; 4];
    for row in by.values() {
        for (t, n) in totals.iter_mut().zip(row) {
            *t += n;
        }
    }
    let outcomes = [("resolved", totals[1]), ("merged", totals[2]), ("still_open", totals[3])];
    let bars = published_bars(outcomes.iter().map(|(k, n)| (w.get(k), *n)));
    let mut note = format!("{} {}", w.get("escalations_note"), w.get("suppressed_note"));
    if capped {
        note = format!("{note} {}", w.get("escalations_capped").replace("{n}", &MOST_ESCALATIONS.to_string()));
    }
    let mut s = section(
        "escalations",
        w.get("escalations"),
        note,
        if bars.is_empty() { String::new() } else { chart::bars(&w.get("escalations_chart"), &bars) },
        ["department", "escalated", "resolved", "merged", "still_open"].iter().map(|k| w.get(k)).collect(),
    );
    let mut rows: Vec<(String, [u64; 4])> =
        by.into_iter().map(|(d, row)| (city.department_name_in(&d, w.0.code).to_owned(), row)).collect();
    rows.sort_by(|a, b| b.1[0].cmp(&a.1[0]).then(a.0.cmp(&b.0)));
    s.rows = rows
        .into_iter()
        .map(|(name, row)| std::iter::once(cell(name)).chain(row.iter().map(|n| suppressed(*n))).collect())
        .collect();
    Ok(s)
}

/// The open requests by how long they have waited.
async fn backlog(state: &AppState, w: &Words, open: &RequestQuery, now: Timestamp) -> Result<Section, Fault> {
    let ages = operations::ages(state, open, now).await?;
    let names: Vec<String> = (0..ages.len()).map(|i| w.get(&format!("age_{i}"))).collect();
    let bars = published_bars(names.iter().cloned().zip(ages.iter().map(|n| n.unsigned_abs())));
    let mut s = section(
        "backlog",
        w.get("backlog"),
        format!("{} {}", w.get("backlog_note"), w.get("suppressed_note")),
        if bars.is_empty() { String::new() } else { chart::bars(&w.get("backlog_chart"), &bars) },
        vec![w.get("age"), w.get("open")],
    );
    s.compact = true;
    s.rows = names.into_iter().zip(&ages).map(|(name, n)| vec![cell(name), suppressed(n.unsigned_abs())]).collect();
    Ok(s)
}

/// The squares of about 550 m with far more requests than usual, on a map and in a
/// table. Read from the grid rollup of the departments that handle no internal
/// service, so that no internal request is ever counted in it.
async fn hotspots(state: &AppState, w: &Words, choice: &Choice, period: (Date, Date)) -> Result<Section, Fault> {
    let city = state.city();
    let internal: BTreeSet<String> = city.services().filter(|s| !s.is_public()).map(|s| s.department.clone()).collect();
    let departments: Vec<String> =
        city.departments.iter().map(|d| d.code.clone()).filter(|d| !internal.contains(d)).collect();
    let hot = recurring::hot_squares(state, period, Some(&departments)).await?;
    let (svg, centres) = recurring::hot_map(&city, choice.layer.clone(), &hot, &w.get("hotspots_map"));
    let note = if hot.is_empty() { w.get("hotspots_none") } else { w.get("hotspots_note") };
    let mut s =
        section("hotspots", w.get("hotspots"), note, svg, vec![w.get("where"), w.get("requests"), w.get("usual")]);
    s.rows = (1..)
        .zip(hot.iter().zip(&centres))
        .map(|(n, (h, centre))| {
            let usual = h.expected.round() as u64;
            let usual = if usual < LEAST { suppressed(1) } else { number(usual) };
            vec![cell(format!("{n}. {}", recurring::place_name(&city, *centre))), number(h.count.unsigned_abs()), usual]
        })
        .collect();
    Ok(s)
}
