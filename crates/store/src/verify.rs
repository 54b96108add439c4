//! `bandi verify`: the chain checks, every call's allocation replays from its events to
//! what is stored, and every application matches the ledger entry that recorded it.

use std::collections::HashMap;

use bandi_domain::allocation::{Allocation, AppAllocation, Event};
use bandi_domain::application::{ApplicationContent, AttachedDocument};
use bandi_domain::call::Call;
use bandi_domain::ledger::{ChainVerifier, Record};
use bandi_domain::money::Money;
use sha2::{Digest, Sha256};

use crate::verify_read::{StoredApplication, self_checked};
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: u64,
    pub calls: usize,
    pub applications: u64,
    pub head_hash: String,
    /// Runs of the calls' fold logs encoded again from the ledger and found the same.
    pub fold_log_runs: u64,
}

struct Submitted {
    ledger_seq: u64,
    protocol: String,
    entity: String,
    content_sha256: String,
    requested: Money,
}

/// A call's applications as the ledger recorded them, by number: in a vector while they
/// come in order (a million, without a key each), anything else aside.
#[derive(Default)]
struct SubmittedOfCall {
    in_order: Vec<Submitted>,
    other: HashMap<u64, Submitted>,
}

impl SubmittedOfCall {
    /// A later record of the same number replaces an earlier one, as in a map.
    fn insert(&mut self, seq: u64, s: Submitted) {
        match usize::try_from(seq).ok().and_then(|n| n.checked_sub(1)) {
            Some(i) if i < self.in_order.len() => self.in_order[i] = s,
            Some(i) if i == self.in_order.len() && self.other.is_empty() => self.in_order.push(s),
            _ => {
                self.other.insert(seq, s);
            }
        }
    }

    fn get(&self, seq: u64) -> Option<&Submitted> {
        let i = usize::try_from(seq).ok().and_then(|n| n.checked_sub(1));
        i.and_then(|i| self.in_order.get(i))
            .or_else(|| self.other.get(&seq))
    }
}

/// The SHA-256 (hex) of a stored application's content.
fn content_sha256(row: &StoredApplication) -> String {
    hex::encode(Sha256::digest(row.content.as_bytes()))
}

pub(crate) fn mismatch(msg: String) -> StoreError {
    StoreError::Corrupt(msg)
}

