use super::*;
use crate::entity::EntityCode;
use crate::i18n::Locale;

pub(crate) const ER_2020: &str = include_str!("../../../../calls/er-2020-smart-working.toml");

pub(crate) fn er_2020() -> Call {
    Call::from_toml(ER_2020).expect("the shipped call file parses")
}

fn entity(kind: EntityKind, region: Option<&str>) -> Entity {
    Entity {
        code: EntityCode::parse("039007").unwrap(),
        name: "Cervia".into(),
        kind,
        fiscal_code: None,
        province: Some("RA".into()),
        region_code: region.map(str::to_string),
        istat_code: Some("039007".into()),
        pec: None,
        members: vec![],
    }
}

#[test]
fn the_2020_call_has_the_facts_of_design_md() {
    let call = er_2020();
    assert_eq!(call.code.as_str(), "er-2020-smart-working");
    assert_eq!(call.budget, Money::from_euros(2_000_000));
    assert_eq!(call.rate.bp(), 7000);
    assert_eq!(call.max_grant, Some(Money::from_euros(105_000)));
    assert_eq!(call.applications_per_entity, 1);
    assert_eq!(call.when_not_fits, FitMode::Waitlist);
    // 09:30 in Rome on 3 April 2020 is 07:30 UTC (summer time).
    assert_eq!(call.opens_at.to_string(), "2020-04-03T07:30:00Z");
    assert_eq!(call.closes_at.to_string(), "2020-07-31T16:00:00Z");
    assert_eq!(call.local_time(call.opens_at), "03/04/2020 09:30");
    assert_eq!(call.completion_deadline.unwrap().to_string(), "2020-12-31");
    assert_eq!(call.eligible_regions, vec!["08".to_string()]);
    for code in ["planning", "training", "technology", "devices"] {
        assert!(call.category(code).is_some(), "{code}");
    }
    assert_eq!(
        call.category("devices").unwrap().max_share.unwrap().bp(),
        2000
    );
    assert_eq!(
        call.eligible_kinds,
        vec![
            EntityKind::Comune,
            EntityKind::Unione,
            EntityKind::Provincia,
            EntityKind::CittaMetropolitana,
            EntityKind::Circondario
        ]
    );
}

#[test]
fn grants_of_cervia_and_the_distretto_ceramico() {
    let call = er_2020();
    assert_eq!(
        call.grant_for(Money::from_euros(75_000)),
        Money::from_euros(52_500)
    );
    assert_eq!(
        call.grant_for(Money::from_euros(150_000)),
        Money::from_euros(105_000)
    );
}

#[test]
fn eligibility_by_kind_and_region() {
    let call = er_2020();
    assert_eq!(
        call.check_eligible(&entity(EntityKind::Comune, Some("08"))),
        Ok(())
    );
    assert_eq!(
        call.check_eligible(&entity(EntityKind::Comune, Some("09"))),
        Err(NotEligible::Region(Some("09".into())))
    );
    assert_eq!(
        call.check_eligible(&entity(EntityKind::Comune, None)),
        Err(NotEligible::Region(None))
    );
    assert_eq!(
        call.check_eligible(&entity(EntityKind::Regione, Some("08"))),
        Err(NotEligible::Kind(EntityKind::Regione))
    );
}

#[test]
fn states_and_rescheduling() {
    let mut call = er_2020();
    let before: Timestamp = "2020-04-03T07:29:59Z".parse().unwrap();
    assert_eq!(call.state_at(before), CallState::Upcoming);
    assert_eq!(call.state_at(call.opens_at), CallState::Open);
    assert_eq!(call.state_at(call.closes_at), CallState::Closed);
    let length = call.closes_at.duration_since(call.opens_at);
    let new_open: Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
    call.reschedule(new_open, None).unwrap();
    assert_eq!(call.opens_at, new_open);
    assert_eq!(call.closes_at.duration_since(call.opens_at), length);
    assert!(call.reschedule(new_open, Some(new_open)).is_err());
}

#[test]
fn protocol_numbers_use_the_year_of_receipt_in_rome() {
    let call = er_2020();
    assert_eq!(call.protocol(42, call.opens_at), "ER-SW-2020/0000042");
    // 23:30 UTC on 31 December 2020 is already 2021 in Rome.
    let new_year: Timestamp = "2020-12-31T23:30:00Z".parse().unwrap();
    assert_eq!(call.protocol(7, new_year), "ER-SW-2021/0000007");
}

#[test]
fn the_rules_survive_json_storage() {
    let call = er_2020();
    let json = serde_json::to_string(&call).unwrap();
    let back: Call = serde_json::from_str(&json).unwrap();
    assert_eq!(back, call);
}

