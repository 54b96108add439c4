//! Local authorities (enti locali) that can apply to a call: comuni, unions, provinces and so on.

use std::fmt;

/// The institutional kind of an entity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Comune,
    Unione,
    Provincia,
    CittaMetropolitana,
    Circondario,
    Regione,
    Other,
}

impl EntityKind {
    /// Every kind, in declaration order.
    pub const ALL: [EntityKind; 7] = [
        EntityKind::Comune,
        EntityKind::Unione,
        EntityKind::Provincia,
        EntityKind::CittaMetropolitana,
        EntityKind::Circondario,
        EntityKind::Regione,
        EntityKind::Other,
    ];

    /// The stable machine name, identical to the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Comune => "comune",
            EntityKind::Unione => "unione",
            EntityKind::Provincia => "provincia",
            EntityKind::CittaMetropolitana => "citta_metropolitana",
            EntityKind::Circondario => "circondario",
            EntityKind::Regione => "regione",
            EntityKind::Other => "other",
        }
    }

    /// Inverse of [`EntityKind::as_str`]; exact, case-sensitive match.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Italian label for the user interface.
    pub fn label_it(self) -> &'static str {
        match self {
            EntityKind::Comune => "Comune",
            EntityKind::Unione => "Unione di Comuni",
            EntityKind::Provincia => "Provincia",
            EntityKind::CittaMetropolitana => "Città metropolitana",
            EntityKind::Circondario => "Circondario",
            EntityKind::Regione => "Regione",
            EntityKind::Other => "Altro ente",
        }
    }

    /// English label for the user interface.
    pub fn label_en(self) -> &'static str {
        match self {
            EntityKind::Comune => "Municipality",
            EntityKind::Unione => "Union of municipalities",
            EntityKind::Provincia => "Province",
            EntityKind::CittaMetropolitana => "Metropolitan city",
            EntityKind::Circondario => "District (circondario)",
            EntityKind::Regione => "Region",
            EntityKind::Other => "Other body",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Maximum length of an [`EntityCode`], in characters (all ASCII, so also bytes).
pub const ENTITY_CODE_MAX_LEN: usize = 40;

/// Why a string is not a valid [`EntityCode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEntityCode {
    #[error("entity code is empty")]
    Empty,
    #[error("entity code is {len} characters long; at most {ENTITY_CODE_MAX_LEN} are allowed")]
    TooLong { len: usize },
    #[error(
        "entity code contains {found:?}; only ASCII letters, digits, '.', '_' and '-' are allowed"
    )]
    BadChar { found: char },
}

/// Code of an entity: the IPA code where known, else the ISTAT code.
/// 1..=40 chars of `[A-Za-z0-9._-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct EntityCode(String);

impl EntityCode {
    /// Validates `s` as it is: no trimming, so stray whitespace is an error rather than
    /// silently producing a different code.
    pub fn parse(s: &str) -> Result<Self, InvalidEntityCode> {
        if s.is_empty() {
            return Err(InvalidEntityCode::Empty);
        }
        if let Some(found) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(InvalidEntityCode::BadChar { found });
        }
        // All characters are ASCII here, so the byte length is the character count.
        if s.len() > ENTITY_CODE_MAX_LEN {
            return Err(InvalidEntityCode::TooLong { len: s.len() });
        }
        Ok(EntityCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EntityCode {
    type Error = InvalidEntityCode;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        EntityCode::parse(&s)
    }
}

impl From<EntityCode> for String {
    fn from(code: EntityCode) -> String {
        code.0
    }
}

// Hand-written because serde does not allow `transparent` together with `try_from`;
// going through `parse` keeps invalid codes out of stored JSON too.
impl<'de> serde::Deserialize<'de> for EntityCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        EntityCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A local authority known to the platform.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entity {
    pub code: EntityCode,
    pub name: String,
    pub kind: EntityKind,
    /// 11 digits for public bodies.
    pub fiscal_code: Option<String>,
    /// Two-letter plate, e.g. "RA".
    pub province: Option<String>,
    /// ISTAT region code, two digits, e.g. "08".
    pub region_code: Option<String>,
    pub istat_code: Option<String>,
    pub pec: Option<String>,
    /// ISTAT codes of member comuni (unions, circondari).
    pub members: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kind_as_str_parse_round_trip() {
        for kind in EntityKind::ALL {
            assert_eq!(EntityKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        let names: std::collections::BTreeSet<_> =
            EntityKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), EntityKind::ALL.len(), "as_str must be unique");
    }

    #[test]
    fn kind_as_str_matches_serde() {
        for kind in EntityKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            let back: EntityKind = serde_json::from_str(&json).unwrap();
            assert_eq!(back, kind);
        }
    }

