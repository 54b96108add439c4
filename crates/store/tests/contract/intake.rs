//! The click-day sequencer: numbering, allocation, retries and refusals.

use std::collections::HashMap;

use bandi_domain::allocation::Status;
use bandi_domain::call::{Call, CallCode, FitMode, OutsideWindow};
use bandi_domain::money::Money;
use bandi_store::intake::{Accepted, Intake, IntakeError};
use bandi_store::testing::TestDb;
use bandi_store::{ImportedCall, Receipt, Store};
use jiff::{SignedDuration, Timestamp};

use crate::support::*;

/// 300 comuni submit at the same instant; checks everything rule 2, 5, 6 and 8 say about
/// the outcome. Returns the receipts in protocol order.
async fn three_hundred_at_once(db: &TestDb, call: &Call) -> (Store, Vec<Receipt>) {
    const N: usize = 300;
    let entities = comuni(N);
    let store = open_with(db, call, &entities).await;
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let app = standard_project(call);
    let submissions = entities
        .iter()
        .map(|e| submission(ER_CALL, &code(e), None, app.clone()))
        .collect();
    let answers = submit_concurrently(std::slice::from_ref(&intake), submissions).await;
    let receipts: Vec<Receipt> = answers.iter().map(created).collect();
    for (e, r) in entities.iter().zip(&receipts) {
        assert_eq!(r.entity, code(e), "each answer goes to its own submitter");
        assert_eq!(r.requested_cents, Money::from_cents(GRANT_CENTS));
    }
    let receipts = check_numbering(&store, call, receipts).await;

    // No over-allocation, and the counters agree with the receipts.
    let reserved: i64 = receipts.iter().map(|r| r.reserved_cents.cents()).sum();
    let stored = store.call(ER_CALL).await.unwrap().expect("call");
    assert!(
        reserved <= call.budget.cents(),
        "{reserved} > {}",
        call.budget
    );
    assert_eq!(stored.reserved.cents(), reserved);
    assert_eq!(stored.budget, call.budget);
    assert_eq!(
        stored.reserved.cents() + stored.remaining().cents(),
        call.budget.cents()
    );
    assert_eq!(stored.applications, N as i64);
    let waiting = receipts
        .iter()
        .filter(|r| r.status == Status::Waitlisted)
        .count();
    assert_eq!(stored.waitlisted, waiting as i64);

    // The public ranking: every application, in protocol order, as the receipts say.
    let ranking = store.ranking(ER_CALL).await.unwrap();
    assert_eq!(ranking.len(), N);
    for (row, r) in ranking.iter().zip(&receipts) {
        assert_eq!(row.seq, r.seq);
        assert_eq!(row.protocol, r.protocol);
        assert_eq!(row.entity_code, r.entity);
        assert_eq!(
            row.entity_name,
            format!(
                "Comune di Prova {}",
                &r.entity[1..].parse::<usize>().unwrap()
            )
        );
        assert_eq!(row.received_at, r.received_at);
        assert_eq!(row.requested_cents, r.requested_cents);
        assert_eq!(row.reserved_cents, r.reserved_cents);
        assert_eq!(row.status, r.status);
    }
    // Each application reads back with the receipt that was given.
    for r in receipts.iter().step_by(37) {
        let a = store
            .application(&r.id)
            .await
            .unwrap()
            .expect("application");
        assert_eq!(&a.receipt, r);
        assert_eq!(a.content, app.content);
        assert_eq!(a.reserved, r.reserved_cents);
    }

    let report = store.verify().await.expect("verify");
    assert_eq!(report.applications, N as u64);
    assert_eq!(report.calls, 1);
    assert_eq!(report.entries, N as u64 + 1);
    assert_eq!(ledger_len(&store).await, N + 1);
    (store, receipts)
}

