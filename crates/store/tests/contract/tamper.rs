//! `verify` finds what was changed behind the platform's back, and names it.

use bandi_domain::application::AttachedDocument;
use bandi_domain::ledger::entry_hash;
use bandi_store::intake::Intake;
use bandi_store::testing::TestDb;
use bandi_store::{NewDocument, Receipt, Store, StoreError};

use crate::support::*;

/// `verify` fails with a corruption error whose message contains every one of `needles`.
async fn assert_detected(store: &Store, what: &str, needles: &[&str]) {
    match store.verify().await {
        Err(e @ StoreError::Corrupt(_)) => {
            let msg = e.to_string();
            for n in needles {
                assert!(msg.contains(n), "{what}: {msg:?} does not name {n:?}");
            }
        }
        other => panic!("{what} went unnoticed: {other:?}"),
    }
}

pub async fn verify_detects_tampering(db: &TestDb) {
    let mut call = er_call_open();
    // Three grants fit: numbers 1..=3 reserved, 4 and 5 waitlisted.
    call.budget = bandi_domain::money::Money::from_cents(3 * GRANT_CENTS);
    let entities = comuni(5);
    let store = open_with(db, &call, &entities).await;
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let app = standard_project(&call);
    let mut receipts: Vec<Receipt> = Vec::new();
    for e in &entities {
        receipts.push(created(
            &intake
                .submit(submission(ER_CALL, &code(e), None, app.clone()))
                .await,
        ));
    }
    let clean = store.verify().await.expect("untouched data verifies");
    assert_eq!(clean.applications, 5);
    let raw = raw_pool(db).await;
    let p = |seq: usize| receipts[seq - 1].protocol.clone();

    // An application's reserved amount, raised by a cent.
    exec(&raw, &format!("UPDATE applications SET reserved_cents = reserved_cents + 1 WHERE call_code = '{ER_CALL}' AND seq = 2")).await;
    assert_detected(
        &store,
        "a changed reserved amount",
        &[&format!("application {}", p(2)), "reserved"],
    )
    .await;
    exec(&raw, &format!("UPDATE applications SET reserved_cents = reserved_cents - 1 WHERE call_code = '{ER_CALL}' AND seq = 2")).await;
    assert_eq!(store.verify().await.expect("restored"), clean);

    // A waitlisted application promoted to reserved.
    exec(&raw, &format!("UPDATE applications SET status = 'reserved', reserved_cents = {GRANT_CENTS} WHERE call_code = '{ER_CALL}' AND seq = 4")).await;
    assert_detected(
        &store,
        "a promoted application",
        &[&format!("application {}", p(4))],
    )
    .await;
    exec(&raw, &format!("UPDATE applications SET status = 'waitlisted', reserved_cents = 0 WHERE call_code = '{ER_CALL}' AND seq = 4")).await;
    store.verify().await.expect("restored");

    // An application handed to another entity.
    exec(&raw, &format!("UPDATE applications SET entity_code = 't0001' WHERE call_code = '{ER_CALL}' AND seq = 3")).await;
    assert_detected(
        &store,
        "a changed entity",
        &[&format!("application {}", p(3)), "entity"],
    )
    .await;
    exec(&raw, &format!("UPDATE applications SET entity_code = 't0003' WHERE call_code = '{ER_CALL}' AND seq = 3")).await;
    store.verify().await.expect("restored");

    // The content itself, edited: the row still names the sealed hash, the text does not.
    exec(&raw, &format!("UPDATE applications SET content = replace(content, 'Lavoro agile', 'Lavoro agilissimo') WHERE call_code = '{ER_CALL}' AND seq = 1")).await;
    assert_detected(
        &store,
        "an edited content",
        &[&format!("application {}", p(1)), "content"],
    )
    .await;
    exec(&raw, &format!("UPDATE applications SET content = replace(content, 'Lavoro agilissimo', 'Lavoro agile') WHERE call_code = '{ER_CALL}' AND seq = 1")).await;
    store.verify().await.expect("restored");

    // The public counter of the call.
    exec(
        &raw,
        &format!("UPDATE calls SET reserved_cents = reserved_cents - 100 WHERE code = '{ER_CALL}'"),
    )
    .await;
    assert_detected(&store, "a changed call counter", &[ER_CALL, "reserved"]).await;
    exec(
        &raw,
        &format!("UPDATE calls SET reserved_cents = reserved_cents + 100 WHERE code = '{ER_CALL}'"),
    )
    .await;
    store.verify().await.expect("restored");

    // A ledger payload edited in place: the entry's hash no longer matches.
    let entry = store
        .ledger_entry(receipts[2].ledger_seq)
        .await
        .unwrap()
        .expect("entry");
    let forged = entry.payload.replace(
        &format!("\"requested_cents\":{GRANT_CENTS}"),
        "\"requested_cents\":1",
    );
    assert_ne!(forged, entry.payload);
    exec(
        &raw,
        &format!(
            "UPDATE ledger SET payload = '{forged}' WHERE seq = {}",
            entry.seq
        ),
    )
    .await;
    assert_detected(
        &store,
        "an edited ledger payload",
        &[&format!("ledger entry {}", entry.seq)],
    )
    .await;

    // ... and with its hash recomputed the next entry no longer links to it.
    let rehashed = entry_hash(entry.seq, &entry.prev_hash, &entry.kind, &entry.at, &forged);
    exec(
        &raw,
        &format!(
            "UPDATE ledger SET hash = '{rehashed}' WHERE seq = {}",
            entry.seq
        ),
    )
    .await;
    assert_detected(
        &store,
        "a re-hashed ledger entry",
        &[&format!("ledger entry {}", entry.seq + 1), "prev_hash"],
    )
    .await;
    exec(
        &raw,
        &format!(
            "UPDATE ledger SET payload = '{}', hash = '{}' WHERE seq = {}",
            entry.payload, entry.hash, entry.seq
        ),
    )
    .await;
    store.verify().await.expect("restored");

    // The head of the chain pointing elsewhere.
    exec(&raw, "UPDATE ledger_head SET seq = seq - 1 WHERE id = 1").await;
    assert_detected(&store, "a moved ledger head", &["ledger head"]).await;
    exec(&raw, "UPDATE ledger_head SET seq = seq + 1 WHERE id = 1").await;
    assert_eq!(store.verify().await.expect("restored"), clean);

    // A payment stored for an application the ledger records nothing for after its
    // submission.
    exec(&raw, &format!("INSERT INTO payments (call_code, seq, n, kind, amount_cents, paid_on, act_number, act_date, ledger_seq) VALUES ('{ER_CALL}', 3, 1, 'advance', 100, '2020-06-01', '1/2020', '2020-06-01', 1)")).await;
    assert_detected(
        &store,
        "a payment the ledger does not record",
        &[
            "application 3",
            "100 cents paid as stored, 0 as the ledger records",
        ],
    )
    .await;
    exec(
        &raw,
        &format!("DELETE FROM payments WHERE call_code = '{ER_CALL}' AND seq = 3"),
    )
    .await;
    store.verify().await.expect("restored");

    // An application that vanished.
    exec(
        &raw,
        &format!("DELETE FROM applications WHERE call_code = '{ER_CALL}' AND seq = 5"),
    )
    .await;
    assert_detected(
        &store,
        "a deleted application",
        &[ER_CALL, "4 applications stored, 5 in the ledger"],
    )
    .await;
    raw.close().await;
}

