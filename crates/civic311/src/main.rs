//! The `civic311` command: serve a city, run the demo, apply migrations, import
//! boundaries and rules, and measure.

mod bench;
mod city_files;
mod demo;
mod import_requests;
mod store_url;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use civic311_app::App;
use civic311_app::configure::{self, By};
use civic311_app::layers::Layer;
use civic311_domain::geo::parse_geojson;
use civic311_domain::routing::RuleSet;
use civic311_store::SharedStore;
use civic311_web::AppState;
use clap::{Parser, Subcommand};

/// mimalloc rather than the C library's allocator: a quarter of a large import's time
/// was in glibc's malloc and free, and 1,000,000 NYC rows imported into SQLite in
/// 74.9 / 77.4 s against 82.9 / 90.0 s, alternated (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// civic311: an open-source 311 platform for local governments.
#[derive(Parser)]
#[command(name = "civic311", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DbArgs {
    /// `sqlite://PATH` (created if missing) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "CIVIC311_DATABASE_URL", default_value = "sqlite://civic311.db")]
    database_url: String,
}

#[derive(clap::Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CIVIC311_BIND", default_value = "127.0.0.1:3110")]
    bind: SocketAddr,
    /// The address residents and staff use (e.g. `https://311.example.gov`). Every link
    /// in mail is built from it; without it no mail carries a link (password resets
    /// and "my requests" are refused). The demo uses `http://BIND` when it is not given.
    #[arg(long, env = "CIVIC311_PUBLIC_URL")]
    public_url: Option<String>,
    /// Map tiles as a URL template with {z}, {x} and {y}, e.g.
    /// `https://tile.openstreetmap.org/{z}/{x}/{y}.png`. Without it (or when tiles cannot
    /// be reached) maps are boundary outlines and points drawn by civic311.
    #[arg(long, env = "CIVIC311_MAP_TILES")]
    map_tiles: Option<String>,
    /// Reverse proxies in front of civic311 (IP addresses, comma-separated): for
    /// connections from them, the client is the address they put in X-Forwarded-For.
    /// Leave unset when clients connect directly, or anyone could claim any address.
    #[arg(long, env = "CIVIC311_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// The attribution the tile source's licence asks for, shown on every map.
    #[arg(long, env = "CIVIC311_MAP_ATTRIBUTION", default_value = "© OpenStreetMap contributors")]
    map_attribution: String,
    /// A directory for the nightly open-data dumps: every published request as gzipped
    /// CSV, written each day from 02:00 city time, listed on /open-data. Without it none
    /// are written (the demo keeps them next to its database).
    #[arg(long, env = "CIVIC311_OPEN_DATA_DUMPS")]
    open_data_dumps: Option<std::path::PathBuf>,
    /// How many nightly dumps are kept (the newest).
    #[arg(long, env = "CIVIC311_OPEN_DATA_KEEP", default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..))]
    open_data_keep: u16,
}

