//! The sequencer task: one per node, committing whatever is queued as one batch.
//!
//! In one transaction it locks the ledger head, brings its copy of each call's allocation
//! up to date with the ledger (other nodes may have appended), checks retries and
//! duplicates, numbers the submissions, folds them into the allocation, appends one ledger
//! entry each, writes the rows and counters, and commits. Only after the commit does any
//! request get its answer. If the commit fails nobody gets a receipt, and the cached
//! allocations are dropped and rebuilt from the database.
//!
//! The statements of a batch do not grow with its size: duplicates by entity are checked
//! against the call's index kept in memory (rebuilt from the ledger, like the allocation),
//! Idempotency-Keys with one query for the whole batch, and rows are written with
//! multi-row inserts. On SQLite every statement is a hand-off to sqlx's worker thread, on
//! PostgreSQL a round trip; both were the limit when the checks ran once per submission.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bandi_domain::allocation::Event;
use bandi_domain::call::Call;
use bandi_domain::instant::truncate_to_micros;
use bandi_domain::proof::SigningKeyPair;
use jiff::Timestamp;
use smallvec::SmallVec;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection};
use tokio::sync::{mpsc, oneshot};

use super::admission::Pressure;
use super::rows::{NewApplication, answer, new_application};
use super::seen::{Seen, Sha256};
use super::view::{CachedCall, Loaded, load_call};
use super::write::{Counters, write_batch};
use super::{Accepted, IntakeError, MAX_BATCH, Submission};
use crate::applications::{KeyedPrevious, Receipt, previous_by_keys, receipt_from_row};
use crate::{Backend, Result, Store, fold_logs, ledger};
use bandi_domain::retry::{KeyUse, Retry, classify};

type Answer = Result<Accepted, IntakeError>;

pub(super) struct Job {
    pub submission: Submission,
    /// The content's canonical JSON and its SHA-256 (hex): serialised once, by the request's
    /// task, not by the sequencer (whose time is everyone's).
    pub content: String,
    pub sha: String,
    pub queued_at: Instant,
    /// The admission instant (µs since the epoch): strictly increasing on this node, in the
    /// queue's order.
    pub admitted_us: i64,
    pub reply: oneshot::Sender<Result<Accepted, IntakeError>>,
}

/// What the sequencer keeps from one batch to the next.
#[derive(Default)]
struct State {
    cache: HashMap<String, CachedCall>,
    /// The head of the chain after this node's last commit.
    last_head: Option<ledger::Head>,
    /// The last batch found the chain where this node had left it: nobody else appends,
    /// so the next batch can be decided before any lock and written in one statement
    /// that checks the head has not moved ([`commit_solo`]).
    solo: bool,
    /// The writer's connection, kept from one batch to the next: returning it to the pool
    /// costs a ping, one more hand-off to SQLite's worker thread per batch.
    conn: Option<PoolConnection<Any>>,
}

impl State {
    /// Forgets everything, the connection included (closed, not returned to the pool).
    fn forget(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            conn.close_on_drop();
        }
        *self = State::default();
    }
}

/// How long the sequencer keeps the writer's connection without a batch to write.
const HOLD_IDLE: Duration = Duration::from_millis(200);

