//! [`SqlStore`]: the [`Store`] contract over any [`SqlBackend`].

use std::sync::Arc;

use async_trait::async_trait;
use civic311_domain::address::{AddressPoint, StreetSegment};
use civic311_domain::asset::Asset;
use civic311_domain::city::CitySettings;
use civic311_domain::geo::BoundaryFeature;
use civic311_domain::kb::Article;
use civic311_domain::org::{Department, StaffUser, Team};
use civic311_domain::request::{Event, EventKind, Media, RequestId, ServiceRequest, Status, to_micros};
use civic311_domain::routing::{Rule, RuleSet};
use civic311_domain::service::Service;
use sqlx::{Database, FromRow};

use super::batch::IntakeBatcher;
use super::config::{self, to_json};
use super::workflow::{OUTBOX_COLUMNS, apply_update, claim_messages, claim_timers, finish_message};
use super::writes::{Planned, REQUEST_COLUMNS, insert_planned, plan};
use super::{
    AddressRow, ApiKeyRow, BodyRow, BoundaryRow, ChangeRow, ConfigChangeRow, CountRow, CredentialsRow, EventRow,
    FollowerRow, MediaRow, OutboxRow, Param, PhotoRow, PublicRowRaw, RequestRow, SealedRow, SessionRow, SourceRow,
    SqlBackend, SqlTx, UserTokenRow, WorkloadRow,
};
use crate::error::{StoreError, StoreResult};
use crate::query::DUE_KEY;
use crate::{
    ApiKey, ConfigChange, ConfigWrite, Credentials, Delivery, Intake, OutboxItem, OutboxQuery, OutboxState, Photo,
    PublicRow, RequestQuery, RequestUpdate, Session, StaffSearch, Store, UserToken, Workload,
};
use civic311_domain::audit::SealedEvent;
use civic311_domain::notify::{Follower, Message, NotifyChannel};
use civic311_domain::request::from_micros;
use civic311_domain::signin::Lockout;
use civic311_domain::workflow::{TimerKind, WorkflowConfig};
use jiff::Timestamp;

/// A link about to be mailed: its token's hash, who it goes to, and when.
struct MailedLink<'a> {
    token_hash: &'a str,
    owner: &'a str,
    now: Timestamp,
    expires_at: Timestamp,
    not_since: Timestamp,
}

/// The SQL store over a backend's connections.
pub struct SqlStore<B> {
    backend: Arc<B>,
    intake: IntakeBatcher,
}

impl<B: SqlBackend> SqlStore<B> {
    /// Wraps a backend; starts the intake batch writers (needs a Tokio runtime).
    pub fn new(backend: B) -> Self {
        let backend = Arc::new(backend);
        let intake = IntakeBatcher::spawn(Arc::clone(&backend), backend.intake_writers());
        Self { backend, intake }
    }

    async fn bodies<T: serde::de::DeserializeOwned>(&self, what: &str, sql: &str) -> StoreResult<Vec<T>>
    where
        BodyRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    {
        self.backend.fetch_all::<BodyRow>(sql, vec![]).await?.iter().map(|r| r.parse(what)).collect()
    }

    /// Events an `events` query finds, each with its request's sequence number.
    async fn request_events(&self, sql: &str, params: Vec<Param>) -> StoreResult<Vec<(i64, Event)>>
    where
        EventRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    {
        self.backend
            .fetch_all::<EventRow>(sql, params)
            .await?
            .into_iter()
            .map(|r| Ok((r.request_id, r.into_domain()?)))
            .collect()
    }

    /// Records a mailed link in `table`, whose `owner_col` names who it went to; false,
    /// recording nothing, when one went to the same owner after `not_since`, so a form
    /// cannot flood an inbox. The owner's expired links are dropped on the way.
    async fn issue_link(
        &self,
        table: &'static str,
        owner_col: &'static str,
        link: MailedLink<'_>,
    ) -> StoreResult<bool> {
        let (token, owner) = (link.token_hash.to_owned(), link.owner.to_owned());
        let (now, expires_at, not_since) = (to_micros(link.now), to_micros(link.expires_at), to_micros(link.not_since));
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    let recent = tx
                        .fetch_i64(
                            &format!("SELECT count(*) FROM {table} WHERE {owner_col} = $1 AND created_at > $2"),
                            vec![Param::Text(owner.clone()), Param::I64(not_since)],
                        )
                        .await?;
                    if recent > 0 {
                        return Ok(false);
                    }
                    tx.execute(
                        &format!("DELETE FROM {table} WHERE {owner_col} = $1 AND expires_at <= $2"),
                        vec![Param::Text(owner.clone()), Param::I64(now)],
                    )
                    .await?;
                    let sql = format!(
                        "INSERT INTO {table} (token_hash, {owner_col}, created_at, expires_at) VALUES ($1, $2, $3, $4)"
                    );
                    let params = vec![Param::Text(token), Param::Text(owner), Param::I64(now), Param::I64(expires_at)];
                    tx.execute(&sql, params).await?;
                    Ok(true)
                })
            }))
            .await
    }

    /// Writes one piece of configuration and bumps the configuration version with it;
    /// how many rows it touched.
    async fn remove_config(&self, write: ConfigWrite) -> StoreResult<u64> {
        let mut statements: Vec<_> = config::statements(&write).collect();
        statements.push(Ok((config::BUMP_CONFIG, vec![])));
        self.backend.write(Box::new(move |tx: &mut dyn SqlTx| Box::pin(config::run(tx, statements)))).await
    }

    /// Writes one piece of configuration and bumps the configuration version with it.
    async fn write_config(&self, write: ConfigWrite) -> StoreResult<()> {
        self.remove_config(write).await.map(drop)
    }

    /// Runs statements in one transaction.
    async fn write_all(&self, statements: Vec<(&'static str, Vec<Param>)>) -> StoreResult<()> {
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    for (sql, params) in statements {
                        tx.execute(sql, params).await?;
                    }
                    Ok(())
                })
            }))
            .await
    }
}

/// How often a sign-in claim is retried when concurrent attempts keep changing the count.
const CLAIM_TRIES: usize = 16;

/// Followers from their rows.
/// Binds each of `values` after `params`; their placeholders, comma-separated.
fn bind_all(values: &[String], params: &mut Vec<Param>) -> String {
    let list: Vec<String> = values
        .iter()
        .map(|v| {
            params.push(Param::Text(v.clone()));
            format!("${}", params.len())
        })
        .collect();
    list.join(", ")
}

fn follower_rows(rows: Vec<FollowerRow>) -> StoreResult<Vec<Follower>> {
    rows.into_iter()
        .map(|r| {
            let channel = NotifyChannel::parse(&r.channel)
                .ok_or_else(|| StoreError::Corrupt(format!("follower channel '{}'", r.channel)))?;
            Ok(Follower { channel, address: r.address, language: r.language })
        })
        .collect()
}

/// The `SELECT` for a request listing, with its parameters.
pub fn list_sql(q: &RequestQuery) -> (String, Vec<Param>) {
    select_sql(q, REQUEST_COLUMNS)
}

/// What open data reads of a request ([`PublicRowRaw`](super::rows::PublicRowRaw)).
pub const PUBLIC_COLUMNS: &str = "id, service_code, description, lat, lon, address, status, status_notes, \
     department, channel, areas, requested_at, updated_at, closed_at, expected_at, \
     CASE WHEN status = 'duplicate' THEN workflow END AS merged";

