//! `civic311 bench`: the measurements behind docs/BENCHMARKS.md. Load comes from
//! clients in this same process over loopback TCP, so the figures include the cost of
//! the load generator sharing the machine.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use civic311_app::CityModel;
use civic311_domain::geo::{BoundaryFeature, BoundaryIndex, Point, Polygon};
use civic311_domain::request::{Channel, Priority};
use civic311_domain::routing::{Actions, Conditions, Org, RoutingEngine, RoutingInput, Rule, RuleSet, TimeWindow};
use civic311_domain::service::Answers;
use civic311_store::SharedStore;
use civic311_web::AppState;
use clap::Subcommand;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;

use crate::demo::history::Rng;
use crate::{demo, store_url};

mod export;
mod geocode;
mod import;
mod reports;
mod search;

/// Most requests the staff search lists (as its page does).
const SEARCH_PAGE: u32 = 50;

#[derive(Subcommand)]
pub enum Bench {
    /// The address layer: import 1,000,000 points from CSV, typed addresses found in
    /// them, points' nearest addresses, and the suggestion endpoint over HTTP.
    Geocode {
        #[arg(long, default_value = "sqlite://civic311-bench-geocode.db")]
        database_url: String,
        #[arg(long, default_value_t = 1_000_000)]
        points: usize,
        #[arg(long, default_value_t = 10_000)]
        samples: usize,
    },
    /// The staff header search: a request's number, its caller's phone, email and
    /// last name, its address and words of its description, in the store and as the
    /// search page over HTTP, with many requests stored.
    Search {
        #[arg(long, default_value = "sqlite://civic311-bench-query.db")]
        database_url: String,
        /// Requests to have stored (the demo history is extended to this many).
        #[arg(long, default_value_t = 1_000_000)]
        requests: usize,
        /// Requests drawn at random to make keys from.
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// The reporting API and the dashboards: the rollups built (timed), one-year reports
    /// grouped by two dimensions, the dashboard pages over HTTP, and a report right
    /// after a burst of new requests.
    Reports {
        #[arg(long, default_value = "sqlite://civic311-bench-query.db")]
        database_url: String,
        /// Requests to have stored (the demo history is extended to this many).
        #[arg(long, default_value_t = 1_000_000)]
        requests: usize,
        #[arg(long, default_value_t = 50)]
        samples: usize,
        /// Empty the rollups first and build them from every request.
        #[arg(long)]
        rebuild: bool,
    },
    /// The open-data exports over HTTP: the whole CSV streamed (rows a second, time to
    /// the first row), gzipped, JSON and GeoJSON, and the change feed a page at a time.
    Export {
        #[arg(long, default_value = "sqlite://civic311-bench-query.db")]
        database_url: String,
        /// Requests to have stored (the demo history is extended to this many).
        #[arg(long, default_value_t = 1_000_000)]
        requests: usize,
        /// Pages of the change feed to time.
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// `civic311 import requests --format nyc` of a generated file in NYC's layout into
    /// the demo city of a database without requests, and the same file again.
    Import {
        #[arg(long, default_value = "sqlite://civic311-bench-import.db")]
        database_url: String,
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// The file (written first when missing).
        #[arg(long, default_value = "civic311-bench-nyc.csv")]
        file: std::path::PathBuf,
    },
    /// Committed Open311 POSTs per second over HTTP/1.1 keep-alive.
    Post {
        #[arg(long, default_value = "sqlite://civic311-bench-post.db")]
        database_url: String,
        #[arg(long, default_value_t = 32)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Latency of `GET /open311/v2/requests.json` (1000 results) with many requests stored.
    Query {
        #[arg(long, default_value = "sqlite://civic311-bench-query.db")]
        database_url: String,
        /// Requests to have stored (the demo history is extended to this many).
        #[arg(long, default_value_t = 1_000_000)]
        requests: usize,
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// The escalation sweep over a database where every stored request is open with a
    /// pending timer: first with nothing due, then with 100 timers due.
    Sweep {
        #[arg(long, default_value = "sqlite://civic311-bench-sweep.db")]
        database_url: String,
        /// Requests to have stored (the demo history is extended to this many).
        #[arg(long, default_value_t = 1_000_000)]
        requests: usize,
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// A department's work queue: 50,000 of Public Works' requests are opened in a large
    /// history, then its first page (50) is timed in every sort, a page 20 pages deep,
    /// and the supervisor's workload counts.
    Queue {
        #[arg(long, default_value = "sqlite://civic311-bench-query.db")]
        database_url: String,
        /// Requests to have stored (the demo history is extended to this many).
        #[arg(long, default_value_t = 1_000_000)]
        requests: usize,
        /// Public Works requests to make open.
        #[arg(long, default_value_t = 50_000)]
        open: i64,
        #[arg(long, default_value_t = 100)]
        samples: usize,
    },
    /// SLA computation: choosing the policy and working out the response and resolution
    /// due times on the demo city's business calendar (with holidays).
    Sla {
        #[arg(long, default_value_t = 200_000)]
        iterations: usize,
    },
    /// Routing and boundary lookup per request: 200 rules, 3 layers of 100 polygons.
    Routing {
        #[arg(long, default_value_t = 200_000)]
        iterations: usize,
    },
}

pub async fn run(b: Bench) -> Result<()> {
    match b {
        Bench::Geocode { database_url, points, samples } => geocode::run(&database_url, points, samples).await,
        Bench::Search { database_url, requests, samples } => search::run(&database_url, requests, samples).await,
        Bench::Export { database_url, requests, samples } => export::run(&database_url, requests, samples).await,
        Bench::Import { database_url, rows, file } => import::run(&database_url, rows, &file).await,
        Bench::Post { database_url, clients, seconds } => post(&database_url, clients, seconds).await,
        Bench::Reports { database_url, requests, samples, rebuild } => {
            reports::run(&database_url, requests, samples, rebuild).await
        }
        Bench::Query { database_url, requests, samples } => query(&database_url, requests, samples).await,
        Bench::Sweep { database_url, requests, samples } => sweep(&database_url, requests, samples).await,
        Bench::Queue { database_url, requests, open, samples } => queue(&database_url, requests, open, samples).await,
        Bench::Sla { iterations } => sla(iterations).await,
        Bench::Routing { iterations } => {
            routing(iterations);
            Ok(())
        }
    }
}

async fn demo_store(url: &str, history: usize) -> Result<SharedStore> {
    let store = store_url::open(url).await?;
    if store.settings().await?.is_none() {
        demo::seed_city(store.as_ref()).await?;
    }
    let have = usize::try_from(store.count_requests().await?).unwrap_or(0);
    if have < history {
        eprintln!("storing {} more requests (have {have})…", history - have);
        let city = CityModel::load(store.as_ref()).await?;
        let started = Instant::now();
        // Continue the history before the oldest stored request would be ideal; for a
        // benchmark, requests ending now are what matters.
        crate::demo::seed_history(store.as_ref(), &city, history - have, jiff::Timestamp::now(), |done| {
            if done % 100_000 == 0 {
                eprintln!("  {done} in {:.0} s", started.elapsed().as_secs_f64());
            }
        })
        .await?;
        eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(store)
}

/// A member of staff with `role`, signed in for 12 hours: their session token, for the
/// pages a benchmark opens over HTTP.
async fn staff_session(store: &SharedStore, username: &str, role: civic311_domain::org::Role) -> Result<String> {
    let user = civic311_domain::org::StaffUser {
        username: username.into(),
        display_name: "Bench".into(),
        email: format!("{username}@example.test"),
        department: "PW".into(),
        team: None,
        role,
        also_departments: vec![],
        active: true,
        digest: Default::default(),
    };
    store.put_user(&user).await?;
    let token = civic311_app::tokens::new_token();
    let now = jiff::Timestamp::now();
    store
        .create_session(&civic311_store::Session {
            token_hash: civic311_app::tokens::token_hash(&token),
            username: user.username,
            csrf: "bench".into(),
            created_at: now,
            expires_at: now + jiff::SignedDuration::from_hours(12),
        })
        .await?;
    Ok(token)
}

async fn spawn_server(store: SharedStore) -> Result<std::net::SocketAddr> {
    let state = AppState::load(store, civic311_app::system_clock(), None, civic311_codecs::codecs()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(civic311_web::serve(listener, state, std::future::pending()));
    Ok(addr)
}

/// A minimal HTTP/1.1 keep-alive client: enough for a benchmark, nothing more.
struct Client {
    stream: BufStream<TcpStream>,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Result<Self> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Self { stream: BufStream::new(s) })
    }

    async fn send(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>)> {
        self.stream.write_all(request).await?;
        self.stream.flush().await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("bad status line")?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse()?;
            }
        }
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

async fn post(url: &str, clients: usize, seconds: u64) -> Result<()> {
    let store = demo_store(url, 0).await?;
    let before = store.count_requests().await?;
    let addr = spawn_server(store.clone()).await?;
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (ok, failed) = (ok.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await?;
            let mut rng = Rng::new(c as u64);
            while Instant::now() < deadline {
                let lat = 40.12 + rng.unit() * 0.16;
                let lon = -104.68 + rng.unit() * 0.16;
                let body = format!(
                    "api_key={}&service_code=POTHOLE&attribute%5BSIZE%5D=large&lat={lat:.6}&long={lon:.6}\
                     &description=Deep+pothole+in+the+right+lane&email=bench%40example.org",
                    demo::DEMO_API_KEY
                );
                let req = format!(
                    "POST /open311/v2/requests.json HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let (status, _) = client.send(req.as_bytes()).await?;
                if status == 201 { ok.fetch_add(1, Ordering::Relaxed) } else { failed.fetch_add(1, Ordering::Relaxed) };
            }
            anyhow::Ok(())
        }));
    }
    let started = Instant::now();
    for t in tasks {
        t.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let committed = store.count_requests().await? - before;
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "backend {} | {clients} clients, keep-alive | {ok} POSTs answered 201 in {elapsed:.1} s = {:.0} committed/s | {} failed | {committed} new rows",
        store.backend(),
        ok as f64 / elapsed,
        failed.load(Ordering::Relaxed),
    );
    if committed < i64::try_from(ok).unwrap_or(i64::MAX) {
        bail!("acknowledged {ok} requests but only {committed} are stored");
    }
    Ok(())
}

async fn query(url: &str, requests: usize, samples: usize) -> Result<()> {
    let store = demo_store(url, requests).await?;
    let stored = store.count_requests().await?;
    let addr = spawn_server(store.clone()).await?;
    let mut client = Client::connect(addr).await?;
    let req = b"GET /open311/v2/requests.json HTTP/1.1\r\nHost: bench\r\n\r\n";
    let (status, body) = client.send(req).await?;
    let results = serde_json::from_slice::<serde_json::Value>(&body)?.as_array().map_or(0, Vec::len);
    if status != 200 {
        bail!("GET requests.json answered {status}");
    }
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        client.send(req).await?;
        times.push(t.elapsed());
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "backend {} | {stored} requests stored | GET requests.json → {results} results, {} KB | p50 {:.1} ms, p99 {:.1} ms over {samples} requests",
        store.backend(),
        body.len() / 1024,
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}

/// Runs statements with integer parameters on the database itself (the store has no
/// business offering a "make everything open" call).
async fn raw_sql(url: &str, statements: &[(&'static str, Vec<i64>)]) -> Result<()> {
    use sqlx::Connection;
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await?;
        for (sql, binds) in statements {
            binds.iter().fold(sqlx::query(*sql), |q, b| q.bind(*b)).execute(&mut c).await?;
        }
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await?;
        for (sql, binds) in statements {
            binds.iter().fold(sqlx::query(*sql), |q, b| q.bind(*b)).execute(&mut c).await?;
        }
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).map_or(0.0, Duration::as_secs_f64)
}

async fn queue(url: &str, requests: usize, open: i64, samples: usize) -> Result<()> {
    use civic311_domain::request::Status;
    use civic311_store::{RequestQuery, Sort};
    let store = demo_store(url, requests).await?;
    let stored = store.count_requests().await?;
    eprintln!("opening {open} Public Works requests (the rest keep their history's status)…");
    raw_sql(
        url,
        &[
            ("UPDATE requests SET status = 'closed' WHERE department = 'PW' AND status <> 'closed'", vec![]),
            (
                "UPDATE requests SET status = 'open', closed_at = NULL WHERE id IN \
                 (SELECT id FROM requests WHERE department = 'PW' ORDER BY id DESC LIMIT $1)",
                vec![open],
            ),
        ],
    )
    .await?;
    if url.starts_with("postgres") {
        raw_sql(url, &[("VACUUM ANALYZE requests", vec![])]).await?;
    }
    let active = Status::ACTIVE.to_vec();
    let now = jiff::Timestamp::now();
    let page = |sort, after| RequestQuery {
        departments: vec!["PW".into()],
        statuses: active.clone(),
        sort,
        after,
        limit: 50,
        ..RequestQuery::default()
    };
    let time = async |q: &RequestQuery| -> Result<(f64, f64)> {
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let t = Instant::now();
            let got = store.list_requests(q).await?;
            times.push(t.elapsed());
            if got.len() != 50 {
                bail!("expected a full page, got {}", got.len());
            }
        }
        times.sort();
        Ok((percentile(&times, 0.5) * 1000.0, percentile(&times, 0.99) * 1000.0))
    };
    for sort in Sort::ALL {
        let (p50, p99) = time(&page(sort, None)).await?;
        // Twenty pages in, through the keyset cursor as the pager follows it.
        let mut after = None;
        for _ in 0..20 {
            let got = store.list_requests(&page(sort, after)).await?;
            after = got.last().map(|r| (sort.key(r), r.id.seq));
        }
        let (d50, d99) = time(&page(sort, after)).await?;
        println!(
            "backend {} | {stored} stored, {open} open in PW | queue sort={:<8} first page p50 {p50:.1} ms p99 {p99:.1} ms | page 21 p50 {d50:.1} ms p99 {d99:.1} ms",
            store.backend(),
            sort.as_str()
        );
    }
    // What the queue page counts besides its page: the open requests of the department
    // tab, and of those the overdue ones.
    let mut times = Vec::with_capacity(samples);
    let department = page(Sort::Due, None);
    let overdue = RequestQuery { overdue_at: Some(now), ..department.clone() };
    for _ in 0..samples {
        let t = Instant::now();
        let (all, late) = tokio::try_join!(store.count_matching(&department), store.count_matching(&overdue))?;
        times.push(t.elapsed());
        if all != open {
            bail!("counted {all} open requests in PW, expected {open} ({late} overdue)");
        }
    }
    times.sort();
    println!(
        "backend {} | queue counts (open in PW, and overdue): p50 {:.1} ms, p99 {:.1} ms",
        store.backend(),
        percentile(&times, 0.5) * 1000.0,
        percentile(&times, 0.99) * 1000.0
    );
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        store.workload(&["PW".into()], now).await?;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "backend {} | supervisor workload counts for PW: p50 {:.1} ms, p99 {:.1} ms",
        store.backend(),
        percentile(&times, 0.5) * 1000.0,
        percentile(&times, 0.99) * 1000.0
    );
    Ok(())
}

async fn sweep(url: &str, requests: usize, samples: usize) -> Result<()> {
    let store = demo_store(url, requests).await?;
    let stored = store.count_requests().await?;
    let now = jiff::Timestamp::now();
    let micros = now.as_microsecond();
    let year = 365 * 24 * 3600 * 1_000_000_i64;
    eprintln!("opening every request and giving each a timer due in ten years…");
    raw_sql(
        url,
        &[
            ("UPDATE requests SET status = 'open', closed_at = NULL WHERE status <> 'open'", vec![]),
            (
                "INSERT INTO timers (request_id, kind, due_at, lease_until) SELECT id, 'escalate', $1 + id, NULL \
                 FROM requests WHERE true ON CONFLICT (request_id, kind) DO UPDATE SET due_at = excluded.due_at, lease_until = NULL",
                vec![micros + 10 * year],
            ),
            ("DELETE FROM timers WHERE kind <> 'escalate'", vec![]),
        ],
    )
    .await?;
    if url.starts_with("postgres") {
        // As autovacuum would, after rewriting a million rows: the measurement is of a
        // table in its usual state, not of dead tuples left by the set-up above.
        raw_sql(url, &[("VACUUM ANALYZE timers", vec![])]).await?;
    }
    let model = CityModel::load(store.as_ref()).await?.workflow.clone();
    let first = civic311_jobs::sweep(&store, &model, now, 100).await?;
    if first.claimed != 0 {
        bail!("expected nothing due, the sweep claimed {}", first.claimed);
    }
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        civic311_jobs::sweep(&store, &model, now, 100).await?;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "backend {} | {stored} open requests, {stored} pending timers | sweep with nothing due: p50 {:.3} ms, p99 {:.3} ms over {samples} sweeps",
        store.backend(),
        percentile(&times, 0.5) * 1000.0,
        percentile(&times, 0.99) * 1000.0
    );
    // Two years on, 100 of the newest requests' timers are due (and their SLAs long
    // breached); every other timer is still years away.
    raw_sql(
        url,
        &[(
            "UPDATE timers SET due_at = $1 WHERE request_id IN (SELECT request_id FROM timers ORDER BY request_id DESC LIMIT 100)",
            vec![micros - 1_000_000],
        )],
    )
    .await?;
    let later = now + jiff::SignedDuration::from_hours(2 * 365 * 24);
    let t = Instant::now();
    let report = civic311_jobs::sweep(&store, &model, later, 100).await?;
    let took = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "backend {} | sweep with 100 due: {took:.1} ms ({:.2} ms per timer; {} escalated or reminded, {} only rescheduled)",
        store.backend(),
        took / report.claimed.max(1) as f64,
        report.fired,
        report.rescheduled
    );
    Ok(())
}

