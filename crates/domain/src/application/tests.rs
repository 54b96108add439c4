use super::*;
use crate::call::Call;
use serde_json::json;

fn call() -> Call {
    Call::from_toml(include_str!("../../../../calls/er-2020-smart-working.toml")).unwrap()
}

fn indicators() -> Value {
    json!({"staff_total": 180, "agile_workers_before": 4, "agile_workers_target": 90})
}

fn body(lines: Value) -> Value {
    json!({"title": "Smart working a Cervia", "summary": "Avvio, formazione, cloud", "lines": lines, "indicators": indicators()})
}

fn codes(errors: &[FieldError]) -> Vec<(String, &'static str)> {
    errors.iter().map(|e| (e.field.clone(), e.code)).collect()
}

#[test]
fn cervia_asks_52500_on_75000() {
    let v = parse_and_validate(
        &body(json!([
            {"category": "planning", "description": "Avvio", "amount_cents": 1_500_000},
            {"category": "training", "description": "Formazione", "amount_cents": 2_500_000},
            {"category": "technology", "description": "Migrazione al cloud Lepida", "amount_cents": 3_500_000},
        ])),
        &call(),
    )
    .unwrap();
    assert_eq!(v.total_cost, Money::from_euros(75_000));
    assert_eq!(v.eligible_cost, Money::from_euros(75_000));
    assert_eq!(v.requested, Money::from_euros(52_500));
    assert!(v.notices.is_empty());
}

#[test]
fn the_distretto_ceramico_is_capped_at_105000() {
    let v = parse_and_validate(
        &body(json!([
            {"category": "technology", "description": "Virtualizzazione", "amount_cents": 10_000_000},
            {"category": "training", "description": "Formazione", "amount_cents": 5_000_000},
        ])),
        &call(),
    )
    .unwrap();
    assert_eq!(v.eligible_cost, Money::from_euros(150_000));
    assert_eq!(v.requested, Money::from_euros(105_000));
}

#[test]
fn devices_above_20_percent_are_cut_and_the_applicant_is_told() {
    // 80,000 of other costs admit devices up to 20,000 (20% of 100,000).
    let v = parse_and_validate(
        &body(json!([
            {"category": "technology", "description": "Cloud", "amount_cents": 8_000_000},
            {"category": "devices", "description": "Portatili", "amount_cents": 3_000_000},
        ])),
        &call(),
    )
    .unwrap();
    assert_eq!(v.total_cost, Money::from_euros(110_000));
    assert_eq!(v.eligible_cost, Money::from_euros(100_000));
    assert_eq!(v.requested, Money::from_euros(70_000));
    assert_eq!(v.notices.len(), 1);
    let n = &v.notices[0];
    assert_eq!(n.code, "share_cap_exceeded");
    assert_eq!(n.amount, Money::from_euros(10_000));
    assert!(
        n.text.it.contains("Acquisto di dispositivi") && n.text.it.contains("20%"),
        "{}",
        n.text.it
    );
    assert!(
        n.text.en.contains("20%") && n.text.en.contains("€10,000.00"),
        "{}",
        n.text.en
    );
}

#[test]
fn devices_alone_have_no_eligible_cost() {
    let errors = parse_and_validate(
        &body(json!([{"category": "devices", "description": "Tablet", "amount_cents": 1_000_000}])),
        &call(),
    )
    .unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![("lines".to_string(), "no_eligible_cost")]
    );
}