/// The `SELECT` of `columns` for the requests `q` lists, with its parameters.
fn select_sql(q: &RequestQuery, columns: &str) -> (String, Vec<Param>) {
    let (conds, mut params) = conditions(q);
    let mut sql = format!("SELECT {columns} FROM requests");
    if !conds.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conds.join(" AND "));
    }
    let (key, key_desc, id_desc) = q.sort.sql();
    let dir = |desc: bool| if desc { "DESC" } else { "ASC" };
    params.push(Param::I64(i64::from(q.limit)));
    params.push(Param::I64(i64::try_from(q.offset).unwrap_or(i64::MAX)));
    let (limit, offset) = (params.len() - 1, params.len());
    sql.push_str(&format!(" ORDER BY {key} {}, id {} LIMIT ${limit} OFFSET ${offset}", dir(key_desc), dir(id_desc)));
    (sql, params)
}

/// How many requests match `q`'s filters, whatever its sort, cursor and limit.
pub fn count_sql(q: &RequestQuery) -> (String, Vec<Param>) {
    let (conds, params) = conditions(&RequestQuery { after: None, ..q.clone() });
    let filter = if conds.is_empty() { String::new() } else { format!(" WHERE {}", conds.join(" AND ")) };
    (format!("SELECT count(*) AS n FROM requests{filter}"), params)
}

/// The `WHERE` conditions of `q` (joined by AND) and the parameters they bind.
fn conditions(q: &RequestQuery) -> (Vec<String>, Vec<Param>) {
    let mut params = Vec::new();
    let mut conds: Vec<String> = Vec::new();
    let mut push = |p: Param, params: &mut Vec<Param>| {
        params.push(p);
        format!("${}", params.len())
    };
    let list = |items: Vec<Param>, params: &mut Vec<Param>, push: &mut dyn FnMut(Param, &mut Vec<Param>) -> String| {
        items.into_iter().map(|p| push(p, params)).collect::<Vec<_>>().join(", ")
    };
    if !q.ids.is_empty() {
        let l = list(q.ids.iter().map(|i| Param::I64(*i)).collect(), &mut params, &mut push);
        conds.push(format!("id IN ({l})"));
    }
    if !q.service_codes.is_empty() {
        let l = list(q.service_codes.iter().map(|s| Param::Text(s.clone())).collect(), &mut params, &mut push);
        conds.push(format!("service_code IN ({l})"));
    }
    if !q.exclude_services.is_empty() {
        let l = list(q.exclude_services.iter().map(|s| Param::Text(s.clone())).collect(), &mut params, &mut push);
        conds.push(format!("service_code NOT IN ({l})"));
    }
    if !q.statuses.is_empty() {
        // Written out, not bound: the statuses are the store's own fixed words, and the
        // partial indexes of open requests are only used when the query names them.
        let l = q.statuses.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
        conds.push(format!("status IN ({l})"));
    }
    for (col, op, t) in [
        ("requested_at", ">=", q.requested_from),
        ("requested_at", "<=", q.requested_to),
        ("updated_at", ">=", q.updated_from),
        ("updated_at", "<=", q.updated_to),
    ] {
        if let Some(t) = t {
            let p = push(Param::I64(to_micros(t)), &mut params);
            conds.push(format!("{col} {op} {p}"));
        }
    }
    for (col, values) in [("department", &q.departments), ("team", &q.teams), ("assignee", &q.assignees)] {
        if !values.is_empty() {
            let l = list(values.iter().map(|s| Param::Text(s.clone())).collect(), &mut params, &mut push);
            conds.push(format!("{col} IN ({l})"));
        }
    }
    if !q.priorities.is_empty() {
        let l = list(q.priorities.iter().map(|p| Param::Text(p.as_str().to_owned())).collect(), &mut params, &mut push);
        conds.push(format!("priority IN ({l})"));
    }
    if let Some(t) = q.overdue_at {
        let p = push(Param::I64(to_micros(t)), &mut params);
        // Written as the open-by-due index's key, so a count of overdue work reads
        // that index alone (a request without a due time is never overdue).
        conds.push(format!("{DUE_KEY} < {p} AND status IN ({})", Status::active_sql()));
    }
    if let Some((from, to)) = q.due_between {
        let (a, b) = (push(Param::I64(to_micros(from)), &mut params), push(Param::I64(to_micros(to)), &mut params));
        conds.push(format!("{DUE_KEY} >= {a} AND {DUE_KEY} < {b} AND status IN ({})", Status::active_sql()));
    }
    if q.unassigned {
        conds.push("assignee IS NULL".to_owned());
    }
    if q.no_team {
        conds.push("team IS NULL".to_owned());
    }
    if q.escalated {
        // The workflow state is stored as compact JSON that writes `escalated` only
        // when true; a quote inside a text value would be escaped, so this matches
        // the flag alone.
        conds.push("workflow LIKE '%\"escalated\":true%'".to_owned());
    }
    if let Some(text) = &q.text {
        for w in text.split_whitespace().take(8) {
            let escaped = w.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let p = push(Param::Text(format!("%{escaped}%")), &mut params);
            conds.push(format!("lower(description) LIKE {p} ESCAPE '\\'"));
        }
    }
    if let Some(email) = &q.email {
        let e = push(Param::Text(email.trim().to_ascii_lowercase()), &mut params);
        // One set of ids from two indexes: written as `contact_email = … OR id IN (…)`,
        // PostgreSQL read every request to test the OR (560 ms with 1,000,000 stored).
        conds.push(format!(
            "id IN (SELECT id FROM requests WHERE contact_email = {e} UNION \
             SELECT request_id FROM followers WHERE lower(address) = {e} AND confirmed_at IS NOT NULL)"
        ));
    }
    for (layer, features) in &q.areas {
        let l = push(Param::Text(layer.clone()), &mut params);
        let f = list(features.iter().map(|f| Param::Text(f.clone())).collect(), &mut params, &mut push);
        conds.push(format!("id IN (SELECT request_id FROM request_areas WHERE layer = {l} AND feature IN ({f}))"));
    }
    if let Some(stamp) = q.changed_through {
        let p = push(Param::I64(stamp), &mut params);
        conds.push(format!("changed <= {p}"));
    }
    let (key, key_desc, id_desc) = q.sort.sql();
    if let Some((at, id)) = q.after {
        let a = push(Param::I64(at), &mut params);
        let b = push(Param::I64(id), &mut params);
        let (k, i) = (if key_desc { "<" } else { ">" }, if id_desc { "<" } else { ">" });
        // The first term repeats the bound on its own: within the OR, SQLite cannot
        // seek the key's index to it and reads the index from its start instead (84 ms
        // for a page near the end of 1,000,000 requests; 2 ms with it).
        conds.push(format!("{key} {k}= {a} AND ({key} {k} {a} OR ({key} = {a} AND id {i} {b}))"));
    }
    if let Some([min_lon, min_lat, max_lon, max_lat]) = q.bbox {
        let (a, b) = (push(Param::F64(min_lat), &mut params), push(Param::F64(max_lat), &mut params));
        let (c, d) = (push(Param::F64(min_lon), &mut params), push(Param::F64(max_lon), &mut params));
        conds.push(format!("lat BETWEEN {a} AND {b} AND lon BETWEEN {c} AND {d}"));
    }
    if let Some((p, radius)) = q.near {
        // Bounding box for the index, then an equirectangular distance: exact enough at
        // city scale and plain arithmetic on both backends.
        let dlat = radius / civic311_domain::geo::METRES_PER_DEGREE;
        let cos = p.lat.to_radians().cos().max(1e-6);
        let dlon = dlat / cos;
        let a = push(Param::F64(p.lat - dlat), &mut params);
        let b = push(Param::F64(p.lat + dlat), &mut params);
        let c = push(Param::F64(p.lon - dlon), &mut params);
        let d = push(Param::F64(p.lon + dlon), &mut params);
        let lat0 = push(Param::F64(p.lat), &mut params);
        let lon0 = push(Param::F64(p.lon), &mut params);
        let k = push(Param::F64(cos), &mut params);
        let r2 = push(Param::F64(dlat * dlat), &mut params);
        conds.push(format!(
            "lat BETWEEN {a} AND {b} AND lon BETWEEN {c} AND {d} AND \
             (lat - {lat0}) * (lat - {lat0}) + (lon - {lon0}) * {k} * (lon - {lon0}) * {k} <= {r2}"
        ));
    }
    (conds, params)
}

