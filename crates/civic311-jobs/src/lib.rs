//! civic311's background work: the escalation sweep and delivery of the notification
//! outbox by email (SMTP), SMS (a provider's HTTP API) and signed webhooks, through
//! the application layer's notifiers. Every piece of background work is claimed from the database with a
//! lease, so several app nodes on one PostgreSQL do each job once.

pub mod deliver;
pub mod scheduler;
pub mod sweep;

pub use deliver::{DeliveryReport, Dispatcher};
pub use sweep::{LEASE, SweepReport, sweep};
