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
    let checked = input.check(&call, &[], None);
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
    let checked = input.check(&call, &[], None);
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
    let view = FormView::new(&input, &call, &checked.errors, &[], None, Locale::It);
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

fn catalogue() -> bandi_domain::service::Catalogue {
    bandi_domain::service::Catalogue::from_toml(
        "provider = \"Lepida\"\n[[service]]\ncode = \"VDI\"\nname = \"Postazione virtuale\"\nkind = \"virtual_desktop\"\nunit = \"mese\"\nunit_price = \"22.00\"\n",
    )
    .unwrap()
}

#[test]
fn a_catalogue_row_goes_in_the_first_empty_row_and_is_priced_by_the_catalogue() {
    let call = Call::from_toml(CALL).unwrap();
    let c = catalogue();
    let mut input = FormInput::from_fields(
        &fields(&[
            ("title", "Lavoro agile"),
            ("line-0-category", "training"),
            ("line-0-amount", "100"),
            ("line-2-category", "planning"),
            ("line-2-amount", "50"),
            ("ind-staff_total", "180"),
            ("ind-agile_workers_before", "4"),
            ("ind-agile_workers_target", "90"),
        ]),
        &call,
    );
    let row = input
        .add_service(Some(&c), "VDI", " 240 ", "technology", &call, Locale::It)
        .unwrap();
    assert_eq!(row, 1, "the empty row between two filled ones");
    assert_eq!(input.lines[1].amount, "5.280,00");
    assert_eq!(input.lines[1].quantity, "240");
    // The typed amount of a catalogue row does not count: the catalogue prices it.
    input.lines[1].amount = "1,00".into();
    let checked = input.check(&call, &[], Some(&c));
    assert!(checked.valid.is_some(), "{:?}", checked.errors);
    let line = &checked.valid.unwrap().content.lines[1];
    assert_eq!(line.amount_cents, Money::from_cents(528_000));
    assert_eq!(line.service.as_ref().unwrap().quantity, 240);
    assert_eq!(input.priced(Some(&c)).lines[1].amount, "5.280,00");

    // Each wrong choice names its control and keeps what was typed.
    let mut input = FormInput::default();
    for (code, qty, cat, control) in [
        ("NOPE", "1", "technology", "add-service"),
        ("VDI", "0", "technology", "add-quantity"),
        ("VDI", "2000000", "technology", "add-quantity"),
        ("VDI", "3", "nope", "add-category"),
    ] {
        let e = input
            .add_service(Some(&c), code, qty, cat, &call, Locale::It)
            .unwrap_err();
        assert_eq!(e.control, control, "{code} {qty} {cat}");
        assert_eq!(e.typed[1], ("add-quantity", qty.to_string()));
    }
    assert!(input.lines.is_empty());
    assert_eq!(
        input
            .add_service(None, "VDI", "1", "technology", &call, Locale::It)
            .unwrap_err()
            .control,
        "add-service",
        "no catalogue, nothing to add"
    );
}

#[test]
fn a_row_whose_service_left_the_catalogue_is_an_error_beside_its_quantity() {
    let call = Call::from_toml(CALL).unwrap();
    let input = FormInput::from_fields(
        &fields(&[
            ("title", "Lavoro agile"),
            ("line-0-category", "technology"),
            ("line-0-amount", "100"),
            ("line-0-service", "GONE"),
            ("line-0-quantity", "3"),
            ("practice", "4"),
            ("practice", "4"),
            ("practice", "x"),
        ]),
        &call,
    );
    assert_eq!(input.practices, vec![4], "ticked once, numbers only");
    let checked = input.check(&call, &[], Some(&catalogue()));
    let e = checked
        .errors
        .iter()
        .find(|e| e.code == "unknown_service")
        .unwrap();
    assert_eq!(control_id(&e.field), "line-0-quantity");
}