    #[test]
    fn kind_parse_is_exact() {
        assert_eq!(
            EntityKind::parse("citta_metropolitana"),
            Some(EntityKind::CittaMetropolitana)
        );
        assert_eq!(EntityKind::parse("Comune"), None);
        assert_eq!(EntityKind::parse(" comune"), None);
        assert_eq!(EntityKind::parse(""), None);
        assert_eq!(EntityKind::parse("unione_di_comuni"), None);
    }

    #[test]
    fn kind_labels() {
        assert_eq!(EntityKind::Unione.label_it(), "Unione di Comuni");
        assert_eq!(
            EntityKind::CittaMetropolitana.label_it(),
            "Città metropolitana"
        );
        assert_eq!(EntityKind::Other.label_it(), "Altro ente");
        assert_eq!(EntityKind::Circondario.label_en(), "District (circondario)");
        assert_eq!(EntityKind::Comune.label_en(), "Municipality");
        for kind in EntityKind::ALL {
            assert!(!kind.label_it().is_empty());
            assert!(!kind.label_en().is_empty());
        }
    }

    #[test]
    fn code_accepts_valid() {
        for s in ["039007", "c_h199", "circondario_imolese", "a.b-c_D9", "x"] {
            let code = EntityCode::parse(s).unwrap();
            assert_eq!(code.as_str(), s);
            assert_eq!(code.to_string(), s);
        }
        let max = "a".repeat(ENTITY_CODE_MAX_LEN);
        assert!(EntityCode::parse(&max).is_ok());
    }

    #[test]
    fn code_rejects_invalid() {
        assert_eq!(EntityCode::parse(""), Err(InvalidEntityCode::Empty));
        let long = "a".repeat(ENTITY_CODE_MAX_LEN + 1);
        assert_eq!(
            EntityCode::parse(&long),
            Err(InvalidEntityCode::TooLong { len: 41 })
        );
        assert_eq!(
            EntityCode::parse("c h199"),
            Err(InvalidEntityCode::BadChar { found: ' ' })
        );
        assert_eq!(
            EntityCode::parse(" ucdc"),
            Err(InvalidEntityCode::BadChar { found: ' ' })
        );
        assert_eq!(
            EntityCode::parse("forlì"),
            Err(InvalidEntityCode::BadChar { found: 'ì' })
        );
        assert!(EntityCode::parse("a/b").is_err());
        assert!(EntityCode::parse("a;b").is_err());
    }

    #[test]
    fn code_error_messages_are_readable() {
        assert_eq!(InvalidEntityCode::Empty.to_string(), "entity code is empty");
        assert!(
            InvalidEntityCode::TooLong { len: 41 }
                .to_string()
                .contains("at most 40")
        );
        assert!(
            InvalidEntityCode::BadChar { found: ' ' }
                .to_string()
                .contains("' '")
        );
    }

    #[test]
    fn code_serde_goes_through_parse() {
        let code = EntityCode::parse("ucdc").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"ucdc\"");
        let back: EntityCode = serde_json::from_str("\"ucdc\"").unwrap();
        assert_eq!(back, code);
        assert!(serde_json::from_str::<EntityCode>("\"\"").is_err());
        assert!(serde_json::from_str::<EntityCode>("\"a b\"").is_err());
        assert!(serde_json::from_str::<EntityCode>("12").is_err());
    }

    #[test]
    fn entity_json_round_trip() {
        let e = Entity {
            code: EntityCode::parse("urf").unwrap(),
            name: "Unione della Romagna Faentina".into(),
            kind: EntityKind::Unione,
            fiscal_code: None,
            province: Some("RA".into()),
            region_code: Some("08".into()),
            istat_code: None,
            pec: None,
            members: vec!["039010".into(), "039004".into()],
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"kind\":\"unione\""));
        assert!(json.contains("\"code\":\"urf\""));
        let back: Entity = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        let bad = json.replace("\"urf\"", "\"u r f\"");
        assert!(serde_json::from_str::<Entity>(&bad).is_err());
    }

    proptest! {
        #[test]
        fn code_parse_matches_rule(s in "[A-Za-z0-9._ /ìé-]{0,45}|\\PC{0,45}") {
            let valid = !s.is_empty()
                && s.chars().count() <= ENTITY_CODE_MAX_LEN
                && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            prop_assert_eq!(EntityCode::parse(&s).is_ok(), valid);
        }

        #[test]
        fn valid_codes_round_trip(s in "[A-Za-z0-9._-]{1,40}") {
            let code = EntityCode::parse(&s).unwrap();
            prop_assert_eq!(code.as_str(), s.as_str());
            let json = serde_json::to_string(&code).unwrap();
            prop_assert_eq!(serde_json::from_str::<EntityCode>(&json).unwrap(), code);
        }
    }
}
