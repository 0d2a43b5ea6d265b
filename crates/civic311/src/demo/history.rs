//! Invents a city's past: requests spread over two years with the category mix,
//! seasonality, clustered locations, duplicate clusters and long-tailed resolution
//! times of real 311 data. Deterministic for a given seed and end time.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use civic311_app::CityModel;
use civic311_app::intake::{RawRequest, prepare};
use civic311_domain::org::Role;
use civic311_domain::request::Channel;
use civic311_domain::service::{Datatype, Service};
use civic311_store::{Intake, Store};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

/// How far back the history reaches.
const DAYS: i64 = 730;
/// Requests materialised and written per transaction.
const BATCH: usize = 5_000;

#[derive(Debug, Deserialize)]
struct History {
    service: Vec<Shape>,
}

#[derive(Debug, Deserialize)]
struct Shape {
    code: String,
    weight: f64,
    season: String,
    days: f64,
    phone: f64,
    texts: Vec<String>,
}

/// A small, fast, deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize % n.max(1)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Relative volume of a seasonal profile in a month (1–12), at most 1.
fn season(profile: &str, month: i8) -> f64 {
    let m = month as usize - 1;
    const THAW: [f64; 12] = [0.8, 1.0, 1.0, 0.9, 0.6, 0.4, 0.3, 0.3, 0.3, 0.4, 0.5, 0.6];
    const SUMMER: [f64; 12] = [0.3, 0.3, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.3];
    const WINTER: [f64; 12] = [1.0, 1.0, 0.8, 0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1.0];
    match profile {
        "thaw" => THAW[m],
        "summer" => SUMMER[m],
        "winter" => WINTER[m],
        _ => 0.6,
    }
}

/// One request to invent: when, what, and the seed of everything else.
#[derive(Debug, Clone, Copy)]
struct Plan {
    at: Timestamp,
    shape: usize,
    seed: u64,
    /// For duplicates and problems back again: the seed of the original, whose
    /// location they share.
    origin: u64,
    /// Called in, rather than filed on the web or in an app.
    phone: bool,
    /// The same problem back at the original's place weeks later (a pothole that
    /// opens again): near it like a duplicate, but new work.
    again: bool,
}

/// Points of the city where requests cluster (busy corners, a problem alley).
fn hotspots(city: &CityModel, rng: &mut Rng) -> Result<Vec<(f64, f64)>> {
    let mut spots = Vec::new();
    let (lo, hi) = extent(city);
    for _ in 0..100_000 {
        if spots.len() == 60 {
            return Ok(spots);
        }
        let p = (lo.1 + rng.unit() * (hi.1 - lo.1), lo.0 + rng.unit() * (hi.0 - lo.0));
        let p = round6(p);
        if inside(city, p) {
            spots.push(p);
        }
    }
    anyhow::bail!("the city has no area in its '{}' layer to place requests in", city.settings.boundary_layer)
}

/// `((min_lon, min_lat), (max_lon, max_lat))` of the city's outline layer.
fn extent(city: &CityModel) -> ((f64, f64), (f64, f64)) {
    let mut lo = (f64::INFINITY, f64::INFINITY);
    let mut hi = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for f in city.boundaries.features().iter().filter(|f| f.layer == city.settings.boundary_layer) {
        let (a, b) = f.bbox();
        lo = (lo.0.min(a[0]), lo.1.min(a[1]));
        hi = (hi.0.max(b[0]), hi.1.max(b[1]));
    }
    (lo, hi)
}

fn inside(city: &CityModel, (lat, lon): (f64, f64)) -> bool {
    civic311_domain::geo::Point::new(lat, lon)
        .map(|p| city.boundaries.locate(&p).contains_key(&city.settings.boundary_layer))
        .unwrap_or(false)
}

fn location(city: &CityModel, spots: &[(f64, f64)], seed: u64) -> (f64, f64) {
    let mut rng = Rng::new(seed ^ 0x5EED);
    let (lo, hi) = extent(city);
    for _ in 0..20 {
        let p = if rng.unit() < 0.7 {
            let (lat, lon) = spots[rng.below(spots.len())];
            // About 250 m of spread around the hotspot.
            (lat + rng.normal() * 0.0022, lon + rng.normal() * 0.0030)
        } else {
            (lo.1 + rng.unit() * (hi.1 - lo.1), lo.0 + rng.unit() * (hi.0 - lo.0))
        };
        let p = round6(p);
        if inside(city, p) {
            return p;
        }
    }
    spots[0]
}

