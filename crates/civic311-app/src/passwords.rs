//! Staff passwords: hashes (PHC strings) computed by a [`PasswordHasher`] off the async
//! threads, a few at a time, because each takes tens of milliseconds and megabytes by
//! design. The binary supplies argon2id (civic311-codecs).

use std::sync::Arc;

/// Hashes and checks passwords; blocking, and deliberately slow.
pub trait PasswordHasher: Send + Sync + 'static {
    /// The hash of `password` with a fresh random salt, as a PHC string.
    fn hash(&self, password: &str) -> Result<String, String>;
    /// True when `password` matches `stored`.
    fn verify(&self, password: &str, stored: &str) -> bool;
    /// A stored hash of some password nobody has, checked against when a username is
    /// unknown so the answer takes as long as for a known one.
    fn decoy(&self) -> &str;
}

/// How many passwords are hashed at once: each hash takes ~19 MB and a core for tens
/// of milliseconds, so an unbounded number would let sign-in guesses exhaust memory.
fn hashers() -> &'static tokio::sync::Semaphore {
    static HASHERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    HASHERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        tokio::sync::Semaphore::new(cores.clamp(1, 4))
    })
}

/// The hash of `password` with a fresh random salt.
pub async fn hash(hasher: &Arc<dyn PasswordHasher>, password: String) -> Result<String, String> {
    let _permit = hashers().acquire().await.map_err(|e| e.to_string())?;
    let hasher = Arc::clone(hasher);
    tokio::task::spawn_blocking(move || hasher.hash(&password)).await.map_err(|e| e.to_string())?
}

/// True when `password` matches `stored` (a PHC string); `None` checks against the
/// decoy and is always false.
pub async fn verify(hasher: &Arc<dyn PasswordHasher>, password: String, stored: Option<String>) -> bool {
    let Ok(_permit) = hashers().acquire().await else { return false };
    let hasher = Arc::clone(hasher);
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let phc = stored.unwrap_or_else(|| hasher.decoy().to_owned());
        let matches = hasher.verify(&password, &phc);
        real && matches
    })
    .await
    .unwrap_or(false)
}