pub async fn intake_300_concurrent_waitlist(db: &TestDb) {
    let call = er_call_open();
    assert_eq!(call.budget, Money::from_cents(ER_BUDGET_CENTS));
    assert_eq!(call.when_not_fits, FitMode::Waitlist);
    let (store, receipts) = three_hundred_at_once(db, &call).await;
    // First come, first served: numbers 1..=38 hold the money, everyone after waits.
    for r in &receipts {
        if r.seq <= GRANTS_IN_ER_BUDGET {
            assert_eq!(
                (r.status.as_str(), r.reserved_cents.cents()),
                ("reserved", GRANT_CENTS),
                "{}",
                r.protocol
            );
        } else {
            assert_eq!(
                (r.status.as_str(), r.reserved_cents.cents()),
                ("waitlisted", 0),
                "{}",
                r.protocol
            );
        }
    }
    let stored = store.call(ER_CALL).await.unwrap().expect("call");
    assert_eq!(
        stored.reserved.cents(),
        GRANTS_IN_ER_BUDGET as i64 * GRANT_CENTS
    );
    assert_eq!(
        stored.remaining().cents(),
        ER_BUDGET_CENTS - 38 * GRANT_CENTS
    );
    assert_eq!(stored.waitlisted, 300 - GRANTS_IN_ER_BUDGET as i64);
}

pub async fn intake_300_concurrent_all_fit(db: &TestDb) {
    let mut call = er_call_open();
    // Exactly 300 grants: the last one takes the last cent.
    call.budget = Money::from_cents(300 * GRANT_CENTS);
    let (store, receipts) = three_hundred_at_once(db, &call).await;
    assert!(
        receipts
            .iter()
            .all(|r| r.status == Status::Reserved && r.reserved_cents.cents() == GRANT_CENTS)
    );
    let stored = store.call(ER_CALL).await.unwrap().expect("call");
    assert_eq!(stored.reserved, call.budget);
    assert_eq!(stored.remaining(), Money::ZERO);
    assert_eq!(stored.waitlisted, 0);
}

