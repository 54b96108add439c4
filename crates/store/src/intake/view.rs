//! This node's view of a call: its allocation and its index of applications by entity,
//! folded from the call's ledger (or first from its fold log, [`super::from_fold_log`]) and
//! brought up to date under the lock by the sequencer.

use std::collections::HashMap;
use std::sync::Arc;

use bandi_domain::allocation::Allocation;
use bandi_domain::call::Call;
use bandi_domain::fold_log::{Fact, FoldEntry};
use bandi_domain::ledger::Record;
use smallvec::{SmallVec, smallvec};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::from_fold_log::fold_from_runs;
use super::seen::{Seen, Sha256};
use crate::{Result, StoreError, ledger};

/// What this node knows of a call, and up to which ledger entry.
pub(super) struct CachedCall {
    pub(super) rules_sha256: String,
    pub(super) call: Arc<Call>,
    pub(super) allocation: Allocation,
    pub(super) applied_ledger_seq: u64,
    pub(super) last_received_us: i64,
    pub(super) by_entity: ByEntity,
}

/// Folds one ledger entry's event into a call's allocation.
pub(super) fn apply(allocation: &mut Allocation, entry: &FoldEntry) -> Result<()> {
    allocation.apply(&entry.fact.event()).map_err(|e| {
        StoreError::Corrupt(format!(
            "ledger entry {} does not replay: {e}",
            entry.ledger_seq
        ))
    })
}

/// Adds application `seq` of `entity` to the index; an owned code is moved in, a borrowed
/// one copied only for an entity not there yet.
pub(super) fn index(
    by_entity: &mut ByEntity,
    entity: impl AsRef<str> + Into<String>,
    seq: u64,
    sha: Sha256,
) {
    match by_entity.get_mut(entity.as_ref()) {
        Some(list) => list.push((seq, sha)),
        None => {
            by_entity.insert(entity.into(), smallvec![(seq, sha)]);
        }
    }
}

/// Every application of a call by entity, `(seq, content SHA-256)`, oldest first. One
/// application for nearly every entity: kept inline, without an allocation each.
pub(super) type ByEntity = HashMap<String, SmallVec<[(u64, Sha256); 1]>>;

impl CachedCall {
    /// Folds ledger entry `seq` of this call in.
    pub(super) fn fold(
        &mut self,
        seen: &Seen,
        code: &str,
        seq: u64,
        record: &Record,
    ) -> Result<()> {
        if let Some(entry) = FoldEntry::of(seq, record)? {
            self.fold_entry(seen, code, entry)?;
        }
        self.applied_ledger_seq = seq;
        Ok(())
    }

    /// Folds the fold's part of one ledger entry in: its allocation event, and the entity's
    /// application if it is one.
    fn fold_entry(&mut self, seen: &Seen, code: &str, entry: FoldEntry) -> Result<()> {
        apply(&mut self.allocation, &entry)?;
        self.applied_ledger_seq = entry.ledger_seq;
        if let Fact::Submitted {
            seq,
            entity,
            content_sha256,
            ..
        } = entry.fact
        {
            let digest = Sha256(content_sha256);
            seen.insert_digest(code, &entity, &digest);
            index(&mut self.by_entity, entity, seq, digest);
        }
        Ok(())
    }

    /// The call's counters as its row keeps them equal what this view folded.
    fn matches(&self, row: &AnyRow) -> Result<bool> {
        let a = &self.allocation;
        Ok(row.try_get::<i64, _>("budget_cents")? == a.budget().cents()
            && row.try_get::<i64, _>("reserved_cents")? == a.reserved().cents()
            && row.try_get::<i64, _>("applications")? == a.applications().len() as i64
            && row.try_get::<i64, _>("waitlisted")? == a.waitlisted_count() as i64)
    }

    pub(super) fn record(&mut self, entity: &str, seq: u64, sha: Sha256) {
        index(&mut self.by_entity, entity, seq, sha);
    }
}

/// Where a loaded call's view came from: ledger entries decoded from its fold log, and
/// those read from the ledger itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loaded {
    pub calls: usize,
    pub from_fold_log: u64,
    pub from_ledger: u64,
}

/// This node's view of a call, brought up to date with the ledger under the lock. A view
/// built from nothing starts from the call's fold log, if it has one, and reads the ledger
/// only after it; a fold log that does not replay, or does not give the counters the call's
/// row keeps, is set aside and the ledger read from its start.
pub(super) async fn load_call(
    conn: &mut AnyConnection,
    seen: &Seen,
    cached: Option<CachedCall>,
    code: &str,
    loaded: &mut Loaded,
) -> Result<Option<CachedCall>> {
    let Some(row) = sqlx::query(
        "SELECT rules, rules_sha256, last_event_ledger_seq, last_received_us, budget_cents, \
         reserved_cents, applications, waitlisted FROM calls WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let sha: String = row.try_get("rules_sha256")?;
    let last_event = row.try_get::<i64, _>("last_event_ledger_seq")? as u64;
    let last_received_us: i64 = row.try_get("last_received_us")?;
    let fresh = || -> Result<CachedCall> {
        let rules: String = row.try_get("rules")?;
        let call: Call = serde_json::from_str(&rules)
            .map_err(|e| StoreError::Corrupt(format!("rules of call {code}: {e}")))?;
        Ok(CachedCall {
            rules_sha256: sha.clone(),
            allocation: Allocation::new(call.when_not_fits, call.budget),
            call: Arc::new(call),
            applied_ledger_seq: 0,
            last_received_us,
            by_entity: HashMap::new(),
        })
    };
    let mut c = match cached {
        Some(c) if c.rules_sha256 == sha => c,
        _ => fresh()?,
    };
    if c.applied_ledger_seq != last_event {
        let mut from_fold_log = 0;
        if c.applied_ledger_seq == 0 {
            let expected = row.try_get::<i64, _>("applications")?.max(0) as usize;
            match fold_from_runs(conn, seen, code, &mut c, (last_event, expected)).await {
                Ok(n) => from_fold_log = n,
                Err(e) => {
                    tracing::warn!(call = code, error = %e, "fold log set aside: the ledger is read");
                    c = fresh()?;
                }
            }
        }
        // Another node (or an official's action) appended events since: fold them in.
        let mut from_ledger = catch_up(conn, seen, code, &mut c).await?;
        if from_fold_log > 0 && !c.matches(&row)? {
            tracing::warn!(
                call = code,
                "fold log set aside: its counters are not the call's; the ledger is read"
            );
            (from_fold_log, c) = (0, fresh()?);
            from_ledger = catch_up(conn, seen, code, &mut c).await?;
        }
        loaded.from_fold_log += from_fold_log;
        loaded.from_ledger += from_ledger;
        c.last_received_us = last_received_us;
    }
    Ok(Some(c))
}

/// Folds the call's ledger entries after the view's last in; returns how many.
async fn catch_up(
    conn: &mut AnyConnection,
    seen: &Seen,
    code: &str,
    c: &mut CachedCall,
) -> Result<u64> {
    let mut folded = 0;
    let after = c.applied_ledger_seq;
    ledger::call_record_pages(conn, code, after, ledger::RECORDS_PER_QUERY, |page| {
        for (seq, record) in page {
            c.fold(seen, code, seq, &record)?;
            folded += 1;
        }
        Ok(())
    })
    .await?;
    Ok(folded)
}
