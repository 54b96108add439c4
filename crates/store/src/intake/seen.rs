//! Which applications this node knows to be committed, as fingerprints: lets the request's
//! task answer a retry from the database without entering the queue, while a first
//! submission (every submission of a click day, nearly) costs no query before the
//! sequencer. A miss is never trusted: the sequencer checks again under the lock.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

/// A content digest, as bytes: half the memory of its hex form in the sequencer's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sha256(pub(crate) [u8; 32]);

impl Sha256 {
    pub(crate) fn from_hex(hex: &str) -> Option<Sha256> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex, &mut bytes).ok()?;
        Some(Sha256(bytes))
    }
}

/// 64-bit fingerprints of `(call, entity, content_sha256)`: 8 bytes an application, and a
/// collision only costs one lookup.
#[derive(Default)]
pub(crate) struct Seen(Mutex<HashSet<u64>>);

pub(crate) fn fingerprint(call: &str, entity: &str, sha: &Sha256) -> u64 {
    let mut h = DefaultHasher::new();
    (call, entity, sha.0).hash(&mut h);
    h.finish()
}

impl Seen {
    /// `sha` in hex; anything else is not a digest, and is never seen.
    pub(crate) fn insert(&self, call: &str, entity: &str, sha: &str) {
        if let Some(digest) = Sha256::from_hex(sha) {
            self.insert_digest(call, entity, &digest);
        }
    }

    pub(crate) fn insert_digest(&self, call: &str, entity: &str, sha: &Sha256) {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(fingerprint(call, entity, sha));
    }

    /// Many at once, under one lock: a call of a million loaded at start.
    pub(crate) fn insert_fingerprints(&self, fingerprints: Vec<u64>) {
        let mut set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.extend(fingerprints);
    }

    pub(crate) fn contains(&self, call: &str, entity: &str, sha: &str) -> bool {
        let Some(digest) = Sha256::from_hex(sha) else {
            return false;
        };
        let set = self.0.lock().unwrap_or_else(|e| e.into_inner());
        set.contains(&fingerprint(call, entity, &digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_what_was_inserted_and_nothing_else() {
        let seen = Seen::default();
        let (s, t) = ("ab".repeat(32), "cd".repeat(32));
        seen.insert("c", "e", &s);
        assert!(seen.contains("c", "e", &s));
        assert!(!seen.contains("c", "e", &t));
        assert!(!seen.contains("c", "f", &s));
        assert!(!seen.contains("d", "e", &s));
        // The parts are hashed as separate fields, not concatenated.
        seen.insert("ab", "c", &s);
        assert!(!seen.contains("a", "bc", &s));
        // A digest inserted as bytes is the same as in hex; what is not hex is never seen.
        seen.insert_digest("c", "g", &Sha256::from_hex(&t).unwrap());
        assert!(seen.contains("c", "g", &t));
        let u = "ef".repeat(32);
        seen.insert_fingerprints(vec![fingerprint("c", "i", &Sha256::from_hex(&u).unwrap())]);
        assert!(seen.contains("c", "i", &u));
        assert!(!seen.contains("c", "j", &u));
        seen.insert("c", "h", "not hex");
        assert!(!seen.contains("c", "h", "not hex"));
    }

    #[test]
    fn digests_parse_from_hex_only() {
        let hex = "ab".repeat(32);
        assert_eq!(Sha256::from_hex(&hex), Some(Sha256([0xab; 32])));
        assert_eq!(Sha256::from_hex("abc"), None);
        assert_eq!(Sha256::from_hex(&"zz".repeat(32)), None);
    }
}