pub async fn intake_retries_are_idempotent(db: &TestDb) {
    let call = er_call_open();
    let store = open_with(db, &call, &comuni(5)).await;
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let c1 = project(&call, PROJECT_COST_CENTS, "prima versione");
    let c2 = project(&call, PROJECT_COST_CENTS, "seconda versione");
    assert_ne!(c1.content.sha256_hex(), c2.content.sha256_hex());

    let r1 = created(
        &intake
            .submit(submission(ER_CALL, "t0001", None, c1.clone()))
            .await,
    );
    let r2 = created(
        &intake
            .submit(submission(ER_CALL, "t0002", Some("chiave-2"), c1.clone()))
            .await,
    );
    let ledger_before = ledger_len(&store).await;
    let counters_before = store.call(ER_CALL).await.unwrap().unwrap();
    assert_eq!(store.ranking(ER_CALL).await.unwrap().len(), 2);

    // Same entity, same content, no key: the first receipt, field by field.
    assert_eq!(
        intake
            .submit(submission(ER_CALL, "t0001", None, c1.clone()))
            .await,
        Ok(Accepted::Replayed(r1.clone()))
    );
    // Same key, same content: the first receipt.
    assert_eq!(
        intake
            .submit(submission(ER_CALL, "t0002", Some("chiave-2"), c1.clone()))
            .await,
        Ok(Accepted::Replayed(r2.clone()))
    );
    // Same key, different content: a conflict naming the first protocol.
    assert_eq!(
        intake
            .submit(submission(ER_CALL, "t0002", Some("chiave-2"), c2.clone()))
            .await,
        Err(IntakeError::IdempotencyConflict {
            protocol: r2.protocol.clone()
        })
    );
    // Different content, no key, one application per entity: already applied.
    assert_eq!(
        intake
            .submit(submission(ER_CALL, "t0001", None, c2.clone()))
            .await,
        Err(IntakeError::AlreadyApplied {
            protocol: r1.protocol.clone()
        })
    );
    // Different content under a fresh key: still one application per entity.
    assert_eq!(
        intake
            .submit(submission(
                ER_CALL,
                "t0002",
                Some("chiave-nuova"),
                c2.clone()
            ))
            .await,
        Err(IntakeError::AlreadyApplied {
            protocol: r2.protocol.clone()
        })
    );
    assert_eq!(
        ledger_len(&store).await,
        ledger_before,
        "retries and refusals append nothing"
    );
    assert_eq!(store.ranking(ER_CALL).await.unwrap().len(), 2);
    let counters = store.call(ER_CALL).await.unwrap().unwrap();
    assert_eq!(
        (
            counters.reserved,
            counters.applications,
            counters.waitlisted,
            counters.last_event_ledger_seq
        ),
        (
            counters_before.reserved,
            counters_before.applications,
            counters_before.waitlisted,
            counters_before.last_event_ledger_seq
        )
    );

    // Retries racing the first submission (none committed yet, so they reach the
    // sequencer together): one application, every answer the same receipt.
    let racing = |entity: &str, key: Option<&str>| {
        (0..12)
            .map(|_| submission(ER_CALL, entity, key, c1.clone()))
            .collect::<Vec<_>>()
    };
    for (entity, key) in [("t0003", None), ("t0004", Some("chiave-4"))] {
        let answers = submit_concurrently(std::slice::from_ref(&intake), racing(entity, key)).await;
        let firsts: Vec<&Receipt> = answers
            .iter()
            .filter_map(|a| match a {
                Ok(Accepted::Created(r)) => Some(r),
                _ => None,
            })
            .collect();
        assert_eq!(
            firsts.len(),
            1,
            "{entity}: exactly one new application: {answers:?}"
        );
        let first = firsts[0].clone();
        for a in &answers {
            match a {
                Ok(Accepted::Created(r)) | Ok(Accepted::Replayed(r)) => assert_eq!(r, &first),
                Err(e) => panic!("{entity}: a retry was refused: {e:?}"),
            }
        }
    }
    // One key, different contents at once: one wins, the others conflict with it.
    let contents: Vec<_> = (0..8)
        .map(|i| {
            submission(
                ER_CALL,
                "t0005",
                Some("chiave-5"),
                project(&call, PROJECT_COST_CENTS, &format!("v{i}")),
            )
        })
        .collect();
    let answers = submit_concurrently(std::slice::from_ref(&intake), contents).await;
    let winner = answers
        .iter()
        .find_map(|a| match a {
            Ok(Accepted::Created(r)) => Some(r.clone()),
            _ => None,
        })
        .expect("one of them is accepted");
    let conflicts = answers
        .iter()
        .filter(|a| {
            **a == Err(IntakeError::IdempotencyConflict {
                protocol: winner.protocol.clone(),
            })
        })
        .count();
    assert_eq!(conflicts, answers.len() - 1, "{answers:?}");

    let ranking = store.ranking(ER_CALL).await.unwrap();
    let prefix = r1.protocol.rsplit_once('/').unwrap().0;
    let rows: Vec<(u64, String, String)> = ranking
        .iter()
        .map(|row| (row.seq, row.protocol.clone(), row.entity_code.clone()))
        .collect();
    let mut entities: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    entities.sort();
    assert_eq!(entities, ["t0001", "t0002", "t0003", "t0004", "t0005"]);
    for (i, (seq, protocol, _)) in rows.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1);
        assert_eq!(*protocol, format!("{prefix}/{seq:07}"));
    }
    assert_eq!(ledger_len(&store).await, ledger_before + 3);
    let report = store.verify().await.expect("verify");
    assert_eq!(report.applications, 5);
}

