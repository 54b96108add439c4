//! Good practices and reusable solutions that authorities publish for others to reuse: what
//! a practice says, the levers of agile work it touches, the licence it is given under,
//! and the words it is found by.
//!
//! Search is in Italian on both databases with one set of rules: the text is reduced to
//! stems here ([`search_terms`]) and the database's full-text index holds the stems. The
//! stemmer is light and derivational on purpose: "formazione", "formativi", "formare" and
//! "formatori" are one stem (`form`), which the Snowball Italian stemmer of PostgreSQL's
//! `italian` configuration keeps apart (`formazion`, `format`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::i18n::Text;

/// The levers of agile work a practice touches (from the 2020 call and the regional
/// community of practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lever {
    ManagementByObjectives,
    DigitalSkills,
    ProcessInnovation,
    WorkLifeBalance,
    AgeManagement,
    Cloud,
    CollaborationTools,
    Training,
    ChangeManagement,
    Workspaces,
    Measurement,
}

impl Lever {
    pub const ALL: [Lever; 11] = [
        Lever::ManagementByObjectives,
        Lever::DigitalSkills,
        Lever::ProcessInnovation,
        Lever::WorkLifeBalance,
        Lever::AgeManagement,
        Lever::Cloud,
        Lever::CollaborationTools,
        Lever::Training,
        Lever::ChangeManagement,
        Lever::Workspaces,
        Lever::Measurement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Lever::ManagementByObjectives => "management_by_objectives",
            Lever::DigitalSkills => "digital_skills",
            Lever::ProcessInnovation => "process_innovation",
            Lever::WorkLifeBalance => "work_life_balance",
            Lever::AgeManagement => "age_management",
            Lever::Cloud => "cloud",
            Lever::CollaborationTools => "collaboration_tools",
            Lever::Training => "training",
            Lever::ChangeManagement => "change_management",
            Lever::Workspaces => "workspaces",
            Lever::Measurement => "measurement",
        }
    }

    pub fn parse(s: &str) -> Option<Lever> {
        Lever::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn label(self) -> Text {
        let (it, en) = match self {
            Lever::ManagementByObjectives => ("Gestione per obiettivi", "Management by objectives"),
            Lever::DigitalSkills => ("Competenze digitali", "Digital skills"),
            Lever::ProcessInnovation => ("Innovazione dei processi", "Process innovation"),
            Lever::WorkLifeBalance => ("Conciliazione vita-lavoro", "Work-life balance"),
            Lever::AgeManagement => ("Age management", "Age management"),
            Lever::Cloud => ("Cloud", "Cloud"),
            Lever::CollaborationTools => ("Strumenti di collaborazione", "Collaboration tools"),
            Lever::Training => ("Formazione", "Training"),
            Lever::ChangeManagement => ("Gestione del cambiamento", "Change management"),
            Lever::Workspaces => ("Spazi di lavoro", "Workspaces"),
            Lever::Measurement => ("Misurazione dei risultati", "Measuring results"),
        };
        Text::new(it, en)
    }
}

impl fmt::Display for Lever {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The licence under which others may reuse a practice: common open licences only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Licence {
    #[serde(rename = "CC-BY-4.0")]
    CcBy4,
    #[serde(rename = "CC-BY-SA-4.0")]
    CcBySa4,
    #[serde(rename = "CC0-1.0")]
    Cc0,
    #[serde(rename = "EUPL-1.2")]
    Eupl12,
    #[serde(rename = "MIT")]
    Mit,
    #[serde(rename = "Apache-2.0")]
    Apache2,
}

impl Licence {
    pub const ALL: [Licence; 6] = [
        Licence::CcBy4,
        Licence::CcBySa4,
        Licence::Cc0,
        Licence::Eupl12,
        Licence::Mit,
        Licence::Apache2,
    ];
    /// The default for documents (regulations, training kits, methods).
    pub const DOCUMENTS: Licence = Licence::CcBy4;
    /// The default for software (the Italian guidelines on reuse name the EUPL).
    pub const SOFTWARE: Licence = Licence::Eupl12;

    /// The SPDX identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Licence::CcBy4 => "CC-BY-4.0",
            Licence::CcBySa4 => "CC-BY-SA-4.0",
            Licence::Cc0 => "CC0-1.0",
            Licence::Eupl12 => "EUPL-1.2",
            Licence::Mit => "MIT",
            Licence::Apache2 => "Apache-2.0",
        }
    }

    pub fn parse(s: &str) -> Option<Licence> {
        Licence::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Where its text is.
    pub fn url(self) -> &'static str {
        match self {
            Licence::CcBy4 => "https://creativecommons.org/licenses/by/4.0/deed.it",
            Licence::CcBySa4 => "https://creativecommons.org/licenses/by-sa/4.0/deed.it",
            Licence::Cc0 => "https://creativecommons.org/publicdomain/zero/1.0/deed.it",
            Licence::Eupl12 => "https://eupl.eu/1.2/it/",
            Licence::Mit => "https://opensource.org/license/mit",
            Licence::Apache2 => "https://www.apache.org/licenses/LICENSE-2.0",
        }
    }
}

