//! Migrations, the registry of entities, tokens and the publication of calls.

use bandi_domain::ledger::Record;
use bandi_domain::money::Money;
use bandi_domain::registry::parse_registry;
use bandi_store::intake::{Intake, IntakeError};
use bandi_store::testing::TestDb;
use bandi_store::{ImportedCall, Store, StoreError};
use jiff::{SignedDuration, Timestamp};

use bandi_domain::allocation::Status;

use crate::support::*;

pub async fn migrate_is_idempotent(db: &TestDb) {
    let store = Store::connect(&db.url).await.expect("connect");
    let first = store.migrate().await.expect("first migrate");
    assert!(first >= 1, "a fresh database applies its migrations");
    assert_eq!(store.migrate().await.expect("second migrate"), 0);
    store.close().await;
    // A new connection (a restarted node) finds nothing to do either, and the schema works.
    let again = Store::connect(&db.url).await.expect("reconnect");
    assert_eq!(again.migrate().await.expect("third migrate"), 0);
    assert_eq!(again.entity_count().await.expect("count"), 0);
    assert_eq!(ledger_len(&again).await, 0);
    let report = again.verify().await.expect("an empty database verifies");
    assert_eq!(
        (report.entries, report.calls, report.applications),
        (0, 0, 0)
    );
}

pub async fn entities_upsert_is_idempotent(db: &TestDb) {
    let store = open(db).await;
    let mut entities = parse_registry(
        include_str!("../../../../data/istat-comuni.csv"),
        Some("08"),
    )
    .expect("ISTAT list");
    let unions =
        parse_registry(include_str!("../../../../data/er-unioni.csv"), Some("08")).expect("unions");
    assert!(unions.iter().any(|u| !u.members.is_empty()));
    entities.extend(unions);
    let n = entities.len();
    assert!(n > 300, "Emilia-Romagna has over 300 comuni; got {n}");

    assert_eq!(store.upsert_entities(&entities).await.expect("import"), n);
    assert_eq!(store.entity_count().await.expect("count"), n as i64);
    assert_eq!(
        store.upsert_entities(&entities).await.expect("re-import"),
        n
    );
    assert_eq!(
        store.entity_count().await.expect("count"),
        n as i64,
        "re-importing the same file adds nothing"
    );
    for e in &entities {
        let back = store.entity(e.code.as_str()).await.expect("read");
        assert_eq!(back.as_ref(), Some(e), "entity {} reads back equal", e.code);
    }

    // A changed row is updated in place; absent optional fields read back as None.
    let mut changed = entities[0].clone();
    changed.name = format!("{} (nuovo nome)", changed.name);
    changed.pec = None;
    changed.fiscal_code = None;
    let hand_made = comune(1);
    store
        .upsert_entities(&[changed.clone(), hand_made.clone()])
        .await
        .expect("update");
    assert_eq!(store.entity_count().await.expect("count"), n as i64 + 1);
    assert_eq!(
        store.entity(changed.code.as_str()).await.expect("read"),
        Some(changed)
    );
    assert_eq!(
        store.entity(hand_made.code.as_str()).await.expect("read"),
        Some(hand_made)
    );
    assert_eq!(store.entity("nessuno").await.expect("read"), None);
    assert_eq!(
        ledger_len(&store).await,
        0,
        "the registry is not in the ledger"
    );
}

