use super::*;
use proptest::prelude::*;

const ISTAT: &str = include_str!("../../../../data/istat-comuni.csv");
const ER_UNIONI: &str = include_str!("../../../../data/er-unioni.csv");
const ISTAT_HEAD: &str = "istat_code,name,region_code,region,supra_code,supra_name,supra_kind,plate,is_capital,cadastral_code,nuts3_2024";
const PLAIN_HEAD: &str = "code,name,kind,fiscal_code,province,members";

const CERVIA: &str = "039007,Cervia,08,Emilia-Romagna,039,Ravenna,provincia,RA,0,C553,ITH57";
const FAENZA: &str = "039010,Faenza,08,Emilia-Romagna,039,Ravenna,provincia,RA,0,D458,ITH57";
const IMOLA: &str =
    "037032,Imola,08,Emilia-Romagna,237,Bologna,citta_metropolitana,BO,0,E289,ITH55";
const AGLIE: &str = "001001,Agliè,01,Piemonte,201,Torino,citta_metropolitana,TO,0,A074,ITC11";
const BOLZANO: &str = "021008,Bolzano/Bozen,04,Trentino-Alto Adige/Südtirol,021,Bolzano/Bozen,provincia_autonoma,BZ,1,A952,ITH10";

fn istat(rows: &[&str]) -> String {
    let mut text = String::from(ISTAT_HEAD);
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text
}

fn plain(rows: &[&str]) -> String {
    let mut text = String::from(PLAIN_HEAD);
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text
}

fn lines(err: &ImportErrors) -> Vec<usize> {
    err.0.iter().map(|e| e.line).collect()
}

fn only_error(err: &ImportErrors) -> &RowError {
    assert_eq!(err.0.len(), 1, "expected exactly one error, got {err}");
    &err.0[0]
}

fn find<'a>(entities: &'a [Entity], code: &str) -> &'a Entity {
    entities
        .iter()
        .find(|e| e.code.as_str() == code)
        .unwrap_or_else(|| panic!("no entity {code}"))
}

// --- ISTAT, real file -------------------------------------------------------------------

#[test]
fn real_istat_file_emilia_romagna() {
    let entities = parse_istat_comuni(ISTAT, Some("08")).unwrap();
    assert_eq!(entities.len(), 330 + 9);
    let (comuni, bodies) = entities.split_at(330);
    assert!(comuni.iter().all(|e| e.kind == EntityKind::Comune));
    assert!(
        entities
            .iter()
            .all(|e| e.region_code.as_deref() == Some("08"))
    );

    let codes: Vec<&str> = bodies.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "033", "034", "035", "036", "038", "039", "040", "099", "237"
        ]
    );
    assert_eq!(
        bodies
            .iter()
            .filter(|e| e.kind == EntityKind::Provincia)
            .count(),
        8
    );
    let bologna = find(bodies, "237");
    assert_eq!(bologna.kind, EntityKind::CittaMetropolitana);
    assert_eq!(bologna.name, "Città metropolitana di Bologna");
    assert_eq!(bologna.province.as_deref(), Some("BO"));
    let ravenna = find(bodies, "039");
    assert_eq!(ravenna.kind, EntityKind::Provincia);
    assert_eq!(ravenna.name, "Provincia di Ravenna");
    assert_eq!(ravenna.province.as_deref(), Some("RA"));
    assert_eq!(ravenna.istat_code.as_deref(), Some("039"));
    assert_eq!(find(bodies, "035").name, "Provincia di Reggio nell'Emilia");
    assert_eq!(find(bodies, "040").name, "Provincia di Forlì-Cesena");

    let cervia = find(comuni, "039007");
    assert_eq!(cervia.name, "Comune di Cervia");
    assert_eq!(cervia.province.as_deref(), Some("RA"));
    assert_eq!(cervia.istat_code.as_deref(), Some("039007"));
    assert_eq!(cervia.region_code.as_deref(), Some("08"));
    assert!(cervia.members.is_empty());
    assert_eq!(find(comuni, "035033").name, "Comune di Reggio nell'Emilia");
}

