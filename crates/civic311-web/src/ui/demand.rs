//! `/staff/reports/demand`: when requests come in, by hour of the week and channel
//! (for staffing the phones and the crews), and how satisfied residents were with
//! each category. Analysts and administrators see every department, supervisors
//! theirs; everyone else is refused.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use civic311_app::reports::tally;
use civic311_domain::report::rollup::HOUR_OF_WEEK;
use civic311_domain::request::Channel;

use super::chart;
use super::reports::{Frame, Params, Section, TOO_FEW, cell, dash, number, too_few};
use super::{Fault, Page, Staff, query_string};
use crate::AppState;

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A channel as staff name it.
fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Web => "Web portal",
        Channel::Mobile => "Mobile app",
        Channel::Phone => "Phone",
        Channel::Sms => "Text message",
        Channel::Email => "Email",
        Channel::WalkIn => "Walk-in",
        Channel::Internal => "Staff",
    }
}

/// `GET /staff/reports/demand`.
pub async fn page(State(state): State<AppState>, staff: Staff, Query(p): Query<Params>) -> Page {
    let frame = Frame::new(&state, &staff, &p, "demand", "/staff/reports/demand")?;
    let by_service = match frame.run(&state, &staff, Some("service_code")).await {
        Ok(r) => r,
        Err(fault) => return frame.refused(fault),
    };
    let mut frame = frame;
    frame.warn_if_filling(&state).await?;
    frame.page.layers.clear();
    let channel = p.channel.clone().filter(|c| !c.is_empty());
    if let Some(c) = &channel
        && !Channel::ALL.iter().any(|x| x.as_str() == c)
    {
        let known: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        let why = format!("Not done: channel — '{c}' is not one of {}.", known.join(", "));
        return frame.refused(Fault::Refused(StatusCode::BAD_REQUEST, why));
    }
    frame.page.channels = std::iter::once((String::new(), "All channels".to_owned(), channel.is_none()))
        .chain(
            Channel::ALL
                .iter()
                .map(|c| (c.as_str().to_owned(), channel_label(*c).to_owned(), channel.as_deref() == Some(c.as_str()))),
        )
        .collect();
    // The grid of hours has no category: the filter applies to satisfaction only.
    let departments = frame.departments();
    let hours = tally::read_by_department(&state, HOUR_OF_WEEK, (frame.from, frame.to), departments.as_deref()).await?;
    let mut grid = vec![vec![0.0; 24]; 7];
    let mut per_channel: std::collections::BTreeMap<String, (i64, Vec<i64>)> = Default::default();
    for (key, t) in &hours {
        let (Some(c), Some(Ok(h))) = (key.first(), key.get(1).map(|h| h.parse::<usize>())) else { continue };
        if h >= 168 {
            continue;
        }
        let n = t.counts.opened;
        let entry = per_channel.entry(c.clone()).or_insert_with(|| (0, vec![0; 168]));
        entry.0 += n;
        entry.1[h] += n;
        if channel.as_ref().is_none_or(|chosen| chosen == c) {
            grid[h / 24][h % 24] += n as f64;
        }
    }
    let chosen_name = channel
        .as_deref()
        .and_then(|c| Channel::ALL.iter().find(|x| x.as_str() == c))
        .map_or("all channels", |c| channel_label(*c));
    frame.page.sections =
        vec![hour_of_week(&grid, chosen_name), channels(&per_channel), satisfaction(&state.city(), &by_service)];
    let mut query: Vec<(&str, &str)> = frame.base.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if let Some(c) = &channel {
        query.push(("channel", c));
    }
    let query = query_string(&query);
    frame.finish(&p, &query)
}