/// Coordinates as they will be written, so the inside check sees the stored point.
fn round6((lat, lon): (f64, f64)) -> (f64, f64) {
    ((lat * 1e6).round() / 1e6, (lon * 1e6).round() / 1e6)
}

fn plan(city: &CityModel, shapes: &[Shape], n: usize, end: Timestamp, rng: &mut Rng) -> Vec<Plan> {
    let total: f64 = shapes.iter().map(|s| s.weight).sum();
    // A few storms a year, each two days of downed trees, flooding and power lines.
    let storms: Vec<i64> = (0..10).map(|_| rng.below(DAYS as usize) as i64).collect();
    let mut plans = Vec::with_capacity(n);
    while plans.len() < n {
        let mut pick = rng.unit() * total;
        let shape = shapes.iter().position(|s| {
            pick -= s.weight;
            pick < 0.0
        });
        let shape = shape.unwrap_or(shapes.len() - 1);
        let s = &shapes[shape];
        let day = rng.below(DAYS as usize) as i64;
        let date = end - SignedDuration::from_hours(24 * day);
        let month = date.to_zoned(city.tz.clone()).month();
        let weight = if s.season == "storm" {
            if storms.iter().any(|d| (day - d).abs() <= 1) { 1.0 } else { 0.08 }
        } else {
            season(&s.season, month)
        };
        if rng.unit() > weight {
            continue;
        }
        // Phone intake is weekday daytime; web and apps spread into evenings.
        let phone = rng.unit() < s.phone;
        let hour = if phone { 8.0 + rng.unit() * 9.0 } else { 7.0 + rng.unit() * 16.0 };
        let local_midnight = date.to_zoned(city.tz.clone()).start_of_day().map(|z| z.timestamp()).unwrap_or(date);
        let at = local_midnight + SignedDuration::from_secs_f64(hour * 3600.0);
        if at > end {
            continue;
        }
        let seed = rng.next_u64();
        plans.push(Plan { at, shape, seed, origin: seed, phone, again: false });
        // About one problem in thirty comes back at the same place weeks after it was
        // fixed; drawn from its own generator, so the rest of the history stays as it was.
        let mut back = Rng::new(seed ^ 0xBAC4);
        let later = at + SignedDuration::from_secs_f64((7.0 + back.unit() * 30.0) * 86_400.0);
        if back.unit() < 0.035 && later <= end && plans.len() < n {
            plans.push(Plan { at: later, shape, seed: back.next_u64(), origin: seed, phone, again: true });
        }
        // Duplicate clusters: the same pothole or dumped mattress reported again nearby
        // within a few days.
        if rng.unit() < 0.05 {
            for _ in 0..1 + rng.below(3) {
                let later = at + SignedDuration::from_secs_f64(rng.unit() * 3.0 * 86_400.0);
                if later <= end && plans.len() < n {
                    let copy =
                        Plan { at: later, shape, seed: rng.next_u64(), origin: seed, phone: false, again: false };
                    plans.push(copy);
                }
            }
        }
    }
    plans.sort_by_key(|p| p.at);
    plans
}

fn answers(service: &Service, at: Timestamp, rng: &mut Rng) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for a in service.attributes.iter().filter(|a| a.variable) {
        if !a.required && rng.unit() < 0.5 {
            continue;
        }
        let v = match a.datatype {
            Datatype::Singlevaluelist => vec![a.values[rng.below(a.values.len())].key.clone()],
            Datatype::Multivaluelist => {
                let mut keys: Vec<String> =
                    a.values.iter().filter(|_| rng.unit() < 0.4).map(|v| v.key.clone()).collect();
                if keys.is_empty() {
                    keys.push(a.values[0].key.clone());
                }
                keys
            }
            // Small numbers: the demo's number questions are inches and counts.
            Datatype::Number => vec![(1 + rng.below(8)).to_string()],
            Datatype::Datetime => vec![(at - SignedDuration::from_hours(1 + rng.below(48) as i64)).to_string()],
            Datatype::String => vec!["Near the corner store".to_owned()],
            Datatype::Text => vec!["An old couch and two chairs".to_owned()],
        };
        out.insert(a.code.clone(), v);
    }
    out
}

