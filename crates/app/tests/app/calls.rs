//! Publishing a call, the registry and tokens: who may, and what cannot change.

use bandi_app::{Actor, AppError};
use bandi_domain::account::Role;
use bandi_store::ImportedCall;
use bandi_store::intake::Accepted;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;

use crate::support::*;

pub async fn calls_and_their_refusals(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(60)).await;
    let admin = person(&app, "admin@example.it", Role::Admin, &[]).await;
    let reviewer = person(&app, "rev@example.it", Role::Reviewer, &[]).await;
    let staff = person(&app, "staff@example.it", Role::Applicant, &["080001"]).await;
    let before = app.store().ledger_page(0, 1000).await.unwrap().len();

    // Only an admin (or the command line) publishes, fills the registry, issues tokens.
    let upcoming = er_call(SignedDuration::from_mins(30));
    for actor in [&reviewer, &staff, &Actor::Entity("080001".into())] {
        assert!(matches!(
            app.import_call(actor, &upcoming).await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            app.issue_token(actor, "080001").await,
            Err(AppError::Forbidden)
        ));
        assert!(matches!(
            app.import_entities(actor, &[comune("080009", "08")]).await,
            Err(AppError::Forbidden)
        ));
    }
    assert!(matches!(
        app.issue_token(&admin, "nope").await,
        Err(AppError::EntityNotFound(code)) if code == "nope"
    ));
    // Before the opening its rules change, as a new entry of the ledger.
    assert_eq!(
        app.import_call(&admin, &upcoming).await.unwrap(),
        ImportedCall::Replaced
    );
    assert_eq!(
        app.import_call(&admin, &upcoming).await.unwrap(),
        ImportedCall::Unchanged
    );
    assert_eq!(
        app.store().ledger_page(0, 1000).await.unwrap().len(),
        before + 1
    );
    // A call file with a mistake: its line and key, in both languages.
    match app
        .import_call_file(&admin, "code = \"x-y-z\"\ntitle = 42\n")
        .await
    {
        Err(e @ AppError::InvalidCallFile(_)) => {
            let t = e.text();
            assert!(t.it.contains("riga") && t.en.contains("line"), "{t:?}");
        }
        other => panic!("{other:?}"),
    }
    // Another call with the same protocol prefix: refused, naming the prefix and the call.
    let mut twin = er_call(SignedDuration::from_mins(30));
    twin.code = bandi_domain::call::CallCode::parse("altro-bando").unwrap();
    match app.import_call(&admin, &twin).await {
        Err(AppError::ProtocolPrefixTaken { prefix, call }) => {
            assert_eq!(
                (prefix.as_str(), call.as_str()),
                ("ER-SW", "er-2020-smart-working")
            )
        }
        other => panic!("{other:?}"),
    }
    // Once open, its rules no longer change, from anywhere (the command line too).
    let open = er_call(SignedDuration::from_mins(-1));
    app.import_call(&admin, &open).await.unwrap();
    assert!(matches!(
        app.submit(
            &Actor::Entity("080001".into()),
            bandi_app::intake::Submit {
                call: code(),
                entity: entity("080001"),
                idempotency_key: None,
                content: bandi_app::intake::Content::Json(body(75_000)),
            }
        )
        .await,
        Ok(Accepted::Created(_))
    ));
    let ledger = app.store().ledger_page(0, 1000).await.unwrap().len();
    for actor in [&admin, &Actor::Operator] {
        let mut changed = open.clone();
        changed.budget = bandi_domain::money::Money::from_euros(1);
        match app.import_call(actor, &changed).await {
            Err(AppError::CallOpened { call }) => assert_eq!(call, "er-2020-smart-working"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        app.store().ledger_page(0, 1000).await.unwrap().len(),
        ledger
    );
    app.verify().await.expect("verify");
}
