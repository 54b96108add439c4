//! The click-day intake sequencer.
//!
//! Requests are validated by the caller outside any lock, then queued here. One task per
//! node takes whatever is queued (up to [`MAX_BATCH`]), and in **one transaction**: locks the
//! ledger head, brings its copy of each call's allocation up to date with the ledger (other
//! nodes may have appended), checks retries and duplicates, numbers the submissions, folds
//! them into the allocation, appends one ledger entry each, writes the rows and counters,
//! and commits. Only after the commit does any request get its answer. If the commit fails
//! nobody gets a receipt, and the cached allocations are dropped and rebuilt from the
//! database.

use std::collections::HashMap;
use std::sync::Arc;

use bandi_domain::allocation::Allocation;
use bandi_domain::application::ValidApplication;
use bandi_domain::call::Call;
use bandi_domain::instant::{format_utc, from_micros, truncate_to_micros};
use bandi_domain::ledger::{Entry, Record};
use bandi_domain::money::Money;
use jiff::Timestamp;
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Row};
use tokio::sync::{mpsc, oneshot};

use crate::applications::{Previous, Receipt, previous_by_entity, previous_by_key};
use crate::{Result, Store, StoreError, ledger};

/// Largest number of submissions committed in one transaction.
pub const MAX_BATCH: usize = 512;

/// A validated application on its way to be numbered.
#[derive(Debug, Clone)]
pub struct Submission {
    pub call: String,
    pub entity: String,
    pub idempotency_key: Option<String>,
    pub application: ValidApplication,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// A new application: answer 201.
    Created(Receipt),
    /// A retry of one already accepted: the first receipt, answer 200.
    Replayed(Receipt),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error("unknown call")]
    CallNotFound,
    #[error("the call opens at {opens_at}")]
    NotOpenYet {
        opens_at: Timestamp,
        server_time: Timestamp,
    },
    #[error("the call closed at {closes_at}")]
    Closed {
        closes_at: Timestamp,
        server_time: Timestamp,
    },
    #[error("this entity already applied: {protocol}")]
    AlreadyApplied { protocol: String },
    #[error("this Idempotency-Key was used for different content: {protocol}")]
    IdempotencyConflict { protocol: String },
    #[error("too many submissions queued")]
    Overloaded,
    #[error("too many submissions of this entity in flight")]
    TooManyInFlight,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("refused by the allocation: {0}")]
    Refused(String),
}

struct Job {
    submission: Submission,
    reply: oneshot::Sender<Result<Accepted, IntakeError>>,
}

/// The handle requests use; cheap to clone.
#[derive(Clone)]
pub struct Intake {
    store: Store,
    mode: Mode,
    in_flight: Arc<InFlight>,
}

/// Submissions of one entity in the queue or being committed. Each entity needs one
/// application; the limit leaves room for retries and keeps any one entity from taking
/// more than its share of the queue.
pub const MAX_IN_FLIGHT_PER_ENTITY: usize = 16;

#[derive(Default)]
struct InFlight(std::sync::Mutex<HashMap<String, usize>>);

/// A slot held until the submission has its answer.
struct Slot<'a> {
    in_flight: &'a InFlight,
    entity: String,
}

impl InFlight {
    fn take(&self, entity: &str) -> Option<Slot<'_>> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(entity.to_string()).or_default();
        if *n >= MAX_IN_FLIGHT_PER_ENTITY {
            return None;
        }
        *n += 1;
        Some(Slot {
            in_flight: self,
            entity: entity.to_string(),
        })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut map = self.in_flight.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.entity) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.entity);
            }
        }
    }
}

#[derive(Clone)]
enum Mode {
    /// Group commit through this node's sequencer task.
    Sequencer(mpsc::Sender<Job>),
    /// One transaction per request: the baseline the benchmarks compare against.
    Naive,
}

impl Intake {
    /// Starts the sequencer task; `queue_capacity` bounds the submissions waiting for it,
    /// beyond which [`IntakeError::Overloaded`] answers at once.
    pub fn start(store: Store, queue_capacity: usize) -> Intake {
        let (tx, rx) = mpsc::channel(queue_capacity.max(1));
        tokio::spawn(run(store.clone(), rx));
        Intake {
            store,
            mode: Mode::Sequencer(tx),
            in_flight: Arc::default(),
        }
    }

