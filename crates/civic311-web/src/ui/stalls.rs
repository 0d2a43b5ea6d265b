//! `/staff/reports/stalls`: where work slows down — how long requests closed in the
//! period spent in each status and with each department (from their event history,
//! kept in the rollups), which departments pass work to which, and the open requests
//! that have waited longest at each stage. Analysts and administrators see every
//! department, supervisors theirs; everyone else is refused.

use axum::extract::{Query, State};
use civic311_app::reports::tally::{self, Tallies};
use civic311_domain::report::rollup::{DEPARTMENT_TIME, STATUS_TIME, TRANSFERS, Totals};
use civic311_domain::request::Status;
use civic311_store::{RequestQuery, Sort};

use super::chart;
use super::queue::status_label;
use super::reports::{Cell, Frame, Params, Section, TOO_FEW, cell, dash, duration, median_cell, number, too_few};
use super::{Fault, Page, Staff, query_string};
use crate::AppState;

/// Open requests listed for each stage.
const LONGEST: u32 = 5;

/// `GET /staff/reports/stalls`.
pub async fn page(State(state): State<AppState>, staff: Staff, Query(p): Query<Params>) -> Page {
    let frame = Frame::new(&state, &staff, &p, "stalls", "/staff/reports/stalls")?;
    let total = match frame.run(&state, &staff, None).await {
        Ok(r) => r.total,
        Err(fault) => return frame.refused(fault),
    };
    let mut frame = frame;
    frame.warn_if_filling(&state).await?;
    // Nothing here breaks down by area.
    frame.page.layers.clear();
    let city = state.city();
    let period = (frame.from, frame.to);
    let statuses =
        tally::read(&state, STATUS_TIME, period, &|k: &[&str]| frame.keeps(k[0], k.get(1).copied()), true).await?;
    let held =
        tally::read(&state, DEPARTMENT_TIME, period, &|k: &[&str]| frame.keeps(k[0], k.get(1).copied()), true).await?;
    let moved = tally::read(
        &state,
        TRANSFERS,
        period,
        &|k: &[&str]| {
            let service = k.get(2).copied();
            frame.keeps(k[0], service) || k.get(1).is_some_and(|to| frame.keeps(to, service))
        },
        false,
    )
    .await?;
    let rate = (total.opened > 0).then(|| format!("{:.0}%", total.transfers as f64 * 100.0 / total.opened as f64));
    frame.page.tiles = vec![
        ("Closed".into(), total.closed.to_string(), "resolved or closed in the period".into()),
        ("Median time to close".into(), median_cell(&total).text, "of those closed".into()),
        (
            "Transferred".into(),
            total.transfers.to_string(),
            rate.map_or_else(|| "of none opened".into(), |r| format!("{r} of the {} opened", total.opened)),
        ),
    ];
    frame.page.sections.push(time_in_status(&statuses));
    frame.page.sections.push(time_with_department(&city, &held));
    frame.page.sections.push(transfers(&city, &moved));
    frame.page.sections.push(longest_waiting(&state, &frame).await?);
    let query = query_string(&frame.base.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
    frame.finish(&p, &query)
}

/// Median, 90th percentile and mean of a stage's times, or "too few".
fn spread_cells(t: &Totals) -> [Cell; 3] {
    let n = t.counts.opened;
    match t.hours.spread(t.counts.hours_sum) {
        Some(s) if n >= TOO_FEW as i64 => [cell(duration(s.median)), cell(duration(s.p90)), cell(duration(s.mean))],
        Some(_) => [too_few(format!("too few ({n})")), dash(), dash()],
        None => [dash(), dash(), dash()],
    }
}

fn count(t: &Totals) -> Cell {
    number(u64::try_from(t.counts.opened).unwrap_or(0))
}

/// Time in each status, in the order work moves through them.
fn time_in_status(statuses: &Tallies) -> Section {
    let by_status = tally::by(statuses, |k| k.get(2).cloned().unwrap_or_default());
    let all_hours: f64 = by_status.values().map(|t| t.counts.hours_sum).sum();
    let order = Status::ALL.iter().filter_map(|s| by_status.get(s.as_str()).map(|t| (*s, t)));
    let rows: Vec<(Status, &Totals)> = order.collect();
    let share = |t: &Totals| if all_hours > 0.0 { t.counts.hours_sum / all_hours * 100.0 } else { 0.0 };
    let bars: Vec<(String, f64)> =
        rows.iter().map(|(s, t)| (status_label(*s).to_owned(), (share(t) * 10.0).round() / 10.0)).collect();
    Section {
        id: "statuses",
        title: "Time in each status".into(),
        note: Some(format!(
            "Of the requests closed in the period: how long each spent in each status before it closed (a request \
             counts once in every status it passed through; a resolution later reopened counts as time resolved). \
             The share is of all the time those requests took. Fewer than {TOO_FEW} requests is too few to judge."
        )),
        svg: chart::bars("Share of the time to close spent in each status, percent", &bars),
        headers: vec![
            "Status".into(),
            "Requests".into(),
            "Median".into(),
            "90% within".into(),
            "Mean".into(),
            "Share of the time".into(),
        ],
        rows: rows
            .iter()
            .map(|(s, t)| {
                let [median, p90, mean] = spread_cells(t);
                vec![cell(status_label(*s)), count(t), median, p90, mean, cell(format!("{:.0}%", share(t)))]
            })
            .collect(),
        compact: false,
        csv: String::new(),
    }
}

/// Time with each department, longest mean first.
fn time_with_department(city: &crate::CityModel, held: &Tallies) -> Section {
    let by_department = tally::by(held, |k| k[0].clone());
    let mut rows: Vec<(&String, &Totals)> = by_department.iter().collect();
    let mean = |t: &Totals| t.counts.hours_sum / t.counts.opened.max(1) as f64;
    // Those with enough requests to judge first, longest mean first.
    let judged = |t: &Totals| t.counts.opened >= TOO_FEW as i64;
    rows.sort_by(|a, b| judged(b.1).cmp(&judged(a.1)).then(mean(b.1).total_cmp(&mean(a.1))).then(a.0.cmp(b.0)));
    let bars: Vec<(String, f64)> = rows
        .iter()
        .filter(|(_, t)| t.counts.opened >= TOO_FEW as i64)
        .map(|(d, t)| (city.department_name(d).to_owned(), (mean(t) / 24.0 * 10.0).round() / 10.0))
        .collect();
    Section {
        id: "departments",
        title: "Time with each department".into(),
        note: Some(
            "Of the requests closed in the period: how long each was with each department that held it, from filing \
             or transfer in to transfer out or close."
                .into(),
        ),
        svg: if bars.is_empty() { String::new() } else { chart::bars("Mean days with each department", &bars) },
        headers: vec!["Department".into(), "Requests".into(), "Median".into(), "90% within".into(), "Mean".into()],
        rows: rows
            .iter()
            .map(|(d, t)| {
                let [median, p90, mean] = spread_cells(t);
                vec![cell(city.department_name(d)), count(t), median, p90, mean]
            })
            .collect(),
        compact: false,
        csv: String::new(),
    }
}

/// Transfers between departments, most frequent pair first.
fn transfers(city: &crate::CityModel, moved: &Tallies) -> Section {
    let pairs = tally::by(moved, |k| (k[0].clone(), k.get(1).cloned().unwrap_or_default()));
    let mut rows: Vec<((String, String), i64)> = pairs.into_iter().map(|(k, t)| (k, t.counts.opened)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let name = |d: &str| city.department_name(d).to_owned();
    Section {
        id: "transfers",
        title: "Transfers between departments".into(),
        note: Some("Every transfer made in the period, by the department that passed the work on and the one that received it.".into()),
        // Pairs of names are too long to label bars with: the table says it best.
        svg: String::new(),
        headers: vec!["From".into(), "To".into(), "Transfers".into()],
        rows: rows
            .iter()
            .map(|((f, t), n)| vec![cell(name(f)), cell(name(t)), number(n.unsigned_abs())])
            .collect(),
        compact: true,
        csv: String::new(),
    }
}

/// The open requests filed longest ago in each open status, as they are now.
async fn longest_waiting(state: &AppState, frame: &Frame) -> Result<Section, Fault> {
    let city = state.city();
    let now = state.now();
    let chosen = |k: &str| frame.base.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    // Always named: the databases then find one status's open requests through an
    // index of open work, instead of walking the whole history by date.
    let departments = match (chosen("department"), &frame.scope) {
        (Some(d), _) => vec![d],
        (None, Some(mine)) => mine.clone(),
        (None, None) => city.departments.iter().map(|d| d.code.clone()).collect(),
    };
    let mut rows = Vec::new();
    for status in Status::ACTIVE {
        // One department at a time: each then reads its own open requests in age
        // order off an index; asked for all at once, PostgreSQL walked the city's
        // whole history by date (1.7 s for "open" with 1,000,000 stored).
        let mut oldest = Vec::new();
        for d in &departments {
            let q = RequestQuery {
                statuses: vec![status],
                departments: vec![d.clone()],
                service_codes: chosen("service_code").into_iter().collect(),
                sort: Sort::Oldest,
                limit: LONGEST,
                ..Default::default()
            };
            oldest.extend(state.store.list_requests(&q).await?);
        }
        oldest.sort_by(|a, b| Sort::Oldest.compare(a, b));
        oldest.truncate(LONGEST as usize);
        for r in oldest {
            let mut id = cell(r.id.to_string());
            id.href = Some(format!("/staff/requests/{}", r.id));
            rows.push(vec![
                cell(status_label(status)),
                id,
                cell(city.service(&r.service_code).map_or(r.service_code.as_str(), |s| s.name.as_str())),
                cell(city.department_name(&r.assignment.department)),
                cell(super::supervisor::waited(Some(r.requested_at), now)),
            ]);
        }
    }
    Ok(Section {
        id: "longest",
        title: "Waiting longest at each stage".into(),
        note: Some(format!(
            "Now, whatever the period: the {LONGEST} open requests filed longest ago in each open status."
        )),
        svg: String::new(),
        headers: vec![
            "Status".into(),
            "Request".into(),
            "Category".into(),
            "Department".into(),
            "Waiting since filed".into(),
        ],
        rows,
        compact: false,
        csv: String::new(),
    })
}
