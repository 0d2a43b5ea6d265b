//! `civic311 import requests`: a city's history from a CSV file (`.csv` or `.csv.gz`)
//! in our bulk format or the NYC, Chicago or San Francisco layout, with a mapping file
//! for their types, agencies and statuses (docs/OPEN_DATA.md).

use std::future::Future;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use civic311_app::city::CityModel;
use std::collections::{HashMap, HashSet};

use civic311_app::import::{Layout, Mapping, Outcomes, Reader, Seen, merge_into};
use civic311_domain::request::RequestId;
use civic311_store::{Intake, SharedStore, Store};

/// Rows written in one transaction: larger batches cost less a row (10,000 took 15 %
/// less time than 2,000), but hold the single SQLite writer, and so live intake, for
/// as long as a batch takes (about a quarter of a second at 5,000 on the benchmark
/// machine, where 10,000 saved only 3 % of an import).
const BATCH: usize = 5_000;

/// A city holding fewer requests than this gets the import tables' indexes set aside
/// while an import writes and built once at its end (`Store::park_indexes`): building
/// them again over this many costs seconds, while keeping them up to date row by row
/// costs far more over a large import.
const PARK_BELOW: i64 = 100_000;

/// Counts the bytes read from the file, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Imports (or, `dry_run`, only reads and checks) `file`; what happened to its rows.
///
/// Two stages run side by side: a thread reads, checks and routes the rows in batches
/// while the store writes the batches before (each batch one transaction; see
/// [`Writes`]).
pub async fn run(
    store: SharedStore,
    layout: Layout,
    mapping: Option<&Path>,
    dry_run: bool,
    file: &Path,
) -> Result<Outcomes> {
    let name = file.display().to_string();
    let city = CityModel::load(store.as_ref()).await.context("the database holds no city yet; import one first")?;
    let mapping: Mapping = match mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("{}", path.display()))?
        }
        None => Mapping::default(),
    };
    if let Err(e) = mapping.check(&city) {
        bail!("the mapping file: {e}");
    }
    let opened = std::fs::File::open(file).with_context(|| format!("opening {name}"))?;
    let size = opened.metadata().map(|m| m.len()).unwrap_or(0);
    let read = Arc::new(AtomicU64::new(0));
    let counted = Counting { inner: opened, read: Arc::clone(&read) };
    let input: Box<dyn Read + Send> = if file.to_string_lossy().ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(counted)))
    } else {
        Box::new(counted)
    };
    let csv = csv::ReaderBuilder::new().flexible(true).from_reader(std::io::BufReader::with_capacity(1 << 20, input));

    let (batches, mut ready) = tokio::sync::mpsc::channel(2);
    let rows = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&rows);
    let reading =
        tokio::task::spawn_blocking(move || read_rows(csv, &city, layout, &mapping, &name, &batches, &counter));

    let progress = std::io::stderr().is_terminal().then(|| Progress::new(size));
    let imported = async {
        let mut outcomes = Outcomes::default();
        let mut accepted = HashSet::new();
        let mut writes = Writes::new(store.clone(), dry_run);
        while let Some(batch) = ready.recv().await {
            if let Err(e) = write(&mut writes, batch, &mut outcomes, &mut accepted).await {
                // The batches already handed over end (committed or not) before the
                // indexes are built again.
                let _ = writes.finish().await;
                return Err(e);
            }
            if let Some(p) = &progress {
                p.show(read.load(Ordering::Relaxed), rows.load(Ordering::Relaxed));
            }
        }
        writes.finish().await?;
        // The reader ends when the file does, or says why it could not go on.
        let rejected = reading.await.context("the reading thread failed")??;
        for (why, n) in rejected.rejected {
            *outcomes.rejected.entry(why).or_default() += n;
        }
        if let Some(p) = &progress {
            p.show(size, outcomes.rows());
            eprintln!();
        }
        Ok::<_, anyhow::Error>(outcomes)
    };
    if dry_run { imported.await } else { with_indexes_set_aside(store.as_ref(), progress.is_some(), imported).await }
}

/// Runs `work` (writing many requests) with the import tables' indexes set aside when
/// the city holds fewer than [`PARK_BELOW`] requests, and builds them again after it,
/// also when it fails: what was written before a failure stays, indexed; then lets the
/// store settle (see [`Store::settle`]: the builds are what leave SQLite's log large
/// and PostgreSQL's statistics stale, so an import that set nothing aside skips it).
/// `announce` says on the terminal how long building them took.
pub async fn with_indexes_set_aside<T>(
    store: &dyn Store,
    announce: bool,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let parked = store.park_indexes(PARK_BELOW).await?;
    let done = work.await;
    if parked > 0 {
        let started = Instant::now();
        if announce {
            eprint!("building the {parked} indexes and keys set aside for the import … ");
        }
        store.restore_indexes().await.context("building the indexes set aside for the import")?;
        if announce {
            eprintln!("{:.1} s", started.elapsed().as_secs_f64());
        }
        // Only for speed: what was imported is committed and indexed whatever happens
        // here, and the databases catch up by themselves in time.
        if let Err(e) = store.settle().await {
            tracing::warn!(error = %e, "could not settle the database after the import; reads catch up in time");
        }
    }
    done
}

