//! Attachments through the application form, as a browser sends them (multipart), with
//! the real router on a real socket: uploads, replacement, download rights, sealing at
//! submission, and every bad input refused with nothing changed.

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use sha2::{Digest, Sha256};

use super::{
    App, Browser, CODE, PASSWORD, error_code, form_path, good_fields, hidden, post_files, start,
    start_with,
};
use crate::testing::er_call;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The address of the first document link in a page.
fn document_link(html: &str) -> String {
    let start = html
        .find("href=\"/area-riservata/documenti/")
        .expect("a document link")
        + 6;
    html[start..].split('"').next().unwrap().to_string()
}

const PLAN: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
const PLAN_V2: &[u8] = b"%PDF-1.7\n% second version of the plan\n%%EOF\n";

async fn signed_in(app: &App, email: &str) -> (Browser, String, String) {
    let mut b = Browser::new(app);
    b.sign_in(email, PASSWORD).await;
    let page = b.get(&form_path("039007")).await;
    let (csrf, nonce) = if page.status == StatusCode::OK {
        (hidden(&page.body, "csrf"), hidden(&page.body, "nonce"))
    } else {
        (b.csrf().await, String::new())
    };
    (b, csrf, nonce)
}

on_both_backends! {
    async fn attachments_are_uploaded_replaced_downloaded_and_sealed(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
    let (mut b, csrf, nonce) = signed_in(&app, "cervia@example.it").await;
    let page = b.get(&form_path("039007")).await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("id=\"att-project_plan\""));
    assert!(page.body.contains("id=\"att-resolution\""));

    let r = post_files(
        &mut b,
        &form_path("039007"),
        &good_fields(&csrf, &nonce, "save"),
        &[(
            "att-project_plan",
            "C:\\Documenti\\piano.pdf",
            "application/pdf",
            PLAN,
        )],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Bozza salvata"));
    assert!(
        r.body.contains(">piano.pdf</a>"),
        "the name without folders"
    );
    assert!(r.body.contains(&sha(PLAN)));
    let kept = app.store.draft_documents("039007", CODE).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].sha256, sha(PLAN));
    assert_eq!(kept[0].content_type, "application/pdf");

    // The download: the bytes, as an attachment, never sniffed.
    let link = document_link(&r.body);
    let res = b
        .client
        .get(format!("{}{link}", b.base))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    // Served under the attachment's code and the detected kind, never the uploaded name.
    assert!(disposition.starts_with("attachment; filename=\"project_plan.pdf\""));
    assert_eq!(res.bytes().await.unwrap().as_ref(), PLAN);

    // Another entity's applicant gets the 404 of a document that does not exist; an
    // official gets the document.
    let mut other = Browser::new(&app);
    other.sign_in("ucdc@example.it", PASSWORD).await;
    let theirs = other.get(&link).await;
    let missing = other
        .get("/area-riservata/documenti/00000000000000000000000000000000")
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&theirs.body), error_code(&missing.body));
    assert!(!theirs.body.contains("piano.pdf"));
    let mut official = Browser::new(&app);
    official.sign_in("ufficio@example.it", PASSWORD).await;
    assert_eq!(official.get(&link).await.status, StatusCode::OK);

    // A new file replaces the one kept.
    let r = post_files(
        &mut b,
        &form_path("039007"),
        &good_fields(&csrf, &nonce, "save"),
        &[(
            "att-project_plan",
            "piano-v2.pdf",
            "application/pdf",
            PLAN_V2,
        )],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("piano-v2.pdf") && !r.body.contains(">piano.pdf<"));
    let kept = app.store.draft_documents("039007", CODE).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].sha256, sha(PLAN_V2));

    // Submitted: the content names the document and its hash covers it.
    let r = post_files(
        &mut b,
        &form_path("039007"),
        &good_fields(&csrf, &nonce, "submit"),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let apps = app.store.call_applications(CODE).await.unwrap();
    assert_eq!(apps.len(), 1);
    let a = &apps[0];
    assert_eq!(a.content.attachments.len(), 1);
    assert_eq!(a.content.attachments[0].code, "project_plan");
    assert_eq!(a.content.attachments[0].sha256, sha(PLAN_V2));
    assert_eq!(a.receipt.content_sha256, a.content.sha256_hex());
    let sealed = app
        .store
        .application_documents(&a.receipt.id)
        .await
        .unwrap();
    assert_eq!(sealed.len(), 1);
    assert!(
        app.store
            .draft_documents("039007", CODE)
            .await
            .unwrap()
            .is_empty()
    );
    let receipt = b.get(r.location()).await;
    assert!(receipt.body.contains("piano-v2.pdf"));
    assert!(receipt.body.contains(&sha(PLAN_V2)));
    assert!(receipt.body.contains("52.500,00 €"));
    let english = b
        .client
        .get(format!(
            "{}/area-riservata/ricevuta/{}",
            b.base, a.receipt.id
        ))
        .header("cookie", format!("{}; bandi_lang=en", b.cookie_header()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("€52,500.00") && !english.contains("52.500,00 €"));
    // The officials' list of the call's applications links the document.
    let list = official
        .get(&format!("/amministrazione/bandi/{CODE}"))
        .await;
    assert!(list.body.contains(">piano-v2.pdf</a>"));
    assert!(list.body.contains(&format!(
        "href=\"/area-riservata/documenti/{}\"",
        sealed[0].id
    )));

    // After submission the documents cannot be replaced: refused, nothing changed.
    let r = post_files(
        &mut b,
        &form_path("039007"),
        &good_fields(&csrf, &nonce, "save"),
        &[("att-project_plan", "piano-v3.pdf", "application/pdf", PLAN)],
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("non si possono più sostituire"));
    assert_eq!(
        app.store
            .application_documents(&a.receipt.id)
            .await
            .unwrap(),
        sealed
    );
    assert!(
        app.store
            .draft_documents("039007", CODE)
            .await
            .unwrap()
            .is_empty()
    );
}
}

