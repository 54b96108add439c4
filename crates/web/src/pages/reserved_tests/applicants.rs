//! Applicants: a draft before the opening submitted in one click, another entity refused, a bad form.

use std::time::Duration;

use jiff::SignedDuration;
use reqwest::StatusCode;

use super::*;

on_both_backends! {
    async fn a_draft_before_the_opening_is_one_click_at_the_opening(db: TestDb) {
    let app = start(db, SignedDuration::from_secs(4)).await;
    let mut b = Browser::new(&app);
    b.sign_in("cervia@example.it", PASSWORD).await;
    let page = b.get(&form_path("039007")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Di prossima apertura"));
    let csrf = hidden(&page.body, "csrf");
    let nonce = hidden(&page.body, "nonce");
    assert_eq!(nonce.len(), 32);
    // The bar: the server's clock, the countdown to the opening, the buttons; and what the
    // empty draft lacks, each item a link to its field.
    assert!(page.body.contains("id=\"form-bar\""));
    // An index of the form's parts, each leading to its heading.
    for (href, id) in [("#project", "id=\"project\""), ("#lines", "id=\"lines\""), ("#indicators", "id=\"indicators\""), ("#completeness", "id=\"completeness\"")] {
        assert!(page.body.contains(&format!("<a href=\"{href}\">")), "{href}");
        assert!(page.body.contains(id), "{id}");
    }
    assert!(page.body.contains("id=\"countdown-label\">Il bando apre tra<"));
    assert!(page.body.contains("id=\"submit-application\""));
    assert!(page.body.contains("data-opens-at=\""));
    assert!(page.body.contains("id=\"missing\""));
    assert!(page.body.contains("<a href=\"#title\">Titolo del progetto: "));
    assert!(page.body.contains("<a href=\"#completeness\">Mancano "));

    // Saved before the opening: the amounts are computed by the server.
    let r = b
        .post(&form_path("039007"), &good_fields(&csrf, &nonce, "save"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Bozza salvata"));
    assert!(r.body.contains("75.000,00 €"));
    assert!(r.body.contains("52.500,00 €"));
    assert!(app.store.draft("039007", CODE).await.unwrap().is_some());
    // Back later, the draft is there as typed.
    let page = b.get(&form_path("039007")).await;
    assert!(page.body.contains("value=\"25.000,00\""));
    assert!(page.body.contains("value=\"Smart working a Cervia\""));
    assert!(page.body.contains("<option value=\"technology\" selected>"));
    assert!(page.body.contains("Bozza completa"));
    assert!(!page.body.contains("id=\"missing\""));
    let dashboard = b.get("/area-riservata").await;
    // No application yet, and the page listens for one: it will not go on saying so.
    assert!(dashboard.body.contains("id=\"no-applications\" data-events=\"/area-riservata/stati"));
    assert!(dashboard.body.contains("Bozza salvata"));
    assert!(dashboard.body.contains("Continua la domanda"));
    assert!(dashboard.body.contains("<span class=\"complete\">Bozza completa"));

    // Submitting before the opening: the opening and the server's time, nothing stored.
    let r = b
        .post(&form_path("039007"), &good_fields(&csrf, &nonce, "submit"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Il bando non è ancora aperto"));
    assert!(r.body.contains("Ora del server"));
    assert!(r.body.contains("Apre il"));
    assert!(app.store.call_applications(CODE).await.unwrap().is_empty());
    assert!(app.store.draft("039007", CODE).await.unwrap().is_some());

    // At the opening, a double click: two requests at once with the same nonce.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let fields = good_fields(&csrf, &nonce, "submit");
    let mut b2 = Browser {
        base: b.base.clone(),
        client: b.client.clone(),
        cookies: b.cookies.clone(),
    };
    let path = form_path("039007");
    let (r1, r2) = tokio::join!(b.post(&path, &fields), b2.post(&path, &fields));
    assert_eq!(r1.status, StatusCode::SEE_OTHER, "{}", r1.body);
    assert_eq!(r2.status, StatusCode::SEE_OTHER, "{}", r2.body);
    let apps = app.store.call_applications(CODE).await.unwrap();
    assert_eq!(apps.len(), 1, "a double click is one application");
    let id = &apps[0].receipt.id;
    for r in [&r1, &r2] {
        assert!(
            r.location()
                .starts_with(&format!("/area-riservata/ricevuta/{id}"))
        );
    }
    assert!(app.store.draft("039007", CODE).await.unwrap().is_none());

    let receipt = b
        .get(&format!("/area-riservata/ricevuta/{id}?nuova=1"))
        .await;
    assert_eq!(receipt.status, StatusCode::OK);
    let r = &apps[0].receipt;
    for needle in [
        "Domanda presentata",
        r.protocol.as_str(),
        r.content_sha256.as_str(),
        r.ledger_hash.as_str(),
        r.received_at.as_str(),
        "ora italiana",
        "52.500,00 €",
        "print-receipt",
    ] {
        assert!(receipt.body.contains(needle), "the receipt shows {needle}");
    }
    // A later click with a new form (a new nonce) leads to the same receipt.
    let again = b
        .post(
            &path,
            &good_fields(&csrf, "0123456789abcdef0123456789abcdef", "submit"),
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(
        again
            .location()
            .starts_with(&format!("/area-riservata/ricevuta/{id}"))
    );
    assert_eq!(app.store.call_applications(CODE).await.unwrap().len(), 1);
    let dashboard = b.get("/area-riservata").await;
    assert!(dashboard.body.contains(&r.protocol));
    assert!(dashboard.body.contains("Finanziabile: fondi riservati"));
}
}

on_both_backends! {
    async fn another_entity_gets_404_for_everything_of_cervia(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
    let mut cervia = Browser::new(&app);
    cervia.sign_in("cervia@example.it", PASSWORD).await;
    let page = cervia.get(&form_path("039007")).await;
    let (csrf, nonce) = (hidden(&page.body, "csrf"), hidden(&page.body, "nonce"));
    let r = cervia
        .post(&form_path("039007"), &good_fields(&csrf, &nonce, "submit"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = app.store.call_applications(CODE).await.unwrap()[0]
        .receipt
        .id
        .clone();

    let mut ucdc = Browser::new(&app);
    ucdc.sign_in("ucdc@example.it", PASSWORD).await;
    let ucdc_csrf = ucdc.csrf().await;
    let missing = ucdc.get("/area-riservata/ricevuta/doesnotexist").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for path in [
        format!("/area-riservata/ricevuta/{id}"),
        form_path("039007"),
        "/area-riservata?ente=039007".to_string(),
        form_path("999999"),
    ] {
        let r = ucdc.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            error_code(&r.body),
            error_code(&missing.body),
            "{path}: the same answer as for nothing"
        );
        assert!(!r.body.contains("Smart working a Cervia"));
    }
    // Nor can it write into Cervia's draft.
    let r = ucdc
        .post(
            &form_path("039007"),
            &good_fields(&ucdc_csrf, &nonce, "save"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(app.store.draft("039007", CODE).await.unwrap().is_none());
    // Its own form works.
    let r = ucdc.get(&form_path("ucdc")).await;
    assert_eq!(r.status, StatusCode::OK);
}
}

on_both_backends! {
    async fn a_bad_form_shows_every_problem_next_to_its_field(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
    let mut b = Browser::new(&app);
    b.sign_in("cervia@example.it", PASSWORD).await;
    let page = b.get(&form_path("039007")).await;
    let (csrf, nonce) = (hidden(&page.body, "csrf"), hidden(&page.body, "nonce"));
    let r = b
        .post(
            &form_path("039007"),
            &[
                ("csrf", &csrf),
                ("nonce", &nonce),
                ("action", "submit"),
                ("title", ""),
                ("line-0-category", "training"),
                ("line-0-description", "Formazione"),
                ("line-0-amount", "venti euro"),
                ("line-1-category", ""),
                ("line-1-amount", "1.000,00"),
                ("ind-staff_total", "molti"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &r.body;
    assert!(html.contains("value=\"venti euro\""), "kept as typed");
    assert!(html.contains("value=\"molti\""));
    assert!(html.contains("value=\"1.000,00\""));
    for id in [
        "title",
        "line-0-amount",
        "line-1-category",
        "ind-staff_total",
        "ind-agile_workers_before",
    ] {
        assert!(
            html.contains(&format!("aria-describedby=\"{id}-error\"")),
            "{id} is marked"
        );
        assert!(
            html.contains(&format!("id=\"{id}-error\"")),
            "{id} has its message"
        );
        assert!(
            html.contains(&format!("href=\"#{id}\"")),
            "{id} is in the summary"
        );
    }
    assert!(html.contains("«venti euro» non è un importo in euro"));
    // The summary names each field and its row.
    assert!(html.contains(">Riga 1 — Importo: «venti euro» non è un importo in euro"), "{html}");
    assert!(html.contains(">Riga 2 — Categoria di spesa: scegliere la categoria di spesa.<"));
    assert!(html.contains(">Titolo del progetto: "));
    assert!(app.store.call_applications(CODE).await.unwrap().is_empty());
}
}
