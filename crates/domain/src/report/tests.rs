use proptest::prelude::*;

use super::verification::*;
use super::*;
use crate::application::AttachedDocument;

const CALL: &str = include_str!("../../../../calls/er-2020-smart-working.toml");

fn call() -> Call {
    Call::from_toml(CALL).unwrap()
}

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn bounds() -> ReportBounds {
    ReportBounds {
        admitted_by_category: [
            ("training".to_string(), Money::from_euros(25_000)),
            ("technology".to_string(), Money::from_euros(50_000)),
        ]
        .into_iter()
        .collect(),
        award: Money::from_euros(52_500),
        from: d("2020-04-03"),
        to: d("2020-12-31"),
        paid_by: d("2021-02-28"),
        require_documents: true,
    }
}

fn docs() -> Vec<AttachedDocument> {
    [INVOICE, PROOF_OF_PAYMENT]
        .into_iter()
        .map(|c| AttachedDocument {
            code: c.into(),
            sha256: "ab".repeat(32),
        })
        .collect()
}

fn expense(category: &str, euros: i64) -> Expense {
    Expense {
        supplier: "Lepida ScpA".into(),
        // Lepida's VAT number, a real one with its check digit.
        supplier_tax_id: "02770891204".into(),
        invoice_number: "FT-2020/118".into(),
        invoice_date: "2020-06-15".into(),
        category: category.into(),
        description: "Servizi cloud".into(),
        amount_cents: Money::from_euros(euros),
        paid_on: "2020-07-10".into(),
        documents: docs(),
    }
}

fn report(expenses: Vec<Expense>) -> ReportContent {
    ReportContent {
        expenses,
        indicators: [("staff_total".to_string(), IndicatorValue::Integer(180))]
            .into_iter()
            .collect(),
        notes: String::new(),
    }
}

fn fields(errors: &[FieldError]) -> Vec<(&str, &str)> {
    errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
}

#[test]
fn tax_ids_are_checked_by_their_check_digit() {
    assert!(tax_id_is_valid("02770891204"));
    assert!(!tax_id_is_valid("02770891205"));
    assert!(tax_id_is_valid("RSSMRA80A01H501U"));
    assert!(!tax_id_is_valid("RSSMRA80A01H501"));
    assert!(!tax_id_is_valid("123"));
}

#[test]
fn a_good_report_gives_its_totals_and_grant() {
    let r = check_report(
        &report(vec![
            expense("training", 20_000),
            expense("technology", 50_000),
        ]),
        &call(),
        &bounds(),
    )
    .unwrap();
    assert_eq!(r.claimed, Money::from_euros(70_000));
    assert_eq!(r.eligible_claimed, Money::from_euros(70_000));
    assert_eq!(r.grant_claimed, Money::from_euros(49_000));
    assert_eq!(r.claimed_by_category["training"], Money::from_euros(20_000));
    // More than the award is never granted.
    let r = check_report(
        &report(vec![
            expense("training", 25_000),
            expense("technology", 50_000),
        ]),
        &call(),
        &ReportBounds {
            award: Money::from_euros(40_000),
            ..bounds()
        },
    )
    .unwrap();
    assert_eq!(r.grant_claimed, Money::from_euros(40_000));
}

#[test]
fn every_problem_is_named_by_its_field() {
    let mut late = expense("training", 10_000);
    late.invoice_date = "2021-01-05".into();
    let mut before = expense("technology", 10_000);
    before.paid_on = "2020-06-01".into();
    let mut unknown = expense("catering", 10);
    unknown.supplier_tax_id = "12345678901".into();
    unknown.documents.clear();
    let over = expense("technology", 45_000);
    let mut bad_date = expense("training", 5);
    bad_date.invoice_date = "15/06/2020".into();
    bad_date.supplier = "  ".into();
    let errors = check_report(
        &report(vec![late, before, unknown, over, bad_date]),
        &call(),
        &bounds(),
    )
    .unwrap_err();
    let f = fields(&errors);
    for expected in [
        ("expenses.0.invoice_date", "outside_project"),
        ("expenses.1.paid_on", "paid_before_invoice"),
        ("expenses.2.category", "unknown_category"),
        ("expenses.2.supplier_tax_id", "invalid_tax_id"),
        ("expenses.2.invoice", "document_missing"),
        ("expenses.2.payment", "document_missing"),
        ("expenses.3.amount_cents", "above_admitted"),
        ("expenses.4.invoice_date", "invalid_date"),
        ("expenses.4.supplier", "required"),
    ] {
        assert!(f.contains(&expected), "{expected:?} in {f:?}");
    }
    // A draft need not have its documents yet.
    let mut draft = expense("training", 100);
    draft.documents.clear();
    assert!(
        check_report(
            &report(vec![draft]),
            &call(),
            &ReportBounds {
                require_documents: false,
                ..bounds()
            }
        )
        .is_ok()
    );
}

