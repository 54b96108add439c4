//! Drafts and their documents: saved, replaced, removed, downloaded by whom may, and every
//! refusal.

use bandi_app::drafts::{DraftChange, Upload};
use bandi_app::intake::{Content, Submit};
use bandi_app::{Actor, AppError};
use bandi_domain::account::Role;
use bandi_domain::application::ApplicationContent;
use bandi_store::intake::Accepted;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;

use crate::support::*;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n";

fn upload(attachment: &str, name: &str, bytes: &'static [u8]) -> Upload {
    Upload::from_bytes(attachment, name, bytes.to_vec())
}

fn change(uploads: Vec<Upload>, remove: &[&str]) -> DraftChange {
    DraftChange {
        entity: entity("080001"),
        call: code(),
        draft: "{\"title\":\"bozza\"}".into(),
        uploads,
        remove: remove.iter().map(|s| s.to_string()).collect(),
    }
}

pub async fn drafts_documents_and_their_refusals(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(-1)).await;
    let staff = person(&app, "staff@example.it", Role::Applicant, &["080001"]).await;
    let other = person(&app, "altro@example.it", Role::Applicant, &["080002"]).await;
    let reviewer = person(&app, "rev@example.it", Role::Reviewer, &[]).await;
    let store = app.store();

    // Someone who does not act for the entity: nothing happens.
    assert!(matches!(
        app.save_draft(
            &other,
            change(vec![upload("project_plan", "p.pdf", PDF)], &[])
        )
        .await,
        Err(AppError::NotFound)
    ));
    assert!(
        store
            .draft("080001", code().as_str())
            .await
            .unwrap()
            .is_none()
    );
    // An attachment the call does not have, or two files for one: nothing happens.
    for uploads in [
        vec![upload("curriculum", "cv.pdf", PDF)],
        vec![
            upload("project_plan", "a.pdf", PDF),
            upload("project_plan", "b.pdf", PDF),
        ],
    ] {
        assert!(matches!(
            app.save_draft(&staff, change(uploads, &[])).await,
            Err(AppError::UnknownAttachment(_))
        ));
    }
    assert!(matches!(
        app.save_draft(&staff, change(vec![], &["curriculum"]))
            .await,
        Err(AppError::UnknownAttachment(_))
    ));
    assert!(
        store
            .draft("080001", code().as_str())
            .await
            .unwrap()
            .is_none()
    );

    // A good file and a bad one: the good one is kept, the bad one reported, the draft saved.
    let saved = app
        .save_draft(
            &staff,
            change(
                vec![
                    upload("project_plan", "piano\u{202E}fdp.exe", PDF),
                    upload("resolution", "delibera.pdf", b"<html>not a pdf"),
                ],
                &[],
            ),
        )
        .await
        .unwrap();
    assert_eq!(saved.documents.len(), 1);
    assert_eq!(
        saved.documents[0].file_name, "pianofdp.exe",
        "format characters go"
    );
    assert_eq!(saved.refused.len(), 1);
    assert_eq!(saved.refused[0].field, "attachments.resolution");
    assert_eq!(saved.refused[0].code, "document_wrong_type");
    assert!(
        store
            .draft("080001", code().as_str())
            .await
            .unwrap()
            .is_some()
    );
    let doc = saved.documents[0].clone();

    // Downloaded by the entity's staff and by officials, under its code and kind.
    for actor in [&staff, &reviewer, &Actor::Operator] {
        let (info, bytes, name) = app.document(actor, &doc.id).await.unwrap();
        assert_eq!(
            (info.id.as_str(), bytes.as_slice(), name.as_str()),
            (doc.id.as_str(), PDF, "project_plan.pdf")
        );
    }
    for actor in [&other, &Actor::Entity("080002".into())] {
        assert!(matches!(
            app.document(actor, &doc.id).await,
            Err(AppError::NotFound)
        ));
    }
    assert!(matches!(
        app.document(&staff, "nope").await,
        Err(AppError::NotFound)
    ));
    assert!(matches!(
        app.document(&staff, &"x".repeat(65)).await,
        Err(AppError::NotFound)
    ));

    // Removing it; a file sent for the same attachment replaces instead.
    let saved = app
        .save_draft(
            &staff,
            change(
                vec![upload("project_plan", "v2.pdf", PDF)],
                &["project_plan"],
            ),
        )
        .await
        .unwrap();
    assert_eq!(saved.documents.len(), 1);
    assert_eq!(saved.documents[0].file_name, "v2.pdf");
    let saved = app
        .save_draft(&staff, change(vec![], &["project_plan"]))
        .await
        .unwrap();
    assert!(saved.documents.is_empty());

    // Submitted: the draft can no longer change.
    let saved = app
        .save_draft(
            &staff,
            change(vec![upload("project_plan", "v3.pdf", PDF)], &[]),
        )
        .await
        .unwrap();
    let content: ApplicationContent = serde_json::from_value(serde_json::json!({
        "title": "Smart working", "summary": "", "lines": [{"category": "training", "description": "", "amount_cents": 7_500_000}],
        "indicators": {"staff_total": 50, "agile_workers_before": 2, "agile_workers_target": 30}
    }))
    .unwrap();
    let receipt = match app
        .submit(
            &staff,
            Submit {
                call: code(),
                entity: entity("080001"),
                idempotency_key: None,
                content: Content::Form(content),
            },
        )
        .await
    {
        Ok(Accepted::Created(r)) => r,
        other => panic!("{other:?}"),
    };
    let sealed = store.application_documents(&receipt.id).await.unwrap();
    assert_eq!(
        sealed.len(),
        1,
        "the form's submission names the draft's documents"
    );
    assert_eq!(sealed[0].sha256, saved.documents[0].sha256);
    for c in [
        change(vec![upload("project_plan", "v4.pdf", PDF)], &[]),
        change(vec![], &[]),
    ] {
        assert!(matches!(
            app.save_draft(&staff, c).await,
            Err(AppError::AlreadySubmitted)
        ));
    }
    assert_eq!(
        store.application_documents(&receipt.id).await.unwrap(),
        sealed
    );
    app.verify().await.expect("verify");
}