const OUTCOMES: [&str; 6] = [
    "Completed.",
    "Repaired by the crew.",
    "Completed. Thank you for reporting it.",
    "Inspected: no problem found.",
    "Duplicate of an earlier report; work done under that request.",
    "Referred to the responsible utility.",
];

fn materialise(city: &CityModel, shapes: &[Shape], spots: &[(f64, f64)], p: Plan, end: Timestamp) -> Result<Intake> {
    let s = &shapes[p.shape];
    let service = city.service(&s.code).with_context(|| format!("history names unknown service {}", s.code))?;
    let mut rng = Rng::new(p.seed);
    let origin = location(city, spots, p.origin);
    let (lat, lon) = if p.origin == p.seed || p.again {
        origin
    } else {
        // A duplicate: within a few tens of metres of the original.
        let near = round6((origin.0 + rng.normal() * 0.00015, origin.1 + rng.normal() * 0.0002));
        if inside(city, near) { near } else { origin }
    };
    let channel = if !service.is_public() {
        Channel::Internal
    } else if p.phone {
        Channel::Phone
    } else if rng.unit() < 0.5 {
        Channel::Web
    } else {
        Channel::Mobile
    };
    let mut answers = answers(service, p.at, &mut rng);
    // A report about an asset names the one nearest where it was made, as residents
    // pick it on the map.
    let asset = service.assets.as_ref().and_then(|used| {
        let at = civic311_domain::geo::Point::new(lat, lon).ok()?;
        city.assets.nearest(&used.types, at, 2_000.0).map(|n| n.asset)
    });
    let (lat, lon) = match asset {
        Some(a) => {
            answers.insert(civic311_domain::service::AssetUse::FIELD.to_owned(), vec![a.id.clone()]);
            (a.point.lat, a.point.lon)
        }
        None => (lat, lon),
    };
    let raw = RawRequest {
        service_code: s.code.clone(),
        description: s.texts[rng.below(s.texts.len())].clone(),
        lat: Some(format!("{lat:.6}")),
        long: Some(format!("{lon:.6}")),
        answers,
        contact: caller(channel, p.seed),
        // The past is not announced: history's callers get no updates from the demo.
        notify: Some("none".to_owned()),
        ..RawRequest::default()
    };
    let mut intake = match prepare(city, raw, channel, p.at, civic311_app::tokens::new_request_token()) {
        Ok(i) => i,
        Err(e) => anyhow::bail!("invented request refused: {e}"),
    };
    intake.messages.clear();
    // Business days become calendar days (× 1.4); a log-normal spread around 0.6 of the
    // target closes about three in four on time and leaves a long tail weeks late, as
    // real cities' 311 data shows.
    let days = s.days * 1.4 * 0.6 * (rng.normal() * 0.8).exp();
    // The long tail is cut at the stall horizon: what was filed long ago is done by now.
    let closed = (p.at + SignedDuration::from_secs_f64(days * 86_400.0))
        .min(p.at + SignedDuration::from_hours((STALL_DAYS - 1) * 24));
    // A few requests stall and are still open long after they should be: the backlog
    // a supervisor's aging report has to find.
    // Only recent work stalls: a city does not leave a pothole open for two years.
    let recent = end.duration_since(p.at) < SignedDuration::from_hours(STALL_DAYS * 24);
    let stalled = recent && rng.unit() < 0.03;
    if closed >= end || stalled {
        // Open work a day old has mostly been given to someone on the owning team.
        let a = &mut intake.decision.assignment;
        let crew: Vec<&str> = city
            .workflow
            .directory
            .users
            .values()
            .filter(|u| u.active && u.team.is_some() && u.team == a.team && matches!(u.role, Role::Field | Role::Staff))
            .map(|u| u.username.as_str())
            .collect();
        if end.duration_since(p.at) > SignedDuration::from_hours(24) && !crew.is_empty() && rng.unit() < 0.75 {
            a.assignee = Some(crew[rng.below(crew.len())].to_owned());
        }
    }
    if closed < end && !stalled {
        let duplicate = p.origin != p.seed && !p.again;
        let note = if duplicate { OUTCOMES[4] } else { OUTCOMES[rng.below(4)] };
        let note = if s.code == "POWERLINE" && rng.unit() < 0.5 { OUTCOMES[5] } else { note };
        intake.closed = Some((closed, note.to_owned()));
        let departments: Vec<String> = city.departments.iter().map(|d| d.code.clone()).collect();
        let department = intake.decision.assignment.department.clone();
        intake.history = super::past::past(p.seed, p.at, closed, &department, &departments);
        intake.history.extend(super::past::escalations(city, &intake, closed));
        if channel == Channel::Internal {
            intake.history.retain(|e| e.kind != civic311_domain::request::EventKind::Rated);
        }
        intake.timers.clear();
        if let Some(c) = intake.workflow.sla.as_mut() {
            c.stop(closed);
        }
    }
    Ok(intake)
}

