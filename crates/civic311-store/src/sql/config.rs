//! Configuration writes as SQL: the statements of each [`ConfigWrite`], shared by the
//! single-item `put_*` methods and by [`crate::Store::change_config`]'s unit of work.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use civic311_domain::address::{AddressPoint, StreetSegment};
use civic311_domain::asset::Asset;
use civic311_domain::request::to_micros;
use civic311_domain::service::Visibility;

use super::{Param, SqlTx};
use crate::error::{StoreError, StoreResult};
use crate::{ConfigChange, ConfigWrite};

/// Sets a password hash (`$1` user, `$2` hash).
const SET_PASSWORD: &str = "INSERT INTO staff_credentials (username, password_hash) VALUES ($1, $2) \
    ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash";

/// Revokes every API token of a user (`$1`).
const REVOKE_TOKENS: &str = "DELETE FROM user_tokens WHERE username = $1";

/// Forgets a user's (`$1`) failed sign-ins everywhere: a new password starts afresh.
pub(super) const CLEAR_SIGN_INS: &str = "DELETE FROM sign_in_attempts WHERE username = $1";

/// Signs a user (`$1`) out everywhere.
const END_SESSIONS: &str = "DELETE FROM staff_sessions WHERE username = $1";

/// Marks the configuration changed, for other app nodes to reload.
pub(super) const BUMP_CONFIG: &str = "UPDATE config_version SET version = version + 1 WHERE id = 1";

/// [`BUMP_CONFIG`] only from version `$1`: the compare-and-set of a checked change.
const BUMP_CONFIG_FROM: &str = "UPDATE config_version SET version = version + 1 WHERE id = 1 AND version = $1";

/// A statement and its parameters.
pub(super) type Statement = (&'static str, Vec<Param>);

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

/// The statements that make `w` so, made as they are run: a layer of a million rows
/// is never held as statements all at once.
pub(super) fn statements(w: &ConfigWrite) -> Lazy<'_> {
    match w {
        ConfigWrite::Addresses { points, count, digest } => address_layer(points.rows(), *count, digest),
        ConfigWrite::Streets { segments, digest } => street_layer(segments, digest),
        ConfigWrite::Assets { assets, digest } => asset_upserts(assets, digest),
        small => Box::new(small_statements(small).into_iter().map(Ok)),
    }
}

/// The statements of a write of a few rows.
fn small_statements(w: &ConfigWrite) -> Vec<Statement> {
    let text = |s: &str| Param::Text(s.to_owned());
    match w {
        ConfigWrite::Settings(s) => vec![(
            "INSERT INTO settings (id, body) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            vec![Param::Text(to_json(s))],
        )],
        ConfigWrite::Department(d) => vec![(
            "INSERT INTO departments (code, body) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET body = excluded.body",
            vec![text(&d.code), Param::Text(to_json(d))],
        )],
        ConfigWrite::Team(t) => vec![(
            "INSERT INTO teams (code, department, body) VALUES ($1, $2, $3) \
             ON CONFLICT (code) DO UPDATE SET department = excluded.department, body = excluded.body",
            vec![text(&t.code), text(&t.department), Param::Text(to_json(t))],
        )],
        ConfigWrite::User(u) => {
            let mut out = vec![(
                "INSERT INTO staff_users (username, department, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (username) DO UPDATE SET department = excluded.department, body = excluded.body",
                vec![text(&u.username), text(&u.department), Param::Text(to_json(u))],
            )];
            // Someone who leaves loses every way in; coming back never revives an old token.
            if !u.active {
                out.push((END_SESSIONS, vec![text(&u.username)]));
                out.push((REVOKE_TOKENS, vec![text(&u.username)]));
            }
            out
        }
        ConfigWrite::Service(s) => vec![(
            "INSERT INTO services (code, position, public, body) \
             VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM services), $2, $3) \
             ON CONFLICT (code) DO UPDATE SET public = excluded.public, body = excluded.body",
            vec![text(&s.code), Param::I64(i64::from(s.visibility == Visibility::Public)), Param::Text(to_json(s))],
        )],
        ConfigWrite::BoundaryLayer { layer, features } => {
            let mut out = vec![("DELETE FROM boundary_features WHERE layer = $1", vec![text(layer)])];
            out.extend(features.iter().map(|f| {
                (
                    "INSERT INTO boundary_features (layer, feature, name, geometry) VALUES ($1, $2, $3, $4)",
                    vec![text(layer), text(&f.feature), text(&f.name), Param::Text(to_json(&f.polygons))],
                )
            }));
            out
        }
        ConfigWrite::Rules(rules) => {
            let mut out = vec![("DELETE FROM routing_rules", vec![])];
            out.extend(rules.rules.iter().zip(1_i64..).map(|(r, position)| {
                (
                    "INSERT INTO routing_rules (position, name, body) VALUES ($1, $2, $3)",
                    vec![Param::I64(position), text(&r.name), Param::Text(to_json(r))],
                )
            }));
            out
        }
        ConfigWrite::Workflow(config) => vec![(
            "INSERT INTO config_docs (kind, body) VALUES ('workflow', $1) \
             ON CONFLICT (kind) DO UPDATE SET body = excluded.body",
            vec![Param::Text(to_json(config))],
        )],
        ConfigWrite::ApiKey(key) => vec![(
            "INSERT INTO api_keys (key, label, per_minute) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET label = excluded.label, per_minute = excluded.per_minute",
            vec![text(&key.key), text(&key.label), Param::OptI64(key.per_minute.map(i64::from))],
        )],
        ConfigWrite::RevokeApiKey(key) => vec![("DELETE FROM api_keys WHERE key = $1", vec![text(key)])],
        ConfigWrite::Article(a) => vec![(
            "INSERT INTO articles (slug, title, body) VALUES ($1, $2, $3) \
             ON CONFLICT (slug) DO UPDATE SET title = excluded.title, body = excluded.body",
            vec![text(&a.slug), text(&a.title), Param::Text(to_json(a))],
        )],
        ConfigWrite::DeleteArticle(slug) => vec![("DELETE FROM articles WHERE slug = $1", vec![text(slug)])],
        ConfigWrite::Password { username, hash } => vec![
            (SET_PASSWORD, vec![text(username), text(hash)]),
            (END_SESSIONS, vec![text(username)]),
            (REVOKE_TOKENS, vec![text(username)]),
            (CLEAR_SIGN_INS, vec![text(username)]),
        ],
        ConfigWrite::Addresses { .. } | ConfigWrite::Streets { .. } | ConfigWrite::Assets { .. } => Vec::new(),
    }
}