    /// The naive design, for benchmarks only: every request runs its own transaction that
    /// locks the call's row, reads its counters, checks, inserts and updates, then commits
    /// (one fsync per request). It keeps every rule (same ledger, same numbering), so
    /// `verify` passes on what it writes; it is just slower.
    pub fn start_naive(store: Store) -> Intake {
        Intake {
            store,
            mode: Mode::Naive,
            in_flight: Arc::default(),
        }
    }

    pub async fn submit(&self, submission: Submission) -> Result<Accepted, IntakeError> {
        let sha = submission.application.content.sha256_hex();
        if let Some(receipt) = self
            .previous_receipt(
                &submission.call,
                &submission.entity,
                submission.idempotency_key.as_deref(),
                &sha,
            )
            .await?
        {
            return Ok(Accepted::Replayed(receipt));
        }
        let _slot = self
            .in_flight
            .take(&submission.entity)
            .ok_or(IntakeError::TooManyInFlight)?;
        let queue = match &self.mode {
            Mode::Sequencer(queue) => queue,
            Mode::Naive => return crate::naive::submit(&self.store, submission).await,
        };
        let (reply, answer) = oneshot::channel();
        queue
            .try_send(Job { submission, reply })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => IntakeError::Overloaded,
                mpsc::error::TrySendError::Closed(_) => {
                    IntakeError::Unavailable("the sequencer stopped".into())
                }
            })?;
        answer
            .await
            .map_err(|_| IntakeError::Unavailable("the sequencer stopped".into()))?
    }

    /// The receipt of an already committed submission that this one repeats (same
    /// Idempotency-Key and content, or same entity and content without a key), looked up
    /// without entering the queue. Retries are answered this way even once the call has
    /// closed: whoever got no answer on the last second can still fetch the receipt.
    pub async fn previous_receipt(
        &self,
        call: &str,
        entity: &str,
        key: Option<&str>,
        content_sha256: &str,
    ) -> Result<Option<Receipt>, IntakeError> {
        let limit = 1; // any earlier application of the entity may be the one repeated
        let previous = self
            .store
            .previous(call, entity, key, limit)
            .await
            .map_err(unavailable)?;
        Ok(match previous {
            Some(Previous::ByKey(pcall, psha, receipt))
                if pcall == call && psha == content_sha256 =>
            {
                Some(*receipt)
            }
            Some(Previous::ByEntity(list)) if key.is_none() => list
                .into_iter()
                .find(|(psha, _)| psha == content_sha256)
                .map(|(_, r)| r),
            // Conflicts and per-entity limits are decided under the lock.
            _ => None,
        })
    }
}

fn unavailable(e: StoreError) -> IntakeError {
    IntakeError::Unavailable(e.to_string())
}

/// What this node knows of a call's allocation, and up to which ledger entry.
struct CachedCall {
    rules_sha256: String,
    call: Arc<Call>,
    allocation: Allocation,
    applied_ledger_seq: u64,
    last_received_us: i64,
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    let mut cache: HashMap<String, CachedCall> = HashMap::new();
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let batch: Vec<Job> = std::mem::take(&mut jobs);
        let submissions: Vec<&Submission> = batch.iter().map(|j| &j.submission).collect();
        match commit_batch(&store, &mut cache, &submissions).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, size = batch.len(), "batch not committed");
                cache.clear();
                for job in batch {
                    let _ = job.reply.send(Err(IntakeError::Unavailable(e.to_string())));
                }
            }
        }
    }
}

/// Everything a batch decides about one submission before it is written.
pub(crate) struct NewApplication {
    pub(crate) id: String,
    pub(crate) call: String,
    pub(crate) seq: u64,
    pub(crate) protocol: String,
    pub(crate) entity: String,
    pub(crate) received_us: i64,
    pub(crate) content_sha256: String,
    pub(crate) content: String,
    pub(crate) requested: Money,
    pub(crate) eligible: Money,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) receipt: Receipt,
    pub(crate) entry: Entry,
}