#[derive(Subcommand)]
enum Audit {
    /// Checks every request's hash-chained history and reports the first broken link of each.
    Verify {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum Reports {
    /// Empties the report rollups and builds them again from every request (after a
    /// change of calendars, or to check them); prints how long it took.
    Rebuild {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Subcommand)]
enum Command {
    /// The report rollups the dashboards and the reporting API read.
    Reports {
        #[command(subcommand)]
        what: Reports,
    },
    /// Tamper-evidence checks.
    Audit {
        #[command(subcommand)]
        what: Audit,
    },
    /// Serve an existing database.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Run the fictional City of Riverton: creates or reopens the demo database, seeds
    /// it when empty, prints how to use it, and serves.
    Demo {
        #[arg(long, env = "CIVIC311_DATABASE_URL", default_value = "sqlite://civic311-demo.db")]
        database_url: String,
        #[command(flatten)]
        serve: ServeArgs,
        /// Historical requests to invent when seeding.
        #[arg(long, default_value_t = 5_000)]
        requests: usize,
        /// Seed and exit without serving.
        #[arg(long)]
        seed_only: bool,
    },
    /// Apply pending database migrations.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Import configuration from files.
    Import {
        #[command(subcommand)]
        what: Import,
    },
    /// Export configuration to files.
    Export {
        #[command(subcommand)]
        what: Export,
    },
    /// Issue an Open311 API key (printed once) for an app or integration.
    ApiKey {
        #[command(flatten)]
        db: DbArgs,
        /// Who the key is for, e.g. "FixMyStreet" or "city iOS app".
        #[arg(long)]
        label: String,
        /// Requests a minute the key may file (a burst of as many at once).
        #[arg(long, default_value_t = civic311_store::ApiKey::DEFAULT_PER_MINUTE, conflicts_with = "unlimited")]
        per_minute: u32,
        /// No budget at all: for the city's own, trusted integrations.
        #[arg(long)]
        unlimited: bool,
    },
    /// Measure intake, queries and routing (see docs/BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        what: bench::Bench,
    },
}

#[derive(Subcommand)]
enum Import {
    /// Load a whole city into an empty database from a folder laid out like
    /// `data/demo/`: city.toml, services.toml, rules.toml, optional workflow.toml and
    /// articles.toml, and one LAYER.geojson per boundary layer.
    City {
        #[command(flatten)]
        db: DbArgs,
        dir: PathBuf,
    },
    /// Replace one boundary layer (wards, neighborhoods, zipcodes, service districts…)
    /// with the Polygons and MultiPolygons of a GeoJSON file.
    Boundaries {
        #[command(flatten)]
        db: DbArgs,
        /// Layer name.
        #[arg(long)]
        layer: String,
        /// Property holding each feature's id (default: the Feature id, or the
        /// properties `id`, `code` or `name`).
        #[arg(long)]
        id_property: Option<String>,
        file: PathBuf,
    },
    /// Replace the address layer with the points of a GeoJSON file (`.geojson`) or an
    /// OpenAddresses CSV (`.csv`: LON, LAT, NUMBER, STREET, UNIT, CITY, DISTRICT,
    /// REGION, POSTCODE, ID, HASH). Nothing is written unless every row is good, or
    /// `--skip-bad` is given.
    Addresses {
        #[command(flatten)]
        db: DbArgs,
        /// Import the good rows and report how many bad ones were left out.
        #[arg(long)]
        skip_bad: bool,
        file: PathBuf,
    },
    /// Replace the street centreline layer with the LineStrings and MultiLineStrings
    /// of a GeoJSON file: a street name each and, where known, the house numbers each
    /// side spans (left_from, left_to, right_from, right_to, or TIGER's LFROMADD…).
    Streets {
        #[command(flatten)]
        db: DbArgs,
        /// Import the good features and report how many bad ones were left out.
        #[arg(long)]
        skip_bad: bool,
        file: PathBuf,
    },
    /// Add or update one type of asset (streetlights, hydrants…) from the Points and
    /// LineStrings of a GeoJSON file, by the city's id (`asset_id` or `id`); assets not
    /// in the file stay.
    Assets {
        #[command(flatten)]
        db: DbArgs,
        /// The asset type, as services name it: `streetlight`, `hydrant`.
        #[arg(long = "type")]
        kind: String,
        /// Import the good features and report how many bad ones were left out.
        #[arg(long)]
        skip_bad: bool,
        file: PathBuf,
    },
    /// Import a city's history of requests from a CSV file (`.csv` or `.csv.gz`):
    /// our own export (`open311-bulk`, numbers kept) or NYC's, Chicago's or San
    /// Francisco's 311 layout, with a mapping file for their types, agencies and
    /// statuses. Importing the same file again changes nothing; nobody is notified.
    Requests {
        #[command(flatten)]
        db: DbArgs,
        /// open311-bulk, nyc, chicago or sf.
        #[arg(long)]
        format: String,
        /// A TOML file: [services] their type → our service code, [departments] their
        /// agency → our department, [statuses] their status → ours.
        // The brackets name TOML tables in `--help`, not items.
        #[allow(rustdoc::broken_intra_doc_links)]
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Read and check every row, write nothing, and say what would happen.
        #[arg(long)]
        dry_run: bool,
        file: PathBuf,
    },
    /// Replace the routing and priority rules with a TOML rule file.
    Rules {
        #[command(flatten)]
        db: DbArgs,
        /// Allow a file with no rules to remove every rule the city has.
        #[arg(long)]
        confirm_delete_all: bool,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum Export {
    /// Print the routing and priority rules as TOML.
    Rules {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { db, serve } => {
            let store = store_url::open(&db.database_url).await?;
            run_server(store, &serve).await
        }
        Command::Demo { database_url, serve, requests, seed_only } => {
            let store = store_url::open(&database_url).await?;
            seed_demo(&store, requests).await?;
            if seed_only {
                return Ok(());
            }
            // The demo is reached where it listens; its mail links point there.
            let mut serve = serve;
            serve.public_url.get_or_insert_with(|| format!("http://{}", serve.bind));
            if serve.open_data_dumps.is_none() {
                serve.open_data_dumps = Some(demo_dumps_dir(&database_url));
            }
            print_welcome(&serve, &database_url)?;
            run_server(store, &serve).await
        }
        Command::Reports { what: Reports::Rebuild { db } } => {
            let store = store_url::open(&db.database_url).await?;
            rebuild_reports(store).await
        }
        Command::Migrate { db } => {
            store_url::open(&db.database_url).await?;
            println!("migrations applied to {}", store_url::redact(&db.database_url));
            Ok(())
        }
        Command::Import { what: Import::City { db, dir } } => {
            let read = |name: &str| {
                let path = dir.join(name);
                std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
            };
            let (city, services, rules) = (read("city.toml")?, read("services.toml")?, read("rules.toml")?);
            let workflow = dir.join("workflow.toml").exists().then(|| read("workflow.toml")).transpose()?;
            let articles = dir.join("articles.toml").exists().then(|| read("articles.toml")).transpose()?;
            let mut layers = Vec::new();
            for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == "geojson")
                    && let Some(layer) = path.file_stem().and_then(|s| s.to_str())
                {
                    layers.push((layer.to_owned(), std::fs::read_to_string(&path)?));
                }
            }
            layers.sort();
            let store = store_url::open(&db.database_url).await?;
            if store.settings().await?.is_some() {
                bail!(
                    "{} already holds a city; import a city only into an empty database",
                    store_url::redact(&db.database_url)
                );
            }
            let texts = city_files::CityTexts {
                city: &city,
                services: &services,
                rules: &rules,
                workflow: workflow.as_deref(),
                layers: layers.iter().map(|(l, t)| (l.as_str(), t.as_str())).collect(),
                articles: articles.as_deref(),
            };
            let imported = city_files::import_city(store.as_ref(), &texts).await?;
            println!("{} imported with {} boundary layers", imported.settings.name, layers.len());
            Ok(())
        }
        Command::Import { what: Import::Boundaries { db, layer, id_property, file } } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let features = parse_geojson(&layer, &text, id_property.as_deref())
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let app = open_app(&db).await?;
            // Checked (a rule naming an area the new file lacks would silently stop
            // matching), written and audited as one change.
            configure::put_boundary_layer(&app, By::Console, &layer, &features)
                .await
                .map_err(|e| anyhow::anyhow!("{} was not imported: {e}", file.display()))?;
            println!("layer {layer}: {} features imported from {}", features.len(), file.display());
            Ok(())
        }
        Command::Import { what: Import::Rules { db, confirm_delete_all, file } } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let rules: RuleSet = civic311_domain::exact::from_toml("rules", &text)
                .map_err(|e| anyhow::anyhow!("{} is not a valid rule file: {}", file.display(), e.detail))?;
            let app = open_app(&db).await?;
            // Checked against this city's departments and teams, written and audited
            // as one change.
            match configure::put_rules(&app, By::Console, &rules, confirm_delete_all).await {
                Ok(()) => {}
                Err(e) if e.names("rule") && rules.rules.is_empty() => bail!(
                    "{} has no rules: importing it would delete every routing rule; \
                     add --confirm-delete-all if that is what you mean",
                    file.display()
                ),
                Err(e) => bail!("{} was not imported: {e}", file.display()),
            }
            println!("{} rules imported from {}", rules.rules.len(), file.display());
            Ok(())
        }
        Command::Import { what: Import::Addresses { db, skip_bad, file } } => {
            let format = civic311_app::addresses::Format::of(&file.to_string_lossy()).with_context(|| {
                format!("{}: say the format by the file's ending, .geojson or .csv", file.display())
            })?;
            import_layer(&db, skip_bad, &file, Layer::Addresses(format)).await
        }
        Command::Import { what: Import::Streets { db, skip_bad, file } } => {
            import_layer(&db, skip_bad, &file, Layer::Streets).await
        }
        Command::Import { what: Import::Assets { db, kind, skip_bad, file } } => {
            import_layer(&db, skip_bad, &file, Layer::Assets(kind)).await
        }
        Command::Import { what: Import::Requests { db, format, mapping, dry_run, file } } => {
            let layout = civic311_app::import::Layout::parse(&format)
                .with_context(|| format!("--format {format}: say open311-bulk, nyc, chicago or sf"))?;
            let store = store_url::open(&db.database_url).await?;
            let outcomes = import_requests::run(store, layout, mapping.as_deref(), dry_run, &file).await?;
            print!("{}", import_requests::report(&outcomes, dry_run));
            Ok(())
        }
        Command::Export { what: Export::Rules { db } } => {
            let store = store_url::open(&db.database_url).await?;
            print!("{}", toml::to_string(&store.rules().await?)?);
            Ok(())
        }
        Command::ApiKey { db, label, per_minute, unlimited } => {
            if per_minute == 0 {
                bail!("--per-minute must be at least 1 (or use --unlimited)");
            }
            let app = open_app(&db).await?;
            let per_minute = (!unlimited).then_some(per_minute);
            let key = configure::issue_api_key(&app, By::Console, &label, per_minute).await?;
            println!("{key}");
            let budget = per_minute.map_or_else(|| "no limit".to_owned(), |n| format!("{n} requests a minute"));
            eprintln!("Open311 API key for {label} created ({budget}); running servers pick it up within seconds");
            Ok(())
        }
        Command::Bench { what } => bench::run(what).await,
        Command::Audit { what: Audit::Verify { db } } => {
            let store = store_url::open(&db.database_url).await?;
            if audit_verify(&store).await? { Ok(()) } else { anyhow::bail!("the history has been tampered with") }
        }
    }
}

