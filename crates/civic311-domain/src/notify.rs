//! Notifications: who is told what, in which language, through which channel, from
//! templates the city can edit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::request::Contact;

/// How someone wants to hear about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyChannel {
    Email,
    Sms,
    /// Email and SMS: each message goes to both.
    Both,
    None,
}

impl NotifyChannel {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            "both" | "email,sms" | "sms,email" => Some(Self::Both),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// A resident following a request: the requester or anyone who chose to follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follower {
    pub channel: NotifyChannel,
    /// An email address or a phone number.
    pub address: String,
    pub language: String,
}

/// What a link in a message lets its holder do to one address's following of one
/// request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Confirm a follow someone asked for (nothing is sent to a pending address).
    Confirm,
    /// Stop following.
    Unfollow,
}

impl LinkPurpose {
    /// The word for it, in signatures and in the link's path.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Confirm => "confirm",
            LinkPurpose::Unfollow => "unfollow",
        }
    }

    /// The purpose a link's path names.
    pub fn parse(word: &str) -> Option<Self> {
        [LinkPurpose::Confirm, LinkPurpose::Unfollow].into_iter().find(|p| p.as_str() == word)
    }
}

/// The signature that makes a link in a message work: an HMAC-SHA256 under the city's
/// link key of the purpose, the request and the address (ASCII case folded), as 32 hex
/// digits. It names neither, and cannot be made without the key.
pub fn link_signature(key: &str, purpose: LinkPurpose, seq: i64, address: &str) -> String {
    use hmac::{Hmac, Mac};
    let purpose = purpose.as_str();
    // HMAC takes keys of any length.
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_bytes()) else { return String::new() };
    mac.update(format!("{purpose}\n{seq}\n{}", address.trim().to_ascii_lowercase()).as_bytes());
    let mut sig = crate::audit::hex(&mac.finalize().into_bytes());
    sig.truncate(32);
    sig
}

/// True when `sig` is the signature of `purpose` for `seq` and `address`, compared
/// without stopping at the first difference.
pub fn link_signature_ok(key: &str, purpose: LinkPurpose, seq: i64, address: &str, sig: &str) -> bool {
    let want = link_signature(key, purpose, seq, address);
    want.len() == sig.len() && want.bytes().zip(sig.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The requester as followers, one per channel: by their chosen channel(s), else by
/// email when they gave an address; none when they chose no updates or left no address
/// for the channel.
pub fn contact_followers(c: &Contact) -> Vec<Follower> {
    let channel = c.notify.unwrap_or(if c.email.is_some() { NotifyChannel::Email } else { NotifyChannel::None });
    let language = c.language.clone().unwrap_or_else(|| "en".to_owned());
    let email = matches!(channel, NotifyChannel::Email | NotifyChannel::Both).then_some(c.email.as_ref()).flatten();
    let sms = matches!(channel, NotifyChannel::Sms | NotifyChannel::Both).then_some(c.phone.as_ref()).flatten();
    let follower =
        |channel, address: &String| Follower { channel, address: address.clone(), language: language.clone() };
    email
        .map(|a| follower(NotifyChannel::Email, a))
        .into_iter()
        .chain(sms.map(|a| follower(NotifyChannel::Sms, a)))
        .collect()
}

/// The kinds of message civic311 sends, each with its own template.
pub const TEMPLATE_KINDS: [&str; 13] = [
    "received",
    "status_changed",
    "delayed",
    "resolved",
    "merged",
    "warning",
    "escalated",
    "response_overdue",
    "reminder",
    "note",
    "transferred",
    "assigned",
    // A department's numbers for the week, to its address (about no one request).
    "weekly_report",
];

/// The template kinds sent to staff: their link is the request's staff page.
pub const STAFF_KINDS: [&str; 6] = ["warning", "escalated", "response_overdue", "reminder", "transferred", "assigned"];

/// A message template. `{{name}}` placeholders are replaced; unknown ones are refused
/// when the template is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub kind: String,
    pub language: String,
    /// Email subject (SMS ignores it).
    pub subject: String,
    pub body: String,
}

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 20] = [
    "number",
    "service",
    "status",
    "note",
    "expected",
    "url",
    "rating_url",
    "unfollow_url",
    "department",
    "due",
    "original",
    "city",
    "what",
    "late",
    "team",
    "queue",
    // " (120 Oak St)": the request's address in parentheses, or nothing without one.
    "where",
    // The weekly report: its ISO week, its numbers, and the dashboard they come from.
    "week",
    "summary",
    "dashboard",
];

