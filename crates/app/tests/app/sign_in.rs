//! Signing in: wrong passwords are throttled per e-mail and address, per address, and
//! slowed down per e-mail, without ever locking the owner out; counts are shared by every
//! node on the database.

use bandi_app::sign_in::{ADDRESS_FAILURES, PAIR_ATTEMPTS};
use bandi_app::{App, AppError};
use bandi_domain::account::Role;
use bandi_store::intake::Intake;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;

use crate::support::*;

pub async fn sign_in_throttles_without_locking_the_owner_out(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(60)).await;
    person(&app, "staff@example.it", Role::Applicant, &["080001"]).await;
    let session = app
        .sign_in(" Staff@Example.it ", PASSWORD, "192.0.2.1")
        .await
        .unwrap();
    assert_eq!(session.user.email, "staff@example.it");
    assert!(app.store().session(&session.token).await.unwrap().is_some());
    app.sign_out(&session.token).await.unwrap();
    assert!(app.store().session(&session.token).await.unwrap().is_none());

    // An unknown e-mail and a wrong password: the same answer.
    for email in ["nobody@example.it", "staff@example.it"] {
        assert!(matches!(
            app.sign_in(email, "wrong wrong wrong", "192.0.2.9").await,
            Err(AppError::WrongCredentials)
        ));
    }
    // From the attacker's address: five attempts at that e-mail, then no more, not even
    // with the right password.
    for _ in 0..PAIR_ATTEMPTS {
        assert!(matches!(
            app.sign_in("staff@example.it", "guess", "198.51.100.1")
                .await,
            Err(AppError::WrongCredentials)
        ));
    }
    assert!(matches!(
        app.sign_in("staff@example.it", PASSWORD, "198.51.100.1")
            .await,
        Err(AppError::Throttled { .. })
    ));
    // The owner, from another address, gets in (a little slowed down).
    let owner = app.sign_in("staff@example.it", PASSWORD, "192.0.2.1").await;
    assert!(owner.is_ok(), "{:?}", owner.err());
    // A disabled account is a wrong password, whatever the password.
    let user = app
        .store()
        .user_by_email("staff@example.it")
        .await
        .unwrap()
        .unwrap()
        .0;
    app.store().set_disabled(&user.id, true).await.unwrap();
    assert!(matches!(
        app.sign_in("staff@example.it", PASSWORD, "192.0.2.2").await,
        Err(AppError::WrongCredentials)
    ));
    assert!(
        app.store()
            .session(&owner.unwrap().token)
            .await
            .unwrap()
            .is_none(),
        "its sessions ended with it"
    );
}

pub async fn the_throttle_holds_across_nodes(db: TestDb) {
    let a = app(&db, SignedDuration::from_mins(60)).await;
    // A second node on the same database.
    let store = bandi_store::Store::connect(&db.url).await.unwrap();
    let b = App::new(store.clone(), Intake::start_naive(store));
    // Failures of one address, spread over the two nodes and many e-mails.
    for i in 0..ADDRESS_FAILURES {
        let node = if i % 2 == 0 { &a } else { &b };
        assert!(matches!(
            node.sign_in(&format!("n{i}@example.it"), "x", "203.0.113.7")
                .await,
            Err(AppError::WrongCredentials)
        ));
    }
    for node in [&a, &b] {
        assert!(matches!(
            node.sign_in("another@example.it", "x", "203.0.113.7").await,
            Err(AppError::Throttled { .. })
        ));
    }
    // Attempts in parallel on both nodes at one e-mail from one address: counted exactly.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        set.spawn(async move { node.sign_in("p@example.it", "x", "203.0.113.8").await });
    }
    let mut checked = 0;
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Err(AppError::WrongCredentials) => checked += 1,
            Err(AppError::Throttled { .. }) | Err(AppError::Busy) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(checked <= PAIR_ATTEMPTS, "{checked} checked");
}
