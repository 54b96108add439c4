//! The click-day intake: validated submissions numbered in order of arrival, durable before
//! anyone is answered. [`Intake::start`] runs this node's [`sequencer`] (group commit);
//! [`Intake::start_naive`] is the one-transaction-per-request baseline of the benchmarks.

mod admission;
mod checkpoint;
mod from_fold_log;
mod rows;
mod seen;
mod sequencer;
mod view;
mod write;

use std::sync::Arc;
use std::time::Duration;

use bandi_domain::application::ValidApplication;
use bandi_domain::call::OutsideWindow;
use bandi_domain::retry::Retry;
use tokio::sync::{mpsc, oneshot};

use admission::Pressure;
pub use admission::{InFlight, MAX_IN_FLIGHT_PER_ENTITY, MAX_QUEUE_DELAY, Slot};
pub(crate) use rows::{answer, classify_from_db, new_application};
use seen::Seen;
use sequencer::Job;
pub use view::Loaded;
pub(crate) use write::{Counters, RECEIPT_NOTICE_PREFIX, ledger_insert, ledger_rows, write_batch};

use crate::applications::Receipt;
use crate::{Result, Store, StoreError};

/// Largest number of submissions committed in one transaction. Everyone in a batch waits for
/// all of it to be written: on SQLite about 50-70 µs a row here, so 128 rows keep that wait
/// under about 10 ms, while the fixed cost of a commit (its fsync, about 0.3 ms) stays a few
/// percent of it. At 512, a batch under ten times the sustainable load took some 35 ms, and
/// the admitted requests' median wait with it; at 64 clients batches hold about 27 anyway.
pub const MAX_BATCH: usize = 128;

/// A validated application on its way to be numbered.
#[derive(Debug, Clone)]
pub struct Submission {
    pub call: String,
    pub entity: String,
    /// How the receipt's notice addresses the entity.
    pub entity_name: String,
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
    #[error("outside the call's window: {0:?}")]
    OutsideWindow(OutsideWindow),
    #[error("attachment {attachment} is no longer in the draft")]
    DocumentMissing { attachment: String },
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

/// The handle requests use; cheap to clone.
#[derive(Clone)]
pub struct Intake {
    store: Store,
    mode: Mode,
    by_entity: Arc<InFlight>,
    pressure: Arc<Pressure>,
    max_queue_delay: Duration,
    /// Filled by the sequencer only: the naive baseline checks everything in its transaction.
    seen: Arc<Seen>,
    /// True once the sequencer has loaded the calls still to close (at once for the naive).
    calls_loaded: tokio::sync::watch::Receiver<Option<Loaded>>,
    /// The last admission instant given (µs): each next one is later, and the queue gets
    /// the submissions in the order of their instants (both under this lock).
    admission: Arc<std::sync::Mutex<i64>>,
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
        let seen = Arc::new(Seen::default());
        let pressure = Arc::new(Pressure::default());
        let (loaded, calls_loaded) = tokio::sync::watch::channel(None);
        tokio::spawn(sequencer::run(
            store.clone(),
            seen.clone(),
            pressure.clone(),
            (rx, loaded),
        ));
        Intake {
            store,
            mode: Mode::Sequencer(tx),
            calls_loaded,
            by_entity: InFlight::new(MAX_IN_FLIGHT_PER_ENTITY),
            pressure,
            max_queue_delay: MAX_QUEUE_DELAY,
            seen,
            admission: Arc::default(),
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
            by_entity: InFlight::new(MAX_IN_FLIGHT_PER_ENTITY),
            pressure: Arc::default(),
            max_queue_delay: MAX_QUEUE_DELAY,
            seen: Arc::default(),
            calls_loaded: tokio::sync::watch::channel(Some(Loaded::default())).1,
            admission: Arc::default(),
        }
    }

    /// Waits until the sequencer has loaded the calls still to close (or given up on it):
    /// what else a starting server loads waits for this, since the first submission does.
    pub async fn calls_loaded(&self) {
        self.loaded().await;
    }