pub async fn refusals_store_nothing(db: &TestDb) {
    let store = open(db).await;
    store.upsert_entities(&comuni(2)).await.unwrap();
    let now = Timestamp::now();
    let mut upcoming = er_call_opening(now + SignedDuration::from_secs(3600));
    upcoming.code = CallCode::parse("bando-futuro").unwrap();
    upcoming.protocol_prefix = "FUT".into();
    let mut closed = er_call_opening(now - SignedDuration::from_secs(7200));
    closed
        .reschedule(closed.opens_at, Some(now - SignedDuration::from_secs(3600)))
        .unwrap();
    closed.code = CallCode::parse("bando-chiuso").unwrap();
    closed.protocol_prefix = "CHI".into();
    store.import_call(&upcoming).await.unwrap();
    store.import_call(&closed).await.unwrap();
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let before = ledger_len(&store).await;
    assert_eq!(before, 2);

    let app = standard_project(&upcoming);
    let sent = Timestamp::now();
    match intake
        .submit(submission("bando-futuro", "t0001", None, app.clone()))
        .await
    {
        Err(IntakeError::OutsideWindow(OutsideWindow::NotOpenYet {
            opens_at,
            server_time,
        })) => {
            assert_eq!(opens_at, upcoming.opens_at);
            assert!(
                server_time >= sent - SignedDuration::from_secs(1),
                "{server_time} vs {sent}"
            );
            assert!(server_time <= Timestamp::now());
            assert!(server_time < opens_at);
        }
        other => panic!("before the opening: {other:?}"),
    }
    let sent = Timestamp::now();
    match intake
        .submit(submission("bando-chiuso", "t0001", Some("k"), app.clone()))
        .await
    {
        Err(IntakeError::OutsideWindow(OutsideWindow::Closed {
            closes_at,
            server_time,
        })) => {
            assert_eq!(closes_at, closed.closes_at);
            assert!(server_time >= sent - SignedDuration::from_secs(1));
            assert!(server_time <= Timestamp::now());
            assert!(server_time >= closes_at);
        }
        other => panic!("after the closing: {other:?}"),
    }
    assert_eq!(
        intake
            .submit(submission("bando-inesistente", "t0001", None, app.clone()))
            .await,
        Err(IntakeError::CallNotFound)
    );
    // All three at once, in one batch with each other: the same answers.
    let answers = submit_concurrently(
        std::slice::from_ref(&intake),
        vec![
            submission("bando-futuro", "t0002", None, app.clone()),
            submission("bando-chiuso", "t0002", None, app.clone()),
            submission("bando-inesistente", "t0002", None, app.clone()),
        ],
    )
    .await;
    assert!(
        matches!(
            answers[0],
            Err(IntakeError::OutsideWindow(OutsideWindow::NotOpenYet { .. }))
        ),
        "{answers:?}"
    );
    assert!(
        matches!(
            answers[1],
            Err(IntakeError::OutsideWindow(OutsideWindow::Closed { .. }))
        ),
        "{answers:?}"
    );
    assert_eq!(answers[2], Err(IntakeError::CallNotFound));

    assert_eq!(
        ledger_len(&store).await,
        before,
        "nothing is written for a refusal"
    );
    for code in ["bando-futuro", "bando-chiuso"] {
        assert!(store.ranking(code).await.unwrap().is_empty());
        let c = store.call(code).await.unwrap().expect("call");
        assert_eq!(
            (c.applications, c.reserved, c.waitlisted),
            (0, Money::ZERO, 0)
        );
    }
    assert!(store.call("bando-inesistente").await.unwrap().is_none());
    let report = store.verify().await.expect("verify");
    assert_eq!((report.entries, report.applications), (2, 0));

    // A refused submission leaves no trace to trip over: once the call is open, the same
    // entity and key are accepted as new.
    let mut opened = er_call_open();
    opened.code = upcoming.code.clone();
    assert_eq!(
        store.import_call(&opened).await.unwrap(),
        ImportedCall::Replaced
    );
    let r = created(
        &intake
            .submit(submission("bando-futuro", "t0001", Some("k"), app.clone()))
            .await,
    );
    assert_eq!(r.seq, 1);
    store.verify().await.expect("verify");
}