impl Store {
    pub async fn verify(&self) -> Result<VerifyReport> {
        let mut chain = ChainVerifier::new();
        let mut events: HashMap<String, Vec<(u64, Event)>> = HashMap::new();
        let mut submitted: HashMap<String, SubmittedOfCall> = HashMap::new();
        let mut after_review = crate::verify_review::Recorded::default();
        // Each call's rules as its last publication in the ledger has them: what the
        // replay uses, not the stored copy.
        let mut published: HashMap<String, (Call, String)> = HashMap::new();
        let started = std::time::Instant::now();
        let mut fold_logs = crate::fold_logs::FoldLogCheck::load(self).await?;
        let threads = bandi_domain::parallel::cores();
        // Three stages, each on the page after the next one's: reading (a thread of its
        // own), each entry's hash and payload (on every core), and here, in order, the
        // links and what the entries say.
        let mut pages = self_checked(self.ledger_pages(), threads);
        while let Some(page) = pages.recv().await {
            let (page, checked) = page?;
            let records = chain
                .follow(&page, checked)
                .map_err(|err| mismatch(err.to_string()))?;
            for (e, record) in page.iter().zip(records) {
                fold_logs.entry(e.seq, &e.hash, &record)?;
                after_review.fold(e.seq, &record);
                if let Record::CallPublished {
                    call,
                    rules,
                    rules_sha256,
                    ..
                } = &record
                {
                    let (_, sha) = bandi_domain::proof::canonical_sha256(rules);
                    if sha != *rules_sha256 {
                        return Err(mismatch(format!(
                            "ledger entry {}: rules_sha256 is not the SHA-256 of its rules",
                            e.seq
                        )));
                    }
                    let parsed: Call = serde_json::from_value(rules.clone()).map_err(|err| {
                        mismatch(format!("ledger entry {}: rules unreadable: {err}", e.seq))
                    })?;
                    published.insert(call.clone(), (parsed, sha));
                    // A publication (only possible before the first application) restarts
                    // the call's fold from its own budget.
                    events.remove(call.as_str());
                }
                if let Some(ev) = record.allocation_event() {
                    events
                        .entry(record.call().to_string())
                        .or_default()
                        .push((e.seq, ev));
                }
                if let Record::ApplicationSubmitted {
                    call,
                    seq,
                    protocol,
                    entity,
                    content_sha256,
                    requested_cents,
                    ..
                } = record
                {
                    submitted.entry(call).or_default().insert(
                        seq,
                        Submitted {
                            ledger_seq: e.seq,
                            protocol,
                            entity,
                            content_sha256,
                            requested: requested_cents,
                        },
                    );
                }
            }
            fold_logs.compare(self).await?;
        }
        fold_logs.finish()?;
        let (last_seq, last_hash) = chain.last();
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM ledger_head WHERE id = 1")
                .fetch_one(self.pool())
                .await?;
        if head_seq as u64 != last_seq || head_hash != last_hash {
            return Err(mismatch(format!(
                "ledger head says entry {head_seq}, the chain ends at {last_seq}"
            )));
        }

        tracing::debug!(entries = last_seq, took = ?started.elapsed(), "verify: the chain checked");
        after_review.check_store(self).await?;
        after_review.check_reports(self).await?;
        let calls = self.calls().await?;
        let mut applications = 0;
        for stored in &calls {
            let code = stored.call.code.as_str();
            let log = events.remove(code).unwrap_or_default();
            let Some((rules, sha)) = published.get(code) else {
                return Err(mismatch(format!(
                    "call {code}: no publication in the ledger"
                )));
            };
            if *sha != stored.rules_sha256 || rules != &stored.call {
                return Err(mismatch(format!(
                    "call {code}: the stored rules are not those of its last publication in the ledger"
                )));
            }
            let mut alloc = Allocation::new(rules.when_not_fits, rules.budget);
            for (seq, ev) in &log {
                alloc.apply(ev).map_err(|e| {
                    mismatch(format!(
                        "call {code}: ledger entry {seq} does not replay: {e}"
                    ))
                })?;
            }
            let counters = [
                ("budget", alloc.budget().cents(), stored.budget.cents()),
                (
                    "reserved",
                    alloc.reserved().cents(),
                    stored.reserved.cents(),
                ),
                (
                    "applications",
                    alloc.applications().len() as i64,
                    stored.applications,
                ),
                (
                    "waitlisted",
                    alloc.waitlisted_count() as i64,
                    stored.waitlisted,
                ),
            ];
            for (name, replayed, kept) in counters {
                if replayed != kept {
                    return Err(mismatch(format!(
                        "call {code}: {name} is {kept} but the replay gives {replayed}"
                    )));
                }
            }
            let expected = alloc.applications();
            let mut checked: usize = 0;
            let mut pages = self.application_pages(code);
            while let Some(rows) = pages.recv().await {
                let rows = rows?;
                let (rows, hashes) = tokio::task::spawn_blocking(move || {
                    let hashes = bandi_domain::parallel::map(&rows, threads, content_sha256);
                    (rows, hashes)
                })
                .await
                .map_err(|e| mismatch(format!("the contents' check stopped: {e}")))?;
                for (row, hash) in rows.iter().zip(hashes) {
                    let Some(standing) = expected.get(checked) else {
                        return Err(mismatch(format!(
                            "call {code}: more applications stored than the {} in the ledger",
                            expected.len()
                        )));
                    };
                    self.check_application(code, row, hash, standing, &submitted)
                        .await?;
                    after_review.check_application(code, row, standing)?;
                    checked += 1;
                }
            }
            if checked != expected.len() {
                return Err(mismatch(format!(
                    "call {code}: {checked} applications stored, {} in the ledger",
                    expected.len()
                )));
            }
            applications += checked as u64;
            tracing::debug!(call = code, checked, took = ?started.elapsed(), "verify: a call's applications checked");
        }
        if let Some(code) = events.keys().next() {
            return Err(mismatch(format!(
                "the ledger has events of an unknown call {code}"
            )));
        }
        Ok(VerifyReport {
            entries: last_seq,
            calls: calls.len(),
            applications,
            head_hash: last_hash.to_string(),
            fold_log_runs: fold_logs.runs,
        })
    }
    /// One stored application against the ledger entry that recorded it and its standing in
    /// the replayed allocation; its content against the SHA-256 the ledger sealed, and each
    /// attachment the content names against the stored bytes.
    async fn check_application(
        &self,
        code: &str,
        row: &StoredApplication,
        content_hash: String,
        expected: &AppAllocation,
        submitted: &HashMap<String, SubmittedOfCall>,
    ) -> Result<()> {
        let seq = row.seq;
        let at = || format!("call {code}, application {}", row.protocol);
        if seq != expected.seq {
            return Err(mismatch(format!(
                "{}: number {seq} where {} was expected (gap)",
                at(),
                expected.seq
            )));
        }
        let Some(rec) = submitted.get(code).and_then(|c| c.get(seq)) else {
            return Err(mismatch(format!("{}: no ledger entry recorded it", at())));
        };
        // Compared as they are, named and shown only when they differ (a million times
        // over, a `String` for each side was a part of verify's time).
        let differ = |name: &str, stored: &dyn std::fmt::Debug, ledger: &dyn std::fmt::Debug| {
            mismatch(format!(
                "{}: {name} is {stored:?} but the ledger gives {ledger:?}",
                at()
            ))
        };
        if row.protocol != rec.protocol {
            return Err(differ("protocol", &row.protocol, &rec.protocol));
        }
        if row.entity_code != rec.entity {
            return Err(differ("entity", &row.entity_code, &rec.entity));
        }
        if row.content_sha256 != rec.content_sha256 {
            return Err(differ(
                "content hash",
                &row.content_sha256,
                &rec.content_sha256,
            ));
        }
        if content_hash != rec.content_sha256 {
            return Err(differ("content", &content_hash, &rec.content_sha256));
        }
        if u64::try_from(row.ledger_seq).ok() != Some(rec.ledger_seq) {
            return Err(differ("ledger entry", &row.ledger_seq, &rec.ledger_seq));
        }
        if row.requested_cents != rec.requested.cents() {
            return Err(differ(
                "requested",
                &row.requested_cents,
                &rec.requested.cents(),
            ));
        }
        if row.reserved_cents != expected.reserved.cents() {
            return Err(differ(
                "reserved",
                &row.reserved_cents,
                &expected.reserved.cents(),
            ));
        }
        if row.status != expected.status.as_str() {
            return Err(differ("status", &row.status, &expected.status.as_str()));
        }
        // Contents without attachments do not name the key (their hash is as it always was).
        if row.content.contains("\"attachments\"") {
            let at = at();
            let stored: ApplicationContent = serde_json::from_str(&row.content)
                .map_err(|e| mismatch(format!("{at}: content does not read back: {e}")))?;
            for doc in stored.attachments {
                self.check_attachment(&at, &row.id, &rec.entity, code, &doc)
                    .await?;
            }
        }
        Ok(())
    }

