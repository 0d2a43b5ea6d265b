//! The flow cubes (`civic311_domain::report::rollup::STATUS_TIME` and those after it)
//! read over a period: each key's cells added up over the whole months, weeks and days
//! that cover it, so a read costs in proportion to the cells, never the requests.

use std::collections::BTreeMap;

use civic311_domain::report::rollup::{Grain, SEP, Totals, day_number, of_department, pieces};
use jiff::civil::Date;

use crate::{App, AppError};

/// Totals per key, the key being the cell's dimension values in the cube's order.
pub type Tallies = BTreeMap<Vec<String>, Totals>;

/// The cells of `cube` over the local days `from` to `to` (both inclusive) whose
/// dimension values `keep` accepts, added up per key; with their time sketches when
/// `sketches`.
pub async fn read(
    app: &App,
    cube: &str,
    (from, to): (Date, Date),
    keep: &(dyn Fn(&[&str]) -> bool + Sync),
    sketches: bool,
) -> Result<Tallies, AppError> {
    let mut by_grain: BTreeMap<Grain, Vec<i32>> = BTreeMap::new();
    for (grain, start) in pieces(day_number(from), day_number(to)) {
        by_grain.entry(grain).or_default().push(start);
    }
    let mut out = Tallies::new();
    for (grain, starts) in by_grain {
        for (_, dims, data) in app.store.report_cells(cube, grain, &starts).await? {
            let parts: Vec<&str> = dims.split(SEP).collect();
            if !keep(&parts) {
                continue;
            }
            let key = parts.iter().map(|p| (*p).to_owned()).collect();
            out.entry(key)
                .or_default()
                .add_encoded(&data, sketches)
                .ok_or_else(|| AppError::Internal(format!("a report cell of {cube} does not read: {data}")))?;
        }
    }
    Ok(out)
}

/// A cube kept for every department at once and for each (see
/// `civic311_domain::report::rollup::of_department`) over the local days `from` to
/// `to`: the whole city's when `departments` is `None`, else the named departments'
/// added up.
pub async fn read_by_department(
    app: &App,
    cube: &str,
    period: (Date, Date),
    departments: Option<&[String]>,
) -> Result<Tallies, AppError> {
    let Some(departments) = departments else { return read(app, cube, period, &|_: &[&str]| true, false).await };
    let mut out = Tallies::new();
    for d in departments {
        for (key, t) in read(app, &of_department(cube, d), period, &|_: &[&str]| true, false).await? {
            out.entry(key).or_default().merge(&t);
        }
    }
    Ok(out)
}

/// Adds up `tallies` by the values `by` picks from each key.
pub fn by<K: Ord>(tallies: &Tallies, by: impl Fn(&[String]) -> K) -> BTreeMap<K, Totals> {
    let mut out: BTreeMap<K, Totals> = BTreeMap::new();
    for (key, t) in tallies {
        out.entry(by(key)).or_default().merge(t);
    }
    out
}
