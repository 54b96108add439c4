//! Runs of each call's fold log (migration 0021, [`bandi_domain::fold_log`]): written from
//! the ledger while the intake is idle, decoded by a starting sequencer instead of a
//! million JSON payloads, and encoded again from the ledger by `bandi verify`.

use std::collections::{HashMap, VecDeque};

use bandi_domain::fold_log::{self, FoldEntry};
use bandi_domain::ledger::Record;
use sqlx::AnyConnection;

use crate::verify::mismatch;
use crate::{Result, Store, StoreError, ledger};

/// Ledger entries of a call per run (about 1.1 MB of submissions): what a starting node
/// still reads as JSON after the last run is less than one run.
pub(crate) const ENTRIES_PER_RUN: u32 = 16_384;

/// One run: the fold's part of the call's ledger entries after the previous run's last up
/// to `last`.
pub(crate) struct Run {
    pub last: u64,
    pub entries: Vec<u8>,
}

/// The fold's parts of `records`, encoded.
fn encode(records: &[(u64, Record)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (seq, record) in records {
        if let Some(entry) = FoldEntry::of(*seq, record)? {
            fold_log::encode(&entry, &mut out)?;
        }
    }
    Ok(out)
}

impl Store {
    /// Writes the runs of `call`'s fold log that its ledger now fills, `per_run` of the
    /// call's ledger entries each, after the last run written, and returns how many.
    /// Idempotent, and safe on nodes doing it at once: a run is derived from the ledger
    /// alone, so a second copy is the same and is dropped.
    pub async fn write_fold_logs(&self, call: &str, per_run: u32) -> Result<usize> {
        self.write_fold_logs_while(call, per_run, || true).await
    }

    /// As [`Store::write_fold_logs`], asking `go_on` before each run.
    pub(crate) async fn write_fold_logs_while(
        &self,
        call: &str,
        per_run: u32,
        go_on: impl Fn() -> bool,
    ) -> Result<usize> {
        let per_run = i64::from(per_run.max(1));
        let mut written = 0;
        while go_on() {
            let mut conn = self.pool().acquire().await?;
            let after: Option<i64> =
                sqlx::query_scalar("SELECT MAX(last_seq) FROM fold_logs WHERE call_code = $1")
                    .bind(call)
                    .fetch_one(&mut *conn)
                    .await?;
            let after = after.unwrap_or(0);
            // The index answers whether a run is full before any payload is read: a call
            // short of one is asked again at every idle moment of the intake.
            let full: Option<i64> = sqlx::query_scalar(
                "SELECT seq FROM ledger WHERE call_code = $1 AND seq > $2 ORDER BY seq \
                 LIMIT 1 OFFSET $3",
            )
            .bind(call)
            .bind(after)
            .bind(per_run - 1)
            .fetch_optional(&mut *conn)
            .await?;
            if full.is_none() {
                return Ok(written);
            }
            let page = ledger::call_record_page(&mut conn, call, after as u64, per_run).await?;
            let Some(&(last, _)) = page.last().filter(|_| page.len() as i64 == per_run) else {
                return Ok(written);
            };
            let entries = tokio::task::spawn_blocking(move || encode(&page))
                .await
                .map_err(|e| StoreError::Corrupt(format!("fold log of call {call}: {e}")))??;
            let hash: String = sqlx::query_scalar("SELECT hash FROM ledger WHERE seq = $1")
                .bind(last as i64)
                .fetch_one(&mut *conn)
                .await?;
            drop(conn);
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO fold_logs (call_code, after_seq, last_seq, last_hash, entries) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (call_code, after_seq) DO NOTHING",
            )
            .bind(call)
            .bind(after)
            .bind(last as i64)
            .bind(hash)
            .bind(entries)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            written += 1;
        }
        Ok(written)
    }
}