/// `civic311 import addresses|streets|assets`: read, report bad rows by line, and
/// import the layer (or nothing, when a row is bad and `skip_bad` is not given).
async fn import_layer(db: &DbArgs, skip_bad: bool, file: &std::path::Path, layer: Layer) -> Result<()> {
    use civic311_app::layers::{BadRow, NotImported};
    let name = file.display();
    let bytes = std::fs::read(file).with_context(|| format!("reading {name}"))?;
    let report = |bad: &[BadRow], refused: usize| {
        for row in bad {
            eprintln!("{name}: {} {row}", layer.place());
        }
        if refused > bad.len() {
            eprintln!("{name}: … and {} more bad rows", refused - bad.len());
        }
    };
    let app = open_app(db).await?;
    let what = layer.rows();
    match civic311_app::layers::import(&app, By::Console, &layer, bytes, skip_bad).await {
        Err(NotImported::Unreadable(e)) => bail!("{name}: {e}"),
        Err(NotImported::BadRows { bad, refused }) => {
            report(&bad, refused);
            bail!("{name} was not imported: {refused} bad rows (fix them, or add --skip-bad to import the rest)")
        }
        Err(NotImported::Refused(e)) => bail!("{name} was not imported: {e}"),
        Ok(imported) => {
            report(&imported.bad, imported.skipped);
            let skipped = imported.skipped;
            let skipped = if skipped > 0 { format!(", {skipped} bad rows skipped") } else { String::new() };
            match imported.done {
                configure::Imported::Replaced(n) => println!("{n} {what} imported from {name}{skipped}"),
                configure::Imported::Unchanged(n) => {
                    println!("{name}: the city already holds these {n} {what}; nothing changed")
                }
            }
            Ok(())
        }
    }
}