#[test]
fn real_istat_file_whole_country() {
    let entities = parse_istat_comuni(ISTAT, None).unwrap();
    let comuni = entities
        .iter()
        .filter(|e| e.kind == EntityKind::Comune)
        .count();
    assert_eq!(comuni, 7_896);
    // 107 province-level bodies: 81 province, 14 città metropolitane, 12 others.
    let bodies = &entities[comuni..];
    assert_eq!(bodies.len(), 107);
    assert!(bodies.iter().all(|e| e.kind != EntityKind::Comune));
    assert!(bodies.windows(2).all(|w| w[0].code < w[1].code));
    assert_eq!(
        bodies
            .iter()
            .filter(|e| e.kind == EntityKind::CittaMetropolitana)
            .count(),
        14
    );
    let bolzano = find(bodies, "021");
    assert_eq!(bolzano.kind, EntityKind::Other);
    assert_eq!(bolzano.name, "Bolzano/Bozen");
    assert_eq!(bolzano.region_code.as_deref(), Some("04"));
}

// --- ISTAT, small files -----------------------------------------------------------------

#[test]
fn istat_small_file_and_order() {
    let got = parse_istat_comuni(&istat(&[IMOLA, CERVIA, FAENZA, AGLIE]), None).unwrap();
    let codes: Vec<&str> = got.iter().map(|e| e.code.as_str()).collect();
    // Comuni in file order, then bodies sorted by code.
    assert_eq!(
        codes,
        ["037032", "039007", "039010", "001001", "039", "201", "237"]
    );
    assert_eq!(find(&got, "201").name, "Città metropolitana di Torino");
}

#[test]
fn istat_region_filter() {
    let got = parse_istat_comuni(&istat(&[AGLIE, CERVIA, BOLZANO]), Some("08")).unwrap();
    let codes: Vec<&str> = got.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["039007", "039"]);
    let none = parse_istat_comuni(&istat(&[AGLIE]), Some("08")).unwrap();
    assert!(none.is_empty());
}

#[test]
fn istat_region_filter_still_checks_other_regions() {
    let bad_piemonte = AGLIE.replace(",TO,", ",to,");
    let err = parse_istat_comuni(&istat(&[CERVIA, &bad_piemonte]), Some("08")).unwrap_err();
    assert_eq!(lines(&err), [3]);
    assert!(err.0[0].message.contains("plate \"to\""), "{err}");
}

#[test]
fn istat_bad_region_argument() {
    let err = parse_istat_comuni(&istat(&[CERVIA]), Some("8")).unwrap_err();
    let e = only_error(&err);
    assert_eq!(e.line, 1);
    assert!(e.message.contains("\"8\""), "{err}");
}

#[test]
fn istat_other_supra_kinds() {
    let got = parse_istat_comuni(&istat(&[BOLZANO]), None).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].kind, EntityKind::Other);
    assert_eq!(got[1].name, "Bolzano/Bozen");
    for kind in ["libero_consorzio", "unita_non_amministrativa"] {
        let row = BOLZANO.replace("provincia_autonoma", kind);
        let got = parse_istat_comuni(&istat(&[&row]), None).unwrap();
        assert_eq!(got[1].kind, EntityKind::Other, "{kind}");
    }
}

#[test]
fn istat_two_bad_rows_report_both_and_return_nothing() {
    let bad_code = CERVIA.replace("039007", "39007");
    let bad_kind = IMOLA.replace("citta_metropolitana", "metropoli");
    let err = parse_istat_comuni(&istat(&[FAENZA, &bad_code, AGLIE, &bad_kind]), None).unwrap_err();
    assert_eq!(lines(&err), [3, 5]);
    assert!(err.0[0].message.contains("istat_code \"39007\""), "{err}");
    assert!(err.0[1].message.contains("unknown supra_kind"), "{err}");
    let shown = err.to_string();
    assert!(shown.starts_with("line 3: "), "{shown}");
    assert!(shown.contains("\nline 5: "), "{shown}");
}

