//! An entry of the ledger in words, for the explorer: one sentence a citizen can read, with
//! the amounts, acts and dates the entry records. The raw JSON stays beside it for whoever
//! checks the hash.

use bandi_domain::call::Call;
use bandi_domain::i18n::Locale;
use bandi_domain::ledger::{Act, Record};
use bandi_domain::money::Money;

/// `15/06/2020` (`June 15, 2020` reads `15/06/2020` too: the pages show dates day first).
fn day(iso: &str) -> String {
    iso.parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

/// The body's name; without one, its code only when it is an ISTAT code (six digits).
fn entity_name(name: Option<&str>, code: &str) -> Option<String> {
    name.map(str::to_string).or_else(|| {
        (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("ente ISTAT {code}"))
    })
}

fn act(a: &Act, locale: Locale) -> String {
    match locale {
        Locale::It => a.in_words(),
        Locale::En => format!("{} of {}", a.number, day(&a.date)),
    }
}

/// What the entry records, in one sentence; `call` is the entry's, for the words of its
/// checklist (the ledger holds the items' codes), and `entity` the name of the body an
/// application names (the ledger holds its code, internal for bodies other than comuni).
pub fn sentence(
    record: &Record,
    call: Option<&Call>,
    entity: Option<&str>,
    locale: Locale,
) -> String {
    let it = locale == Locale::It;
    let m = |v: &Money| v.in_locale(locale);
    let by = |r: &bandi_domain::account::Role| {
        if it {
            r.label_it().to_string()
        } else {
            r.label_en().to_string()
        }
    };
    let n = |seq: &u64| {
        if it {
            format!("La domanda n. {seq}")
        } else {
            format!("Application no. {seq}")
        }
    };
    match record {
        Record::CallPublished {
            budget_cents,
            opens_at,
            closes_at,
            ..
        } => {
            if it {
                format!(
                    "Il bando è pubblicato con una dotazione di {}; apre il {opens_at} e chiude il {closes_at} (UTC). Le sue regole sono registrate per intero.",
                    m(budget_cents)
                )
            } else {
                format!(
                    "The call is published with a budget of {}; it opens at {opens_at} and closes at {closes_at} (UTC). Its rules are recorded in full.",
                    m(budget_cents)
                )
            }
        }
        Record::ApplicationSubmitted {
            seq,
            protocol,
            entity: code,
            requested_cents,
            ..
        } => {
            let of = match (entity_name(entity, code), it) {
                (Some(name), true) => format!(" di {name}"),
                (Some(name), false) => format!(" of {name}"),
                (None, _) => String::new(),
            };
            if it {
                format!(
                    "La domanda n. {seq} (protocollo {protocol}){of} è ricevuta e sigillata; chiede un contributo di {}.",
                    m(requested_cents)
                )
            } else {
                format!(
                    "Application no. {seq} (protocol {protocol}){of} is received and sealed; it asks for a grant of {}.",
                    m(requested_cents)
                )
            }
        }
        Record::ApplicationTaken {
            seq,
            by: r,
            takeover,
            ..
        } => match (it, takeover) {
            (true, false) => format!(
                "{} è presa in carico per l'istruttoria da: {}.",
                n(seq),
                by(r)
            ),
            (true, true) => format!("{} passa in carico, per subentro, a: {}.", n(seq), by(r)),
            (false, false) => format!("{} is taken for review by: {}.", n(seq), by(r)),
            (false, true) => format!("{} is taken over for review by: {}.", n(seq), by(r)),
        },
        Record::ChecklistChecked {
            seq,
            item,
            passed,
            by: r,
            ..
        } => {
            let item = call
                .and_then(|c| c.checklist.iter().find(|i| &i.code == item))
                .map(|i| i.label.get(locale).to_string())
                .unwrap_or_else(|| item.clone());
            match (it, passed) {
                (true, true) => format!(
                    "{}: requisito «{item}» verificato e soddisfatto ({}).",
                    n(seq),
                    by(r)
                ),
                (true, false) => format!(
                    "{}: requisito «{item}» verificato e non soddisfatto ({}).",
                    n(seq),
                    by(r)
                ),
                (false, true) => format!(
                    "{}: requirement “{item}” checked and met ({}).",
                    n(seq),
                    by(r)
                ),
                (false, false) => format!(
                    "{}: requirement “{item}” checked and not met ({}).",
                    n(seq),
                    by(r)
                ),
            }
        }
        Record::IntegrationRequested {
            seq,
            request,
            deadline,
            by: r,
            ..
        } => {
            if it {
                format!(
                    "{}: richiesta di integrazione n. {request}, con risposta entro il {} ({}). Il testo è conservato; qui la sua impronta.",
                    n(seq),
                    day(deadline),
                    by(r)
                )
            } else {
                format!(
                    "{}: integration request no. {request}, to answer by {} ({}). The text is kept; here its hash.",
                    n(seq),
                    day(deadline),
                    by(r)
                )
            }
        }
        Record::IntegrationAnswered { seq, request, .. } => {
            if it {
                format!(
                    "{}: l'ente risponde alla richiesta di integrazione n. {request}; la risposta è sigillata.",
                    n(seq)
                )
            } else {
                format!(
                    "{}: the body answers integration request no. {request}; the answer is sealed.",
                    n(seq)
                )
            }
        }
        Record::ApplicationAdmitted { seq, by: r, .. } => {
            if it {
                format!("{} è ammessa ({}).", n(seq), by(r))
            } else {
                format!("{} is admitted ({}).", n(seq), by(r))
            }
        }
        Record::ApplicationReduced {
            seq,
            eligible_cost_cents,
            requested_before_cents,
            requested_cents,
            by: r,
            ..
        } => {
            if it {
                format!(
                    "{}: la spesa ammissibile è ridotta a {}; il contributo passa da {} a {} ({}).",
                    n(seq),
                    m(eligible_cost_cents),
                    m(requested_before_cents),
                    m(requested_cents),
                    by(r)
                )
            } else {
                format!(
                    "{}: the eligible cost is reduced to {}; the grant goes from {} to {} ({}).",
                    n(seq),
                    m(eligible_cost_cents),
                    m(requested_before_cents),
                    m(requested_cents),
                    by(r)
                )
            }
        }
        Record::ApplicationRejected { seq, by: r, .. } => {
            if it {
                format!(
                    "{} non è ammessa ({}); le risorse che teneva tornano al bando.",
                    n(seq),
                    by(r)
                )
            } else {
                format!(
                    "{} is rejected ({}); the funds it held go back to the call.",
                    n(seq),
                    by(r)
                )
            }
        }
        Record::ApplicationWithdrawn { seq, by: r, .. } => {
            if it {
                format!(
                    "{}: l'ente vi rinuncia (registrato da: {}); le risorse tornano al bando.",
                    n(seq),
                    by(r)
                )
            } else {
                format!(
                    "{}: the body withdraws it (recorded by: {}); the funds go back to the call.",
                    n(seq),
                    by(r)
                )
            }
        }
        Record::AwardRevoked {
            seq, act: a, by: r, ..
        } => {
            if it {
                format!(
                    "{}: il contributo è revocato con l'atto {} ({}).",
                    n(seq),
                    act(a, locale),
                    by(r)
                )
            } else {
                format!(
                    "{}: the grant is revoked by the act {} ({}).",
                    n(seq),
                    act(a, locale),
                    by(r)
                )
            }
        }
        Record::ReportSubmitted {
            seq,
            version,
            claimed_cents,
            eligible_claimed_cents,
            ..
        } => {
            if it {
                format!(
                    "{}: l'ente presenta il rendiconto (versione {version}) con spese per {}, di cui ammissibili {}; il rendiconto è sigillato.",
                    n(seq),
                    m(claimed_cents),
                    m(eligible_claimed_cents)
                )
            } else {
                format!(
                    "{}: the body submits its expense report (version {version}) with expenses of {}, {} of them eligible; the report is sealed.",
                    n(seq),
                    m(claimed_cents),
                    m(eligible_claimed_cents)
                )
            }
        }
        Record::ExpenseChecked {
            seq,
            line,
            outcome,
            accepted_cents,
            by: r,
            ..
        } => {
            let outcome = outcome.label();
            if it {
                format!(
                    "{}: la spesa {} del rendiconto è verificata: {}, per {} ({}).",
                    n(seq),
                    line + 1,
                    outcome.get(locale).to_lowercase(),
                    m(accepted_cents),
                    by(r)
                )
            } else {
                format!(
                    "{}: expense {} of the report is checked: {}, for {} ({}).",
                    n(seq),
                    line + 1,
                    outcome.get(locale).to_lowercase(),
                    m(accepted_cents),
                    by(r)
                )
            }
        }
        Record::ReportReturned {
            seq,
            version,
            by: r,
            ..
        } => {
            if it {
                format!(
                    "{}: il rendiconto (versione {version}) è restituito all'ente per un'integrazione ({}).",
                    n(seq),
                    by(r)
                )
            } else {
                format!(
                    "{}: the report (version {version}) is returned to the body for an integration ({}).",
                    n(seq),
                    by(r)
                )
            }
        }
        Record::VerificationClosed {
            seq,
            verified_eligible_cents,
            final_grant_cents,
            granted_before_cents,
            by: r,
            ..
        } => {
            if it {
                format!(
                    "{}: la verifica è chiusa con una spesa ammissibile di {}; il contributo finale è {} (era {}) ({}).",
                    n(seq),
                    m(verified_eligible_cents),
                    m(final_grant_cents),
                    m(granted_before_cents),
                    by(r)
                )
            } else {
                format!(
                    "{}: the verification is closed with an eligible cost of {}; the final grant is {} (it was {}) ({}).",
                    n(seq),
                    m(verified_eligible_cents),
                    m(final_grant_cents),
                    m(granted_before_cents),
                    by(r)
                )
            }
        }
        Record::PaymentRecorded {
            seq,
            payment,
            amount_cents,
            paid_on,
            act: a,
            ..
        } => {
            let kind = payment.label();
            if it {
                format!(
                    "{}: pagamento ({}) di {} il {}, disposto con l'atto {}.",
                    n(seq),
                    kind.get(locale).to_lowercase(),
                    m(amount_cents),
                    day(paid_on),
                    act(a, locale)
                )
            } else {
                format!(
                    "{}: payment ({}) of {} on {}, ordered by the act {}.",
                    n(seq),
                    kind.get(locale).to_lowercase(),
                    m(amount_cents),
                    day(paid_on),
                    act(a, locale)
                )
            }
        }
        Record::ReportDeadlineExtended {
            seq, until, by: r, ..
        } => {
            if it {
                format!(
                    "{}: il termine del rendiconto è prorogato al {} ({}).",
                    n(seq),
                    day(until),
                    by(r)
                )
            } else {
                format!(
                    "{}: the report deadline is extended to {} ({}).",
                    n(seq),
                    day(until),
                    by(r)
                )
            }
        }
        Record::BudgetChanged {
            budget_cents,
            act: a,
            by: r,
            ..
        } => {
            if it {
                format!(
                    "La dotazione del bando diventa {} con l'atto {} ({}); le domande in attesa ricevono le risorse in ordine di arrivo.",
                    m(budget_cents),
                    act(a, locale),
                    by(r)
                )
            } else {
                format!(
                    "The call's budget becomes {} by the act {} ({}); applications waiting get the funds in the order they arrived.",
                    m(budget_cents),
                    act(a, locale),
                    by(r)
                )
            }
        }
        Record::ListPublished {
            version,
            act: a,
            by: r,
            ..
        } => {
            if it {
                format!(
                    "È pubblicato l'elenco cronologico delle domande, versione {version}, approvato con l'atto {} ({}).",
                    act(a, locale),
                    by(r)
                )
            } else {
                format!(
                    "The chronological list of the applications is published, version {version}, approved by the act {} ({}).",
                    act(a, locale),
                    by(r)
                )
            }
        }
        Record::CupRecorded {
            seq, cup, by: r, ..
        } => {
            if it {
                format!("{}: registrato il CUP {cup} ({}).", n(seq), by(r))
            } else {
                format!("{}: CUP {cup} recorded ({}).", n(seq), by(r))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bandi_domain::account::Role;
    use bandi_domain::report::verification::PaymentKind;

    fn act_of_2020() -> Act {
        Act {
            number: "DD 100/2020".into(),
            date: "2020-06-15".into(),
            document_sha256: None,
        }
    }

    #[test]
    fn a_payment_reads_with_its_amount_day_and_act() {
        let r = Record::PaymentRecorded {
            call: "c".into(),
            seq: 3,
            payment: PaymentKind::Balance,
            amount_cents: Money::from_cents(4_760_000),
            paid_on: "2021-03-01".into(),
            act: act_of_2020(),
            by: Role::Admin,
        };
        let it = sentence(&r, None, None, Locale::It);
        assert!(
            it.starts_with("La domanda n. 3: pagamento (saldo) di 47.600,00 € il 01/03/2021"),
            "{it}"
        );
        assert!(it.ends_with("DD 100/2020 del 15/06/2020."), "{it}");
        let en = sentence(&r, None, None, Locale::En);
        assert!(
            en.contains(
                "of €47,600.00 on 01/03/2021, ordered by the act DD 100/2020 of 15/06/2020."
            ),
            "{en}"
        );
    }

    #[test]
    fn a_budget_change_and_a_checklist_item() {
        let r = Record::BudgetChanged {
            call: "c".into(),
            budget_cents: Money::from_cents(345_000_000),
            act: act_of_2020(),
            by: Role::Admin,
        };
        assert_eq!(
            sentence(&r, None, None, Locale::It),
            "La dotazione del bando diventa 3.450.000,00 € con l'atto DD 100/2020 del 15/06/2020 (Ufficio regionale (amministrazione)); le domande in attesa ricevono le risorse in ordine di arrivo."
        );
        let r = Record::ChecklistChecked {
            call: "c".into(),
            seq: 7,
            item: "eligible_body".into(),
            passed: false,
            note_sha256: String::new(),
            by: Role::Reviewer,
        };
        assert_eq!(
            sentence(&r, None, None, Locale::En),
            "Application no. 7: requirement “eligible_body” checked and not met (Regional office (review))."
        );
    }

    #[test]
    fn an_application_names_its_body_never_an_internal_code() {
        let r = |entity: &str| Record::ApplicationSubmitted {
            call: "c".into(),
            seq: 2,
            protocol: "ER-SW-2020/0000002".into(),
            entity: entity.into(),
            admitted_at: String::new(),
            received_at: String::new(),
            content_sha256: String::new(),
            requested_cents: Money::from_cents(5_250_000),
        };
        assert_eq!(
            sentence(
                &r("ucdc"),
                None,
                Some("Unione dei Comuni del Distretto Ceramico"),
                Locale::It
            ),
            "La domanda n. 2 (protocollo ER-SW-2020/0000002) di Unione dei Comuni del Distretto Ceramico è ricevuta e sigillata; chiede un contributo di 52.500,00 €."
        );
        let unknown = sentence(&r("circondario_imolese"), None, None, Locale::En);
        assert!(!unknown.contains("circondario_imolese"), "{unknown}");
        assert!(sentence(&r("039007"), None, None, Locale::It).contains("di ente ISTAT 039007 è"));
    }
}