async fn sla(iterations: usize) -> Result<()> {
    // The demo city's calendars and policies, from a throwaway database.
    let path = std::env::temp_dir().join(format!("civic311-bench-sla-{}.db", std::process::id()));
    let store = store_url::open(&format!("sqlite://{}", path.display())).await?;
    demo::seed_city(store.as_ref()).await?;
    let city = CityModel::load(store.as_ref()).await?;
    let model = city.workflow.clone();
    let services: Vec<_> = city.public_services().map(|s| (s.code.clone(), s.department.clone())).collect();
    let priorities = [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent];
    let mut rng = Rng::new(7);
    let base = jiff::Timestamp::from_second(1_767_225_600)?; // 2026-01-01
    let inputs: Vec<_> = (0..iterations)
        .map(|_| {
            let (code, dept) = &services[rng.below(services.len())];
            let at = base + jiff::SignedDuration::from_secs(i64::try_from(rng.below(365 * 24 * 3600)).unwrap_or(0));
            (code.as_str(), dept.as_str(), priorities[rng.below(4)], at)
        })
        .collect();
    let t = Instant::now();
    let mut with_sla = 0usize;
    for (code, dept, priority, at) in &inputs {
        let state = civic311_domain::workflow::start(&model, code, dept, *priority, *at);
        with_sla += usize::from(state.sla.is_some());
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / iterations as f64;
    println!(
        "SLA start (policy choice + response and resolution due times): {per:.2} µs per request over {iterations} ({with_sla} had a policy)"
    );
    let Some(calendar) = model.calendar("city-hours") else { bail!("the demo has no 'city-hours' calendar") };
    let t = Instant::now();
    let mut total = jiff::SignedDuration::ZERO;
    for w in inputs.windows(2) {
        let (a, b) = if w[0].3 < w[1].3 { (w[0].3, w[1].3) } else { (w[1].3, w[0].3) };
        total += calendar.between(a, b);
    }
    let per = t.elapsed().as_secs_f64() * 1e6 / iterations.saturating_sub(1).max(1) as f64;
    println!("business time between two instants up to a year apart: {per:.2} µs each (sum {} h)", total.as_hours());
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}

/// A layer of `n × n` cells over a 20 km square, each cell's edges split into many
/// vertices as real boundaries are.
fn synthetic_layer(name: &str, n: usize) -> Vec<BoundaryFeature> {
    let (x0, y0, size) = (-104.70, 40.10, 0.2);
    let step = size / n as f64;
    let mut out = Vec::new();
    for i in 0..n {
        for j in 0..n {
            let (ax, ay) = (x0 + i as f64 * step, y0 + j as f64 * step);
            let mut ring = Vec::new();
            for k in 0..10 {
                ring.push([ax + step * k as f64 / 10.0, ay]);
            }
            for k in 0..10 {
                ring.push([ax + step, ay + step * k as f64 / 10.0]);
            }
            for k in 0..10 {
                ring.push([ax + step - step * k as f64 / 10.0, ay + step]);
            }
            for k in 0..10 {
                ring.push([ax, ay + step - step * k as f64 / 10.0]);
            }
            ring.push([ax, ay]);
            out.push(BoundaryFeature {
                layer: name.into(),
                feature: format!("{name}-{i}-{j}"),
                name: format!("{name} {i} {j}"),
                polygons: vec![Polygon { rings: vec![ring] }],
            });
        }
    }
    out
}

fn synthetic_rules(n: usize) -> RuleSet {
    let mut rng = Rng::new(7);
    let words = ["gas", "flooding", "blocking traffic", "downed power line", "mattress", "rats", "dark", "tyres"];
    let rules = (0..n)
        .map(|i| {
            let mut when = Conditions::default();
            match i % 5 {
                0 => when.services = vec![format!("S{}", rng.below(40))],
                1 => {
                    when.within = BTreeMap::from([(
                        "wards".to_string(),
                        vec![format!("wards-{}-{}", rng.below(10), rng.below(10))],
                    )]);
                }
                2 => when.keywords = vec![words[rng.below(words.len())].to_string()],
                3 => when.channels = vec![Channel::Phone],
                _ => when.time = Some(TimeWindow { from: "17:00".into(), to: "07:00".into() }),
            }
            let then = if i % 2 == 0 {
                Actions { department: Some(format!("D{}", i % 8)), ..Actions::default() }
            } else {
                Actions { priority: Some(Priority::High), tags: vec![format!("t{i}")], ..Actions::default() }
            };
            Rule { name: format!("rule {i}"), when, then, stop: false }
        })
        .collect();
    RuleSet { rules }
}

fn routing(iterations: usize) {
    let features: Vec<BoundaryFeature> =
        ["wards", "neighborhoods", "zipcodes"].iter().flat_map(|l| synthetic_layer(l, 10)).collect();
    let index = BoundaryIndex::new(features);
    let org = Org {
        departments: (0..8).map(|i| format!("D{i}")).chain(["TRIAGE".to_string()]).collect::<HashSet<_>>(),
        teams: HashMap::new(),
        triage_department: "TRIAGE".into(),
    };
    let tz = jiff::tz::TimeZone::get("America/Denver").unwrap_or(jiff::tz::TimeZone::UTC);
    let engine = match RoutingEngine::new(&synthetic_rules(200), org, tz) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("synthetic rules invalid: {e}");
            return;
        }
    };
    let services: Vec<civic311_domain::service::Service> = (0..40)
        .map(|i| civic311_domain::service::Service {
            code: format!("S{i}"),
            name: format!("Service {i}"),
            description: String::new(),
            group: "G".into(),
            keywords: vec![],
            service_type: Default::default(),
            visibility: Default::default(),
            department: format!("D{}", i % 8),
            default_priority: Priority::Normal,
            service_notice: String::new(),
            attributes: vec![],
            assets: None,
            translations: Default::default(),
            open_data: Default::default(),
        })
        .collect();
    let texts = [
        "Deep pothole in the right lane near the school, cars swerving",
        "Someone dumped a mattress and tyres in the alley behind the store",
        "Storm drain blocked and the street is flooding, water over the curb",
        "Streetlight dark for a week on the corner",
    ];
    let mut rng = Rng::new(1);
    let answers = Answers::new();
    let now = jiff::Timestamp::now();
    let inputs: Vec<(Point, usize, usize)> = (0..1024)
        .map(|_| {
            let p = Point { lat: 40.1 + rng.unit() * 0.2, lon: -104.7 + rng.unit() * 0.2 };
            (p, rng.below(services.len()), rng.below(texts.len()))
        })
        .collect();
    let mut matched = 0usize;
    let started = Instant::now();
    for i in 0..iterations {
        let (p, s, t) = &inputs[i % inputs.len()];
        let areas = index.locate(p);
        let d = engine.route(&RoutingInput {
            service: &services[*s],
            description: texts[*t],
            areas: &areas,
            channel: if i % 3 == 0 { Channel::Phone } else { Channel::Mobile },
            answers: &answers,
            requested_at: now,
        });
        matched += d.trace.matched.len();
    }
    let per = started.elapsed().as_secs_f64() / iterations as f64 * 1e6;
    println!(
        "routing: 200 rules, 3 layers x 100 polygons (41 vertices each) | {iterations} requests | {per:.2} µs per request (boundary lookup + rules + trace) | {:.1} rules matched on average",
        matched as f64 / iterations as f64
    );
}
