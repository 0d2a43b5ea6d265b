//! The delivery channels: email over SMTP, SMS through a provider's HTTP API
//! (Twilio-style: form POST to `{base}/Accounts/{account}/Messages.json` with basic
//! auth), and webhooks (JSON with an HMAC-SHA256 signature header). A channel that is
//! not configured logs its messages instead.

use hmac::{Hmac, Mac};
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Email, Tokio1Executor};
use sha2::Sha256;

/// An SMTP relay.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub credentials: Option<(String, String)>,
}

/// An SMS provider's HTTP API.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// `https://api.provider.example/2010-04-01`
    pub base_url: String,
    pub account: String,
    pub token: String,
    pub from: String,
}

/// The configured channels.
#[derive(Clone)]
pub struct Notifiers {
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, String)>,
    sms: Option<SmsConfig>,
    http: reqwest::Client,
}

/// The header carrying a webhook body's signature: `sha256=<hex HMAC>`.
pub const SIGNATURE_HEADER: &str = "X-Civic311-Signature";

/// The signature of a webhook body under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    format!("sha256={}", civic311_domain::audit::hex(&mac.finalize().into_bytes()))
}

impl Notifiers {
    /// Channels from configuration; `None` channels log instead of sending.
    pub fn new(smtp: Option<SmtpConfig>, sms: Option<SmsConfig>) -> Self {
        let smtp = smtp.map(|c| {
            let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host).port(c.port);
            if let Some((u, p)) = c.credentials {
                b = b.credentials(Credentials::new(u, p));
            }
            (b.build(), c.from)
        });
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { smtp, sms, http }
    }

    /// Sends an email.
    pub async fn email(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let Some((transport, from)) = &self.smtp else {
            tracing::info!(to, subject, "email (no SMTP relay configured, logged only)");
            return Ok(());
        };
        let msg = Email::builder()
            .from(from.parse().map_err(|e| format!("sender address: {e}"))?)
            .to(to.parse().map_err(|e| format!("recipient address '{to}': {e}"))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| e.to_string())?;
        transport.send(msg).await.map(drop).map_err(|e| short_reason(&format!("SMTP: {e}")))
    }

    /// Sends a text message.
    pub async fn sms(&self, to: &str, body: &str) -> Result<(), String> {
        let Some(c) = &self.sms else {
            tracing::info!(to, "SMS (no provider configured, logged only)");
            return Ok(());
        };
        let url = format!("{}/Accounts/{}/Messages.json", c.base_url.trim_end_matches('/'), c.account);
        let form = [("To", to), ("From", c.from.as_str()), ("Body", body)];
        let resp = self
            .http
            .post(url)
            .basic_auth(&c.account, Some(&c.token))
            .form(&form)
            .send()
            .await
            .map_err(|e| short_reason(&format!("SMS provider: {e}")))?;
        check(resp).await
    }

    /// Posts a signed JSON document to a webhook.
    pub async fn webhook(&self, url: &str, secret: &str, event: &str, body: Vec<u8>) -> Result<(), String> {
        let resp = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, sign(secret, &body))
            .header("X-Civic311-Event", event)
            .body(body)
            .send()
            .await
            .map_err(|e| short_reason(&format!("webhook: {e}")))?;
        check(resp).await
    }
}

/// The outcome of a provider's or webhook's answer: its status, never its body, which
/// may echo what was sent (or a secret) into the delivery log.
async fn check(resp: reqwest::Response) -> Result<(), String> {
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    Err(format!("HTTP {status}"))
}

/// A failure's reason as kept in the delivery log: one line, at most 160 characters.
pub fn short_reason(reason: &str) -> String {
    let line: String = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}
