//! `civic311 bench geocode`: a city-sized address layer (1,000,000 points on about
//! 12,800 streets by default) imported from OpenAddresses CSV, then typed addresses
//! found in it, points' nearest addresses, and the suggestion endpoint over HTTP.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use civic311_app::CityModel;
use civic311_app::addresses::{Format, scan};
use civic311_app::layers::FileBytes;
use civic311_domain::geo::Point;
use civic311_store::SharedStore;
use civic311_web::AppState;

use super::{Client, percentile};
use crate::demo::history::Rng;
use crate::{demo, store_url};

const FIRST: [&str; 40] = [
    "Ash", "Bell", "Birch", "Brook", "Cedar", "Clay", "Cliff", "Copper", "Crest", "Deer", "Eagle", "Elm", "Fair",
    "Fern", "Fox", "Glen", "Gold", "Green", "Hawk", "Hazel", "Hill", "Holly", "Iron", "Lake", "Lark", "Laurel",
    "Maple", "Marsh", "Mill", "Oak", "Pine", "Quail", "Red", "River", "Rock", "Sage", "Silver", "Spring", "Stone",
    "Willow",
];
const SECOND: [&str; 40] = [
    "wood", "field", "ford", "dale", "view", "crest", "gate", "haven", "hurst", "land", "leigh", "mont", "more",
    "ridge", "side", "ton", "vale", "way", "well", "wick", "bury", "by", "croft", "den", "down", "end", "fell",
    "grove", "ham", "hollow", "holm", "ley", "mead", "mere", "moor", "port", "stead", "stow", "thorpe", "worth",
];
const TYPES: [&str; 8] = ["Street", "Avenue", "Road", "Drive", "Lane", "Court", "Place", "Way"];

/// The layer as an OpenAddresses CSV: `points` points spread over the streets.
fn layer_csv(points: usize) -> (String, Vec<String>) {
    let mut streets = Vec::new();
    for a in FIRST {
        for b in SECOND {
            for t in TYPES {
                streets.push(format!("{a}{b} {t}"));
            }
        }
    }
    let per_street = points.div_ceil(streets.len());
    let mut rng = Rng::new(311);
    let mut csv = String::from("LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH\n");
    let mut n = 0;
    'streets: for (s, street) in streets.iter().enumerate() {
        // Each street runs east–west or north–south from somewhere in a 40 km square.
        let (lat0, lon0) = (40.0 + rng.unit() * 0.36, -105.0 + rng.unit() * 0.47);
        let east = s % 2 == 0;
        for k in 0..per_street {
            if n == points {
                break 'streets;
            }
            let along = k as f64 * 0.0002;
            let (lat, lon) = if east { (lat0, lon0 + along) } else { (lat0 + along, lon0) };
            let number = 100 + 2 * k + (k % 2);
            let _ = writeln!(csv, "{lon:.6},{lat:.6},{number},{street},,Bench City,,CO,80{:03},b{n},", s % 1000);
            n += 1;
        }
    }
    (csv, streets)
}

/// Resident memory now and at its peak, in MB (Linux).
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
    };
    (kb("VmRSS:").unwrap_or(0) / 1024, kb("VmHWM:").unwrap_or(0) / 1024)
}

/// What a person might type for the `i`-th sample: exact, abbreviated, a typo, or
/// without the street type.
fn typed(rng: &mut Rng, streets: &[String], per_street: usize) -> String {
    let street = &streets[rng.below(streets.len())];
    let k = rng.below(per_street);
    let number = 100 + 2 * k + (k % 2);
    let (name, kind) = street.rsplit_once(' ').unwrap_or((street, ""));
    match rng.below(4) {
        0 => format!("{number} {street}"),
        1 => format!("{number} {} {}", name.to_lowercase(), civic311_domain::address::normalize_street(kind)),
        2 => {
            let mut chars: Vec<char> = name.chars().collect();
            let at = 1 + rng.below(chars.len() - 2);
            chars.swap(at, at + 1);
            format!("{number} {} {kind}", chars.into_iter().collect::<String>())
        }
        _ => format!("{number} {name}"),
    }
}

fn report(what: &str, mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    println!("{what}: p50 {:.3} ms, p99 {:.3} ms over {} samples", p50 * 1e3, p99 * 1e3, times.len());
    (p50, p99)
}

/// How many assets the nearest-asset lookup is measured among.
const ASSETS: usize = 500_000;

