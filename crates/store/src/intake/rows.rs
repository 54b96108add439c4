//! What is decided and written for each accepted submission, shared by the sequencer and
//! the naive baseline: the new row, its ledger entry and receipt; and the retry rule
//! (`bandi_domain::retry`) fed from the database, for the naive path and for a request
//! that may be a retry before it enters the queue.

use bandi_domain::allocation::Status;
use bandi_domain::application::AttachedDocument;
use bandi_domain::call::Call;
use bandi_domain::instant::{format_utc, from_micros};
use bandi_domain::ledger::{Entry, Record};
use bandi_domain::money::Money;
use bandi_domain::notice::Notice;
use bandi_domain::retry::{KeyUse, Retry, classify};
use sqlx::AnyConnection;

use super::{Accepted, IntakeError, Submission};

use crate::applications::{Receipt, previous_by_entity, previous_by_key};
use crate::{Result, ledger};

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
    /// The documents its content names: sealed to it in the same transaction.
    pub(crate) attachments: Vec<AttachedDocument>,
    /// The receipt's notice to the entity, written in the same transaction.
    pub(crate) notice: Notice,
    pub(crate) receipt: Receipt,
    pub(crate) entry: Entry,
}

/// What the retry rule decided, as an answer: `None` for a new submission.
pub(crate) fn answer(decision: Retry<Receipt>) -> Option<Result<Accepted, IntakeError>> {
    match decision {
        Retry::Replay(r) => Some(Ok(Accepted::Replayed(r))),
        Retry::KeyReused(r) => Some(Err(IntakeError::IdempotencyConflict {
            protocol: r.protocol,
        })),
        Retry::AlreadyApplied(r) => Some(Err(IntakeError::AlreadyApplied {
            protocol: r.protocol,
        })),
        Retry::New => None,
    }
}

/// The retry rule with the earlier applications read from the database: what `s`
/// repeats, if anything. Under the ledger lock (the naive path) the answer is final; without
/// it (a request before the queue) only a replay is trusted, the rest is decided again
/// under the lock. `earlier_in_batch` holds what the same transaction accepted before.
pub(crate) async fn classify_from_db(
    conn: &mut AnyConnection,
    (call, entity, key): (&str, &str, Option<&str>),
    sha: &str,
    limit: u32,
    earlier_in_batch: &[NewApplication],
) -> Result<Retry<Receipt>> {
    let mut by_key = None;
    if let Some(key) = key {
        let in_batch = earlier_in_batch
            .iter()
            .find(|r| r.entity == entity && r.idempotency_key.as_deref() == Some(key))
            .map(|r| (r.call.clone(), r.content_sha256.clone(), r.receipt.clone()));
        let found = match in_batch {
            Some(p) => Some(p),
            None => previous_by_key(conn, entity, key).await?,
        };
        by_key = found.map(|(pcall, psha, receipt)| KeyUse {
            same_call_and_content: pcall == call && psha == sha,
            earlier: receipt,
        });
    }
    let mut earlier = Vec::new();
    if by_key.is_none() {
        earlier = previous_by_entity(conn, call, entity).await?;
        earlier.extend(
            earlier_in_batch
                .iter()
                .filter(|r| r.call == call && r.entity == entity)
                .map(|r| (r.content_sha256.clone(), r.receipt.clone())),
        );
    }
    Ok(classify(
        by_key,
        earlier.into_iter().map(|(psha, r)| (psha == sha, r)),
        limit,
    ))
}

/// Numbers an accepted submission: its protocol, ledger entry (sealed after `head`) and
/// receipt, with the standing the allocation gave it.
pub(crate) fn new_application(
    call: &Call,
    s: &Submission,
    (content, sha): (String, String),
    seq: u64,
    (admitted_us, received_us): (i64, i64),
    standing: (Status, Money),
    head: &mut ledger::Head,
) -> NewApplication {
    let received = from_micros(received_us).expect("an instant within range");
    let admitted = from_micros(admitted_us).expect("an instant within range");
    let protocol = call.protocol(seq, received);
    let requested = s.application.requested;
    let record = Record::ApplicationSubmitted {
        call: s.call.clone(),
        seq,
        protocol: protocol.clone(),
        entity: s.entity.clone(),
        admitted_at: format_utc(admitted),
        received_at: format_utc(received),
        content_sha256: sha.clone(),
        requested_cents: requested,
    };
    let prev_hash = head.hash.clone();
    let entry = ledger::seal(head, received, &record);
    let notice = bandi_domain::notice::received(
        &bandi_domain::notice::About {
            call_title: &call.title.it,
            protocol: &protocol,
            entity_name: &s.entity_name,
        },
        &call.local_time(received),
        requested,
    );
    let receipt = Receipt {
        // Time first, so that new ids land at the end of the primary-key index (one page
        // written per batch, not one per row); 64 random bits keep them unguessable.
        id: format!("{received_us:014x}{}", crate::random_hex(8)),
        call: s.call.clone(),
        entity: s.entity.clone(),
        protocol: protocol.clone(),
        seq,
        admitted_at: format_utc(admitted),
        received_at: format_utc(received),
        content_sha256: sha.clone(),
        ledger_seq: entry.seq,
        ledger_prev_hash: prev_hash,
        ledger_hash: entry.hash.clone(),
        status: standing.0,
        total_cost_cents: s.application.total_cost,
        eligible_cost_cents: s.application.eligible_cost,
        requested_cents: requested,
        reserved_cents: standing.1,
        notices: s.application.notices.clone(),
        key_id: None,
        signature: None,
        batch: None,
    };
    NewApplication {
        id: receipt.id.clone(),
        call: s.call.clone(),
        seq,
        protocol,
        entity: s.entity.clone(),
        received_us,
        content_sha256: sha,
        content,
        requested,
        eligible: s.application.eligible_cost,
        idempotency_key: s.idempotency_key.clone(),
        attachments: s.application.content.attachments.clone(),
        notice,
        receipt,
        entry,
    }
}
