//! The catalogue of services that the region's in-house ICT company offers to authorities
//! (cloud hosting, virtual desktops, collaboration suites, connectivity, training), each
//! with its unit and unit price, read from a TOML file. An application's budget line can
//! come from it ([`crate::application::ServiceLine`]): the line then carries the service's
//! code, the quantity and the unit price it was priced at, so that the content hash covers
//! the price and a later catalogue does not change an application already sent.

use serde::{Deserialize, Serialize};

use crate::i18n::{Locale, Text};
use crate::money::Money;

/// What kind of service, for grouping the catalogue and the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    CloudHosting,
    VirtualDesktop,
    Collaboration,
    Connectivity,
    Training,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 5] = [
        ServiceKind::CloudHosting,
        ServiceKind::VirtualDesktop,
        ServiceKind::Collaboration,
        ServiceKind::Connectivity,
        ServiceKind::Training,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::CloudHosting => "cloud_hosting",
            ServiceKind::VirtualDesktop => "virtual_desktop",
            ServiceKind::Collaboration => "collaboration",
            ServiceKind::Connectivity => "connectivity",
            ServiceKind::Training => "training",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> Text {
        let (it, en) = match self {
            ServiceKind::CloudHosting => ("Cloud e hosting", "Cloud and hosting"),
            ServiceKind::VirtualDesktop => ("Postazioni virtuali", "Virtual desktops"),
            ServiceKind::Collaboration => ("Strumenti di collaborazione", "Collaboration tools"),
            ServiceKind::Connectivity => ("Connettività", "Connectivity"),
            ServiceKind::Training => ("Formazione", "Training"),
        };
        Text::new(it, en)
    }
}

/// The most services a catalogue holds, and the most of one service a line can buy.
pub const MAX_SERVICES: usize = 500;
pub const MAX_QUANTITY: u32 = 1_000_000;
const MAX_CODE_CHARS: usize = 40;
const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// One service of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Upper-case letters, digits and `-` (`LEP-IAAS-VM`): what a budget line names.
    pub code: String,
    pub name: Text,
    pub kind: ServiceKind,
    /// What one unit is ("macchina virtuale al mese").
    pub unit: Text,
    pub unit_price: Money,
    pub description: Text,
}

impl Service {
    /// The amount of `quantity` units, or `None` past what money holds.
    pub fn price_of(&self, quantity: u32) -> Option<Money> {
        self.unit_price
            .cents()
            .checked_mul(i64::from(quantity))
            .map(Money::from_cents)
    }

    /// The description a budget line added from the catalogue starts with.
    pub fn line_description(&self, quantity: u32, locale: Locale) -> String {
        format!(
            "{} ({} × {}, {})",
            self.name.get(locale),
            quantity,
            self.unit.get(locale),
            self.code
        )
    }
}

/// The catalogue: who offers the services, and the services in the file's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalogue {
    pub provider: String,
    pub services: Vec<Service>,
}