/// A batch of rows read and checked: each request with the source id of the request
/// it duplicates (if the file says).
type Batch = Vec<(Intake, Option<String>)>;

/// Reads the rows of `csv` into batches sent to `batches`; the rows it rejected, and
/// why. Stops early, without an error, when the writer has stopped listening.
fn read_rows<R: Read>(
    mut csv: csv::Reader<R>,
    city: &CityModel,
    layout: Layout,
    mapping: &Mapping,
    name: &str,
    batches: &tokio::sync::mpsc::Sender<Batch>,
    rows: &AtomicU64,
) -> Result<Outcomes> {
    let header: Vec<String> =
        csv.headers().with_context(|| format!("{name}: no header line"))?.iter().map(str::to_owned).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let now = jiff::Timestamp::now();
    let reader = Reader::new(city, layout, mapping, &header, now).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut outcomes = Outcomes::default();
    let mut seen = Seen::default();
    let mut batch: Batch = Vec::with_capacity(BATCH);
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // A broken line (an unclosed quote) is reported; the rest is read on.
                outcomes.reject(format!("unreadable CSV ({})", short(&e)));
                continue;
            }
        }
        rows.fetch_add(1, Ordering::Relaxed);
        let row: Vec<&str> = record.iter().collect();
        let Some(source) = reader.source(&row) else {
            outcomes.reject("no id".into());
            continue;
        };
        if !seen.first(&source) {
            outcomes.reject("the same id as an earlier row".into());
            continue;
        }
        match reader.read(&row) {
            Ok(intake) => batch.push((intake, reader.duplicate_of(&row))),
            Err(why) => outcomes.reject(why),
        }
        if batch.len() >= BATCH
            && batches.blocking_send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err()
        {
            return Ok(outcomes);
        }
    }
    if !batch.is_empty() {
        // A writer that stopped has its own error to report.
        let _ = batches.blocking_send(batch);
    }
    Ok(outcomes)
}

fn short(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
        _ => e.to_string().split(':').next().unwrap_or_default().to_owned(),
    }
}

fn source(i: &Intake) -> String {
    i.imported.as_ref().map(|m| m.source.clone()).unwrap_or_default()
}

/// Leaves out what was imported before and stores the rest (unless a dry run), each
/// duplicate after the request it duplicates and merged into it. `accepted` holds the
/// source ids this run has imported (or, a dry run, would have).
async fn write(
    writes: &mut Writes,
    mut batch: Batch,
    outcomes: &mut Outcomes,
    accepted: &mut HashSet<String>,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let store = writes.store.clone();
    let dry_run = writes.dry_run;
    let store = &store;
    let sources: Vec<String> = batch.iter().map(|(i, _)| source(i)).collect();
    let already: HashSet<String> = store.imported_requests(&sources).await?.into_iter().map(|(s, _)| s).collect();
    let before = batch.len();
    batch.retain(|(i, _)| !already.contains(&source(i)));
    outcomes.already += (before - batch.len()) as u64;
    // A number another request of the city already has is not kept (nor one a batch
    // still being written gives a request numbered after those it keeps).
    let kept: Vec<i64> = batch.iter().filter_map(|(i, _)| i.imported.as_ref()?.seq).collect();
    if !kept.is_empty() {
        writes.finish().await?;
    }
    let taken: HashSet<i64> = store.taken_numbers(&kept).await?.into_iter().collect();
    for (i, _) in &mut batch {
        if let Some(m) = i.imported.as_mut()
            && m.seq.is_some_and(|s| taken.contains(&s))
        {
            m.seq = None;
        }
    }
    // Rounds: first what duplicates nothing still to be stored, then what duplicates
    // those, and so on (a chain of duplicates in one batch takes a round a link).
    let mut pending = batch;
    while !pending.is_empty() {
        let waiting: HashSet<String> = pending.iter().map(|(i, _)| source(i)).collect();
        let (mut ready, later): (Vec<_>, Vec<_>) =
            pending.into_iter().partition(|(_, parent)| parent.as_ref().is_none_or(|p| !waiting.contains(p)));
        if ready.is_empty() {
            // A cycle of parents: none of them can go first, so none is linked.
            ready = later;
            pending = Vec::new();
            for (_, parent) in &mut ready {
                *parent = None;
            }
            outcomes.unlinked += ready.len() as u64;
        } else {
            pending = later;
        }
        if ready.iter().any(|(_, parent)| parent.is_some()) {
            // Their parents may be in a batch still being written.
            writes.finish().await?;
        }
        link(store, &mut ready, dry_run, outcomes, accepted).await?;
        accepted.extend(ready.iter().map(|(i, _)| source(i)));
        outcomes.imported += ready.len() as u64;
        writes.start(ready.into_iter().map(|(i, _)| i).collect()).await?;
    }
    Ok(())
}