/// Rows written per statement: one statement per row would make a city's address
/// layer (a million points) a million round trips.
const CHUNK: usize = 500;

/// `{insert} VALUES (…), (…){tail}` for `rows` rows of `columns` parameters each.
fn insert_rows(insert: &str, columns: usize, rows: usize, tail: &str) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=columns).map(|c| format!("${}", r * columns + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect();
    format!("{insert} VALUES {}{tail}", values.join(", "))
}

/// A table written in chunks of [`CHUNK`] rows: the statement for a full chunk, and
/// for one row (the remainder).
struct Chunked {
    full: String,
    one: String,
}

impl Chunked {
    fn new(insert: &str, columns: usize, tail: &str) -> Self {
        Self { full: insert_rows(insert, columns, CHUNK, tail), one: insert_rows(insert, columns, 1, tail) }
    }

    /// The statements that write `items`, each as `params` gives its row, made one
    /// chunk at a time (and the items taken one chunk at a time).
    fn statements<'a, T: Send + 'a, const N: usize>(
        &'static self,
        mut items: impl Iterator<Item = T> + Send + 'a,
        params: impl Fn(&T) -> [Param; N] + Send + 'a,
    ) -> impl Iterator<Item = Statement> + Send + 'a {
        let chunks = std::iter::from_fn(move || {
            let chunk: Vec<T> = items.by_ref().take(CHUNK).collect();
            (!chunk.is_empty()).then_some(chunk)
        });
        chunks.flat_map(move |chunk| {
            if chunk.len() == CHUNK {
                vec![(self.full.as_str(), chunk.iter().flat_map(&params).collect())]
            } else {
                chunk.iter().map(|item| (self.one.as_str(), params(item).to_vec())).collect::<Vec<Statement>>()
            }
        })
    }
}

/// Records the digest of `layer` as last imported.
fn layer_digest(layer: &'static str, digest: &str, count: usize) -> Statement {
    const SQL: [(&str, &str); 3] = [
        (
            "addresses",
            "INSERT INTO config_docs (kind, body) VALUES ('addresses', $1) ON CONFLICT (kind) DO UPDATE SET body = excluded.body",
        ),
        (
            "streets",
            "INSERT INTO config_docs (kind, body) VALUES ('streets', $1) ON CONFLICT (kind) DO UPDATE SET body = excluded.body",
        ),
        (
            "assets",
            "INSERT INTO config_docs (kind, body) VALUES ('assets', $1) ON CONFLICT (kind) DO UPDATE SET body = excluded.body",
        ),
    ];
    let sql = SQL.iter().find(|(l, _)| *l == layer).map_or(SQL[0].1, |(_, sql)| sql);
    let body = serde_json::json!({ "digest": digest, "count": count });
    (sql, vec![Param::Text(body.to_string())])
}

