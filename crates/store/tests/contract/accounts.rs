//! Accounts, sessions, drafts and the lookups the pages need.

use bandi_store::testing::TestDb;
use bandi_store::{Role, StoreError};
use jiff::SignedDuration;

use crate::support::*;

pub async fn accounts_sessions_and_drafts(db: &TestDb) {
    let call = er_call_open();
    let store = open_with(db, &call, &comuni(3)).await;
    let user = store
        .create_user(
            " Ufficio@Cervia.IT ",
            "Ufficio personale",
            "hash-1",
            Role::Applicant,
        )
        .await
        .expect("create");
    assert_eq!(user.email, "ufficio@cervia.it");
    let dup = store
        .create_user("ufficio@cervia.it", "Altro", "hash-2", Role::Admin)
        .await;
    assert!(
        matches!(&dup, Err(StoreError::EmailTaken { email }) if email == "ufficio@cervia.it"),
        "{dup:?}"
    );
    assert!(matches!(
        store.bind_entity(&user.id, "nope").await,
        Err(StoreError::NotFound(_))
    ));
    let first = code(&comune(1));
    let second = code(&comune(2));
    store.bind_entity(&user.id, &first).await.unwrap();
    store.bind_entity(&user.id, &first).await.unwrap();
    store.bind_entity(&user.id, &second).await.unwrap();
    let (found, hash) = store
        .user_by_email("UFFICIO@cervia.it")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash, "hash-1");
    assert_eq!(found.entities, vec![first.clone(), second.clone()]);
    assert!(found.acts_for(&first) && !found.acts_for(&code(&comune(3))));

    let (token, csrf) = store
        .create_session(&user.id, SignedDuration::from_hours(8))
        .await
        .unwrap();
    let session = store.session(&token).await.unwrap().expect("live session");
    assert_eq!(session.user.id, user.id);
    assert_eq!(session.csrf_token, csrf);
    assert!(store.session("not-a-session").await.unwrap().is_none());
    store.delete_session(&token).await.unwrap();
    assert!(store.session(&token).await.unwrap().is_none());
    let (expired, _) = store
        .create_session(&user.id, SignedDuration::from_secs(-1))
        .await
        .unwrap();
    assert!(store.session(&expired).await.unwrap().is_none(), "expired");

    assert_eq!(store.draft(&first, ER_CALL).await.unwrap(), None);
    store
        .save_draft(&first, ER_CALL, r#"{"title":"v1"}"#)
        .await
        .unwrap();
    store
        .save_draft(&first, ER_CALL, r#"{"title":"v2"}"#)
        .await
        .unwrap();
    assert_eq!(
        store.draft(&first, ER_CALL).await.unwrap().as_deref(),
        Some(r#"{"title":"v2"}"#)
    );
    assert_eq!(
        store.draft(&second, ER_CALL).await.unwrap(),
        None,
        "drafts are per entity"
    );
    store.delete_draft(&first, ER_CALL).await.unwrap();
    assert_eq!(store.draft(&first, ER_CALL).await.unwrap(), None);
}

pub async fn lookups_for_pages(db: &TestDb) {
    let call = er_call_open();
    let entities = comuni(3);
    let store = open_with(db, &call, &entities).await;
    let intake =
        bandi_store::intake::Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let mut receipts = Vec::new();
    for e in &entities {
        let answer = intake
            .submit(submission(ER_CALL, &code(e), None, standard_project(&call)))
            .await;
        receipts.push(created(&answer));
    }
    let mine = store
        .entity_applications(&code(&entities[1]))
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].receipt, receipts[1]);
    let all = store.call_applications(ER_CALL).await.unwrap();
    assert_eq!(
        all.iter().map(|a| a.receipt.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let (row, ledger_seq) = store
        .application_by_protocol(&receipts[2].protocol)
        .await
        .unwrap()
        .expect("found by protocol");
    assert_eq!((row.seq, ledger_seq), (3, receipts[2].ledger_seq));
    assert_eq!(row.entity_code, code(&entities[2]));
    assert!(
        store
            .application_by_protocol("ER-SW-1999/0000001")
            .await
            .unwrap()
            .is_none()
    );
}

/// Sign-in attempts: forty at once on one key get the counts 1 to 40 (no count is lost or
/// shared), many keys do not push each other out, and only windows that are over go.
pub async fn sign_in_attempts_are_counted_exactly(db: &TestDb) {
    let store = open(db).await;
    let window = jiff::SignedDuration::from_mins(15);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let store = store.clone();
        set.spawn(async move { store.count_attempt("pair:a@b.it|192.0.2.1", window).await });
    }
    let mut counts = Vec::new();
    while let Some(c) = set.join_next().await {
        counts.push(c.unwrap().unwrap());
    }
    counts.sort();
    assert_eq!(counts, (1..=40).collect::<Vec<i64>>());
    assert_eq!(
        store
            .attempts("pair:a@b.it|192.0.2.1", window)
            .await
            .unwrap(),
        40
    );

    // Thousands of other keys (an attacker's many addresses) leave this one's count alone.
    for i in 0..2_000 {
        store
            .count_attempt(&format!("addr:10.0.{}.{}", i / 256, i % 256), window)
            .await
            .unwrap();
    }
    assert_eq!(
        store.purge_attempts(window).await.unwrap(),
        0,
        "nothing is over yet"
    );
    assert_eq!(
        store
            .attempts("pair:a@b.it|192.0.2.1", window)
            .await
            .unwrap(),
        40
    );

    // A window that is over: the next attempt starts a new one, and the purge takes it.
    let raw = raw_pool(db).await;
    exec(
        &raw,
        "UPDATE sign_in_attempts SET window_start_us = window_start_us - 3600000000 WHERE key = 'addr:10.0.0.1'",
    )
    .await;
    assert_eq!(store.attempts("addr:10.0.0.1", window).await.unwrap(), 0);
    assert_eq!(store.purge_attempts(window).await.unwrap(), 1);
    assert_eq!(
        store.count_attempt("addr:10.0.0.1", window).await.unwrap(),
        1
    );
    store.clear_attempts("pair:a@b.it|192.0.2.1").await.unwrap();
    assert_eq!(
        store
            .attempts("pair:a@b.it|192.0.2.1", window)
            .await
            .unwrap(),
        0
    );
    raw.close().await;
}

/// SPID/CIE accounts: found by their fiscal code, one account per code, and the flows that
/// carry a sign-in through the provider taken once.
pub async fn fiscal_codes_and_sign_in_flows(db: &TestDb) {
    use bandi_store::{FiscalCode, SignInFlow};
    let call = er_call_open();
    let store = open_with(db, &call, &comuni(1)).await;
    let code = FiscalCode::parse("RSSMRA80A01H501U").unwrap();
    let user = store
        .create_user_bound(
            "mario@cervia.it",
            "Mario Rossi",
            "",
            Role::Applicant,
            Some(&code),
        )
        .await
        .unwrap();
    assert_eq!(user.fiscal_code.as_ref(), Some(&code));
    let found = store.user_by_fiscal_code(&code).await.unwrap().unwrap();
    assert_eq!(
        (found.id.as_str(), found.fiscal_code),
        (user.id.as_str(), Some(code.clone()))
    );
    let other = FiscalCode::parse("VRDGPP70A01F205V").unwrap();
    assert!(store.user_by_fiscal_code(&other).await.unwrap().is_none());
    let dup = store
        .create_user_bound("altro@cervia.it", "Altro", "", Role::Applicant, Some(&code))
        .await;
    assert!(
        matches!(&dup, Err(StoreError::FiscalCodeTaken { fiscal_code }) if fiscal_code == code.as_str()),
        "{dup:?}"
    );
    assert!(
        store
            .user_by_email("altro@cervia.it")
            .await
            .unwrap()
            .is_none()
    );

    let flow = SignInFlow {
        provider: "spid".into(),
        state: "s".repeat(43),
        nonce: "n".repeat(43),
        pkce_verifier: "v".repeat(43),
        next_path: "/area-riservata".into(),
    };
    store.create_sign_in_flow("cookie-1", &flow).await.unwrap();
    assert!(store.take_sign_in_flow("cookie-2").await.unwrap().is_none());
    assert_eq!(
        store.take_sign_in_flow("cookie-1").await.unwrap(),
        Some(flow.clone())
    );
    // Taken once: the same answer again finds nothing.
    assert!(store.take_sign_in_flow("cookie-1").await.unwrap().is_none());
    // Two answers racing for one flow: exactly one gets it.
    store.create_sign_in_flow("cookie-3", &flow).await.unwrap();
    let (a, b) = tokio::join!(
        store.take_sign_in_flow("cookie-3"),
        store.take_sign_in_flow("cookie-3")
    );
    assert_eq!(a.unwrap().is_some() as u8 + b.unwrap().is_some() as u8, 1);
}
