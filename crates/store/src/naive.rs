//! The naive intake, kept only as the benchmarks' baseline: one transaction per request,
//! as a typical web application would write it. See [`crate::intake::Intake::start_naive`].

use bandi_domain::allocation::{Status, newcomer_standing};
use bandi_domain::call::Call;
use bandi_domain::instant::{from_micros, truncate_to_micros};
use bandi_domain::money::Money;
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::intake::{
    Accepted, Counters, IntakeError, Submission, answer, classify_from_db, new_application,
    write_batch,
};
use crate::{Backend, Result, Store, StoreError, ledger};

pub(crate) async fn submit(store: &Store, s: Submission) -> Result<Accepted, IntakeError> {
    let unavailable = |e: StoreError| IntakeError::Unavailable(e.to_string());
    let mut conn = store
        .pool()
        .acquire()
        .await
        .map_err(|e| unavailable(e.into()))?;
    match submit_in_one_transaction(store.backend(), &mut conn, &s, store.signer()).await {
        Ok(answer) => answer,
        Err(e) => {
            // As in the sequencer: a connection whose commit failed is not reused.
            conn.close_on_drop();
            Err(unavailable(e))
        }
    }
}

async fn submit_in_one_transaction(
    backend: Backend,
    conn: &mut AnyConnection,
    s: &Submission,
    signer: Option<&bandi_domain::proof::SigningKeyPair>,
) -> Result<Result<Accepted, IntakeError>> {
    let now = truncate_to_micros(Timestamp::now());
    let mut tx = crate::begin_write(conn, backend).await?;
    // The ledger head first, as every writer takes it: another order deadlocks with them.
    let mut head = ledger::lock_head(&mut tx).await?;
    if backend == Backend::Postgres {
        // The budget row lock of the textbook design.
        sqlx::query("SELECT code FROM calls WHERE code = $1 FOR UPDATE")
            .bind(&s.call)
            .execute(&mut *tx)
            .await?;
    }
    let Some(row) = sqlx::query(
        "SELECT rules, budget_cents, reserved_cents, applications, waitlisted, last_received_us \
         FROM calls WHERE code = $1",
    )
    .bind(&s.call)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(Err(IntakeError::CallNotFound));
    };
    let rules: String = row.try_get("rules")?;
    let call: Call = serde_json::from_str(&rules)
        .map_err(|e| StoreError::Corrupt(format!("rules of call {}: {e}", s.call)))?;
    let budget: i64 = row.try_get("budget_cents")?;
    let reserved: i64 = row.try_get("reserved_cents")?;
    let applications: i64 = row.try_get("applications")?;
    let waitlisted: i64 = row.try_get("waitlisted")?;
    let last_received_us: i64 = row.try_get("last_received_us")?;

    let (content, sha) = s.application.content.canonical_json_and_sha256();
    let decision = classify_from_db(
        &mut tx,
        (&s.call, &s.entity, s.idempotency_key.as_deref()),
        &sha,
        call.applications_per_entity,
        &[],
    )
    .await?;
    if let Some(answer) = answer(decision) {
        return Ok(answer);
    }
    let received_us = now.as_microsecond().max(last_received_us);
    // One request, one transaction: admitted when its transaction began.
    let admitted_us = now.as_microsecond().min(received_us);
    let admitted = from_micros(admitted_us).expect("an instant in range");
    if let Err(outside) = call.check_window(admitted) {
        return Ok(Err(IntakeError::OutsideWindow(outside)));
    }
    // The allocation from the counters alone, by the fold's own rule for a newcomer: the
    // same answers as the fold gives for a log of submissions, which is all this path
    // writes.
    let (status, granted) = newcomer_standing(
        call.when_not_fits,
        Money::from_cents(budget - reserved),
        waitlisted > 0,
        s.application.requested,
    );
    let granted = granted.cents();
    let seq = applications as u64 + 1;
    let mut new = new_application(
        &call,
        s,
        (content, sha),
        seq,
        (admitted_us, received_us),
        (status, Money::from_cents(granted)),
        &mut head,
    );
    let still_waiting = i64::from(status != Status::Reserved);
    crate::applications::sign_receipts(signer, std::iter::once(&mut new.receipt));
    // The same single write as the sequencer's, so that the baseline differs only in
    // taking one transaction (and one fsync) per request.
    let counters = Counters {
        code: &s.call,
        budget_cents: budget,
        reserved_cents: reserved + granted,
        applications: applications + 1,
        waitlisted: waitlisted + still_waiting,
        last_received_us: received_us,
        last_event_ledger_seq: new.entry.seq as i64,
    };
    write_batch(
        &mut tx,
        backend,
        std::slice::from_ref(&new),
        &[counters],
        &head,
        None,
    )
    .await?;
    let receipt = new.receipt.clone();
    tx.commit().await?;
    Ok(Ok(Accepted::Created(receipt)))
}
