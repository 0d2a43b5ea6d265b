//! Secrets handed out once and kept only as hashes: API tokens, session and reset
//! tokens, Open311 request tokens.

use sha2::{Digest, Sha256};

/// A fresh unguessable token (128 random bits, hex).
pub fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The stored form of a token: its SHA-256 in hex.
pub fn token_hash(token: &str) -> String {
    civic311_domain::audit::hex(&Sha256::digest(token.as_bytes()))
}
