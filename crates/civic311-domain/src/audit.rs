//! Tamper-evident history: each event of a request carries the SHA-256 of its content
//! and of the event before it, so editing or removing any event breaks every later link.
//! The previous event's hash is not stored beside each event (it is that event's own
//! hash, 64 bytes an event over millions); events written before that still carry it,
//! and it is checked where present.

use sha2::{Digest, Sha256};

/// The hash of one event given the previous event's hash (empty for the first).
pub fn link(prev: &str, request_id: i64, at_micros: i64, kind: &str, actor: &str, data: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev, &request_id.to_string(), &at_micros.to_string(), kind, actor, data] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// One stored event as the chain check sees it.
#[derive(Debug, Clone)]
pub struct SealedEvent {
    pub event_id: i64,
    pub request_id: i64,
    pub at_micros: i64,
    pub kind: String,
    pub actor: String,
    pub data: String,
    /// The previous event's hash as stored with the event: only events written before
    /// it stopped being stored have one; empty otherwise.
    pub prev_hash: String,
    pub hash: String,
}

/// The first broken link of a request's chain, in words.
pub fn first_break(events: &[SealedEvent]) -> Option<String> {
    let mut prev = String::new();
    for e in events {
        let stored_prev = !e.prev_hash.is_empty();
        if stored_prev && e.prev_hash != prev {
            return Some(format!("event {} ({}) does not follow the event before it", e.event_id, e.kind));
        }
        let expect = link(&prev, e.request_id, e.at_micros, &e.kind, &e.actor, &e.data);
        if e.hash != expect {
            // Without the previous hash stored, a removal before it shows here too.
            let or_removed = if stored_prev { "" } else { ", or an event before it was removed" };
            return Some(format!("event {} ({}) was changed after it was written{or_removed}", e.event_id, e.kind));
        }
        prev = e.hash.clone();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Vec<SealedEvent> {
        let mut prev = String::new();
        let mut out = Vec::new();
        for (i, kind) in ["created", "routed", "assigned"].iter().enumerate() {
            let hash = link(&prev, 7, i as i64, kind, "system", "{}");
            out.push(SealedEvent {
                event_id: i as i64 + 1,
                request_id: 7,
                at_micros: i as i64,
                kind: (*kind).into(),
                actor: "system".into(),
                data: "{}".into(),
                prev_hash: prev.clone(),
                hash: hash.clone(),
            });
            prev = hash;
        }
        out
    }

    #[test]
    fn a_chain_without_stored_previous_hashes_still_shows_edits_and_removals() {
        let bare = || chain().into_iter().map(|e| SealedEvent { prev_hash: String::new(), ..e }).collect::<Vec<_>>();
        assert_eq!(first_break(&bare()), None);
        let mut edited = bare();
        edited[1].data = "{\"note\":\"forged\"}".into();
        assert_eq!(
            first_break(&edited).unwrap(),
            "event 2 (routed) was changed after it was written, or an event before it was removed"
        );
        let mut removed = bare();
        removed.remove(1);
        assert!(first_break(&removed).unwrap().starts_with("event 3 (assigned) was changed"));
        let mut mixed = chain();
        mixed[2].prev_hash.clear();
        assert_eq!(first_break(&mixed), None, "events before and after the change, in one chain");
    }

    #[test]
    fn edits_and_removals_break_the_chain() {
        assert_eq!(first_break(&chain()), None);
        let mut edited = chain();
        edited[1].actor = "mallory".into();
        assert!(first_break(&edited).unwrap().contains("event 2 (routed) was changed"));
        let mut removed = chain();
        removed.remove(1);
        assert!(first_break(&removed).unwrap().contains("event 3 (assigned) does not follow"));
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
    }
}