#[test]
fn every_problem_is_listed_at_once() {
    let errors = parse_and_validate(
        &json!({
            "title": "x".repeat(301),
            "summary": "ok\u{7}",
            "extra": true,
            "lines": [
                {"category": "catering", "description": "Buffet", "amount_cents": 100},
                {"category": "training", "description": "Corso", "amount_cents": 12.5},
                {"category": "training", "description": "Corso", "amount_cents": "500"},
                {"category": "training", "description": "Corso", "amount_cents": -3},
                {"category": "training", "amount_cents": 0, "colour": "red"},
                "not an object",
                {"category": "catering", "amount_cents": 1.5},
            ],
            "indicators": {"staff_total": "many", "unknown": 3, "agile_workers_before": -1, "agile_workers_target": 1.5}
        }),
        &call(),
    )
    .unwrap_err();
    let got = codes(&errors);
    for expected in [
        ("title", "too_long"),
        ("summary", "control_characters"),
        ("extra", "unknown_field"),
        ("lines[0].category", "unknown_category"),
        ("lines[1].amount_cents", "wrong_type"),
        ("lines[6].category", "unknown_category"),
        ("lines[2].amount_cents", "wrong_type"),
        ("lines[3].amount_cents", "amount_not_positive"),
        ("lines[4].colour", "unknown_field"),
        ("lines[5]", "wrong_type"),
        ("indicators.staff_total", "wrong_type"),
        ("indicators.unknown", "unknown_indicator"),
        ("indicators.agile_workers_before", "negative"),
        ("indicators.agile_workers_target", "wrong_type"),
    ] {
        assert!(
            got.contains(&(expected.0.to_string(), expected.1)),
            "missing {expected:?} in {got:?}"
        );
    }
    // Every error speaks both languages.
    assert!(
        errors
            .iter()
            .all(|e| !e.text.it.is_empty() && !e.text.en.is_empty())
    );
}

#[test]
fn missing_things() {
    let errors = parse_and_validate(&json!({}), &call()).unwrap_err();
    let got = codes(&errors);
    assert!(got.contains(&("title".into(), "required")), "{got:?}");
    assert!(got.contains(&("lines".into(), "required")), "{got:?}");
    assert!(
        got.contains(&("indicators.staff_total".into(), "required")),
        "{got:?}"
    );
    let errors = parse_and_validate(&json!([1, 2]), &call()).unwrap_err();
    assert_eq!(codes(&errors)[0].1, "wrong_type");
    let errors = parse_and_validate(&json!({"title": "   ", "lines": []}), &call()).unwrap_err();
    assert!(codes(&errors).contains(&("title".into(), "required")));
}

#[test]
fn sums_that_overflow_are_refused() {
    let line = json!({"category": "training", "description": "x", "amount_cents": Money::MAX_AMOUNT.cents()});
    let errors = parse_and_validate(&body(json!([line.clone(), line])), &call()).unwrap_err();
    assert_eq!(codes(&errors), vec![("lines".to_string(), "sum_overflow")]);
    let errors = parse_and_validate(
        &body(json!([{"category": "training", "description": "x", "amount_cents": u64::MAX}])),
        &call(),
    )
    .unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![("lines[0].amount_cents".to_string(), "amount_too_large")]
    );
    let errors = parse_and_validate(
        &body(json!([{"category": "training", "description": "x", "amount_cents": i64::MAX}])),
        &call(),
    )
    .unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![("lines[0].amount_cents".to_string(), "amount_too_large")]
    );
}

#[test]
fn the_content_hash_is_stable_and_sensitive() {
    let a = ApplicationContent::from_json(&body(
        json!([{"category": "training", "description": "x", "amount_cents": 100}]),
    ))
    .0;
    let b = ApplicationContent::from_json(&body(
        json!([{"amount_cents": 100, "description": "x", "category": "training"}]),
    ))
    .0;
    assert_eq!(a.sha256_hex(), b.sha256_hex(), "key order does not matter");
    let c = ApplicationContent::from_json(&body(
        json!([{"category": "training", "description": "x", "amount_cents": 101}]),
    ))
    .0;
    assert_ne!(a.sha256_hex(), c.sha256_hex());
    assert_eq!(a.sha256_hex().len(), 64);
}

fn cervia() -> ApplicationContent {
    ApplicationContent::from_json(&body(json!([
        {"category": "technology", "description": "Cloud", "amount_cents": 7_500_000},
    ])))
    .0
}

fn attached(code: &str, sha256: &str) -> AttachedDocument {
    AttachedDocument {
        code: code.into(),
        sha256: sha256.into(),
    }
}

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