pub(super) async fn run(
    store: Store,
    seen: Arc<Seen>,
    pressure: Arc<Pressure>,
    (mut rx, loaded): (
        mpsc::Receiver<Job>,
        tokio::sync::watch::Sender<Option<Loaded>>,
    ),
) {
    let written = Arc::new(AtomicBool::new(false));
    let checkpointer = (store.backend() == Backend::Sqlite).then(|| {
        let (store, written) = (store.clone(), written.clone());
        tokio::spawn(async move { super::checkpoint::in_background(&store, &written).await })
    });
    let mut state = State::default();
    let report = match warm_up(&store, &seen, &mut state).await {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(error = %e, "calls not loaded at start: each loads at its first batch");
            state.forget();
            Loaded::default()
        }
    };
    let _ = loaded.send(Some(report));
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    // Fold logs are written while the intake is idle, once after any batch, and once after
    // the start: a node stopped in the middle of a rush, or a database older than the fold
    // logs, gets its runs at the first idle moment, not at the next submission.
    let mut folding: Option<tokio::task::JoinHandle<()>> = None;
    let mut unfolded = true;
    loop {
        if rx.is_empty() {
            pressure.idle();
        }
        // The connection goes back to the pool once the intake is idle for a while, so
        // that closing the store (or a restarted database) never waits on a held one.
        let received =
            match tokio::time::timeout(HOLD_IDLE, rx.recv_many(&mut jobs, MAX_BATCH)).await {
                Ok(n) => n,
                Err(_) => {
                    state.conn = None;
                    if unfolded && folding.as_ref().is_none_or(|f| f.is_finished()) {
                        unfolded = false;
                        let calls = state.cache.keys().cloned().collect();
                        let (store, pressure) = (store.clone(), pressure.clone());
                        folding = Some(tokio::spawn(write_fold_logs(store, calls, pressure)));
                    }
                    rx.recv_many(&mut jobs, MAX_BATCH).await
                }
            };
        if received == 0 {
            if let Some(c) = &checkpointer {
                c.abort();
            }
            if let Some(f) = &folding {
                f.abort();
            }
            break;
        }
        let batch: Vec<Job> = std::mem::take(&mut jobs);
        let oldest = batch.iter().map(|j| j.queued_at).min();
        pressure.batch_started(oldest.map_or(Duration::ZERO, |t| t.elapsed()));
        let committed = commit_batch(&store, &seen, &mut state, &batch).await;
        pressure.batch_ended();
        match committed {
            Ok(outcomes) => {
                written.store(true, Ordering::Relaxed);
                unfolded = true;
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, size = batch.len(), "batch not committed");
                state.forget();
                for job in batch {
                    let _ = job.reply.send(Err(IntakeError::Unavailable(e.to_string())));
                }
            }
        }
    }
}

/// Writes the runs of the calls' fold logs that their ledgers now fill
/// ([`crate::fold_logs`]), and stops as soon as a batch comes: a run parses thousands of
/// payloads on every core.
async fn write_fold_logs(store: Store, calls: Vec<String>, pressure: Arc<Pressure>) {
    let idle = || !pressure.busy_within(HOLD_IDLE);
    // The runs read the ledger the rush has just grown.
    store.refresh_stale_statistics(&["ledger"]).await;
    for code in calls {
        match store
            .write_fold_logs_while(&code, fold_logs::ENTRIES_PER_RUN, idle)
            .await
        {
            Ok(0) => tracing::debug!(call = %code, "fold log up to date"),
            Ok(runs) => tracing::info!(call = %code, runs, "fold log written"),
            Err(e) => tracing::warn!(call = %code, error = %e, "fold log not written"),
        }
    }
}

/// How often the checkpointer copies the WAL into the database file.
/// Loads every call still to close, before the first batch: otherwise the first submission
/// after a restart waits while its call's allocation is rebuilt from the ledger (seconds,
/// for a call of a million applications). Read without the lock, in one snapshot: the
/// first batch then takes the locked path, which only folds in what was appended since.
async fn warm_up(store: &Store, seen: &Seen, state: &mut State) -> Result<Loaded> {
    // A ledger grown by a click day since PostgreSQL last analysed it is read page by page
    // in time that grows with the square of the call (`Store::refresh_stale_statistics`).
    store.refresh_stale_statistics(&["ledger"]).await;
    let mut loaded = Loaded::default();
    let now = Timestamp::now();
    let mut conn = store.pool().acquire().await?;
    let mut tx = conn.begin().await?;
    let calls: Vec<(String, String)> =
        sqlx::query_as("SELECT code, rules FROM calls ORDER BY code")
            .fetch_all(&mut *tx)
            .await?;
    for (code, rules) in calls {
        // A closed call's ledger is not replayed only to be dropped.
        let open = serde_json::from_str::<Call>(&rules).is_ok_and(|c| c.closes_at > now);
        if open && let Some(c) = load_call(&mut tx, seen, None, &code, &mut loaded).await? {
            state.cache.insert(code, c);
        }
    }
    tx.rollback().await?;
    loaded.calls = state.cache.len();
    tracing::info!(
        calls = loaded.calls,
        from_fold_log = loaded.from_fold_log,
        from_ledger = loaded.from_ledger,
        "calls still to close loaded"
    );
    Ok(loaded)
}

