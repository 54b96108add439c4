//! After the award through the use cases, on a real store: the expense report from its
//! draft (with the documents of each expense) to its submission, the verification of each
//! expense, the final grant giving money back to the waiting application, payments never
//! above what may be paid, a revocation, and every refusal changing nothing; `verify`
//! agreeing with all of it.

use bandi_app::drafts::Upload;
use bandi_app::intake::{Content, Submit};
use bandi_app::review::Which;
use bandi_app::{Actor, App, AppError};
use bandi_domain::account::Role;
use bandi_domain::allocation::Status;
use bandi_domain::money::Money;
use bandi_domain::report::verification::{ExpenseOutcome, PaymentKind, ReportState};
use bandi_domain::report::{Expense, ReportContent};
use bandi_domain::review::{Action, ReviewState, act};
use bandi_store::intake::Accepted;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;
use serde_json::json;

use crate::support::*;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n";

fn seq(n: u64) -> Which {
    Which::Seq(code(), n)
}

/// 080001 asks 52,500 € (25,000 training, 50,000 technology) and is funded; 080002 asks
/// 21,000 € and waits on a budget of 60,000 €. 080001 is admitted with its CUP.
async fn funded(db: &TestDb) -> (App, Actor, Actor, Actor, Actor) {
    let app = app(db, SignedDuration::from_mins(60)).await;
    let mut call = er_call(SignedDuration::from_mins(-1));
    call.budget = Money::from_euros(60_000);
    app.import_call(&Actor::Operator, &call).await.unwrap();
    for (e, lines) in [
        (
            "080001",
            json!([
            {"category": "training", "description": "Formazione", "amount_cents": 2_500_000},
            {"category": "technology", "description": "Cloud", "amount_cents": 5_000_000}]),
        ),
        (
            "080002",
            json!([{"category": "training", "description": "Corsi", "amount_cents": 3_000_000}]),
        ),
    ] {
        let body = json!({"title": "Smart working", "summary": "x", "lines": lines,
            "indicators": {"staff_total": 50, "agile_workers_before": 2, "agile_workers_target": 30}});
        match app
            .submit(
                &Actor::Entity(e.into()),
                Submit {
                    call: code(),
                    entity: entity(e),
                    idempotency_key: None,
                    content: Content::Json(body),
                },
            )
            .await
        {
            Ok(Accepted::Created(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    let anna = person(&app, "anna@regione.it", Role::Reviewer, &[]).await;
    let capo = person(&app, "capo@regione.it", Role::Admin, &[]).await;
    let staff = person(&app, "staff@example.it", Role::Applicant, &["080001"]).await;
    let other = person(&app, "altro@example.it", Role::Applicant, &["080002"]).await;
    app.review(&anna, &seq(1), Action::Take { takeover: false })
        .await
        .unwrap();
    for item in [
        "eligible_body",
        "three_parts",
        "costs_eligible",
        "approving_act",
    ] {
        app.review(
            &anna,
            &seq(1),
            Action::Check {
                item: item.into(),
                passed: true,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    }
    app.review(
        &anna,
        &seq(1),
        Action::Admit {
            reason: "Conforme.".into(),
        },
    )
    .await
    .unwrap();
    (app, anna, capo, staff, other)
}

fn expense(category: &str, euros: i64) -> Expense {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Rome").unwrap())
        .date()
        .to_string();
    Expense {
        supplier: "Lepida ScpA".into(),
        supplier_tax_id: "02770891204".into(),
        invoice_number: format!("FT-{category}"),
        invoice_date: today.clone(),
        category: category.into(),
        description: "Servizio".into(),
        amount_cents: Money::from_euros(euros),
        paid_on: today,
        documents: vec![],
    }
}

fn report() -> ReportContent {
    ReportContent {
        expenses: vec![expense("training", 20_000), expense("technology", 30_000)],
        indicators: Default::default(),
        notes: "Progetto concluso.".into(),
    }
}

fn pdf(code: &str) -> Upload {
    Upload::from_bytes(code, "fattura.pdf", PDF.to_vec())
}

async fn award(app: &App, n: u64) -> (Status, Money, ReviewState) {
    let a = app
        .store()
        .under_review(code().as_str(), n)
        .await
        .unwrap()
        .unwrap();
    (a.status, a.reserved, a.review.state)
}

pub async fn reports_verification_payments_and_revocation(db: TestDb) {
    let (app, anna, capo, staff, other) = funded(&db).await;
    assert_eq!(award(&app, 2).await.0, Status::Waitlisted);
    // No report before the CUP; not for another authority's application.
    match app.save_report(&staff, &seq(1), report(), vec![]).await {
        Err(e) => assert_eq!(e.code(), "not_reportable"),
        Ok(_) => panic!("a report before the CUP"),
    }
    app.record_cup(&staff, &seq(1), "E41B20000150002")
        .await
        .unwrap();
    assert!(matches!(
        app.save_report(&other, &seq(1), report(), vec![]).await,
        Err(AppError::NotFound)
    ));
    // A draft with a mistake is kept, with the mistake named.
    let mut bad = report();
    bad.expenses[1].supplier_tax_id = "123".into();
    let saved = app.save_report(&staff, &seq(1), bad, vec![]).await.unwrap();
    assert!(
        saved
            .problems
            .iter()
            .any(|p| p.field == "expenses.1.supplier_tax_id")
    );
    assert_eq!(saved.totals.claimed, Money::from_euros(50_000));
    // Submitting without the invoices: refused, every missing document named.
    let saved = app
        .save_report(&staff, &seq(1), report(), vec![])
        .await
        .unwrap();
    assert!(
        saved
            .problems
            .iter()
            .any(|p| p.field == "expenses.0.invoice")
    );
    let before = footprint(&app).await;
    match app.submit_report(&staff, &seq(1)).await {
        Err(AppError::InvalidReport(problems)) => assert_eq!(problems.len(), 4),
        other => panic!("{other:?}"),
    }
    assert_eq!(footprint(&app).await, before);
    // A file for an expense that does not exist refuses the save.
    assert!(matches!(
        app.save_report(&staff, &seq(1), report(), vec![pdf("expense-9-invoice")])
            .await,
        Err(AppError::UnknownAttachment(_))
    ));
    let uploads = [
        "expense-0-invoice",
        "expense-0-payment",
        "expense-1-invoice",
        "expense-1-payment",
    ]
    .map(pdf)
    .into_iter()
    .collect();
    let saved = app
        .save_report(&staff, &seq(1), report(), uploads)
        .await
        .unwrap();
    assert!(saved.problems.is_empty(), "{:?}", saved.problems);
    app.submit_report(&staff, &seq(1)).await.unwrap();
    let view = app.report_view(&anna, &seq(1)).await.unwrap();
    assert_eq!(view.state(), ReportState::Submitted);
    assert_eq!(view.documents.len(), 4, "sealed with the report");
    assert!(matches!(
        app.save_report(&staff, &seq(1), report(), vec![]).await,
        Err(AppError::Report(_))
    ));

    // Verification: only reviewers; every expense before the close.
    assert!(matches!(
        app.check_report_expense(&staff, &seq(1), 0, ExpenseOutcome::Accepted, None, "")
            .await,
        Err(AppError::Forbidden)
    ));
    app.check_report_expense(&anna, &seq(1), 0, ExpenseOutcome::Accepted, None, "")
        .await
        .unwrap();
    match app.close_verification(&anna, &seq(1)).await {
        Err(e) => assert_eq!(e.code(), "expenses_not_checked"),
        Ok(_) => panic!("closed with an expense unchecked"),
    }
    match app
        .check_report_expense(
            &anna,
            &seq(1),
            1,
            ExpenseOutcome::Partial,
            Some(Money::from_euros(20_000)),
            " ",
        )
        .await
    {
        Err(e) => assert_eq!(e.code(), "reason_required"),
        Ok(_) => panic!("a partial finding without its reason"),
    }
    app.check_report_expense(
        &anna,
        &seq(1),
        1,
        ExpenseOutcome::Partial,
        Some(Money::from_euros(20_000)),
        "Canone oltre la durata del progetto.",
    )
    .await
    .unwrap();
    // Before the close, an advance only if the call provides one (this one does not).
    match app
        .record_payment(
            &capo,
            &seq(1),
            PaymentKind::Advance,
            Money::from_euros(1),
            "2020-12-20",
            act("DD 1/2020", "2020-12-01", None).unwrap(),
        )
        .await
    {
        Err(e) => assert_eq!(e.code(), "no_advance"),
        Ok(_) => panic!("an advance the call does not provide"),
    }
    // 40,000 € verified: a final grant of 28,000 €; the 24,500 € given back fund 080002.
    let closed = app.close_verification(&anna, &seq(1)).await.unwrap();
    let view = app.report_view(&anna, &seq(1)).await.unwrap();
    assert_eq!(
        view.report.as_ref().unwrap().final_grant,
        Some(Money::from_euros(28_000))
    );
    assert_eq!(award(&app, 1).await.1, Money::from_euros(28_000));
    assert!(
        closed
            .moved
            .iter()
            .any(|m| m.seq == 2 && m.after.0 == Status::Reserved)
    );
    assert_eq!(award(&app, 2).await.0, Status::Reserved);

    // Payments: no advance in this call; never above the final grant.
    let dd = || act("DD 900/2020", "2020-12-20", None).unwrap();
    assert!(matches!(
        app.record_payment(
            &anna,
            &seq(1),
            PaymentKind::Balance,
            Money::from_euros(1),
            "2020-12-20",
            dd()
        )
        .await,
        Err(AppError::Forbidden)
    ));
    match app
        .record_payment(
            &capo,
            &seq(1),
            PaymentKind::Advance,
            Money::from_euros(1),
            "2020-12-20",
            dd(),
        )
        .await
    {
        Err(e) => assert_eq!(e.code(), "report_wrong_state"),
        Ok(_) => panic!("an advance after the verification"),
    }
    match app
        .record_payment(
            &capo,
            &seq(1),
            PaymentKind::Balance,
            Money::from_euros(28_001),
            "2020-12-20",
            dd(),
        )
        .await
    {
        Err(e) => assert_eq!(e.code(), "above_payable"),
        Ok(_) => panic!("paid above the final grant"),
    }
    app.record_payment(
        &capo,
        &seq(1),
        PaymentKind::Balance,
        Money::from_euros(28_000),
        "2020-12-20",
        dd(),
    )
    .await
    .unwrap();
    match app
        .record_payment(
            &capo,
            &seq(1),
            PaymentKind::Balance,
            Money::from_cents(1),
            "2020-12-21",
            dd(),
        )
        .await
    {
        Err(e) => assert_eq!(e.code(), "above_payable"),
        Ok(_) => panic!("paid twice"),
    }
    assert_eq!(
        app.report_view(&capo, &seq(1)).await.unwrap().paid,
        Money::from_euros(28_000)
    );

    // A revocation takes the award back; what was paid is to be recovered.
    match app.revoke_award(&capo, &seq(1), " ", dd()).await {
        Err(e) => assert_eq!(e.code(), "text_required"),
        Ok(_) => panic!("a revocation without its reason"),
    }
    app.revoke_award(
        &capo,
        &seq(1),
        "Dichiarazione non veritiera.",
        act("DGR 77/2021", "2021-02-01", None).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(award(&app, 1).await.2, ReviewState::Revoked);
    assert_eq!(award(&app, 1).await.1, Money::ZERO);
    match app.revoke_award(&capo, &seq(1), "Di nuovo.", dd()).await {
        Err(e) => assert_eq!(e.code(), "wrong_state"),
        Ok(_) => panic!("revoked twice"),
    }
    // An extension only for an application that reports (080002 has no CUP yet).
    match app
        .extend_report_deadline(&capo, &seq(2), "2099-01-31", "Ritardi del fornitore.")
        .await
    {
        Err(e) => assert_eq!(e.code(), "not_reportable"),
        Ok(_) => panic!("an extension without a CUP"),
    }
    app.verify().await.unwrap();
}

pub async fn a_late_report_is_listed_until_its_deadline_is_extended(db: TestDb) {
    let (app, anna, capo, staff, _) = funded(&db).await;
    app.record_cup(&staff, &seq(1), "E41B20000150002")
        .await
        .unwrap();
    assert!(
        app.late_reports(&anna, code().as_str())
            .await
            .unwrap()
            .is_empty()
    );
    // The deadline passes (the call's file said yesterday).
    let mut call = er_call(SignedDuration::from_mins(-1));
    call.budget = Money::from_euros(60_000);
    call.reporting_deadline = Some(
        jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Rome").unwrap())
            .date()
            .yesterday()
            .unwrap(),
    );
    // The store keeps the rules the ledger published; the cache is read again at once.
    app.store().replace_rules_for_tests(&call).await.unwrap();
    let late = app.late_reports(&anna, code().as_str()).await.unwrap();
    assert_eq!(late.iter().map(|l| l.seq).collect::<Vec<_>>(), [1]);
    assert!(matches!(
        app.late_reports(&staff, code().as_str()).await,
        Err(AppError::Forbidden)
    ));
    match app.save_report(&staff, &seq(1), report(), vec![]).await {
        Err(e) => assert_eq!(e.code(), "report_deadline_passed"),
        Ok(_) => panic!("a report after its deadline"),
    }
    app.extend_report_deadline(&capo, &seq(1), "2099-01-31", "Ritardi del fornitore.")
        .await
        .unwrap();
    assert!(
        app.late_reports(&anna, code().as_str())
            .await
            .unwrap()
            .is_empty()
    );
    app.save_report(&staff, &seq(1), report(), vec![])
        .await
        .unwrap();
}
