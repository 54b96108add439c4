//! Submitting, by an API token or a person, and every refusal of it.

use bandi_app::intake::{Content, Submit};
use bandi_app::{Actor, AppError};
use bandi_domain::account::Role;
use bandi_domain::call::{CallCode, OutsideWindow};
use bandi_store::intake::Accepted;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;

use crate::support::*;

fn json(entity_code: &str, key: Option<&str>, euros: i64) -> Submit {
    Submit {
        call: code(),
        entity: entity(entity_code),
        idempotency_key: key.map(str::to_string),
        content: Content::Json(body(euros)),
    }
}

pub async fn submissions_and_their_refusals(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(-1)).await;
    let token = |e: &str| Actor::Entity(e.to_string());

    // Another entity's token: the answer of something that does not exist.
    let before = footprint(&app).await;
    assert!(matches!(
        app.submit(&token("080002"), json("080001", None, 75_000))
            .await,
        Err(AppError::NotFound)
    ));
    // An applicant for another entity, an official: the same.
    let other = person(&app, "altro@example.it", Role::Applicant, &["080002"]).await;
    let official = person(&app, "uff@example.it", Role::Admin, &[]).await;
    for actor in [&other, &official] {
        assert!(matches!(
            app.submit(actor, json("080001", None, 75_000)).await,
            Err(AppError::NotFound)
        ));
    }
    // A call that does not exist.
    let mut s = json("080001", None, 75_000);
    s.call = CallCode::parse("nessun-bando").unwrap();
    assert!(matches!(
        app.submit(&token("080001"), s).await,
        Err(AppError::CallNotFound)
    ));
    // An entity of another region.
    assert!(matches!(
        app.submit(&token("090001"), json("090001", None, 75_000))
            .await,
        Err(AppError::NotEligible(_))
    ));
    // Content that breaks the call's rules: every problem at once.
    let mut bad = body(75_000);
    bad["lines"][0]["category"] = "nope".into();
    bad["title"] = "".into();
    let mut s = json("080001", None, 0);
    s.content = Content::Json(bad);
    match app.submit(&token("080001"), s).await {
        Err(AppError::InvalidApplication(d)) => {
            let fields: Vec<&str> = d.iter().map(|e| e.field.as_str()).collect();
            assert!(
                fields.contains(&"title") && fields.contains(&"lines[0].category"),
                "{fields:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(footprint(&app).await, before, "refusals store nothing");

    // Accepted, by the token and by a person acting for the entity.
    let first = match app
        .submit(&token("080001"), json("080001", Some("k1"), 75_000))
        .await
    {
        Ok(Accepted::Created(r)) => r,
        other => panic!("{other:?}"),
    };
    let staff = person(&app, "staff@example.it", Role::Applicant, &["080003"]).await;
    assert!(matches!(
        app.submit(&staff, json("080003", None, 10_000)).await,
        Ok(Accepted::Created(_))
    ));
    let before = footprint(&app).await;
    // The same content again, with the same key, a new key, or none: the first receipt.
    for key in [Some("k1"), Some("k2"), None] {
        match app
            .submit(&token("080001"), json("080001", key, 75_000))
            .await
        {
            Ok(Accepted::Replayed(r)) => assert_eq!(r, first),
            other => panic!("{key:?}: {other:?}"),
        }
    }
    // Other content: the key's conflict, or the call's one application per entity.
    match app
        .submit(&token("080001"), json("080001", Some("k1"), 80_000))
        .await
    {
        Err(AppError::IdempotencyConflict { protocol }) => assert_eq!(protocol, first.protocol),
        other => panic!("{other:?}"),
    }
    match app
        .submit(&token("080001"), json("080001", Some("k3"), 80_000))
        .await
    {
        Err(AppError::AlreadyApplied { protocol }) => assert_eq!(protocol, first.protocol),
        other => panic!("{other:?}"),
    }
    assert_eq!(footprint(&app).await, before);
    app.verify().await.expect("verify");
}

pub async fn a_retry_after_the_closing_gets_its_receipt(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(-1)).await;
    let token = Actor::Entity("080001".into());
    let first = match app.submit(&token, json("080001", None, 75_000)).await {
        Ok(Accepted::Created(r)) => r,
        other => panic!("{other:?}"),
    };
    // The call closes (rescheduled behind everyone's back, as time would).
    let mut closed = er_call(SignedDuration::from_mins(-10));
    closed
        .reschedule(closed.opens_at, Some(jiff::Timestamp::now()))
        .unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE calls SET rules = $1")
        .bind(serde_json::to_string(&closed).unwrap())
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await; // the rules' cache
    match app.submit(&token, json("080001", None, 75_000)).await {
        Ok(Accepted::Replayed(r)) => assert_eq!(r, first),
        other => panic!("a retry after the closing: {other:?}"),
    }
    match app
        .submit(
            &Actor::Entity("080002".into()),
            json("080002", None, 75_000),
        )
        .await
    {
        Err(AppError::OutsideWindow(OutsideWindow::Closed {
            closes_at,
            server_time,
        })) => {
            assert!(server_time >= closes_at)
        }
        other => panic!("a new one after the closing: {other:?}"),
    }
    let before_opening = app.store().ranking(code().as_str()).await.unwrap().len();
    assert_eq!(before_opening, 1);
}
