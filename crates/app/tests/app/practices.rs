//! Practices through the use cases: who may propose, decide and reuse; every problem said
//! field by field; what is not published is not found.

use bandi_app::{Actor, AppError};
use bandi_domain::account::Role;
use bandi_domain::practice::{Lever, Licence, PracticeContent};
use bandi_store::PracticeQuery;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;

use crate::support::*;

fn content() -> PracticeContent {
    PracticeContent {
        title: "Percorsi formativi per i dirigenti".into(),
        summary: "Tre percorsi brevi in aula virtuale per chi guida squadre a distanza.".into(),
        body: "Materiali riusabili.".into(),
        levers: vec![Lever::Training],
        licence: Licence::DOCUMENTS,
        links: vec![],
        call: None,
        project: None,
    }
}

pub async fn practices_are_proposed_decided_and_reused(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(60)).await;
    let staff = person(&app, "staff@comune.example", Role::Applicant, &["080001"]).await;
    let other = person(&app, "altro@comune.example", Role::Applicant, &["080002"]).await;
    let reviewer = person(&app, "rev@regione.example", Role::Reviewer, &[]).await;

    // Only for one's own body; examples only from the command line.
    assert!(matches!(
        app.propose_practice(&staff, "080002", content(), false)
            .await,
        Err(AppError::Forbidden)
    ));
    assert!(matches!(
        app.propose_practice(&staff, "080001", content(), true)
            .await,
        Err(AppError::Forbidden)
    ));
    // Every problem at once, the call included.
    let bad = PracticeContent {
        title: "X".into(),
        levers: vec![],
        links: vec!["javascript:alert(1)".into()],
        call: Some("no-such-call".into()),
        project: None,
        ..content()
    };
    match app.propose_practice(&staff, "080001", bad, false).await {
        Err(AppError::InvalidPractice(errors)) => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["title", "levers", "links", "call"]);
        }
        other => panic!("{other:?}"),
    }
    let n = app
        .propose_practice(&staff, "080001", content(), false)
        .await
        .unwrap();
    // Not published: found by nobody, read by nobody.
    assert!(matches!(
        app.published_practice(n).await,
        Err(AppError::NotFound)
    ));
    assert!(
        app.search_practices("formazione", PracticeQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        app.reuse_practice(&other, n, "080002").await,
        Err(AppError::NotFound)
    ));
    // An applicant does not decide; an official does, once.
    assert!(matches!(
        app.decide_practice(&staff, n, true).await,
        Err(AppError::Forbidden)
    ));
    app.decide_practice(&reviewer, n, true).await.unwrap();
    assert!(
        matches!(app.decide_practice(&reviewer, n, false).await, Err(AppError::PracticeDecided(m)) if m == n)
    );
    let found = app
        .search_practices("la formazione", PracticeQuery::default())
        .await
        .unwrap();
    assert_eq!(found.iter().map(|p| p.n).collect::<Vec<_>>(), vec![n]);
    // The lever's name is a word it is found by too.
    assert_eq!(
        app.search_practices("training", PracticeQuery::default())
            .await
            .unwrap()
            .len(),
        1
    );
    // Reuse: not one's own, not for another's body, once counted.
    assert!(matches!(
        app.reuse_practice(&staff, n, "080001").await,
        Err(AppError::OwnPractice)
    ));
    assert!(matches!(
        app.reuse_practice(&other, n, "080001").await,
        Err(AppError::Forbidden)
    ));
    assert!(app.reuse_practice(&other, n, "080002").await.unwrap());
    assert!(!app.reuse_practice(&other, n, "080002").await.unwrap());
    assert_eq!(app.published_practice(n).await.unwrap().reuses, 1);
    // The operator's examples are published at once.
    let example = app
        .propose_practice(&Actor::Operator, "080002", content(), true)
        .await
        .unwrap();
    assert!(app.published_practice(example).await.unwrap().example);
}

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

pub async fn practice_files_are_attached_by_their_authority_and_read_once_published(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(60)).await;
    let staff = person(&app, "staff@comune.example", Role::Applicant, &["080001"]).await;
    let other = person(&app, "altro@comune.example", Role::Applicant, &["080002"]).await;
    let official = person(&app, "rev@regione.example", Role::Reviewer, &[]).await;
    let n = app
        .propose_practice(&staff, "080001", content(), false)
        .await
        .unwrap();

    // Another body's staff: as if it did not exist. Bytes that are no accepted kind: named.
    assert!(matches!(
        app.attach_to_practice(&other, n, "a.pdf", PDF).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.attach_to_practice(&staff, n, "virus.pdf", b"MZ\x90\x00 not a pdf")
            .await,
        Err(AppError::InvalidDocument { .. })
    ));
    assert!(matches!(
        app.attach_to_practice(&staff, n, "vuoto.pdf", b"").await,
        Err(AppError::InvalidDocument { .. })
    ));
    let first = app
        .attach_to_practice(&staff, n, "../Regolamento\u{202e}.pdf.hta", PDF)
        .await
        .unwrap();
    assert_eq!(
        first.file_name, "Regolamento.pdf.hta",
        "path and bidi override dropped"
    );
    assert_eq!(first.content_type, "application/pdf");
    for i in 2..=5 {
        app.attach_to_practice(&staff, n, &format!("kit-{i}.pdf"), PDF)
            .await
            .unwrap();
    }
    assert!(matches!(
        app.attach_to_practice(&staff, n, "sesto.pdf", PDF).await,
        Err(AppError::PracticeFilesFull)
    ));

    // Before publication: its authority and the officials read it, nobody else.
    assert!(matches!(
        app.practice_file(None, n, &first.id).await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.practice_file(Some(&other), n, &first.id).await,
        Err(AppError::NotFound)
    ));
    let (_, bytes, name) = app
        .practice_file(Some(&official), n, &first.id)
        .await
        .unwrap();
    assert_eq!(bytes, PDF);
    assert_eq!(name, "Regolamento_pdf.pdf", "never the uploaded extension");
    assert!(app.practice_file(Some(&staff), n, &first.id).await.is_ok());
    // Published: anyone; a file of another practice is not found under this one.
    app.decide_practice(&official, n, true).await.unwrap();
    assert!(app.practice_file(None, n, &first.id).await.is_ok());
    let m = app
        .propose_practice(&other, "080002", content(), false)
        .await
        .unwrap();
    assert!(matches!(
        app.practice_file(Some(&official), m, &first.id).await,
        Err(AppError::NotFound)
    ));

    // Taken out by its authority only; then gone.
    assert!(matches!(
        app.remove_practice_file(&other, n, &first.id).await,
        Err(AppError::NotFound)
    ));
    app.remove_practice_file(&staff, n, &first.id)
        .await
        .unwrap();
    assert!(matches!(
        app.practice_file(None, n, &first.id).await,
        Err(AppError::NotFound)
    ));
    assert_eq!(app.store().practice_files(n).await.unwrap().len(), 4);
    // A refused practice takes no file.
    app.decide_practice(&official, m, false).await.unwrap();
    assert!(matches!(
        app.attach_to_practice(&other, m, "a.pdf", PDF).await,
        Err(AppError::PracticeDecided(_))
    ));
}
