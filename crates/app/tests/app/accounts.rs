//! Accounts: created by admins only, with every problem at once, bound to entities.

use bandi_app::AppError;
use bandi_app::accounts::NewAccount;
use bandi_domain::account::Role;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;

use crate::support::*;

fn new(email: &str, role: Option<Role>, password: &str, entities: &[&str]) -> NewAccount {
    NewAccount {
        email: email.into(),
        name: "Anna\u{200B} Rossi ".into(),
        role,
        password: password.into(),
        entities: entities.iter().map(|e| e.to_string()).collect(),
        fiscal_code: String::new(),
    }
}

pub async fn accounts_and_their_refusals(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(60)).await;
    let admin = person(&app, "admin@example.it", Role::Admin, &[]).await;
    let reviewer = person(&app, "rev@example.it", Role::Reviewer, &[]).await;
    let count = || async { app.store().users().await.unwrap().len() };
    let before = count().await;

    assert!(matches!(
        app.create_account(
            &reviewer,
            new("x@example.it", Some(Role::Applicant), PASSWORD, &["080001"])
        )
        .await,
        Err(AppError::Forbidden)
    ));
    // Every problem of the form at once.
    match app
        .create_account(&admin, new("not-an-address", None, "short", &["nope"]))
        .await
    {
        Err(AppError::InvalidAccount(p)) => {
            assert!(
                p.email.is_some()
                    && p.role.is_some()
                    && p.password.is_some()
                    && p.entities.is_some()
            );
            assert!(p.name.is_none());
        }
        other => panic!("{other:?}"),
    }
    // An applicant must act for an entity; an e-mail already taken is said so.
    for (account, field) in [
        (
            new("solo@example.it", Some(Role::Applicant), PASSWORD, &[]),
            "entities",
        ),
        (
            new(
                "ADMIN@example.it ",
                Some(Role::Applicant),
                PASSWORD,
                &["080001"],
            ),
            "email",
        ),
    ] {
        match app.create_account(&admin, account).await {
            Err(AppError::InvalidAccount(p)) => {
                assert!(p.field_errors().iter().any(|e| e.field == field), "{p:?}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(count().await, before, "nothing created");

    let user = app
        .create_account(
            &admin,
            new(
                "staff@example.it",
                Some(Role::Applicant),
                PASSWORD,
                &["080001"],
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        user.name, "Anna Rossi",
        "trimmed, without format characters"
    );
    assert_eq!(user.entities, ["080001"]);
    // Binding to another entity: admins only, entities that exist.
    assert!(matches!(
        app.bind_entity(&reviewer, &user.id, "080002").await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.bind_entity(&admin, &user.id, "nope").await,
        Err(AppError::InvalidAccount(_))
    ));
    assert!(matches!(
        app.bind_entity(&admin, "nobody", "080002").await,
        Err(AppError::NotFound)
    ));
    let bound = app.bind_entity(&admin, &user.id, "080002").await.unwrap();
    assert_eq!(bound.entities, ["080001", "080002"]);
}

/// SPID/CIE accounts: made with a fiscal code and no password, let in by that code only,
/// never by a password; a code bound to nobody, or to a disabled account, is not let in.
pub async fn fiscal_code_accounts_sign_in_with_spid_only(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(60)).await;
    let admin = person(&app, "admin@example.it", Role::Admin, &[]).await;
    let with_code = |code: &str, password: &str| NewAccount {
        fiscal_code: code.into(),
        ..new(
            "mario@example.it",
            Some(Role::Applicant),
            password,
            &["080001"],
        )
    };
    // A wrong check letter, and a short password beside a good code, are each said.
    match app
        .create_account(&admin, with_code("RSSMRA80A01H501V", ""))
        .await
    {
        Err(AppError::InvalidAccount(p)) => {
            assert!(p.fiscal_code.is_some() && p.password.is_none(), "{p:?}")
        }
        other => panic!("{other:?}"),
    }
    match app
        .create_account(&admin, with_code("RSSMRA80A01H501U", "short"))
        .await
    {
        Err(AppError::InvalidAccount(p)) => {
            assert!(p.fiscal_code.is_none() && p.password.is_some(), "{p:?}")
        }
        other => panic!("{other:?}"),
    }
    let user = app
        .create_account(&admin, with_code(" tinit-rssmra80a01h501u ", ""))
        .await
        .unwrap();
    assert_eq!(
        user.fiscal_code.as_ref().map(|c| c.as_str()),
        Some("RSSMRA80A01H501U")
    );
    // One account per fiscal code.
    match app
        .create_account(
            &admin,
            NewAccount {
                email: "altro@example.it".into(),
                ..with_code("RSSMRA80A01H501U", "")
            },
        )
        .await
    {
        Err(AppError::InvalidAccount(p)) => assert!(p.fiscal_code.is_some(), "{p:?}"),
        other => panic!("{other:?}"),
    }
    // No password opens it: not even the empty one.
    for password in ["", PASSWORD] {
        assert!(matches!(
            app.sign_in("mario@example.it", password, "10.0.0.9").await,
            Err(AppError::WrongCredentials)
        ));
    }
    let session = app
        .sign_in_with_fiscal_code("TINIT-RSSMRA80A01H501U", "SPID")
        .await
        .unwrap();
    assert_eq!(session.user.id, user.id);
    assert!(app.store().session(&session.token).await.unwrap().is_some());
    assert!(matches!(
        app.sign_in_with_fiscal_code("VRDGPP70A01F205V", "CIE").await,
        Err(AppError::NotBound { fiscal_code }) if fiscal_code == "VRDGPP70A01F205V"
    ));
    assert!(matches!(
        app.sign_in_with_fiscal_code("not a code", "SPID").await,
        Err(AppError::IdentityRefused(_))
    ));
    app.set_account_disabled(&admin, &user.id, true)
        .await
        .unwrap();
    assert!(app.store().session(&session.token).await.unwrap().is_none());
    assert!(matches!(
        app.sign_in_with_fiscal_code("RSSMRA80A01H501U", "SPID")
            .await,
        Err(AppError::NotBound { .. })
    ));
}
