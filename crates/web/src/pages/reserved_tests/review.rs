//! The review after the click through the pages: an official takes an application, ticks
//! the checklist, asks for an integration that the applicant answers with a document,
//! reduces and admits; refused actions say why in Italian and change nothing; the
//! applicant records the CUP; an admin tops the budget up (the waitlist moves) and
//! publishes the list with its act; the public list, the notices and the exports show it.

use std::io::Read;

use bandi_domain::money::Money;
use bandi_domain::review::ReviewState;
use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use super::*;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n";
const CHECKLIST: [&str; 4] = [
    "eligible_body",
    "three_parts",
    "costs_eligible",
    "approving_act",
];

fn page_of(seq: u64) -> String {
    format!("/amministrazione/bandi/{CODE}/domande/{seq}")
}

/// Submits through the API for `entity` a project of `euros`, 70% asked.
async fn submit(app: &App, entity: &str, euros: i64) -> serde_json::Value {
    let token = app.store.issue_token(entity).await.unwrap();
    let cents = euros * 100;
    reqwest::Client::new()
        .post(format!("{}/api/v1/calls/{CODE}/applications", app.base))
        .bearer_auth(token)
        .json(&serde_json::json!({
            "title": format!("Smart working {entity}"),
            "lines": [
                {"category": "training", "description": "Formazione", "amount_cents": cents / 3},
                {"category": "technology", "description": "Cloud", "amount_cents": cents - cents / 3}
            ],
            "indicators": {"staff_total": 180, "agile_workers_before": 4, "agile_workers_target": 90}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The outcome's text above a page.
fn outcome(html: &str) -> &str {
    let start = html.find("id=\"action-outcome\">").expect("an outcome") + 20;
    html[start..].split('<').next().unwrap()
}

async fn review_state(app: &App, seq: u64) -> (ReviewState, Money) {
    let r = app.store.under_review(CODE, seq).await.unwrap().unwrap();
    (r.review.state, r.requested)
}

on_both_backends! {
    async fn review_from_the_click_to_the_published_list(db: TestDb) {
    // 110,000.00 €: Cervia's 52,500.00 fits, the Distretto Ceramico's 105,000.00 waits.
    let mut call = crate::testing::er_call(SignedDuration::from_mins(-1));
    call.budget = Money::from_euros(110_000);
    let app = start_with(db, &call).await;
    let hash = hash_password(PASSWORD);
    for email in ["istruttore@example.it", "collega@example.it"] {
        app.store
            .create_user(email, email, &hash, Role::Reviewer)
            .await
            .unwrap();
    }
    let cervia = submit(&app, "039007", 75_000).await;
    let ucdc = submit(&app, "ucdc", 150_000).await;
    assert_eq!(cervia["status"], "reserved");
    assert_eq!(ucdc["status"], "waitlisted");
    let cervia_receipt = format!(
        "/area-riservata/ricevuta/{}",
        cervia["id"].as_str().unwrap()
    );

    // A reviewer sees the calls and the applications, not the accounts nor the import.
    let mut r1 = Browser::new(&app);
    r1.sign_in("istruttore@example.it", PASSWORD).await;
    let home = r1.get("/amministrazione").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(!home.body.contains("id=\"import-form\""));
    assert_eq!(r1.get("/amministrazione/utenti").await.status, StatusCode::FORBIDDEN);
    let list = r1.get(&format!("/amministrazione/bandi/{CODE}")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&format!("href=\"{}\"", page_of(1))));
    assert!(list.body.contains("Da istruire"));
    assert!(!list.body.contains("id=\"budget-form\""), "admins only");
    let csrf = hidden(&list.body, "csrf");
    // An official opening the receipt goes to the application's page.
    let r = r1.get(&cervia_receipt).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), page_of(1));

    // Not held: refused, in Italian, nothing changed.
    let before = app.store.ledger_page(0, 1000).await.unwrap().len();
    let r = r1
        .post(&page_of(1), &[("csrf", &csrf), ("action", "admit"), ("reason", "Ok")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(outcome(&r.body).contains("Prendere in carico la domanda prima di decidere"));
    assert_eq!(app.store.ledger_page(0, 1000).await.unwrap().len(), before);
    // Bad requests: no token, unknown action, no such application.
    let r = r1.post(&page_of(1), &[("csrf", "x"), ("action", "take")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = r1.post(&page_of(1), &[("csrf", &csrf), ("action", "approve")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r1.get(&page_of(99)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r1.get(&format!("/amministrazione/bandi/{CODE}/domande/uno")).await.status,
        StatusCode::NOT_FOUND
    );

    // Taken: a colleague cannot take it nor decide it.
    let r = r1.post(&page_of(1), &[("csrf", &csrf), ("action", "take")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = r1.get(&page_of(1)).await;
    assert!(page.body.contains("In istruttoria"));
    let mut r2 = Browser::new(&app);
    r2.sign_in("collega@example.it", PASSWORD).await;
    let csrf2 = hidden(&r2.get(&page_of(1)).await.body, "csrf");
    let r = r2.post(&page_of(1), &[("csrf", &csrf2), ("action", "take")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(outcome(&r.body).contains("presso un altro funzionario"));

    // The checklist: a failed item needs a note; admission needs every item passed.
    let r = r1
        .post(
            &page_of(1),
            &[("csrf", &csrf), ("action", "check"), ("item", "three_parts"), ("passed", "no"), ("note", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for item in CHECKLIST {
        let r = r1
            .post(
                &page_of(1),
                &[("csrf", &csrf), ("action", "check"), ("item", item), ("passed", "yes"), ("note", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{item}: {}", r.body);
    }

    // A request for integration: a past deadline is refused; then the applicant answers.
    let r = r1
        .post(
            &page_of(1),
            &[("csrf", &csrf), ("action", "request"), ("text", "Inviare la delibera."), ("deadline_date", "2020-01-01"), ("deadline_time", "18:00")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(outcome(&r.body).contains("nel futuro"));
    let r = r1
        .post(
            &page_of(1),
            &[("csrf", &csrf), ("action", "request"), ("text", "Inviare la delibera di approvazione."), ("deadline_date", "2099-01-01"), ("deadline_time", "18:00")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let mut cervia_b = Browser::new(&app);
    cervia_b.sign_in("cervia@example.it", PASSWORD).await;
    let dashboard = cervia_b.get("/area-riservata?ente=039007").await;
    assert!(dashboard.body.contains("id=\"todos\""), "the request is on the dashboard");
    let receipt = cervia_b.get(&cervia_receipt).await;
    assert!(receipt.body.contains("Inviare la delibera di approvazione."));
    assert!(receipt.body.contains("id=\"answer-form\""));
    let ccsrf = hidden(&receipt.body, "csrf");
    // Another entity's staff: the same 404 as nothing.
    let mut ucdc_b = Browser::new(&app);
    ucdc_b.sign_in("ucdc@example.it", PASSWORD).await;
    let ucsrf = ucdc_b.csrf().await;
    let r = post_files(
        &mut ucdc_b,
        &cervia_receipt,
        &[("csrf", &ucsrf), ("action", "answer"), ("text", "Intruso")],
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // An answer without text is refused; with text and a PDF it is sealed.
    let r = post_files(
        &mut cervia_b,
        &cervia_receipt,
        &[("csrf", &ccsrf), ("action", "answer"), ("text", "  ")],
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = post_files(
        &mut cervia_b,
        &cervia_receipt,
        &[("csrf", &ccsrf), ("action", "answer"), ("text", "In allegato la delibera.")],
        &[("att-answer", "delibera.pdf", "application/pdf", PDF)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("{cervia_receipt}?esito=risposta"));
    let page = r1.get(&page_of(1)).await;
    assert!(page.body.contains("In allegato la delibera."));
    assert!(page.body.contains("delibera.pdf"));

    // A reduction: above the line refused, then line 1 (the training) cut to 20,000.00.
    let r = r1
        .post(&page_of(1), &[("csrf", &csrf), ("action", "reduce"), ("cut-0", "30.000,00"), ("reason", "Troppo")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, asked_before) = review_state(&app, 1).await;
    let r = r1
        .post(&page_of(1), &[("csrf", &csrf), ("action", "reduce"), ("cut-0", "20.000,00"), ("reason", "Formazione sovrastimata")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, asked_after) = review_state(&app, 1).await;
    assert!(asked_after < asked_before, "{asked_after} < {asked_before}");
    let r = r1
        .post(&page_of(1), &[("csrf", &csrf), ("action", "admit"), ("reason", "Progetto conforme al bando.")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(review_state(&app, 1).await.0, ReviewState::Admitted);
    // Rejecting it now is refused: it is admitted.
    let r = r1
        .post(&page_of(1), &[("csrf", &csrf), ("action", "reject"), ("reason", "No")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // The applicant sees the decision and its reason, and records the CUP.
    let receipt = cervia_b.get(&cervia_receipt).await;
    assert!(receipt.body.contains("Progetto conforme al bando."));
    assert!(receipt.body.contains("Formazione sovrastimata"));
    assert!(receipt.body.contains("id=\"receipt-reduced\""));
    let r = cervia_b
        .post(&cervia_receipt, &[("csrf", &ccsrf), ("action", "cup"), ("cup", "E41B2000015000")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = cervia_b
        .post(&cervia_receipt, &[("csrf", &ccsrf), ("action", "cup"), ("cup", "e41b20000150002")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let receipt = cervia_b.get(&cervia_receipt).await;
    assert!(receipt.body.contains("E41B20000150002"));

    // An admin: a top-up below what is reserved is refused; 105,000.00 € funds the next.
    let mut admin = Browser::new(&app);
    admin.sign_in("ufficio@example.it", PASSWORD).await;
    let call_page = admin.get(&format!("/amministrazione/bandi/{CODE}")).await;
    assert!(call_page.body.contains("id=\"budget-form\""));
    let acsrf = hidden(&call_page.body, "csrf");
    let budget_path = format!("/amministrazione/bandi/{CODE}/dotazione");
    let r = admin
        .post(&budget_path, &[("csrf", &acsrf), ("amount", "tanti"), ("act_number", "DGR 1"), ("act_date", "2020-07-20")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(outcome(&r.body).contains("non è un importo"));
    assert!(r.body.contains("value=\"tanti\""), "what was typed is kept");
    let r = admin
        .post(&budget_path, &[("csrf", &acsrf), ("amount", "-100.000,00"), ("act_number", "DGR 1"), ("act_date", "2020-07-20")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(outcome(&r.body).contains("già riservato"));
    assert_eq!(app.store.call(CODE).await.unwrap().unwrap().budget, Money::from_euros(110_000));
    let r = admin
        .post(&budget_path, &[("csrf", &acsrf), ("amount", "105.000,00"), ("act_number", "DGR 1234/2020"), ("act_date", "2020-07-20")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let ranking = app.store.ranking(CODE).await.unwrap();
    assert_eq!(ranking[1].status.as_str(), "reserved", "the waitlist moved");

    // The list, published with its act's PDF; a PDF that is not one is refused.
    let lists_path = format!("/amministrazione/bandi/{CODE}/elenchi");
    let r = post_files(
        &mut admin,
        &lists_path,
        &[("csrf", &acsrf), ("act_number", "DD 100/2020"), ("act_date", "2020-05-15")],
        &[("att-act", "atto.pdf", "application/pdf", b"<html>not a pdf</html>")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.published_lists(CODE).await.unwrap().is_empty());
    let r = post_files(
        &mut admin,
        &lists_path,
        &[("csrf", &acsrf), ("act_number", "DD 100/2020"), ("act_date", "2020-05-15")],
        &[("att-act", "atto.pdf", "application/pdf", PDF)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let public = Browser::new(&app).get(&format!("/bandi/{CODE}/elenco")).await;
    assert_eq!(public.status, StatusCode::OK);
    assert!(public.body.contains("Ammessa e finanziata"));
    assert!(public.body.contains("DD 100/2020"));
    assert!(public.body.contains("id=\"first-come\""));
    assert!(public.body.contains("Cervia"));
    let act_href = public
        .body
        .split("id=\"act-download\"")
        .next()
        .and_then(|h| h.rsplit("href=\"").next())
        .map(|h| h.split('"').next().unwrap().to_string())
        .unwrap();
    let act = reqwest::get(format!("{}{act_href}", app.base)).await.unwrap();
    assert_eq!(act.status(), StatusCode::OK);
    assert_eq!(act.headers()[CONTENT_TYPE], "application/pdf");
    assert_eq!(&act.bytes().await.unwrap()[..], PDF);
    let missing = Browser::new(&app).get(&format!("/bandi/{CODE}/elenco?versione=7")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Notices: in the applicant's area, and on the officials' page.
    let notices = cervia_b.get("/area-riservata/comunicazioni?ente=039007").await;
    assert_eq!(notices.status, StatusCode::OK);
    assert!(notices.body.contains("Richiesta di integrazione"), "{}", notices.body);
    assert!(notices.body.contains("cronologico delle domande (versione 1)"));
    assert!(notices.body.contains("Ammessa e finanziata"));
    let r = cervia_b
        .post("/area-riservata/contatti?ente=039007", &[("csrf", &ccsrf), ("email", "non un indirizzo"), ("pec", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = cervia_b
        .post("/area-riservata/contatti?ente=039007", &[("csrf", &ccsrf), ("email", "innovazione@comune.cervia.example"), ("pec", "")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.contacts("039007").await.unwrap().email.as_deref(),
        Some("innovazione@comune.cervia.example")
    );
    let officials = r1.get(&format!("/amministrazione/bandi/{CODE}/comunicazioni")).await;
    assert_eq!(officials.status, StatusCode::OK);
    assert!(officials.body.contains("id=\"notices\""));

    // The exports carry the review, the indicators and the budget lines.
    let csv = r1.get(&format!("/amministrazione/bandi/{CODE}/domande.csv")).await;
    let header = csv.body.lines().next().unwrap();
    assert!(header.ends_with("summary;review_state;eligible_after_review;requested_after_review;cup;indicator_staff_total;indicator_agile_workers_before;indicator_agile_workers_target;indicator_people_to_train;indicator_notes"), "{header}");
    let first = csv.body.lines().nth(1).unwrap();
    assert!(first.contains(";admitted;"), "{first}");
    assert!(first.contains(";E41B20000150002;180;4;90;"), "{first}");
    let lines = r1.get(&format!("/amministrazione/bandi/{CODE}/voci.csv")).await;
    let rows: Vec<&str> = lines.body.lines().collect();
    assert_eq!(rows[0], "\u{feff}seq;protocol;entity_code;entity_name;line;category;description;amount;service_code;service_quantity;service_unit_price");
    assert_eq!(rows.len(), 5, "two lines each, after the header");
    assert!(rows[1].ends_with(";1;training;Formazione;25000,00;;;"), "{}", rows[1]);
    let xlsx = r1
        .client
        .get(format!("{}/amministrazione/bandi/{CODE}/domande.xlsx", r1.base))
        .header("cookie", r1.cookie_header())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let mut workbook = String::new();
    zip.by_name("xl/workbook.xml").unwrap().read_to_string(&mut workbook).unwrap();
    assert!(workbook.contains("name=\"Voci di spesa\""), "{workbook}");
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut sheet).unwrap();
    // The instants are numbers (serial dates) with a date format, not strings.
    assert!(sheet.contains("<c r=\"D2\" s="), "{}", &sheet[..sheet.len().min(2000)]);
    assert!(!sheet.contains("<c r=\"D2\" t=\"s\""), "a real date, not a string");

    // Everything the review wrote replays.
    app.store.verify().await.unwrap();
    }
}
