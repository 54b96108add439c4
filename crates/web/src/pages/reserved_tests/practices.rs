//! Practices through the pages: an authority proposes one (with the usual XSS payloads in
//! its Markdown), an official publishes it, anyone finds it in Italian and reads it safely,
//! another authority says it reuses it; bad input changes nothing.

use jiff::SignedDuration;
use reqwest::StatusCode;

use super::*;

const BODY: &str = "Percorsi **formativi** per i dirigenti.\n\n<script>alert('xss')</script>\n\n<img src=x onerror=alert(1)>\n\n[apri](javascript:alert(1)) e [il sito](https://example.it/guida)";

on_both_backends! {
    async fn a_practice_is_proposed_published_found_read_safely_and_reused(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
    let mut cervia = Browser::new(&app);
    cervia.sign_in("cervia@example.it", PASSWORD).await;
    let page = cervia.get("/area-riservata/pratiche").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden(&page.body, "csrf");
    // Every problem said beside its field; nothing kept.
    let r = cervia
        .post("/area-riservata/pratiche?ente=039007", &[("csrf", &csrf), ("title", "X"), ("summary", "corta")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["e-title", "e-summary", "e-levers"] {
        assert!(r.body.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(app.store.entity_practices("039007").await.unwrap().is_empty());
    // Another body's page is not this person's.
    assert_eq!(cervia.get("/area-riservata/pratiche?ente=ucdc").await.status, StatusCode::NOT_FOUND);
    let r = cervia
        .post(
            "/area-riservata/pratiche?ente=039007",
            &[
                ("csrf", &csrf),
                ("title", "Percorsi per dirigenti in lavoro agile"),
                ("summary", "Tre percorsi brevi in aula virtuale per chi guida squadre a distanza."),
                ("body", BODY),
                ("leva", "training"),
                ("leva", "change_management"),
                ("leva", "not-a-lever"),
                ("licence", "CC-BY-SA-4.0"),
                ("links", "https://example.it/materiali\n"),
                ("call", CODE),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let n = app.store.entity_practices("039007").await.unwrap()[0].n;
    let page = cervia.get("/area-riservata/pratiche?ente=039007&proposta=1").await;
    assert!(page.body.contains("In attesa di pubblicazione"));
    // Not published: nobody reads it.
    let anyone = reqwest::Client::new();
    let get = |path: String| {
        let anyone = anyone.clone();
        let base = app.base.clone();
        async move {
            let r = anyone.get(format!("{base}{path}")).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    assert_eq!(get(format!("/pratiche/{n}")).await.0, StatusCode::NOT_FOUND);

    // The official reads it rendered safely, and publishes it.
    let mut official = Browser::new(&app);
    official.sign_in("ufficio@example.it", PASSWORD).await;
    let page = official.get("/amministrazione/pratiche").await;
    assert!(page.body.contains("Percorsi per dirigenti in lavoro agile"));
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    let csrf_o = hidden(&page.body, "csrf");
    let r = official.post(&format!("/amministrazione/pratiche/{n}"), &[("csrf", &csrf_o), ("azione", "boh")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = cervia.post(&format!("/amministrazione/pratiche/{n}"), &[("csrf", &csrf), ("azione", "pubblica")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = official.post(&format!("/amministrazione/pratiche/{n}"), &[("csrf", &csrf_o), ("azione", "pubblica")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = official.post(&format!("/amministrazione/pratiche/{n}"), &[("csrf", &csrf_o), ("azione", "respingi")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // Found in Italian by another form of its words, and read safely.
    let (status, html) = get("/pratiche?q=formazione".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("href=\"/pratiche/{n}\"")), "{html}");
    let (_, html) = get("/pratiche?q=cloud".into()).await;
    assert!(html.contains("id=\"no-practices\""));
    let (status, html) = get("/pratiche?leva=nope&tipo=x&provincia=%27%3B".into()).await;
    assert_eq!(status, StatusCode::OK, "unknown filters are ignored");
    assert!(html.contains(&format!("href=\"/pratiche/{n}\"")));
    let (status, html) = get("/pratiche?bando=%3Cscript%3E&q=%3Cscript%3Ealert(1)%3C%2Fscript%3E".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"no-practices\""), "no such call, no practice");
    assert!(!html.contains("<script>alert"), "what was typed comes back escaped");
    let (status, html) = get(format!("/pratiche/{n}")).await;
    assert_eq!(status, StatusCode::OK);
    let body = &html[html.find("id=\"practice-body\"").unwrap()..];
    let body = &body[..body.find("</div>").unwrap()];
    assert!(body.contains("<strong>formativi</strong>"), "{body}");
    assert!(body.contains("&lt;script&gt;alert"), "shown as text: {body}");
    assert!(!body.contains("<script") && !body.contains("<img") && !body.to_lowercase().contains("javascript:"), "{body}");
    assert!(body.contains("<a href=\"#\">apri</a>"), "{body}");
    assert!(html.contains("CC-BY-SA-4.0"));
    for bad in ["/pratiche/abc", "/pratiche/-1", "/pratiche/0", "/pratiche/99999999999999999999"] {
        assert_eq!(get(bad.into()).await.0, StatusCode::NOT_FOUND, "{bad}");
    }

    // Another body says it reuses it, once; its own body cannot.
    let page = cervia.get(&format!("/pratiche/{n}")).await;
    assert!(!page.body.contains("id=\"reuse-form\""), "no reuse of one's own");
    let r = cervia.post(&format!("/pratiche/{n}/riuso"), &[("csrf", &csrf), ("ente", "039007")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let mut ucdc = Browser::new(&app);
    ucdc.sign_in("ucdc@example.it", PASSWORD).await;
    let page = ucdc.get(&format!("/pratiche/{n}")).await;
    assert!(page.body.contains("id=\"reuse-form\""));
    let csrf_u = hidden(&page.body, "csrf");
    let r = ucdc.post(&format!("/pratiche/{n}/riuso"), &[("csrf", "forged"), ("ente", "ucdc")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = ucdc.post(&format!("/pratiche/{n}/riuso"), &[("csrf", &csrf_u), ("ente", "039007")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "not for another's body");
    let r = ucdc.post(&format!("/pratiche/{n}/riuso"), &[("csrf", &csrf_u), ("ente", "ucdc")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = ucdc.get(&format!("/pratiche/{n}?riuso=1")).await;
    assert!(page.body.contains("id=\"reuse-done\""));
    assert!(!page.body.contains("id=\"reuse-form\""), "said once");
    assert_eq!(app.store.practice(n).await.unwrap().unwrap().reuses, 1);
}
}

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

on_both_backends! {
    async fn practice_files_are_attached_checked_and_downloaded_safely(db: TestDb) {
    use bandi_domain::practice::{Lever, Licence, PracticeContent, PracticeStatus};
    let app = start(db, SignedDuration::from_mins(-1)).await;
    let content = PracticeContent {
        title: "Regolamento del lavoro agile".into(),
        summary: "Il regolamento adottato dalla giunta, con i moduli.".into(),
        body: String::new(),
        levers: vec![Lever::ChangeManagement],
        licence: Licence::DOCUMENTS,
        links: vec![],
        call: None,
        project: None,
    };
    let n = app
        .store
        .create_practice("039007", &content, "regol", PracticeStatus::Proposed, false)
        .await
        .unwrap();
    let path = format!("/area-riservata/pratiche/{n}/allegati");
    let mut cervia = Browser::new(&app);
    cervia.sign_in("cervia@example.it", PASSWORD).await;
    let csrf = cervia.csrf().await;
    let page = cervia.get("/area-riservata/pratiche?ente=039007").await;
    assert!(page.body.contains(&format!("action=\"{path}\"")));

    // A page named .pdf, a forged token, another body's staff: refused, nothing kept.
    let r = post_files(&mut cervia, &path, &[("csrf", &csrf)], &[("att-file", "atto.pdf", "application/pdf", b"<html><script>alert(1)</script>")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("<html lang=\"it\">"));
    let r = post_files(&mut cervia, &path, &[("csrf", "falso")], &[("att-file", "a.pdf", "application/pdf", PDF)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut ucdc = Browser::new(&app);
    ucdc.sign_in("ucdc@example.it", PASSWORD).await;
    let ucsrf = ucdc.csrf().await;
    let r = post_files(&mut ucdc, &path, &[("csrf", &ucsrf)], &[("att-file", "a.pdf", "application/pdf", PDF)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post_files(&mut cervia, &path, &[("csrf", &csrf)], &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(app.store.practice_files(n).await.unwrap().is_empty());

    let r = post_files(&mut cervia, &path, &[("csrf", &csrf)], &[("att-file", "Regolamento.pdf.exe", "application/x-msdownload", PDF)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().ends_with(&format!("allegato=1#practice-{n}")));
    let page = cervia.get(r.location()).await;
    assert!(page.body.contains("File allegato alla pratica."));
    let file = &app.store.practice_files(n).await.unwrap()[0];
    let href = format!("/pratiche/{n}/allegati/{}", file.id);
    assert!(page.body.contains(&href));

    // Not published: nobody else downloads it. Published: anyone, as a PDF with a name we
    // made, never sniffed.
    let anyone = reqwest::Client::new();
    let r = anyone.get(format!("{}{href}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.store
        .decide_practice(n, PracticeStatus::Published, "test")
        .await
        .unwrap();
    let r = anyone.get(format!("{}{href}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"Regolamento_pdf.pdf\""), "{disposition}");
    assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);
    let public = anyone.get(format!("{}/pratiche/{n}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(public.contains("id=\"practice-files\"") && public.contains(&file.sha256));

    // Taken out by its authority; a forged id is not found.
    let r = cervia
        .post(&format!("{path}/{}/rimuovi", "0000"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = cervia
        .post(&format!("{path}/{}/rimuovi", file.id), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.store.practice_files(n).await.unwrap().is_empty());
    let r = anyone.get(format!("{}{href}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}