/// Commits one batch on the writer's connection. If anything fails, the connection is
/// closed rather than returned to the pool: after a failed COMMIT, sqlx's count of open
/// transactions may no longer match the database's (SQLite rolls back by itself on a full
/// disk; sqlx's ROLLBACK then fails and it still counts one), and a connection reused in
/// that state "commits" every later batch as a RELEASE SAVEPOINT inside a transaction that
/// never ends: receipts for nothing durable. A new connection starts clean.
async fn commit_batch(
    store: &Store,
    seen: &Seen,
    state: &mut State,
    batch: &[Job],
) -> Result<Vec<Answer>> {
    // In turn with this process's other writers (see `Store::write_turn`).
    let _turn = store.write_turn().await;
    let mut conn = match state.conn.take() {
        Some(conn) => conn,
        None => store.writer().acquire().await?,
    };
    let backend = store.backend();
    let mut outcome = Ok(None);
    if state.solo
        && let Some(expected) = state.last_head.clone()
    {
        outcome = commit_solo(
            &mut conn,
            backend,
            seen,
            state,
            batch,
            expected,
            store.signer(),
        )
        .await;
    }
    let outcome = match outcome {
        Ok(Some(answers)) => Ok(answers),
        // Not tried, or another writer moved the head: take the lock and catch up.
        Ok(None) => commit_locked(&mut conn, backend, seen, state, batch, store.signer()).await,
        Err(e) => Err(e),
    };
    match &outcome {
        Ok(_) => state.conn = Some(conn),
        Err(_) => conn.close_on_drop(),
    }
    outcome
}

/// The path when this node is the only writer: the batch is decided on what the node
/// already knows, then written in one statement that applies only if the head of the
/// chain is still where this node's last commit left it. A moved head means another writer
/// appended: nothing is written, the calls involved are dropped from the cache (they
/// reload from the ledger), and `None` sends the batch down the locked path.
async fn commit_solo(
    conn: &mut AnyConnection,
    backend: Backend,
    seen: &Seen,
    state: &mut State,
    batch: &[Job],
    expected: ledger::Head,
    signer: Option<&SigningKeyPair>,
) -> Result<Option<Vec<Answer>>> {
    let now = truncate_to_micros(Timestamp::now());
    let t0 = Instant::now();
    // A call this node has not loaded yet is loaded under the lock.
    if batch
        .iter()
        .any(|j| !state.cache.contains_key(&j.submission.call))
    {
        return Ok(None);
    }
    let mut working: HashMap<String, CachedCall> = HashMap::new();
    for job in batch {
        let code = &job.submission.call;
        if let Some(c) = state.cache.remove(code) {
            working.insert(code.clone(), c);
        }
    }
    let mut head = expected.clone();
    let t1 = t0.elapsed();
    let (outcomes, rows) = decide(conn, &mut working, &mut head, now, batch, signer).await?;
    let t2 = t0.elapsed();
    let counters = counters_of(&working, &rows);
    let written = write_batch(conn, backend, &rows, &counters, &head, Some(&expected)).await?;
    let t3 = t0.elapsed();
    if !written {
        tracing::debug!("another writer appended: batch retried under the lock");
        state.solo = false;
        return Ok(None);
    }
    trace_batch("solo", batch.len(), rows.len(), [t1, t2, t3, t3]);
    finish(seen, state, working, &rows, head, true);
    Ok(Some(outcomes))
}