pub async fn budget_below_one_grant(db: &TestDb) {
    const N: usize = 20;
    let mut waitlist = er_call_open();
    waitlist.budget = Money::from_cents(GRANT_CENTS - 1);
    let mut partial = waitlist.clone();
    partial.code = CallCode::parse("er-2020-smart-working-parziale").unwrap();
    partial.protocol_prefix = "ER-SWP".into();
    partial.when_not_fits = FitMode::Partial;
    let entities = comuni(N);
    let store = open_with(db, &waitlist, &entities).await;
    store.import_call(&partial).await.unwrap();
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let app = standard_project(&waitlist);

    // Both calls at once, so that batches hold submissions of both.
    let mut subs = Vec::new();
    for e in &entities {
        subs.push(submission(ER_CALL, &code(e), None, app.clone()));
        subs.push(submission(
            partial.code.as_str(),
            &code(e),
            None,
            app.clone(),
        ));
    }
    let answers = submit_concurrently(std::slice::from_ref(&intake), subs).await;
    let mut by_call: HashMap<String, Vec<Receipt>> = HashMap::new();
    for a in &answers {
        let r = created(a);
        by_call.entry(r.call.clone()).or_default().push(r);
    }
    let w = check_numbering(&store, &waitlist, by_call.remove(ER_CALL).unwrap()).await;
    let p = check_numbering(
        &store,
        &partial,
        by_call.remove(partial.code.as_str()).unwrap(),
    )
    .await;
    assert_eq!((w.len(), p.len()), (N, N));

    // Waitlist: nobody fits, nobody gets anything.
    assert!(
        w.iter()
            .all(|r| r.status == Status::Waitlisted && r.reserved_cents == Money::ZERO)
    );
    let stored = store.call(ER_CALL).await.unwrap().unwrap();
    assert_eq!(
        (stored.reserved, stored.waitlisted, stored.applications),
        (Money::ZERO, N as i64, N as i64)
    );
    assert_eq!(stored.remaining(), waitlist.budget);
    assert!(
        store
            .ranking(ER_CALL)
            .await
            .unwrap()
            .iter()
            .all(|row| row.status == Status::Waitlisted && row.reserved_cents == Money::ZERO)
    );

    // Partial: the first takes all there is, the rest wait with nothing.
    assert_eq!(
        (p[0].status, p[0].reserved_cents),
        (Status::Partial, partial.budget)
    );
    assert!(
        p[1..]
            .iter()
            .all(|r| r.status == Status::Waitlisted && r.reserved_cents == Money::ZERO)
    );
    let stored = store.call(partial.code.as_str()).await.unwrap().unwrap();
    assert_eq!(
        (stored.reserved, stored.remaining()),
        (partial.budget, Money::ZERO)
    );
    // A partial award still waits for the rest of its grant.
    assert_eq!(stored.waitlisted, N as i64);

    let report = store.verify().await.expect("verify");
    assert_eq!((report.calls, report.applications), (2, 2 * N as u64));
}

/// Rule 4 holds whatever the call's limit of applications per entity: the same content
/// from the same entity is a retry whether it arrives after the first was committed or
/// races it into the sequencer.
pub async fn intake_retries_without_per_entity_limit(db: &TestDb) {
    let mut unlimited = er_call_open();
    unlimited.applications_per_entity = 0;
    let mut two_each = er_call_open();
    two_each.code = CallCode::parse("due-per-ente").unwrap();
    two_each.protocol_prefix = "DUE".into();
    two_each.applications_per_entity = 2;
    let store = open_with(db, &unlimited, &comuni(4)).await;
    store.import_call(&two_each).await.unwrap();
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let v = |i: u32| project(&unlimited, PROJECT_COST_CENTS, &format!("v{i}"));

    for call in [ER_CALL, two_each.code.as_str()] {
        // Racing copies of one submission, no key: one application.
        let racing = (0..12)
            .map(|_| submission(call, "t0001", None, v(1)))
            .collect();
        let answers = submit_concurrently(std::slice::from_ref(&intake), racing).await;
        let first = answers
            .iter()
            .find_map(|a| match a {
                Ok(Accepted::Created(r)) => Some(r.clone()),
                _ => None,
            })
            .expect("one is created");
        for a in &answers {
            match a {
                Ok(Accepted::Created(r)) | Ok(Accepted::Replayed(r)) => {
                    assert_eq!(r, &first, "{call}: {answers:?}")
                }
                Err(e) => panic!("{call}: a retry was refused: {e:?}"),
            }
        }
        assert_eq!(
            store.ranking(call).await.unwrap().len(),
            1,
            "{call}: {answers:?}"
        );
        // A retry after the commit: the same receipt.
        assert_eq!(
            intake.submit(submission(call, "t0001", None, v(1))).await,
            Ok(Accepted::Replayed(first.clone()))
        );
        // Different content from the same entity is a second application.
        let second = created(&intake.submit(submission(call, "t0001", None, v(2))).await);
        assert_eq!(second.seq, 2);
        // ... and a retry of that one returns its own receipt.
        assert_eq!(
            intake.submit(submission(call, "t0001", None, v(2))).await,
            Ok(Accepted::Replayed(second.clone()))
        );
    }
    // Two per entity: the third is refused, naming the first protocol.
    let firsts = store.ranking(two_each.code.as_str()).await.unwrap();
    assert_eq!(
        intake
            .submit(submission(two_each.code.as_str(), "t0001", None, v(3)))
            .await,
        Err(IntakeError::AlreadyApplied {
            protocol: firsts[0].protocol.clone()
        })
    );
    // Unlimited: a third is fine.
    assert_eq!(
        created(
            &intake
                .submit(submission(ER_CALL, "t0001", None, v(3)))
                .await
        )
        .seq,
        3
    );
    let report = store.verify().await.expect("verify");
    assert_eq!(report.applications, 5);
}