/// Commits one batch on the writer's connection. If anything fails, the connection is
/// closed rather than returned to the pool: after a failed COMMIT, sqlx's count of open
/// transactions may no longer match the database's (SQLite rolls back by itself on a full
/// disk; sqlx's ROLLBACK then fails and it still counts one), and a connection reused in
/// that state "commits" every later batch as a RELEASE SAVEPOINT inside a transaction that
/// never ends: receipts for nothing durable. A new connection starts clean.
async fn commit_batch(
    store: &Store,
    cache: &mut HashMap<String, CachedCall>,
    batch: &[&Submission],
) -> Result<Vec<Result<Accepted, IntakeError>>> {
    let mut conn = store.writer().acquire().await?;
    let outcome = commit_batch_on(&mut conn, cache, batch).await;
    if outcome.is_err() {
        conn.close_on_drop();
    }
    outcome
}

async fn commit_batch_on(
    conn: &mut AnyConnection,
    cache: &mut HashMap<String, CachedCall>,
    batch: &[&Submission],
) -> Result<Vec<Result<Accepted, IntakeError>>> {
    let now = truncate_to_micros(Timestamp::now());
    let mut tx = conn.begin().await?;
    let mut head = ledger::lock_head(&mut tx).await?;

    // Work on copies: the cache changes only once the commit has succeeded.
    let mut working: HashMap<String, CachedCall> = HashMap::new();
    for s in batch {
        if !working.contains_key(&s.call)
            && let Some(c) = load_call(&mut tx, cache.remove(&s.call), &s.call).await?
        {
            working.insert(s.call.clone(), c);
        }
    }

    let mut outcomes = Vec::with_capacity(batch.len());
    let mut rows: Vec<NewApplication> = Vec::new();
    for s in batch {
        let Some(c) = working.get_mut(&s.call) else {
            outcomes.push(Err(IntakeError::CallNotFound));
            continue;
        };
        match sequence_one(&mut tx, c, &mut head, now, s, &rows).await? {
            Ok(new) => {
                outcomes.push(Ok(Accepted::Created(new.receipt.clone())));
                rows.push(new);
            }
            Err(answer) => outcomes.push(answer),
        }
    }
    if !rows.is_empty() {
        let entries: Vec<Entry> = rows.iter().map(|r| r.entry.clone()).collect();
        ledger::insert(&mut tx, &entries, &head).await?;
        insert_applications(&mut tx, &rows).await?;
        for (code, c) in &working {
            if rows.iter().any(|r| r.call == *code) {
                update_counters(&mut tx, code, c).await?;
            }
        }
    }
    tx.commit().await?;
    cache.extend(working);
    Ok(outcomes)
}