/// What the store holds of Cervia's draft: the form as saved and its documents.
async fn draft_state(app: &App) -> (Option<String>, Vec<bandi_store::DocumentInfo>) {
    (
        app.store.draft("039007", CODE).await.unwrap(),
        app.store.draft_documents("039007", CODE).await.unwrap(),
    )
}

on_both_backends! {
    async fn bad_uploads_are_refused_and_the_rest_is_kept(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
    let (mut b, csrf, nonce) = signed_in(&app, "cervia@example.it").await;
    let path = form_path("039007");

    // Too large (one byte past 10 MiB), beside a good file: the good one and the typed
    // text are kept, the large one is refused next to its control.
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let r = post_files(
        &mut b,
        &path,
        &good_fields(&csrf, &nonce, "save"),
        &[
            ("att-project_plan", "grande.pdf", "application/pdf", &big),
            ("att-resolution", "delibera.pdf", "application/pdf", PLAN),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"att-project_plan-error\""));
    assert!(r.body.contains("dimensione massima"));
    assert!(
        r.body.contains("value=\"Smart working a Cervia\""),
        "typed text kept"
    );
    let (draft, docs) = draft_state(&app).await;
    assert!(
        draft.unwrap().contains("Smart working a Cervia"),
        "the draft is saved"
    );
    assert_eq!(
        docs.iter()
            .map(|d| d.attachment.as_str())
            .collect::<Vec<_>>(),
        ["resolution"],
        "the good file is kept, the large one is not"
    );

    // A page declared as a PDF is not one.
    let r = post_files(
        &mut b,
        &path,
        &good_fields(&csrf, &nonce, "save"),
        &[(
            "att-project_plan",
            "delibera.pdf",
            "application/pdf",
            b"<html><script>alert(1)</script></html>",
        )],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"att-project_plan-error\""));
    assert!(r.body.contains("Tipo di file non ammesso"));
    assert!(!r.body.contains("<script>alert(1)"));
    assert_eq!(draft_state(&app).await.1, docs, "no document added");
    // A submission with a refused file is not submitted.
    let r = post_files(
        &mut b,
        &path,
        &good_fields(&csrf, &nonce, "submit"),
        &[(
            "att-project_plan",
            "x.pdf",
            "application/pdf",
            b"MZ\x90\x00",
        )],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.ranking(CODE).await.unwrap().is_empty());

    // From here on, refusals change nothing at all.
    let before = draft_state(&app).await;
    // A wrong CSRF token.
    let r = post_files(
        &mut b,
        &path,
        &good_fields("not-the-token", &nonce, "save"),
        &[("att-project_plan", "piano.pdf", "application/pdf", PLAN)],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(error_code(&r.body).contains("csrf"));
    assert_eq!(draft_state(&app).await, before);

    // An attachment the call does not ask for.
    let r = post_files(
        &mut b,
        &path,
        &good_fields(&csrf, &nonce, "save"),
        &[("att-curriculum", "cv.pdf", "application/pdf", PLAN)],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(error_code(&r.body).contains("unknown_attachment"));
    assert_eq!(draft_state(&app).await, before);

    // A form the server cannot read.
    let res = b
        .client
        .post(format!("{}{path}", b.base))
        .header("cookie", b.cookie_header())
        .header(CONTENT_TYPE, "multipart/form-data; boundary=nope")
        .body("this is not multipart")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("Richiesta non valida"));
    assert_eq!(draft_state(&app).await, before);

    // Another entity's form: the same 404 as a form that does not exist.
    let r = post_files(
        &mut b,
        &form_path("ucdc"),
        &good_fields(&csrf, &nonce, "save"),
        &[("att-project_plan", "piano.pdf", "application/pdf", PLAN)],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        app.store
            .draft_documents("ucdc", CODE)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(draft_state(&app).await, before);
}
}

on_both_backends! {
    async fn a_required_attachment_missing_is_shown_next_to_its_control(db: TestDb) {
    let mut call = er_call(SignedDuration::from_mins(-1));
    call.attachments[1].required = true;
    let app = start_with(db, &call).await;
    let (mut b, csrf, nonce) = signed_in(&app, "cervia@example.it").await;
    let page = b.get(&form_path("039007")).await;
    assert!(
        page.body
            .contains("Atto di approvazione del progetto <span class=\"required-mark\">")
    );

    let r = post_files(
        &mut b,
        &form_path("039007"),
        &good_fields(&csrf, &nonce, "submit"),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"att-resolution-error\""));
    assert!(
        r.body
            .contains("Allegare «Atto di approvazione del progetto».")
    );
    assert!(
        r.body.contains("href=\"#att-resolution\""),
        "in the summary"
    );
    assert!(r.body.contains("aria-invalid=\"true\""));
    assert!(app.store.call_applications(CODE).await.unwrap().is_empty());

    // With the act attached, the same click submits, and the content names it.
    let act = b"%PDF-1.7\n% delibera di giunta\n%%EOF\n";
    let r = post_files(
        &mut b,
        &form_path("039007"),
        &good_fields(&csrf, &nonce, "submit"),
        &[("att-resolution", "delibera.pdf", "application/pdf", act)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let apps = app.store.call_applications(CODE).await.unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0].content.attachments.len(), 1);
    assert_eq!(apps[0].content.attachments[0].code, "resolution");
    assert_eq!(apps[0].content.attachments[0].sha256, sha(act));
}
}