#[test]
fn attachments_are_hashed_with_the_content_and_absent_ones_change_nothing() {
    let plain = cervia();
    assert!(
        !plain.canonical_json().contains("attachments"),
        "no attachments: the canonical JSON is the one of before"
    );
    assert_eq!(
        plain.canonical_json(),
        r#"{"title":"Smart working a Cervia","summary":"Avvio, formazione, cloud","lines":[{"category":"technology","description":"Cloud","amount_cents":7500000}],"indicators":{"agile_workers_before":4,"agile_workers_target":90,"staff_total":180}}"#
    );
    let mut with = plain.clone();
    with.attachments.push(attached("project_plan", SHA));
    assert_ne!(plain.sha256_hex(), with.sha256_hex());
    let mut other = plain.clone();
    other
        .attachments
        .push(attached("project_plan", &SHA.replace('9', "8")));
    assert_ne!(with.sha256_hex(), other.sha256_hex(), "the bytes count");
    // Stored content reads back, with or without attachments.
    let back: ApplicationContent = serde_json::from_str(&with.canonical_json()).unwrap();
    assert_eq!(back, with);
    let back: ApplicationContent = serde_json::from_str(&plain.canonical_json()).unwrap();
    assert_eq!(back, plain);
    let v = with.validate(&call()).unwrap();
    assert_eq!(v.content.attachments.len(), 1);
    assert_eq!(v.requested, Money::from_euros(52_500));
}

#[test]
fn a_missing_required_attachment_is_a_field_error_in_both_languages() {
    let mut strict = call();
    strict.attachments[1].required = true;
    let errors = cervia().validate(&strict).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![("attachments.resolution".to_string(), "required")]
    );
    assert!(errors[0].text.it.contains("Atto di approvazione"));
    assert!(errors[0].text.en.contains("Act approving"));
    let mut content = cervia();
    content.attachments.push(attached("resolution", SHA));
    assert!(content.validate(&strict).is_ok());
    // The shipped call asks for no attachment at submission.
    assert!(cervia().validate(&call()).is_ok());
}

#[test]
fn unknown_repeated_or_malformed_attachments_are_refused() {
    let mut content = cervia();
    content.attachments = vec![
        attached("cv", SHA),
        attached("project_plan", SHA),
        attached("project_plan", SHA),
        attached("resolution", &SHA.to_uppercase()),
        attached("resolution", "abc"),
    ];
    let errors = content.validate(&call()).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![
            ("attachments.cv".to_string(), "unknown_attachment"),
            (
                "attachments.project_plan".to_string(),
                "duplicate_attachment"
            ),
            ("attachments.resolution".to_string(), "bad_sha256"),
            ("attachments.resolution".to_string(), "duplicate_attachment"),
        ]
    );
}

#[test]
fn the_estimate_of_an_unfinished_form_uses_the_rules_of_the_submission() {
    // No title, no indicators, a line with no category the call knows, one at zero:
    // not valid, yet its amounts are those a complete application would get.
    let content = ApplicationContent {
        lines: vec![
            BudgetLine {
                category: "technology".into(),
                description: String::new(),
                amount_cents: Money::from_euros(80_000),
                service: None,
            },
            BudgetLine {
                category: "nope".into(),
                description: String::new(),
                amount_cents: Money::from_euros(5),
                service: None,
            },
            BudgetLine {
                category: "training".into(),
                description: String::new(),
                amount_cents: Money::ZERO,
                service: None,
            },
            BudgetLine {
                category: "devices".into(),
                description: String::new(),
                amount_cents: Money::from_euros(30_000),
                service: None,
            },
        ],
        ..ApplicationContent::default()
    };
    assert!(content.clone().validate(&call()).is_err());
    let e = estimate(&content, &call());
    assert_eq!(e.total_cost, Money::from_cents(11_000_500));
    assert_eq!(e.eligible_cost, Money::from_euros(100_000));
    assert_eq!(e.requested, Money::from_euros(70_000));
    assert_eq!(e.notices.len(), 1);
    assert_eq!(e.notices[0].code, "share_cap_exceeded");
    assert_eq!(e.notices[0].amount, Money::from_euros(10_000));
    // Once complete, the estimate is what validation computes.
    let full = parse_and_validate(
        &body(json!([
            {"category": "technology", "description": "Cloud", "amount_cents": 8_000_000},
            {"category": "devices", "description": "Portatili", "amount_cents": 3_000_000},
        ])),
        &call(),
    )
    .unwrap();
    let e = estimate(&full.content, &call());
    assert_eq!(
        (e.total_cost, e.eligible_cost, e.requested, e.notices),
        (
            full.total_cost,
            full.eligible_cost,
            full.requested,
            full.notices
        )
    );
}

