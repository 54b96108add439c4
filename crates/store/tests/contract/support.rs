//! Fixtures shared by the contract cases: the demo call opened now, hand-made comuni,
//! valid applications, and helpers to submit many of them at once.

use std::collections::HashSet;

use bandi_domain::application::{ValidApplication, parse_and_validate};
use bandi_domain::call::Call;
use bandi_domain::entity::{Entity, EntityCode, EntityKind};
use bandi_domain::money::Money;
use bandi_store::intake::{Accepted, Intake, IntakeError, Submission};
use bandi_store::testing::TestDb;
use bandi_store::{Receipt, Store};
use jiff::{SignedDuration, Timestamp};
use sqlx::{AnyPool, AssertSqlSafe};
use tokio::task::JoinSet;

pub const ER_CALL_TOML: &str = include_str!("../../../../calls/er-2020-smart-working.toml");
pub const ER_CALL: &str = "er-2020-smart-working";

/// 75,000.00 € of eligible cost: at 70% a grant of 52,500.00 €.
pub const PROJECT_COST_CENTS: i64 = 7_500_000;
pub const GRANT_CENTS: i64 = 5_250_000;
/// The demo call's budget, 2 M€: 38 grants of 52,500.00 € fit (1,995,000.00 €).
pub const ER_BUDGET_CENTS: i64 = 200_000_000;
pub const GRANTS_IN_ER_BUDGET: u64 = 38;

/// Plenty of room: nothing in these tests is refused as `Overloaded`.
/// What the tests give the sequencer as its maximum queue delay, unless they test the
/// shedding itself: they assert every answer, and a busy machine must not turn them into
/// 503s (the dedicated tests cover that).
pub const NO_SHEDDING: std::time::Duration = std::time::Duration::from_secs(600);

pub const QUEUE: usize = 4096;

/// The demo call as shipped (2020 dates).
pub fn er_call_as_shipped() -> Call {
    Call::from_toml(ER_CALL_TOML).expect("the demo call file parses")
}

/// The demo call re-dated to open at `opens_at`, keeping its length.
pub fn er_call_opening(opens_at: Timestamp) -> Call {
    let mut call = er_call_as_shipped();
    call.reschedule(opens_at, None).expect("reschedule");
    call
}

/// The demo call, open since a minute ago.
pub fn er_call_open() -> Call {
    er_call_opening(Timestamp::now() - SignedDuration::from_secs(60))
}

/// `n` comuni of Emilia-Romagna made up for the tests: codes `t0001`, `t0002`...
pub fn comuni(n: usize) -> Vec<Entity> {
    (1..=n).map(comune).collect()
}

pub fn comune(i: usize) -> Entity {
    Entity {
        code: EntityCode::parse(&format!("t{i:04}")).expect("entity code"),
        name: format!("Comune di Prova {i}"),
        kind: EntityKind::Comune,
        fiscal_code: Some(format!("{:011}", 80_000_000_000u64 + i as u64)),
        province: Some("BO".into()),
        region_code: Some("08".into()),
        istat_code: Some(format!("{:06}", 37_000 + i)),
        pec: Some(format!("protocollo@pec.prova{i}.it")),
        members: Vec::new(),
    }
}

pub fn code(e: &Entity) -> String {
    e.code.as_str().to_string()
}

/// A valid application whose eligible cost is `cost_cents`, all in technology; `variant`
/// changes the title, hence the content hash, and nothing else.
pub fn project(call: &Call, cost_cents: i64, variant: &str) -> ValidApplication {
    let body = serde_json::json!({
        "title": format!("Lavoro agile nell'ente ({variant})"),
        "summary": "Migrazione al cloud di Lepida, formazione, processi digitali.",
        "lines": [
            {"category": "technology", "description": "Cloud e VDI", "amount_cents": cost_cents}
        ],
        "indicators": {
            "staff_total": 120,
            "agile_workers_before": 4,
            "agile_workers_target": 60
        }
    });
    parse_and_validate(&body, call).unwrap_or_else(|e| panic!("invalid test application: {e:?}"))
}

/// The standard 75,000-€ project, which asks for 52,500.00 €.
pub fn standard_project(call: &Call) -> ValidApplication {
    let app = project(call, PROJECT_COST_CENTS, "standard");
    assert_eq!(app.requested, Money::from_cents(GRANT_CENTS));
    app
}

pub fn submission(
    call: &str,
    entity: &str,
    key: Option<&str>,
    application: ValidApplication,
) -> Submission {
    Submission {
        call: call.to_string(),
        entity: entity.to_string(),
        entity_name: format!("Ente {entity}"),
        idempotency_key: key.map(str::to_string),
        application,
    }
}

/// Connects and migrates a fresh database.
pub async fn open(db: &TestDb) -> Store {
    let store = Store::connect(&db.url).await.expect("connect");
    let applied = store.migrate().await.expect("migrate");
    assert!(applied >= 1, "a fresh database gets its migrations");
    store
}

/// Connects, migrates, imports `entities` and publishes `call`.
pub async fn open_with(db: &TestDb, call: &Call, entities: &[Entity]) -> Store {
    let store = open(db).await;
    store.upsert_entities(entities).await.expect("entities");
    store.import_call(call).await.expect("import call");
    store
}

