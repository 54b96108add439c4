//! The expense report through the pages: the authority saves a draft (a mistake named next
//! to its field), attaches the invoice and the proof of payment, submits; a reviewer checks
//! the expense and closes the verification; an admin records the payment (one above what
//! may be paid refused in Italian) and the revocation's refusals; nobody else sees it.

use bandi_app::review::Which;
use bandi_app::{Actor, App};
use bandi_domain::call::CallCode;
use bandi_domain::money::Money;
use bandi_domain::review::Action;
use bandi_store::intake::Intake;
use jiff::SignedDuration;
use reqwest::StatusCode;

use super::*;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n";

fn outcome(html: &str) -> &str {
    let start = html.find("id=\"action-outcome\">").expect("an outcome") + 20;
    html[start..].split('<').next().unwrap()
}

on_both_backends! {
    async fn reports_through_the_pages(db: TestDb) {
    let call = crate::testing::er_call(SignedDuration::from_mins(-1));
    let app = start_with(db, &call).await;
    let hash = hash_password(PASSWORD);
    app.store
        .create_user("istruttore@example.it", "istruttore@example.it", &hash, Role::Reviewer)
        .await
        .unwrap();
    let token = app.store.issue_token("039007").await.unwrap();
    let receipt: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/calls/{CODE}/applications", app.base))
        .bearer_auth(token)
        .json(&serde_json::json!({
            "title": "Smart working a Cervia",
            "lines": [
                {"category": "training", "description": "Formazione", "amount_cents": 2_500_000},
                {"category": "technology", "description": "Cloud", "amount_cents": 5_000_000}
            ],
            "indicators": {"staff_total": 180, "agile_workers_before": 4, "agile_workers_target": 90}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = receipt["id"].as_str().unwrap().to_string();
    // Admitted with its CUP, through the use cases.
    let use_cases = App::new(app.store.clone(), Intake::start_naive(app.store.clone()));
    let official = Actor::User(app.store.user_by_email("istruttore@example.it").await.unwrap().unwrap().0);
    let which = Which::Seq(CallCode::parse(CODE).unwrap(), 1);
    use_cases.review(&official, &which, Action::Take { takeover: false }).await.unwrap();
    for item in ["eligible_body", "three_parts", "costs_eligible", "approving_act"] {
        use_cases
            .review(&official, &which, Action::Check { item: item.into(), passed: true, note: String::new() })
            .await
            .unwrap();
    }
    use_cases.review(&official, &which, Action::Admit { reason: "Conforme.".into() }).await.unwrap();
    let cervia_user = Actor::User(app.store.user_by_email("cervia@example.it").await.unwrap().unwrap().0);
    use_cases.record_cup(&cervia_user, &which, "E41B20000150002").await.unwrap();

    // The authority: the receipt links the report; a draft with a mistake keeps what was typed.
    let mut cervia = Browser::new(&app);
    cervia.sign_in("cervia@example.it", PASSWORD).await;
    let receipt_page = cervia.get(&format!("/area-riservata/ricevuta/{id}")).await;
    let path = format!("/area-riservata/rendiconto/{id}");
    assert!(receipt_page.body.contains(&format!("href=\"{path}\"")), "the receipt links the report");
    let dashboard = cervia.get("/area-riservata?ente=039007").await;
    assert!(dashboard.body.contains("Presentare il rendiconto"), "a to-do on the dashboard");
    let form = cervia.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = hidden(&form.body, "csrf");
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Rome").unwrap()).date().to_string();
    let mut fields = vec![
        ("csrf", csrf.clone()),
        ("action", "save".to_string()),
        ("exp-0-supplier", "Lepida ScpA".to_string()),
        ("exp-0-tax", "12345".to_string()),
        ("exp-0-number", "FT-118".to_string()),
        ("exp-0-invoice_date", today.clone()),
        ("exp-0-category", "technology".to_string()),
        ("exp-0-description", "Cloud".to_string()),
        ("exp-0-amount", "30.000,00".to_string()),
        ("exp-0-paid_on", today.clone()),
        ("exp-1-supplier", String::new()),
    ];
    let as_refs = |f: &Vec<(&'static str, String)>| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let owned = as_refs(&fields);
    let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_files(&mut cervia, &path, &refs, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "a draft is kept even with mistakes");
    assert!(r.body.contains("id=\"exp-0-tax-error\""), "{}", r.body);
    assert!(r.body.contains("value=\"Lepida ScpA\""));
    assert!(r.body.contains("id=\"att-expense-0-invoice-error\""), "the invoice is missing");
    // Another authority: the same 404 as nothing.
    let mut ucdc = Browser::new(&app);
    ucdc.sign_in("ucdc@example.it", PASSWORD).await;
    assert_eq!(ucdc.get(&path).await.status, StatusCode::NOT_FOUND);

    // Fixed, with its documents, submitted.
    fields[1].1 = "submit".into();
    fields[3].1 = "02770891204".into();
    let owned = as_refs(&fields);
    let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = post_files(
        &mut cervia,
        &path,
        &refs,
        &[
            ("att-expense-0-invoice", "fattura.pdf", "application/pdf", PDF),
            ("att-expense-0-payment", "bonifico.pdf", "application/pdf", PDF),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = cervia.get(&path).await;
    assert!(page.body.contains("Rendiconto presentato"));
    assert!(!page.body.contains("id=\"report-form\""), "sealed: no form");

    // The reviewer checks and closes; an unknown action and a forged form change nothing.
    let mut reviewer = Browser::new(&app);
    reviewer.sign_in("istruttore@example.it", PASSWORD).await;
    let officials = format!("/amministrazione/bandi/{CODE}/domande/1/rendiconto");
    let p = reviewer.get(&officials).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("fattura.pdf"));
    let rcsrf = hidden(&p.body, "csrf");
    assert_eq!(reviewer.post(&officials, &[("csrf", &rcsrf), ("action", "approve")]).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(reviewer.post(&officials, &[("csrf", "x"), ("action", "close")]).await.status, StatusCode::FORBIDDEN);
    let r = reviewer
        .post(&officials, &[("csrf", &rcsrf), ("action", "check"), ("line", "0"), ("outcome", "partial"), ("accepted", "20.000,00"), ("reason", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(outcome(&r.body).contains("motivazione"), "{}", outcome(&r.body));
    let r = reviewer
        .post(&officials, &[("csrf", &rcsrf), ("action", "check"), ("line", "0"), ("outcome", "partial"), ("accepted", "20.000,00"), ("reason", "Canone oltre il progetto.")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = reviewer.post(&officials, &[("csrf", &rcsrf), ("action", "close")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let report = app.store.report(CODE, 1).await.unwrap().unwrap();
    assert_eq!(report.final_grant, Some(Money::from_euros(14_000)));
    // A reviewer records no payment.
    let r = reviewer
        .post(&officials, &[("csrf", &rcsrf), ("action", "payment"), ("kind", "balance"), ("amount", "1,00"), ("paid_on", "2020-12-20"), ("act_number", "DD 1"), ("act_date", "2020-12-20")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The admin: above what may be paid refused; the payment; a revocation needs its reason.
    let mut admin = Browser::new(&app);
    admin.sign_in("ufficio@example.it", PASSWORD).await;
    let acsrf = hidden(&admin.get(&officials).await.body, "csrf");
    let r = admin
        .post(&officials, &[("csrf", &acsrf), ("action", "payment"), ("kind", "balance"), ("amount", "14.000,01"), ("paid_on", "2020-12-20"), ("act_number", "DD 900/2020"), ("act_date", "2020-12-20")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(outcome(&r.body).contains("supererebbe"), "{}", outcome(&r.body));
    let r = admin
        .post(&officials, &[("csrf", &acsrf), ("action", "payment"), ("kind", "balance"), ("amount", "14.000,00"), ("paid_on", "2020-12-20"), ("act_number", "DD 900/2020"), ("act_date", "2020-12-20")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = admin
        .post(&officials, &[("csrf", &acsrf), ("action", "revoke"), ("reason", " "), ("act_number", "DGR 1"), ("act_date", "2021-01-10")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = cervia.get(&path).await;
    assert!(page.body.contains("14.000,00"), "the final grant and the payment on the authority's page");
    assert!(page.body.contains("Ammessa in parte"));
    app.store.verify().await.unwrap();
    }
}
