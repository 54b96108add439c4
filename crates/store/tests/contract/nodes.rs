//! Two nodes on one database, each with its own sequencer: one numbering, one budget.

use bandi_store::intake::{Accepted, Intake, IntakeError};
use bandi_store::testing::TestDb;
use bandi_store::{Receipt, Store};

use bandi_domain::allocation::Status;

use crate::support::*;

pub async fn two_nodes_share_one_sequence(db: &TestDb) {
    const N: usize = 200;
    let call = er_call_open();
    let entities = comuni(N);
    let node_a = open_with(db, &call, &entities).await;
    let node_b = Store::connect(&db.url).await.expect("second node");
    assert_eq!(
        node_b.migrate().await.unwrap(),
        0,
        "the first node migrated"
    );
    let intake_a = Intake::start(node_a.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let intake_b = Intake::start(node_b.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let app = standard_project(&call);
    let sub = |i: usize| submission(ER_CALL, &code(&entities[i]), None, app.clone());
    let created_all = |answers: Vec<_>| -> Vec<Receipt> { answers.iter().map(created).collect() };

    // Turns first, so that each node must catch up with what the other appended.
    let wave_a = created_all(
        submit_concurrently(std::slice::from_ref(&intake_a), (0..20).map(sub).collect()).await,
    );
    let wave_b = created_all(
        submit_concurrently(std::slice::from_ref(&intake_b), (20..40).map(sub).collect()).await,
    );
    let mut seqs_b: Vec<u64> = wave_b.iter().map(|r| r.seq).collect();
    seqs_b.sort();
    assert_eq!(
        seqs_b,
        (21..=40).collect::<Vec<_>>(),
        "node B continues after node A"
    );
    // Node A's cache of the call is stale by 20 submissions here.
    let next_a = created(&intake_a.submit(sub(40)).await);
    assert_eq!(next_a.seq, 41);
    assert_eq!(
        next_a.status,
        Status::Waitlisted,
        "node A knows that B used up the budget"
    );

    // Then both at once, alternating.
    let together = created_all(
        submit_concurrently(
            &[intake_a.clone(), intake_b.clone()],
            (41..N).map(sub).collect(),
        )
        .await,
    );

    let mut receipts = wave_a;
    receipts.extend(wave_b);
    receipts.push(next_a);
    receipts.extend(together);
    let receipts = check_numbering(&node_a, &call, receipts).await;
    assert_eq!(receipts.len(), N);
    for r in &receipts {
        let expected = if r.seq <= GRANTS_IN_ER_BUDGET {
            ("reserved", GRANT_CENTS)
        } else {
            ("waitlisted", 0)
        };
        assert_eq!(
            (r.status.as_str(), r.reserved_cents.cents()),
            expected,
            "{}",
            r.protocol
        );
    }
    for node in [&node_a, &node_b] {
        let stored = node.call(ER_CALL).await.unwrap().expect("call");
        assert_eq!(
            stored.reserved.cents(),
            GRANTS_IN_ER_BUDGET as i64 * GRANT_CENTS
        );
        assert!(stored.reserved <= stored.budget);
        assert_eq!(stored.applications, N as i64);
        assert_eq!(node.ranking(ER_CALL).await.unwrap().len(), N);
        let report = node.verify().await.expect("verify");
        assert_eq!(
            (report.applications, report.entries),
            (N as u64, N as u64 + 1)
        );
    }

    // A retry reaching the other node gets the first receipt.
    for r in receipts.iter().step_by(17) {
        for intake in [&intake_a, &intake_b] {
            let again = intake
                .submit(submission(ER_CALL, &r.entity, None, app.clone()))
                .await;
            assert_eq!(again, Ok(Accepted::Replayed(r.clone())));
        }
    }
    assert_eq!(ledger_len(&node_b).await, N + 1);
}

/// The naive baseline of the benchmarks, side by side with a sequencer on the same
/// database: it is slower, not looser — one numbering, the same allocation, a ledger that
/// verifies.
pub async fn naive_baseline_keeps_the_rules(db: &TestDb) {
    let call = er_call_open();
    let entities = comuni(120);
    let store = open_with(db, &call, &entities).await;
    let intakes = [
        Intake::start_naive(store.clone()),
        Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING),
    ];
    let app = standard_project(&call);
    let mut submissions: Vec<_> = entities
        .iter()
        .map(|e| submission(ER_CALL, &code(e), None, app.clone()))
        .collect();
    // A retry through the naive path gets the first receipt too.
    submissions.push(submission(ER_CALL, &code(&entities[0]), None, app.clone()));
    let answers = submit_concurrently(&intakes, submissions).await;
    let (new, replayed): (Vec<_>, Vec<_>) = answers
        .iter()
        .partition(|a| matches!(a, Ok(Accepted::Created(_))));
    assert_eq!((new.len(), replayed.len()), (120, 1));
    let receipts = check_numbering(&store, &call, new.into_iter().map(created).collect()).await;
    let reserved: Vec<u64> = receipts
        .iter()
        .filter(|r| r.status == Status::Reserved)
        .map(|r| r.seq)
        .collect();
    assert_eq!(reserved, (1..=38).collect::<Vec<_>>());
    assert!(matches!(replayed[0], Ok(Accepted::Replayed(r)) if r.entity == code(&entities[0])));
    let report = store.verify().await.expect("verify");
    assert_eq!(report.applications, 120);
}

/// A retry or a duplicate that reaches the node which did not take the first submission:
/// that node has seen nothing of it, so its answer must come from the ledger and the
/// database under the lock, and be the same as the first node's.
pub async fn retries_on_another_node(db: &TestDb) {
    let call = er_call_open();
    let entities = comuni(4);
    let node_a = open_with(db, &call, &entities).await;
    let node_b = Store::connect(&db.url).await.expect("second node");
    let intake_a = Intake::start(node_a.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let intake_b = Intake::start(node_b.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let first = standard_project(&call);
    let other = project(&call, PROJECT_COST_CENTS, "altra versione");
    let (e1, e2) = (code(&entities[0]), code(&entities[1]));

    let r1 = created(
        &intake_a
            .submit(submission(ER_CALL, &e1, None, first.clone()))
            .await,
    );
    let r2 = created(
        &intake_a
            .submit(submission(ER_CALL, &e2, Some("k-2"), first.clone()))
            .await,
    );
    let ledger_before = ledger_len(&node_a).await;

    assert_eq!(
        intake_b
            .submit(submission(ER_CALL, &e1, None, first.clone()))
            .await,
        Ok(Accepted::Replayed(r1.clone()))
    );
    assert_eq!(
        intake_b
            .submit(submission(ER_CALL, &e2, Some("k-2"), first.clone()))
            .await,
        Ok(Accepted::Replayed(r2.clone()))
    );
    assert_eq!(
        intake_b
            .submit(submission(ER_CALL, &e2, Some("k-2"), other.clone()))
            .await,
        Err(IntakeError::IdempotencyConflict {
            protocol: r2.protocol.clone()
        })
    );
    assert_eq!(
        intake_b
            .submit(submission(ER_CALL, &e1, Some("k-1"), other.clone()))
            .await,
        Err(IntakeError::AlreadyApplied {
            protocol: r1.protocol.clone()
        })
    );
    // The same, once node B has the call in its cache and A has moved on.
    let r3 = created(
        &intake_a
            .submit(submission(
                ER_CALL,
                &code(&entities[2]),
                None,
                first.clone(),
            ))
            .await,
    );
    assert_eq!(
        intake_b
            .submit(submission(
                ER_CALL,
                &code(&entities[2]),
                None,
                first.clone()
            ))
            .await,
        Ok(Accepted::Replayed(r3.clone()))
    );
    assert_eq!(
        intake_b
            .submit(submission(
                ER_CALL,
                &code(&entities[2]),
                None,
                other.clone()
            ))
            .await,
        Err(IntakeError::AlreadyApplied {
            protocol: r3.protocol.clone()
        })
    );
    assert_eq!(ledger_len(&node_a).await, ledger_before + 1);
    assert_eq!(node_a.ranking(ER_CALL).await.unwrap().len(), 3);
    node_a.verify().await.expect("verify");
}

/// A node restarted on a call that already has applications: its sequencer loads the call
/// as it starts, and goes on from where the ledger stands, retries and duplicates included.
pub async fn restarted_node_continues_the_call(db: &TestDb) {
    const N: usize = 40;
    let call = er_call_open();
    let entities = comuni(N + 1);
    let app = standard_project(&call);
    let sub = |i: usize| submission(ER_CALL, &code(&entities[i]), None, app.clone());
    let before = {
        let store = open_with(db, &call, &entities).await;
        let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
        let answers = submit_concurrently(&[intake], (0..N).map(sub).collect()).await;
        let receipts: Vec<Receipt> = answers.iter().map(created).collect();
        store.close().await;
        receipts
    };

    let store = Store::connect(&db.url).await.expect("the restarted node");
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let first = before.iter().find(|r| r.seq == 1).expect("seq 1");
    let entity = entities
        .iter()
        .position(|e| code(e) == first.entity)
        .expect("its entity");
    assert_eq!(
        intake.submit(sub(entity)).await,
        Ok(Accepted::Replayed(first.clone())),
        "a retry after the restart gets the first receipt"
    );
    let other = project(&call, PROJECT_COST_CENTS, "altra versione");
    assert_eq!(
        intake
            .submit(submission(ER_CALL, &first.entity, None, other))
            .await,
        Err(IntakeError::AlreadyApplied {
            protocol: first.protocol.clone()
        })
    );
    let next = created(&intake.submit(sub(N)).await);
    assert_eq!(
        next.seq,
        N as u64 + 1,
        "numbering goes on after the restart"
    );
    assert_eq!(
        next.status,
        Status::Waitlisted,
        "the budget went to the first 38"
    );
    let report = store.verify().await.expect("verify");
    assert_eq!(report.applications, N as u64 + 1);
}
