//! `bandi verify --public URL`: a deployment checked from its public endpoints alone, with
//! no access to its database, as an auditor would: the ledger's chain, every checkpoint's
//! signature and its agreement with the chain, every call replayed by the fold with the
//! rules its ledger published against the counters and ranking it serves, gap-free
//! protocols, each published list against its hash; and, with checkpoints (and entry
//! hashes) saved earlier, that history was not rewritten since.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, bail};
use bandi_domain::allocation::Allocation;
use bandi_domain::call::Call;
use bandi_domain::ledger::{ChainVerifier, Entry, Record};
use bandi_domain::proof::{PublicKey, canonical_sha256, checkpoint_text};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A checkpoint as the endpoint serves it (and as a saved copy holds it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedCheckpoint {
    pub seq: u64,
    pub size: u64,
    pub head: String,
    pub time: String,
    pub key_id: String,
    pub signature: String,
}

/// What was checked.
pub struct Report {
    pub entries: u64,
    pub calls: usize,
    pub applications: usize,
    pub checkpoints: usize,
    pub saved: usize,
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        let url = format!("{}/api/v1{path}", self.base);
        let res = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        if !res.status().is_success() {
            bail!("GET {url}: {}", res.status());
        }
        Ok(res)
    }

    async fn json(&self, path: &str) -> anyhow::Result<Value> {
        let res = self.get(path).await?;
        res.json()
            .await
            .with_context(|| format!("{path}: not JSON"))
    }

    /// Every item of a paged endpoint (`items`, `next_after`).
    async fn all(&self, path: &str) -> anyhow::Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut after = 0u64;
        loop {
            let page = self
                .json(&format!("{path}?after={after}&limit=1000"))
                .await?;
            let got = page["items"].as_array().cloned().unwrap_or_default();
            if got.is_empty() {
                return Ok(items);
            }
            after = page["next_after"].as_u64().context("next_after")?;
            items.extend(got);
        }
    }
}

fn entry_of(v: &Value) -> anyhow::Result<Entry> {
    let s = |k: &str| -> anyhow::Result<String> {
        Ok(v[k]
            .as_str()
            .with_context(|| format!("entry field {k}"))?
            .to_string())
    };
    Ok(Entry {
        seq: v["seq"].as_u64().context("entry field seq")?,
        prev_hash: s("prev_hash")?,
        hash: s("hash")?,
        kind: s("kind")?,
        at: s("at")?,
        payload: s("payload")?,
    })
}

/// Checkpoints saved earlier: the JSON of `/api/v1/checkpoints` or the mirrored file (one
/// per line).
pub fn read_saved_checkpoints(path: &Path) -> anyhow::Result<Vec<SavedCheckpoint>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let trimmed = text.trim_start();
    let items: Vec<SavedCheckpoint> =
        if trimmed.starts_with("{\"items\"") || trimmed.starts_with("{\n") {
            let v: Value = serde_json::from_str(&text)?;
            serde_json::from_value(v["items"].clone())?
        } else {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str)
                .collect::<Result<_, _>>()?
        };
    Ok(items)
}

/// Entry hashes saved earlier (`seq` → `hash`), one JSON object per line.
fn read_saved_hashes(path: &Path) -> anyhow::Result<BTreeMap<u64, String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)?;
        out.insert(
            v["seq"].as_u64().context("seq")?,
            v["hash"].as_str().context("hash")?.to_string(),
        );
    }
    Ok(out)
}

/// A published key and when it could sign: from `from`, until `to` (excluded) if it ended.
struct Key {
    public: PublicKey,
    from: jiff::Timestamp,
    to: Option<jiff::Timestamp>,
}