#[test]
fn notices_of_the_estimate_name_the_lines_as_given() {
    let mut call = call();
    call.categories.iter_mut().for_each(|c| {
        if c.code == "planning" {
            c.eligible = false;
        }
    });
    let line = |category: &str, euros: i64| BudgetLine {
        category: category.into(),
        description: String::new(),
        amount_cents: Money::from_euros(euros),
        service: None,
    };
    let content = ApplicationContent {
        lines: vec![line("nope", 1), line("technology", 10), line("planning", 5)],
        ..ApplicationContent::default()
    };
    let e = estimate(&content, &call);
    assert_eq!(e.notices.len(), 1);
    assert_eq!(e.notices[0].field, "lines[2]", "the third line given");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
            prop_oneof![Just("training"), Just("devices"), Just("planning")].prop_map(Value::from),
        ];
        let keys = prop_oneof![
            Just("title".to_string()),
            Just("summary".to_string()),
            Just("lines".to_string()),
            Just("indicators".to_string()),
            Just("category".to_string()),
            Just("description".to_string()),
            Just("amount_cents".to_string()),
            Just("staff_total".to_string()),
            "\\PC{0,6}",
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(keys.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The eligible cost never exceeds the cost of eligible lines, devices stay within
        /// 20% of it, and the grant is 70% of it rounded down, capped at 105,000.
        #[test]
        fn amounts_follow_the_rules(
            lines in proptest::collection::vec((0usize..4, 1i64..20_000_000), 1..12)
        ) {
            let cats = ["planning", "training", "technology", "devices"];
            let json_lines: Vec<Value> = lines.iter().map(|(c, a)| json!({"category": cats[*c], "description": "d", "amount_cents": a})).collect();
            let call = call();
            match parse_and_validate(&body(Value::Array(json_lines)), &call) {
                Ok(v) => {
                    let devices: i64 = lines.iter().filter(|(c, _)| *c == 3).map(|(_, a)| a).sum();
                    let others: i64 = lines.iter().filter(|(c, _)| *c != 3).map(|(_, a)| a).sum();
                    prop_assert!(v.eligible_cost.cents() <= others + devices);
                    prop_assert!(v.eligible_cost.cents() >= others);
                    let admitted_devices = v.eligible_cost.cents() - others;
                    prop_assert!(admitted_devices * 10_000 <= v.eligible_cost.cents() * 2000);
                    let expected = (v.eligible_cost.cents() * 7000 / 10_000).min(10_500_000);
                    prop_assert_eq!(v.requested.cents(), expected);
                    prop_assert_eq!(v.notices.is_empty(), admitted_devices == devices);
                }
                Err(e) => {
                    prop_assert!(lines.iter().all(|(c, _)| *c == 3));
                    prop_assert_eq!(e[0].code, "no_eligible_cost");
                }
            }
        }

        /// No JSON value makes validation panic, and whatever passes is consistent.
        #[test]
        fn arbitrary_json_never_panics(v in arb_json()) {
            if let Ok(valid) = parse_and_validate(&v, &call()) {
                prop_assert!(valid.eligible_cost.is_positive());
                prop_assert!(valid.eligible_cost <= valid.total_cost);
            }
        }
    }
}

