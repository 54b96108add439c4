//! Small in-process caches for what every submission reads: the token's entity, the
//! entity, the call's rules. Tokens never change once issued; entities and rules may be
//! re-imported by another process, so they live briefly. The sequencer does not use them:
//! under the lock it reads the database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bandi_domain::call::Call;
use bandi_domain::entity::Entity;

/// A token's SHA-256, as bytes.
pub(crate) type TokenDigest = [u8; 32];

const ENTITY_TTL: Duration = Duration::from_secs(30);
const RULES_TTL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct Caches {
    /// Token's SHA-256 → entity code. Only tokens that exist are kept, so unknown ones
    /// cannot grow it. The digest as bytes and the code boxed: a million tokens held at
    /// start take some 90 MB, where hex strings and `String`s took twice that.
    tokens: RwLock<HashMap<TokenDigest, Box<str>>>,
    entities: RwLock<HashMap<String, (Instant, Entity)>>,
    rules: RwLock<HashMap<String, (Instant, Arc<Call>)>>,
    /// Held while loading the tokens issued since the last load; holds the time of issue
    /// (µs) up to which they are loaded. Concurrent misses wait for one load.
    pub(crate) tokens_loaded_until: tokio::sync::Mutex<i64>,
}

fn fresh<T: Clone>(
    map: &RwLock<HashMap<String, (Instant, T)>>,
    key: &str,
    ttl: Duration,
) -> Option<T> {
    let map = map.read().ok()?;
    map.get(key)
        .filter(|(at, _)| at.elapsed() < ttl)
        .map(|(_, v)| v.clone())
}

impl Caches {
    pub fn token(&self, digest: &TokenDigest) -> Option<String> {
        self.tokens.read().ok()?.get(digest).map(|e| e.to_string())
    }

    /// Puts many at once, under one lock.
    pub fn put_tokens(&self, tokens: impl IntoIterator<Item = (TokenDigest, Box<str>)>) {
        if let Ok(mut m) = self.tokens.write() {
            m.extend(tokens);
        }
    }

    pub fn entity(&self, code: &str) -> Option<Entity> {
        fresh(&self.entities, code, ENTITY_TTL)
    }

    pub fn put_entity(&self, e: &Entity) {
        if let Ok(mut m) = self.entities.write() {
            m.insert(e.code.to_string(), (Instant::now(), e.clone()));
        }
    }

    pub fn forget_entities(&self) {
        if let Ok(mut m) = self.entities.write() {
            m.clear();
        }
    }

    pub fn rules(&self, code: &str) -> Option<Arc<Call>> {
        fresh(&self.rules, code, RULES_TTL)
    }

    pub fn put_rules(&self, code: &str, call: Arc<Call>) {
        if let Ok(mut m) = self.rules.write() {
            m.insert(code.to_string(), (Instant::now(), call));
        }
    }

    pub fn forget_rules(&self, code: &str) {
        if let Ok(mut m) = self.rules.write() {
            m.remove(code);
        }
    }
}
