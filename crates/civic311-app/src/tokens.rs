//! Secrets handed out once and kept only as hashes: API tokens, session and reset
//! tokens, Open311 request tokens.

use sha2::{Digest, Sha256};

/// A fresh unguessable token (128 random bits, hex).
pub fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A request's lookup token (hex, the same length as [`new_token`]'s): the current time
/// in milliseconds, then 74 random bits (a version 7 UUID). Stored as it is, and
/// indexed: tokens made later sort later, so that index grows at its end instead of at
/// a random page (an import of a million requests rewrote most of its pages on every
/// commit). 74 random bits are still far beyond guessing, and when a request was made
/// is no secret.
pub fn new_request_token() -> String {
    let random = uuid::Uuid::new_v4().into_bytes();
    let mut tail = [0u8; 10];
    tail.copy_from_slice(&random[..10]);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid().simple().to_string()
}

/// The stored form of a token: its SHA-256 in hex.
pub fn token_hash(token: &str) -> String {
    civic311_domain::audit::hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_tokens_are_distinct_hex_and_ordered_by_time() {
        let first = new_request_token();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_request_token();
        assert_eq!(first.len(), 32);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, second);
        assert!(first < second, "{first} then {second}");
        // The random part differs between tokens of the same millisecond.
        let (a, b) = (new_request_token(), new_request_token());
        assert_ne!(a[13..], b[13..]);
    }
}
