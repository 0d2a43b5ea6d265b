//! `civic311 bench`: the measurements behind docs/BENCHMARKS.md. Load comes from
//! clients in this same process over loopback TCP, so the figures include the cost of
//! the load generator sharing the machine.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use civic311_domain::geo::{BoundaryFeature, BoundaryIndex, Point, Polygon};
use civic311_domain::request::{Channel, Priority};
use civic311_domain::routing::{Actions, Conditions, Org, RoutingEngine, RoutingInput, Rule, RuleSet, TimeWindow};
use civic311_domain::service::Answers;
use civic311_store::SharedStore;
use civic311_web::{AppState, CityModel};
use clap::Subcommand;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;

use crate::demo::history::Rng;
use crate::{demo, store_url};

#[derive(Subcommand)]
pub enum Bench {
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
    /// Routing and boundary lookup per request: 200 rules, 3 layers of 100 polygons.
    Routing {
        #[arg(long, default_value_t = 200_000)]
        iterations: usize,
    },
}

pub async fn run(b: Bench) -> Result<()> {
    match b {
        Bench::Post { database_url, clients, seconds } => post(&database_url, clients, seconds).await,
        Bench::Query { database_url, requests, samples } => query(&database_url, requests, samples).await,
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

async fn spawn_server(store: SharedStore) -> Result<std::net::SocketAddr> {
    let state = AppState::load(store, civic311_web::system_clock(), None).await?;
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