/// Statements made as they are run; one that cannot be made fails the transaction.
pub(super) type Lazy<'a> = Box<dyn Iterator<Item = StoreResult<Statement>> + Send + 'a>;

/// The statements that replace the address layer with the `count` `points`.
fn address_layer(points: Box<dyn Iterator<Item = AddressPoint> + Send>, count: usize, digest: &str) -> Lazy<'static> {
    static ROWS: LazyLock<Chunked> = LazyLock::new(|| {
        Chunked::new("INSERT INTO addresses (id, number, street, unit, city, postcode, lat, lon)", 8, "")
    });
    // The points are read as they are written: should fewer come than were checked,
    // the transaction fails rather than leave the layer short.
    let written = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&written);
    let points = points.inspect(move |_| {
        counted.fetch_add(1, Ordering::Relaxed);
    });
    let rows = ROWS.statements(points, |p| {
        [
            Param::Text(p.id.clone()),
            Param::Text(p.number.clone()),
            Param::Text(p.street.clone()),
            Param::OptText(p.unit.clone()),
            Param::OptText(p.city.clone()),
            Param::OptText(p.postcode.clone()),
            Param::F64(p.point.lat),
            Param::F64(p.point.lon),
        ]
    });
    let digest = digest.to_owned();
    let last = std::iter::once_with(move || match written.load(Ordering::Relaxed) {
        n if n == count => Ok(layer_digest("addresses", &digest, count)),
        n => Err(StoreError::CommitFailed(format!("the address layer gave {n} of its {count} points when written"))),
    });
    Box::new(std::iter::once(Ok(("DELETE FROM addresses", vec![]))).chain(rows.map(Ok)).chain(last))
}

/// The statements that replace the street centreline layer with `segments`.
fn street_layer<'a>(segments: &'a [StreetSegment], digest: &str) -> Lazy<'a> {
    static ROWS: LazyLock<Chunked> = LazyLock::new(|| Chunked::new("INSERT INTO streets (id, name, body)", 3, ""));
    let rows = ROWS.statements(segments.iter(), |s| {
        [Param::Text(s.id.clone()), Param::Text(s.name.clone()), Param::Text(to_json(s))]
    });
    let (first, last) = (("DELETE FROM streets", vec![]), layer_digest("streets", digest, segments.len()));
    Box::new(std::iter::once(first).chain(rows).chain(std::iter::once(last)).map(Ok))
}

/// The statements that add or change `assets`, leaving the others.
fn asset_upserts<'a>(assets: &'a [Asset], digest: &str) -> Lazy<'a> {
    static ROWS: LazyLock<Chunked> = LazyLock::new(|| {
        Chunked::new(
            "INSERT INTO assets (kind, id, lat, lon, body)",
            5,
            " ON CONFLICT (kind, id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon, body = excluded.body",
        )
    });
    let rows = ROWS.statements(assets.iter(), |a| {
        [
            Param::Text(a.kind.clone()),
            Param::Text(a.id.clone()),
            Param::F64(a.point.lat),
            Param::F64(a.point.lon),
            Param::Text(to_json(a)),
        ]
    });
    Box::new(rows.chain(std::iter::once(layer_digest("assets", digest, assets.len()))).map(Ok))
}

/// Runs `statements` in `tx`; how many rows they touched in all.
pub(super) async fn run(
    tx: &mut dyn SqlTx,
    statements: impl IntoIterator<Item = StoreResult<Statement>>,
) -> StoreResult<u64> {
    let mut touched = 0;
    for statement in statements {
        let (sql, params) = statement?;
        touched += tx.execute(sql, params).await?;
    }
    Ok(touched)
}

/// The unit of work of a checked change: the compare-and-set on the version, the
/// writes, the audit entry. `None` (and nothing written) when the version moved.
pub(super) async fn change(
    tx: &mut dyn SqlTx,
    checked_at: i64,
    writes: Vec<ConfigWrite>,
    audit: ConfigChange,
) -> StoreResult<Option<i64>> {
    if tx.execute(BUMP_CONFIG_FROM, vec![Param::I64(checked_at)]).await? == 0 {
        return Ok(None);
    }
    for w in &writes {
        run(tx, statements(w)).await?;
    }
    run(tx, [Ok(audit_entry(&audit))]).await?;
    Ok(Some(checked_at + 1))
}

/// The audit log's row for `c`.
pub(super) fn audit_entry(c: &ConfigChange) -> Statement {
    (
        "INSERT INTO config_changes (at, actor, kind, item, body) VALUES ($1, $2, $3, $4, $5)",
        vec![
            Param::I64(to_micros(c.at)),
            Param::Text(c.actor.clone()),
            Param::Text(c.kind.clone()),
            Param::Text(c.item.clone()),
            Param::Text(c.body.to_string()),
        ],
    )
}
