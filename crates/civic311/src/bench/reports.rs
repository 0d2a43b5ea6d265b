//! `civic311 bench reports`: the reporting API and the dashboards with many requests
//! stored. The rollups are built first (timed); then one-year reports grouped by two
//! dimensions are timed in turn, the dashboard pages over HTTP, and how long a report
//! takes right after a burst of new requests (which it adds before it reads).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use civic311_app::App;
use civic311_app::reports::ReportQuery;
use civic311_domain::org::Role;

use super::{Client, demo_store, percentile, raw_sql, spawn_server, staff_session};

/// Two dimensions at a time, as a director's or an analyst's questions group them.
const GROUPINGS: [&str; 6] = [
    "service_code,layer:wards",
    "department,month",
    "team,week",
    "service_code,channel",
    "group,priority",
    "layer:neighborhoods,month",
];

fn ms(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    percentile(v, p) * 1000.0
}

pub async fn run(url: &str, requests: usize, samples: usize, rebuild: bool) -> Result<()> {
    let store = demo_store(url, requests).await?;
    if url.starts_with("postgres") {
        raw_sql(url, &[("ANALYZE", vec![])]).await?;
    }
    let app = App::load(store.clone(), civic311_app::system_clock(), None, civic311_codecs::codecs()).await?;
    let stored = store.count_requests().await?;
    if rebuild {
        store.reset_reports().await?;
    }
    let pending = store.reports_pending().await?;
    let started = Instant::now();
    let batch = if rebuild { civic311_app::rollup::REBUILD_BATCH } else { civic311_app::rollup::BATCH };
    while civic311_app::rollup::drain_by(&app, 100_000, batch).await? > 0 {}
    let built = started.elapsed();
    println!(
        "backend {} | {stored} requests stored | rollups: {pending} requests added in {:.1} s ({:.0} a second)",
        store.backend(),
        built.as_secs_f64(),
        pending as f64 / built.as_secs_f64().max(1e-3)
    );

    let city = app.city();
    let today = (app.clock)().to_zoned(city.tz.clone()).date();
    let year_ago = today.checked_sub(jiff::Span::new().days(364))?;
    for grouping in GROUPINGS {
        let params = vec![
            ("from".to_owned(), year_ago.to_string()),
            ("to".to_owned(), today.to_string()),
            ("group_by".to_owned(), grouping.to_owned()),
        ];
        let q = ReportQuery::parse(&params, &city)?;
        let mut times = Vec::with_capacity(samples);
        let mut rows = 0;
        for _ in 0..samples {
            let t = Instant::now();
            let r = civic311_app::reports::run(&app, q.clone(), None).await?;
            times.push(t.elapsed());
            rows = r.rows.len();
        }
        println!(
            "  one year by {grouping:<26} | {rows:>5} rows | p50 {:.1} ms p99 {:.1} ms",
            ms(&mut times, 0.5),
            ms(&mut times, 0.99)
        );
    }

    // The dashboards, as an analyst signed in opens them.
    let token = staff_session(&store, "bench-analyst", Role::Analyst).await?;
    let addr = spawn_server(store.clone()).await?;
    let mut client = Client::connect(addr).await?;
    let year = format!("from={year_ago}&to={today}");
    let pages = [
        "/staff/reports".to_owned(),
        format!("/staff/reports?{year}"),
        "/staff/reports/operations".to_owned(),
        "/staff/reports/stalls".to_owned(),
        format!("/staff/reports/stalls?{year}"),
        "/staff/reports/recurring".to_owned(),
        format!("/staff/reports/recurring?{year}"),
        "/staff/reports/demand".to_owned(),
        format!("/staff/reports/demand?{year}"),
    ];
    for page in &pages {
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let req = format!("GET {page} HTTP/1.1\r\nHost: bench\r\nCookie: civic311_session={token}\r\n\r\n");
            let t = Instant::now();
            let (status, _) = client.send(req.as_bytes()).await?;
            times.push(t.elapsed());
            if status != 200 {
                bail!("GET {page} answered {status}");
            }
        }
        println!("  page {page:<48} | p50 {:.1} ms p99 {:.1} ms", ms(&mut times, 0.5), ms(&mut times, 0.99));
    }

    // The public dashboard: each view is built once a minute at most and shared, so
    // the first visit of each (period × layer × language) times a build, and the rest
    // time the shared copy.
    let mut built = Vec::new();
    for period in [30, 90, 365] {
        for layer in ["wards", "neighborhoods", "zipcodes"] {
            for lang in ["en", "es"] {
                let page = format!("/open-data?period={period}&layer={layer}&lang={lang}");
                let t = Instant::now();
                let (status, _) = client.send(format!("GET {page} HTTP/1.1\r\nHost: bench\r\n\r\n").as_bytes()).await?;
                built.push(t.elapsed());
                if status != 200 {
                    bail!("GET {page} answered {status}");
                }
            }
        }
    }
    let mut shared = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        let (status, _) =
            client.send(b"GET /open-data?period=365&layer=wards&lang=en HTTP/1.1\r\nHost: bench\r\n\r\n").await?;
        shared.push(t.elapsed());
        if status != 200 {
            bail!("GET /open-data answered {status}");
        }
    }
    println!(
        "  public dashboard /open-data: {} views built, p50 {:.1} ms max {:.1} ms | shared copy p50 {:.1} ms p99 {:.1} ms",
        built.len(),
        ms(&mut built, 0.5),
        ms(&mut built, 1.0),
        ms(&mut shared, 0.5),
        ms(&mut shared, 0.99)
    );

    // Freshness: a report straight after 1,000 new requests adds them first.
    let before = civic311_app::reports::run(
        &app,
        ReportQuery::parse(&[("from".into(), today.to_string()), ("to".into(), today.to_string())], &city)?,
        None,
    )
    .await?;
    crate::demo::seed_history(store.as_ref(), &city, 1_000, jiff::Timestamp::now(), |_| {}).await?;
    let t = Instant::now();
    let q = ReportQuery::parse(&[("from".into(), year_ago.to_string()), ("to".into(), today.to_string())], &city)?;
    let after = civic311_app::reports::run(&app, q, None).await?;
    println!(
        "  after 1,000 new requests: the next one-year report took {:.1} ms, adding them first ({} opened today before, {} requests in the year now)",
        t.elapsed().as_secs_f64() * 1000.0,
        before.total.opened,
        after.total.opened
    );
    Ok(())
}
