//! The two languages of the platform and problems found in input, each with a stable code.

use serde::{Deserialize, Serialize};

/// Italian first; English second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    It,
    En,
}

impl Locale {
    /// Picks the first supported language of an `Accept-Language` header (quality values
    /// are honoured), Italian when none matches.
    pub fn from_accept_language(header: &str) -> Locale {
        let mut best: Option<(u16, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(parse_quality)
                .unwrap_or(1000);
            let locale = if tag == "it" || tag.starts_with("it-") {
                Locale::It
            } else if tag == "en" || tag.starts_with("en-") {
                Locale::En
            } else {
                continue;
            };
            if q > 0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, locale));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    pub fn code(self) -> &'static str {
        match self {
            Locale::It => "it",
            Locale::En => "en",
        }
    }
}

fn parse_quality(q: &str) -> Option<u16> {
    let (int, frac) = q.split_once('.').unwrap_or((q, ""));
    let frac = format!("{:0<3}", &frac[..frac.len().min(3)]);
    Some(int.parse::<u16>().ok()?.min(1) * 1000 + frac.parse::<u16>().ok()?)
}

/// A text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub it: String,
    pub en: String,
}

impl Text {
    pub fn new(it: impl Into<String>, en: impl Into<String>) -> Self {
        Text {
            it: it.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::It => &self.it,
            Locale::En => &self.en,
        }
    }
}

/// One problem in one field of an input: `field` is a path such as `lines[2].amount_cents`,
/// `code` is stable for programs, `text` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub text: Text,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: &'static str,
        it: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code,
            text: Text::new(it, en),
        }
    }

    pub fn message(&self, locale: Locale) -> &str {
        self.text.get(locale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(Locale::from_accept_language("en-GB,en;q=0.9"), Locale::En);
        assert_eq!(
            Locale::from_accept_language("it-IT,it;q=0.9,en;q=0.8"),
            Locale::It
        );
        assert_eq!(
            Locale::from_accept_language("en;q=0.5,it;q=0.6"),
            Locale::It
        );
        assert_eq!(Locale::from_accept_language("de-DE,en;q=0.3"), Locale::En);
        assert_eq!(Locale::from_accept_language("fr"), Locale::It);
        assert_eq!(Locale::from_accept_language(""), Locale::It);
        assert_eq!(Locale::from_accept_language("en;q=0"), Locale::It);
        assert_eq!(Locale::from_accept_language("en;q=garbage"), Locale::En);
    }
}
