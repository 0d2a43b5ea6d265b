//! The requests report read from the rollup cells: each row's stretch split into whole
//! months, weeks and days, their cells added up, and the open work at each stretch's
//! end found from the day-by-day movements (see `civic311_domain::report::rollup`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use civic311_domain::report::rollup::{BASE, Grain, SEP, Totals, day_number, pieces};

use super::{Dim, Measures, Report, ReportQuery, spans};
use crate::{App, AppError, CityModel};

/// The cube that holds every dimension `q` groups or filters by (every cube holds the
/// department a caller's scope needs): `""` for the base cube, `layer:NAME` for a
/// layer's; `None` when no one cube holds them all.
pub fn cube_for(q: &ReportQuery) -> Option<String> {
    let dims: Vec<&Dim> = q.group_by.iter().chain(q.filters.iter().map(|(d, _)| d)).filter(|d| !d.is_time()).collect();
    let layers: BTreeSet<&String> = dims
        .iter()
        .filter_map(|d| match d {
            Dim::Layer(l) => Some(l),
            _ => None,
        })
        .collect();
    match layers.len() {
        0 => Some(BASE.to_owned()),
        1 if !dims.iter().any(|d| matches!(d, Dim::Channel | Dim::Priority)) => {
            layers.into_iter().next().map(|l| format!("layer:{l}"))
        }
        _ => None,
    }
}

/// A dimension's value in a cell's key (`parts`, split at [`SEP`]) of `cube`.
fn value(dim: &Dim, parts: &[&str], city: &CityModel) -> Option<String> {
    let part = |i: usize| parts.get(i).filter(|v| !v.is_empty()).map(|v| (*v).to_owned());
    match dim {
        Dim::Service => part(0),
        Dim::Group => city.service(parts.first()?).map(|s| s.group.clone()),
        Dim::Department => part(1),
        Dim::Team => part(2),
        Dim::Channel => part(3),
        Dim::Priority => part(4),
        Dim::Layer(_) => part(3),
        Dim::Day | Dim::Week | Dim::Month => None,
    }
}

/// Where a piece's cells are added up: a row's stretch, the days outside the period,
/// or all time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Span(usize),
    Outside,
    All,
}

/// Totals per key (the values of a row's dimensions that are not time).
type ByKey = BTreeMap<Vec<Option<String>>, Totals>;

/// Reads the cells of `cube` for the pieces of `slots`, kept when they pass the
/// filters and the departments, and adds each to its slot under the values of `fixed`.
async fn read(
    app: &App,
    cube: &str,
    slots: &BTreeMap<(Grain, i32), Slot>,
    keep: &(dyn Fn(&[&str]) -> bool + Sync),
    fixed: &[Dim],
    city: &CityModel,
    spans: usize,
) -> Result<(Vec<ByKey>, ByKey, ByKey), AppError> {
    let mut by_grain: BTreeMap<Grain, Vec<i32>> = BTreeMap::new();
    for (g, start) in slots.keys() {
        by_grain.entry(*g).or_default().push(*start);
    }
    let (mut in_spans, mut outside, mut all) = (vec![ByKey::new(); spans], ByKey::new(), ByKey::new());
    // Each combination of dimensions is judged once: kept or not, and its row key.
    let mut seen: HashMap<String, Option<Vec<Option<String>>>> = HashMap::new();
    for (grain, starts) in by_grain {
        for (start, dims, data) in app.store.report_cells(cube, grain, &starts).await? {
            let key = seen.entry(dims).or_insert_with_key(|dims| {
                let parts: Vec<&str> = dims.split(SEP).collect();
                keep(&parts).then(|| fixed.iter().map(|d| value(d, &parts, city)).collect())
            });
            let Some(key) = key else { continue };
            let (into, sketches) = match slots.get(&(grain, start)) {
                Some(Slot::Span(i)) => (&mut in_spans[*i], true),
                Some(Slot::Outside) => (&mut outside, false),
                Some(Slot::All) => (&mut all, false),
                None => continue,
            };
            let totals = match into.get_mut(key) {
                Some(t) => t,
                None => into.entry(key.clone()).or_default(),
            };
            totals
                .add_encoded(&data, sketches)
                .ok_or_else(|| AppError::Internal(format!("a report cell of {cube} does not read: {data}")))?;
        }
    }
    Ok((in_spans, outside, all))
}

/// The open work (and the open work past due) a row's movements add.
fn open(t: &Totals) -> (i64, i64) {
    let c = &t.counts;
    (c.opened - c.left, c.due_in - c.due_out)
}

