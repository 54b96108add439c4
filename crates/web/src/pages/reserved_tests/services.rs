//! The services catalogue, the form's catalogue rows and the practices an application
//! cites, through the pages: officials import the catalogue (every problem of a bad file
//! named, nothing changed), an applicant adds a row from it, forges its amount or its
//! service, cites a practice it reuses or one nobody published; the impact page.

use bandi_domain::application::ApplicationContent;
use bandi_domain::practice::{Lever, Licence, PracticeContent, PracticeStatus};
use jiff::SignedDuration;
use reqwest::StatusCode;

use super::*;

const CATALOGUE: &str = r#"provider = "Lepida ScpA (prova)"
[[service]]
code = "LEP-IAAS-VM"
name = "Macchina virtuale"
kind = "cloud_hosting"
unit = "VM al mese"
unit_price = "85.00"

[[service]]
code = "LEP-FORM-DIR"
name = "Formazione dirigenti"
kind = "training"
unit = "giornata"
unit_price = "650.00"
"#;

/// The form's fields with `extra` added (later ones win where the handler reads the last).
fn with<'a>(
    csrf: &'a str,
    nonce: &'a str,
    action: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = good_fields(csrf, nonce, action);
    f.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    f.extend_from_slice(extra);
    f
}

async fn draft(app: &App) -> serde_json::Value {
    serde_json::from_str(&app.store.draft("039007", CODE).await.unwrap().unwrap()).unwrap()
}