/// Replaces `from` (which must occur) in the shipped file and returns the error.
fn broken(from: &str, to: &str) -> CallFileError {
    assert!(ER_2020.contains(from), "{from}");
    Call::from_toml(&ER_2020.replacen(from, to, 1)).expect_err("the broken file must be refused")
}

fn line_of(needle: &str) -> usize {
    ER_2020[..ER_2020.find(needle).unwrap()].lines().count() + 1
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    let e = broken(
        "budget = \"2000000.00\"",
        "budget = \"2000000.00\"\nbugdet = 3",
    );
    assert_eq!(e.line, Some(line_of("budget = \"2000000.00\"") + 1));
    assert!(e.to_string().contains("bugdet"), "{e}");
    assert_eq!(e.key.as_deref(), Some("bugdet"));
    assert!(
        e.message_it()
            .starts_with("chiave sconosciuta «bugdet»; le chiavi possibili qui sono: code, "),
        "{}",
        e.message_it()
    );
}

#[test]
fn the_readers_mistakes_are_said_in_italian_with_their_key() {
    for (from, to, key, italian) in [
        (
            "budget = \"2000000.00\"\n",
            "",
            Some("budget"),
            "manca la chiave obbligatoria «budget»",
        ),
        (
            "when_not_fits = \"waitlist\"",
            "when_not_fits = \"lottery\"",
            None,
            "valore «lottery» non ammesso; i valori possibili sono: waitlist, partial, skip",
        ),
        (
            "applications_per_entity = 1",
            "applications_per_entity = \"uno\"",
            None,
            "valore del tipo sbagliato",
        ),
        (
            "budget = \"2000000.00\"",
            "budget = \"2000000.00",
            None,
            "il testo non è TOML valido",
        ),
        (
            "budget = \"2000000.00\"",
            "budget = \"2000000.00\"\nbudget = \"1.00\"",
            None,
            "",
        ),
        (
            "closes_at = 2020-07-31T18:00:00",
            "closes_at = 2020-03-29T02:30:00",
            Some("closes_at"),
            "",
        ),
    ] {
        let e = broken(from, to);
        if key.is_some() {
            assert_eq!(e.key.as_deref(), key, "{to}");
        }
        assert!(e.message_it().contains(italian), "{to}: {}", e.message_it());
        // No English, and no reader's message, in the Italian one.
        for english in ["missing", "unknown", "invalid", "expected", "duplicate"] {
            assert!(
                !e.message_it().contains(english),
                "{to}: {}",
                e.message_it()
            );
        }
        assert!(e.line.is_some(), "{to}: the line is named");
    }
}

#[test]
fn a_negative_budget_is_named_with_its_line() {
    let e = broken("budget = \"2000000.00\"", "budget = \"-5.00\"");
    assert_eq!(e.key.as_deref(), Some("budget"));
    assert_eq!(e.line, Some(line_of("budget = \"2000000.00\"")));
    assert!(e.to_string().contains("positive"), "{e}");
}

#[test]
fn closing_before_opening_is_refused() {
    let e = broken(
        "closes_at = 2020-07-31T18:00:00",
        "closes_at = 2020-04-01T18:00:00",
    );
    assert_eq!(e.key.as_deref(), Some("closes_at"));
    assert_eq!(e.line, Some(line_of("closes_at =")));
}

#[test]
fn a_share_above_100_percent_is_refused() {
    let e = broken("max_share = \"20%\"", "max_share = \"120%\"");
    assert_eq!(e.key.as_deref(), Some("categories.devices.max_share"));
    assert_eq!(e.line, Some(line_of("max_share =")));
    assert!(e.to_string().contains("10000"), "{e}");
}

