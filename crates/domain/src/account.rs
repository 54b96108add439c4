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
}
