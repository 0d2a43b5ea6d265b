//! Budgets that keep one client from taking the server for itself: token buckets keyed
//! by client address (the portal's public forms, signing in) or by Open311 API key,
//! and who the client is when a reverse proxy stands in front.
//!
//! Buckets live in this node's memory: behind N app nodes a client gets up to N
//! budgets, which still bounds it. Time is the app's clock, so tests move it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use jiff::Timestamp;

use crate::AppState;

/// How much a client may do: a burst of `burst` at once, then `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub burst: u32,
    pub per_minute: u32,
}

/// The portal's public forms (report, follow, unfollow, "my requests", rating), per
/// client address: a household or a library sharing an address can still report a
/// street's worth of problems at once.
pub const PORTAL: Budget = Budget { burst: 20, per_minute: 6 };

/// Sign-in attempts and reset requests per client address, on top of the lock per
/// account ([`civic311_domain::signin`]).
pub const SIGN_IN: Budget = Budget { burst: 10, per_minute: 5 };

/// Open311 POSTs from one client address that came without a valid API key: past
/// these, the address's next POSTs are refused before their bodies are read.
pub const BAD_KEYS: Budget = Budget { burst: 10, per_minute: 10 };

/// Address suggestions per client address: one a keystroke or so while typing.
pub const LOOKUPS: Budget = Budget { burst: 60, per_minute: 120 };

/// Most keys one throttle remembers; beyond it idle keys are forgotten first.
const MAX_KEYS: usize = 100_000;

/// A refusal: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

/// Token buckets by key.
#[derive(Debug, Default)]
pub struct Throttle {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Throttle {
    /// Whether `key` has `budget` left at `now`, without taking any: how long to wait
    /// when it has none.
    pub fn check(&self, key: &str, budget: Budget, now: Timestamp) -> Result<(), Refused> {
        let buckets = self.lock();
        buckets.get(key).map_or(Ok(()), |b| budget.wait(budget.refilled(b, now)))
    }

    /// Takes one unit of `budget` for `key` at `now`, or says how long to wait.
    pub fn take(&self, key: &str, budget: Budget, now: Timestamp) -> Result<(), Refused> {
        let mut buckets = self.lock();
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            forget_idle(&mut buckets, budget, now);
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: budget.burst(), at: now });
        *b = Bucket { tokens: budget.refilled(b, now), at: now };
        budget.wait(b.tokens)?;
        b.tokens -= 1.0;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bucket>> {
        match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl Budget {
    fn burst(self) -> f64 {
        f64::from(self.burst.max(1))
    }

    fn per_second(self) -> f64 {
        f64::from(self.per_minute.max(1)) / 60.0
    }

    /// The tokens in `b` at `now`, refilled since it was last used.
    fn refilled(self, b: &Bucket, now: Timestamp) -> f64 {
        let elapsed = now.duration_since(b.at).as_secs_f64().max(0.0);
        (b.tokens + elapsed * self.per_second()).min(self.burst())
    }

    /// Nothing when `tokens` hold a whole one; else how long until they do.
    fn wait(self, tokens: f64) -> Result<(), Refused> {
        if tokens >= 1.0 {
            return Ok(());
        }
        // Whole seconds, at least one; the cast cannot truncate a sane wait.
        Err(Refused { retry_after: (((1.0 - tokens) / self.per_second()).ceil() as u64).max(1) })
    }
}

/// Drops the buckets that have refilled (their clients are idle); if every client is
/// busy, starts afresh rather than grow without bound.
fn forget_idle(buckets: &mut HashMap<String, Bucket>, budget: Budget, now: Timestamp) {
    buckets.retain(|_, b| budget.refilled(b, now) < budget.burst());
    if buckets.len() >= MAX_KEYS {
        buckets.clear();
    }
}

/// The throttles a node keeps.
#[derive(Debug, Default)]
pub struct Throttles {
    /// The portal's public forms, by client address.
    pub portal: Throttle,
    /// Sign-in and password-reset forms, by client address.
    pub sign_in: Throttle,
    /// Open311 POSTs, by API key.
    pub open311: Throttle,
    /// Open311 POSTs without a valid API key, by client address.
    pub bad_keys: Throttle,
    /// Address suggestions, by client address.
    pub lookups: Throttle,
    /// Whole open-data exports being streamed by this node.
    pub exports: ExportSlots,
}

/// Whole open-data exports this node streams at once; one more is refused (503) rather
/// than queued, so a crowd of downloads cannot hold every database connection.
#[derive(Debug)]
pub struct ExportSlots(pub Arc<tokio::sync::Semaphore>);

impl ExportSlots {
    pub const MAX: usize = 4;
}

impl Default for ExportSlots {
    fn default() -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(Self::MAX)))
    }
}

/// The address of whoever sent a request: the connection's peer, or — when the peer
/// is one of the configured reverse proxies — the nearest address in
/// `X-Forwarded-For` that is not one of them. IPv6 clients are keyed by their /64,
/// the smallest block one subscriber is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The key a throttle files this client under.
    pub fn key(&self) -> String {
        match self.0 {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => {
                let s = a.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Served without connection info (in-process tests), every client is one.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(a)| a.ip().to_canonical());
        if !state.trusted_proxies.contains(&peer) {
            return Ok(ClientAddr(peer));
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .map(|a| a.to_canonical())
            .collect::<Vec<_>>();
        let client = forwarded.into_iter().rev().find(|a| !state.trusted_proxies.contains(a));
        Ok(ClientAddr(client.unwrap_or(peer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).expect("a time")
    }

    #[test]
    fn a_burst_then_the_rate_then_a_wait() {
        let t = Throttle::default();
        let budget = Budget { burst: 3, per_minute: 6 };
        for _ in 0..3 {
            assert_eq!(t.take("a", budget, at(0)), Ok(()));
        }
        assert_eq!(t.take("a", budget, at(0)), Err(Refused { retry_after: 10 }));
        assert_eq!(t.take("b", budget, at(0)), Ok(()), "another client has its own budget");
        assert_eq!(t.take("a", budget, at(4)), Err(Refused { retry_after: 6 }));
        assert_eq!(t.take("a", budget, at(10)), Ok(()));
        assert_eq!(t.check("a", budget, at(10)), Err(Refused { retry_after: 10 }), "checking takes nothing");
        assert!(t.take("a", budget, at(10)).is_err());
        assert_eq!(t.check("c", budget, at(10)), Ok(()), "a client never seen has its budget");
        for _ in 0..3 {
            assert_eq!(t.take("a", budget, at(3600)), Ok(()), "an hour later the burst is back");
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_block() {
        let a = ClientAddr("2001:db8:1:2:aaaa::1".parse().expect("v6"));
        let b = ClientAddr("2001:db8:1:2:bbbb::9".parse().expect("v6"));
        assert_eq!(a.key(), b.key());
        assert_eq!(ClientAddr("192.0.2.7".parse().expect("v4")).key(), "192.0.2.7");
    }
}