/// Every ledger entry there is.
pub async fn ledger_len(store: &Store) -> usize {
    store.ledger_page(0, u32::MAX).await.expect("ledger").len()
}

/// Submits everything at once, one task each; answers in the order of `submissions`.
pub async fn submit_concurrently(
    intakes: &[Intake],
    submissions: Vec<Submission>,
) -> Vec<Result<Accepted, IntakeError>> {
    let mut set = JoinSet::new();
    for (i, s) in submissions.into_iter().enumerate() {
        let intake = intakes[i % intakes.len()].clone();
        set.spawn(async move { (i, intake.submit(s).await) });
    }
    let mut answers: Vec<Option<Result<Accepted, IntakeError>>> = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, answer) = joined.expect("submission task");
        if answers.len() <= i {
            answers.resize(i + 1, None);
        }
        answers[i] = Some(answer);
    }
    answers
        .into_iter()
        .map(|a| a.expect("every submission answered"))
        .collect()
}

/// Submits everything at once on one node; each must be a new application: their receipts,
/// in the order of `submissions`.
pub async fn created_concurrently(intake: &Intake, submissions: Vec<Submission>) -> Vec<Receipt> {
    submit_concurrently(std::slice::from_ref(intake), submissions)
        .await
        .iter()
        .map(created)
        .collect()
}

/// The receipt of a `Created` answer; panics on anything else.
pub fn created(answer: &Result<Accepted, IntakeError>) -> Receipt {
    match answer {
        Ok(Accepted::Created(r)) => r.clone(),
        other => panic!("expected a new application, got {other:?}"),
    }
}

pub fn instant(s: &str) -> Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("receipt instant {s:?}: {e}"))
}

/// Checks rule 2 and rule 8 on a call's receipts: numbers `1..=n` without gap or duplicate,
/// protocols `PREFIX-YYYY/0000001`..., instants non-decreasing in that order, each naming
/// the ledger entry that recorded it. Returns the receipts sorted by number.
pub async fn check_numbering(
    store: &Store,
    call: &Call,
    mut receipts: Vec<Receipt>,
) -> Vec<Receipt> {
    receipts.sort_by_key(|r| r.seq);
    let n = receipts.len() as u64;
    let seqs: Vec<u64> = receipts.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "gap-free numbering");
    let protocols: HashSet<&str> = receipts.iter().map(|r| r.protocol.as_str()).collect();
    assert_eq!(protocols.len() as u64, n, "no duplicate protocol");
    let entities: HashSet<&str> = receipts.iter().map(|r| r.entity.as_str()).collect();
    assert_eq!(entities.len() as u64, n, "one application per entity");
    let mut previous_at: Option<Timestamp> = None;
    let mut previous_entry = 0;
    for r in &receipts {
        assert_eq!(r.call, call.code.as_str());
        let at = instant(&r.received_at);
        let year = at.to_zoned_datetime(call.tz()).year();
        assert_eq!(
            r.protocol,
            format!("{}-{year}/{:07}", call.protocol_prefix, r.seq)
        );
        if let Some(p) = previous_at {
            assert!(p <= at, "receipt {} at {at} comes before {p}", r.protocol);
        }
        previous_at = Some(at);
        assert!(at >= call.opens_at && at < call.closes_at);
        assert!(
            r.ledger_seq > previous_entry,
            "ledger entries follow the protocol order"
        );
        previous_entry = r.ledger_seq;
    }
    // Each receipt names the ledger entry that recorded it.
    let ledger = store.ledger_page(0, u32::MAX).await.expect("ledger");
    for r in &receipts {
        let entry = ledger
            .iter()
            .find(|e| e.seq == r.ledger_seq)
            .unwrap_or_else(|| panic!("ledger entry {} of {}", r.ledger_seq, r.protocol));
        assert_eq!(entry.hash, r.ledger_hash);
        assert_eq!(entry.at, r.received_at);
        let record = entry.record().expect("record");
        assert_eq!(
            record,
            bandi_domain::ledger::Record::ApplicationSubmitted {
                call: r.call.clone(),
                seq: r.seq,
                protocol: r.protocol.clone(),
                entity: r.entity.clone(),
                admitted_at: r.admitted_at.clone(),
                received_at: r.received_at.clone(),
                content_sha256: r.content_sha256.clone(),
                requested_cents: r.requested_cents,
            }
        );
    }
    receipts
}

/// Takes the ledger lock from outside the store, as another node's batch would, until the
/// returned transaction is rolled back.
pub async fn hold_ledger_lock(
    db: &TestDb,
) -> (sqlx::AnyPool, sqlx::Transaction<'static, sqlx::Any>) {
    sqlx::any::install_default_drivers();
    let raw = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&db.url)
        .await
        .expect("raw connection");
    let mut holder = raw.begin().await.expect("begin");
    sqlx::query("UPDATE ledger_head SET seq = seq WHERE id = 1")
        .execute(&mut *holder)
        .await
        .expect("take the ledger lock");
    (raw, holder)
}

/// The database as someone with direct access sees it.
pub async fn raw_pool(db: &TestDb) -> AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&db.url)
        .await
        .expect("raw connection")
}

pub async fn exec(pool: &AnyPool, sql: &str) {
    let done = sqlx::query(AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(done.rows_affected(), 1, "{sql}");
}