/// The runs of `call`'s fold log from its first, contiguous, up to ledger entry `up_to`,
/// leaving out (with all after it) any whose last entry does not have the hash it names.
pub(crate) async fn runs(conn: &mut AnyConnection, call: &str, up_to: u64) -> Result<Vec<Run>> {
    let rows: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT f.after_seq, f.last_seq, f.entries FROM fold_logs f \
         JOIN ledger l ON l.seq = f.last_seq AND l.hash = f.last_hash \
         WHERE f.call_code = $1 AND f.last_seq <= $2 ORDER BY f.after_seq",
    )
    .bind(call)
    .bind(up_to as i64)
    .fetch_all(&mut *conn)
    .await?;
    let mut runs: Vec<Run> = Vec::new();
    for (after, last, entries) in rows {
        let (after, last) = (after as u64, last as u64);
        if after != runs.last().map_or(0, |r| r.last) || last <= after {
            break;
        }
        runs.push(Run { last, entries });
    }
    Ok(runs)
}

/// `bandi verify`'s check of the fold logs: fed every ledger entry in order, it encodes
/// each call's entries again over the span of each stored run and compares the bytes.
pub(crate) struct FoldLogCheck {
    /// Each call's runs not yet met in full: `(after, last, last_hash)`, in order.
    pending: HashMap<String, VecDeque<(u64, u64, String)>>,
    /// Each call's entries encoded since the start of its next run.
    encoded: HashMap<String, Vec<u8>>,
    /// Runs met in full, to compare with the stored bytes: `(call, after, encoded)`.
    met: Vec<(String, u64, Vec<u8>)>,
    pub runs: u64,
}

impl FoldLogCheck {
    pub(crate) async fn load(store: &Store) -> Result<FoldLogCheck> {
        let rows: Vec<(String, i64, i64, String)> = sqlx::query_as(
            "SELECT call_code, after_seq, last_seq, last_hash FROM fold_logs \
             ORDER BY call_code, after_seq",
        )
        .fetch_all(store.pool())
        .await?;
        let mut pending: HashMap<String, VecDeque<(u64, u64, String)>> = HashMap::new();
        for (call, after, last, hash) in rows {
            pending
                .entry(call)
                .or_default()
                .push_back((after as u64, last as u64, hash));
        }
        Ok(FoldLogCheck {
            pending,
            encoded: HashMap::new(),
            met: Vec::new(),
            runs: 0,
        })
    }

    /// Ledger entry `seq`, with its `hash` and its `record`.
    pub(crate) fn entry(&mut self, seq: u64, hash: &str, record: &Record) -> Result<()> {
        let call = record.call();
        let Some(runs) = self.pending.get_mut(call) else {
            return Ok(());
        };
        let Some((after, last, last_hash)) = runs.front() else {
            return Ok(());
        };
        if seq <= *after {
            return Ok(());
        }
        if seq > *last {
            return Err(mismatch(format!(
                "fold log of call {call}: its run after entry {after} ends on entry {last}, which is not one of the call's"
            )));
        }
        let out = self.encoded.entry(call.to_string()).or_default();
        if let Some(entry) = FoldEntry::of(seq, record)? {
            fold_log::encode(&entry, out)?;
        }
        if seq == *last {
            if hash != last_hash {
                return Err(mismatch(format!(
                    "fold log of call {call}: its run after entry {after} names a hash its last entry {last} does not have"
                )));
            }
            self.met
                .push((call.to_string(), *after, std::mem::take(out)));
            runs.pop_front();
        }
        Ok(())
    }

    /// Compares the runs met since the last call with their stored bytes.
    pub(crate) async fn compare(&mut self, store: &Store) -> Result<()> {
        for (call, after, encoded) in self.met.drain(..) {
            let stored: Vec<u8> = sqlx::query_scalar(
                "SELECT entries FROM fold_logs WHERE call_code = $1 AND after_seq = $2",
            )
            .bind(&call)
            .bind(after as i64)
            .fetch_one(store.pool())
            .await?;
            if stored != encoded {
                return Err(mismatch(format!(
                    "fold log of call {call}: its run after entry {after} is not what the ledger gives"
                )));
            }
            self.runs += 1;
        }
        Ok(())
    }

    /// After the last entry: a run not met in full ends past the ledger or off its call.
    pub(crate) fn finish(&self) -> Result<()> {
        for (call, runs) in &self.pending {
            if let Some((after, last, _)) = runs.front() {
                return Err(mismatch(format!(
                    "fold log of call {call}: its run after entry {after} ends on entry {last}, which is not one of the call's"
                )));
            }
        }
        Ok(())
    }
}