/// How recent a request must be to still be open past its time: older stalled work has
/// been dealt with since.
const STALL_DAYS: i64 = 45;

/// Residents who report things: a caller is one of these, so the same people come back
/// with new requests as they do in a real city.
const RESIDENTS: u64 = 60_000;
const FIRST_NAMES: [&str; 24] = [
    "María",
    "James",
    "Guadalupe",
    "Mary",
    "José",
    "Robert",
    "Ana",
    "Patricia",
    "Luis",
    "Jennifer",
    "Carmen",
    "Michael",
    "Rosa",
    "Linda",
    "Juan",
    "David",
    "Sofía",
    "Keisha",
    "Miguel",
    "Wei",
    "Fatima",
    "Thomas",
    "Lucía",
    "DeShawn",
];
const LAST_NAMES: [&str; 25] = [
    "García",
    "Smith",
    "Johnson",
    "Martínez",
    "Williams",
    "Hernández",
    "Brown",
    "López",
    "Jones",
    "González",
    "Miller",
    "Rodríguez",
    "Davis",
    "Pérez",
    "Wilson",
    "Nguyen",
    "Okafor",
    "Anderson",
    "Ramírez",
    "Thomas",
    "Kim",
    "Jackson",
    "Flores",
    "White",
    "Washington",
];

/// Who filed a request of the history, if anyone said: callers by phone always give
/// their name and number; about two in three of the others leave a name and an email.
/// Drawn from its own generator, so the rest of the history stays as it was.
fn caller(channel: Channel, seed: u64) -> civic311_domain::request::Contact {
    let mut rng = Rng::new(seed ^ 0x0C41_1E25);
    let anonymous = channel == Channel::Internal || (channel != Channel::Phone && rng.unit() < 0.35);
    if anonymous {
        return civic311_domain::request::Contact::default();
    }
    let who = rng.next_u64() % RESIDENTS;
    let first = FIRST_NAMES[(who % 24) as usize];
    let last = LAST_NAMES[((who / 24) % 25) as usize];
    let plain = civic311_domain::text::fold;
    civic311_domain::request::Contact {
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        phone: Some(format!("(312) {:03}-{:04}", 200 + who / 10_000, who % 10_000)),
        email: (channel != Channel::Phone)
            .then(|| format!("{}.{}{}@example.test", plain(first), plain(last), who / 600)),
        ..Default::default()
    }
}

/// Invents `n` requests over the two years before `end` and stores them in batches.
/// Calls `progress` with the count stored so far.
pub async fn seed_history(
    store: &dyn Store,
    city: &CityModel,
    n: usize,
    end: Timestamp,
    mut progress: impl FnMut(usize),
) -> Result<()> {
    let shapes = toml::from_str::<History>(super::HISTORY).context("history.toml")?.service;
    let mut rng = Rng::new(311);
    let spots = hotspots(city, &mut rng)?;
    let plans = plan(city, &shapes, n, end, &mut rng);
    let seeding = async {
        let mut done = 0;
        for chunk in plans.chunks(BATCH) {
            let batch =
                chunk.iter().map(|p| materialise(city, &shapes, &spots, *p, end)).collect::<Result<Vec<_>>>()?;
            store.import_requests(batch).await?;
            done += chunk.len();
            progress(done);
        }
        Ok(())
    };
    crate::import_requests::with_indexes_set_aside(store, false, seeding).await
}
