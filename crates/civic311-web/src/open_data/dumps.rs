//! Nightly dumps: once a day, from [`DUMP_HOUR`] in the city's time, the whole CSV
//! export (every published request, exactly what `/open-data/requests.csv` gives) is
//! written gzipped as `requests-YYYY-MM-DD.csv.gz` into the configured directory, and
//! only the newest [`DumpConfig::keep`] are kept. They are listed on `/open-data` and
//! served at `/open-data/dumps/NAME` (public, like the rest of the open data).
//!
//! A dump is written to a hidden `.part` file made with `create_new` and renamed into
//! place when it is whole, so a reader never sees half a file, and nodes sharing the
//! directory do not write the same day twice.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use civic311_store::RequestQuery;
use jiff::Timestamp;
use jiff::civil::Date;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Dump, Format};
use crate::AppState;

/// The local hour from which the day's dump is written.
pub const DUMP_HOUR: i8 = 2;
/// A `.part` file older than this was left by a writer that stopped; it is removed.
const STALE_PART: Duration = Duration::from_secs(6 * 3600);
/// Bytes read from a dump at a time while it is served.
const CHUNK: usize = 64 * 1024;

/// Where the dumps go and how many are kept.
#[derive(Debug, Clone)]
pub struct DumpConfig {
    pub dir: PathBuf,
    pub keep: usize,
}

/// A dump on disk: its day, file name and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpFile {
    pub day: Date,
    pub name: String,
    pub bytes: u64,
}

/// The file name of `day`'s dump.
pub fn file_name(day: Date) -> String {
    format!("requests-{day}.csv.gz")
}

/// The day a dump's file name stands for; `None` for any other name.
fn day_of(name: &str) -> Option<Date> {
    let day: Date = name.strip_prefix("requests-")?.strip_suffix(".csv.gz")?.parse().ok()?;
    (file_name(day) == name).then_some(day)
}

/// The dumps in `dir`, newest first (none when it cannot be read).
pub fn list(dir: &Path) -> Vec<DumpFile> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<DumpFile> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let day = day_of(&name)?;
            let bytes = e.metadata().ok().filter(std::fs::Metadata::is_file)?.len();
            Some(DumpFile { day, name, bytes })
        })
        .collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.day));
    out
}

/// Writes the day's dump when it is due (from [`DUMP_HOUR`] local time, and not yet
/// written), then keeps only the newest. The path written, if any.
pub async fn write_due(state: &AppState, config: &DumpConfig, now: Timestamp) -> std::io::Result<Option<PathBuf>> {
    let local = now.to_zoned(state.city().tz.clone());
    if local.hour() < DUMP_HOUR {
        return Ok(None);
    }
    let day = local.date();
    if config.dir.join(file_name(day)).exists() {
        return Ok(None);
    }
    let written = write(state, &config.dir, day).await?;
    prune(config)?;
    Ok(written)
}

/// Writes `day`'s dump into `dir` now; `None` when another writer is at it.
pub async fn write(state: &AppState, dir: &Path, day: Date) -> std::io::Result<Option<PathBuf>> {
    tokio::fs::create_dir_all(dir).await?;
    let path = dir.join(file_name(day));
    let part = dir.join(format!(".{}.part", file_name(day)));
    if let Ok(meta) = tokio::fs::metadata(&part).await {
        let age = meta.modified().ok().and_then(|m| m.elapsed().ok()).unwrap_or_default();
        if age < STALE_PART {
            return Ok(None);
        }
        tokio::fs::remove_file(&part).await?;
    }
    let mut file = match tokio::fs::OpenOptions::new().write(true).create_new(true).open(&part).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => return Err(e),
    };
    let result = async {
        // A dump is a whole export: it takes an export slot like a download does.
        let permit = Arc::clone(&state.throttles.exports.0).acquire_owned().await.map_err(std::io::Error::other)?;
        let mut dump = Dump::new(state.clone(), RequestQuery::default(), Format::Csv, true, permit);
        while let Some(chunk) = dump.step().await {
            file.write_all(&chunk?).await?;
        }
        file.sync_all().await?;
        tokio::fs::rename(&part, &path).await
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(e);
    }
    tracing::info!(path = %path.display(), "open-data dump written");
    Ok(Some(path))
}

/// Removes all but the newest `keep` dumps.
fn prune(config: &DumpConfig) -> std::io::Result<()> {
    for old in list(&config.dir).into_iter().skip(config.keep.max(1)) {
        std::fs::remove_file(config.dir.join(old.name))?;
    }
    Ok(())
}

/// Writes each day's dump when it falls due, checking every `every`.
pub async fn run(state: AppState, config: DumpConfig, every: Duration) {
    loop {
        if let Err(e) = write_due(&state, &config, state.now()).await {
            tracing::error!(error = %e, dir = %config.dir.display(), "writing the open-data dump failed; retrying");
        }
        tokio::time::sleep(every).await;
    }
}

/// `GET /open-data/dumps/{name}`: a nightly dump, or 404.
pub(super) async fn serve(State(state): State<AppState>, UrlPath(name): UrlPath<String>) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such dump; the list is on /open-data\n").into_response();
    let (Some(config), Some(_)) = (state.dumps.as_ref(), day_of(&name)) else { return not_found() };
    let path = config.dir.join(&name);
    let Ok(file) = tokio::fs::File::open(&path).await else { return not_found() };
    let length = file.metadata().await.map(|m| m.len()).unwrap_or_default();
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            // The transfer breaks rather than ending short.
            Err(e) => Some((Err::<Bytes, std::io::Error>(e), None)),
        }
    });
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (header::CONTENT_TYPE, "application/gzip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, length.to_string()),
            (header::CACHE_CONTROL, "public, max-age=86400".to_owned()),
        ],
        Body::from_stream(chunks),
    )
        .into_response()
}
