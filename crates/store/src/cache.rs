//! Small in-process caches for what every submission reads: the token's entity, the
//! entity, the call's rules. Tokens never change once issued. Entities may be re-imported
//! by another process: they are kept while the registry's version stands (checked at most
//! once a second). Rules live briefly. The sequencer does not use them: under the lock it
//! reads the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bandi_domain::call::Call;
use bandi_domain::entity::Entity;

/// A token's SHA-256, as bytes.
pub(crate) type TokenDigest = [u8; 32];

/// How long the registry's version is believed before it is read again.
pub(crate) const REGISTRY_CHECK_EVERY: Duration = Duration::from_secs(1);

/// The entities read, as of one version of the registry.
#[derive(Default)]
pub(crate) struct Registry {
    version: i64,
    entities: HashMap<Box<str>, Arc<Entity>>,
}

const RULES_TTL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct Caches {
    /// Token's SHA-256 → entity code. Only tokens that exist are kept, so unknown ones
    /// cannot grow it. The digest as bytes and the code boxed: a million tokens held at
    /// start take some 90 MB, where hex strings and `String`s took twice that.
    tokens: RwLock<HashMap<TokenDigest, Box<str>>>,
    entities: RwLock<Registry>,
    /// When the registry's version was last read.
    registry_checked: Mutex<Option<Instant>>,
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

    pub fn entity(&self, code: &str) -> Option<Arc<Entity>> {
        self.entities.read().ok()?.entities.get(code).cloned()
    }

    /// The registry's version the cached entities are of.
    pub fn registry_version(&self) -> i64 {
        self.entities.read().map_or(i64::MIN, |r| r.version)
    }

    /// Keeps entities read from the registry at `version` (read before them), unless
    /// the registry has moved on since.
    pub fn put_entities(&self, version: i64, entities: impl IntoIterator<Item = Entity>) {
        if let Ok(mut r) = self.entities.write()
            && r.version == version
        {
            r.entities.extend(
                entities
                    .into_iter()
                    .map(|e| (e.code.as_str().into(), Arc::new(e))),
            );
        }
    }

    /// The registry is at `version`: entities of another version are forgotten.
    pub fn registry_at(&self, version: i64) {
        if let Ok(mut r) = self.entities.write()
            && r.version != version
        {
            r.version = version;
            r.entities = HashMap::new();
        }
    }

    /// True for one caller at most every [`REGISTRY_CHECK_EVERY`]: that one reads the
    /// registry's version, the others go on with what is cached.
    pub fn registry_check_due(&self) -> bool {
        let mut last = self
            .registry_checked
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| at.elapsed() < REGISTRY_CHECK_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        true
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
