//! Delivering the outbox: claim due messages with a lease, render each from its
//! template, send it, and record the outcome — sent, retried later with exponential
//! backoff, or kept as a dead letter after the last attempt.

use civic311_domain::i18n;
use civic311_domain::notify::{DIGEST_CATCH_UP, DIGEST_DAILY, DIGEST_VAR, LinkPurpose, STAFF_KINDS, link_signature};
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
        let mut items = store.claim_messages(now, lease_until, limit).await?;
        // In the order they were claimed in (a database returns updated rows in any order).
        items.sort_by(|a, b| (a.next_at, &a.message.recipient, a.id).cmp(&(b.next_at, &b.message.recipient, b.id)));
        let claimed = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let last = items.last().and_then(|i| {
            let kind = i.message.vars.get(DIGEST_VAR).filter(|_| i.message.channel == "email")?;
            Some((i.message.recipient.clone(), kind.clone()))
        });
        let mut report = DeliveryReport::default();
        // Messages held for a digest or folded into a catch-up go out together, one
        // mail per recipient and kind of bundle; the rest one by one.
        let mut bundles: std::collections::BTreeMap<(String, String), Vec<Claimed>> = std::collections::BTreeMap::new();
        for item in items {
            let (request, follower) = self.context(store, &item).await?;
            match item.message.vars.get(DIGEST_VAR).filter(|_| item.message.channel == "email") {
                Some(kind) => bundles
                    .entry((item.message.recipient.clone(), kind.clone()))
                    .or_default()
                    .push((item, request, follower)),
                None => {
                    let sent = self.send(model, &item, request.as_ref(), follower).await;
                    let outcome = self.outcome(&item, sent.map_err(|e| short_reason(&e)), now, &mut report);
                    store.finish_message(item.id, outcome, now).await?;
                }
            }
        }
        // Due messages come ordered by recipient: when the batch was full, the last
        // recipient's bundle may go on past it, so it is released untouched for the next
        // round to send whole — unless it is all this batch holds.
        let trailing = last.filter(|_| claimed == limit && bundles.len() > 1);
        for ((recipient, kind), items) in bundles {
            if trailing.as_ref() == Some(&(recipient.clone(), kind.clone())) {
                for (item, _, _) in &items {
                    store.release_message(item.id).await?;
                }
                continue;
            }
            let mut rendered = Vec::new();
            for (item, request, follower) in &items {
                match self.render(model, item, request.as_ref(), *follower) {
                    Ok(text) => rendered.push((item, text)),
                    Err(e) => {
                        let outcome = self.outcome(item, Err(short_reason(&e)), now, &mut report);
                        store.finish_message(item.id, outcome, now).await?;
                    }
                }
            }
            if rendered.is_empty() {
                continue;
            }
            let (subject, body) = bundle(model, &kind, rendered.iter().map(|(_, t)| t));
            let sent = self.notifiers.email(&recipient, &subject, &body).await.map_err(|e| short_reason(&e));
            for (item, text) in rendered {
                let own = sent.clone().map(|()| (text.recorded_subject.clone(), text.recorded_body.clone()));
                let outcome = self.outcome(item, own, now, &mut report);
                store.finish_message(item.id, outcome, now).await?;
            }
        }
        Ok(report)
    }

    /// The request a message is about, and whether its recipient follows it.
    async fn context(&self, store: &SharedStore, item: &OutboxItem) -> StoreResult<(Option<ServiceRequest>, bool)> {
        Ok(match item.request_id {
            Some(id) => {
                let followers = store.followers(id).await?;
                let follows = followers.iter().any(|f| f.address == item.message.recipient);
                (store.request(id).await?, follows)
            }
            None => (None, false),
        })
    }

    /// What becomes of a message after an attempt: sent, retried later, or a dead letter.
    fn outcome(
        &self,
        item: &OutboxItem,
        sent: Result<(String, String), String>,
        now: Timestamp,
        report: &mut DeliveryReport,
    ) -> Delivery {
        match sent {
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
        }
    }

    /// Renders and sends one message; returns the subject and body as recorded (links
    /// that carry a token withheld).
    async fn send(
        &self,
        model: &WorkflowModel,
        item: &OutboxItem,
        request: Option<&ServiceRequest>,
        follower: bool,
    ) -> Result<(String, String), String> {
        let m = &item.message;
        if m.channel == "webhook" {
            return self.send_webhook(model, item, request).await;
        }
        let text = self.render(model, item, request, follower)?;
        match m.channel.as_str() {
            "email" => self.notifiers.email(&m.recipient, &text.subject, &text.body).await?,
            "sms" => self.notifiers.sms(&m.recipient, &text.body).await?,
            other => return Err(format!("unknown channel '{other}'")),
        }
        Ok((text.recorded_subject, text.recorded_body))
    }

    /// The variables a message is rendered with: the request's number and links, as
    /// sent and as recorded (links that work as a credential withheld).
    fn vars(
        &self,
        model: &WorkflowModel,
        item: &OutboxItem,
        request: Option<&ServiceRequest>,
        follower: bool,
    ) -> (std::collections::BTreeMap<String, String>, std::collections::BTreeMap<String, String>) {
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
                // Staff open the request's staff page (so does the staff requester of an
                // internal request, which has no public page); everyone else its public
                // page, in the language of the message.
                let url = if STAFF_KINDS.contains(&m.kind.as_str()) || !model.directory.is_public(&r.service_code) {
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
        (vars, recorded)
    }

    /// Posts a webhook's JSON; returns its event and body as recorded.
    async fn send_webhook(
        &self,
        model: &WorkflowModel,
        item: &OutboxItem,
        request: Option<&ServiceRequest>,
    ) -> Result<(String, String), String> {
        let m = &item.message;
        let (vars, _) = self.vars(model, item, request, false);
        let hook = model
            .config
            .webhooks
            .iter()
            .find(|w| w.name == m.recipient)
            .ok_or_else(|| format!("webhook '{}' is no longer configured", m.recipient))?;
        let data: serde_json::Value = vars.get("data").and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
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
        Ok((m.kind.clone(), body))
    }

    /// A message's subject and body from its template, as sent and as recorded. A
    /// message to a `follower` of the request ends with a signed link to stop.
    fn render(
        &self,
        model: &WorkflowModel,
        item: &OutboxItem,
        request: Option<&ServiceRequest>,
        follower: bool,
    ) -> Result<Rendered, String> {
        let m = &item.message;
        let (vars, recorded) = self.vars(model, item, request, follower);
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
        let (recorded_subject, recorded_body) = template.render(&recorded);
        Ok(Rendered {
            subject,
            body: body + &footer(&vars),
            recorded_subject,
            recorded_body: recorded_body + &footer(&recorded),
        })
    }
}

