//! `civic311 bench export`: the open-data exports over HTTP with many requests stored —
//! the whole CSV streamed (rows a second, time to the headers and to the first row),
//! once gzipped, and the change feed walked a page of 1,000 at a time.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::{demo_store, percentile, raw_sql, spawn_server};

/// What one GET took and brought.
struct Fetched {
    status: u16,
    headers: Vec<(String, String)>,
    /// From sending to the end of the headers, and to the end of the first row (the
    /// second line of the body: the first is the CSV header).
    to_headers: Duration,
    to_first_row: Option<Duration>,
    total: Duration,
    bytes: usize,
    /// Lines ending in CRLF (rows and the header line, for CSV).
    lines: usize,
}

/// GETs `path` on a fresh connection, reading a chunked or sized body to its end.
async fn get(addr: std::net::SocketAddr, path: &str, gzip: bool) -> Result<Fetched> {
    let started = Instant::now();
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut s = BufReader::with_capacity(1 << 16, stream);
    let encoding = if gzip { "Accept-Encoding: gzip\r\n" } else { "" };
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n{encoding}Connection: close\r\n\r\n");
    s.get_mut().write_all(request.as_bytes()).await?;
    let mut line = String::new();
    s.read_line(&mut line).await?;
    let status: u16 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).context("bad status line")?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        s.read_line(&mut line).await?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let to_headers = started.elapsed();
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let (mut bytes, mut lines, mut last, mut to_first_row) = (0usize, 0usize, 0u8, None);
    // Looks only at line feeds (a searcher's pace, not a byte at a time: the client
    // shares the machine with the server it measures).
    let mut count = |data: &[u8], lines: &mut usize, last: &mut u8| {
        for at in memchr::memchr_iter(b'\n', data) {
            let before = if at == 0 { *last } else { data[at - 1] };
            if before == b'\r' {
                *lines += 1;
                if *lines == 2 && to_first_row.is_none() {
                    to_first_row = Some(started.elapsed());
                }
            }
        }
        *last = data.last().copied().unwrap_or(*last);
    };
    let mut buf = vec![0u8; 1 << 16];
    if chunked {
        loop {
            line.clear();
            s.read_line(&mut line).await?;
            let size = usize::from_str_radix(line.trim(), 16).context("bad chunk size")?;
            if size == 0 {
                break;
            }
            let mut left = size;
            while left > 0 {
                let want = left.min(buf.len());
                let n = s.read(&mut buf[..want]).await?;
                if n == 0 {
                    bail!("the stream ended inside a chunk");
                }
                count(&buf[..n], &mut lines, &mut last);
                bytes += n;
                left -= n;
            }
            line.clear();
            s.read_line(&mut line).await?;
        }
    } else {
        loop {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            count(&buf[..n], &mut lines, &mut last);
            bytes += n;
        }
    }
    Ok(Fetched { status, headers, to_headers, to_first_row, total: started.elapsed(), bytes, lines })
}

pub async fn run(url: &str, requests: usize, samples: usize) -> Result<()> {
    let store = demo_store(url, requests).await?;
    if url.starts_with("postgres") {
        raw_sql(url, &[("ANALYZE requests", vec![])]).await?;
    }
    let stored = store.count_requests().await?;
    let addr = spawn_server(store.clone()).await?;
    println!("backend {} | {stored} requests stored", store.backend());

    for run in 1..=3 {
        let f = get(addr, "/open-data/requests.csv", false).await?;
        if f.status != 200 {
            bail!("export answered {}", f.status);
        }
        let rows = f.lines.saturating_sub(1);
        println!(
            "csv run {run}: {rows} rows, {:.0} MB in {:.2} s = {:.0} rows/s | headers {:.1} ms, first row {:.1} ms",
            f.bytes as f64 / 1e6,
            f.total.as_secs_f64(),
            rows as f64 / f.total.as_secs_f64(),
            f.to_headers.as_secs_f64() * 1e3,
            f.to_first_row.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
        );
    }
    let f = get(addr, "/open-data/requests.csv", true).await?;
    println!(
        "csv gzipped: {:.0} MB in {:.2} s (encoding {:?})",
        f.bytes as f64 / 1e6,
        f.total.as_secs_f64(),
        f.headers.iter().find(|(k, _)| k == "content-encoding").map(|(_, v)| v.as_str())
    );
    for format in ["json", "geojson"] {
        let f = get(addr, &format!("/open-data/requests.{format}"), false).await?;
        println!("{format}: {:.0} MB in {:.2} s", f.bytes as f64 / 1e6, f.total.as_secs_f64());
    }

    // The change feed from the beginning, a page of 1,000 at a time.
    let mut path = "/open-data/requests.csv?limit=1000".to_owned();
    let mut times = Vec::with_capacity(samples);
    let mut rows = 0usize;
    for _ in 0..samples {
        let f = get(addr, &path, false).await?;
        if f.status != 200 {
            bail!("feed page answered {}", f.status);
        }
        times.push(f.total);
        rows += f.lines.saturating_sub(1);
        let link = f.headers.iter().find(|(k, _)| k == "link").map(|(_, v)| v.clone()).context("no Link")?;
        path = link.trim_start_matches('<').split('>').next().unwrap_or_default().to_owned();
    }
    times.sort();
    println!(
        "feed pages of 1,000 ({samples} in a row, {rows} rows): p50 {:.1} ms, p99 {:.1} ms",
        percentile(&times, 0.5) * 1e3,
        percentile(&times, 0.99) * 1e3
    );
    Ok(())
}