#[test]
fn istat_each_bad_field() {
    let cases: [(String, &str); 8] = [
        (CERVIA.replace("039007", "03900A"), "istat_code"),
        (CERVIA.replace(",Cervia,", ",,"), "name is empty"),
        (CERVIA.replace(",Cervia,", ",  ,"), "name is empty"),
        (CERVIA.replace(",08,", ",8,"), "region_code"),
        (CERVIA.replace(",039,", ",39,"), "supra_code"),
        (CERVIA.replace(",Ravenna,", ",,"), "supra_name is empty"),
        (CERVIA.replace(",RA,", ",RAV,"), "plate"),
        (
            CERVIA.replace(",provincia,", ",Provincia,"),
            "unknown supra_kind",
        ),
    ];
    for (row, expected) in cases {
        let err = parse_istat_comuni(&istat(&[FAENZA, &row]), None).unwrap_err();
        let e = only_error(&err);
        assert_eq!(e.line, 3, "{row}");
        assert!(e.message.contains(expected), "{row}: {err}");
    }
}

#[test]
fn istat_wrong_column_count() {
    let short = "039007,Cervia,08";
    let long = format!("{FAENZA},extra");
    let err = parse_istat_comuni(&istat(&[short, IMOLA, &long]), None).unwrap_err();
    assert_eq!(lines(&err), [2, 4]);
    assert!(err.0[0].message.contains("expected 11 columns, found 3"));
    assert!(err.0[1].message.contains("found 12"));
}

#[test]
fn istat_duplicate_code() {
    let err = parse_istat_comuni(&istat(&[CERVIA, FAENZA, CERVIA]), None).unwrap_err();
    let e = only_error(&err);
    assert_eq!(e.line, 4);
    assert!(
        e.message
            .contains("duplicate istat_code 039007 (first on line 2)"),
        "{err}"
    );
    // A duplicate in another region is still a duplicate.
    assert!(parse_istat_comuni(&istat(&[CERVIA, AGLIE, AGLIE]), Some("08")).is_err());
}

#[test]
fn istat_inconsistent_province() {
    let faenza = FAENZA.replace(",Ravenna,", ",Ravena,");
    let err = parse_istat_comuni(&istat(&[CERVIA, &faenza]), None).unwrap_err();
    let e = only_error(&err);
    assert_eq!(e.line, 3);
    assert!(e.message.contains("supra_code 039"), "{err}");
    assert!(e.message.contains("line 2"), "{err}");
}

#[test]
fn istat_bad_header() {
    let text = istat(&[CERVIA]).replace("plate", "sigla");
    let err = parse_istat_comuni(&text, None).unwrap_err();
    let e = only_error(&err);
    assert_eq!(e.line, 1);
    assert!(e.message.contains("sigla"), "{err}");
    assert!(e.message.contains(ISTAT_HEAD), "{err}");
    // The plain header is not accepted by the ISTAT parser.
    let err = parse_istat_comuni(&plain(&[]), None).unwrap_err();
    assert_eq!(lines(&err), [1]);
    // A header with a missing column.
    let text = istat(&[CERVIA]).replace(",nuts3_2024", "");
    assert_eq!(lines(&parse_istat_comuni(&text, None).unwrap_err()), [1]);
}

#[test]
fn istat_empty_file() {
    for text in ["", "\n", "\u{feff}"] {
        let err = parse_istat_comuni(text, None).unwrap_err();
        let e = only_error(&err);
        assert_eq!(e.line, 1);
        assert!(e.message.contains("empty"), "{err}");
    }
    // Header only: a valid, empty list.
    assert!(parse_istat_comuni(ISTAT_HEAD, None).unwrap().is_empty());
}

#[test]
fn istat_bom_crlf_and_trailing_lines() {
    let text = format!("\u{feff}{ISTAT_HEAD}\r\n{CERVIA}\r\n{FAENZA}\r\n\r\n");
    let got = parse_istat_comuni(&text, None).unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[1].name, "Comune di Faenza");
    // Without a final newline too.
    let text = format!("\u{feff}{ISTAT_HEAD}\n{CERVIA}");
    assert_eq!(parse_istat_comuni(&text, None).unwrap().len(), 2);
}