/// This node's view of a call, brought up to date with the ledger under the lock.
async fn load_call(
    conn: &mut AnyConnection,
    cached: Option<CachedCall>,
    code: &str,
) -> Result<Option<CachedCall>> {
    let Some(row) = sqlx::query(
        "SELECT rules, rules_sha256, last_event_ledger_seq, last_received_us FROM calls WHERE code = $1",
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
    let mut c = match cached {
        Some(c) if c.rules_sha256 == sha => c,
        _ => {
            let rules: String = row.try_get("rules")?;
            let call: Call = serde_json::from_str(&rules)
                .map_err(|e| StoreError::Corrupt(format!("rules of call {code}: {e}")))?;
            CachedCall {
                rules_sha256: sha,
                allocation: Allocation::new(call.when_not_fits, call.budget),
                call: Arc::new(call),
                applied_ledger_seq: 0,
                last_received_us,
            }
        }
    };
    if c.applied_ledger_seq != last_event {
        // Another node (or an official's action) appended events since: fold them in.
        for (seq, record) in ledger::call_records_after(conn, code, c.applied_ledger_seq).await? {
            if let Some(event) = record.allocation_event() {
                c.allocation.apply(&event).map_err(|e| {
                    StoreError::Corrupt(format!("ledger entry {seq} does not replay: {e}"))
                })?;
            }
            c.applied_ledger_seq = seq;
        }
        c.last_received_us = last_received_us;
    }
    Ok(Some(c))
}

pub(crate) async fn insert_applications(
    conn: &mut AnyConnection,
    rows: &[NewApplication],
) -> Result<()> {
    for chunk in rows.chunks(200) {
        let sql = ledger::multi_row_insert(
            "INSERT INTO applications (id, call_code, seq, protocol, entity_code, received_us, \
             content_sha256, content, requested_cents, eligible_cost_cents, reserved_cents, status, \
             ledger_seq, idempotency_key, receipt) VALUES ",
            15,
            chunk.len(),
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(r.id.clone())
                .bind(r.call.clone())
                .bind(r.seq as i64)
                .bind(r.protocol.clone())
                .bind(r.entity.clone())
                .bind(r.received_us)
                .bind(r.content_sha256.clone())
                .bind(r.content.clone())
                .bind(r.requested.cents())
                .bind(r.eligible.cents())
                .bind(r.receipt.reserved_cents.cents())
                .bind(r.receipt.status.clone())
                .bind(r.entry.seq as i64)
                .bind(r.idempotency_key.clone())
                .bind(serde_json::to_string(&r.receipt).expect("receipts serialise"));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn update_counters(conn: &mut AnyConnection, code: &str, c: &CachedCall) -> Result<()> {
    let a = &c.allocation;
    sqlx::query(
        "UPDATE calls SET budget_cents = $1, reserved_cents = $2, applications = $3, waitlisted = $4, \
         last_received_us = $5, last_event_ledger_seq = $6 WHERE code = $7",
    )
    .bind(a.budget().cents())
    .bind(a.reserved().cents())
    .bind(a.applications().len() as i64)
    .bind(a.waitlisted_count() as i64)
    .bind(c.last_received_us)
    .bind(c.applied_ledger_seq as i64)
    .bind(code)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

type Decided = std::result::Result<NewApplication, Result<Accepted, IntakeError>>;

/// Decides one submission inside the batch: a retry, a refusal, or a new application
/// numbered and folded into the call's allocation.
async fn sequence_one(
    conn: &mut AnyConnection,
    c: &mut CachedCall,
    head: &mut ledger::Head,
    now: Timestamp,
    s: &Submission,
    earlier_in_batch: &[NewApplication],
) -> Result<Decided> {
    let sha = s.application.content.sha256_hex();
    let limit = c.call.applications_per_entity;
    if let Some(answer) = check_previous(conn, s, &sha, limit, earlier_in_batch).await? {
        return Ok(Err(answer));
    }
    let received_us = now.as_microsecond().max(c.last_received_us);
    if let Some(refusal) = check_window(&c.call, received_us) {
        return Ok(Err(Err(refusal)));
    }
    let seq = c.allocation.next_seq();
    let requested = s.application.requested;
    if let Err(e) = c
        .allocation
        .apply(&bandi_domain::allocation::Event::Submitted { seq, requested })
    {
        return Ok(Err(Err(IntakeError::Refused(e.to_string()))));
    }
    let standing = *c.allocation.get(seq).expect("just applied");
    let new = new_application(
        &c.call,
        s,
        sha,
        seq,
        received_us,
        (standing.status, standing.reserved),
        head,
    );
    c.applied_ledger_seq = new.entry.seq;
    c.last_received_us = received_us;
    Ok(Ok(new))
}

/// A retry (the first receipt) or a duplicate (a refusal), if this submission is one.
/// Runs under the ledger lock; `earlier_in_batch` holds what this transaction accepted.
pub(crate) async fn check_previous(
    conn: &mut AnyConnection,
    s: &Submission,
    sha: &str,
    limit: u32,
    earlier_in_batch: &[NewApplication],
) -> Result<Option<Result<Accepted, IntakeError>>> {
    if let Some(key) = &s.idempotency_key {
        let in_batch = earlier_in_batch
            .iter()
            .find(|r| r.entity == s.entity && r.idempotency_key.as_deref() == Some(key))
            .map(|r| (r.call.clone(), r.content_sha256.clone(), r.receipt.clone()));
        let previous = match in_batch {
            Some(p) => Some(p),
            None => match previous_by_key(conn, &s.entity, key).await? {
                Some(Previous::ByKey(call, psha, receipt)) => Some((call, psha, *receipt)),
                _ => None,
            },
        };
        if let Some((call, psha, receipt)) = previous {
            return Ok(Some(if call == s.call && psha == sha {
                Ok(Accepted::Replayed(receipt))
            } else {
                Err(IntakeError::IdempotencyConflict {
                    protocol: receipt.protocol,
                })
            }));
        }
    }
    // Without a key, the same content again is a retry of the one with that content,
    // whatever the call's limit (as `Intake::previous_receipt` answers once committed).
    if limit > 0 || s.idempotency_key.is_none() {
        let Previous::ByEntity(mut list) = previous_by_entity(conn, &s.call, &s.entity).await?
        else {
            unreachable!("previous_by_entity returns ByEntity")
        };
        list.extend(
            earlier_in_batch
                .iter()
                .filter(|r| r.call == s.call && r.entity == s.entity)
                .map(|r| (r.content_sha256.clone(), r.receipt.clone())),
        );
        if s.idempotency_key.is_none()
            && let Some((_, receipt)) = list.iter().find(|(psha, _)| psha == sha)
        {
            return Ok(Some(Ok(Accepted::Replayed(receipt.clone()))));
        }
        if limit > 0 && list.len() >= limit as usize {
            return Ok(Some(Err(IntakeError::AlreadyApplied {
                protocol: list[0].1.protocol.clone(),
            })));
        }
    }
    Ok(None)
}

/// Retries were answered before this; a new application must arrive in time.
pub(crate) fn check_window(call: &Call, received_us: i64) -> Option<IntakeError> {
    let received = from_micros(received_us)?;
    if received < call.opens_at {
        Some(IntakeError::NotOpenYet {
            opens_at: call.opens_at,
            server_time: received,
        })
    } else if received >= call.closes_at {
        Some(IntakeError::Closed {
            closes_at: call.closes_at,
            server_time: received,
        })
    } else {
        None
    }
}

/// Numbers an accepted submission: its protocol, ledger entry (sealed after `head`) and
/// receipt, with the standing the allocation gave it.
pub(crate) fn new_application(
    call: &Call,
    s: &Submission,
    sha: String,
    seq: u64,
    received_us: i64,
    standing: (bandi_domain::allocation::Status, Money),
    head: &mut ledger::Head,
) -> NewApplication {
    let received = from_micros(received_us).expect("an instant within range");
    let protocol = call.protocol(seq, received);
    let requested = s.application.requested;
    let record = Record::ApplicationSubmitted {
        call: s.call.clone(),
        seq,
        protocol: protocol.clone(),
        entity: s.entity.clone(),
        received_at: format_utc(received),
        content_sha256: sha.clone(),
        requested_cents: requested,
    };
    let entry = ledger::seal(head, received, &record);
    let receipt = Receipt {
        id: crate::random_hex(16),
        call: s.call.clone(),
        entity: s.entity.clone(),
        protocol: protocol.clone(),
        seq,
        received_at: format_utc(received),
        content_sha256: sha.clone(),
        ledger_seq: entry.seq,
        ledger_hash: entry.hash.clone(),
        status: standing.0.as_str().to_string(),
        total_cost_cents: s.application.total_cost,
        eligible_cost_cents: s.application.eligible_cost,
        requested_cents: requested,
        reserved_cents: standing.1,
        notices: s.application.notices.clone(),
    };
    NewApplication {
        id: receipt.id.clone(),
        call: s.call.clone(),
        seq,
        protocol,
        entity: s.entity.clone(),
        received_us,
        content_sha256: sha,
        content: s.application.content.canonical_json(),
        requested,
        eligible: s.application.eligible_cost,
        idempotency_key: s.idempotency_key.clone(),
        receipt,
        entry,
    }
}