impl Template {
    /// Checks the kind and the placeholders.
    pub fn validate(&self) -> Result<(), FieldError> {
        let field = format!("template[{}/{}]", self.kind, self.language);
        if !TEMPLATE_KINDS.contains(&self.kind.as_str()) {
            return Err(FieldError::new(field, format!("unknown kind; one of {}", TEMPLATE_KINDS.join(", "))));
        }
        if self.language.is_empty() || self.language.len() > 8 {
            return Err(FieldError::new(field, "language must be a code like en or es"));
        }
        for text in [&self.subject, &self.body] {
            for name in placeholders(text) {
                if !PLACEHOLDERS.contains(&name) {
                    return Err(FieldError::new(field, format!("unknown placeholder {{{{{name}}}}}")));
                }
            }
        }
        Ok(())
    }

    /// The subject and body with placeholders replaced (missing values become empty).
    pub fn render(&self, vars: &BTreeMap<String, String>) -> (String, String) {
        (fill(&self.subject, vars), fill(&self.body, vars))
    }
}

fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else { break };
        out.push(after[..j].trim());
        rest = &after[j + 2..];
    }
    out
}

fn fill(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        if let Some(v) = vars.get(after[..j].trim()) {
            out.push_str(v);
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

fn t(kind: &str, language: &str, subject: &str, body: &str) -> Template {
    Template { kind: kind.into(), language: language.into(), subject: subject.into(), body: body.into() }
}

/// The templates civic311 ships with; a city's own templates replace them by kind and language.
pub fn default_templates() -> Vec<Template> {
    vec![
        t(
            "received",
            "en",
            "{{city}} 311: request {{number}} received",
            "We received your {{service}} request {{number}}{{where}}. Expected by {{expected}}. Track it: {{url}}",
        ),
        t(
            "received",
            "es",
            "{{city}} 311: solicitud {{number}} recibida",
            "Recibimos su solicitud de {{service}} {{number}}{{where}}. Fecha prevista: {{expected}}. Siga su estado: {{url}}",
        ),
        t(
            "status_changed",
            "en",
            "{{city}} 311: request {{number}} is {{status}}",
            "Your {{service}} request {{number}}{{where}} is now {{status}}. {{note}} {{url}}",
        ),
        t(
            "status_changed",
            "es",
            "{{city}} 311: solicitud {{number}}: {{status}}",
            "Su solicitud de {{service}} {{number}}{{where}} ahora está: {{status}}. {{note}} {{url}}",
        ),
        t(
            "delayed",
            "en",
            "{{city}} 311: request {{number}} is delayed",
            "Your {{service}} request {{number}}{{where}} is taking longer than we promised. We now expect to finish by {{expected}} and will update you. {{url}}",
        ),
        t(
            "delayed",
            "es",
            "{{city}} 311: la solicitud {{number}} está retrasada",
            "Su solicitud de {{service}} {{number}}{{where}} está tardando más de lo previsto. Ahora prevemos terminar antes del {{expected}} y le avisaremos. {{url}}",
        ),
        t(
            "resolved",
            "en",
            "{{city}} 311: request {{number}} resolved",
            "Your {{service}} request {{number}}{{where}} was resolved: {{note}}\nHow did we do? Rate us: {{rating_url}}",
        ),
        t(
            "resolved",
            "es",
            "{{city}} 311: solicitud {{number}} resuelta",
            "Su solicitud de {{service}} {{number}}{{where}} fue resuelta: {{note}}\n¿Cómo lo hicimos? Califíquenos: {{rating_url}}",
        ),
        t(
            "merged",
            "en",
            "{{city}} 311: request {{number}} joined {{original}}",
            "Your request {{number}} reports the same problem as {{original}}; we will keep you updated on {{original}}. {{url}}",
        ),
        t(
            "merged",
            "es",
            "{{city}} 311: la solicitud {{number}} se unió a {{original}}",
            "Su solicitud {{number}} trata del mismo problema que {{original}}; le informaremos sobre {{original}}. {{url}}",
        ),
        t(
            "note",
            "en",
            "{{city}} 311: update on request {{number}}",
            "An update on your {{service}} request {{number}}{{where}}: {{note}} {{url}}",
        ),
        t(
            "note",
            "es",
            "{{city}} 311: novedad en la solicitud {{number}}",
            "Novedad en su solicitud de {{service}} {{number}}{{where}}: {{note}} {{url}}",
        ),
        t(
            "warning",
            "en",
            "Request {{number}} ({{what}}) is due {{due}}",
            "Request {{number}} ({{what}}) for {{department}} will be past due at {{due}}.\n\nOpen it: {{url}}",
        ),
        t(
            "escalated",
            "en",
            "Escalated to you: request {{number}} ({{what}}) is {{late}}",
            "Request {{number}} ({{what}}) is {{late}} and has been escalated to you. It was due {{due}}. {{note}}\n\nOpen it: {{url}}",
        ),
        t(
            "response_overdue",
            "en",
            "No response yet: request {{number}} ({{what}})",
            "Request {{number}} ({{what}}) for {{department}} has had no response within its first-response target. Acknowledge or assign it.\n\nOpen it: {{url}}",
        ),
        t(
            "reminder",
            "en",
            "Reminder: request {{number}} ({{what}}) has had no activity",
            "Request {{number}} ({{what}}) has had no activity for a while. It is due {{due}}.\n\nOpen it: {{url}}",
        ),
        t(
            "transferred",
            "en",
            "Transferred to {{department}}: request {{number}} ({{what}})",
            "Request {{number}} ({{what}}) was transferred to {{department}}. {{queue}}\nWhy: {{note}}\nIt is due {{due}}.\n\nOpen it: {{url}}",
        ),
        t(
            "weekly_report",
            "en",
            "{{department}}: 311 last week ({{week}})",
            "{{summary}}\n\nThe dashboard, with these filters: {{dashboard}}",
        ),
        t(
            "assigned",
            "en",
            "Assigned to you: request {{number}} ({{what}})",
            "Request {{number}} ({{what}}) for {{department}} is now assigned to you. It is due {{due}}.\n\nOpen it: {{url}}",
        ),
    ]
}

/// Templates by kind and language, with the shipped defaults under the city's own.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    by_key: BTreeMap<(String, String), Template>,
}

impl Templates {
    /// The defaults overlaid with `custom`.
    pub fn new(custom: &[Template]) -> Result<Self, FieldError> {
        let mut by_key = BTreeMap::new();
        for t in default_templates().into_iter().chain(custom.iter().cloned()) {
            t.validate()?;
            by_key.insert((t.kind.clone(), t.language.clone()), t);
        }
        Ok(Self { by_key })
    }

    /// The template for `kind` in `language`, falling back to English.
    pub fn get(&self, kind: &str, language: &str) -> Option<&Template> {
        self.by_key
            .get(&(kind.to_owned(), language.to_owned()))
            .or_else(|| self.by_key.get(&(kind.to_owned(), "en".to_owned())))
    }

    /// Every template, defaults included.
    pub fn all(&self) -> impl Iterator<Item = &Template> {
        self.by_key.values()
    }
}

/// A webhook subscriber: event kinds go to `url` as signed JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub name: String,
    pub url: String,
    /// Shared secret for the `X-Civic311-Signature` HMAC-SHA256 header. Write-only:
    /// shown as [`Webhook::SECRET_SET`], and a document sent back with that value (or
    /// none) keeps the stored secret.
    #[serde(default)]
    pub secret: String,
    /// Event kinds sent (`created`, `status_changed`…); empty means every kind.
    #[serde(default)]
    pub events: Vec<String>,
}