#[test]
fn other_broken_files() {
    for (from, to, key) in [
        (
            "co_financing = \"70%\"",
            "co_financing = \"0%\"",
            "co_financing",
        ),
        (
            "co_financing = \"70%\"",
            "co_financing = \"seventy\"",
            "co_financing",
        ),
        (
            "max_grant = \"105000.00\"",
            "max_grant = \"lots\"",
            "max_grant",
        ),
        (
            "applications_per_entity = 1",
            "applications_per_entity = -1",
            "applications_per_entity",
        ),
        (
            "time_zone = \"Europe/Rome\"",
            "time_zone = \"Mars/Olympus\"",
            "time_zone",
        ),
        (
            "regions = [\"08\"]",
            "regions = [\"8\"]",
            "eligibility.regions",
        ),
        (
            "kinds = [\"comune\", \"unione\", \"provincia\", \"citta_metropolitana\", \"circondario\"]",
            "kinds = []",
            "eligibility.kinds",
        ),
        (
            "code = \"er-2020-smart-working\"",
            "code = \"ER 2020\"",
            "code",
        ),
        (
            "code = \"devices\"",
            "code = \"training\"",
            "categories.training",
        ),
        (
            "completion_deadline = 2020-12-31",
            "completion_deadline = 2020-12-31T10:00:00",
            "completion_deadline",
        ),
    ] {
        let e = broken(from, to);
        assert_eq!(e.key.as_deref(), Some(key), "{to}: {e}");
        assert!(e.line.is_some(), "{to}: {e}");
    }
    // Syntax errors and wrong types come from the TOML reader, with a line.
    for (from, to) in [
        (
            "when_not_fits = \"waitlist\"",
            "when_not_fits = \"lottery\"",
        ),
        ("budget = \"2000000.00\"", "budget = 2000000.00"),
        ("[eligibility]", "[eligibility"),
        ("opens_at = 2020-04-03T09:30:00", "opens_at = \"tomorrow\""),
    ] {
        let e = broken(from, to);
        assert!(e.line.is_some(), "{to}: {e}");
    }
    assert!(Call::from_toml("").is_err());
}

#[test]
fn the_text_names_the_calls_own_dates_and_moves_with_them() {
    let mut call = er_2020();
    let it = call.text_in(Locale::It);
    assert!(
        it.contains("dalle 9:30 di venerdì 3 aprile 2020 e sono finanziate"),
        "{it}"
    );
    assert!(
        it.contains("non oltre le 18:00 di venerdì 31 luglio 2020."),
        "{it}"
    );
    assert!(
        it.contains("entro il 31 dicembre 2020 e rendicontano"),
        "{it}"
    );
    let en = call.text_in(Locale::En);
    assert!(
        en.contains("from 09:30 on Friday 3 April 2020, funded"),
        "{en}"
    );
    assert!(
        en.contains("Projects finish by 31 December 2020 and"),
        "{en}"
    );
    assert!(!it.contains('{') && !en.contains('{'));
    // Moved to a Monday in January 2027, at 10:05: every date follows.
    let opens: jiff::Timestamp = "2027-01-04T09:05:00Z".parse().unwrap();
    call.reschedule(opens, None).unwrap();
    let it = call.text_in(Locale::It);
    assert!(it.contains("dalle 10:05 di lunedì 4 gennaio 2027"), "{it}");
    assert!(!it.contains("2020"), "{it}");
    assert_eq!(
        call.completion_deadline.unwrap().to_string(),
        "2027-10-03",
        "the same days after the opening as in 2020"
    );
}

#[test]
fn a_text_may_name_only_the_calls_dates() {
    for (bad, name) in [
        ("Si apre il {apertura}.", "apertura"),
        ("Chiude il {closes_at", "closes_at"),
    ] {
        let file = ER_2020.replacen(
            "La Regione Emilia-Romagna cofinanzia",
            &format!("{bad} La Regione Emilia-Romagna cofinanzia"),
            1,
        );
        let e = Call::from_toml(&file).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("text"), "{bad}");
        assert!(
            e.message_it().contains(&format!("{{{name}")),
            "{}",
            e.message_it()
        );
        assert!(e.message_it().contains("{opens_at}"), "{}", e.message_it());
    }
}

#[test]
fn a_call_written_back_as_its_file_reads_as_the_same_call() {
    let er = Call::from_toml(ER_2020).unwrap();
    let text = er.to_toml();
    assert_eq!(Call::from_toml(&text).unwrap(), er, "{text}");
    assert!(text.contains("opens_at = 2020-04-03T09:30:00"), "{text}");
    assert!(text.contains("co_financing = \"70%\""), "{text}");
    assert!(
        text.contains("{opens_at}"),
        "the text keeps its placeholders"
    );
    // Every optional part set, a fractional rate, another time zone, no checklist.
    let mut other = er.clone();
    other.min_cost = Some(crate::money::Money::from_cents(1_000_000));
    other.max_cost = Some(crate::money::Money::from_cents(20_000_000));
    other.advance = Some(crate::money::Rate::parse_percent("12,5%").unwrap());
    other.rate = crate::money::Rate::parse_percent("62,25%").unwrap();
    other.time_zone = "America/New_York".into();
    other.applications_per_entity = 0;
    other.checklist.clear();
    other.eligible_regions.clear();
    other.completion_deadline = None;
    let text = other.to_toml();
    assert_eq!(Call::from_toml(&text).unwrap(), other, "{text}");
}
