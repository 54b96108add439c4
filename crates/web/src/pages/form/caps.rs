//! The call's limits on the amounts in sentences, for the form and the call's page.

use bandi_domain::call::Call;
use bandi_domain::i18n::Locale;
use bandi_domain::money::Money;

/// The call's limits on the amounts, in sentences, where the form asks for them: the rate
/// and the largest grant, the project's cost range, each category's share or exclusion.
pub(crate) fn caps_in_words(call: &Call, locale: Locale) -> Vec<String> {
    let it = locale == Locale::It;
    let money = |m: Money| m.in_locale(locale);
    let mut out = vec![match (call.max_grant, it) {
        (Some(m), true) => format!(
            "Il contributo è il {} della spesa ammissibile; il contributo massimo per domanda è {}.",
            call.rate,
            money(m)
        ),
        (Some(m), false) => format!(
            "The grant is {} of the eligible cost; the largest grant per application is {}.",
            call.rate,
            money(m)
        ),
        (None, true) => format!("Il contributo è il {} della spesa ammissibile.", call.rate),
        (None, false) => format!("The grant is {} of the eligible cost.", call.rate),
    }];
    match (call.min_cost, call.max_cost, it) {
        (Some(a), Some(b), true) => out.push(format!(
            "Il costo del progetto va da {} a {}.",
            money(a),
            money(b)
        )),
        (Some(a), Some(b), false) => out.push(format!(
            "The project's cost goes from {} to {}.",
            money(a),
            money(b)
        )),
        (Some(a), None, true) => out.push(format!("Il costo del progetto è almeno {}.", money(a))),
        (Some(a), None, false) => out.push(format!("The project's cost is at least {}.", money(a))),
        (None, Some(b), true) => {
            out.push(format!("Il costo del progetto è al massimo {}.", money(b)))
        }
        (None, Some(b), false) => out.push(format!("The project's cost is at most {}.", money(b))),
        (None, None, _) => {}
    }
    for c in &call.categories {
        let label = c.label.get(locale);
        match (c.eligible, c.max_share, it) {
            (false, _, true) => out.push(format!("«{label}»: spesa non ammissibile.")),
            (false, _, false) => out.push(format!("«{label}»: not an eligible cost.")),
            (true, Some(s), true) => out.push(format!(
                "«{label}»: ammessa fino al {s} della spesa ammissibile; la parte eccedente non è ammissibile."
            )),
            (true, Some(s), false) => out.push(format!(
                "«{label}»: admitted up to {s} of the eligible cost; the part above is not eligible."
            )),
            (true, None, _) => {}
        }
    }
    out
}

#[cfg(test)]
mod caps_tests {
    use super::*;

    #[test]
    fn the_2020_calls_caps_in_words() {
        let call = Call::from_toml(crate::testing::ER_CALL_TOML).unwrap();
        let it = caps_in_words(&call, Locale::It);
        assert_eq!(
            it[0],
            "Il contributo è il 70% della spesa ammissibile; il contributo massimo per domanda è 105.000,00 €."
        );
        assert_eq!(
            it[1],
            "«Acquisto di dispositivi e licenze»: ammessa fino al 20% della spesa ammissibile; la parte eccedente non è ammissibile."
        );
        assert_eq!(it.len(), 2, "{it:?}");
        let en = caps_in_words(&call, Locale::En);
        assert!(
            en[0].contains("largest grant per application is €105,000.00."),
            "{en:?}"
        );
    }
}
