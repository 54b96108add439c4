//! The call's form: an official previews and publishes a call without writing its file;
//! every mistake is said next to its field in Italian, and nothing is stored before
//! "Pubblica".

use jiff::SignedDuration;
use reqwest::StatusCode;

use super::*;

/// The form's fields for a new call on the 2020 model, with `changes`.
fn fields<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("csrf", csrf),
        ("modello", CODE),
        ("azione", "anteprima"),
        ("code", "er-2030-bis"),
        ("protocol_prefix", "ER-BIS"),
        ("title", "Bando bis per il lavoro agile"),
        ("title_en", ""),
        (
            "text",
            "Le domande si presentano dalle {opens_at}.\r\n\r\nSecondo paragrafo.",
        ),
        ("text_en", ""),
        ("opens_at", "2030-04-03T09:30"),
        ("closes_at", "2030-07-31T18:00"),
        ("budget", "1.500.000,00"),
        ("co_financing", "60"),
        ("max_grant", "90.000"),
        ("min_cost", ""),
        ("max_cost", ""),
        ("completion_deadline", "2030-12-31"),
        ("reporting_deadline", "2031-02-28"),
    ];
    for (k, v) in changes {
        f.iter_mut().find(|(n, _)| n == k).expect("a field").1 = v;
    }
    f
}

on_both_backends! {
    async fn officials_preview_and_publish_a_call_from_its_form(db: TestDb) {
    let app = start(db, SignedDuration::from_hours(2)).await;
    let mut b = Browser::new(&app);
    b.sign_in("ufficio@example.it", PASSWORD).await;
    let page = b.get("/amministrazione/modulo-bando").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(hidden(&page.body, "modello"), CODE);
    assert!(page.body.contains("value=\"2.000.000,00\""), "the model's budget, as people write it");
    assert!(page.body.contains("value=\"70%\""));
    let csrf = hidden(&page.body, "csrf");

    // The preview: the public page's content, nothing stored.
    let r = b.post("/amministrazione/modulo-bando", &fields(&csrf, &[])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Anteprima: non ancora pubblicato"));
    assert!(r.body.contains("1.500.000,00 €"));
    assert!(r.body.contains("<dd class=\"col-sm-7\">60%</dd>"));
    assert!(r.body.contains("90.000,00 €"));
    let text = &r.body[r.body.find("id=\"preview-text\"").unwrap()..];
    let text = &text[..text.find("</div>").unwrap()];
    assert!(text.contains("aprile 2030"), "the placeholder spelt out: {text}");
    assert!(!text.contains("{opens_at}"), "{text}");
    assert!(text.contains("<p>Secondo paragrafo.</p>"), "{text}");
    assert!(app.store.call("er-2030-bis").await.unwrap().is_none());

    // Mistakes, each next to its field, in Italian; nothing stored.
    for (changes, field, words) in [
        (vec![("budget", "due milioni")], "budget", "importo non valido"),
        (vec![("closes_at", "2030-04-01T09:00")], "closes_at", "la chiusura deve seguire l&#39;apertura"),
        (vec![("opens_at", "3 aprile")], "opens_at", "data e ora non valide"),
        (vec![("code", "Bando Bis")], "code", "codice"),
        (vec![("co_financing", "0")], "co_financing", "maggiore di 0%"),
        (vec![("co_financing", "settanta")], "co_financing", "percentuale non valida"),
        (vec![("title", "  ")], "title", "il titolo non può essere vuoto"),
        (vec![("reporting_deadline", "31/02/2031")], "reporting_deadline", "data non valida"),
    ] {
        let r = b
            .post("/amministrazione/modulo-bando", &fields(&csrf, &[changes.as_slice(), &[("azione", "pubblica")]].concat()))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.body);
        let at = r.body.find(&format!("id=\"e-{field}\"")).unwrap_or_else(|| panic!("{field}: {}", r.body));
        assert!(r.body[at..at + 300].to_lowercase().contains(words), "{field}: {}", &r.body[at..at + 300]);
        assert!(r.body.contains("id=\"call-form-problems\""));
        assert!(app.store.call("er-2030-bis").await.unwrap().is_none());
    }
    // Without the form's token, nothing.
    let r = b.post("/amministrazione/modulo-bando", &fields("x", &[("azione", "pubblica")])).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Published: the model's categories and attachments, the form's fields.
    let r = b.post("/amministrazione/modulo-bando", &fields(&csrf, &[("azione", "pubblica")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/amministrazione/bandi/er-2030-bis?esito=pubblicato");
    let stored = app.store.call("er-2030-bis").await.unwrap().unwrap().call;
    let model = app.store.call(CODE).await.unwrap().unwrap().call;
    assert_eq!(stored.budget.cents(), 150_000_000);
    assert_eq!(stored.rate.to_string(), "60%");
    assert_eq!(stored.max_grant.map(|m| m.cents()), Some(9_000_000));
    assert_eq!(stored.title.en, "Bando bis per il lavoro agile", "no English title: the Italian one");
    assert_eq!(stored.categories, model.categories);
    assert_eq!(stored.attachments, model.attachments);
    assert_eq!(stored.local_time(stored.opens_at), "03/04/2030 09:30");
    // Another call may not take a protocol prefix in use.
    let r = b
        .post(
            "/amministrazione/modulo-bando",
            &fields(&csrf, &[("azione", "pubblica"), ("code", "er-2030-ter"), ("protocol_prefix", "ER-BIS")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("id=\"call-form-refusal\""));
    assert!(app.store.call("er-2030-ter").await.unwrap().is_none());

    // An applicant may not even see the form.
    let mut cervia = Browser::new(&app);
    cervia.sign_in("cervia@example.it", PASSWORD).await;
    assert_eq!(cervia.get("/amministrazione/modulo-bando").await.status, StatusCode::FORBIDDEN);
}
}