#[test]
fn a_catalogue_line_is_quantity_times_unit_price_and_hashed_with_it() {
    let line = |amount: i64, quantity: i64| {
        json!([{"category": "technology", "description": "VM", "amount_cents": amount,
            "service": {"code": "LEP-IAAS-VM", "quantity": quantity, "unit_price_cents": 8_500}}])
    };
    let v = parse_and_validate(&body(line(102_000, 12)), &call()).unwrap();
    let service = v.content.lines[0].service.as_ref().unwrap();
    assert_eq!(
        (service.code.as_str(), service.quantity),
        ("LEP-IAAS-VM", 12)
    );
    assert!(
        v.content
            .canonical_json()
            .contains(r#""service":{"code":"LEP-IAAS-VM","quantity":12,"unit_price_cents":8500}"#)
    );
    let by_hand = parse_and_validate(
        &body(json!([{"category": "technology", "description": "VM", "amount_cents": 102_000}])),
        &call(),
    )
    .unwrap();
    assert_ne!(v.content.sha256_hex(), by_hand.content.sha256_hex());

    let e = parse_and_validate(&body(line(100_000, 12)), &call()).unwrap_err();
    assert_eq!(
        codes(&e),
        vec![("lines[0].amount_cents".into(), "service_amount")]
    );
    assert!(
        e[0].message(Locale::It)
            .contains("12 × 85,00 € = 1.020,00 €"),
        "{}",
        e[0].message(Locale::It)
    );
    let e = parse_and_validate(&body(line(0, 0)), &call()).unwrap_err();
    assert!(codes(&e).contains(&("lines[0].service.quantity".into(), "quantity_out_of_range")));
}

#[test]
fn a_catalogue_line_of_the_wrong_shape_is_named_field_by_field() {
    let e = parse_and_validate(
        &body(json!([{"category": "technology", "amount_cents": 8_500,
            "service": {"code": 3, "quantity": -1, "price": 1}}])),
        &call(),
    )
    .unwrap_err();
    let got = codes(&e);
    for want in [
        ("lines[0].service.code", "wrong_type"),
        ("lines[0].service.quantity", "wrong_type"),
        ("lines[0].service.price", "unknown_field"),
        ("lines[0].service.unit_price_cents", "required"),
    ] {
        assert!(
            got.contains(&(want.0.into(), want.1)),
            "{want:?} in {got:?}"
        );
    }
    let e = parse_and_validate(
        &body(json!([{"category": "technology", "amount_cents": 8_500, "service": "LEP"}])),
        &call(),
    )
    .unwrap_err();
    assert!(codes(&e).contains(&("lines[0].service".into(), "wrong_type")));
}

#[test]
fn practices_are_cited_once_each_and_hashed() {
    let mut b = body(json!([{"category": "technology", "amount_cents": 7_500_000}]));
    b["practices"] = json!([3, 1]);
    let v = parse_and_validate(&b, &call()).unwrap();
    assert_eq!(v.content.practices, vec![3, 1]);
    assert!(
        v.content
            .canonical_json()
            .ends_with(r#""practices":[3,1]}"#)
    );

    b["practices"] = json!([3, 3, 0, "4", -2]);
    let e = parse_and_validate(&b, &call()).unwrap_err();
    assert_eq!(
        codes(&e),
        vec![
            ("practices[2]".into(), "wrong_type"),
            ("practices[3]".into(), "wrong_type"),
            ("practices[4]".into(), "wrong_type"),
            ("practices[1]".into(), "duplicate"),
        ]
    );
    b["practices"] = json!((1..=21).collect::<Vec<u64>>());
    let e = parse_and_validate(&b, &call()).unwrap_err();
    assert_eq!(codes(&e), vec![("practices".into(), "too_many")]);
    b["practices"] = json!({"n": 1});
    let e = parse_and_validate(&b, &call()).unwrap_err();
    assert_eq!(codes(&e), vec![("practices".into(), "wrong_type")]);
}