#[test]
fn istat_quoted_fields() {
    let row = "\"035033\",\"Reggio nell'Emilia\",08,Emilia-Romagna,035,\"Reggio nell'Emilia\",provincia,RE,1,H223,ITH53";
    let comma = CERVIA.replace(",Cervia,", ",\"Cervia, città\",");
    let got = parse_istat_comuni(&istat(&[row, &comma]), None).unwrap();
    assert_eq!(got[0].name, "Comune di Reggio nell'Emilia");
    assert_eq!(got[0].code.as_str(), "035033");
    assert_eq!(got[1].name, "Comune di Cervia, città");
    assert_eq!(got[1].province.as_deref(), Some("RA"));
    assert_eq!(got[2].name, "Provincia di Reggio nell'Emilia");
}

#[test]
fn line_numbers_count_quoted_newlines() {
    // A quoted field spanning two lines: the next record starts on line 4, not 3.
    let multi = CERVIA.replace(",Cervia,", ",\"Cer\nvia\",");
    let bad = FAENZA.replace(",RA,", ",ra,");
    let err = parse_istat_comuni(&istat(&[&multi, &bad]), None).unwrap_err();
    assert_eq!(lines(&err), [4]);
}

// --- ImportErrors -----------------------------------------------------------------------

#[test]
fn import_errors_display_is_capped() {
    let errors = ImportErrors(
        (1..=25)
            .map(|line| RowError {
                line,
                message: format!("problem {line}"),
            })
            .collect(),
    );
    let shown = errors.to_string();
    let shown_lines: Vec<&str> = shown.lines().collect();
    assert_eq!(shown_lines.len(), 21);
    assert_eq!(shown_lines[0], "line 1: problem 1");
    assert_eq!(shown_lines[19], "line 20: problem 20");
    assert_eq!(shown_lines[20], "... and 5 more");

    let few = ImportErrors(errors.0[..20].to_vec()).to_string();
    assert_eq!(few.lines().count(), 20);
    assert!(!few.contains("more"));
}

#[test]
fn many_bad_rows_are_all_collected() {
    let rows: Vec<String> = (0..30).map(|i| format!("bad{i}")).collect();
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let err = parse_istat_comuni(&istat(&refs), None).unwrap_err();
    assert_eq!(lines(&err), (2..32).collect::<Vec<_>>());
    assert!(err.to_string().ends_with("... and 10 more"));
}

// --- plain CSV --------------------------------------------------------------------------

#[test]
fn plain_happy_path() {
    let text = plain(&[
        "ucdc,Unione dei Comuni del Distretto Ceramico,unione,93034060363,MO,036040;036013",
        "\"c_h199\",\"Regione, Emilia-Romagna\",regione,,,",
        "circ,Circondario,circondario,, ,036040 ; 036013;",
    ]);
    // The third row has a space as province: rejected, checked separately below.
    assert!(parse_entities_csv(&text, None).is_err());

    let text = plain(&[
        "ucdc,Unione dei Comuni del Distretto Ceramico,unione,93034060363,MO,036040;036013",
        "\"c_h199\",\"Regione, Emilia-Romagna\",regione,,,",
        "circ,Circondario,circondario,,BO,037032 ; 037007;",
    ]);
    let got = parse_entities_csv(&text, Some("08")).unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[0],
        Entity {
            code: EntityCode::parse("ucdc").unwrap(),
            name: "Unione dei Comuni del Distretto Ceramico".into(),
            kind: EntityKind::Unione,
            fiscal_code: Some("93034060363".into()),
            province: Some("MO".into()),
            region_code: Some("08".into()),
            istat_code: None,
            pec: None,
            members: vec!["036040".into(), "036013".into()],
        }
    );
    assert_eq!(got[1].name, "Regione, Emilia-Romagna");
    assert_eq!(got[1].kind, EntityKind::Regione);
    assert_eq!(got[1].fiscal_code, None);
    assert_eq!(got[1].province, None);
    assert!(got[1].members.is_empty());
    assert_eq!(got[2].members, ["037032", "037007"]);

    let no_region = parse_entities_csv(&text, None).unwrap();
    assert!(no_region.iter().all(|e| e.region_code.is_none()));
}