/// The application over the database `db` names, for a command that changes its
/// configuration the way the API does: checked, written and audited as one change.
async fn open_app(db: &DbArgs) -> Result<App> {
    let store = store_url::open(&db.database_url).await?;
    App::load(store, civic311_app::system_clock(), None, civic311_codecs::codecs())
        .await
        .with_context(|| format!("{} holds no city yet; import one first", store_url::redact(&db.database_url)))
}

/// Seeds the demo city and its history when the database is empty.
async fn seed_demo(store: &SharedStore, requests: usize) -> Result<()> {
    if store.settings().await?.is_some() {
        eprintln!("reopening the existing demo database ({} requests)", store.count_requests().await?);
        return Ok(());
    }
    eprintln!("seeding the City of Riverton with {requests} historical requests…");
    demo::seed_city(store.as_ref()).await?;
    let city = civic311_app::CityModel::load(store.as_ref()).await?;
    let step = (requests / 10).max(1);
    demo::seed_history(store.as_ref(), &city, requests, jiff::Timestamp::now(), |done| {
        if done % step < 5_000 || done == requests {
            eprintln!("  {done} / {requests}");
        }
    })
    .await?;
    Ok(())
}

fn print_welcome(serve: &ServeArgs, database_url: &str) -> Result<()> {
    let base = serve.public_url.clone().unwrap_or_else(|| format!("http://{}", serve.bind));
    println!();
    println!("civic311 demo: the City of Riverton ({})", store_url::redact(database_url));
    println!();
    println!("  Open311 discovery   {base}/open311/discovery.json");
    println!("  Services            {base}/open311/v2/services.json");
    println!("  Recent requests     {base}/open311/v2/requests.json");
    println!("  Open311 API key     {}", demo::DEMO_API_KEY);
    println!("  Staff API           {base}/api/v1/openapi.json");
    println!("  Staff API token     {} (admin)", demo::DEMO_ADMIN_TOKEN);
    println!("  Staff workspace     {base}/staff");
    println!();
    println!("  Try:  curl -d api_key={} -d service_code=POTHOLE -d 'attribute[SIZE]=large' \\", demo::DEMO_API_KEY);
    println!("             -d lat=40.2 -d long=-104.6 -d description='Deep hole' {base}/open311/v2/requests.json");
    println!();
    println!("  Demo staff, each signing in with the password {}:", demo::DEMO_PASSWORD);
    for line in demo::staff_lines()? {
        println!("    {line}");
    }
    println!();
    Ok(())
}

