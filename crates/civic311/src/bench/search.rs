//! `civic311 bench search`: the staff header search with many requests stored. Keys are
//! taken from requests drawn at random — their number (with and without its dash),
//! the caller's phone and email, their last name, the address and two words of the
//! description — and each is searched in the store and as the search page over HTTP.

use std::time::Instant;

use anyhow::{Result, bail};
use civic311_domain::org::Role;
use civic311_store::StaffSearch;

use super::{Client, demo_store, percentile, raw_sql, spawn_server, staff_session};
use crate::demo::history::Rng;

/// The kinds of key a call taker types, and how each is made from a request.
const KINDS: [&str; 7] = ["number", "number without dash", "phone", "email", "last name", "address", "words"];

fn key(kind: &str, r: &civic311_domain::request::ServiceRequest) -> Option<String> {
    let c = &r.contact;
    match kind {
        "number" => Some(r.id.to_string()),
        "number without dash" => Some(r.id.to_string().replace('-', "")),
        "phone" => c.phone.clone(),
        "email" => c.email.clone(),
        "last name" => c.last_name.clone(),
        "address" => r.location.address.clone(),
        _ => Some(r.description.split_whitespace().take(2).collect::<Vec<_>>().join(" ")).filter(|w| !w.is_empty()),
    }
}

pub async fn run(url: &str, requests: usize, samples: usize) -> Result<()> {
    let store = demo_store(url, requests).await?;
    if url.starts_with("postgres") {
        raw_sql(url, &[("ANALYZE requests", vec![])]).await?;
    }
    let stored = store.count_requests().await?;
    // A signed-in member of staff for the page, by a session made here.
    let token = staff_session(&store, "bench", Role::Intake).await?;
    let addr = spawn_server(store.clone()).await?;
    let mut client = Client::connect(addr).await?;
    let mut rng = Rng::new(5001);
    let max = u64::try_from(stored).unwrap_or(1).max(1);
    let mut picked = Vec::with_capacity(samples);
    while picked.len() < samples {
        let seq = i64::try_from(1 + rng.next_u64() % max).unwrap_or(1);
        if let Some(r) = store.request(seq).await? {
            picked.push(r);
        }
    }
    println!("backend {} | {stored} requests stored | {samples} requests drawn at random", store.backend());
    for kind in KINDS {
        let (mut in_store, mut page, mut results, mut missed) = (Vec::new(), Vec::new(), 0usize, 0usize);
        for r in &picked {
            let Some(text) = key(kind, r) else { continue };
            let search = StaffSearch::parse(&text);
            let t = Instant::now();
            let found = store.search_requests(&search, crate::bench::SEARCH_PAGE).await?;
            in_store.push(t.elapsed());
            results += found.len();
            // Keys that name a request must find it (a last name or two words of a
            // description name thousands; the newest 50 are listed).
            if matches!(kind, "number" | "number without dash" | "phone" | "email")
                && !found.iter().any(|f| f.id.seq == r.id.seq)
            {
                missed += 1;
            }
            let q = civic311_web::ui::encode(&text);
            let req =
                format!("GET /staff/search?q={q} HTTP/1.1\r\nHost: bench\r\nCookie: civic311_session={token}\r\n\r\n");
            let t = Instant::now();
            let (status, _) = client.send(req.as_bytes()).await?;
            page.push(t.elapsed());
            if status != 200 && status != 303 {
                bail!("GET /staff/search?q={q} answered {status}");
            }
        }
        if in_store.is_empty() {
            println!("  {kind:<20} | no request of the sample has one");
            continue;
        }
        in_store.sort();
        page.sort();
        let ms = |v: &[std::time::Duration], p| percentile(v, p) * 1000.0;
        println!(
            "  {kind:<20} | {:>4} searches, {:>5.1} results each | store p50 {:.2} ms p99 {:.2} ms | page p50 {:.2} ms p99 {:.2} ms{}",
            in_store.len(),
            results as f64 / in_store.len() as f64,
            ms(&in_store, 0.5),
            ms(&in_store, 0.99),
            ms(&page, 0.5),
            ms(&page, 0.99),
            if missed > 0 { format!(" | {missed} NOT FOUND") } else { String::new() }
        );
        if missed > 0 {
            bail!("{missed} {kind} searches did not find the request they were made from");
        }
    }
    Ok(())
}