fn check_checkpoint(c: &SavedCheckpoint, keys: &[Key], entries: &[Entry]) -> anyhow::Result<()> {
    let key = keys
        .iter()
        .find(|k| k.public.key_id == c.key_id)
        .with_context(|| format!("checkpoint {}: key {} is not published", c.seq, c.key_id))?;
    let time: jiff::Timestamp = c.time.parse().context("checkpoint time")?;
    if time < key.from || key.to.is_some_and(|to| time >= to) {
        bail!(
            "checkpoint {}: signed at {} outside the validity of key {}",
            c.seq,
            c.time,
            c.key_id
        );
    }
    let key = &key.public;
    key.verify(
        &checkpoint_text(&c.key_id, c.size, &c.head, &c.time),
        &c.signature,
    )
    .map_err(|e| anyhow::anyhow!("checkpoint {}: {e}", c.seq))?;
    match entries.get((c.size as usize).wrapping_sub(1)) {
        Some(e) if e.seq == c.size && e.hash == c.head => Ok(()),
        Some(e) => bail!(
            "checkpoint {} (size {}, signed {}) says entry {} hashed {}, the ledger served now has {}",
            c.seq,
            c.size,
            c.time,
            c.size,
            c.head,
            e.hash
        ),
        None => bail!(
            "checkpoint {} covers {} entries, the ledger served has {}",
            c.seq,
            c.size,
            entries.len()
        ),
    }
}

/// The ledger read so far and what it replays to.
#[derive(Default)]
struct Replay {
    chain: ChainVerifier,
    entries: Vec<Entry>,
    rules: HashMap<String, Call>,
    allocations: BTreeMap<String, Allocation>,
    lists: HashMap<(String, u32), String>,
    entities: HashMap<(String, u64), String>,
}

