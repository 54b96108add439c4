//! What is decided and written for each accepted submission, shared by the sequencer and
//! the naive baseline: the new row, its ledger entry and receipt, the opening-window check
//! and the duplicate check by queries (the naive path's; the sequencer keeps its own index).

use bandi_domain::call::Call;
use bandi_domain::instant::{format_utc, from_micros};
use bandi_domain::ledger::{Entry, Record};
use bandi_domain::money::Money;
use sqlx::AnyConnection;

use super::{Accepted, IntakeError, Submission};
use crate::applications::{Previous, Receipt, previous_by_entity, previous_by_key};
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
    pub(crate) receipt: Receipt,
    pub(crate) entry: Entry,
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
    (content, sha): (String, String),
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
        // Time first, so that new ids land at the end of the primary-key index (one page
        // written per batch, not one per row); 64 random bits keep them unguessable.
        id: format!("{received_us:014x}{}", crate::random_hex(8)),
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
        content,
        requested,
        eligible: s.application.eligible_cost,
        idempotency_key: s.idempotency_key.clone(),
        receipt,
        entry,
    }
}
