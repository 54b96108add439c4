//! `bandi verify`: the chain checks, every call's allocation replays from its events to
//! what is stored, and every application matches the ledger entry that recorded it.

use std::collections::HashMap;

use bandi_domain::allocation::{Allocation, AppAllocation, Event};
use bandi_domain::application::{ApplicationContent, AttachedDocument};
use bandi_domain::call::Call;
use bandi_domain::ledger::{ChainVerifier, Record};
use bandi_domain::money::Money;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

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

/// Applications read per query: a call of a million is never held in memory whole.
const APPLICATIONS_PER_QUERY: i64 = 10_000;
const LEDGER_PER_QUERY: u32 = 5_000;
/// Pages read ahead of the one being checked.
const PAGES_AHEAD: usize = 2;

/// The SHA-256 (hex) of a stored application's content.
fn content_sha256(row: &AnyRow) -> Result<String> {
    let content: &str = row.try_get("content")?;
    Ok(hex::encode(Sha256::digest(content.as_bytes())))
}

pub(crate) fn mismatch(msg: String) -> StoreError {
    StoreError::Corrupt(msg)
}

impl Store {
    /// Pages read in order by `page(store, after)` (which gives a page and the key of its
    /// last item, `after` starting at 0) on a task of their own, [`PAGES_AHEAD`] ahead of
    /// the reader; the first error ends them.
    fn prefetch<T, F, Fut>(&self, page: F) -> tokio::sync::mpsc::Receiver<Result<Vec<T>>>
    where
        T: Send + 'static,
        F: Fn(Store, u64) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(Vec<T>, Option<u64>)>> + Send,
    {
        let (tx, rx) = tokio::sync::mpsc::channel(PAGES_AHEAD);
        let store = self.clone();
        tokio::spawn(async move {
            let mut after = 0;
            loop {
                let (send, next) = match page(store.clone(), after).await {
                    Ok((items, _)) if items.is_empty() => return,
                    Ok((items, next)) => (Ok(items), next),
                    Err(e) => (Err(e), None),
                };
                if tx.send(send).await.is_err() {
                    return;
                }
                match next {
                    Some(n) => after = n,
                    None => return,
                }
            }
        });
        rx
    }

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
        // The next page is read while this one is checked, its hashes on every core.
        let mut pages = self.prefetch(|store, after| async move {
            let page = store.ledger_page(after, LEDGER_PER_QUERY).await?;
            let next = page.last().map(|e| e.seq);
            Ok((page, next))
        });
        while let Some(page) = pages.recv().await {
            let page = page?;
            let (checked, records, page) = tokio::task::spawn_blocking(move || {
                let records = chain.check_run(&page, threads);
                (chain, records, page)
            })
            .await
            .map_err(|e| mismatch(format!("the chain's check stopped: {e}")))?;
            chain = checked;
            let records = records.map_err(|err| mismatch(err.to_string()))?;
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
            let call = code.to_string();
            let mut pages = self.prefetch(move |store, after| {
                let call = call.clone();
                async move {
                    let rows = sqlx::query(
                        "SELECT id, seq, protocol, entity_code, content_sha256, content, requested_cents, \
                         reserved_cents, status, ledger_seq, review_state, cup, current_eligible_cents, \
                         current_requested_cents FROM applications \
                         WHERE call_code = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    )
                    .bind(&call)
                    .bind(after as i64)
                    .bind(APPLICATIONS_PER_QUERY)
                    .fetch_all(store.pool())
                    .await?;
                    let next = match rows.last() {
                        Some(r) => Some(r.try_get::<i64, _>("seq")? as u64),
                        None => None,
                    };
                    Ok((rows, next))
                }
            });
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
                    self.check_application(code, row, hash?, standing, &submitted)
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
        row: &AnyRow,
        content_hash: String,
        expected: &AppAllocation,
        submitted: &HashMap<String, SubmittedOfCall>,
    ) -> Result<()> {
        let seq = row.try_get::<i64, _>("seq")? as u64;
        let protocol: String = row.try_get("protocol")?;
        let at = format!("call {code}, application {protocol}");
        if seq != expected.seq {
            return Err(mismatch(format!(
                "{at}: number {seq} where {} was expected (gap)",
                expected.seq
            )));
        }
        let Some(rec) = submitted.get(code).and_then(|c| c.get(seq)) else {
            return Err(mismatch(format!("{at}: no ledger entry recorded it")));
        };
        let content: &str = row.try_get("content")?;
        let checks = [
            ("protocol", protocol.clone(), rec.protocol.clone()),
            ("entity", row.try_get("entity_code")?, rec.entity.clone()),
            (
                "content hash",
                row.try_get("content_sha256")?,
                rec.content_sha256.clone(),
            ),
            ("content", content_hash, rec.content_sha256.clone()),
            (
                "ledger entry",
                row.try_get::<i64, _>("ledger_seq")?.to_string(),
                rec.ledger_seq.to_string(),
            ),
            (
                "requested",
                row.try_get::<i64, _>("requested_cents")?.to_string(),
                rec.requested.cents().to_string(),
            ),
            (
                "reserved",
                row.try_get::<i64, _>("reserved_cents")?.to_string(),
                expected.reserved.cents().to_string(),
            ),
            (
                "status",
                row.try_get("status")?,
                expected.status.as_str().to_string(),
            ),
        ];
        for (name, stored_value, ledger_value) in checks {
            if stored_value != ledger_value {
                return Err(mismatch(format!(
                    "{at}: {name} is {stored_value:?} but the ledger gives {ledger_value:?}"
                )));
            }
        }
        // Contents without attachments do not name the key (their hash is as it always was).
        if content.contains("\"attachments\"") {
            let stored: ApplicationContent = serde_json::from_str(content)
                .map_err(|e| mismatch(format!("{at}: content does not read back: {e}")))?;
            let id: String = row.try_get("id")?;
            for doc in stored.attachments {
                self.check_attachment(&at, &id, &rec.entity, code, &doc)
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