/// The path whenever another writer may have appended: lock the head, catch up with the
/// ledger, decide, write, commit.
async fn commit_locked(
    conn: &mut AnyConnection,
    backend: Backend,
    seen: &Seen,
    state: &mut State,
    batch: &[Job],
    signer: Option<&SigningKeyPair>,
) -> Result<Vec<Answer>> {
    let t0 = Instant::now();
    let mut tx = crate::begin_write(conn, backend).await?;
    let mut head = ledger::lock_head(&mut tx).await?;
    // The instant after the lock: entries stay in time order with every other writer's.
    let now = truncate_to_micros(Timestamp::now());
    let alone = state.last_head.as_ref() == Some(&head);

    // Work on copies: the cache changes only once the commit has succeeded.
    let mut working: HashMap<String, CachedCall> = HashMap::new();
    for job in batch {
        let code = &job.submission.call;
        if !working.contains_key(code)
            && let Some(c) = load_call(
                &mut tx,
                seen,
                state.cache.remove(code),
                code,
                &mut Loaded::default(),
            )
            .await?
        {
            working.insert(code.clone(), c);
        }
    }
    let t1 = t0.elapsed();
    let (outcomes, rows) = decide(&mut tx, &mut working, &mut head, now, batch, signer).await?;
    let t2 = t0.elapsed();
    if !rows.is_empty() {
        let counters = counters_of(&working, &rows);
        write_batch(&mut tx, backend, &rows, &counters, &head, None).await?;
    }
    let t3 = t0.elapsed();
    tx.commit().await?;
    trace_batch(
        "locked",
        batch.len(),
        rows.len(),
        [t1, t2, t3, t0.elapsed()],
    );
    finish(seen, state, working, &rows, head, alone);
    Ok(outcomes)
}

/// Where a batch's time went, for profiling (`RUST_LOG=bandi_store=debug`): loaded,
/// decided, written, committed, each since the start.
fn trace_batch(path: &str, size: usize, created: usize, t: [Duration; 4]) {
    tracing::debug!(path, size, created, lock_and_load = ?t[0], decided = ?t[1],
        written = ?t[2], committed = ?t[3], "batch");
}

/// After a commit: the node's knowledge moves forward.
fn finish(
    seen: &Seen,
    state: &mut State,
    working: HashMap<String, CachedCall>,
    rows: &[NewApplication],
    head: ledger::Head,
    solo: bool,
) {
    for r in rows {
        seen.insert(&r.call, &r.entity, &r.content_sha256);
    }
    state.cache.extend(working);
    state.last_head = Some(head);
    state.solo = solo;
}

/// Decides every submission of the batch in order, against the calls in `working` and the
/// committed applications with the batch's Idempotency-Keys; `head` advances with each
/// new application's ledger entry.
async fn decide(
    conn: &mut AnyConnection,
    working: &mut HashMap<String, CachedCall>,
    head: &mut ledger::Head,
    now: Timestamp,
    batch: &[Job],
    signer: Option<&SigningKeyPair>,
) -> Result<(Vec<Answer>, Vec<NewApplication>)> {
    let keys: Vec<(&str, &str)> = batch
        .iter()
        .filter_map(|j| {
            let s = &j.submission;
            s.idempotency_key.as_deref().map(|k| (s.entity.as_str(), k))
        })
        .collect();
    let mut checks = Checks {
        by_key: previous_by_keys(conn, &keys).await?,
        rows: Vec::new(),
        keys_in_batch: HashMap::new(),
    };
    // The documents the batch's contents name must still be there to be sealed (a
    // removal only marks them, so this fails only for one gone for an hour).
    let named: Vec<(&str, &str, &str, &str)> = batch
        .iter()
        .flat_map(|j| {
            let s = &j.submission;
            s.application.content.attachments.iter().map(move |a| {
                (
                    s.entity.as_str(),
                    s.call.as_str(),
                    a.code.as_str(),
                    a.sha256.as_str(),
                )
            })
        })
        .collect();
    let present = if named.is_empty() {
        Default::default()
    } else {
        crate::documents::unsealed_present(conn, &named).await?
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        let Some(c) = working.get_mut(&job.submission.call) else {
            outcomes.push(Err(IntakeError::CallNotFound));
            continue;
        };
        let s = &job.submission;
        if let Some(gone) = s.application.content.attachments.iter().find(|a| {
            !present.contains(&(
                s.entity.clone(),
                s.call.clone(),
                a.code.clone(),
                a.sha256.clone(),
            ))
        }) {
            outcomes.push(Err(IntakeError::DocumentMissing {
                attachment: gone.code.clone(),
            }));
            continue;
        }
        match sequence_one(conn, c, head, now, job, &checks).await? {
            Ok(new) => {
                outcomes.push(Ok(Accepted::Created(new.receipt.clone())));
                checks.push(new);
            }
            Err(answer) => outcomes.push(answer),
        }
    }
    // One signature for the batch's receipts, before they are written and answered.
    let mut rows = checks.rows;
    if signer.is_some() && !rows.is_empty() {
        crate::applications::sign_receipts(signer, rows.iter_mut().map(|r| &mut r.receipt));
        let signed: HashMap<&str, &Receipt> =
            rows.iter().map(|r| (r.id.as_str(), &r.receipt)).collect();
        for outcome in &mut outcomes {
            if let Ok(Accepted::Created(r) | Accepted::Replayed(r)) = outcome
                && let Some(s) = signed.get(r.id.as_str())
            {
                *r = (*s).clone();
            }
        }
    }
    Ok((outcomes, rows))
}

