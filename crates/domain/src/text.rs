//! Texts that people type: what is kept of them. Unicode format characters (category Cf:
//! bidirectional overrides and isolates, zero-width spaces and joiners, the soft hyphen)
//! are invisible and let a name read as something else (`…lmth.pdf` shown as `…fdp.html`):
//! they are dropped from every text the platform keeps.

use std::borrow::Cow;

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

pub fn is_format_char(c: char) -> bool {
    // Every format character is above U+00AD (the soft hyphen, the first): most text
    // never reaches the table's search.
    c >= '\u{AD}' && c.general_category() == GeneralCategory::Format
}

/// `s` without format characters; borrowed when it has none (the usual case).
pub fn strip_format_chars(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    if s.chars().any(is_format_char) {
        Cow::Owned(s.chars().filter(|c| !is_format_char(*c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// Strips format characters in place.
pub fn clean_in_place(s: &mut String) {
    if let Cow::Owned(clean) = strip_format_chars(s) {
        *s = clean;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_characters_go_and_nothing_else() {
        assert_eq!(
            strip_format_chars("delibera\u{202E}fdp.lmth"),
            "deliberafdp.lmth"
        );
        assert_eq!(
            strip_format_chars("a\u{200B}b\u{200D}c\u{2066}d\u{FEFF}e\u{AD}f"),
            "abcdef"
        );
        assert!(matches!(
            strip_format_chars("Città di Cervia – ufficio n° 1"),
            Cow::Borrowed(_)
        ));
        // Letters of other scripts, emoji and combining marks stay.
        assert_eq!(strip_format_chars("é日本👍"), "é日本👍");
        let mut s = String::from("x\u{202D}y");
        clean_in_place(&mut s);
        assert_eq!(s, "xy");
    }
}
