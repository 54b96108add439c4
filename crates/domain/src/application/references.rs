//! What an application names outside itself and the domain cannot know alone: the services
//! of the catalogue its lines buy, and the good practices it cites. The use case reads the
//! catalogue and the practices and asks here, so the rule is one on every path.

use super::{ApplicationContent, FieldError};
use crate::i18n::Locale;
use crate::service::Catalogue;

/// A line names a service the catalogue does not have (any more).
pub fn unknown_service(field: &str, code: &str) -> FieldError {
    FieldError::new(
        field,
        "unknown_service",
        format!("Il servizio «{code}» non è nel catalogo: togliere la voce o sceglierne un altro."),
        format!("Service «{code}» is not in the catalogue: remove the line or choose another."),
    )
}

/// Each catalogue line names a service of `catalogue` at its current unit price; each
/// practice cited is among `published`.
pub fn check_references(
    content: &ApplicationContent,
    catalogue: Option<&Catalogue>,
    published: &[u64],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, line) in content.lines.iter().enumerate() {
        let Some(bought) = &line.service else {
            continue;
        };
        let path = format!("lines[{i}].service");
        match catalogue.and_then(|c| c.service(&bought.code)) {
            None => errors.push(unknown_service(&format!("{path}.code"), &bought.code)),
            Some(s) if s.unit_price != bought.unit_price_cents => errors.push(FieldError::new(
                format!("{path}.unit_price_cents"),
                "service_price_changed",
                format!(
                    "Il prezzo unitario di «{}» nel catalogo è {}, non {}.",
                    s.name.it, s.unit_price, bought.unit_price_cents
                ),
                format!(
                    "The unit price of «{}» in the catalogue is {}, not {}.",
                    s.name.en,
                    s.unit_price.in_locale(Locale::En),
                    bought.unit_price_cents.in_locale(Locale::En)
                ),
            )),
            Some(_) => {}
        }
    }
    for (i, n) in content.practices.iter().enumerate() {
        if !published.contains(n) {
            errors.push(FieldError::new(
                format!("practices[{i}]"),
                "unknown_practice",
                format!("La buona pratica n. {n} non è tra quelle pubblicate."),
                format!("Good practice no. {n} is not among those published."),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::{BudgetLine, ServiceLine};
    use crate::money::Money;

    fn catalogue() -> Catalogue {
        Catalogue::from_toml(
            "provider = \"Lepida\"\n[[service]]\ncode = \"VM\"\nname = \"Macchina virtuale\"\nkind = \"cloud_hosting\"\nunit = \"mese\"\nunit_price = \"85.00\"\n",
        )
        .unwrap()
    }

    fn with(code: &str, price: i64, practices: Vec<u64>) -> ApplicationContent {
        ApplicationContent {
            lines: vec![
                BudgetLine {
                    category: "planning".into(),
                    description: "A mano".into(),
                    amount_cents: Money::from_cents(100),
                    service: None,
                },
                BudgetLine {
                    category: "technology".into(),
                    description: "VM".into(),
                    amount_cents: Money::from_cents(price * 2),
                    service: Some(ServiceLine {
                        code: code.into(),
                        quantity: 2,
                        unit_price_cents: Money::from_cents(price),
                    }),
                },
            ],
            practices,
            ..ApplicationContent::default()
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<(String, &'static str)> {
        errors.iter().map(|e| (e.field.clone(), e.code)).collect()
    }

    #[test]
    fn lines_at_the_catalogue_price_and_published_practices_pass() {
        assert!(
            check_references(
                &with("VM", 8_500, vec![2, 5]),
                Some(&catalogue()),
                &[5, 2, 9]
            )
            .is_empty()
        );
    }

    #[test]
    fn unknown_services_changed_prices_and_unpublished_practices_are_named() {
        let c = catalogue();
        assert_eq!(
            codes(&check_references(
                &with("VDI", 8_500, vec![]),
                Some(&c),
                &[]
            )),
            vec![("lines[1].service.code".into(), "unknown_service")]
        );
        assert_eq!(
            codes(&check_references(&with("VM", 8_000, vec![]), None, &[])),
            vec![("lines[1].service.code".into(), "unknown_service")],
            "no catalogue imported: no service is known"
        );
        let e = check_references(&with("VM", 8_000, vec![]), Some(&c), &[]);
        assert_eq!(
            codes(&e),
            vec![(
                "lines[1].service.unit_price_cents".into(),
                "service_price_changed"
            )]
        );
        assert!(e[0].message(Locale::It).contains("è 85,00 €, non 80,00 €"));
        assert_eq!(
            codes(&check_references(
                &with("VM", 8_500, vec![4, 7]),
                Some(&c),
                &[4]
            )),
            vec![("practices[1]".into(), "unknown_practice")]
        );
    }
}