/// The bytes of a sealed attachment are covered by the content's hash: `verify` reads them
/// back and finds a changed or missing document.
pub async fn verify_detects_changed_attachments(db: &TestDb) {
    let call = er_call_open();
    let entities = comuni(1);
    let store = open_with(db, &call, &entities).await;
    let entity = code(&entities[0]);
    let bytes = b"%PDF-1.7\npiano del lavoro agile".to_vec();
    let put = store
        .put_document(
            NewDocument {
                entity: &entity,
                call: ER_CALL,
                attachment: "project_plan",
                file_name: "piano.pdf",
                content_type: "application/pdf",
                uploaded_by: "user-1",
                integration_request: None,
                report: None,
            },
            &mut &bytes[..],
        )
        .await
        .unwrap();
    let mut app = standard_project(&call);
    app.content.attachments = vec![AttachedDocument {
        code: "project_plan".into(),
        sha256: put.sha256.clone(),
    }];
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let receipt = created(&intake.submit(submission(ER_CALL, &entity, None, app)).await);
    store.verify().await.expect("sealed documents verify");

    let raw = raw_pool(db).await;
    let at = format!("application {}", receipt.protocol);
    let original = hex::encode(&bytes);
    let forged = hex::encode(b"%PDF-1.7\npiano falsificato");
    let set_bytes = |hex: &str| {
        let literal = if db.url.starts_with("sqlite:") {
            format!("X'{hex}'")
        } else {
            format!("'\\x{hex}'::bytea")
        };
        format!(
            "UPDATE document_chunks SET bytes = {literal} WHERE document_seq = \
             (SELECT seq FROM documents WHERE id = '{}')",
            put.id
        )
    };
    exec(&raw, &set_bytes(&forged)).await;
    assert_detected(
        &store,
        "changed attachment bytes",
        &[&at, "project_plan", "stored bytes"],
    )
    .await;
    exec(&raw, &set_bytes(&original)).await;
    store.verify().await.expect("restored");

    exec(
        &raw,
        &format!("DELETE FROM documents WHERE id = '{}'", put.id),
    )
    .await;
    assert_detected(
        &store,
        "a deleted attachment",
        &[&at, "project_plan", "not stored"],
    )
    .await;
    raw.close().await;
}