fn measures(t: &Totals, open_at_end: (i64, i64)) -> Measures {
    let n = |x: i64| u64::try_from(x).unwrap_or(0);
    let c = &t.counts;
    Measures {
        opened: n(c.opened),
        closed: n(c.closed),
        open_at_end: n(open_at_end.0),
        hours_to_close: t.hours.spread(c.hours_sum),
        business_hours_to_close: t.business.spread(c.business_sum),
        met: n(c.met),
        missed: n(c.missed),
        open_past_due_at_end: n(open_at_end.1),
        duplicates: n(c.duplicates),
        transfers: n(c.transfers),
        reopened: n(c.reopened),
        rating_count: n(c.rating_count),
        rating_mean: (c.rating_count > 0).then(|| c.rating_sum as f64 / c.rating_count as f64),
    }
}

/// The report `q` from the cells of `cube`.
pub async fn run(app: &App, q: ReportQuery, departments: Option<Vec<String>>, cube: &str) -> Result<Report, AppError> {
    let city = app.city();
    let spans = spans(&q, &city)?;
    let fixed: Vec<Dim> = q.group_by.iter().filter(|d| !d.is_time()).cloned().collect();
    let keep = |parts: &[&str]| {
        let in_scope =
            departments.as_ref().is_none_or(|mine| parts.get(1).is_some_and(|d| mine.iter().any(|m| m == d)));
        in_scope && q.filters.iter().all(|(d, values)| value(d, parts, &city).is_some_and(|v| values.contains(&v)))
    };
    // Each row's stretch as whole months, weeks and days.
    let per_span: Vec<Vec<(Grain, i32)>> =
        spans.iter().map(|b| pieces(day_number(b.days.0), day_number(b.days.1))).collect();
    let (from, to) = (day_number(q.from), day_number(q.to));
    // The open work at the period's end: all that ever entered less all that left by
    // then — read before the period or after it, whichever is shorter.
    let (lo, hi) = app.store.report_days(cube).await?.unwrap_or((from, to));
    let before = from.saturating_sub(lo.min(from));
    let after = hi.max(to).saturating_sub(to);
    let (outside, from_all) =
        if before <= after { (pieces(lo.min(from), from - 1), false) } else { (pieces(to + 1, hi), true) };
    let mut slots: BTreeMap<(Grain, i32), Slot> = BTreeMap::new();
    for (i, p) in per_span.iter().enumerate() {
        slots.extend(p.iter().map(|piece| (*piece, Slot::Span(i))));
    }
    slots.extend(outside.iter().map(|piece| (*piece, Slot::Outside)));
    if from_all {
        slots.insert((Grain::All, Grain::All.start(0)), Slot::All);
    }
    let (in_spans, outside, all) = read(app, cube, &slots, &keep, &fixed, &city, spans.len()).await?;
    let keys: BTreeSet<Vec<Option<String>>> =
        in_spans.iter().flat_map(|m| m.keys()).chain(outside.keys()).chain(all.keys()).cloned().collect();

    let mut rows = Vec::new();
    let mut whole = Totals::default();
    let mut open_at_end = (0, 0);
    for key in &keys {
        let empty = Totals::default();
        let span_cell = |i: usize| in_spans[i].get(key).unwrap_or(&empty);
        // Open work at the end of each span, from before the period forwards or from
        // all time backwards.
        let mut ends = vec![(0, 0); spans.len()];
        if from_all {
            let (a, s) = (open(all.get(key).unwrap_or(&empty)), open(outside.get(key).unwrap_or(&empty)));
            let mut at = (a.0 - s.0, a.1 - s.1);
            for i in (0..spans.len()).rev() {
                ends[i] = at;
                let moved = open(span_cell(i));
                at = (at.0 - moved.0, at.1 - moved.1);
            }
        } else {
            let mut at = open(outside.get(key).unwrap_or(&empty));
            for (i, end) in ends.iter_mut().enumerate() {
                let moved = open(span_cell(i));
                at = (at.0 + moved.0, at.1 + moved.1);
                *end = at;
            }
        }
        if let Some(last) = ends.last() {
            open_at_end = (open_at_end.0 + last.0, open_at_end.1 + last.1);
        }
        for (i, bucket) in spans.iter().enumerate() {
            let c = span_cell(i);
            whole.merge(c);
            if c.counts.opened > 0 || c.counts.closed > 0 || ends[i].0 > 0 {
                let mut values = key.iter();
                let row_key: Vec<Option<String>> = q
                    .group_by
                    .iter()
                    .map(|d| if d.is_time() { Some(bucket.key.clone()) } else { values.next().cloned().flatten() })
                    .collect();
                rows.push((row_key, measures(c, ends[i])));
            }
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Report { time_zone: city.settings.time_zone.clone(), total: measures(&whole, open_at_end), rows, query: q })
}
