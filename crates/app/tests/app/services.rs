//! The services catalogue and the practices an application cites, through the use cases:
//! who may import, a file's problems, and a submission naming a service at another price,
//! a service gone, or a practice not published is refused without a trace.

use bandi_app::intake::{Content, Submit};
use bandi_app::{Actor, AppError};
use bandi_domain::account::Role;
use bandi_domain::practice::{Lever, Licence, PracticeContent};
use bandi_store::intake::Accepted;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::support::*;

const CATALOGUE: &str = r#"
provider = "Lepida ScpA (prova)"
[[service]]
code = "LEP-IAAS-VM"
name = "Macchina virtuale"
kind = "cloud_hosting"
unit = "VM al mese"
unit_price = "85.00"
"#;

fn with_vm(quantity: i64, unit_price_cents: i64, practices: Vec<i64>) -> Value {
    let mut b = body(50_000);
    b["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"category": "technology", "description": "VM",
            "amount_cents": quantity * unit_price_cents,
            "service": {"code": "LEP-IAAS-VM", "quantity": quantity, "unit_price_cents": unit_price_cents}}));
    b["practices"] = json!(practices);
    b
}

fn submit(entity_code: &str, body: Value) -> Submit {
    Submit {
        call: code(),
        entity: entity(entity_code),
        idempotency_key: None,
        content: Content::Json(body),
    }
}

fn fields(e: AppError) -> Vec<(String, &'static str)> {
    match e {
        AppError::InvalidApplication(list) => list.into_iter().map(|e| (e.field, e.code)).collect(),
        other => panic!("{other:?}"),
    }
}

pub async fn catalogue_lines_and_cited_practices_are_checked_at_submission(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(-1)).await;
    let staff = person(&app, "staff@comune.example", Role::Applicant, &["080002"]).await;
    let token = Actor::Entity("080001".into());

    // Officials import; a file's problems are all named.
    assert!(matches!(
        app.import_catalogue_file(&staff, CATALOGUE).await,
        Err(AppError::Forbidden)
    ));
    match app
        .import_catalogue_file(&Actor::Operator, "provider = \"\"\n[[service]]\ncode = \"x\"\nname = \"a\"\nkind = \"cloud\"\nunit = \"u\"\nunit_price = \"1\"\n")
        .await
    {
        Err(AppError::InvalidCatalogue(problems)) => assert_eq!(problems.len(), 3, "{problems:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(app.catalogue().await.unwrap(), None);

    // Before any catalogue no service is known.
    let before = footprint(&app).await;
    let refused = app
        .submit(&token, submit("080001", with_vm(12, 8_500, vec![])))
        .await;
    assert_eq!(
        fields(refused.unwrap_err()),
        vec![("lines[1].service.code".to_string(), "unknown_service")]
    );
    let (catalogue, outcome) = app
        .import_catalogue_file(&Actor::Operator, CATALOGUE)
        .await
        .unwrap();
    assert_eq!((outcome.added, catalogue.services.len()), (1, 1));

    // Another price than the catalogue's, a practice nobody published.
    let n = app
        .propose_practice(
            &staff,
            "080002",
            PracticeContent {
                title: "Percorsi formativi".into(),
                summary: "Tre percorsi brevi in aula virtuale.".into(),
                body: String::new(),
                levers: vec![Lever::Training],
                licence: Licence::DOCUMENTS,
                links: vec![],
                call: None,
                project: None,
            },
            false,
        )
        .await
        .unwrap();
    let refused = app
        .submit(&token, submit("080001", with_vm(12, 8_000, vec![n])))
        .await;
    assert_eq!(
        fields(refused.unwrap_err()),
        vec![
            (
                "lines[1].service.unit_price_cents".to_string(),
                "service_price_changed"
            ),
            ("practices[0]".to_string(), "unknown_practice"),
        ]
    );
    assert_eq!(footprint(&app).await, before, "refusals leave nothing");

    // At the catalogue's price, citing a published practice: received, as sent.
    app.decide_practice(&Actor::Operator, n, true)
        .await
        .unwrap();
    let accepted = app
        .submit(&token, submit("080001", with_vm(12, 8_500, vec![n])))
        .await
        .unwrap();
    let Accepted::Created(receipt) = accepted else {
        panic!("{accepted:?}")
    };
    let stored = app.store().application(&receipt.id).await.unwrap().unwrap();
    let line = stored.content.lines[1].service.as_ref().unwrap();
    assert_eq!((line.code.as_str(), line.quantity), ("LEP-IAAS-VM", 12));
    assert_eq!(stored.content.practices, vec![n as u64]);

    // A practice born of that project: its call is the project's; another body's project,
    // or a protocol nobody has, is refused beside the field.
    let from_project = |project: &str| PracticeContent {
        title: "Il kit del progetto".into(),
        summary: "Quanto il progetto ha prodotto, da riusare.".into(),
        body: String::new(),
        levers: vec![Lever::Cloud],
        licence: Licence::SOFTWARE,
        links: vec![],
        call: None,
        project: Some(project.into()),
    };
    let m = app
        .propose_practice(
            &Actor::Operator,
            "080001",
            from_project(&receipt.protocol),
            false,
        )
        .await
        .unwrap();
    let kept = app.store().practice(m).await.unwrap().unwrap();
    assert_eq!(kept.content.call.as_deref(), Some(code().as_str()));
    assert_eq!(
        kept.content.project.as_deref(),
        Some(receipt.protocol.as_str())
    );
    for (entity, protocol) in [
        ("080002", receipt.protocol.as_str()),
        ("080001", "ER-SW-0000"),
    ] {
        match app
            .propose_practice(&Actor::Operator, entity, from_project(protocol), false)
            .await
        {
            Err(AppError::InvalidPractice(e)) => assert_eq!(e[0].field, "project"),
            other => panic!("{other:?}"),
        }
    }
}