    /// The bytes of a named attachment are stored, sealed to the application (the
    /// submission's own transaction sealed them), and hash to the SHA-256 the content
    /// names. Two applications of one entity naming the same bytes share one sealed copy.
    async fn check_attachment(
        &self,
        at: &str,
        application: &str,
        entity: &str,
        call: &str,
        doc: &AttachedDocument,
    ) -> Result<()> {
        let stored: Option<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, content FROM documents WHERE entity_code = $1 AND call_code = $2 \
             AND attachment_code = $3 AND sha256 = $4 AND application_id IS NOT NULL \
             ORDER BY CASE WHEN application_id = $5 THEN 0 ELSE 1 END, seq DESC LIMIT 1",
        )
        .bind(entity)
        .bind(call)
        .bind(&doc.code)
        .bind(&doc.sha256)
        .bind(application)
        .fetch_optional(self.pool())
        .await?;
        let Some((seq, legacy)) = stored else {
            return Err(mismatch(format!(
                "{at}: attachment {} is not stored and sealed (SHA-256 {})",
                doc.code, doc.sha256
            )));
        };
        let bytes = self.document_bytes(seq, legacy).await?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != doc.sha256 {
            return Err(mismatch(format!(
                "{at}: attachment {}: the stored bytes hash to {actual}, the content names {}",
                doc.code, doc.sha256
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(ledger_seq: u64) -> Submitted {
        Submitted {
            ledger_seq,
            protocol: String::new(),
            entity: String::new(),
            content_sha256: String::new(),
            requested: Money::ZERO,
        }
    }

    /// Whatever order the ledger gives, the call's applications read back as a map would
    /// give them: the last record of each number.
    #[test]
    fn applications_by_number_behave_as_a_map() {
        let orders: [&[u64]; 4] = [&[1, 2, 3, 4], &[1, 2, 2, 3], &[2, 1, 3], &[1, 3, 2, 0, 7]];
        for order in orders {
            let mut vec = SubmittedOfCall::default();
            let mut map = HashMap::new();
            for (i, &seq) in order.iter().enumerate() {
                vec.insert(seq, s(i as u64 + 10));
                map.insert(seq, i as u64 + 10);
            }
            for seq in 0..9 {
                assert_eq!(
                    vec.get(seq).map(|x| x.ledger_seq),
                    map.get(&seq).copied(),
                    "{order:?}, number {seq}"
                );
            }
        }
    }
}