impl Replay {
    /// Reads the entries after those read so far; returns how many.
    async fn catch_up(&mut self, client: &Client) -> anyhow::Result<usize> {
        let mut added = 0;
        loop {
            let after = self.entries.len();
            let page = client
                .json(&format!("/ledger?after={after}&limit=1000"))
                .await?;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                break;
            }
            for item in &items {
                let e = entry_of(item)?;
                self.chain
                    .check(&e)
                    .map_err(|err| anyhow::anyhow!("{err}"))?;
                self.absorb(&e)?;
                self.entries.push(e);
                added += 1;
            }
        }
        let head = client.json("/ledger/head").await?;
        let size = head["size"].as_u64().context("head size")?;
        if size < self.entries.len() as u64
            || (size == self.entries.len() as u64
                && head["head"].as_str()
                    != Some(
                        self.entries
                            .last()
                            .map(|e| e.hash.as_str())
                            .unwrap_or(bandi_domain::ledger::GENESIS_HASH),
                    ))
        {
            bail!("the head served ({head}) is not the end of the chain served");
        }
        Ok(added)
    }

    /// One entry's record, replayed.
    fn absorb(&mut self, e: &Entry) -> anyhow::Result<()> {
        let record = e
            .record()
            .map_err(|err| anyhow::anyhow!("entry {}: {err}", e.seq))?;
        match &record {
            Record::CallPublished {
                call,
                rules: r,
                rules_sha256,
                ..
            } => {
                if canonical_sha256(r).1 != *rules_sha256 {
                    bail!(
                        "entry {}: rules_sha256 is not the SHA-256 of its rules",
                        e.seq
                    );
                }
                if self
                    .allocations
                    .get(call)
                    .is_some_and(|a| !a.applications().is_empty())
                {
                    bail!(
                        "entry {}: call {call} republished after its first application",
                        e.seq
                    );
                }
                let c: Call = serde_json::from_value(r.clone())
                    .with_context(|| format!("entry {}: rules", e.seq))?;
                self.allocations
                    .insert(call.clone(), Allocation::new(c.when_not_fits, c.budget));
                self.rules.insert(call.clone(), c);
            }
            Record::ApplicationSubmitted {
                call,
                seq,
                protocol,
                entity,
                received_at,
                ..
            } => {
                self.entities.insert((call.clone(), *seq), entity.clone());
                let c = self
                    .rules
                    .get(call)
                    .with_context(|| format!("entry {}: unknown call {call}", e.seq))?;
                let at = received_at.parse().context("received_at")?;
                if *protocol != c.protocol(*seq, at) {
                    bail!(
                        "entry {}: protocol {protocol} is not number {seq} of {call}",
                        e.seq
                    );
                }
            }
            Record::ListPublished {
                call,
                version,
                list_sha256,
                ..
            } => {
                self.lists
                    .insert((call.clone(), *version), list_sha256.clone());
            }
            _ => {}
        }
        if let Some(ev) = record.allocation_event() {
            let a = self
                .allocations
                .get_mut(record.call())
                .with_context(|| format!("entry {}: unknown call {}", e.seq, record.call()))?;
            a.apply(&ev)
                .map_err(|err| anyhow::anyhow!("entry {}: does not replay: {err}", e.seq))?;
        }
        Ok(())
    }

    /// Every call's counters, ranking and published lists served against the replay;
    /// returns how many applications were compared.
    async fn compare(&self, client: &Client) -> anyhow::Result<usize> {
        let mut applications = 0;
        for (code, a) in &self.allocations {
            let served = client.json(&format!("/calls/{code}")).await?;
            let expect = [
                ("budget_cents", a.budget().cents()),
                ("reserved_cents", a.reserved().cents()),
                ("remaining_cents", a.budget().cents() - a.reserved().cents()),
                ("applications", a.applications().len() as i64),
                ("waitlisted", a.waitlisted_count() as i64),
            ];
            for (name, replayed) in expect {
                if served[name].as_i64() != Some(replayed) {
                    bail!(
                        "call {code}: {name} served {} but the ledger replays to {replayed}",
                        served[name]
                    );
                }
            }
            let ranking = client.json(&format!("/calls/{code}/ranking")).await?;
            let items = ranking["items"].as_array().context("ranking items")?;
            if items.len() != a.applications().len() {
                bail!(
                    "call {code}: the ranking has {} applications, the ledger {}",
                    items.len(),
                    a.applications().len()
                );
            }
            for (row, app) in items.iter().zip(a.applications()) {
                let entity = self
                    .entities
                    .get(&(code.clone(), app.seq))
                    .map(String::as_str);
                if row["seq"].as_u64() != Some(app.seq)
                    || row["entity_code"].as_str() != entity
                    || row["status"].as_str() != Some(app.status.as_str())
                    || row["reserved_cents"].as_i64() != Some(app.reserved.cents())
                {
                    bail!(
                        "call {code}: application {} is served as {} {} {}, the ledger replays to {} {} {}",
                        app.seq,
                        row["entity_code"],
                        row["status"],
                        row["reserved_cents"],
                        entity.unwrap_or("?"),
                        app.status.as_str(),
                        app.reserved.cents()
                    );
                }
            }
            applications += items.len();
            let versions = client.json(&format!("/calls/{code}/lists")).await?;
            let served_versions: Vec<u64> = versions["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v["version"].as_u64())
                .collect();
            for ((call, n), _) in self.lists.iter().filter(|((c, _), _)| c == code) {
                if !served_versions.contains(&u64::from(*n)) {
                    bail!("call {call}: published list {n} is in the ledger but not served");
                }
            }
            for v in versions["versions"].as_array().into_iter().flatten() {
                let n = v["version"].as_u64().context("version")? as u32;
                let bytes = client
                    .get(&format!("/calls/{code}/lists/{n}"))
                    .await?
                    .bytes()
                    .await?;
                let sha = hex::encode(Sha256::digest(&bytes));
                let in_ledger = self.lists.get(&(code.clone(), n));
                if in_ledger != Some(&sha) || v["list_sha256"].as_str() != Some(sha.as_str()) {
                    bail!(
                        "call {code}: published list {n} hashes {sha}, which the ledger does not name"
                    );
                }
            }
        }
        Ok(applications)
    }
}

