//! Configuration writes as SQL: the statements of each [`ConfigWrite`], shared by the
//! single-item `put_*` methods and by [`crate::Store::change_config`]'s unit of work.

use civic311_domain::request::to_micros;
use civic311_domain::service::Visibility;

use super::{Param, SqlTx};
use crate::error::StoreResult;
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

/// The statements that make `w` so.
pub(super) fn statements(w: &ConfigWrite) -> Vec<Statement> {
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
        ConfigWrite::Addresses { points, digest } => address_layer(points, digest),
    }
}

/// Address points written per statement: one statement per point would make a city's
/// layer (a million points) a million round trips.
const ADDRESS_CHUNK: usize = 500;

/// `INSERT INTO addresses … VALUES (…), (…)` for `rows` points.
fn insert_addresses(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let at = r * 8;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                at + 1,
                at + 2,
                at + 3,
                at + 4,
                at + 5,
                at + 6,
                at + 7,
                at + 8
            )
        })
        .collect();
    format!("INSERT INTO addresses (id, number, street, unit, city, postcode, lat, lon) VALUES {}", values.join(", "))
}

/// The statements that replace the address layer with `points`.
fn address_layer(points: &[civic311_domain::address::AddressPoint], digest: &str) -> Vec<Statement> {
    static FULL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| insert_addresses(ADDRESS_CHUNK));
    static ONE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| insert_addresses(1));
    let params = |p: &civic311_domain::address::AddressPoint| {
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
    };
    let mut out: Vec<Statement> = vec![("DELETE FROM addresses", vec![])];
    let mut chunks = points.chunks_exact(ADDRESS_CHUNK);
    for chunk in chunks.by_ref() {
        out.push((FULL.as_str(), chunk.iter().flat_map(params).collect()));
    }
    out.extend(chunks.remainder().iter().map(|p| (ONE.as_str(), params(p).to_vec())));
    let layer = serde_json::json!({ "digest": digest, "count": points.len() });
    out.push((
        "INSERT INTO config_docs (kind, body) VALUES ('addresses', $1) ON CONFLICT (kind) DO UPDATE SET body = excluded.body",
        vec![Param::Text(layer.to_string())],
    ));
    out
}

/// Runs `statements` in `tx`; how many rows they touched in all.
pub(super) async fn run(tx: &mut dyn SqlTx, statements: Vec<Statement>) -> StoreResult<u64> {
    let mut touched = 0;
    for (sql, params) in statements {
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
    run(tx, vec![audit_entry(&audit)]).await?;
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