/// Where a practice is in its life: proposed by an authority, then published or refused by
/// an official.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PracticeStatus {
    Proposed,
    Published,
    Refused,
}

impl PracticeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PracticeStatus::Proposed => "proposed",
            PracticeStatus::Published => "published",
            PracticeStatus::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<PracticeStatus> {
        [
            PracticeStatus::Proposed,
            PracticeStatus::Published,
            PracticeStatus::Refused,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// A practice as its authority writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeContent {
    pub title: String,
    pub summary: String,
    /// Markdown; rendered without raw HTML and with safe links only.
    pub body: String,
    pub levers: Vec<Lever>,
    pub licence: Licence,
    /// Web addresses (http or https) of documents, repositories, videos.
    pub links: Vec<String>,
    /// The call its project was funded by, if any.
    pub call: Option<String>,
    /// The project it came from: the protocol number of its authority's application.
    #[serde(default)]
    pub project: Option<String>,
}

pub const MAX_TITLE: usize = 200;
pub const MAX_SUMMARY: usize = 1_000;
pub const MAX_BODY: usize = 50_000;
pub const MAX_LINKS: usize = 10;

/// What is wrong with a practice, field by field (Italian, English).
pub fn problems(p: &PracticeContent) -> Vec<(&'static str, Text)> {
    let mut out = Vec::new();
    let chars = |s: &str| s.trim().chars().count();
    if !(5..=MAX_TITLE).contains(&chars(&p.title)) {
        out.push((
            "title",
            Text::new(
                format!("Il titolo va da 5 a {MAX_TITLE} caratteri."),
                format!("The title has 5 to {MAX_TITLE} characters."),
            ),
        ));
    }
    if !(20..=MAX_SUMMARY).contains(&chars(&p.summary)) {
        out.push((
            "summary",
            Text::new(
                format!("La sintesi va da 20 a {MAX_SUMMARY} caratteri."),
                format!("The summary has 20 to {MAX_SUMMARY} characters."),
            ),
        ));
    }
    if chars(&p.body) > MAX_BODY {
        out.push((
            "body",
            Text::new(
                format!("Il testo supera {MAX_BODY} caratteri."),
                format!("The text is over {MAX_BODY} characters."),
            ),
        ));
    }
    if p.levers.is_empty() {
        out.push((
            "levers",
            Text::new(
                "Scegliere almeno una leva del lavoro agile.",
                "Choose at least one lever of agile work.",
            ),
        ));
    }
    let bad_link = p.links.iter().find(|l| !link_is_safe(l));
    if p.links.len() > MAX_LINKS || bad_link.is_some() {
        out.push((
            "links",
            Text::new(
                format!(
                    "Al massimo {MAX_LINKS} collegamenti, ciascuno un indirizzo web che inizia con https:// o http://."
                ),
                format!("At most {MAX_LINKS} links, each a web address starting with https:// or http://."),
            ),
        ));
    }
    out
}

/// A link people may follow: a web address, nothing a browser would run.
pub fn link_is_safe(url: &str) -> bool {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && u.len() <= 2_000
        && u.len() > "https://".len()
        && !u
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
}

/// Words that say nothing of what a practice is about.
const STOP_WORDS: &[&str] = &[
    "a", "ad", "agli", "ai", "al", "alla", "alle", "allo", "anche", "che", "chi", "ci", "come",
    "con", "da", "dai", "dal", "dalla", "dalle", "degli", "dei", "del", "della", "delle", "dello",
    "di", "e", "ed", "gli", "il", "in", "la", "le", "lo", "ma", "ne", "negli", "nei", "nel",
    "nella", "nelle", "non", "o", "per", "più", "piu", "se", "si", "sono", "su", "sua", "sue",
    "sui", "sul", "sulla", "suo", "suoi", "tra", "fra", "un", "una", "uno", "è",
];

/// Suffixes taken off a word, longest first: derivational ones, so that a word's family
/// shares one stem, then inflections.
const SUFFIXES: &[&str] = &[
    "izzazioni",
    "izzazione",
    "izzativi",
    "izzative",
    "izzativo",
    "izzativa",
    "izzare",
    "izzati",
    "izzate",
    "izzato",
    "izzata",
    "amenti",
    "amento",
    "imenti",
    "imento",
    "azioni",
    "azione",
    "uzioni",
    "uzione",
    "izioni",
    "izione",
    "atrici",
    "atrice",
    "atori",
    "atore",
    "ativi",
    "ative",
    "ativo",
    "ativa",
    "mente",
    "abili",
    "abile",
    "ibili",
    "ibile",
    "anti",
    "ante",
    "ando",
    "endo",
    "are",
    "ere",
    "ire",
    "ati",
    "ate",
    "ato",
    "ata",
    "iti",
    "ite",
    "ito",
    "ita",
    "ici",
    "ico",
    "ica",
    "iche",
    "ichi",
    "i",
    "e",
    "o",
    "a",
];

fn fold_accents(c: char) -> char {
    match c {
        'à' | 'á' => 'a',
        'è' | 'é' => 'e',
        'ì' | 'í' => 'i',
        'ò' | 'ó' => 'o',
        'ù' | 'ú' => 'u',
        c => c,
    }
}

/// The stem of one lower-case word: the longest suffix whose removal leaves at least three
/// letters.
pub fn stem(word: &str) -> String {
    for suffix in SUFFIXES {
        if let Some(rest) = word.strip_suffix(suffix)
            && rest.chars().count() >= 3
        {
            return rest.to_string();
        }
    }
    word.to_string()
}

/// A text as the search index holds it (and as a query is matched): its words lower-cased,
/// without accents, without stop words, each reduced to its stem, separated by spaces.
/// Only `a-z` and `0-9` survive: the result is safe inside any full-text query syntax.
pub fn search_terms(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let lower: String = word.to_lowercase().chars().map(fold_accents).collect();
        if STOP_WORDS.contains(&lower.as_str()) {
            continue;
        }
        let ascii: String = lower
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        if ascii.chars().count() < 2 {
            continue;
        }
        out.push(stem(&ascii));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_words_family_shares_its_stem() {
        for family in [
            &[
                "formazione",
                "formazioni",
                "formativi",
                "formativo",
                "formare",
                "formatori",
                "formato",
            ][..],
            &["digitale", "digitali", "digitalizzazione"][..],
            &["lavoro", "lavori", "lavorare", "lavoratori", "lavoratrice"][..],
            &["agile", "agili"][..],
            &["organizzazione", "organizzare", "organizzativo"][..],
        ] {
            let stems: Vec<String> = family.iter().map(|w| stem(w)).collect();
            assert!(
                stems.iter().all(|s| *s == stems[0]),
                "{family:?} → {stems:?}"
            );
        }
        assert_ne!(stem("formazione"), stem("informazione"));
        assert_eq!(stem("cloud"), "cloud");
        assert_eq!(stem("dati"), "dat", "a short word keeps three letters");
    }

    #[test]
    fn search_terms_drop_stop_words_accents_and_symbols() {
        assert_eq!(
            search_terms("La Formazione dei dipendenti: più città, nel cloud!"),
            "form dipendent citt cloud"
        );
        assert_eq!(
            search_terms("\"form\" OR x* NEAR(a b) -- ; DROP"),
            "form or near drop"
        );
        assert_eq!(search_terms("Città è più già"), "citt gia");
        assert_eq!(search_terms(""), "");
        for t in search_terms("<script>alert('x')</script> 'a' \" * ^ : ( )").split(' ') {
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{t}"
            );
        }
    }

    #[test]
    fn a_practice_and_its_problems() {
        let good = PracticeContent {
            title: "Regolamento per il lavoro agile".into(),
            summary: "Il regolamento approvato dalla giunta, con gli accordi individuali.".into(),
            body: "## Cosa\n\nUn regolamento.".into(),
            levers: vec![Lever::ManagementByObjectives],
            licence: Licence::DOCUMENTS,
            links: vec!["https://example.it/regolamento.pdf".into()],
            call: None,
            project: None,
        };
        assert!(problems(&good).is_empty());
        let bad = PracticeContent {
            title: "Re".into(),
            summary: "breve".into(),
            body: "x".repeat(MAX_BODY + 1),
            levers: vec![],
            links: vec!["javascript:alert(1)".into()],
            ..good.clone()
        };
        let fields: Vec<&str> = problems(&bad).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["title", "summary", "body", "levers", "links"]);
        for unsafe_link in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "https://",
            "https://a b",
            "//evil.example",
            "https://x\"onmouseover=1",
        ] {
            assert!(!link_is_safe(unsafe_link), "{unsafe_link}");
        }
        assert!(link_is_safe("https://www.lepida.net/servizi"));
        for l in Lever::ALL {
            assert_eq!(Lever::parse(l.as_str()), Some(l));
        }
        for l in Licence::ALL {
            assert_eq!(Licence::parse(l.as_str()), Some(l));
            assert_eq!(
                serde_json::to_string(&l).unwrap(),
                format!("\"{}\"", l.as_str())
            );
        }
    }
}