/// A claimed message with the request it is about and whether its recipient follows it.
type Claimed = (OutboxItem, Option<ServiceRequest>, bool);

/// A message rendered from its template: as sent, and as the delivery log keeps it.
struct Rendered {
    subject: String,
    body: String,
    recorded_subject: String,
    recorded_body: String,
}

/// One mail for several messages to one person: a digest, or the catch-up of warnings
/// whose moment had passed when the scheduler first saw them.
fn bundle<'a>(model: &WorkflowModel, kind: &str, texts: impl Iterator<Item = &'a Rendered>) -> (String, String) {
    let texts: Vec<&Rendered> = texts.collect();
    let city = &model.directory.city_name;
    let n = texts.len();
    let (subject, intro) = match kind {
        DIGEST_CATCH_UP => (
            format!("{city} 311: {n} requests need attention (catch-up)"),
            "These warnings came due while notifications were not being sent; each is listed once here instead of in a mail of its own.",
        ),
        DIGEST_DAILY => (
            format!("{city} 311: your daily digest, {n} update(s)"),
            "What happened on your requests since the last digest.",
        ),
        _ => (
            format!("{city} 311: your hourly digest, {n} update(s)"),
            "What happened on your requests in the last hour.",
        ),
    };
    let items: Vec<String> = texts.iter().map(|t| format!("* {}\n{}", t.subject, t.body.trim())).collect();
    (subject, format!("{intro}\n\n{}", items.join("\n\n")))
}