impl Catalogue {
    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }

    /// Reads a catalogue file; every problem is named, in Italian, with the service it is in.
    pub fn from_toml(text: &str) -> Result<Catalogue, Vec<String>> {
        let file: File = toml::from_str(text).map_err(|e| {
            vec![format!(
                "Il file del catalogo non si legge: {}",
                e.message().trim()
            )]
        })?;
        let mut problems = Vec::new();
        if file.provider.trim().is_empty() {
            problems.push("Manca il fornitore (provider).".to_string());
        }
        if file.service.len() > MAX_SERVICES {
            problems.push(format!(
                "Il catalogo ha {} servizi: al massimo {MAX_SERVICES}.",
                file.service.len()
            ));
        }
        let mut services = Vec::new();
        for (i, s) in file.service.into_iter().enumerate() {
            let at = format!("Servizio n. {} ({})", i + 1, s.code);
            if !valid_code(&s.code) {
                problems.push(format!(
                    "{at}: il codice va scritto con lettere maiuscole, cifre e trattini, al massimo {MAX_CODE_CHARS} caratteri."
                ));
            }
            if services.iter().any(|o: &Service| o.code == s.code) {
                problems.push(format!("{at}: il codice è già usato da un altro servizio."));
            }
            let kind = ServiceKind::parse(&s.kind);
            if kind.is_none() {
                let known: Vec<&str> = ServiceKind::ALL.iter().map(|k| k.as_str()).collect();
                problems.push(format!(
                    "{at}: tipo «{}» sconosciuto; i tipi sono: {}.",
                    s.kind,
                    known.join(", ")
                ));
            }
            for (what, value, max) in [
                ("il nome", &s.name, MAX_NAME_CHARS),
                ("l'unità", &s.unit, MAX_NAME_CHARS),
            ] {
                if value.trim().is_empty() || value.chars().count() > max {
                    problems.push(format!(
                        "{at}: {what} va indicato, al massimo {max} caratteri."
                    ));
                }
            }
            if s.description.chars().count() > MAX_DESCRIPTION_CHARS {
                problems.push(format!(
                    "{at}: la descrizione supera i {MAX_DESCRIPTION_CHARS} caratteri."
                ));
            }
            let price = Money::parse_euros(&s.unit_price)
                .ok()
                .filter(|m| m.is_positive());
            if price.is_none() {
                problems.push(format!(
                    "{at}: il prezzo unitario «{}» non è un importo positivo in euro (es. \"85.00\").",
                    s.unit_price
                ));
            }
            if let (Some(kind), Some(unit_price)) = (kind, price) {
                let pair = |it: String, en: Option<String>| {
                    let en = en.unwrap_or_else(|| it.clone());
                    Text::new(it.trim(), en.trim())
                };
                services.push(Service {
                    code: s.code,
                    name: pair(s.name, s.name_en),
                    kind,
                    unit: pair(s.unit, s.unit_en),
                    unit_price,
                    description: pair(s.description, s.description_en),
                });
            }
        }
        if problems.is_empty() {
            Ok(Catalogue {
                provider: file.provider.trim().to_string(),
                services,
            })
        } else {
            Err(problems)
        }
    }
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !code.starts_with('-')
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    provider: String,
    #[serde(default)]
    service: Vec<FileService>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileService {
    code: String,
    name: String,
    name_en: Option<String>,
    kind: String,
    unit: String,
    unit_en: Option<String>,
    unit_price: String,
    #[serde(default)]
    description: String,
    description_en: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
provider = "Lepida ScpA (esempio)"

[[service]]
code = "LEP-IAAS-VM"
name = "Macchina virtuale"
name_en = "Virtual machine"
kind = "cloud_hosting"
unit = "VM al mese"
unit_price = "85.00"

[[service]]
code = "LEP-FORM-DIR"
name = "Formazione dirigenti"
kind = "training"
unit = "giornata"
unit_price = "650,00"
"#;

    #[test]
    fn a_catalogue_reads_with_prices_in_cents() {
        let c = Catalogue::from_toml(GOOD).unwrap();
        assert_eq!(c.provider, "Lepida ScpA (esempio)");
        assert_eq!(c.services.len(), 2);
        let vm = c.service("LEP-IAAS-VM").unwrap();
        assert_eq!(vm.unit_price, Money::from_cents(8_500));
        assert_eq!(vm.name.en, "Virtual machine");
        assert_eq!(
            c.service("LEP-FORM-DIR").unwrap().name.en,
            "Formazione dirigenti"
        );
        assert_eq!(vm.price_of(12), Some(Money::from_cents(102_000)));
        assert_eq!(vm.price_of(0), Some(Money::ZERO));
        assert!(c.service("LEP-NONE").is_none());
        assert_eq!(
            vm.line_description(12, Locale::It),
            "Macchina virtuale (12 × VM al mese, LEP-IAAS-VM)"
        );
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let bad = r#"
provider = " "
[[service]]
code = "lep vm"
name = ""
kind = "cloud"
unit = "mese"
unit_price = "-3"

[[service]]
code = "A"
name = "x"
kind = "training"
unit = "ora"
unit_price = "1.00"

[[service]]
code = "A"
name = "y"
kind = "training"
unit = "ora"
unit_price = "abc"
"#;
        let problems = Catalogue::from_toml(bad).unwrap_err();
        let all = problems.join("\n");
        assert!(all.contains("Manca il fornitore"), "{all}");
        assert!(
            all.contains("lep vm") && all.contains("lettere maiuscole"),
            "{all}"
        );
        assert!(all.contains("tipo «cloud» sconosciuto"), "{all}");
        assert!(all.contains("il nome va indicato"), "{all}");
        assert!(all.contains("«-3»"), "{all}");
        assert!(
            all.contains("Servizio n. 3 (A): il codice è già usato"),
            "{all}"
        );
        assert!(all.contains("«abc»"), "{all}");
        assert_eq!(problems.len(), 7, "{all}");
    }

    #[test]
    fn unknown_keys_and_broken_toml_are_refused_in_italian() {
        let e = Catalogue::from_toml("provider = \"x\"\n[[service]]\ncode = \"A\"\nprice = 1\n")
            .unwrap_err();
        assert!(
            e[0].starts_with("Il file del catalogo non si legge"),
            "{e:?}"
        );
        assert!(Catalogue::from_toml("provider = ").is_err());
    }

    #[test]
    fn a_huge_quantity_does_not_overflow() {
        let c = Catalogue::from_toml(GOOD).unwrap();
        let vm = c.service("LEP-IAAS-VM").unwrap();
        let huge = Service {
            unit_price: Money::from_cents(i64::MAX / 2),
            ..vm.clone()
        };
        assert_eq!(huge.price_of(3), None);
        assert!(vm.price_of(MAX_QUANTITY).is_some());
    }

    #[test]
    fn kinds_round_trip() {
        for k in ServiceKind::ALL {
            assert_eq!(ServiceKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ServiceKind::parse("Cloud_hosting"), None);
    }
}