/// The counters of each call that has new applications in `rows`.
fn counters_of<'a>(
    working: &'a HashMap<String, CachedCall>,
    rows: &[NewApplication],
) -> Vec<Counters<'a>> {
    working
        .iter()
        .filter(|(code, _)| rows.iter().any(|r| r.call == **code))
        .map(|(code, c)| {
            let a = &c.allocation;
            Counters {
                code,
                budget_cents: a.budget().cents(),
                reserved_cents: a.reserved().cents(),
                applications: a.applications().len() as i64,
                waitlisted: a.waitlisted_count() as i64,
                last_received_us: c.last_received_us,
                last_event_ledger_seq: c.applied_ledger_seq as i64,
            }
        })
        .collect()
}

/// What the duplicate checks of a batch read besides the call's index: the committed
/// applications with the batch's Idempotency-Keys, and what this batch accepted so far.
struct Checks {
    by_key: HashMap<(String, String), KeyedPrevious>,
    rows: Vec<NewApplication>,
    /// `(entity, key)` → index in `rows`.
    keys_in_batch: HashMap<(String, String), usize>,
}

impl Checks {
    fn push(&mut self, new: NewApplication) {
        if let Some(key) = &new.idempotency_key {
            self.keys_in_batch
                .insert((new.entity.clone(), key.clone()), self.rows.len());
        }
        self.rows.push(new);
    }

    /// `(call, content_sha256, receipt)` of the application that used this entity's key.
    fn by_key(&self, entity: &str, key: &str) -> Result<Option<(String, String, Receipt)>> {
        let k = (entity.to_string(), key.to_string());
        if let Some(&i) = self.keys_in_batch.get(&k) {
            let r = &self.rows[i];
            return Ok(Some((
                r.call.clone(),
                r.content_sha256.clone(),
                r.receipt.clone(),
            )));
        }
        self.by_key
            .get(&k)
            .map(|p| Ok((p.call.clone(), p.sha.clone(), p.receipt.clone())))
            .transpose()
    }

    /// The receipt of application `seq` of `call`: from this batch, or from the database
    /// (only for a retry or a refusal, never for a first submission).
    async fn receipt(&self, conn: &mut AnyConnection, call: &str, seq: u64) -> Result<Receipt> {
        if let Some(r) = self.rows.iter().find(|r| r.call == call && r.seq == seq) {
            return Ok(r.receipt.clone());
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            receipt_columns!(),
            " FROM ",
            applications_with_receipts!(),
            " WHERE call_code = $1 AND seq = $2"
        ))
        .bind(call)
        .bind(seq as i64)
        .fetch_one(&mut *conn)
        .await?;
        receipt_from_row(&row)
    }
}

