//! Documents attached to drafts, replaced, sealed by a submission, and read back byte for
//! byte.

use bandi_domain::application::AttachedDocument;
use bandi_store::intake::Intake;
use bandi_store::testing::TestDb;
use bandi_store::{NewDocument, StoreError};
use sha2::{Digest, Sha256};

use crate::support::*;

fn doc<'a>(entity: &'a str, attachment: &'a str, bytes: &'a [u8]) -> NewDocument<'a> {
    NewDocument {
        entity,
        call: ER_CALL,
        attachment,
        file_name: "piano.pdf",
        content_type: "application/pdf",
        uploaded_by: "user-1",
        bytes,
    }
}

pub async fn documents_belong_to_drafts_until_sealed(db: &TestDb) {
    let call = er_call_open();
    let store = open_with(db, &call, &comuni(2)).await;
    let first = code(&comune(1));
    let second = code(&comune(2));
    // Every byte value, so that a backend mangling binary data is caught.
    let v1: Vec<u8> = b"%PDF-1.7\n"
        .iter()
        .copied()
        .chain((0..=255u8).cycle().take(70_000))
        .collect();
    let put = store
        .put_document(doc(&first, "project_plan", &v1))
        .await
        .unwrap();
    assert_eq!(put.size_bytes, v1.len() as u64);
    assert_eq!(put.sha256, hex::encode(Sha256::digest(&v1)));
    assert_eq!(put.application, None);
    let (info, bytes) = store.document(&put.id).await.unwrap().unwrap();
    assert_eq!(info, put);
    assert_eq!(bytes, v1, "bytes read back as written");
    assert!(store.document("nope").await.unwrap().is_none());
    assert!(matches!(
        store
            .put_document(doc("missing", "project_plan", b"%PDF-"))
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Replacing keeps one version before the newest; the draft shows the newest.
    let v2 = store
        .put_document(doc(&first, "project_plan", b"%PDF-2"))
        .await
        .unwrap();
    let v3 = store
        .put_document(doc(&first, "project_plan", b"%PDF-3"))
        .await
        .unwrap();
    assert!(store.document(&put.id).await.unwrap().is_none(), "v1 gone");
    assert!(store.document(&v2.id).await.unwrap().is_some(), "v2 kept");
    let resolution = store
        .put_document(doc(&first, "resolution", b"%PDF-r"))
        .await
        .unwrap();
    let draft = store.draft_documents(&first, ER_CALL).await.unwrap();
    assert_eq!(
        draft.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        vec![v3.id.as_str(), resolution.id.as_str()]
    );
    assert!(
        store
            .draft_documents(&second, ER_CALL)
            .await
            .unwrap()
            .is_empty(),
        "documents are per entity"
    );

    // A submission naming the draft's documents seals them.
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let mut app = standard_project(&call);
    app.content.attachments = draft
        .iter()
        .map(|d| AttachedDocument {
            code: d.attachment.clone(),
            sha256: d.sha256.clone(),
        })
        .collect();
    let receipt = created(&intake.submit(submission(ER_CALL, &first, None, app)).await);
    let named: Vec<(String, String)> = draft
        .iter()
        .map(|d| (d.attachment.clone(), d.sha256.clone()))
        .collect();
    assert_eq!(
        store
            .seal_documents(&first, ER_CALL, &receipt.id, &named)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .seal_documents(&first, ER_CALL, &receipt.id, &named)
            .await
            .unwrap(),
        2,
        "sealing again for the same application is a no-op"
    );
    let sealed = store.application_documents(&receipt.id).await.unwrap();
    assert_eq!(sealed.len(), 2);
    assert!(
        sealed
            .iter()
            .all(|d| d.application.as_deref() == Some(receipt.id.as_str()))
    );
    assert!(
        store
            .draft_documents(&first, ER_CALL)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store.document(&v2.id).await.unwrap().is_none(),
        "older versions go"
    );
    assert_eq!(
        store.call_documents(ER_CALL).await.unwrap(),
        sealed,
        "officials see the sealed documents, not drafts"
    );
    let stored = store.application(&receipt.id).await.unwrap().unwrap();
    assert_eq!(
        stored.content.attachments.len(),
        2,
        "the content names them"
    );
    assert_eq!(stored.receipt.content_sha256, stored.content.sha256_hex());

    // A document named but missing is not silently ignored.
    let missing = vec![("project_plan".to_string(), "0".repeat(64))];
    assert!(matches!(
        store
            .seal_documents(&second, ER_CALL, &receipt.id, &missing)
            .await,
        Err(StoreError::Corrupt(_))
    ));
    // A new upload of the entity starts a new draft and leaves the sealed ones alone.
    store
        .put_document(doc(&first, "project_plan", b"%PDF-4"))
        .await
        .unwrap();
    assert_eq!(
        store.application_documents(&receipt.id).await.unwrap(),
        sealed
    );
    // Removing it from the draft leaves the sealed ones alone too.
    assert_eq!(
        store
            .remove_draft_document(&first, ER_CALL, "project_plan")
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .draft_documents(&first, ER_CALL)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.application_documents(&receipt.id).await.unwrap(),
        sealed
    );
    assert_eq!(
        store
            .remove_draft_document(&first, ER_CALL, "project_plan")
            .await
            .unwrap(),
        0
    );
}
