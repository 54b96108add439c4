//! Rule 3: no acknowledgement before durability. What was acknowledged survives a restart;
//! a batch that fails to commit answers nobody, stores nothing and leaves no gap.

use bandi_store::intake::{Accepted, Intake, IntakeError};
use bandi_store::testing::TestDb;
use bandi_store::{Backend, Receipt, Store};
use sqlx::AssertSqlSafe;

use crate::support::*;

pub async fn migrate_on_nodes_starting_together(db: &TestDb) {
    let mut nodes = Vec::new();
    for _ in 0..4 {
        nodes.push(Store::connect(&db.url).await.expect("connect"));
    }
    let mut set = tokio::task::JoinSet::new();
    for node in nodes.clone() {
        set.spawn(async move { node.migrate().await });
    }
    let mut applied = Vec::new();
    while let Some(done) = set.join_next().await {
        applied.push(done.unwrap().expect("every node migrates"));
    }
    // Nodes may share the work (one applies the first migration, another the next), but
    // each migration is applied exactly once.
    let total: usize = applied.iter().sum();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.expect("raw pool");
    let (recorded,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert!(total >= 1);
    assert_eq!(
        total as i64, recorded,
        "each migration is applied once: {applied:?}"
    );
    for node in &nodes {
        assert_eq!(node.migrate().await.unwrap(), 0);
    }
}

/// Migration 0020 moves the receipts out of the applications' rows: a database written
/// before it (put back here in that shape) keeps every receipt, and its retries still get
/// theirs.
pub async fn receipts_move_to_their_table(db: &TestDb) {
    let call = er_call_open();
    let entities = comuni(5);
    let app = standard_project(&call);
    let store = open_with(db, &call, &entities).await;
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let subs = (0..5)
        .map(|i| submission(ER_CALL, &code(&entities[i]), None, app.clone()))
        .collect();
    let before: Vec<Receipt> = created_concurrently(&intake, subs).await;
    store.close().await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.expect("raw pool");
    for sql in [
        "ALTER TABLE applications ADD COLUMN receipt TEXT",
        "UPDATE applications SET receipt = (SELECT receipt FROM receipts WHERE entry = applications.ledger_seq)",
        "DROP TABLE receipts",
        "DELETE FROM schema_migrations WHERE version = 20",
    ] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    pool.close().await;
    let store = Store::connect(&db.url).await.expect("reconnect");
    assert_eq!(store.migrate().await.unwrap(), 1);
    for r in &before {
        let a = store.application(&r.id).await.unwrap().expect("moved");
        assert_eq!(&a.receipt, r);
    }
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let again = intake
        .submit(submission(ER_CALL, &before[2].entity, None, app.clone()))
        .await;
    assert_eq!(again, Ok(Accepted::Replayed(before[2].clone())));
}

pub async fn receipts_survive_a_restart(db: &TestDb) {
    let call = er_call_open();
    let entities = comuni(12);
    let app = standard_project(&call);
    let sub = |i: usize| submission(ER_CALL, &code(&entities[i]), None, app.clone());
    let before: Vec<Receipt> = {
        let store = open_with(db, &call, &entities).await;
        let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
        let receipts = created_concurrently(&intake, (0..6).map(sub).collect()).await;
        store.close().await;
        receipts
    };
    // A new process on the same database.
    let store = Store::connect(&db.url).await.expect("reconnect");
    assert_eq!(store.migrate().await.unwrap(), 0);
    for r in &before {
        let a = store
            .application(&r.id)
            .await
            .unwrap()
            .expect("acknowledged application");
        assert_eq!(&a.receipt, r);
    }
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    for r in &before {
        let again = intake
            .submit(submission(ER_CALL, &r.entity, None, app.clone()))
            .await;
        assert_eq!(again, Ok(Accepted::Replayed(r.clone())));
    }
    let after: Vec<Receipt> = created_concurrently(&intake, (6..12).map(sub).collect()).await;
    let all = check_numbering(&store, &call, before.into_iter().chain(after).collect()).await;
    assert_eq!(all.len(), 12);
    assert_eq!(store.verify().await.expect("verify").applications, 12);
}

/// Makes every insert into `applications` fail, inside the sequencer's transaction and
/// after its ledger entries were written.
async fn break_inserts(store: &Store, db: &TestDb) -> sqlx::AnyPool {
    let raw = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&db.url)
        .await
        .expect("raw connection");
    let sql = match store.backend() {
        Backend::Sqlite => {
            "CREATE TRIGGER boom BEFORE INSERT ON applications BEGIN SELECT RAISE(ABORT, 'boom'); END"
        }
        Backend::Postgres => {
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$; \
             CREATE TRIGGER boom BEFORE INSERT ON applications FOR EACH ROW EXECUTE FUNCTION boom()"
        }
    };
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&raw)
        .await
        .expect("trigger");
    raw
}

async fn repair_inserts(store: &Store, raw: &sqlx::AnyPool) {
    let sql = match store.backend() {
        Backend::Sqlite => "DROP TRIGGER boom",
        Backend::Postgres => "DROP TRIGGER boom ON applications",
    };
    sqlx::raw_sql(sql).execute(raw).await.expect("drop trigger");
}

pub async fn failed_commit_answers_nothing(db: &TestDb) {
    let call = er_call_open();
    let entities = comuni(20);
    let store = open_with(db, &call, &entities).await;
    sqlx::any::install_default_drivers();
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let app = standard_project(&call);
    let sub = |i: usize| submission(ER_CALL, &code(&entities[i]), None, app.clone());
    // A warm cache: numbers 1..=5 taken.
    let first: Vec<Receipt> = created_concurrently(&intake, (0..5).map(sub).collect()).await;
    let ledger_before = ledger_len(&store).await;
    let counters_before = store.call(ER_CALL).await.unwrap().unwrap();

    let raw = break_inserts(&store, db).await;
    let answers =
        submit_concurrently(std::slice::from_ref(&intake), (5..10).map(sub).collect()).await;
    for a in &answers {
        assert!(
            matches!(a, Err(IntakeError::Unavailable(_))),
            "no receipt without a commit: {a:?}"
        );
    }
    assert_eq!(
        ledger_len(&store).await,
        ledger_before,
        "the batch's ledger entries were rolled back"
    );
    assert_eq!(store.ranking(ER_CALL).await.unwrap().len(), 5);
    let counters = store.call(ER_CALL).await.unwrap().unwrap();
    assert_eq!(
        (
            counters.reserved,
            counters.applications,
            counters.last_event_ledger_seq
        ),
        (
            counters_before.reserved,
            counters_before.applications,
            counters_before.last_event_ledger_seq
        )
    );
    store.verify().await.expect("nothing half-written");

    // Once the database works again, numbering resumes at 6: the failed batch's numbers
    // were never given, so they are not skipped either.
    repair_inserts(&store, &raw).await;
    let rest: Vec<Receipt> = created_concurrently(&intake, (5..20).map(sub).collect()).await;
    let all = check_numbering(&store, &call, first.into_iter().chain(rest).collect()).await;
    assert_eq!(all.len(), 20);
    assert_eq!(store.verify().await.expect("verify").applications, 20);
    raw.close().await;
}