#[test]
fn plain_each_bad_field() {
    let good = "urf,Unione della Romagna Faentina,unione,,RA,039010;039004";
    let cases: [(&str, &str); 12] = [
        (",Nome,unione,,RA,", "entity code is empty"),
        ("u rf,Nome,unione,,RA,", "code \"u rf\""),
        ("forlì,Nome,unione,,RA,", "code \"forlì\""),
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,Nome,unione,,RA,",
            "41 characters",
        ),
        ("x,,unione,,RA,", "name is empty"),
        ("x,Nome,union,,RA,", "unknown kind \"union\""),
        ("x,Nome,Unione,,RA,", "unknown kind"),
        ("x,Nome,unione,1234567890,RA,", "fiscal_code \"1234567890\""),
        ("x,Nome,unione,1234567890A,RA,", "fiscal_code"),
        ("x,Nome,unione,,Ravenna,", "province \"Ravenna\""),
        ("x,Nome,unione,,RA,039010;39004", "member \"39004\""),
        ("x,Nome,unione,,RA,039010;039010", "listed twice"),
    ];
    for (row, expected) in cases {
        let err = parse_entities_csv(&plain(&[good, row]), None).unwrap_err();
        let e = only_error(&err);
        assert_eq!(e.line, 3, "{row}");
        assert!(e.message.contains(expected), "{row}: {err}");
    }
}

#[test]
fn plain_several_problems_in_one_row() {
    let err = parse_entities_csv(&plain(&["x y,,comune,12,ra,1"]), None).unwrap_err();
    let e = only_error(&err);
    for part in ["code", "name", "fiscal_code", "province", "member"] {
        assert!(e.message.contains(part), "{part}: {err}");
    }
}

#[test]
fn plain_duplicate_code_and_column_count() {
    let text = plain(&[
        "a,A,unione,,,",
        "b,B,unione,,",
        "a,A again,comune,,,",
        "c,C,unione,,,,",
    ]);
    let err = parse_entities_csv(&text, None).unwrap_err();
    assert_eq!(lines(&err), [3, 4, 5]);
    assert!(err.0[0].message.contains("expected 6 columns, found 5"));
    assert!(
        err.0[1]
            .message
            .contains("duplicate code a (first on line 2)")
    );
    assert!(err.0[2].message.contains("found 7"));
}

#[test]
fn plain_bad_header_and_region() {
    let err = parse_entities_csv(&istat(&[CERVIA]), None).unwrap_err();
    let e = only_error(&err);
    assert_eq!(e.line, 1);
    assert!(e.message.contains(PLAIN_HEAD), "{err}");
    let text = plain(&["a,A,unione,,,"]).replace("members", "membri");
    assert_eq!(lines(&parse_entities_csv(&text, None).unwrap_err()), [1]);

    let err = parse_entities_csv(&plain(&["a,A,unione,,,"]), Some("ER")).unwrap_err();
    assert_eq!(lines(&err), [1]);
}

#[test]
fn plain_bom() {
    let text = format!("\u{feff}{}", plain(&["a,A,comune,,,"]));
    assert_eq!(parse_entities_csv(&text, None).unwrap().len(), 1);
}

// --- dispatch ---------------------------------------------------------------------------

#[test]
fn registry_dispatch() {
    let got = parse_registry(&istat(&[CERVIA, AGLIE]), Some("08")).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].kind, EntityKind::Comune);
    assert_eq!(got[1].kind, EntityKind::Provincia);

    let got = parse_registry(&plain(&["a,A,unione,,BO,037032"]), Some("08")).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].kind, EntityKind::Unione);
    assert_eq!(got[0].region_code.as_deref(), Some("08"));

    // Errors are those of the chosen parser.
    let err = parse_registry(&plain(&["a,A,unione,,BO,37032"]), None).unwrap_err();
    assert_eq!(lines(&err), [2]);
    let err = parse_registry(&istat(&[CERVIA, CERVIA]), None).unwrap_err();
    assert_eq!(lines(&err), [3]);

    let got = parse_registry(&format!("\u{feff}{}", plain(&[])), None).unwrap();
    assert!(got.is_empty());
}

