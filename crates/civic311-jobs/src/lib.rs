//! civic311's workflow engine, around the pure domain: applying staff actions with
//! everything they cause in one transaction, the escalation sweep, and delivery of
//! the notification outbox by email (SMTP), SMS (a provider's HTTP API) and signed
//! webhooks. Every piece of background work is claimed from the database with a
//! lease, so several app nodes on one PostgreSQL do each job once.

pub mod deliver;
pub mod engine;
pub mod notifiers;
pub mod scheduler;
pub mod sweep;

pub use deliver::{DeliveryReport, Dispatcher};
pub use engine::{ActError, act, act_noted, follow, messages_for};
pub use notifiers::{Notifiers, SmsConfig, SmtpConfig};
pub use sweep::{LEASE, SweepReport, sweep};
