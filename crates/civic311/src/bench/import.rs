//! `civic311 bench import`: `civic311 import requests --format nyc` over a generated
//! file in NYC's 41-column layout (`.csv`), into the demo city of an empty database:
//! rows a second for the import, then for importing the same file again.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use civic311_app::city::CityModel;
use civic311_app::import::Layout;
use jiff::{SignedDuration, Timestamp};

use crate::demo::history::Rng;
use crate::{demo, import_requests, store_url};

/// NYC's complaint types (and descriptors) as the demo's services, in the mapping file.
const TYPES: [(&str, &str, &str, &str); 12] = [
    ("Street Condition", "Pothole", "POTHOLE", "DOT"),
    ("Street Light Condition", "Street Light Out", "STREETLIGHT", "DOT"),
    ("Graffiti", "Graffiti", "GRAFFITI", "DSNY"),
    ("Noise - Residential", "Loud Music/Party", "NOISE_RES", "NYPD"),
    ("Illegal Parking", "Blocked Hydrant", "PARKING", "NYPD"),
    ("Blocked Driveway", "No Access", "DRIVEWAY", "NYPD"),
    ("Derelict Vehicles", "Derelict Vehicles", "ABANDONED", "NYPD"),
    ("HEAT/HOT WATER", "ENTIRE BUILDING", "HEAT", "HPD"),
    ("Sanitation Condition", "Garbage Spillage", "MISSED", "DSNY"),
    ("Water System", "Hydrant Leaking (WC1)", "WATERMAIN", "DEP"),
    ("Damaged Tree", "Branch Cracked and Will Fall", "TREE", "DPR"),
    ("Rodent", "Rat Sighting", "RODENTS", "DOHMH"),
];

const MAPPING: &str = r#"[departments]
DOT = "DOT"
DSNY = "SAN"
NYPD = "PD"
HPD = "CODE"
DEP = "WATER"
DPR = "PARKS"
DOHMH = "CODE"
"#;

/// Writes `rows` rows in NYC's layout: two years of requests at points of the city;
/// one in a hundred of a type the mapping does not name, one in two hundred without
/// any location.
fn write_file(city: &CityModel, path: &Path, rows: usize) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let columns = civic311_app::import::NYC_COLUMNS;
    writeln!(out, "{}", columns.join(","))?;
    let outline = &city.settings.boundary_layer;
    let ((min_lat, min_lon), (max_lat, max_lon)) = {
        let mut b = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
        for f in city.boundaries.features().iter().filter(|f| &f.layer == outline) {
            let (lo, hi) = f.bbox();
            b = ((b.0.0.min(lo[1]), b.0.1.min(lo[0])), (b.1.0.max(hi[1]), b.1.1.max(hi[0])));
        }
        b
    };
    let mut rng = Rng::new(11_201);
    let end = Timestamp::now();
    let span = 730.0 * 86_400.0;
    let local = |t: Timestamp| t.to_zoned(city.tz.clone()).strftime("%m/%d/%Y %I:%M:%S %p").to_string();
    for key in 0..rows {
        let (kind, descriptor, _, agency) = TYPES[rng.below(TYPES.len())];
        let kind = if rng.below(100) == 0 { "Taxi Complaint" } else { kind };
        let created = end - SignedDuration::from_secs_f64(span * (1.0 - (key as f64 + 0.5) / rows as f64));
        let closed = created + SignedDuration::from_secs_f64(rng.unit() * 20.0 * 86_400.0);
        let open = closed > end;
        let (lat, lon) = loop {
            let lat = min_lat + rng.unit() * (max_lat - min_lat);
            let lon = min_lon + rng.unit() * (max_lon - min_lon);
            if civic311_domain::geo::Point::new(lat, lon)
                .is_ok_and(|p| city.boundaries.locate(&p).contains_key(outline))
            {
                break (format!("{lat:.6}"), format!("{lon:.6}"));
            }
        };
        let (lat, lon) = if rng.below(200) == 0 { (String::new(), String::new()) } else { (lat, lon) };
        let street = 1 + rng.below(80);
        let address =
            if lat.is_empty() { String::new() } else { format!("{} {street}TH STREET", 10 + rng.below(3000)) };
        let mut cells = vec![String::new(); columns.len()];
        let mut set = |name: &str, v: String| {
            if let Some(i) = columns.iter().position(|c| *c == name) {
                cells[i] = v;
            }
        };
        set("Unique Key", (60_000_000 + key).to_string());
        set("Created Date", local(created));
        set("Closed Date", if open { String::new() } else { local(closed) });
        set("Agency", agency.to_owned());
        set("Complaint Type", kind.to_owned());
        set("Descriptor", descriptor.to_owned());
        set("Incident Address", address);
        set("Status", if open { "In Progress" } else { "Closed" }.to_owned());
        set(
            "Resolution Description",
            if open { String::new() } else { "The Department inspected the condition, and it was corrected.".into() },
        );
        set("Open Data Channel Type", ["PHONE", "ONLINE", "MOBILE", "UNKNOWN"][rng.below(4)].to_owned());
        set("Latitude", lat.clone());
        set("Longitude", lon.clone());
        if !lat.is_empty() {
            set("Location", format!("({lat}, {lon})"));
        }
        let line: Vec<String> = cells
            .into_iter()
            .map(|c| if c.contains([',', '"', '\n']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c })
            .collect();
        writeln!(out, "{}", line.join(","))?;
    }
    out.flush()?;
    Ok(())
}

pub async fn run(url: &str, rows: usize, file: &Path) -> Result<()> {
    let store = store_url::open(url).await?;
    if store.settings().await?.is_none() {
        demo::seed_city(store.as_ref()).await?;
    }
    if store.count_requests().await? > 0 {
        bail!("{}: import into a database without requests", store_url::redact(url));
    }
    let city = CityModel::load(store.as_ref()).await?;
    if !file.exists() {
        let t = Instant::now();
        write_file(&city, file, rows)?;
        eprintln!("wrote {rows} rows to {} in {:.1} s", file.display(), t.elapsed().as_secs_f64());
    }
    let size = std::fs::metadata(file)?.len();
    let mapping = file.with_extension("mapping.toml");
    let mut text = String::from("[services]\n");
    for (kind, descriptor, code, _) in TYPES {
        text.push_str(&format!("\"{kind}|{descriptor}\" = \"{code}\"\n"));
    }
    text.push_str(MAPPING);
    std::fs::write(&mapping, text)?;
    println!("backend {} | {} ({:.0} MB), NYC layout", store.backend(), file.display(), size as f64 / 1e6);
    for pass in ["import", "again"] {
        let t = Instant::now();
        let o = import_requests::run(store.clone(), Layout::Nyc, Some(&mapping), false, file).await?;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{pass}: {} rows in {secs:.1} s = {:.0} rows/s ({} imported, {} already, {} rejected)",
            o.rows(),
            o.rows() as f64 / secs,
            o.imported,
            o.already,
            o.rejected.values().sum::<u64>()
        );
    }
    Ok(())
}