/// Ctrl-C, or SIGTERM from a service manager: stop accepting, finish what is in flight.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}

/// Delivery channels from `CIVIC311_SMTP_*` and `CIVIC311_SMS_*`; unset channels log.
fn notifiers() -> Result<civic311_app::Notifiers> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let smtp = match var("CIVIC311_SMTP_HOST") {
        None => None,
        Some(host) => Some(civic311_app::notifiers::SmtpConfig {
            host,
            port: var("CIVIC311_SMTP_PORT").map(|p| p.parse()).transpose().context("CIVIC311_SMTP_PORT")?.unwrap_or(25),
            from: var("CIVIC311_SMTP_FROM").context("CIVIC311_SMTP_FROM is needed with CIVIC311_SMTP_HOST")?,
            credentials: var("CIVIC311_SMTP_USER").zip(var("CIVIC311_SMTP_PASSWORD")),
        }),
    };
    let sms = match var("CIVIC311_SMS_URL") {
        None => None,
        Some(base_url) => Some(civic311_app::notifiers::SmsConfig {
            base_url,
            account: var("CIVIC311_SMS_ACCOUNT").context("CIVIC311_SMS_ACCOUNT is needed with CIVIC311_SMS_URL")?,
            token: var("CIVIC311_SMS_TOKEN").context("CIVIC311_SMS_TOKEN is needed with CIVIC311_SMS_URL")?,
            from: var("CIVIC311_SMS_FROM").context("CIVIC311_SMS_FROM is needed with CIVIC311_SMS_URL")?,
        }),
    };
    Ok(civic311_app::Notifiers::new(smtp, sms))
}

/// The tile source from `--map-tiles`, checked to be a URL template with `{z}/{x}/{y}`.
fn map_tiles(serve: &ServeArgs) -> Result<Option<civic311_web::MapTiles>> {
    let Some(url) = serve.map_tiles.clone().filter(|u| !u.trim().is_empty()) else { return Ok(None) };
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || !["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p))
    {
        bail!("--map-tiles must be an http(s) URL template with {{z}}, {{x}} and {{y}}, not {url}");
    }
    Ok(Some(civic311_web::MapTiles { url, attribution: serve.map_attribution.clone() }))
}

/// The public URL, checked to be an http(s) address; `None` (with a warning saying
/// what is lost and how to set it) when not configured.
fn public_url(serve: &ServeArgs) -> Result<Option<String>> {
    let Some(url) = serve.public_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
        tracing::warn!(
            "CIVIC311_PUBLIC_URL is not set: notifications go out without links, and password-reset and \
             \"my requests\" links are not mailed. Set it (or --public-url) to the address people use, \
             e.g. https://311.example.gov"
        );
        return Ok(None);
    };
    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    if host.is_none_or(|h| h.is_empty() || h.starts_with('/') || h.contains(char::is_whitespace)) {
        bail!("--public-url (CIVIC311_PUBLIC_URL) must be an http(s) address like https://311.example.gov, not {url}");
    }
    Ok(Some(url.trim_end_matches('/').to_owned()))
}

