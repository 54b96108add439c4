//! Who may do what: the roles of the people who sign in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The role of an account. Officials are admins and reviewers; applicants act for the
/// entities they are bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An official who manages calls, users, budgets and published lists, and may do what
    /// a reviewer does.
    Admin,
    /// An official who reviews applications (istruttoria) and expense reports.
    Reviewer,
    /// Staff of one or more local authorities.
    Applicant,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Reviewer, Role::Applicant];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Applicant => "applicant",
        }
    }

    /// Exact, case-sensitive: the stored and command-line form.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// An official of the region (admin or reviewer).
    pub fn is_official(self) -> bool {
        matches!(self, Role::Admin | Role::Reviewer)
    }

    /// Italian label for the pages.
    pub fn label_it(self) -> &'static str {
        match self {
            Role::Admin => "Ufficio regionale (amministrazione)",
            Role::Reviewer => "Ufficio regionale (istruttoria)",
            Role::Applicant => "Ente locale",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Admin => "Regional office (administration)",
            Role::Reviewer => "Regional office (review)",
            Role::Applicant => "Local authority",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person's Italian fiscal code (codice fiscale), as SPID and CIE give it: sixteen
/// characters whose last is a check letter. Kept upper-case; letters standing for digits
/// (omocodia) are accepted where the law puts them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FiscalCode(String);

impl FiscalCode {
    /// Reads a fiscal code typed by a person or given by an identity provider: spaces
    /// around and case do not matter, and SPID's `TINIT-` prefix is dropped. None when it
    /// is not a well-formed code with the right check letter.
    pub fn parse(s: &str) -> Option<FiscalCode> {
        let s = s.trim();
        let s = match s.get(..6) {
            Some(p) if p.eq_ignore_ascii_case("TINIT-") => &s[6..],
            _ => s,
        };
        let code = s.to_ascii_uppercase();
        let b = code.as_bytes();
        if b.len() != 16 {
            return None;
        }
        // Letters where the name, month, place and check go; digits (or their omocodia
        // letters) where the year, day and place number go.
        const OMOCODIA: &[u8] = b"LMNPQRSTUV";
        let shape_ok = b.iter().enumerate().all(|(i, &c)| match i {
            0..=5 | 8 | 11 | 15 => c.is_ascii_uppercase(),
            _ => c.is_ascii_digit() || OMOCODIA.contains(&c),
        });
        let month_ok = b"ABCDEHLMPRST".contains(&b[8]);
        (shape_ok && month_ok && check_letter(&b[..15]) == b[15]).then_some(FiscalCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The check letter of the first fifteen characters (DM 23/12/1976): odd and even
/// positions weigh differently, the sum modulo 26 is the letter.
fn check_letter(first15: &[u8]) -> u8 {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let sum: u32 = first15
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let v = if c.is_ascii_digit() {
                c - b'0'
            } else {
                c - b'A'
            } as usize;
            if i % 2 == 0 { ODD[v] } else { v as u32 }
        })
        .sum();
    b'A' + (sum % 26) as u8
}

impl fmt::Display for FiscalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for FiscalCode {
    type Error = String;
    fn try_from(s: String) -> Result<FiscalCode, String> {
        FiscalCode::parse(&s).ok_or_else(|| format!("not a fiscal code: {s:?}"))
    }
}

impl From<FiscalCode> for String {
    fn from(c: FiscalCode) -> String {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert!(Role::Reviewer.is_official() && !Role::Applicant.is_official());
    }

    #[test]
    fn fiscal_codes_are_checked_by_their_letter() {
        for good in ["RSSMRA80A01H501U", "VRDGPP70A01F205V", "BNCLRA85T41D548O"] {
            assert_eq!(FiscalCode::parse(good).unwrap().as_str(), good);
        }
        // As SPID gives it, as a person types it, and with omocodia letters.
        let c = FiscalCode::parse("TINIT-RSSMRA80A01H501U").unwrap();
        assert_eq!(c.to_string(), "RSSMRA80A01H501U");
        assert_eq!(FiscalCode::parse(" rssmra80a01h501u "), Some(c.clone()));
        assert!(FiscalCode::parse("RSSMRA80A01H50MM").is_some());
        for bad in [
            "",
            "RSSMRA80A01H501V",  // wrong check letter
            "BNCLRA85T41D548P",  // wrong check letter
            "RSSMRA80A01H501",   // fifteen characters
            "RSSMRA80A01H501UU", // seventeen
            "RSSMRA80Z01H501U",  // no month Z
            "RSSMR480A01H501U",  // a digit among the name's letters
            "RSSMRA80A01H5O1U",  // O is not an omocodia letter
            "TINIT-",
            "TINIT-RSSMRA80A01H501V",
            "RSSMRA80A01H501\u{00DC}",
            "12345678901",
        ] {
            assert_eq!(FiscalCode::parse(bad), None, "{bad:?}");
        }
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"RSSMRA80A01H501U\"");
        assert_eq!(serde_json::from_str::<FiscalCode>(&json).unwrap(), c);
        assert!(serde_json::from_str::<FiscalCode>("\"RSSMRA80A01H501V\"").is_err());
    }
}
