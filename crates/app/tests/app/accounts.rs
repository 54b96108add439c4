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
