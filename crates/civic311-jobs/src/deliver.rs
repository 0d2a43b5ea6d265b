//! Delivering the outbox: claim due messages with a lease, render each from its
//! template, send it, and record the outcome — sent, retried later with exponential
//! backoff, or kept as a dead letter after the last attempt.

use civic311_domain::i18n;
use civic311_domain::notify::{LinkPurpose, STAFF_KINDS, link_signature};
use civic311_domain::request::ServiceRequest;
use civic311_domain::workflow::WorkflowModel;
use civic311_store::{Delivery, OutboxItem, SharedStore, StoreResult};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use civic311_app::notifiers::{Notifiers, short_reason};

/// Delivers messages.
#[derive(Clone)]
pub struct Dispatcher {
    pub notifiers: Notifiers,
    /// The public address of this civic311, for links in messages; without it
    /// messages go out without links (a link is never guessed from elsewhere).
    pub public_url: Option<String>,
    /// Attempts before a message becomes a dead letter.
    pub max_attempts: i64,
    /// The wait after the first failure; doubled after each further failure.
    pub first_backoff: SignedDuration,
    /// The key that signs the "stop updates" link in messages to followers; without
    /// it (or a public URL) they go out without one.
    pub link_key: Option<String>,
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
}

const LEASE: SignedDuration = SignedDuration::from_secs(120);

/// What the delivery log shows in place of a token in a link.
const WITHHELD: &str = "[link withheld]";

impl Dispatcher {
    pub fn new(notifiers: Notifiers, public_url: Option<String>) -> Self {
        Self { notifiers, public_url, max_attempts: 8, first_backoff: SignedDuration::from_secs(30), link_key: None }
    }

    /// The same dispatcher signing "stop updates" links with `key`.
    pub fn with_link_key(mut self, key: impl Into<String>) -> Self {
        self.link_key = Some(key.into());
        self
    }

    /// The wait before attempt `attempts + 1`.
    pub fn backoff(&self, attempts: i64) -> SignedDuration {
        let factor = 1i32 << attempts.clamp(0, 16);
        self.first_backoff
            .checked_mul(factor)
            .unwrap_or(SignedDuration::from_hours(24))
            .min(SignedDuration::from_hours(24))
    }

    /// Delivers up to `limit` due messages.
    pub async fn run(
        &self,
        store: &SharedStore,
        model: &WorkflowModel,
        now: Timestamp,
        limit: i64,
    ) -> StoreResult<DeliveryReport> {
        let lease_until = now.checked_add(LEASE).unwrap_or(now);
        let items = store.claim_messages(now, lease_until, limit).await?;
        let mut report = DeliveryReport::default();
        for item in items {
            let (request, follower) = match item.request_id {
                Some(id) => {
                    let followers = store.followers(id).await?;
                    let follows = followers.iter().any(|f| f.address == item.message.recipient);
                    (store.request(id).await?, follows)
                }
                None => (None, false),
            };
            let sent = self.send(model, &item, request.as_ref(), follower).await.map_err(|e| short_reason(&e));
            let outcome = match sent {
                Ok((subject, body)) => {
                    report.sent += 1;
                    Delivery::Sent { subject, body }
                }
                Err(error) if item.attempts + 1 >= self.max_attempts => {
                    tracing::warn!(id = item.id, %error, "message is a dead letter");
                    report.dead += 1;
                    Delivery::Dead { error }
                }
                Err(error) => {
                    report.retried += 1;
                    let at = now.checked_add(self.backoff(item.attempts)).unwrap_or(now);
                    Delivery::Retry { at, error }
                }
            };
            store.finish_message(item.id, outcome, now).await?;
        }
        Ok(report)
    }

    /// Renders and sends one message; returns the subject and body as recorded (links
    /// that carry a token withheld).
    /// A message to a `follower` of the request ends with a signed link to stop.
    async fn send(
        &self,
        model: &WorkflowModel,
        item: &OutboxItem,
        request: Option<&ServiceRequest>,
        follower: bool,
    ) -> Result<(String, String), String> {
        let m = &item.message;
        let mut vars = m.vars.clone();
        let base = self.public_url.as_deref().map(|u| u.trim_end_matches('/'));
        // What the delivery log keeps: the same message with every link that works
        // as a credential (rating) cut short, so nobody reading the log can use it.
        let mut recorded = vars.clone();
        if let Some(r) = request {
            vars.insert("number".into(), r.id.to_string());
            recorded.insert("number".into(), r.id.to_string());
            if let Some(base) = base {
                // Staff open the request's staff page; everyone else its public page, in
                // the language of the message.
                let url = if STAFF_KINDS.contains(&m.kind.as_str()) {
                    format!("{base}/staff/requests/{}", r.id)
                } else {
                    format!("{base}/requests/{}?lang={}", r.id, m.language)
                };
                vars.insert("url".into(), url.clone());
                recorded.insert("url".into(), url);
                vars.insert("rating_url".into(), format!("{base}/rate/{}?lang={}", r.token, m.language));
                recorded.insert("rating_url".into(), format!("{base}/rate/{WITHHELD}"));
                if let Some(key) = self.link_key.as_deref().filter(|_| follower) {
                    let (stop, id) = (LinkPurpose::Unfollow, r.id);
                    let sig = link_signature(key, stop, r.id.seq, &m.recipient);
                    let url = format!("{base}/requests/{id}/{}/{sig}?lang={}", stop.as_str(), m.language);
                    vars.insert("unfollow_url".into(), url);
                    recorded
                        .insert("unfollow_url".into(), format!("{base}/requests/{id}/{}/{WITHHELD}", stop.as_str()));
                }
            }
        }
        if m.channel == "webhook" {
            let hook = model
                .config
                .webhooks
                .iter()
                .find(|w| w.name == m.recipient)
                .ok_or_else(|| format!("webhook '{}' is no longer configured", m.recipient))?;
            let data: serde_json::Value =
                vars.get("data").and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
            let body = json!({
                "delivery_id": item.id,
                "event": m.kind,
                "actor": vars.get("actor"),
                "service_request_id": request.map(|r| r.id.to_string()),
                "status": vars.get("status"),
                "service_code": vars.get("service_code"),
                "department": vars.get("department"),
                "at": item.created_at,
                "data": data,
            })
            .to_string();
            self.notifiers.webhook(&hook.url, &hook.secret, &m.kind, body.clone().into_bytes()).await?;
            return Ok((m.kind.clone(), body));
        }
        let template =
            model.templates.get(&m.kind, &m.language).ok_or_else(|| format!("no template for '{}'", m.kind))?;
        let footer = |vars: &std::collections::BTreeMap<String, String>| match vars.get("unfollow_url") {
            // Every message to a follower says how to stop, unless its template does.
            Some(url) if !template.body.contains("unfollow_url") => {
                format!("\n\n{}", i18n::texts(&m.language).get("follow.footer").replace("{url}", url))
            }
            _ => String::new(),
        };
        let (subject, body) = template.render(&vars);
        let body = body + &footer(&vars);
        match m.channel.as_str() {
            "email" => self.notifiers.email(&m.recipient, &subject, &body).await?,
            "sms" => self.notifiers.sms(&m.recipient, &body).await?,
            other => return Err(format!("unknown channel '{other}'")),
        }
        let (subject, body) = template.render(&recorded);
        Ok((subject, body + &footer(&recorded)))
    }
}