/// The batches being written: while one is written the next is checked against what is
/// stored and handed to the store, so that on PostgreSQL building one batch's
/// statements and the server's work on the other overlap (on SQLite the second waits
/// for the single writer). Sources are unique within a file, so a batch never needs
/// another in flight to be stored first — except for the parent of a duplicate, and
/// [`write`](fn@write) waits for all of them before linking one.
struct Writes {
    store: SharedStore,
    dry_run: bool,
    running: tokio::task::JoinSet<civic311_store::StoreResult<u64>>,
}

impl Writes {
    /// Batches written at once.
    const AT_ONCE: usize = 2;

    fn new(store: SharedStore, dry_run: bool) -> Self {
        Self { store, dry_run, running: tokio::task::JoinSet::new() }
    }

    /// Hands `batch` to the store (nothing, a dry run), once fewer than
    /// [`Self::AT_ONCE`] are being written.
    async fn start(&mut self, batch: Vec<Intake>) -> Result<()> {
        if self.dry_run || batch.is_empty() {
            return Ok(());
        }
        while self.running.len() >= Self::AT_ONCE {
            self.next().await?;
        }
        let store = self.store.clone();
        self.running.spawn(async move { store.import_requests(batch).await });
        Ok(())
    }

    /// Waits for one write to end; its error, if it failed.
    async fn next(&mut self) -> Result<()> {
        if let Some(done) = self.running.join_next().await {
            done.context("a batch's write stopped")??;
        }
        Ok(())
    }

    /// Waits for every write to end (all of them, even after one failed); the first
    /// error.
    async fn finish(&mut self) -> Result<()> {
        let mut first = Ok(());
        while !self.running.is_empty() {
            let done = self.next().await;
            if first.is_ok() {
                first = done;
            }
        }
        first
    }
}

/// Merges each duplicate of `items` into the request imported from its parent's row;
/// one whose parent was not imported keeps its own status.
async fn link(
    store: &SharedStore,
    items: &mut [(Intake, Option<String>)],
    dry_run: bool,
    outcomes: &mut Outcomes,
    accepted: &HashSet<String>,
) -> Result<()> {
    let parents: Vec<String> = items.iter().filter_map(|(_, p)| p.clone()).collect();
    if parents.is_empty() {
        return Ok(());
    }
    let found: HashMap<String, RequestId> = store.imported_requests(&parents).await?.into_iter().collect();
    for (intake, parent) in items.iter_mut() {
        let Some(p) = parent else { continue };
        match found.get(p.as_str()) {
            Some(id) => {
                merge_into(intake, *id);
                outcomes.merged += 1;
            }
            // A dry run stores nothing: a parent read before counts as imported.
            None if dry_run && accepted.contains(p.as_str()) => outcomes.merged += 1,
            None => outcomes.unlinked += 1,
        }
    }
    Ok(())
}

/// A progress bar on the terminal: how far through the file, rows a second, time left.
struct Progress {
    size: u64,
    started: Instant,
}

impl Progress {
    fn new(size: u64) -> Self {
        Self { size, started: Instant::now() }
    }

    fn show(&self, at: u64, rows: u64) {
        let done = if self.size == 0 { 1.0 } else { (at as f64 / self.size as f64).min(1.0) };
        let secs = self.started.elapsed().as_secs_f64();
        let rate = rows as f64 / secs.max(1e-3);
        let eta = if done > 0.0 { secs / done - secs } else { 0.0 };
        let width = 30;
        let filled = (done * width as f64) as usize;
        let bar: String = "#".repeat(filled) + &".".repeat(width - filled);
        let mut err = std::io::stderr();
        let _ = write!(err, "\r[{bar}] {:>3.0}%  {rows} rows  {rate:.0} rows/s  {eta:.0} s left ", done * 100.0);
        let _ = err.flush();
    }
}

/// The outcomes as the command prints them.
pub fn report(o: &Outcomes, dry_run: bool) -> String {
    let verb = if dry_run { "would be imported" } else { "imported" };
    let mut out = format!("{} rows: {} {verb}, {} already imported", o.rows(), o.imported, o.already);
    let rejected: u64 = o.rejected.values().sum();
    out.push_str(&format!(", {rejected} rejected\n"));
    if o.merged + o.unlinked > 0 {
        out.push_str(&format!(
            "  duplicates: {} merged into the request they duplicate, {} kept their own status (their parent \
             is not in the import)\n",
            o.merged, o.unlinked
        ));
    }
    let mut reasons: Vec<(&String, &u64)> = o.rejected.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (why, n) in reasons {
        out.push_str(&format!("  {n:>8}  {why}\n"));
    }
    out
}