fn outbox_item(r: OutboxRow) -> StoreResult<OutboxItem> {
    let vars = serde_json::from_str(&r.vars).map_err(|e| StoreError::Corrupt(format!("outbox {} vars: {e}", r.id)))?;
    Ok(OutboxItem {
        id: r.id,
        request_id: r.request_id,
        message: Message {
            channel: r.channel,
            recipient: r.recipient,
            kind: r.kind,
            language: r.language,
            vars,
            not_before: None,
        },
        state: OutboxState::parse(&r.state)
            .ok_or_else(|| StoreError::Corrupt(format!("outbox {} state '{}'", r.id, r.state)))?,
        attempts: r.attempts,
        next_at: from_micros(r.next_at),
        last_error: r.last_error,
        created_at: from_micros(r.created_at),
        sent_at: r.sent_at.map(from_micros),
        subject: r.subject,
        body: r.body,
    })
}

#[async_trait]
impl<B: SqlBackend> Store for SqlStore<B>
where
    FollowerRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    OutboxRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    SealedRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    BodyRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    RequestRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    EventRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    MediaRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    PhotoRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    CredentialsRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    SessionRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    WorkloadRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    ConfigChangeRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    CountRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    ChangeRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    PublicRowRaw: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    SourceRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    BoundaryRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    AddressRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    ApiKeyRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
    UserTokenRow: for<'r> FromRow<'r, <B::Db as Database>::Row>,
{
    fn backend(&self) -> &'static str {
        self.backend.name()
    }

    async fn settings(&self) -> StoreResult<Option<CitySettings>> {
        Ok(self.bodies("settings", "SELECT body FROM settings WHERE id = 1").await?.pop())
    }

    async fn put_settings(&self, s: &CitySettings) -> StoreResult<()> {
        self.write_config(ConfigWrite::Settings(s.clone())).await
    }

    async fn put_department(&self, d: &Department) -> StoreResult<()> {
        self.write_config(ConfigWrite::Department(d.clone())).await
    }

    async fn departments(&self) -> StoreResult<Vec<Department>> {
        self.bodies("department", "SELECT body FROM departments ORDER BY code").await
    }

    async fn put_team(&self, t: &Team) -> StoreResult<()> {
        self.write_config(ConfigWrite::Team(t.clone())).await
    }

    async fn teams(&self) -> StoreResult<Vec<Team>> {
        self.bodies("team", "SELECT body FROM teams ORDER BY code").await
    }

    async fn put_user(&self, u: &StaffUser) -> StoreResult<()> {
        self.write_config(ConfigWrite::User(u.clone())).await
    }

    async fn users(&self) -> StoreResult<Vec<StaffUser>> {
        self.bodies("user", "SELECT body FROM staff_users ORDER BY username").await
    }

    async fn put_service(&self, s: &Service) -> StoreResult<()> {
        self.write_config(ConfigWrite::Service(s.clone())).await
    }

    async fn services(&self) -> StoreResult<Vec<Service>> {
        self.bodies("service", "SELECT body FROM services ORDER BY position").await
    }

    async fn replace_boundary_layer(&self, layer: &str, features: &[BoundaryFeature]) -> StoreResult<()> {
        self.write_config(ConfigWrite::BoundaryLayer { layer: layer.to_owned(), features: features.to_vec() }).await
    }

    async fn boundary_features(&self) -> StoreResult<Vec<BoundaryFeature>> {
        let sql = "SELECT layer, feature, name, geometry FROM boundary_features ORDER BY layer, feature";
        self.backend.fetch_all::<BoundaryRow>(sql, vec![]).await?.into_iter().map(BoundaryRow::into_domain).collect()
    }

    async fn address_points_after(&self, after: &str, limit: u32) -> StoreResult<Vec<AddressPoint>> {
        let sql = "SELECT id, number, street, unit, city, postcode, lat, lon FROM addresses \
                   WHERE id > $1 ORDER BY id LIMIT $2";
        let params = vec![Param::Text(after.to_owned()), Param::I64(i64::from(limit))];
        self.backend.fetch_all::<AddressRow>(sql, params).await?.into_iter().map(AddressRow::into_domain).collect()
    }

    async fn layer_digest(&self, layer: &str) -> StoreResult<Option<String>> {
        let sql = "SELECT body FROM config_docs WHERE kind = $1";
        let rows = self.backend.fetch_all::<BodyRow>(sql, vec![Param::Text(layer.to_owned())]).await?;
        let layers: Vec<serde_json::Value> = rows.iter().map(|r| r.parse("layer")).collect::<StoreResult<_>>()?;
        Ok(layers.first().and_then(|l| l["digest"].as_str()).map(str::to_owned))
    }

    async fn street_segments(&self) -> StoreResult<Vec<StreetSegment>> {
        self.bodies("street segment", "SELECT body FROM streets ORDER BY id").await
    }

    async fn assets(&self) -> StoreResult<Vec<Asset>> {
        self.bodies("asset", "SELECT body FROM assets ORDER BY kind, id").await
    }

    async fn put_rules(&self, rules: &RuleSet) -> StoreResult<()> {
        self.write_config(ConfigWrite::Rules(rules.clone())).await
    }

    async fn change_config(
        &self,
        checked_at: i64,
        writes: Vec<ConfigWrite>,
        audit: ConfigChange,
    ) -> StoreResult<Option<i64>> {
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| Box::pin(config::change(tx, checked_at, writes, audit))))
            .await
    }

    async fn config_notices(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
        self.backend.config_notices().await
    }

    async fn record_config_change(&self, c: &ConfigChange) -> StoreResult<()> {
        let entry = config::audit_entry(c);
        self.write_all(vec![entry]).await
    }

    async fn config_changes(&self, limit: i64) -> StoreResult<Vec<ConfigChange>> {
        let sql = "SELECT at, actor, kind, item, body FROM config_changes ORDER BY at DESC, id DESC LIMIT $1";
        let rows = self.backend.fetch_all::<ConfigChangeRow>(sql, vec![Param::I64(limit)]).await?;
        rows.into_iter()
            .map(|r| {
                Ok(ConfigChange {
                    at: from_micros(r.at),
                    actor: r.actor,
                    kind: r.kind,
                    item: r.item,
                    body: serde_json::from_str(&r.body)
                        .map_err(|e| StoreError::Corrupt(format!("config change: {e}")))?,
                })
            })
            .collect()
    }

    async fn config_version(&self) -> StoreResult<i64> {
        let rows =
            self.backend.fetch_all::<CountRow>("SELECT version AS n FROM config_version WHERE id = 1", vec![]).await?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    async fn rules(&self) -> StoreResult<RuleSet> {
        let rules: Vec<Rule> = self.bodies("routing rule", "SELECT body FROM routing_rules ORDER BY position").await?;
        Ok(RuleSet { rules })
    }

    async fn put_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        self.write_config(ConfigWrite::ApiKey(key.clone())).await
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        let sql = "SELECT key, label, per_minute FROM api_keys ORDER BY label, key";
        let rows = self.backend.fetch_all::<ApiKeyRow>(sql, vec![]).await?;
        Ok(rows
            .into_iter()
            .map(|r| ApiKey {
                key: r.key,
                label: r.label,
                per_minute: r.per_minute.map(|n| u32::try_from(n.max(1)).unwrap_or(u32::MAX)),
            })
            .collect())
    }

    async fn revoke_api_key(&self, key: &str) -> StoreResult<bool> {
        Ok(self.remove_config(ConfigWrite::RevokeApiKey(key.to_owned())).await? > 0)
    }

    async fn put_article(&self, a: &Article) -> StoreResult<()> {
        self.write_config(ConfigWrite::Article(a.clone())).await
    }

    async fn delete_article(&self, slug: &str) -> StoreResult<bool> {
        Ok(self.remove_config(ConfigWrite::DeleteArticle(slug.to_owned())).await? > 0)
    }

    async fn articles(&self) -> StoreResult<Vec<Article>> {
        self.bodies("article", "SELECT body FROM articles ORDER BY title, slug").await
    }

    async fn create_request(&self, intake: Intake) -> StoreResult<ServiceRequest> {
        self.intake.submit(intake).await
    }

    async fn import_requests(&self, batch: Vec<Intake>) -> StoreResult<u64> {
        let n = batch.len() as u64;
        // Built before the write, while the single writer may still be storing the
        // batch before: an import keeps the writer busy instead of waiting on it.
        let planned: Vec<Planned> = batch.iter().map(plan).collect();
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move { insert_planned(tx, &batch, planned).await.map(drop) })
            }))
            .await?;
        Ok(n)
    }

    async fn park_indexes(&self, below: i64) -> StoreResult<usize> {
        let parkable = self.backend.parkable();
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move { super::bulk::park(tx, &parkable, below).await })
            }))
            .await
    }

    async fn restore_indexes(&self) -> StoreResult<usize> {
        super::bulk::restore(self.backend.as_ref()).await
    }

    async fn settle(&self) -> StoreResult<()> {
        self.backend.settle().await
    }

    async fn imported_requests(&self, sources: &[String]) -> StoreResult<Vec<(String, RequestId)>> {
        let mut out = Vec::new();
        for chunk in sources.chunks(500) {
            let mut params = Vec::new();
            let list = bind_all(chunk, &mut params);
            let sql = format!(
                "SELECT s.source, r.id, r.requested_at FROM request_sources s JOIN requests r ON r.id = s.request_id \
                 WHERE s.source IN ({list})"
            );
            let rows = self.backend.fetch_all::<SourceRow>(&sql, params).await?;
            out.extend(rows.into_iter().map(|r| (r.source, RequestId::new(r.id, from_micros(r.requested_at)))));
        }
        Ok(out)
    }

    async fn taken_numbers(&self, seqs: &[i64]) -> StoreResult<Vec<i64>> {
        let mut out = Vec::new();
        for chunk in seqs.chunks(500) {
            let params: Vec<Param> = chunk.iter().map(|s| Param::I64(*s)).collect();
            let list = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let sql = format!("SELECT id AS n FROM requests WHERE id IN ({list})");
            out.extend(self.backend.fetch_all::<CountRow>(&sql, params).await?.into_iter().map(|r| r.n));
        }
        Ok(out)
    }

    async fn request(&self, seq: i64) -> StoreResult<Option<ServiceRequest>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = $1");
        let rows = self.backend.fetch_all::<RequestRow>(&sql, vec![Param::I64(seq)]).await?;
        rows.into_iter().next().map(RequestRow::into_domain).transpose()
    }

    async fn request_by_token(&self, token: &str) -> StoreResult<Option<ServiceRequest>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE token = $1");
        let rows = self.backend.fetch_all::<RequestRow>(&sql, vec![Param::Text(token.to_owned())]).await?;
        rows.into_iter().next().map(RequestRow::into_domain).transpose()
    }

    async fn list_requests(&self, query: &RequestQuery) -> StoreResult<Vec<ServiceRequest>> {
        let (sql, params) = list_sql(query);
        let rows = self.backend.fetch_requests(&sql, params).await?;
        let mut page = rows.into_iter().map(RequestRow::into_domain).collect::<StoreResult<Vec<_>>>()?;
        // A backend may hand the page back in another order (SQLite aggregates it).
        page.sort_by(|a, b| query.sort.compare(a, b));
        Ok(page)
    }

    async fn escalations(
        &self,
        departments: &[String],
        since: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<(i64, Event)>> {
        if departments.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = vec![Param::I64(to_micros(since)), Param::I64(i64::from(limit))];
        let list = bind_all(departments, &mut params);
        // The kind is written out, not bound: only then may PostgreSQL's generic plans
        // use the partial index `events_escalated` (migration 20).
        let sql = format!(
            "SELECT e.id, e.request_id, e.at, e.kind, e.actor, e.data FROM events e \
             JOIN requests r ON r.id = e.request_id \
             WHERE e.kind = 'escalated' AND e.at >= $1 AND r.department IN ({list}) \
             ORDER BY e.at DESC, e.id DESC LIMIT $2"
        );
        self.request_events(&sql, params).await
    }

    async fn workload(&self, departments: &[String], now: Timestamp) -> StoreResult<Vec<Workload>> {
        if departments.is_empty() {
            return Ok(Vec::new());
        }
        let mut params = vec![Param::I64(to_micros(now))];
        let list = bind_all(departments, &mut params);
        let sql = format!(
            "SELECT team, assignee, status, COUNT(*) AS n, \
             SUM(CASE WHEN expected_at < $1 THEN 1 ELSE 0 END) AS overdue, MIN(requested_at) AS oldest \
             FROM requests WHERE department IN ({}) AND status IN ({}) \
             GROUP BY team, assignee, status ORDER BY team, assignee, status",
            list,
            Status::active_sql(),
        );
        let rows = self.backend.fetch_all::<WorkloadRow>(&sql, params).await?;
        rows.into_iter()
            .map(|r| {
                Ok(Workload {
                    status: Status::parse(&r.status)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown status {}", r.status)))?,
                    team: r.team,
                    assignee: r.assignee,
                    open: r.n,
                    overdue: r.overdue,
                    oldest: from_micros(r.oldest),
                })
            })
            .collect()
    }

    async fn search_requests(&self, search: &StaffSearch, limit: u32) -> StoreResult<Vec<ServiceRequest>> {
        let by_number = RequestQuery { ids: search.numbers.clone(), limit, ..RequestQuery::default() };
        let by_email = RequestQuery { email: search.email.clone(), limit, ..RequestQuery::default() };
        let numbered =
            async { if by_number.ids.is_empty() { Ok(Vec::new()) } else { self.list_requests(&by_number).await } };
        let emailed =
            async { if by_email.email.is_none() { Ok(Vec::new()) } else { self.list_requests(&by_email).await } };
        let worded = async {
            match super::search::words_sql(self.backend.name(), search, limit) {
                Some((sql, params)) => self.backend.fetch_requests(&sql, params).await,
                None => Ok(Vec::new()),
            }
        };
        let (mut found, emailed, worded) = tokio::try_join!(numbered, emailed, worded)?;
        let mut rest = worded.into_iter().map(RequestRow::into_domain).collect::<StoreResult<Vec<_>>>()?;
        rest.extend(emailed);
        rest.sort_by_key(|r| std::cmp::Reverse(r.id.seq));
        for r in rest {
            if !found.iter().any(|f| f.id.seq == r.id.seq) {
                found.push(r);
            }
        }
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn count_matching(&self, query: &RequestQuery) -> StoreResult<i64> {
        let (sql, params) = count_sql(query);
        let rows = self.backend.fetch_all::<CountRow>(&sql, params).await?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    async fn changes(&self, query: &RequestQuery, after: (i64, i64), limit: u32) -> StoreResult<Vec<(i64, PublicRow)>> {
        let (mut conds, mut params) = conditions(&RequestQuery { after: None, changed_through: None, ..query.clone() });
        params.extend([Param::I64(after.0), Param::I64(after.1), Param::I64(i64::from(limit))]);
        let n = params.len();
        conds.push(format!(
            "changed >= ${a} AND (changed > ${a} OR (changed = ${a} AND id > ${b}))",
            a = n - 2,
            b = n - 1
        ));
        let settled = self.backend.settled_changes();
        if !settled.is_empty() {
            conds.push(settled.to_owned());
        }
        let sql =
            format!("SELECT changed, id FROM requests WHERE {} ORDER BY changed, id LIMIT ${n}", conds.join(" AND "));
        let keys = self.backend.fetch_all::<ChangeRow>(&sql, params).await?;
        let Some(last) = keys.last().map(|k| k.changed) else { return Ok(Vec::new()) };
        // Read whole; a request changed again meanwhile has a later stamp and is left
        // for the page that reaches it.
        let whole = RequestQuery {
            ids: keys.iter().map(|k| k.id).collect(),
            changed_through: Some(last),
            limit: limit.max(1),
            ..RequestQuery::default()
        };
        let mut found: std::collections::HashMap<i64, PublicRow> =
            self.public_rows(&whole).await?.into_iter().map(|r| (r.id.seq, r)).collect();
        Ok(keys.into_iter().filter_map(|k| found.remove(&k.id).map(|r| (k.changed, r))).collect())
    }

    async fn public_rows(&self, query: &RequestQuery) -> StoreResult<Vec<PublicRow>> {
        let q = RequestQuery { sort: crate::Sort::Oldest, ..query.clone() };
        let (sql, params) = select_sql(&q, PUBLIC_COLUMNS);
        let rows = self.backend.fetch_public(&sql, params).await?;
        let mut page = rows.into_iter().map(PublicRowRaw::into_domain).collect::<StoreResult<Vec<_>>>()?;
        page.sort_by_key(|r| (r.requested_at, r.id.seq));
        Ok(page)
    }

    async fn change_mark(&self) -> StoreResult<String> {
        let rows = self.backend.fetch_all::<BodyRow>(self.backend.change_mark(), vec![]).await?;
        Ok(rows.into_iter().next().map(|r| r.body).unwrap_or_default())
    }

    async fn count_requests(&self) -> StoreResult<i64> {
        let rows = self.backend.fetch_all::<CountRow>("SELECT count(*) AS n FROM requests", vec![]).await?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    async fn events(&self, seq: i64) -> StoreResult<Vec<Event>> {
        let sql = "SELECT id, request_id, at, kind, actor, data FROM events WHERE request_id = $1 ORDER BY id";
        self.backend
            .fetch_all::<EventRow>(sql, vec![Param::I64(seq)])
            .await?
            .into_iter()
            .map(EventRow::into_domain)
            .collect()
    }

    async fn events_of(&self, seqs: &[i64], kinds: &[EventKind]) -> StoreResult<Vec<(i64, Event)>> {
        if seqs.is_empty() || kinds.is_empty() {
            return Ok(Vec::new());
        }
        let mut params: Vec<Param> = seqs.iter().map(|s| Param::I64(*s)).collect();
        let ids = (1..=seqs.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let kind_list =
            (seqs.len() + 1..=seqs.len() + kinds.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        params.extend(kinds.iter().map(|k| Param::Text(k.as_str().to_owned())));
        let sql = format!(
            "SELECT id, request_id, at, kind, actor, data FROM events \
             WHERE request_id IN ({ids}) AND kind IN ({kind_list}) ORDER BY request_id, id"
        );
        self.request_events(&sql, params).await
    }

    async fn media(&self, id: i64) -> StoreResult<Option<(Media, String)>> {
        let sql = "SELECT m.content_type, m.bytes, m.public, r.service_code FROM media m \
                   JOIN requests r ON r.id = m.request_id WHERE m.id = $1";
        let row = self.backend.fetch_all::<MediaRow>(sql, vec![Param::I64(id)]).await?.into_iter().next();
        Ok(row.map(|r| (Media { content_type: r.content_type, bytes: r.bytes, public: r.public != 0 }, r.service_code)))
    }

    async fn photos(&self, seq: i64) -> StoreResult<Vec<Photo>> {
        let sql = "SELECT id, content_type, public FROM media WHERE request_id = $1 ORDER BY id";
        let rows = self.backend.fetch_all::<PhotoRow>(sql, vec![Param::I64(seq)]).await?;
        Ok(rows.into_iter().map(|r| Photo { id: r.id, content_type: r.content_type, public: r.public != 0 }).collect())
    }

    async fn workflow_config(&self) -> StoreResult<Option<WorkflowConfig>> {
        Ok(self.bodies("workflow config", "SELECT body FROM config_docs WHERE kind = 'workflow'").await?.pop())
    }

    async fn put_workflow_config(&self, config: &WorkflowConfig) -> StoreResult<()> {
        self.write_config(ConfigWrite::Workflow(config.clone())).await
    }

    async fn put_user_token(
        &self,
        token_sha256: &str,
        username: &str,
        label: &str,
        created_at: Timestamp,
        expires_at: Option<Timestamp>,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO user_tokens (token_hash, username, label, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO UPDATE SET username = excluded.username, \
                   label = excluded.label, created_at = excluded.created_at, expires_at = excluded.expires_at";
        let params = vec![
            Param::Text(token_sha256.to_owned()),
            Param::Text(username.to_owned()),
            Param::Text(label.to_owned()),
            Param::I64(to_micros(created_at)),
            Param::OptI64(expires_at.map(to_micros)),
        ];
        self.write_all(vec![(sql, params)]).await
    }

    async fn user_for_token(&self, token_sha256: &str, now: Timestamp) -> StoreResult<Option<StaffUser>> {
        let sql = "SELECT u.body FROM user_tokens t JOIN staff_users u ON u.username = t.username \
                   WHERE t.token_hash = $1 AND (t.expires_at IS NULL OR t.expires_at > $2)";
        let params = vec![Param::Text(token_sha256.to_owned()), Param::I64(to_micros(now))];
        let rows = self.backend.fetch_all::<BodyRow>(sql, params).await?;
        rows.first().map(|r| r.parse("user")).transpose()
    }

    async fn user_tokens(&self, username: &str) -> StoreResult<Vec<UserToken>> {
        let sql = "SELECT token_hash, username, label, created_at, expires_at FROM user_tokens \
                   WHERE username = $1 ORDER BY created_at DESC, token_hash";
        let rows = self.backend.fetch_all::<UserTokenRow>(sql, vec![Param::Text(username.to_owned())]).await?;
        Ok(rows
            .into_iter()
            .map(|r| UserToken {
                id: r.token_hash.chars().take(UserToken::ID_LEN).collect(),
                username: r.username,
                label: r.label,
                created_at: from_micros(r.created_at),
                expires_at: r.expires_at.map(from_micros),
            })
            .collect())
    }

    async fn revoke_user_token(&self, username: &str, id: &str) -> StoreResult<bool> {
        // An id is exactly the first hex digits of one hash; anything else names nothing.
        if id.len() != UserToken::ID_LEN || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let (username, prefix) = (username.to_owned(), format!("{}%", id.to_ascii_lowercase()));
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    let sql = "DELETE FROM user_tokens WHERE username = $1 AND token_hash LIKE $2";
                    Ok(tx.execute(sql, vec![Param::Text(username), Param::Text(prefix)]).await? > 0)
                })
            }))
            .await
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>> {
        let sql = "SELECT password_hash FROM staff_credentials WHERE username = $1";
        let rows = self.backend.fetch_all::<CredentialsRow>(sql, vec![Param::Text(username.to_owned())]).await?;
        Ok(rows.into_iter().next().map(|r| Credentials { password_hash: r.password_hash }))
    }

    async fn set_password(&self, username: &str, hash: &str) -> StoreResult<()> {
        let write = ConfigWrite::Password { username: username.to_owned(), hash: hash.to_owned() };
        self.write_all(config::statements(&write).collect::<StoreResult<_>>()?).await
    }

    async fn claim_sign_in(
        &self,
        username: &str,
        scope: &str,
        lockout: Lockout,
        now: Timestamp,
    ) -> StoreResult<Result<(), Timestamp>> {
        for _ in 0..CLAIM_TRIES {
            let key = vec![Param::Text(username.to_owned()), Param::Text(scope.to_owned())];
            let outcome = self
                .backend
                .write(Box::new(move |tx: &mut dyn SqlTx| {
                    Box::pin(async move {
                        let seen = tx
                            .fetch_i64(
                                "SELECT COALESCE(max(failures), -1) FROM sign_in_attempts \
                                 WHERE username = $1 AND scope = $2",
                                key.clone(),
                            )
                            .await?;
                        let until = tx
                            .fetch_i64(
                                "SELECT COALESCE(max(retry_at), 0) FROM sign_in_attempts \
                                 WHERE username = $1 AND scope = $2",
                                key.clone(),
                            )
                            .await?;
                        if until > to_micros(now) {
                            return Ok(Some(Err(from_micros(until))));
                        }
                        let attempts = u32::try_from(seen.max(0)).unwrap_or(u32::MAX).saturating_add(1);
                        let retry_at = lockout.wait_after(attempts).and_then(|d| now.checked_add(d).ok());
                        let mut params = key;
                        params.push(Param::I64(i64::from(attempts)));
                        params.push(Param::OptI64(retry_at.map(to_micros)));
                        // Changed only if nobody counted an attempt since it was read.
                        let changed = if seen < 0 {
                            let sql = "INSERT INTO sign_in_attempts (username, scope, failures, retry_at) \
                                       VALUES ($1, $2, $3, $4) ON CONFLICT (username, scope) DO NOTHING";
                            tx.execute(sql, params).await?
                        } else {
                            params.push(Param::I64(seen));
                            let sql = "UPDATE sign_in_attempts SET failures = $3, retry_at = $4 \
                                       WHERE username = $1 AND scope = $2 AND failures = $5";
                            tx.execute(sql, params).await?
                        };
                        Ok((changed == 1).then_some(Ok(())))
                    })
                }))
                .await?;
            if let Some(outcome) = outcome {
                return Ok(outcome);
            }
        }
        // Contended beyond reason: this attempt waits a moment rather than slip through.
        Ok(Err(now.checked_add(jiff::SignedDuration::from_secs(1)).unwrap_or(now)))
    }

    async fn clear_sign_ins(&self, username: &str, scope: Option<&str>) -> StoreResult<()> {
        let user = Param::Text(username.to_owned());
        match scope {
            None => self.write_all(vec![(config::CLEAR_SIGN_INS, vec![user])]).await,
            Some(s) => {
                let sql = "DELETE FROM sign_in_attempts WHERE username = $1 AND scope = $2";
                self.write_all(vec![(sql, vec![user, Param::Text(s.to_owned())])]).await
            }
        }
    }

    async fn create_session(&self, s: &Session) -> StoreResult<()> {
        let sql = "INSERT INTO staff_sessions (token_hash, username, csrf, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        let params = vec![
            Param::Text(s.token_hash.clone()),
            Param::Text(s.username.clone()),
            Param::Text(s.csrf.clone()),
            Param::I64(to_micros(s.created_at)),
            Param::I64(to_micros(s.expires_at)),
        ];
        self.write_all(vec![(sql, params)]).await
    }

    async fn session(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<(Session, StaffUser)>> {
        let sql = "SELECT s.token_hash, s.csrf, s.created_at, s.expires_at, u.body FROM staff_sessions s \
                   JOIN staff_users u ON u.username = s.username WHERE s.token_hash = $1 AND s.expires_at > $2";
        let params = vec![Param::Text(token_hash.to_owned()), Param::I64(to_micros(now))];
        let Some(r) = self.backend.fetch_all::<SessionRow>(sql, params).await?.into_iter().next() else {
            return Ok(None);
        };
        let user: StaffUser = serde_json::from_str(&r.body).map_err(|e| StoreError::Corrupt(format!("user: {e}")))?;
        let session = Session {
            token_hash: r.token_hash,
            username: user.username.clone(),
            csrf: r.csrf,
            created_at: from_micros(r.created_at),
            expires_at: from_micros(r.expires_at),
        };
        Ok(Some((session, user)))
    }

    async fn end_session(&self, token_hash: &str) -> StoreResult<()> {
        self.write_all(vec![(
            "DELETE FROM staff_sessions WHERE token_hash = $1",
            vec![Param::Text(token_hash.to_owned())],
        )])
        .await
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        username: &str,
        now: Timestamp,
        expires_at: Timestamp,
        not_since: Timestamp,
    ) -> StoreResult<bool> {
        let link = MailedLink { token_hash, owner: username, now, expires_at, not_since };
        self.issue_link("password_resets", "username", link).await
    }

    async fn password_reset_user(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<String>> {
        let sql = "SELECT username AS body FROM password_resets \
                   WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2";
        let params = vec![Param::Text(token_hash.to_owned()), Param::I64(to_micros(now))];
        Ok(self.backend.fetch_all::<BodyRow>(sql, params).await?.into_iter().next().map(|r| r.body))
    }

    async fn finish_password_reset(&self, token_hash: &str, password_hash: &str, now: Timestamp) -> StoreResult<bool> {
        let (token, hash) = (token_hash.to_owned(), password_hash.to_owned());
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    let found = tx
                        .fetch_bodies(
                            "SELECT username AS body FROM password_resets \
                             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
                            vec![Param::Text(token.clone()), Param::I64(to_micros(now))],
                        )
                        .await?;
                    let Some(username) = found.into_iter().next().map(|r| r.body) else { return Ok(false) };
                    // Every open link of the user is spent, this one included.
                    tx.execute(
                        "UPDATE password_resets SET used_at = $2 WHERE username = $1 AND used_at IS NULL",
                        vec![Param::Text(username.clone()), Param::I64(to_micros(now))],
                    )
                    .await?;
                    config::run(tx, config::statements(&ConfigWrite::Password { username, hash })).await?;
                    Ok(true)
                })
            }))
            .await
    }

    async fn create_resident_link(
        &self,
        token_hash: &str,
        email: &str,
        now: Timestamp,
        expires_at: Timestamp,
        not_since: Timestamp,
    ) -> StoreResult<bool> {
        let email = email.trim().to_ascii_lowercase();
        let link = MailedLink { token_hash, owner: &email, now, expires_at, not_since };
        self.issue_link("resident_links", "email", link).await
    }

    async fn resident_link_email(&self, token_hash: &str, now: Timestamp) -> StoreResult<Option<String>> {
        let sql = "SELECT email AS body FROM resident_links WHERE token_hash = $1 AND expires_at > $2";
        let params = vec![Param::Text(token_hash.to_owned()), Param::I64(to_micros(now))];
        Ok(self.backend.fetch_all::<BodyRow>(sql, params).await?.into_iter().next().map(|r| r.body))
    }

    async fn commit(&self, updates: Vec<RequestUpdate>) -> StoreResult<Vec<ServiceRequest>> {
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    let mut out = Vec::with_capacity(updates.len());
                    for u in updates {
                        out.push(apply_update(tx, u).await?);
                    }
                    Ok(out)
                })
            }))
            .await
    }

    async fn followers(&self, seq: i64) -> StoreResult<Vec<Follower>> {
        let sql = "SELECT address, channel, language FROM followers \
                   WHERE request_id = $1 AND confirmed_at IS NOT NULL ORDER BY address";
        follower_rows(self.backend.fetch_all::<FollowerRow>(sql, vec![Param::I64(seq)]).await?)
    }

    async fn ask_to_follow(
        &self,
        seq: i64,
        f: &Follower,
        now: Timestamp,
        since: Timestamp,
        most: i64,
    ) -> StoreResult<bool> {
        let f = f.clone();
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    let address = Param::Text(f.address.trim().to_ascii_lowercase());
                    let following = tx
                        .fetch_i64(
                            "SELECT count(*) FROM followers WHERE request_id = $1 AND lower(address) = $2 \
                             AND confirmed_at IS NOT NULL",
                            vec![Param::I64(seq), address.clone()],
                        )
                        .await?;
                    let asked_here = tx
                        .fetch_i64(
                            "SELECT count(*) FROM followers WHERE request_id = $1 AND lower(address) = $2 \
                             AND confirmed_at IS NULL AND asked_at > $3",
                            vec![Param::I64(seq), address.clone(), Param::I64(to_micros(since))],
                        )
                        .await?;
                    let asked = tx
                        .fetch_i64(
                            "SELECT count(*) FROM followers WHERE lower(address) = $1 AND confirmed_at IS NULL \
                             AND asked_at > $2",
                            vec![address, Param::I64(to_micros(since))],
                        )
                        .await?;
                    if following > 0 || asked_here > 0 || asked >= most {
                        return Ok(false);
                    }
                    let sql = "INSERT INTO followers (request_id, address, channel, language, confirmed_at, asked_at) \
                               VALUES ($1, $2, $3, $4, NULL, $5) ON CONFLICT (request_id, address) DO UPDATE \
                               SET channel = excluded.channel, language = excluded.language, asked_at = excluded.asked_at \
                               WHERE followers.confirmed_at IS NULL";
                    let params = vec![
                        Param::I64(seq),
                        Param::Text(f.address.clone()),
                        Param::Text(to_json(&f.channel).trim_matches('"').to_owned()),
                        Param::Text(f.language.clone()),
                        Param::I64(to_micros(now)),
                    ];
                    Ok(tx.execute(sql, params).await? == 1)
                })
            }))
            .await
    }

    async fn pending_followers(&self, seq: i64, asked_since: Timestamp) -> StoreResult<Vec<Follower>> {
        let sql = "SELECT address, channel, language FROM followers \
                   WHERE request_id = $1 AND confirmed_at IS NULL AND asked_at > $2 ORDER BY address";
        let params = vec![Param::I64(seq), Param::I64(to_micros(asked_since))];
        follower_rows(self.backend.fetch_all::<FollowerRow>(sql, params).await?)
    }

    async fn link_key(&self, candidate: &str) -> StoreResult<String> {
        let candidate = candidate.to_owned();
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    tx.execute(
                        "INSERT INTO link_keys (name, value) VALUES ('links', $1) ON CONFLICT (name) DO NOTHING",
                        vec![Param::Text(candidate)],
                    )
                    .await?;
                    let key =
                        tx.fetch_bodies("SELECT value AS body FROM link_keys WHERE name = 'links'", vec![]).await?;
                    key.into_iter().next().map(|r| r.body).ok_or_else(|| StoreError::Corrupt("no link key".into()))
                })
            }))
            .await
    }

    async fn claim_timers(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<(i64, TimerKind, Timestamp)>> {
        let skip = self.backend.skip_locked();
        let rows = self
            .backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move { claim_timers(tx, skip, now, lease_until, limit).await })
            }))
            .await?;
        rows.into_iter()
            .map(|r| {
                let kind =
                    TimerKind::parse(&r.kind).ok_or_else(|| StoreError::Corrupt(format!("timer kind '{}'", r.kind)))?;
                Ok((r.request_id, kind, from_micros(r.due_at)))
            })
            .collect()
    }

    async fn claim_messages(&self, now: Timestamp, lease_until: Timestamp, limit: i64) -> StoreResult<Vec<OutboxItem>> {
        let skip = self.backend.skip_locked();
        let rows = self
            .backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move { claim_messages(tx, skip, now, lease_until, limit).await })
            }))
            .await?;
        rows.into_iter().map(outbox_item).collect()
    }

    async fn finish_message(&self, id: i64, outcome: Delivery, now: Timestamp) -> StoreResult<()> {
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move { finish_message(tx, id, outcome, now).await })
            }))
            .await
    }

    async fn outbox(&self, q: &OutboxQuery) -> StoreResult<Vec<OutboxItem>> {
        let mut conds = Vec::new();
        let mut params = Vec::new();
        let state = q.state.map(|s| s.as_str().to_owned());
        for (column, value) in [("state", &state), ("channel", &q.channel)] {
            if let Some(v) = value {
                params.push(Param::Text(v.clone()));
                conds.push(format!("{column} = ${}", params.len()));
            }
        }
        if let Some(r) = q.request {
            params.push(Param::I64(r));
            conds.push(format!("request_id = ${}", params.len()));
        }
        params.push(Param::I64(q.limit));
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox {filter} ORDER BY id DESC LIMIT ${}", params.len());
        self.backend.fetch_all::<OutboxRow>(&sql, params).await?.into_iter().map(outbox_item).collect()
    }

    async fn release_message(&self, id: i64) -> StoreResult<()> {
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    tx.execute("UPDATE outbox SET lease_until = NULL WHERE id = $1", vec![Param::I64(id)]).await?;
                    Ok(())
                })
            }))
            .await
    }

    async fn retry_message(&self, id: i64, now: Timestamp) -> StoreResult<bool> {
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    let n = tx
                        .execute(
                            "UPDATE outbox SET state = $3, next_at = $1, lease_until = NULL \
                             WHERE id = $2 AND state = $4",
                            vec![
                                Param::I64(to_micros(now)),
                                Param::I64(id),
                                Param::Text(OutboxState::Pending.as_str().to_owned()),
                                Param::Text(OutboxState::Dead.as_str().to_owned()),
                            ],
                        )
                        .await?;
                    Ok(n > 0)
                })
            }))
            .await
    }

    async fn drain_reports(&self, limit: i64, rollup: crate::Rollup) -> StoreResult<usize> {
        let lock = self.backend.rollup_lock();
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move { super::rollup::drain(tx, lock, limit, &rollup).await })
            }))
            .await
    }

    async fn reports_pending(&self) -> StoreResult<i64> {
        let rows = self.backend.fetch_all::<CountRow>("SELECT count(*) AS n FROM report_dirty", vec![]).await?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    async fn reset_reports(&self) -> StoreResult<i64> {
        let lock = self.backend.rollup_lock();
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    if !lock.is_empty() {
                        tx.execute(lock, vec![]).await?;
                    }
                    tx.execute("DELETE FROM report_cells", vec![]).await?;
                    tx.execute("DELETE FROM report_facts", vec![]).await?;
                    tx.execute("DELETE FROM report_places", vec![]).await?;
                    tx.execute("DELETE FROM report_dirty", vec![]).await?;
                    let n = tx
                        .execute("INSERT INTO report_dirty (request_id) SELECT id FROM requests ORDER BY id", vec![])
                        .await?;
                    Ok(i64::try_from(n).unwrap_or(i64::MAX))
                })
            }))
            .await
    }

    async fn report_cells(
        &self,
        cube: &str,
        grain: civic311_domain::report::rollup::Grain,
        starts: &[i32],
    ) -> StoreResult<Vec<(i32, String, String)>> {
        let mut out = Vec::new();
        for chunk in starts.chunks(500) {
            let mut params = vec![super::rollup::field(), Param::Text(cube.to_owned()), Param::I64(grain.code())];
            params.extend(chunk.iter().map(|d| Param::I64(i64::from(*d))));
            for body in self.backend.fetch_many_bodies(&super::rollup::cells_sql(chunk.len()), params).await? {
                out.push(super::rollup::parse_read(&body)?);
            }
        }
        Ok(out)
    }

    async fn report_days(&self, cube: &str) -> StoreResult<Option<(i32, i32)>> {
        // Two subqueries, not MIN and MAX side by side: SQLite reads one end of the
        // key for a lone MIN or MAX, but walks every day's cells for the pair (50 ms
        // for a layer's cube over two years of 1,000,000 requests).
        let sql = "SELECT COALESCE(\
                   CAST((SELECT MIN(start) FROM report_cells WHERE cube = $1 AND grain = 0) AS TEXT) || ' ' || \
                   CAST((SELECT MAX(start) FROM report_cells WHERE cube = $1 AND grain = 0) AS TEXT), '') AS body";
        let rows = self.backend.fetch_all::<BodyRow>(sql, vec![Param::Text(cube.to_owned())]).await?;
        let Some(body) = rows.into_iter().next().map(|r| r.body).filter(|b| !b.is_empty()) else { return Ok(None) };
        let (lo, hi) = body.split_once(' ').ok_or_else(|| StoreError::Corrupt(format!("report days '{body}'")))?;
        match (lo.parse(), hi.parse()) {
            (Ok(lo), Ok(hi)) => Ok(Some((lo, hi))),
            _ => Err(StoreError::Corrupt(format!("report days '{body}'"))),
        }
    }

    async fn queue_weekly_report(
        &self,
        week: &str,
        department: &str,
        message: Message,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let (week, department) = (week.to_owned(), department.to_owned());
        self.backend
            .write(Box::new(move |tx: &mut dyn SqlTx| {
                Box::pin(async move {
                    let claimed = tx
                        .execute(
                            "INSERT INTO report_digests (week, department) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                            vec![Param::Text(week), Param::Text(department)],
                        )
                        .await?;
                    if claimed == 0 {
                        return Ok(false);
                    }
                    super::writes::insert_messages(tx, &[(None, at, &message)]).await?;
                    Ok(true)
                })
            }))
            .await
    }

    async fn sealed_events(&self, after: (i64, i64), limit: i64) -> StoreResult<Vec<SealedEvent>> {
        let sql = "SELECT id, request_id, at, kind, actor, data, prev_hash, hash FROM events \
                   WHERE request_id > $1 OR (request_id = $1 AND id > $2) ORDER BY request_id, id LIMIT $3";
        let rows = self
            .backend
            .fetch_all::<SealedRow>(sql, vec![Param::I64(after.0), Param::I64(after.1), Param::I64(limit)])
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| SealedEvent {
                event_id: r.id,
                request_id: r.request_id,
                at_micros: r.at,
                kind: r.kind,
                actor: r.actor,
                data: r.data,
                prev_hash: r.prev_hash,
                hash: r.hash,
            })
            .collect())
    }

    async fn events_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        kinds: &[EventKind],
        limit: i64,
    ) -> StoreResult<Vec<(i64, Event)>> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        // The kinds are written out, not bound (they are the store's own fixed words),
        // and one kind as an equality: only then may a partial index such as
        // `events_escalated` (migration 20) serve the read. Bound, SQLite walked every
        // event of the period (4.8 s for a year of escalations among 1,000,000
        // requests; 1 ms with the index).
        let kind = match kinds {
            [one] => format!("kind = '{}'", one.as_str()),
            many => {
                format!("kind IN ({})", many.iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", "))
            }
        };
        let params = vec![Param::I64(to_micros(from)), Param::I64(to_micros(to)), Param::I64(limit)];
        let sql = format!(
            "SELECT id, request_id, at, kind, actor, data FROM events WHERE at >= $1 AND at <= $2 AND {kind} \
             ORDER BY at, id LIMIT $3"
        );
        self.request_events(&sql, params).await
    }
}
