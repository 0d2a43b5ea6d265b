//! `/staff/reports/recurring`: problems that keep coming back — grid squares of the
//! city with more requests than their own recent past would lead one to expect, the
//! same place reported again soon after a resolution there, the same category and team
//! escalating again and again, and the share of contacts that were about something
//! already reported. Analysts and administrators see every
//! department, supervisors theirs; everyone else is refused.

use axum::extract::{Query, State};
use civic311_app::reports::tally;
use civic311_domain::geo::Point;
use civic311_domain::report::rollup::{
    ESCALATIONS, FOLLOWS, GRID, GRID_DEGREES, REPEAT_WITHIN_DAYS, REPEATS, grid_corner, place_centre,
};
use jiff::ToSpan;
use jiff::civil::Date;

use super::chart;
use super::reports::{Frame, Params, Section, cell, number};
use super::{Fault, Page, Staff, query_string};
use crate::AppState;

/// Earlier stretches, each as long as the period, a square's expected count is the
/// mean of.
const BASELINE_STRETCHES: i64 = 4;
/// Fewest requests in the period for a square to count as a hotspot.
const HOTSPOT_LEAST: i64 = 5;
/// How far above its expected count a hotspot stands, in standard deviations of a
/// count that varies by chance (the square root of what is expected).
const HOTSPOT_SIGMAS: f64 = 3.0;
/// Rows shown at most in each table.
const TOP: usize = 10;
/// Fewest escalations of one category and team in the period to count as recurring.
const RECURRING_LEAST: i64 = 2;

