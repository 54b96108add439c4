//! A call's fold log (migration 0021): a node restarting on a call decodes its runs instead
//! of the ledger's JSON and carries on exactly as if it had read the ledger; a run that is
//! not what the ledger gives is set aside at start and found by `verify`.

use bandi_domain::fold_log::{self, Fact};
use bandi_domain::money::Money;
use bandi_store::intake::{Accepted, Intake, IntakeError};
use bandi_store::testing::TestDb;
use bandi_store::{Receipt, Store};
use sqlx::AnyPool;

use crate::support::*;

async fn count(pool: &AnyPool, sql: &str) -> u64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    n as u64
}

/// The call's ledger entries, and the applications its runs hold.
async fn spans(db: &TestDb) -> (u64, u64) {
    let pool = raw_pool(db).await;
    let entries = count(
        &pool,
        &format!("SELECT COUNT(*) FROM ledger WHERE call_code = '{ER_CALL}'"),
    )
    .await;
    let in_runs = count(
        &pool,
        "SELECT COUNT(*) FROM applications WHERE ledger_seq <= \
         (SELECT COALESCE(MAX(last_seq), 0) FROM fold_logs)",
    )
    .await;
    pool.close().await;
    (entries, in_runs)
}

pub async fn a_restart_starts_from_the_fold_log(db: &TestDb) {
    let call = er_call_open();
    let entities = comuni(12);
    let app = standard_project(&call);
    let sub = |i: usize| submission(ER_CALL, &code(&entities[i]), None, app.clone());
    let store = open_with(db, &call, &entities).await;
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let before: Vec<Receipt> = created_concurrently(&intake, (0..6).map(sub).collect()).await;
    let (entries, _) = spans(db).await;
    assert!(entries >= 7, "a publication and six submissions: {entries}");
    // Runs of two of the call's entries: as many as the ledger fills, once.
    assert_eq!(
        store.write_fold_logs(ER_CALL, 2).await.unwrap() as u64,
        entries / 2
    );
    assert_eq!(store.write_fold_logs(ER_CALL, 2).await.unwrap(), 0);
    assert_eq!(store.verify().await.unwrap().fold_log_runs, entries / 2);
    let (_, in_runs) = spans(db).await;
    assert!(in_runs >= 5, "{in_runs}");
    store.close().await;

    // A new process on the same database.
    let store = Store::connect(&db.url).await.expect("reconnect");
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let loaded = intake.loaded().await;
    assert_eq!(loaded.calls, 1);
    assert_eq!(loaded.from_fold_log, in_runs, "{loaded:?}");
    assert_eq!(loaded.from_ledger, entries % 2, "{loaded:?}");
    for r in &before {
        let again = intake
            .submit(submission(ER_CALL, &r.entity, None, app.clone()))
            .await;
        assert_eq!(again, Ok(Accepted::Replayed(r.clone())));
    }
    // The duplicate check by entity, from the decoded runs.
    let other = project(&call, PROJECT_COST_CENTS - 100, "another");
    assert_eq!(
        intake
            .submit(submission(ER_CALL, &before[0].entity, None, other))
            .await,
        Err(IntakeError::AlreadyApplied {
            protocol: before[0].protocol.clone()
        })
    );
    let after: Vec<Receipt> = created_concurrently(&intake, (6..12).map(sub).collect()).await;
    let all = check_numbering(&store, &call, before.into_iter().chain(after).collect()).await;
    assert_eq!(all.len(), 12);
    let report = store.verify().await.expect("verify");
    assert_eq!(
        (report.applications, report.fold_log_runs),
        (12, entries / 2)
    );
}

/// Runs that are not what the ledger gives: one naming a hash its last entry does not
/// have is not used, nor any after it; one whose bytes differ but replay is set aside for
/// the call's counters. `verify` refuses both.
pub async fn a_fold_log_unlike_the_ledger_is_set_aside(db: &TestDb) {
    let call = er_call_open();
    let entities = comuni(8);
    let app = standard_project(&call);
    let sub = |i: usize| submission(ER_CALL, &code(&entities[i]), None, app.clone());
    let store = open_with(db, &call, &entities).await;
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    submit_concurrently(std::slice::from_ref(&intake), (0..6).map(sub).collect()).await;
    let runs = store.write_fold_logs(ER_CALL, 3).await.unwrap();
    assert!(runs >= 2, "{runs}");
    store.close().await;
    let pool = raw_pool(db).await;

    // A hash that is not its last entry's.
    exec(
        &pool,
        "UPDATE fold_logs SET last_hash = 'not-it' WHERE after_seq = 0",
    )
    .await;
    let store = Store::connect(&db.url).await.expect("reconnect");
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let loaded = intake.loaded().await;
    assert_eq!(loaded.from_fold_log, 0, "{loaded:?}");
    let err = store.verify().await.expect_err("a run with a wrong hash");
    assert!(err.to_string().contains("names a hash"), "{err}");
    let seventh = created(&intake.submit(sub(6)).await);
    assert_eq!(seventh.seq, 7);
    store.close().await;

    // Bytes that replay but are not the ledger's: the first submission asks for a cent less.
    let (last_hash,): (String,) = sqlx::query_as(
        "SELECT l.hash FROM fold_logs f JOIN ledger l ON l.seq = f.last_seq WHERE f.after_seq = 0",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let (bytes,): (Vec<u8>,) = sqlx::query_as("SELECT entries FROM fold_logs WHERE after_seq = 0")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut entries = fold_log::decode(&bytes).unwrap();
    let Some(Fact::Submitted { requested, .. }) = entries
        .iter_mut()
        .map(|e| &mut e.fact)
        .find(|f| matches!(f, Fact::Submitted { .. }))
    else {
        panic!("the first run holds a submission: {entries:?}")
    };
    *requested = Money::from_cents(requested.cents() - 1);
    let mut forged = Vec::new();
    for e in &entries {
        fold_log::encode(e, &mut forged).unwrap();
    }
    let done = sqlx::query("UPDATE fold_logs SET entries = $1, last_hash = $2 WHERE after_seq = 0")
        .bind(forged)
        .bind(last_hash)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    pool.close().await;
    let store = Store::connect(&db.url).await.expect("reconnect");
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let loaded = intake.loaded().await;
    assert_eq!(loaded.from_fold_log, 0, "{loaded:?}");
    assert!(loaded.from_ledger >= 8, "{loaded:?}");
    let eighth = created(&intake.submit(sub(7)).await);
    assert_eq!(eighth.seq, 8);
    let err = store.verify().await.expect_err("a run unlike the ledger");
    assert!(
        err.to_string().contains("not what the ledger gives"),
        "{err}"
    );
}
