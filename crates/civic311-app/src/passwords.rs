//! Staff passwords: argon2id hashes (PHC strings), computed off the async threads
//! because each takes tens of milliseconds by design.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// A PHC hash of a real password, checked against when a username is unknown so the
/// answer takes as long as for a known one.
const DECOY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2l2aWMzMTFkZWNveXNhbHQ$mX7Ytc4r9f8GiM4tqQ0Ou3V0DbyI0aQ2mXyq1c2B3yE";

/// How many passwords are hashed at once: each hash takes ~19 MB and a core for tens
/// of milliseconds, so an unbounded number would let sign-in guesses exhaust memory.
fn hashers() -> &'static tokio::sync::Semaphore {
    static HASHERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    HASHERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        tokio::sync::Semaphore::new(cores.clamp(1, 4))
    })
}

/// The argon2id hash of `password` with a fresh random salt.
pub async fn hash(password: String) -> Result<String, String> {
    let _permit = hashers().acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || {
        Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// True when `password` matches `stored` (a PHC string); `None` checks against a decoy
/// and is always false.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let Ok(_permit) = hashers().acquire().await else { return false };
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let phc = stored.unwrap_or_else(|| DECOY.to_owned());
        let matches = PasswordHash::new(&phc)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        real && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let h = super::hash("correct horse battery".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!super::verify("wrong horse battery".into(), Some(h)).await);
        assert!(!super::verify("anything at all".into(), None).await, "the decoy never matches");
        // The decoy must really be hashed against, or an unknown name answers faster.
        assert!(super::PasswordHash::new(super::DECOY).is_ok());
    }
}