    /// Waits as [`Intake::calls_loaded`] does, and tells where the calls' views came from.
    pub async fn loaded(&self) -> Loaded {
        let mut loaded = self.calls_loaded.clone();
        match loaded.wait_for(|done| done.is_some()).await {
            Ok(report) => report.unwrap_or_default(),
            Err(_) => Loaded::default(),
        }
    }

    /// Sets how long the oldest queued submission may wait before new ones are turned
    /// away (default [`MAX_QUEUE_DELAY`]).
    pub fn with_max_queue_delay(mut self, delay: Duration) -> Intake {
        self.max_queue_delay = delay;
        self
    }

    /// Admission at the door, before the request's body costs any CPU: refuses at once when
    /// the sequencer is behind by more than its maximum queue delay or its queue is full
    /// (`Overloaded`). Limits per client address are the HTTP layer's (it knows who the
    /// client is).
    pub fn admit(&self) -> Result<(), IntakeError> {
        self.check_pressure()
    }

    fn check_pressure(&self) -> Result<(), IntakeError> {
        match &self.mode {
            Mode::Sequencer(queue)
                if queue.capacity() == 0
                    || self.pressure.queue_delay() > self.max_queue_delay
                    || self.pressure.standing_delay() > self.max_queue_delay / 5 =>
            {
                Err(IntakeError::Overloaded)
            }
            _ => Ok(()),
        }
    }

    /// Submissions were committed in the last `window`: background writers (the outbox)
    /// then leave the database's one writer to the intake.
    pub fn busy_within(&self, window: Duration) -> bool {
        self.pressure.busy_within(window)
    }

    pub async fn submit(&self, submission: Submission) -> Result<Accepted, IntakeError> {
        let (content, sha) = submission.application.content.canonical_json_and_sha256();
        // Only what this node has seen committed can be a retry worth a query here.
        if self
            .seen
            .contains(&submission.call, &submission.entity, &sha)
            && let Some(receipt) = self
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
            .by_entity
            .take(&submission.entity)
            .ok_or(IntakeError::TooManyInFlight)?;
        self.check_pressure()?;
        let queue = match &self.mode {
            Mode::Sequencer(queue) => queue,
            Mode::Naive => return crate::naive::submit(&self.store, submission).await,
        };
        let (reply, answer) = oneshot::channel();
        {
            // The instant and the place in the queue are given together: the order of the
            // queue is the order of the admission instants.
            let mut last = self.admission.lock().unwrap_or_else(|e| e.into_inner());
            let admitted_us = crate::now_us().max(*last + 1);
            *last = admitted_us;
            queue
                .try_send(Job {
                    submission,
                    content,
                    sha,
                    queued_at: std::time::Instant::now(),
                    admitted_us,
                    reply,
                })
                .map_err(|e| match e {
                    mpsc::error::TrySendError::Full(_) => IntakeError::Overloaded,
                    mpsc::error::TrySendError::Closed(_) => {
                        IntakeError::Unavailable("the sequencer stopped".into())
                    }
                })?;
        }
        answer
            .await
            .map_err(|_| IntakeError::Unavailable("the sequencer stopped".into()))?
    }

    /// The receipt of an already committed submission that this one repeats (by the retry
    /// rule of `bandi_domain::retry`), looked up without entering the queue. Retries are
    /// answered this way even once the call has closed: whoever got no answer on the last
    /// second can still fetch the receipt. Conflicts and per-entity limits are decided
    /// under the lock, not here.
    pub async fn previous_receipt(
        &self,
        call: &str,
        entity: &str,
        key: Option<&str>,
        content_sha256: &str,
    ) -> Result<Option<Receipt>, IntakeError> {
        let mut conn = self
            .store
            .pool()
            .acquire()
            .await
            .map_err(|e| unavailable(e.into()))?;
        // Any earlier application may be the one repeated: no per-entity limit here.
        let decision = classify_from_db(&mut conn, (call, entity, key), content_sha256, 0, &[])
            .await
            .map_err(unavailable)?;
        Ok(match decision {
            Retry::Replay(r) => Some(r),
            _ => None,
        })
    }
}

fn unavailable(e: StoreError) -> IntakeError {
    IntakeError::Unavailable(e.to_string())
}