/// A node keeps the entities it has read (the click day's submissions then read none),
/// and another process's import reaches it within a second or so.
pub async fn an_import_elsewhere_reaches_a_nodes_cached_registry(db: &TestDb) {
    let node = open(db).await;
    let elsewhere = Store::connect(&db.url).await.expect("connect");
    let mut e = comune(1);
    node.upsert_entities(std::slice::from_ref(&e))
        .await
        .expect("import");
    node.issue_token(e.code.as_str()).await.expect("token");
    // Loading the tokens keeps their entities.
    assert_eq!(node.load_tokens().await.expect("load"), 1);
    assert_eq!(
        node.entity(e.code.as_str()).await.expect("read"),
        Some(e.clone())
    );
    e.name = "Comune rinominato".into();
    elsewhere
        .upsert_entities(std::slice::from_ref(&e))
        .await
        .expect("re-import");
    assert_eq!(
        elsewhere
            .entity(e.code.as_str())
            .await
            .expect("read")
            .map(|e| e.name),
        Some(e.name.clone()),
        "the importing node sees its import at once"
    );
    let started = std::time::Instant::now();
    loop {
        let seen = node
            .entity(e.code.as_str())
            .await
            .expect("read")
            .expect("known");
        if seen == e {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the other node still reads {seen:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // A code imported by nobody stays unknown, and is not kept as such.
    assert_eq!(node.entity("nessuno").await.expect("read"), None);
}

pub async fn tokens_belong_to_entities(db: &TestDb) {
    let store = open(db).await;
    store.upsert_entities(&comuni(2)).await.expect("entities");
    match store.issue_token("sconosciuto").await {
        Err(StoreError::NotFound(m)) => assert!(m.contains("sconosciuto"), "{m}"),
        other => panic!("a token for an unknown entity: {other:?}"),
    }
    let t1 = store.issue_token("t0001").await.expect("token");
    let t1b = store.issue_token("t0001").await.expect("second token");
    let t2 = store.issue_token("t0002").await.expect("token");
    assert_ne!(t1, t1b);
    assert_ne!(t1, t2);
    assert_eq!(
        store.token_entity(&t1).await.unwrap().as_deref(),
        Some("t0001")
    );
    assert_eq!(
        store.token_entity(&t1b).await.unwrap().as_deref(),
        Some("t0001")
    );
    assert_eq!(
        store.token_entity(&t2).await.unwrap().as_deref(),
        Some("t0002")
    );
    assert_eq!(store.token_entity("bnd_nope").await.unwrap(), None);
    assert_eq!(store.token_entity("").await.unwrap(), None);
    // In a batch: one each, in order; an unknown entity refuses the whole batch.
    let batch = store
        .issue_tokens(&["t0002".to_string(), "t0001".to_string()])
        .await
        .expect("a batch");
    assert_eq!(batch.len(), 2);
    assert_eq!(
        store.token_entity(&batch[0]).await.unwrap().as_deref(),
        Some("t0002")
    );
    assert_eq!(
        store.token_entity(&batch[1]).await.unwrap().as_deref(),
        Some("t0001")
    );
    let count = |store: &Store| {
        let store = store.clone();
        async move { store.load_tokens().await.unwrap() }
    };
    let _ = count(&store).await;
    assert!(
        store
            .issue_tokens(&["t0001".to_string(), "sconosciuto".to_string()])
            .await
            .is_err()
    );
    assert_eq!(
        count(&store).await,
        0,
        "nothing issued by the refused batch"
    );
    // A token differs from another by one character: no prefix matching.
    let mut near = t1.clone();
    let last = near.pop().expect("non-empty");
    near.push(if last == '0' { '1' } else { '0' });
    assert_eq!(store.token_entity(&near).await.unwrap(), None);
}

/// Tokens issued by another process after this node loaded its tokens are found, those
/// whose time of issue lags behind that load too (another clock), and an unknown one is
/// refused however many times it is tried.
pub async fn tokens_issued_elsewhere_are_found(db: &TestDb) {
    let node = open(db).await;
    node.upsert_entities(&comuni(3)).await.expect("entities");
    let first = node.issue_token("t0001").await.expect("token");
    assert_eq!(node.load_tokens().await.unwrap(), 1, "loaded in advance");
    assert_eq!(node.load_tokens().await.unwrap(), 0, "nothing new since");
    assert_eq!(
        node.token_entity(&first).await.unwrap().as_deref(),
        Some("t0001"),
        "found in memory"
    );
    let other = Store::connect(&db.url).await.expect("another process");
    let later = other.issue_token("t0002").await.expect("token");
    assert_eq!(
        node.token_entity(&later).await.unwrap().as_deref(),
        Some("t0002"),
        "issued after the load"
    );
    // Issued "an hour ago" by a process with a slow clock, committed now.
    let lagging = "bnd_lagging_clock_token";
    sqlx_insert_token(db, lagging, "t0003").await;
    assert_eq!(
        node.token_entity(lagging).await.unwrap().as_deref(),
        Some("t0003"),
        "before the last load by its time of issue, found on its own"
    );
    for _ in 0..3 {
        assert_eq!(node.token_entity("bnd_unknown").await.unwrap(), None);
    }
    assert_eq!(
        node.entity("t0003").await.unwrap().map(|e| e.name),
        comuni(3).into_iter().nth(2).map(|e| e.name),
        "the token's entity came with it"
    );
}

/// Writes a token row as another process would, with a time of issue one hour back.
async fn sqlx_insert_token(db: &TestDb, token: &str, entity: &str) {
    use sha2::Digest;
    let (pool, tx) = hold_ledger_lock(db).await;
    drop(tx);
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let an_hour_ago = Timestamp::now().as_microsecond() - 3_600_000_000;
    sqlx::query("INSERT INTO tokens (token_sha256, entity_code, created_us) VALUES ($1, $2, $3)")
        .bind(hash)
        .bind(entity)
        .bind(an_hour_ago)
        .execute(&pool)
        .await
        .expect("insert a token");
}

fn published(store_entries: &[bandi_domain::ledger::Entry]) -> Vec<Record> {
    store_entries
        .iter()
        .map(|e| e.record().expect("record"))
        .filter(|r| matches!(r, Record::CallPublished { .. }))
        .collect()
}

pub async fn import_call_lifecycle(db: &TestDb) {
    let store = open(db).await;
    store.upsert_entities(&comuni(3)).await.expect("entities");
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);

    // Published upcoming: one ledger entry carrying the hash of the rules.
    let upcoming = er_call_opening(Timestamp::now() + SignedDuration::from_secs(3600));
    assert_eq!(
        store.import_call(&upcoming).await.unwrap(),
        ImportedCall::Created
    );
    let stored = store.call(ER_CALL).await.unwrap().expect("stored call");
    assert_eq!(stored.call, upcoming);
    assert_eq!(stored.budget, Money::from_cents(ER_BUDGET_CENTS));
    assert_eq!(stored.reserved, Money::ZERO);
    assert_eq!(stored.remaining(), stored.budget);
    let ledger = store.ledger_page(0, 100).await.unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].kind, "call_published");
    assert_eq!(stored.last_event_ledger_seq, ledger[0].seq);
    match ledger[0].record().unwrap() {
        Record::CallPublished {
            call,
            budget_cents,
            rules_sha256,
            ..
        } => {
            assert_eq!(call, ER_CALL);
            assert_eq!(budget_cents, upcoming.budget);
            assert_eq!(rules_sha256, stored.rules_sha256);
        }
        other => panic!("{other:?}"),
    }

    // The same rules again: nothing happens.
    assert_eq!(
        store.import_call(&upcoming).await.unwrap(),
        ImportedCall::Unchanged
    );
    assert_eq!(ledger_len(&store).await, 1);

    // A submission before the opening is refused; it also warms the sequencer's cache
    // with the upcoming rules, which must not survive the replacement below.
    let early = intake
        .submit(submission(
            ER_CALL,
            "t0001",
            None,
            standard_project(&upcoming),
        ))
        .await;
    assert!(
        matches!(
            early,
            Err(IntakeError::OutsideWindow(
                bandi_domain::call::OutsideWindow::NotOpenYet { .. }
            ))
        ),
        "{early:?}"
    );

    // Changed rules before any application: replaced, and published again.
    let mut opened = er_call_open();
    opened.budget = Money::from_cents(6_000_000); // one grant of 52,500.00 fits, not two
    assert_eq!(
        store.import_call(&opened).await.unwrap(),
        ImportedCall::Replaced
    );
    let stored = store.call(ER_CALL).await.unwrap().expect("stored call");
    assert_eq!(stored.call, opened);
    assert_eq!(stored.budget, opened.budget);
    let ledger = store.ledger_page(0, 100).await.unwrap();
    assert_eq!(ledger.len(), 2);
    let publications = published(&ledger);
    assert_eq!(
        publications.len(),
        2,
        "one call_published entry per publication"
    );
    match &publications[1] {
        Record::CallPublished {
            budget_cents,
            rules_sha256,
            ..
        } => {
            assert_eq!(*budget_cents, opened.budget);
            assert_eq!(*rules_sha256, stored.rules_sha256);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.calls().await.unwrap().len(), 1);

    // The sequencer follows the new rules: open now, and the new budget.
    let first = created(
        &intake
            .submit(submission(
                ER_CALL,
                "t0001",
                None,
                standard_project(&opened),
            ))
            .await,
    );
    assert_eq!(first.status, Status::Reserved);
    let second = created(
        &intake
            .submit(submission(
                ER_CALL,
                "t0002",
                None,
                standard_project(&opened),
            ))
            .await,
    );
    assert_eq!(second.status, Status::Waitlisted);
    assert_eq!(second.reserved_cents, Money::ZERO);

    // With applications, the rules are frozen: a change is a conflict and writes nothing.
    let mut changed = opened.clone();
    changed.budget = Money::from_cents(ER_BUDGET_CENTS);
    let before = ledger_len(&store).await;
    match store.import_call(&changed).await {
        Err(StoreError::CallHasApplications { call, applications }) => {
            assert_eq!((call.as_str(), applications), (ER_CALL, 2))
        }
        other => panic!("changing the rules of a call with applications: {other:?}"),
    }
    assert_eq!(ledger_len(&store).await, before);
    let stored = store.call(ER_CALL).await.unwrap().expect("stored call");
    assert_eq!(stored.call, opened);
    assert_eq!(stored.budget, opened.budget);
    assert_eq!(stored.reserved, Money::from_cents(GRANT_CENTS));
    assert_eq!(stored.applications, 2);
    assert_eq!(stored.waitlisted, 1);
    // The same rules are still Unchanged.
    assert_eq!(
        store.import_call(&opened).await.unwrap(),
        ImportedCall::Unchanged
    );
    assert_eq!(ledger_len(&store).await, before);

    // A second call is independent of the first.
    let mut other = er_call_open();
    other.code = bandi_domain::call::CallCode::parse("altro-bando").unwrap();
    // Not with the first one's protocol prefix: protocol numbers would repeat.
    let refused = store.import_call(&other).await;
    assert!(
        matches!(&refused, Err(StoreError::ProtocolPrefixTaken { prefix, call }) if prefix == "ER-SW" && call == ER_CALL),
        "{refused:?}"
    );
    other.protocol_prefix = "ALTRO".into();
    assert_eq!(
        store.import_call(&other).await.unwrap(),
        ImportedCall::Created
    );
    assert_eq!(
        published(&store.ledger_page(0, 100).await.unwrap()).len(),
        3
    );
    assert_eq!(store.calls().await.unwrap().len(), 2);

    let report = store.verify().await.expect("verify");
    assert_eq!(report.calls, 2);
    assert_eq!(report.applications, 2);
    assert_eq!(report.entries, ledger_len(&store).await as u64);
}

/// Every receipt's notice is found among its entity's notices (through the application,
/// since receipts have no index by entity of their own), and dispatching gives it one
/// delivery per address: the contacts' e-mail, then their PEC or else the registry's,
/// each once, blank ones left out; all in two statements, so a click day's thousands at once.
pub async fn receipts_notices_are_found_and_dispatched_to_each_address(db: &TestDb) {
    let call = er_call_open();
    let mut entities = comuni(5);
    entities[4].pec = None;
    let store = open_with(db, &call, &entities).await;
    let contacts = [
        (Some("uffici@comune1.it"), Some("pec@comune1.it")),
        (Some("pec@comune2.it"), Some("pec@comune2.it")),
        (Some("  "), None),
        (None, None),
        (Some("ragioneria@comune5.it"), None),
    ];
    for (e, (email, pec)) in entities.iter().zip(contacts) {
        let c = bandi_store::Contacts {
            email: email.map(str::to_string),
            pec: pec.map(str::to_string),
        };
        store
            .set_contacts(e.code.as_str(), &c, "test")
            .await
            .expect("contacts");
    }
    let intake = Intake::start(store.clone(), 100);
    let call_code = call.code.to_string();
    for e in &entities {
        let s = submission(&call_code, &code(e), None, standard_project(&call));
        created(&intake.submit(s).await);
    }
    assert_eq!(store.dispatch_notices().await.expect("dispatch"), 5);
    assert_eq!(store.dispatch_notices().await.expect("nothing left"), 0);
    let expected: [&[&str]; 5] = [
        &["uffici@comune1.it", "pec@comune1.it"],
        &["pec@comune2.it"],
        &["protocollo@pec.prova3.it"],
        &["protocollo@pec.prova4.it"],
        &["ragioneria@comune5.it"],
    ];
    for (e, addresses) in entities.iter().zip(expected) {
        let notices = store
            .entity_notices(e.code.as_str())
            .await
            .expect("notices");
        assert_eq!(notices.len(), 1, "{}: {notices:?}", e.code);
        assert_eq!(notices[0].entity, e.code.as_str());
        let got: Vec<&str> = notices[0].deliveries.iter().map(|d| d.0.as_str()).collect();
        assert_eq!(got, addresses, "{}", e.code);
    }
}

/// A thousand entities, then their tokens, each written at once: on PostgreSQL both tables
/// are analysed there and then (`reltuples` stays -1 until a table's first analysis), so
/// that the first request's load of every token's entity is planned for what is there.
pub async fn bulk_writes_leave_postgres_statistics_fresh(db: &TestDb) {
    let store = open(db).await;
    let entities = comuni(1_000);
    assert_eq!(
        store.upsert_entities(&entities).await.expect("entities"),
        1_000
    );
    let codes: Vec<String> = entities.iter().map(|e| e.code.to_string()).collect();
    assert_eq!(
        store.issue_tokens(&codes).await.expect("tokens").len(),
        1_000
    );
    if !db.url.starts_with("postgres") {
        return;
    }
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .expect("connect");
    for table in ["entities", "tokens"] {
        assert_eq!(
            reltuples(&mut conn, table).await,
            1_000,
            "{table} analysed after the bulk write"
        );
    }
}

/// PostgreSQL's estimate of `table`'s rows, as its last analysis left it (-1: never).
async fn reltuples(conn: &mut sqlx::AnyConnection, table: &str) -> i64 {
    let (rows,): (i64,) =
        sqlx::query_as("SELECT reltuples::bigint FROM pg_class WHERE relname = $1")
            .bind(table)
            .fetch_one(conn)
            .await
            .expect("pg_class");
    rows
}

/// The load of every token and its entity at start-up gives its worker back as it goes:
/// PostgreSQL sends rows faster than they are decoded, so the stream never has to wait,
/// and without a yield of its own the load held a worker for a second while the first
/// submission after a restart waited behind it. Each row spends a unit of tokio's budget
/// (128 a turn), so the load yields at least once every few hundred rows.
pub async fn loading_every_token_yields_to_other_tasks(db: &TestDb) {
    const ENTITIES: usize = 20_000;
    let store = open(db).await;
    let entities = comuni(ENTITIES);
    store.upsert_entities(&entities).await.expect("entities");
    let codes: Vec<String> = entities.iter().map(|e| e.code.to_string()).collect();
    store.issue_tokens(&codes).await.expect("tokens");
    let mut load = std::pin::pin!(store.load_tokens_once(async {}));
    let mut pending = 0_usize;
    let loaded = std::future::poll_fn(|cx| {
        let poll = load.as_mut().poll(cx);
        if poll.is_pending() {
            pending += 1;
        }
        poll
    })
    .await
    .expect("load");
    assert_eq!(loaded, ENTITIES);
    // Two rows a token (the token's, then its entity's): one turn per 128 at most.
    assert!(
        pending >= 2 * ENTITIES / 256,
        "the load gave its worker back {pending} times for {ENTITIES} tokens and entities"
    );
}

/// A table grown past autovacuum's threshold since its last analysis is analysed before a
/// call's ledger is read whole, and one that has not is left alone; on SQLite, nothing.
pub async fn stale_statistics_are_refreshed_on_postgres(db: &TestDb) {
    let store = open(db).await;
    store.upsert_entities(&comuni(10)).await.expect("entities");
    if !db.url.starts_with("postgres") {
        assert!(
            store
                .refresh_stale_statistics(&["entities"])
                .await
                .is_empty()
        );
        return;
    }
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .expect("connect");
    sqlx::raw_sql("ANALYZE entities")
        .execute(&mut conn)
        .await
        .expect("analyse");
    // A bulk write that bypasses the store, as a rush of single rows does.
    sqlx::raw_sql(
        "INSERT INTO entities (code, name, kind, province, region_code) \
         SELECT 'x' || i, 'Comune ' || i, 'comune', 'BO', '08' FROM generate_series(1, 2000) AS i",
    )
    .execute(&mut conn)
    .await
    .expect("insert");
    // PostgreSQL's counts of changed rows reach its statistics views within a second or so.
    for _ in 0..100 {
        let (changed,): (i64,) = sqlx::query_as(
            "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'entities'",
        )
        .fetch_one(&mut conn)
        .await
        .expect("pg_stat_user_tables");
        if changed >= 2000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        store
            .refresh_stale_statistics(&["entities", "tokens"])
            .await,
        ["entities"],
        "only the table that grew is analysed"
    );
    assert_eq!(reltuples(&mut conn, "entities").await, 2010);
    assert!(
        store
            .refresh_stale_statistics(&["entities"])
            .await
            .is_empty(),
        "fresh statistics are not analysed again"
    );
}