/// While another writer holds the ledger lock, submissions queue up: nobody is answered
/// before their batch commits, and once it does, copies of one submission that met in the
/// same batch still make one application.
pub async fn duplicates_queued_behind_the_lock(db: &TestDb) {
    let call = er_call_open();
    let store = open_with(db, &call, &comuni(4)).await;
    let intake = Intake::start(store.clone(), QUEUE)
        // These stall the sequencer on purpose: no shedding meanwhile.
        .with_max_queue_delay(NO_SHEDDING);
    let c1 = project(&call, PROJECT_COST_CENTS, "v1");
    let before = ledger_len(&store).await;

    let (raw, holder) = hold_ledger_lock(db).await;

    // The first batch (one submission) waits for the lock; the copies pile up behind it
    // and meet in the next batch.
    let mut set = tokio::task::JoinSet::new();
    let spawn = |set: &mut tokio::task::JoinSet<_>, s: bandi_store::intake::Submission| {
        let intake = intake.clone();
        set.spawn(async move { (s.entity.clone(), intake.submit(s).await) });
    };
    spawn(&mut set, submission(ER_CALL, "t0004", None, c1.clone()));
    // Not a synchronisation: the pauses only make the interesting interleaving likely;
    // every assertion holds whatever happened.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    for _ in 0..10 {
        spawn(&mut set, submission(ER_CALL, "t0001", None, c1.clone()));
        spawn(
            &mut set,
            submission(ER_CALL, "t0002", Some("chiave-2"), c1.clone()),
        );
    }
    for i in 0..6 {
        let other = project(&call, PROJECT_COST_CENTS, &format!("k{i}"));
        spawn(
            &mut set,
            submission(ER_CALL, "t0003", Some("chiave-3"), other),
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(set.try_join_next().is_none(), "an answer before the commit");
    assert_eq!(ledger_len(&store).await, before);
    holder.rollback().await.expect("release the lock");

    let mut answers: HashMap<String, Vec<Result<Accepted, IntakeError>>> = HashMap::new();
    while let Some(done) = set.join_next().await {
        let (entity, a) = done.unwrap();
        answers.entry(entity).or_default().push(a);
    }
    assert_eq!(answers["t0001"].len(), 10);
    for entity in ["t0001", "t0002", "t0004"] {
        let list = &answers[entity];
        let firsts: Vec<Receipt> = list
            .iter()
            .filter_map(|a| match a {
                Ok(Accepted::Created(r)) => Some(r.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(firsts.len(), 1, "{entity}: {list:?}");
        for a in list {
            match a {
                Ok(Accepted::Created(r)) | Ok(Accepted::Replayed(r)) => {
                    assert_eq!(r, &firsts[0], "{entity}")
                }
                Err(e) => panic!("{entity}: {e:?}"),
            }
        }
    }
    let list = &answers["t0003"];
    let winner = list
        .iter()
        .find_map(|a| match a {
            Ok(Accepted::Created(r)) => Some(r.protocol.clone()),
            _ => None,
        })
        .expect("one key wins");
    let conflicts = list
        .iter()
        .filter(|a| {
            **a == Err(IntakeError::IdempotencyConflict {
                protocol: winner.clone(),
            })
        })
        .count();
    assert_eq!(conflicts, 5, "{list:?}");
    assert_eq!(store.ranking(ER_CALL).await.unwrap().len(), 4);
    assert_eq!(ledger_len(&store).await, before + 4);
    store.verify().await.expect("verify");
    raw.close().await;
}

/// A full queue answers `Overloaded` at once instead of queueing without bound, stores
/// nothing for those, and the admitted ones are committed when the database frees up.
pub async fn a_full_queue_refuses_at_once(db: &TestDb) {
    let call = er_call_open();
    let store = open_with(db, &call, &comuni(12)).await;
    let intake = Intake::start(store.clone(), 2);
    let (_raw, holder) = hold_ledger_lock(db).await;
    let mut set = tokio::task::JoinSet::new();
    for e in comuni(12) {
        let intake = intake.clone();
        let s = submission(ER_CALL, &code(&e), None, standard_project(&call));
        set.spawn(async move { intake.submit(s).await });
        // Not a synchronisation: lets the sequencer take the first batch before the rest.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut overloaded = 0;
    while let Ok(Some(done)) =
        tokio::time::timeout(std::time::Duration::from_millis(200), set.join_next()).await
    {
        assert_eq!(done.unwrap(), Err(IntakeError::Overloaded));
        overloaded += 1;
    }
    // One batch is waiting on the lock and two submissions fill the queue.
    assert!(overloaded >= 8, "only {overloaded} refused");
    holder.rollback().await.expect("release the lock");
    let mut created = 0;
    while let Some(done) = set.join_next().await {
        assert!(matches!(done.unwrap(), Ok(Accepted::Created(_))));
        created += 1;
    }
    assert_eq!(created + overloaded, 12);
    assert_eq!(store.ranking(ER_CALL).await.unwrap().len(), created);
    store.verify().await.expect("verify");
}

/// The per-submission lookup of an entity's earlier applications must use its index, not
/// walk the whole call (which made the intake slower as the call filled up).
pub async fn entity_lookup_uses_its_index(db: &TestDb) {
    let call = er_call_open();
    let store = open_with(db, &call, &comuni(1)).await;
    if store.backend() != bandi_store::Backend::Sqlite {
        return; // PostgreSQL plans by statistics; its plan was already right.
    }
    let (pool, tx) = hold_ledger_lock(db).await;
    drop(tx);
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT content_sha256, receipt FROM applications \
         JOIN receipts ON receipts.entry = applications.ledger_seq WHERE call_code = $1 AND entity_code = $2 ORDER BY seq",
    )
    .bind(ER_CALL)
    .bind("x")
    .fetch_all(&pool)
    .await
    .expect("plan");
    let detail: Vec<&str> = plan.iter().map(|r| r.3.as_str()).collect();
    assert!(
        detail.iter().any(|d| d.contains("applications_by_entity")),
        "{detail:?}"
    );
    assert!(
        !detail.iter().any(|d| d.contains("TEMP B-TREE")),
        "no sort: {detail:?}"
    );
    // The sequencer's one lookup of a batch's Idempotency-Keys: an index search per pair.
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT receipt FROM applications \
         JOIN receipts ON receipts.entry = applications.ledger_seq WHERE (entity_code = $1 AND idempotency_key = $2) OR (entity_code = $3 AND idempotency_key = $4)",
    )
    .bind("a")
    .bind("k")
    .bind("b")
    .bind("k")
    .fetch_all(&pool)
    .await
    .expect("plan");
    let detail: Vec<&str> = plan.iter().map(|r| r.3.as_str()).collect();
    assert_eq!(
        detail
            .iter()
            .filter(|d| d.contains("applications_by_idempotency_key"))
            .count(),
        2,
        "{detail:?}"
    );
    assert!(!detail.iter().any(|d| d.starts_with("SCAN")), "{detail:?}");
}

/// One entity cannot take more than its share: beyond its in-flight limit its submissions
/// are refused at once, while another entity still gets in.
pub async fn one_entity_cannot_fill_the_queue(db: &TestDb) {
    use bandi_store::intake::MAX_IN_FLIGHT_PER_ENTITY;
    let call = er_call_open();
    let entities = comuni(2);
    let store = open_with(db, &call, &entities).await;
    let intake = Intake::start(store.clone(), QUEUE)
        // These stall the sequencer on purpose: no shedding meanwhile.
        .with_max_queue_delay(NO_SHEDDING);
    let (_raw, holder) = hold_ledger_lock(db).await;
    let greedy = code(&entities[0]);
    let mut set = tokio::task::JoinSet::new();
    let extra = 10;
    for i in 0..MAX_IN_FLIGHT_PER_ENTITY + extra {
        let intake = intake.clone();
        let s = submission(
            ER_CALL,
            &greedy,
            Some(&format!("chiave-{i}")),
            project(&call, PROJECT_COST_CENTS, &format!("v{i}")),
        );
        set.spawn(async move { intake.submit(s).await });
    }
    let mut refused = 0;
    while let Ok(Some(done)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), set.join_next()).await
    {
        assert_eq!(done.unwrap(), Err(IntakeError::TooManyInFlight));
        refused += 1;
    }
    assert_eq!(
        refused, extra,
        "exactly the submissions over the limit are refused"
    );
    // Another entity is not held back by the first one's limit.
    let other = {
        let intake = intake.clone();
        let s = submission(ER_CALL, &code(&entities[1]), None, standard_project(&call));
        tokio::spawn(async move { intake.submit(s).await })
    };
    holder.rollback().await.expect("release the lock");
    assert!(matches!(other.await.unwrap(), Ok(Accepted::Created(_))));
    let mut created = 0;
    while let Some(done) = set.join_next().await {
        match done.unwrap() {
            Ok(Accepted::Created(_)) => created += 1,
            Err(IntakeError::AlreadyApplied { .. }) => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(created, 1, "one application per entity");
    store.verify().await.expect("verify");
}

/// A sequencer stuck behind the database turns new submissions away at once, however
/// much room its queue has, and admits again as soon as it catches up.
pub async fn a_stalled_sequencer_sheds_at_once(db: &TestDb) {
    use bandi_store::intake::MAX_QUEUE_DELAY;
    let call = er_call_open();
    let entities = comuni(3);
    let store = open_with(db, &call, &entities).await;
    let intake = Intake::start(store.clone(), 10_000);
    let sub = |i: usize| submission(ER_CALL, &code(&entities[i]), None, standard_project(&call));
    assert!(intake.admit().is_ok(), "idle: admitted");

    let (_raw, holder) = hold_ledger_lock(db).await;
    let stuck = {
        let (intake, s) = (intake.clone(), sub(0));
        tokio::spawn(async move { intake.submit(s).await })
    };
    tokio::time::sleep(MAX_QUEUE_DELAY * 2).await;
    assert_eq!(intake.admit().err(), Some(IntakeError::Overloaded));
    assert_eq!(intake.submit(sub(1)).await, Err(IntakeError::Overloaded));
    assert_eq!(ledger_len(&store).await, 1, "nothing stored meanwhile");

    holder.rollback().await.expect("release the lock");
    assert!(matches!(stuck.await.unwrap(), Ok(Accepted::Created(_))));
    assert!(intake.admit().is_ok(), "caught up: admitted again");
    assert!(matches!(
        intake.submit(sub(1)).await,
        Ok(Accepted::Created(_))
    ));
    store.verify().await.expect("verify");
}