/// Where the demo keeps its nightly dumps: beside its SQLite file, else in the working
/// directory.
fn demo_dumps_dir(database_url: &str) -> std::path::PathBuf {
    let file = database_url.strip_prefix("sqlite://").map(|p| p.split('?').next().unwrap_or(p));
    match file.filter(|f| !f.is_empty() && *f != ":memory:") {
        Some(f) => std::path::PathBuf::from(format!("{f}.open-data")),
        None => std::path::PathBuf::from("civic311-demo.open-data"),
    }
}

async fn run_server(store: SharedStore, serve: &ServeArgs) -> Result<()> {
    let notifiers = notifiers()?;
    let public_url = public_url(serve)?;
    let state =
        AppState::load(store, civic311_app::system_clock(), public_url.clone(), civic311_codecs::codecs())
            .await?
            .with_notifiers(notifiers.clone())
            .with_map_tiles(map_tiles(serve)?)
            .with_trusted_proxies(serve.trusted_proxies.clone())
            .with_open_data_dumps(serve.open_data_dumps.clone().map(|dir| {
                civic311_web::open_data::dumps::DumpConfig { dir, keep: usize::from(serve.open_data_keep) }
            }));
    if let Some(config) = &state.dumps {
        let every = std::time::Duration::from_secs(60);
        tokio::spawn(civic311_web::open_data::dumps::run(state.clone(), config.as_ref().clone(), every));
    }
    let dispatcher = civic311_jobs::Dispatcher::new(notifiers, public_url).with_link_key(state.link_key.as_str());
    let s = state.clone();
    tokio::spawn(civic311_jobs::scheduler::run(
        state.store.clone(),
        move || s.city().workflow.clone(),
        state.clock.clone(),
        dispatcher,
        std::time::Duration::from_secs(5),
    ));
    tokio::spawn(state.app.clone().follow_config(std::time::Duration::from_secs(5)));
    // Reports drain what is left before they read; this keeps what is left small.
    tokio::spawn(civic311_app::rollup::run(state.app.clone(), std::time::Duration::from_secs(5)));
    let listener =
        tokio::net::TcpListener::bind(serve.bind).await.with_context(|| format!("cannot listen on {}", serve.bind))?;
    tracing::info!(address = %serve.bind, "serving");
    civic311_web::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

/// `civic311 reports rebuild`: empties the rollups and adds every request again.
async fn rebuild_reports(store: SharedStore) -> Result<()> {
    let app = civic311_app::App::load(store, civic311_app::system_clock(), None, civic311_codecs::codecs()).await?;
    let started = std::time::Instant::now();
    let total = app.store.reset_reports().await?;
    eprintln!("building the report rollups from {total} requests…");
    let mut done = 0i64;
    loop {
        let rollup = civic311_app::rollup::REBUILD_BATCH;
        let n = civic311_app::rollup::drain_by(&app, 5 * rollup, rollup).await?;
        if n == 0 {
            break;
        }
        done += n;
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        eprintln!("  {done} / {total}  ({:.0} a second)", done as f64 / secs);
    }
    println!("report rollups built from {total} requests in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `civic311 audit verify`: checks every request's event chain.
async fn audit_verify(store: &SharedStore) -> Result<bool> {
    let mut after = (0, 0);
    let mut current: Vec<civic311_domain::audit::SealedEvent> = Vec::new();
    let (mut requests, mut events, mut broken) = (0u64, 0u64, 0u64);
    let mut check = |chain: &[civic311_domain::audit::SealedEvent]| {
        if let Some(first) = chain.first() {
            requests += 1;
            if let Some(why) = civic311_domain::audit::first_break(chain) {
                broken += 1;
                println!("request {}: {why}", first.request_id);
            }
        }
    };
    loop {
        let page = store.sealed_events(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = (last.request_id, last.event_id);
        for e in page {
            events += 1;
            if current.first().is_some_and(|c| c.request_id != e.request_id) {
                check(&current);
                current.clear();
            }
            current.push(e);
        }
    }
    check(&current);
    println!("checked {events} events of {requests} requests: {broken} broken chains");
    Ok(broken == 0)
}