/// Checks the deployment at `base`. `saved`: checkpoints kept from an earlier look;
/// `hashes`: entry hashes kept then (`--save` writes both), to name the first entry that
/// differs; `save`: a directory where to keep this look's for the next.
pub async fn verify(
    base: &str,
    saved: Option<&Path>,
    hashes: Option<&Path>,
    save: Option<&Path>,
) -> anyhow::Result<Report> {
    let client = Client {
        http: reqwest::Client::new(),
        base: base.trim_end_matches('/').to_string(),
    };
    let keys_json = client.json("/keys").await?;
    let mut keys = Vec::new();
    for k in keys_json["items"].as_array().context("keys: items")? {
        let public = PublicKey::from_base64(k["public_key"].as_str().unwrap_or(""))
            .map_err(|e| anyhow::anyhow!("key {}: {e}", k["key_id"]))?;
        if k["key_id"].as_str() != Some(public.key_id.as_str()) {
            bail!(
                "key {}: its id is not the one of its public key",
                k["key_id"]
            );
        }
        keys.push(Key {
            public,
            from: k["valid_from"].as_str().context("valid_from")?.parse()?,
            to: k["valid_to"].as_str().map(str::parse).transpose()?,
        });
    }

    // The chain and each call's replay, brought up to date with what is served: a live
    // deployment keeps appending while it is read, so a counter ahead of the chain read so
    // far sends the reader back for the new entries, a few times, before it is a mismatch.
    let mut replay = Replay::default();
    replay.catch_up(&client).await?;

    // Saved checkpoints first: a rewrite shows there before anything else.
    let mut saved_count = 0;
    if let Some(path) = saved {
        let mut saved = read_saved_checkpoints(path)?;
        saved.sort_by_key(|c| c.size);
        if saved
            .last()
            .is_some_and(|c| c.size > replay.entries.len() as u64)
        {
            replay.catch_up(&client).await?;
        }
        let entries = &replay.entries;
        let earlier = hashes.map(read_saved_hashes).transpose()?;
        let mut last_good = 0u64;
        for c in &saved {
            if let Err(e) = check_checkpoint(c, &keys, entries) {
                let first = earlier.as_ref().and_then(|h| {
                    entries
                        .iter()
                        .take(c.size as usize)
                        .find(|e| h.get(&e.seq).is_some_and(|old| *old != e.hash))
                        .map(|e| e.seq)
                });
                match first {
                    Some(n) => bail!(
                        "history rewritten: entry {n} differs from the copy saved earlier (first entry that differs); {e}"
                    ),
                    None => bail!(
                        "history rewritten: an entry from {} to {} differs from what the saved checkpoint signed; {e}",
                        last_good + 1,
                        c.size
                    ),
                }
            }
            last_good = c.size;
            saved_count += 1;
        }
    }

    let checkpoints: Vec<SavedCheckpoint> = client
        .all("/checkpoints")
        .await?
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?;
    if checkpoints
        .iter()
        .any(|c| c.size > replay.entries.len() as u64)
    {
        replay.catch_up(&client).await?;
    }
    for c in &checkpoints {
        check_checkpoint(c, &keys, &replay.entries)?;
    }

    let mut tries = 0;
    let applications = loop {
        match replay.compare(&client).await {
            Ok(n) => break n,
            Err(e) if tries < 5 && replay.catch_up(&client).await? > 0 => {
                tracing::debug!(error = %e, "the deployment moved while read: reading on");
                tries += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let entries = &replay.entries;
    let allocations = &replay.allocations;

    if let Some(dir) = save {
        std::fs::create_dir_all(dir)?;
        let cps = serde_json::json!({ "items": checkpoints });
        std::fs::write(
            dir.join("checkpoints.json"),
            serde_json::to_vec_pretty(&cps)?,
        )?;
        let mut lines = String::new();
        for e in entries {
            lines.push_str(&serde_json::json!({"seq": e.seq, "hash": e.hash}).to_string());
            lines.push('\n');
        }
        std::fs::write(dir.join("ledger-hashes.jsonl"), lines)?;
    }
    Ok(Report {
        entries: entries.len() as u64,
        calls: allocations.len(),
        applications,
        checkpoints: checkpoints.len(),
        saved: saved_count,
    })
}