on_both_backends! {
    async fn officials_import_the_catalogue_and_applicants_buy_from_it(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
    let mut official = Browser::new(&app);
    official.sign_in("ufficio@example.it", PASSWORD).await;
    let page = official.get("/amministrazione/servizi").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden(&page.body, "csrf");

    // A bad file: every problem named, the text kept, nothing imported.
    let bad = CATALOGUE.replace("\"85.00\"", "\"gratis\"").replace("kind = \"training\"", "kind = \"corsi\"");
    let r = official
        .post_multipart("/amministrazione/servizi", &[("csrf", &csrf), ("toml", &bad)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("«gratis»"), "{}", r.body);
    assert!(r.body.contains("tipo «corsi» sconosciuto"));
    assert!(r.body.contains("2 problemi"));
    assert_eq!(app.store.catalogue().await.unwrap(), None);
    // Without the token, or as an applicant: nothing.
    let r = official
        .post_multipart("/amministrazione/servizi", &[("csrf", "x"), ("toml", CATALOGUE)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut cervia = Browser::new(&app);
    cervia.sign_in("cervia@example.it", PASSWORD).await;
    let ccsrf = cervia.csrf().await;
    let r = cervia
        .post_multipart("/amministrazione/servizi", &[("csrf", &ccsrf), ("toml", CATALOGUE)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.catalogue().await.unwrap(), None);
    // The public page says there is none yet.
    let public = reqwest::get(format!("{}/servizi", app.base)).await.unwrap();
    assert!(public.text().await.unwrap().contains("non è ancora stato pubblicato"));

    let r = official
        .post_multipart("/amministrazione/servizi", &[("csrf", &csrf), ("file", CATALOGUE)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Catalogo importato: 2 servizi (2 nuovi"));
    let public = reqwest::get(format!("{}/servizi", app.base)).await.unwrap().text().await.unwrap();
    assert!(public.contains("Macchina virtuale") && public.contains("85,00 €"));
    assert!(public.contains("Lepida ScpA (prova)"));
    let api: serde_json::Value = reqwest::get(format!("{}/api/v1/services", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["services"][0]["code"], "LEP-IAAS-VM");
    assert_eq!(api["services"][0]["unit_price_cents"], 8_500);
    assert_eq!(api["services"][1]["kind"], "training");

    // The form offers the catalogue; a wrong quantity is said beside its field and the
    // rest is saved.
    let page = cervia.get(&form_path("039007")).await;
    assert!(page.body.contains("id=\"add-from-catalogue\""));
    let nonce = hidden(&page.body, "nonce");
    let r = cervia
        .post(
            &form_path("039007"),
            &with(&ccsrf, &nonce, "catalogue", &[("add-service", "LEP-IAAS-VM"), ("add-quantity", "dodici"), ("add-category", "technology")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"add-quantity-error\""), "{}", r.body);
    assert!(r.body.contains("value=\"dodici\""));
    assert_eq!(draft(&app).await["lines"].as_array().unwrap().len(), 2);
    for (service, category, control) in [("LEP-NOPE", "technology", "add-service"), ("LEP-IAAS-VM", "", "add-category")] {
        let r = cervia
            .post(
                &form_path("039007"),
                &with(&ccsrf, &nonce, "catalogue", &[("add-service", service), ("add-quantity", "12"), ("add-category", category)]),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains(&format!("id=\"{control}-error\"")), "{control}");
    }
    // Added in the first empty row, priced by the catalogue.
    let r = cervia
        .post(
            &form_path("039007"),
            &with(&ccsrf, &nonce, "catalogue", &[("add-service", "LEP-IAAS-VM"), ("add-quantity", "12"), ("add-category", "technology")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Voce aggiunta dal catalogo"));
    assert!(r.body.contains("name=\"line-2-service\" value=\"LEP-IAAS-VM\""));
    assert!(r.body.contains("value=\"1.020,00\" readonly"));
    assert!(r.body.contains("76.020,00 €"), "the total counts the new row");
    let saved = draft(&app).await;
    assert_eq!(saved["lines"][2]["service"], "LEP-IAAS-VM");
    assert_eq!(saved["lines"][2]["quantity"], "12");

    // A forged amount is not believed: the catalogue prices the row.
    let forged = [
        ("line-2-category", "technology"),
        ("line-2-description", "VM"),
        ("line-2-amount", "1,00"),
        ("line-2-service", "LEP-IAAS-VM"),
        ("line-2-quantity", "24"),
    ];
    let r = cervia.post(&form_path("039007"), &with(&ccsrf, &nonce, "save", &forged)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("value=\"2.040,00\" readonly"), "{}", r.body);
    // A service the catalogue does not have: said beside the row's quantity.
    let mut unknown = forged;
    unknown[3] = ("line-2-service", "LEP-NOPE");
    let r = cervia.post(&form_path("039007"), &with(&ccsrf, &nonce, "save", &unknown)).await;
    assert!(r.body.contains("id=\"line-2-quantity-error\""), "{}", r.body);
    assert!(r.body.contains("«LEP-NOPE» non è nel catalogo"));
    let r = cervia.post(&form_path("039007"), &with(&ccsrf, &nonce, "submit", &unknown)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.call_applications(CODE).await.unwrap().is_empty());

    // Citing: the practices Cervia reuses are offered; one nobody published is refused
    // at submission, beside the practices, and nothing is received.
    let page = cervia.get(&form_path("039007")).await;
    assert!(page.body.contains("non ha ancora dichiarato di riusare"));
    let content = |title: &str| PracticeContent {
        title: title.into(),
        summary: "Tre percorsi brevi in aula virtuale per chi guida squadre.".into(),
        body: String::new(),
        levers: vec![Lever::Training],
        licence: Licence::DOCUMENTS,
        links: vec![],
        call: None,
        project: None,
    };
    let published = app
        .store
        .create_practice("ucdc", &content("Percorsi per dirigenti"), "percors dirigent", PracticeStatus::Published, false)
        .await
        .unwrap();
    let proposed = app
        .store
        .create_practice("ucdc", &content("Regolamento del lavoro agile"), "regol", PracticeStatus::Proposed, false)
        .await
        .unwrap();
    app.store.mark_reuse(published, "039007").await.unwrap();
    let page = cervia.get(&form_path("039007")).await;
    assert!(page.body.contains(&format!("id=\"practice-{published}\"")));
    assert!(!page.body.contains(&format!("id=\"practice-{proposed}\"")));
    let good: [(&str, &str); 5] = [
        ("line-2-category", "technology"),
        ("line-2-description", "VM"),
        ("line-2-amount", ""),
        ("line-2-service", "LEP-IAAS-VM"),
        ("line-2-quantity", "12"),
    ];
    let proposed_s = proposed.to_string();
    let mut fields = with(&ccsrf, &nonce, "submit", &good);
    fields.push(("practice", &proposed_s));
    let r = cervia.post(&form_path("039007"), &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"practices-error\""), "{}", r.body);
    assert!(r.body.contains("non è tra quelle pubblicate"));
    assert!(app.store.call_applications(CODE).await.unwrap().is_empty());

    let published_s = published.to_string();
    let mut fields = with(&ccsrf, &nonce, "submit", &good);
    fields.push(("practice", &published_s));
    let r = cervia.post(&form_path("039007"), &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let applications = app.store.call_applications(CODE).await.unwrap();
    let stored = app.store.application(&applications[0].receipt.id).await.unwrap().unwrap();
    let c: &ApplicationContent = &stored.content;
    let bought = c.lines[2].service.as_ref().unwrap();
    assert_eq!((bought.code.as_str(), bought.quantity, bought.unit_price_cents.cents()), ("LEP-IAAS-VM", 12, 8_500));
    assert_eq!(c.lines[2].amount_cents.cents(), 102_000);
    assert_eq!(c.practices, vec![published as u64]);
    let receipt = cervia.get(r.location()).await;
    assert!(receipt.body.contains("Dal catalogo: LEP-IAAS-VM, 12 × 85,00 €"), "{}", receipt.body);
    assert!(receipt.body.contains("Percorsi per dirigenti"));
    // The reviewer sees the reuse flag.
    let admin_page = official
        .get(&format!("/amministrazione/bandi/{CODE}/domande/{}", applications[0].receipt.seq))
        .await;
    assert!(admin_page.body.contains("La domanda riusa"), "{}", admin_page.body);
    // The officials' export of the lines says what each catalogue line bought.
    let lines = official.get(&format!("/amministrazione/bandi/{CODE}/voci.csv")).await;
    assert!(lines.body.contains(";3;technology;VM;1020,00;LEP-IAAS-VM;12;85,00"), "{}", lines.body);
    assert!(lines.body.contains(";1;training;Formazione;25000,00;;;"));
    let list = official.get(&format!("/amministrazione/bandi/{CODE}")).await;
    assert!(list.body.contains("Riuso<span class=\"visually-hidden\"> di buone pratiche</span>: 1"), "{}", list.body);

    // A practice born of the project: the form offers Cervia's application, and the
    // practice's page names it.
    let protocol = applications[0].receipt.protocol.clone();
    let own = cervia.get("/area-riservata/pratiche?ente=039007").await;
    assert!(own.body.contains(&format!("<option value=\"{protocol}\"")), "{}", own.body);
    let r = cervia
        .post(
            "/area-riservata/pratiche?ente=039007",
            &[
                ("csrf", &ccsrf),
                ("title", "Il kit del progetto di Cervia"),
                ("summary", "Le macchine virtuali e i materiali del progetto, da riusare."),
                ("leva", "cloud"),
                ("licence", "EUPL-1.2"),
                ("project", &protocol),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let n = app.store.entity_practices("039007").await.unwrap()[0].n;
    app.store.decide_practice(n, PracticeStatus::Published, "test").await.unwrap();
    let page = reqwest::get(format!("{}/pratiche/{n}", app.base)).await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("{protocol} — Smart working a Cervia")), "{page}");
    assert!(page.contains(&format!("href=\"/bandi/{CODE}\"")), "the project's call");
    }
}