impl Webhook {
    /// What is shown in place of a secret that is set.
    pub const SECRET_SET: &'static str = "(set)";

    pub fn validate(&self) -> Result<(), FieldError> {
        let field = format!("webhook[{}]", self.name);
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(FieldError::new(field, "url must start with http:// or https://"));
        }
        if self.secret.len() < 16 {
            return Err(FieldError::new(field, "secret must be at least 16 characters"));
        }
        Ok(())
    }

    pub fn wants(&self, kind: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == kind)
    }
}

/// One message to deliver, as written to the outbox. It is rendered from its template
/// when delivered, with the request's number added to `vars`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// `email`, `sms` or `webhook`.
    pub channel: String,
    /// An email address, a phone number, or a webhook's name.
    pub recipient: String,
    /// The template kind (the event kind for webhooks).
    pub kind: String,
    pub language: String,
    /// Values for the template's placeholders (for webhooks: `event` and `data`).
    pub vars: BTreeMap<String, String>,
    /// Held until then (a digest's release time); otherwise due at once.
    pub not_before: Option<jiff::Timestamp>,
}

/// The `vars` key that marks a message to be bundled with others to the same
/// recipient: [`DIGEST_HOURLY`], [`DIGEST_DAILY`] or [`DIGEST_CATCH_UP`].
pub const DIGEST_VAR: &str = "digest";
pub const DIGEST_HOURLY: &str = "hourly";
pub const DIGEST_DAILY: &str = "daily";
/// Warnings whose moment had passed when the scheduler first saw them.
pub const DIGEST_CATCH_UP: &str = "catch-up";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_signatures_bind_the_purpose_the_request_and_the_address() {
        let sig = link_signature("key", LinkPurpose::Unfollow, 42, "Res@Example.test");
        assert_eq!(sig.len(), 32);
        assert!(link_signature_ok("key", LinkPurpose::Unfollow, 42, "res@example.test ", &sig));
        assert!(!link_signature_ok("key", LinkPurpose::Confirm, 42, "res@example.test", &sig));
        assert!(!link_signature_ok("key", LinkPurpose::Unfollow, 43, "res@example.test", &sig));
        assert!(!link_signature_ok("key", LinkPurpose::Unfollow, 42, "other@example.test", &sig));
        assert!(!link_signature_ok("other key", LinkPurpose::Unfollow, 42, "res@example.test", &sig));
        assert!(!link_signature_ok("key", LinkPurpose::Unfollow, 42, "res@example.test", &sig[..31]));
    }

    #[test]
    fn templates_fill_placeholders_and_refuse_unknown_ones() {
        let ts = Templates::new(&[]).unwrap();
        let mut vars = BTreeMap::new();
        vars.insert("number".to_owned(), "2026-000001".to_owned());
        vars.insert("service".to_owned(), "Pothole".to_owned());
        vars.insert("city".to_owned(), "Riverton".to_owned());
        let (subject, body) = ts.get("delayed", "fr").unwrap().render(&vars);
        assert_eq!(subject, "Riverton 311: request 2026-000001 is delayed");
        assert!(body.starts_with("Your Pothole request 2026-000001 is taking longer"));
        let (s, _) = ts.get("delayed", "es").unwrap().render(&vars);
        assert!(s.contains("retrasada"));
        let bad = t("delayed", "en", "{{nmber}}", "");
        assert!(Templates::new(&[bad]).unwrap_err().detail.contains("nmber"));
        assert!(t("nope", "en", "", "").validate().is_err());
    }
}