#[test]
fn checks_and_the_final_grant() {
    let e = expense("technology", 10_000);
    assert_eq!(
        check_expense(&e, ExpenseOutcome::Accepted, None, ""),
        Ok(Money::from_euros(10_000))
    );
    assert_eq!(
        check_expense(
            &e,
            ExpenseOutcome::Partial,
            Some(Money::from_euros(10_000)),
            "x"
        ),
        Err(ReportError::PartialOutOfRange {
            amount: Money::from_euros(10_000)
        })
    );
    assert_eq!(
        check_expense(
            &e,
            ExpenseOutcome::Partial,
            Some(Money::from_euros(6_000)),
            " "
        ),
        Err(ReportError::ReasonRequired)
    );
    assert_eq!(
        check_expense(
            &e,
            ExpenseOutcome::Refused,
            None,
            "Fattura intestata ad altro ente"
        ),
        Ok(Money::ZERO)
    );
    // Devices are eligible up to 20% of the eligible cost, as at the application.
    let r = report(vec![
        expense("technology", 40_000),
        expense("devices", 20_000),
    ]);
    let (eligible, grant) = final_grant(
        &call(),
        &r,
        &[Money::from_euros(40_000), Money::from_euros(20_000)],
        Money::from_euros(52_500),
    );
    assert_eq!(eligible, Money::from_euros(50_000));
    assert_eq!(grant, Money::from_euros(35_000));
}

#[test]
fn payments_never_exceed_what_may_be_paid() {
    let award = Money::from_euros(52_500);
    let share = Some(crate::money::Rate::from_bp(3_000).unwrap());
    assert_eq!(
        check_payment(
            PaymentKind::Advance,
            Money::from_euros(1),
            None,
            award,
            None,
            Money::ZERO
        ),
        Err(ReportError::NoAdvance)
    );
    assert_eq!(
        payable(PaymentKind::Advance, share, award, None, Money::ZERO),
        Ok(Money::from_euros(15_750))
    );
    assert!(matches!(
        check_payment(
            PaymentKind::Advance,
            Money::from_euros(16_000),
            share,
            award,
            None,
            Money::ZERO
        ),
        Err(ReportError::AbovePayable { .. })
    ));
    assert!(matches!(
        check_payment(
            PaymentKind::Balance,
            Money::from_euros(1),
            share,
            award,
            None,
            Money::ZERO
        ),
        Err(ReportError::WrongState { .. })
    ));
    let fin = Some(Money::from_euros(40_000));
    let paid = Money::from_euros(15_750);
    assert_eq!(
        payable(PaymentKind::Balance, share, award, fin, paid),
        Ok(Money::from_euros(24_250))
    );
    assert_eq!(
        check_payment(
            PaymentKind::Balance,
            Money::from_euros(24_250),
            share,
            award,
            fin,
            paid
        ),
        Ok(())
    );
    assert_eq!(
        check_payment(PaymentKind::Balance, Money::ZERO, share, award, fin, paid),
        Err(ReportError::NotPositive)
    );
}

proptest! {
    /// The final grant never exceeds the award nor the rate of what was verified, grows
    /// with what is accepted, and accepting everything admitted gives the award back.
    #[test]
    fn the_final_grant_is_bounded_and_monotone(
        amounts in prop::collection::vec((0usize..4, 1i64..4_000_000), 1..12),
        cut in prop::collection::vec(0u8..=100, 12),
        award_euros in 1i64..120_000,
    ) {
        let call = call();
        let cats = ["planning", "training", "technology", "devices"];
        let r = ReportContent {
            expenses: amounts.iter().map(|(c, cents)| Expense {
                category: cats[*c].into(),
                amount_cents: Money::from_cents(*cents),
                ..Expense::default()
            }).collect(),
            indicators: BTreeMap::new(),
            notes: String::new(),
        };
        let award = Money::from_euros(award_euros);
        let all: Vec<Money> = r.expenses.iter().map(|e| e.amount_cents).collect();
        let some: Vec<Money> = r.expenses.iter().zip(&cut)
            .map(|(e, p)| Money::from_cents(e.amount_cents.cents() * i64::from(*p) / 100))
            .collect();
        let (eligible_all, grant_all) = final_grant(&call, &r, &all, award);
        let (eligible_some, grant_some) = final_grant(&call, &r, &some, award);
        prop_assert!(grant_all <= award && grant_some <= award);
        prop_assert!(grant_some <= grant_all);
        prop_assert!(eligible_some <= eligible_all);
        prop_assert!(grant_all <= call.grant_for(eligible_all));
        prop_assert!(grant_all.cents() * 10_000 <= eligible_all.cents() * i64::from(call.rate.bp()));
        prop_assert!(!grant_some.cents().is_negative());
        // Everything verified as claimed gives what the claim gave.
        let t = totals(&r, &call, award);
        prop_assert_eq!(grant_all, t.grant_claimed);
    }
}