#[test]
fn registry_unknown_header() {
    for text in [
        "codice,nome\nx,y\n",
        "",
        "code,name,kind,fiscal_code,province\n",
    ] {
        let err = parse_registry(text, None).unwrap_err();
        let e = only_error(&err);
        assert_eq!(e.line, 1);
        assert!(e.message.contains(ISTAT_HEAD), "{err}");
        assert!(e.message.contains(PLAIN_HEAD), "{err}");
    }
}

// --- er-unioni.csv ----------------------------------------------------------------------

#[test]
fn er_unioni_file_members_are_real_er_comuni() {
    let comuni = parse_istat_comuni(ISTAT, Some("08")).unwrap();
    let bodies = parse_registry(ER_UNIONI, Some("08")).unwrap();
    let codes: Vec<&str> = bodies.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["ucdc", "urf", "ubr", "circondario_imolese"]);
    let sizes: Vec<usize> = bodies.iter().map(|e| e.members.len()).collect();
    assert_eq!(sizes, [8, 6, 9, 10]);
    assert_eq!(
        find(&bodies, "circondario_imolese").kind,
        EntityKind::Circondario
    );

    for body in &bodies {
        assert!(body.fiscal_code.is_none(), "fiscal codes are not verified");
        for member in &body.members {
            let comune = comuni
                .iter()
                .find(|c| c.kind == EntityKind::Comune && c.code.as_str() == member)
                .unwrap_or_else(|| panic!("{}: {member} is not a comune of region 08", body.code));
            // Each of these bodies lies within one province.
            assert_eq!(comune.province, body.province, "{}: {member}", body.code);
        }
    }
    assert!(find(&bodies, "urf").members.contains(&"039010".to_owned())); // Faenza
    assert!(find(&bodies, "ubr").members.contains(&"039017".to_owned())); // Sant'Agata sul Santerno
    assert!(
        find(&bodies, "circondario_imolese")
            .members
            .contains(&"037032".to_owned())
    ); // Imola
}

proptest! {
    // Whatever the input, the importers answer (no panic) and every error has a real line.
    #[test]
    fn importers_never_panic(body in "[a-z0-9,;\"\n\r ]{0,200}", istat_header in any::<bool>()) {
        let head = if istat_header { ISTAT_HEAD } else { PLAIN_HEAD };
        let text = format!("{head}\n{body}");
        let line_count = text.lines().count().max(1);
        if let Err(err) = parse_registry(&text, Some("08")) {
            prop_assert!(!err.0.is_empty());
            for e in &err.0 {
                prop_assert!(e.line >= 1 && e.line <= line_count, "{} of {}", e.line, line_count);
            }
        }
    }

    // Valid generated rows always import, one entity per row, members preserved.
    #[test]
    fn valid_plain_rows_import(rows in prop::collection::vec(
        ("[a-z]{1,10}", "[A-Z][a-z ]{0,20}[a-z]", prop::sample::select(EntityKind::ALL.to_vec()),
         prop::option::of("[0-9]{11}"), prop::option::of("[A-Z]{2}"),
         prop::collection::btree_set("[0-9]{6}", 0..5)),
        0..10,
    )) {
        let mut text = String::from(PLAIN_HEAD);
        let mut seen = std::collections::BTreeSet::new();
        let mut expected = Vec::new();
        for (i, (code, name, kind, fc, prov, members)) in rows.iter().enumerate() {
            let code = format!("{code}{i}"); // unique
            prop_assert!(seen.insert(code.clone()));
            let members: Vec<String> = members.iter().cloned().collect();
            text.push_str(&format!(
                "\n{code},{name},{},{},{},{}",
                kind.as_str(),
                fc.clone().unwrap_or_default(),
                prov.clone().unwrap_or_default(),
                members.join(";"),
            ));
            expected.push((code, members));
        }
        let got = parse_entities_csv(&text, None).unwrap();
        prop_assert_eq!(got.len(), expected.len());
        for (entity, (code, members)) in got.iter().zip(&expected) {
            prop_assert_eq!(entity.code.as_str(), code.as_str());
            prop_assert_eq!(&entity.members, members);
        }
    }
}
