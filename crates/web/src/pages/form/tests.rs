use super::*;

const CALL: &str = include_str!("../../../../../calls/er-2020-smart-working.toml");

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_good_form_reads_italian_amounts() {
    let call = Call::from_toml(CALL).unwrap();
    let input = FormInput::from_fields(
        &fields(&[
            ("title", "Smart working a Cervia"),
            ("summary", "Avvio"),
            ("line-0-category", "training"),
            ("line-0-description", "Formazione"),
            ("line-0-amount", "25.000,00"),
            ("line-2-category", "technology"),
            ("line-2-amount", "50.000"),
            ("line-5-category", ""),
            ("ind-staff_total", "1.180"),
            ("ind-agile_workers_before", "4"),
            ("ind-agile_workers_target", "90"),
            ("ind-not_in_the_call", "x"),
        ]),
        &call,
    );
    assert_eq!(input.lines.len(), 3, "trailing empty rows dropped");
    assert!(!input.indicators.contains_key("not_in_the_call"));
    let checked = input.check(&call, &[]);
    assert!(checked.errors.is_empty(), "{:?}", checked.errors);
    let v = checked.valid.unwrap();
    assert_eq!(v.total_cost, Money::from_euros(75_000));
    assert_eq!(v.requested, Money::from_euros(52_500));
    assert_eq!(
        v.content.indicators["staff_total"],
        IndicatorValue::Integer(1180)
    );
    assert_eq!(FormInput::from_draft(&input.to_draft()), input);
}

#[test]
fn every_problem_names_its_row() {
    let call = Call::from_toml(CALL).unwrap();
    let input = FormInput::from_fields(
        &fields(&[
            ("title", ""),
            ("line-0-category", "training"),
            ("line-0-amount", "abc"),
            ("line-1-category", ""),
            ("line-1-amount", "100,00"),
            ("line-2-category", "nope"),
            ("line-2-amount", "10,00"),
            ("line-3-category", "planning"),
            ("line-3-amount", "-5,00"),
            ("ind-staff_total", "molti"),
        ]),
        &call,
    );
    let checked = input.check(&call, &[]);
    assert!(checked.valid.is_none());
    let fields: Vec<(&str, &str)> = checked
        .errors
        .iter()
        .map(|e| (e.field.as_str(), e.code))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("title", "required"),
            ("lines[0].amount_cents", "invalid_amount"),
            ("lines[1].category", "required"),
            ("lines[2].category", "unknown_category"),
            ("lines[3].amount_cents", "amount_not_positive"),
            ("indicators.staff_total", "not_integer"),
            ("indicators.agile_workers_before", "required"),
            ("indicators.agile_workers_target", "required"),
        ]
    );
    let view = FormView::new(&input, &call, &checked.errors, &[], Locale::It);
    assert_eq!(view.lines.len(), MIN_ROWS);
    assert_eq!(view.lines[0].amount.value, "abc", "kept as typed");
    assert!(
        view.lines[0]
            .amount
            .error
            .as_ref()
            .unwrap()
            .contains("52.500,00")
    );
    assert_eq!(view.errors[1].href, "#line-0-amount");
    assert!(view.title.error.is_some());
    // The summary names the field and its row, then the problem.
    assert!(
        view.errors[2]
            .message
            .starts_with("Riga 2 — Categoria di spesa: scegliere"),
        "{}",
        view.errors[2].message
    );
    assert!(view.errors[5].message.starts_with(&format!(
        "{}: ",
        call.indicators
            .iter()
            .find(|i| i.code == "staff_total")
            .unwrap()
            .label
            .it
    )));
}

#[test]
fn amounts_are_shown_back_as_understood() {
    let call = Call::from_toml(CALL).unwrap();
    let input = FormInput::from_fields(
        &fields(&[
            ("line-0-amount", "25.000"),
            ("line-1-amount", " 1500 "),
            ("line-2-amount", "12,5"),
            ("line-3-amount", "venti euro"),
            ("line-4-amount", "1.2.3"),
        ]),
        &call,
    )
    .normalised();
    let amounts: Vec<&str> = input.lines.iter().map(|l| l.amount.as_str()).collect();
    assert_eq!(
        amounts,
        ["25.000,00", "1.500,00", "12,50", "venti euro", "1.2.3"]
    );
}