/// `GET /staff/reports/recurring`.
pub async fn page(State(state): State<AppState>, staff: Staff, Query(p): Query<Params>) -> Page {
    let frame = Frame::new(&state, &staff, &p, "recurring", "/staff/reports/recurring")?;
    let by_department = match frame.run(&state, &staff, Some("department")).await {
        Ok(r) => r,
        Err(fault) => return frame.refused(fault),
    };
    let mut frame = frame;
    frame.warn_if_filling(&state).await?;
    let hot = hotspots(&state, &frame).await?;
    let (again, reported_again) = repeats(&state, &frame).await?;
    let escalations = escalations(&state, &frame).await?;
    let contacts = contacts(&state, &frame, &by_department).await?;
    frame.page.tiles = vec![
        ("Hotspots".into(), hot.rows.len().to_string(), "squares well above their usual count".into()),
        (
            "Reported again".into(),
            reported_again.to_string(),
            format!("within {REPEAT_WITHIN_DAYS} days of a resolution at the same place"),
        ),
        (
            "Recurring escalations".into(),
            escalations.rows.len().to_string(),
            format!("category and team pairs escalated {RECURRING_LEAST} or more times"),
        ),
    ];
    frame.page.sections = vec![hot, again, escalations, contacts];
    let query = query_string(&frame.base.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
    frame.finish(&p, &query)
}

/// Days from `from` to `to`, both counted.
fn days(from: Date, to: Date) -> i64 {
    from.until(to).map_or(0, |s| i64::from(s.get_days())) + 1
}

/// A grid square whose count in a period stands well above its usual count.
pub(crate) struct Hot {
    pub(crate) square: String,
    /// Requests in the period.
    pub(crate) count: i64,
    /// The mean of the stretches before it.
    pub(crate) expected: f64,
    /// Standard deviations above `expected`.
    pub(crate) above: f64,
}

/// Grid squares whose count over the local days `from` to `to` stands well above the
/// mean of the [`BASELINE_STRETCHES`] stretches of the same length before it: at least
/// [`HOTSPOT_LEAST`] requests and more than [`HOTSPOT_SIGMAS`] above; the strongest
/// [`TOP`], strongest first. Over `departments` (every one when `None`).
pub(crate) async fn hot_squares(
    state: &AppState,
    (from, to): (Date, Date),
    departments: Option<&[String]>,
) -> Result<Vec<Hot>, Fault> {
    let length = days(from, to);
    let now = tally::read_by_department(state, GRID, (from, to), departments).await?;
    let before = match (from.checked_sub((length * BASELINE_STRETCHES).days()), from.checked_sub(1.days())) {
        (Ok(a), Ok(b)) => tally::read_by_department(state, GRID, (a, b), departments).await?,
        _ => Default::default(),
    };
    let now = tally::by(&now, |k| k[0].clone());
    let before = tally::by(&before, |k| k[0].clone());
    let mut hot: Vec<Hot> = now
        .iter()
        .filter_map(|(square, t)| {
            let count = t.counts.opened;
            let expected = before.get(square).map_or(0.0, |b| b.counts.opened as f64 / BASELINE_STRETCHES as f64);
            let spread = expected.max(1.0).sqrt();
            let above = (count as f64 - expected) / spread;
            (count >= HOTSPOT_LEAST && above > HOTSPOT_SIGMAS).then(|| Hot {
                square: square.clone(),
                count,
                expected,
                above,
            })
        })
        .collect();
    hot.sort_by(|a, b| b.above.total_cmp(&a.above).then(a.square.cmp(&b.square)));
    hot.truncate(TOP);
    Ok(hot)
}

/// The hotspots drawn over the features of `layer`, numbered as their table rows, or
/// nothing when there are none; each with its centre.
pub(crate) fn hot_map(
    city: &crate::CityModel,
    layer: Option<String>,
    hot: &[Hot],
    label: &str,
) -> (String, Vec<Point>) {
    let strongest = hot.first().map_or(1.0, |h| h.above);
    let mut drawn = Vec::new();
    let mut centres = Vec::new();
    for (n, h) in (1..).zip(hot) {
        let Some((lat, lon)) = grid_corner(&h.square) else { continue };
        drawn.push(([lon, lat], GRID_DEGREES, h.above / strongest, n));
        centres.push(Point { lat: lat + GRID_DEGREES / 2.0, lon: lon + GRID_DEGREES / 2.0 });
    }
    let outline: Vec<_> = city.boundaries.features().iter().filter(|f| Some(&f.layer) == layer.as_ref()).collect();
    let svg =
        if drawn.is_empty() { String::new() } else { super::map::squares(&outline, &drawn, label).unwrap_or_default() };
    (svg, centres)
}

/// Where a hotspot's centre lies, by the areas around it (or its coordinates).
pub(crate) fn place_name(city: &crate::CityModel, centre: Point) -> String {
    let names = areas_at(city, centre);
    if names.is_empty() { format!("{:.4}, {:.4}", centre.lat, centre.lon) } else { names.join(" · ") }
}

/// Grid squares whose count in the period stands well above the mean of the
/// [`BASELINE_STRETCHES`] stretches of the same length before it.
async fn hotspots(state: &AppState, frame: &Frame) -> Result<Section, Fault> {
    let city = state.city();
    let hot = hot_squares(state, (frame.from, frame.to), frame.departments().as_deref()).await?;
    let label = "Hotspots: squares with far more requests than usual, numbered as below";
    let (svg, centres) = hot_map(&city, frame.layer(), &hot, label);
    let rows = (1..)
        .zip(hot.iter().zip(&centres))
        .map(|(n, (h, centre))| {
            vec![
                cell(format!("{n}. {}", place_name(&city, *centre))),
                number(h.count.unsigned_abs()),
                cell(format!("{:.1}", h.expected)),
                cell(if h.expected > 0.0 { format!("{:.1}×", h.count as f64 / h.expected) } else { "new".into() }),
            ]
        })
        .collect();
    Ok(Section {
        id: "hotspots",
        title: "Hotspots".into(),
        note: Some(format!(
            "Squares of about 550 m whose requests in the period number at least {HOTSPOT_LEAST} and stand more than \
             {HOTSPOT_SIGMAS:.0} standard deviations above what is expected: the mean of the {BASELINE_STRETCHES} \
             stretches of the same length before it. The strongest {TOP}, strongest first.{}",
            frame.every_category()
        )),
        svg,
        headers: vec!["Where".into(), "Requests".into(), "Expected".into(), "Against usual".into()],
        rows,
        compact: false,
        csv: String::new(),
    })
}

/// The places reported again most often within [`REPEAT_WITHIN_DAYS`] of a resolution
/// there, and how many such reports the period had in all.
async fn repeats(state: &AppState, frame: &Frame) -> Result<(Section, i64), Fault> {
    let city = state.city();
    let keep = |k: &[&str]| frame.keeps(k[0], k.get(1).copied());
    let read = tally::read(state, REPEATS, (frame.from, frame.to), &keep, false).await?;
    let by_place = tally::by(&read, |k| (k.get(1).cloned().unwrap_or_default(), k.get(2).cloned().unwrap_or_default()));
    let all: i64 = by_place.values().map(|t| t.counts.opened).sum();
    let mut rows: Vec<((String, String), i64)> = by_place.into_iter().map(|(k, t)| (k, t.counts.opened)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    rows.truncate(TOP);
    let table = rows
        .iter()
        .map(|((service, place), n)| {
            let category = city.service(service).map_or_else(|| service.clone(), |s| s.name.clone());
            let mut at = cell(describe_place(&city, service, place));
            if let Some(id) = place.strip_prefix("asset:") {
                let kinds = city.service(service).and_then(|s| s.assets.as_ref()).map(|a| a.types.clone());
                if let Some(a) = kinds.and_then(|k| city.assets.find(&k, id).cloned()) {
                    at.href = Some(format!("/staff/assets/{}/{}", super::encode(&a.kind), super::encode(&a.id)));
                }
            }
            vec![at, cell(category), number(n.unsigned_abs())]
        })
        .collect();
    let section = Section {
        id: "reported-again",
        title: "Reported again after a resolution".into(),
        note: Some(format!(
            "Reports filed in the period within {REPEAT_WITHIN_DAYS} days after another report of the same category \
             at the same place was resolved: the same asset, or without one the same square of about 33 m. The \
             places with most, most first; {all} in all."
        )),
        svg: String::new(),
        headers: vec!["Where".into(), "Category".into(), "Reported again".into()],
        rows: table,
        compact: false,
        csv: String::new(),
    };
    Ok((section, all))
}

/// A place of a repeat as staff read it: the asset's name, or the areas a square lies in.
fn describe_place(city: &crate::CityModel, service: &str, place: &str) -> String {
    if let Some(id) = place.strip_prefix("asset:") {
        let kinds = city.service(service).and_then(|s| s.assets.as_ref()).map(|a| a.types.clone()).unwrap_or_default();
        return city.assets.find(&kinds, id).map_or_else(|| id.to_owned(), |a| a.label());
    }
    let Some((lat, lon)) = place_centre(place) else { return place.to_owned() };
    let names = areas_at(city, Point { lat, lon });
    format!("{lat:.4}, {lon:.4}{}", if names.is_empty() { String::new() } else { format!(" ({})", names.join(" · ")) })
}

/// The names of the areas (one per layer) a point lies in.
fn areas_at(city: &crate::CityModel, p: Point) -> Vec<String> {
    let found = city.boundaries.locate(&p);
    found.iter().map(|(layer, f)| city.boundaries.feature_name(layer, f).unwrap_or(f).to_owned()).collect()
}

/// Categories and teams that escalated again and again in the period.
async fn escalations(state: &AppState, frame: &Frame) -> Result<Section, Fault> {
    let city = state.city();
    let keep = |k: &[&str]| frame.keeps(k[0], k.get(1).copied());
    let read = tally::read(state, ESCALATIONS, (frame.from, frame.to), &keep, false).await?;
    let mut rows: Vec<(&Vec<String>, i64)> =
        read.iter().map(|(k, t)| (k, t.counts.opened)).filter(|(_, n)| *n >= RECURRING_LEAST).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    rows.truncate(TOP);
    let part = |k: &Vec<String>, i: usize| k.get(i).cloned().unwrap_or_default();
    let service = |k: &Vec<String>| city.service(&part(k, 1)).map_or_else(|| part(k, 1), |s| s.name.clone());
    let team = |k: &Vec<String>| {
        let code = part(k, 2);
        city.workflow
            .directory
            .teams
            .get(&code)
            .map_or_else(|| if code.is_empty() { "No team".to_owned() } else { code.clone() }, |t| t.name.clone())
    };
    let bars: Vec<(String, f64)> =
        rows.iter().map(|(k, n)| (format!("{} · {}", service(k), team(k)), *n as f64)).collect();
    Ok(Section {
        id: "escalations",
        title: "Recurring escalations".into(),
        note: Some(format!(
            "Escalations made in the period, by category and the team the request is with now; pairs escalated \
             {RECURRING_LEAST} or more times, most first."
        )),
        svg: if bars.is_empty() { String::new() } else { chart::bars("Escalations by category and team", &bars) },
        headers: vec!["Category".into(), "Team".into(), "Department".into(), "Escalations".into()],
        rows: rows
            .iter()
            .map(|(k, n)| {
                vec![cell(service(k)), cell(team(k)), cell(city.department_name(&part(k, 0))), number(n.unsigned_abs())]
            })
            .collect(),
        compact: false,
        csv: String::new(),
    })
}

/// Contacts about something already reported: reports merged as duplicates and
/// residents following an existing request, against all contacts, by department.
async fn contacts(
    state: &AppState,
    frame: &Frame,
    by_department: &civic311_app::reports::Report,
) -> Result<Section, Fault> {
    let city = state.city();
    let keep = |k: &[&str]| frame.keeps(k[0], k.get(1).copied());
    let follows = tally::read(state, FOLLOWS, (frame.from, frame.to), &keep, false).await?;
    let follows = tally::by(&follows, |k| k[0].clone());
    let mut rows = Vec::new();
    let mut bars = Vec::new();
    for (key, m) in &by_department.rows {
        let d = key[0].clone().unwrap_or_default();
        let followed = follows.get(&d).map_or(0, |t| t.counts.opened.unsigned_abs());
        let contacts = m.opened + followed;
        let repeat = m.duplicates + followed;
        let share = (contacts > 0).then(|| repeat as f64 * 100.0 / contacts as f64);
        bars.push((city.department_name(&d).to_owned(), share.unwrap_or(0.0).round()));
        rows.push(vec![
            cell(city.department_name(&d)),
            number(m.opened),
            number(m.duplicates),
            number(followed),
            cell(share.map_or_else(|| "–".into(), |s| format!("{s:.0}%"))),
        ]);
    }
    Ok(Section {
        id: "repeat-contacts",
        title: "Repeat contacts".into(),
        note: Some(
            "Contacts in the period that were about something already reported: reports merged as duplicates (by \
             the day they were filed) and residents asking to follow an existing request, as a share of all reports \
             and follows. Status look-ups are not recorded, so they are not counted."
                .into(),
        ),
        svg: if bars.iter().all(|(_, v)| *v == 0.0) {
            String::new()
        } else {
            chart::bars("Share of contacts about something already reported, percent", &bars)
        },
        headers: vec![
            "Department".into(),
            "Reports".into(),
            "Merged as duplicates".into(),
            "Follows".into(),
            "About something already reported".into(),
        ],
        rows,
        compact: false,
        csv: String::new(),
    })
}
