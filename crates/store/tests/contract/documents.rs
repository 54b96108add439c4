//! Documents attached to drafts, replaced, removed, sealed by the submission's own
//! transaction, and read back byte for byte from their chunks.

use bandi_domain::application::AttachedDocument;
use bandi_store::intake::{Intake, IntakeError};
use bandi_store::testing::TestDb;
use bandi_store::{CHUNK_BYTES, DocumentInfo, NewDocument, Store, StoreError};
use sha2::{Digest, Sha256};

use crate::support::*;

fn doc<'a>(entity: &'a str, attachment: &'a str) -> NewDocument<'a> {
    NewDocument {
        entity,
        call: ER_CALL,
        attachment,
        file_name: "piano.pdf",
        content_type: "application/pdf",
        uploaded_by: "user-1",
        integration_request: None,
        report: None,
    }
}

async fn put(store: &Store, entity: &str, attachment: &str, bytes: &[u8]) -> DocumentInfo {
    store
        .put_document(doc(entity, attachment), &mut &bytes[..])
        .await
        .unwrap()
}

fn named(docs: &[DocumentInfo]) -> Vec<AttachedDocument> {
    docs.iter()
        .map(|d| AttachedDocument {
            code: d.attachment.clone(),
            sha256: d.sha256.clone(),
        })
        .collect()
}

pub async fn documents_belong_to_drafts_until_sealed(db: &TestDb) {
    let call = er_call_open();
    let store = open_with(db, &call, &comuni(2)).await;
    let first = code(&comune(1));
    let second = code(&comune(2));
    // Every byte value, over several chunks, so that a backend mangling binary data or a
    // chunk out of order is caught.
    let v1: Vec<u8> = b"%PDF-1.7\n"
        .iter()
        .copied()
        .chain((0..=255u8).cycle().take(2 * CHUNK_BYTES + 70_000))
        .collect();
    let p1 = put(&store, &first, "project_plan", &v1).await;
    assert_eq!(p1.size_bytes, v1.len() as u64);
    assert_eq!(p1.sha256, hex::encode(Sha256::digest(&v1)));
    assert_eq!(p1.application, None);
    let (info, bytes) = store.document(&p1.id).await.unwrap().unwrap();
    assert_eq!(info, p1);
    assert_eq!(bytes, v1, "bytes read back as written, chunk by chunk");
    assert!(store.document("nope").await.unwrap().is_none());
    assert!(matches!(
        store
            .put_document(doc("missing", "project_plan"), &mut &b"%PDF-"[..])
            .await,
        Err(StoreError::NotFound(_))
    ));
    let too_large = vec![b' '; bandi_domain::document::MAX_DOCUMENT_BYTES + 1];
    assert!(matches!(
        store
            .put_document(doc(&first, "resolution"), &mut &too_large[..])
            .await,
        Err(StoreError::DocumentTooLarge)
    ));

    // Replacing: the draft shows the newest; the versions before stay stored (a submission
    // in flight may name one) but out of the draft.
    let v2 = put(&store, &first, "project_plan", b"%PDF-2").await;
    let v3 = put(&store, &first, "project_plan", b"%PDF-3").await;
    assert!(store.document(&p1.id).await.unwrap().is_some(), "v1 kept");
    let resolution = put(&store, &first, "resolution", b"%PDF-r").await;
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

    // A submission naming a version just replaced still finds it and seals it: a second
    // tab that replaced the file while the first submitted cannot take it away.
    let intake = Intake::start(store.clone(), QUEUE).with_max_queue_delay(NO_SHEDDING);
    let mut app = standard_project(&call);
    let mut names = named(&draft);
    names[0].sha256 = v2.sha256.clone();
    app.content.attachments = names;
    store.save_draft(&first, ER_CALL, "{}").await.unwrap();
    let receipt = created(&intake.submit(submission(ER_CALL, &first, None, app)).await);
    let sealed = store.application_documents(&receipt.id).await.unwrap();
    assert_eq!(
        sealed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        vec![v2.id.as_str(), resolution.id.as_str()],
        "sealed in the submission's own transaction: the versions it named"
    );
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
            .is_empty(),
        "the draft is gone with its other versions"
    );
    for gone in [&p1.id, &v3.id] {
        assert!(store.document(gone).await.unwrap().is_none(), "{gone}");
    }
    assert!(
        store.draft(&first, ER_CALL).await.unwrap().is_none(),
        "and the draft's form with them"
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
    store.verify().await.expect("verify");

    // A document named but not in the draft: the submission is refused, nothing stored.
    let mut ghost = standard_project(&call);
    ghost.content.attachments = vec![AttachedDocument {
        code: "project_plan".into(),
        sha256: "0".repeat(64),
    }];
    assert_eq!(
        intake
            .submit(submission(ER_CALL, &second, None, ghost))
            .await,
        Err(IntakeError::DocumentMissing {
            attachment: "project_plan".into()
        })
    );
    assert_eq!(store.ranking(ER_CALL).await.unwrap().len(), 1);

    // A new upload of the entity starts a new draft and leaves the sealed ones alone.
    put(&store, &first, "project_plan", b"%PDF-4").await;
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
    store.verify().await.expect("verify");
}