/// The nearest streetlight among [`ASSETS`] assets of four types over the same square,
/// as intake snaps a report to one.
fn nearest_assets(rng: &mut Rng, samples: usize) -> Result<()> {
    use civic311_domain::asset::{Asset, AssetIndex};
    let kinds = ["streetlight", "hydrant", "tree", "traffic_signal"];
    let mut assets = Vec::with_capacity(ASSETS);
    for i in 0..ASSETS {
        let point = Point::new(40.0 + rng.unit() * 0.36, -105.0 + rng.unit() * 0.47)?;
        let kind = kinds[i % kinds.len()].to_owned();
        assets.push(Asset {
            kind,
            id: format!("A-{i}"),
            name: None,
            point,
            line: Vec::new(),
            properties: Default::default(),
        });
    }
    let started = Instant::now();
    let index = AssetIndex::new(assets, None);
    println!("index {ASSETS} assets: {:.2} s", started.elapsed().as_secs_f64());
    let lights = ["streetlight".to_owned()];
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let p = Point::new(40.0 + rng.unit() * 0.36, -105.0 + rng.unit() * 0.47)?;
        let t = Instant::now();
        std::hint::black_box(index.nearest(&lights, p, 60.0));
        times.push(t.elapsed());
    }
    report("nearest streetlight within 60 m among 500,000 assets", times);
    Ok(())
}

pub async fn run(url: &str, points: usize, samples: usize) -> Result<()> {
    let store: SharedStore = store_url::open(url).await?;
    if store.settings().await?.is_none() {
        demo::seed_city(store.as_ref()).await?;
    }
    let (csv, streets) = layer_csv(points);
    println!(
        "backend {} | {points} points on {} streets ({} MB of CSV)",
        store.backend(),
        streets.len(),
        csv.len() >> 20
    );

    // Import: read and check the file, digest it, replace the layer in one transaction.
    let started = Instant::now();
    let file = scan(Format::Csv, FileBytes::from(csv.into_bytes())).map_err(anyhow::Error::msg)?;
    if file.refused > 0 {
        bail!("{} generated rows were refused: {:?}", file.refused, file.bad.first());
    }
    let read_s = started.elapsed().as_secs_f64();
    let count = file.count;
    demo::write_address_layer(store.as_ref(), "bench", file.rows, count, file.digest).await?;
    println!(
        "import {count} points: {:.1} s (reading and checking {read_s:.1} s) | peak memory so far {} MB",
        started.elapsed().as_secs_f64(),
        memory().1
    );

    // Load: the city with its gazetteer, as a node does at start.
    let (before, _) = memory();
    let started = Instant::now();
    let city = CityModel::load(store.as_ref()).await?;
    let (after, peak) = memory();
    println!(
        "load and index {} points: {:.1} s | resident memory +{} MB ({after} MB in all, peak {peak} MB)",
        city.addresses.len(),
        started.elapsed().as_secs_f64(),
        after.saturating_sub(before)
    );

    let per_street = points.div_ceil(streets.len());
    let mut rng = Rng::new(42);
    let (mut times, mut located) = (Vec::with_capacity(samples), 0);
    for _ in 0..samples {
        let q = typed(&mut rng, &streets, per_street);
        let t = Instant::now();
        let found = city.addresses.forward(&q, 5);
        times.push(t.elapsed());
        std::hint::black_box(found);
        // Outside the timing: would it locate a request by itself (confident, and
        // clearly ahead of any other place)?
        located += usize::from(city.addresses.locate(&q).is_some());
    }
    report("forward geocoding (exact, abbreviated, a typo, no street type)", times);
    println!(
        "  {located} of {samples} would locate a request by themselves (a quarter leave out the street type, which 8 streets share)"
    );

    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let p = Point::new(40.0 + rng.unit() * 0.4, -105.0 + rng.unit() * 0.5)?;
        let t = Instant::now();
        std::hint::black_box(city.addresses.nearest(p, 100.0));
        times.push(t.elapsed());
    }
    report("reverse geocoding (nearest within 100 m)", times);
    drop(city);
    nearest_assets(&mut rng, samples)?;

    // The suggestion endpoint end to end, one client after another (each from its own
    // address behind a trusted proxy, so no client's budget runs out).
    let state = AppState::load(store.clone(), civic311_app::system_clock(), None, civic311_codecs::codecs())
        .await?
        .with_trusted_proxies(vec![std::net::Ipv4Addr::LOCALHOST.into()]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(civic311_web::serve(listener, state, std::future::pending()));
    let mut client = Client::connect(addr).await?;
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let q = typed(&mut rng, &streets, per_street).replace(' ', "%20");
        let req = format!(
            "GET /addresses/suggest?q={q} HTTP/1.1\r\nHost: bench\r\nX-Forwarded-For: 10.{}.{}.1\r\n\r\n",
            (i >> 8) & 255,
            i & 255
        );
        let t = Instant::now();
        let (status, _) = client.send(req.as_bytes()).await?;
        times.push(t.elapsed());
        if status != 200 {
            bail!("the suggestion endpoint answered {status}");
        }
    }
    report("GET /addresses/suggest over HTTP", times);
    Ok(())
}