/// Decides one submission inside the batch: a retry, a refusal, or a new application
/// numbered and folded into the call's allocation.
async fn sequence_one(
    conn: &mut AnyConnection,
    c: &mut CachedCall,
    head: &mut ledger::Head,
    now: Timestamp,
    job: &Job,
    checks: &Checks,
) -> Result<std::result::Result<NewApplication, Answer>> {
    let s = &job.submission;
    let digest = Sha256::from_hex(&job.sha).expect("a SHA-256 computed by this process");
    if let Some(answer) = check_previous(conn, c, s, &job.sha, digest, checks).await? {
        return Ok(Err(answer));
    }
    let received_us = now.as_microsecond().max(c.last_received_us);
    // The window is judged at admission: a request admitted before the closing counts even
    // if its batch commits just after.
    let admitted = bandi_domain::instant::from_micros(job.admitted_us).expect("an instant");
    if let Err(outside) = c.call.check_window(admitted) {
        return Ok(Err(Err(IntakeError::OutsideWindow(outside))));
    }
    let seq = c.allocation.next_seq();
    let requested = s.application.requested;
    if let Err(e) = c.allocation.apply(&Event::Submitted { seq, requested }) {
        return Ok(Err(Err(IntakeError::Refused(e.to_string()))));
    }
    let standing = *c.allocation.get(seq).expect("just applied");
    let new = new_application(
        &c.call,
        s,
        (job.content.clone(), job.sha.clone()),
        seq,
        (job.admitted_us.min(received_us), received_us),
        (standing.status, standing.reserved),
        head,
    );
    c.record(&s.entity, seq, digest);
    c.applied_ledger_seq = new.entry.seq;
    c.last_received_us = received_us;
    Ok(Ok(new))
}

/// A retry (the first receipt) or a duplicate (a refusal), if this submission is one: the
/// rule of `bandi_domain::retry`, read from the batch's indexes.
async fn check_previous(
    conn: &mut AnyConnection,
    c: &CachedCall,
    s: &Submission,
    sha: &str,
    digest: Sha256,
    checks: &Checks,
) -> Result<Option<Answer>> {
    let by_key = match &s.idempotency_key {
        Some(key) => checks
            .by_key(&s.entity, key)?
            .map(|(call, psha, receipt)| KeyUse {
                same_call_and_content: call == s.call && psha == sha,
                earlier: receipt,
            }),
        None => None,
    };
    let earlier = c
        .by_entity
        .get(&s.entity)
        .map(SmallVec::as_slice)
        .unwrap_or(&[]);
    let decision = classify(
        by_key.map(|k| KeyUse {
            same_call_and_content: k.same_call_and_content,
            earlier: Earlier::Known(Box::new(k.earlier)),
        }),
        earlier
            .iter()
            .map(|(seq, d)| (*d == digest, Earlier::Seq(*seq))),
        c.call.applications_per_entity,
    );
    // Only a refusal or a retry needs the earlier receipt, read then.
    let decision = match decision {
        Retry::New => Retry::New,
        Retry::Replay(e) => Retry::Replay(e.receipt(conn, checks, &s.call).await?),
        Retry::KeyReused(e) => Retry::KeyReused(e.receipt(conn, checks, &s.call).await?),
        Retry::AlreadyApplied(e) => Retry::AlreadyApplied(e.receipt(conn, checks, &s.call).await?),
    };
    Ok(answer(decision))
}

/// An earlier application as the sequencer knows it: with its receipt at hand, or only its
/// number in the call.
enum Earlier {
    Known(Box<Receipt>),
    Seq(u64),
}

impl Earlier {
    async fn receipt(
        self,
        conn: &mut AnyConnection,
        checks: &Checks,
        call: &str,
    ) -> Result<Receipt> {
        match self {
            Earlier::Known(r) => Ok(*r),
            Earlier::Seq(seq) => checks.receipt(conn, call, seq).await,
        }
    }
}