fn hour_of_week(grid: &[Vec<f64>], channel: &str) -> Section {
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let days: Vec<String> = DAYS.iter().map(|d| (*d).to_owned()).collect();
    let mut headers = vec!["Hour".to_owned()];
    headers.extend(days.iter().cloned());
    Section {
        id: "hour-of-week",
        title: format!("Requests by hour of the week: {channel}"),
        note: Some(
            "Requests filed in the period, by the local hour and weekday they came in; darker is busier. The table \
             has an hour per row and a weekday per column."
                .into(),
        ),
        svg: chart::heat(&format!("Requests by hour of the week, {channel}"), &days, &hours, grid),
        headers,
        rows: (0..24)
            .map(|h| {
                let mut row = vec![cell(format!("{h:02}:00"))];
                row.extend((0..7).map(|d| number(grid[d][h] as u64)));
                row
            })
            .collect(),
        compact: true,
        csv: String::new(),
    }
}

/// Each channel's requests and its busiest hour of the week.
fn channels(per_channel: &std::collections::BTreeMap<String, (i64, Vec<i64>)>) -> Section {
    let all: i64 = per_channel.values().map(|(n, _)| n).sum();
    let mut rows: Vec<(&String, &(i64, Vec<i64>))> = per_channel.iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let name =
        |c: &str| Channel::ALL.iter().find(|x| x.as_str() == c).map_or(c.to_owned(), |x| channel_label(*x).to_owned());
    let bars: Vec<(String, f64)> = rows.iter().map(|(c, (n, _))| (name(c), *n as f64)).collect();
    Section {
        id: "channels",
        title: "Requests by channel".into(),
        note: None,
        svg: if bars.is_empty() { String::new() } else { chart::bars("Requests by channel", &bars) },
        headers: vec!["Channel".into(), "Requests".into(), "Share".into(), "Busiest hour".into()],
        rows: rows
            .iter()
            .map(|(c, (n, by_hour))| {
                let busiest = by_hour.iter().enumerate().max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i)));
                vec![
                    cell(name(c)),
                    number(n.unsigned_abs()),
                    cell(if all > 0 { format!("{:.0}%", *n as f64 * 100.0 / all as f64) } else { "–".into() }),
                    cell(busiest.map_or_else(|| "–".into(), |(h, _)| format!("{} {:02}:00", DAYS[h / 24], h % 24))),
                ]
            })
            .collect(),
        compact: true,
        csv: String::new(),
    }
}

/// Residents' ratings of each category, most rated first.
fn satisfaction(city: &crate::CityModel, by_service: &civic311_app::reports::Report) -> Section {
    let mut rows: Vec<_> = by_service.rows.iter().filter(|(_, m)| m.rating_count > 0).collect();
    rows.sort_by(|a, b| b.1.rating_count.cmp(&a.1.rating_count).then(a.0.cmp(&b.0)));
    let name = |k: &[Option<String>]| {
        let code = k[0].clone().unwrap_or_default();
        city.service(&code).map_or(code, |s| s.name.clone())
    };
    let bars: Vec<(String, f64)> = rows
        .iter()
        .filter(|(_, m)| m.rating_count >= TOO_FEW)
        .take(10)
        .map(|(k, m)| (name(k), (m.rating_mean.unwrap_or(0.0) * 10.0).round() / 10.0))
        .collect();
    Section {
        id: "satisfaction",
        title: "Satisfaction by category".into(),
        note: Some(format!(
            "Ratings residents gave, 1 to 5, to requests closed in the period. Fewer than {TOO_FEW} ratings is too \
             few to judge."
        )),
        svg: if bars.is_empty() { String::new() } else { chart::bars("Mean rating by category, 1 to 5", &bars) },
        headers: vec!["Category".into(), "Closed".into(), "Ratings".into(), "Mean rating".into()],
        rows: rows
            .iter()
            .map(|(k, m)| {
                let mean = match m.rating_mean {
                    Some(x) if m.rating_count >= TOO_FEW => cell(format!("{x:.1}")),
                    Some(_) => too_few(format!("too few ({})", m.rating_count)),
                    None => dash(),
                };
                vec![cell(name(k)), number(m.closed), number(m.rating_count), mean]
            })
            .collect(),
        compact: true,
        csv: String::new(),
    }
}