on_both_backends! {
    async fn a_document_can_be_taken_out_of_the_draft(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(10)).await;
    let (mut b, csrf, nonce) = signed_in(&app, "cervia@example.it").await;
    let path = form_path("039007");
    let r = post_files(
        &mut b,
        &path,
        &good_fields(&csrf, &nonce, "save"),
        &[("att-resolution", "delibera.pdf", "application/pdf", PLAN)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"remove-resolution\""));
    let kept = |app: &App| {
        let store = app.store.clone();
        async move { store.draft_documents("039007", CODE).await.unwrap() }
    };
    assert_eq!(kept(&app).await.len(), 1);

    // «Remove» ticked together with a new file: the new file wins.
    let mut fields = good_fields(&csrf, &nonce, "save");
    fields.push(("remove-resolution", "1"));
    let r = post_files(
        &mut b,
        &path,
        &fields,
        &[(
            "att-resolution",
            "delibera-2.pdf",
            "application/pdf",
            PLAN_V2,
        )],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let now = kept(&app).await;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].sha256, sha(PLAN_V2));

    // «Remove» alone takes it out; a code the call does not have is ignored.
    fields.push(("remove-curriculum", "1"));
    let r = post_files(&mut b, &path, &fields, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(kept(&app).await.is_empty());
    assert!(!r.body.contains("id=\"att-resolution-current\""));
    assert!(!r.body.contains("delibera-2.pdf"));
}
}
