//! The TOML form of a call. Every field that needs a check after parsing keeps its span, so
//! an error can name the key and its line.

use std::fmt;

use jiff::{Timestamp, civil, tz::TimeZone};
use serde::Deserialize;
use toml::Spanned;

use super::{
    Attachment, Call, CallCode, ChecklistItem, CostCategory, FitMode, Indicator, IndicatorKind,
};
use crate::entity::EntityKind;
use crate::i18n::Text;
use crate::money::{Money, Rate};

/// What is wrong with a call file, where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CallFileError {
    pub key: Option<String>,
    pub line: Option<usize>,
    /// In English; [`CallFileError::message_it`] in Italian.
    pub message: String,
    pub message_it: String,
}

impl CallFileError {
    pub fn message_it(&self) -> &str {
        &self.message_it
    }
}

impl fmt::Display for CallFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.line, &self.key) {
            (Some(l), Some(k)) => write!(f, "line {l}, key `{k}`: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            (None, Some(k)) => write!(f, "key `{k}`: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallFile {
    code: Spanned<String>,
    protocol_prefix: Option<Spanned<String>>,
    title: Spanned<String>,
    title_en: Option<String>,
    #[serde(default)]
    text: String,
    text_en: Option<String>,
    time_zone: Option<Spanned<String>>,
    opens_at: Spanned<toml::value::Datetime>,
    closes_at: Spanned<toml::value::Datetime>,
    budget: Spanned<String>,
    co_financing: Spanned<String>,
    min_cost: Option<Spanned<String>>,
    max_cost: Option<Spanned<String>>,
    max_grant: Option<Spanned<String>>,
    applications_per_entity: Option<Spanned<i64>>,
    when_not_fits: FitMode,
    completion_deadline: Option<Spanned<toml::value::Datetime>>,
    reporting_deadline: Option<Spanned<toml::value::Datetime>>,
    eligibility: Eligibility,
    categories: Spanned<Vec<CategoryFile>>,
    #[serde(default)]
    attachments: Vec<AttachmentFile>,
    #[serde(default)]
    indicators: Vec<IndicatorFile>,
    #[serde(default)]
    checklist: Vec<ChecklistFile>,
    /// The share of the award paid in advance, e.g. "30%".
    advance: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecklistFile {
    code: Spanned<String>,
    label: String,
    label_en: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Eligibility {
    kinds: Spanned<Vec<EntityKind>>,
    #[serde(default)]
    regions: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    code: Spanned<String>,
    label: String,
    label_en: Option<String>,
    #[serde(default = "yes")]
    eligible: bool,
    max_share: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentFile {
    code: Spanned<String>,
    label: String,
    label_en: Option<String>,
    #[serde(default)]
    required: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFile {
    code: Spanned<String>,
    label: String,
    label_en: Option<String>,
    kind: IndicatorKind,
    #[serde(default)]
    required: bool,
}

fn yes() -> bool {
    true
}

/// Turns byte spans into line numbers and builds errors.
struct Locator<'a> {
    text: &'a str,
}

impl Locator<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn err<T>(
        &self,
        key: &str,
        spanned: &Spanned<T>,
        it: impl Into<String>,
        en: impl Into<String>,
    ) -> CallFileError {
        CallFileError {
            key: Some(key.to_string()),
            line: Some(self.line(spanned.span().start)),
            message: en.into(),
            message_it: it.into(),
        }
    }
}

/// The reader's English message said in Italian, with the key it names when it names one.
fn in_italian(message: &str) -> (Option<String>, String) {
    // serde writes the names it means between backticks: `budget`.
    let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    let first = quoted.first().map(|k| k.to_string());
    if message.starts_with("missing field") {
        let k = first.unwrap_or_default();
        return (
            Some(k.clone()),
            format!("manca la chiave obbligatoria «{k}»"),
        );
    }
    if message.starts_with("unknown field") {
        let k = first.unwrap_or_default();
        let known = quoted[1..].join(", ");
        return (
            Some(k.clone()),
            format!("chiave sconosciuta «{k}»; le chiavi possibili qui sono: {known}"),
        );
    }
    if message.starts_with("unknown variant") {
        let v = first.unwrap_or_default();
        let known = quoted[1..].join(", ");
        return (
            None,
            format!("valore «{v}» non ammesso; i valori possibili sono: {known}"),
        );
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        return (
            None,
            "valore del tipo sbagliato (per esempio un numero dove serve un testo tra virgolette, o il contrario)".into(),
        );
    }
    if message.starts_with("duplicate key") {
        let k = first.unwrap_or_default();
        return (
            Some(k.clone()),
            format!("la chiave «{k}» è scritta due volte"),
        );
    }
    (
        None,
        "il testo non è TOML valido: controllare virgolette, segni «=» e parentesi quadre".into(),
    )
}

pub(super) fn parse(text: &str) -> Result<Call, CallFileError> {
    let loc = Locator { text };
    let file: CallFile = toml::from_str(text).map_err(|e| {
        let (key, message_it) = in_italian(e.message().trim());
        CallFileError {
            key,
            line: e.span().map(|s| loc.line(s.start)),
            message: e.message().trim().to_string(),
            message_it,
        }
    })?;

    let code = CallCode::parse(file.code.get_ref()).map_err(|m| {
        loc.err(
            "code",
            &file.code,
            "codice non valido: da 3 a 64 caratteri tra a-z, 0-9 e '-', senza '-' all'inizio o alla fine",
            m,
        )
    })?;
    let protocol_prefix = match &file.protocol_prefix {
        Some(p) => {
            let ok = (2..=16).contains(&p.get_ref().len())
                && p.get_ref()
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(loc.err(
                    "protocol_prefix",
                    p,
                    "da 2 a 16 caratteri tra A-Z, 0-9 e '-'",
                    "2 to 16 characters among A-Z, 0-9 and '-'",
                ));
            }
            p.get_ref().clone()
        }
        None => code.as_str().to_ascii_uppercase(),
    };
    let title = file.title.get_ref().trim();
    if title.is_empty() {
        return Err(loc.err(
            "title",
            &file.title,
            "il titolo non può essere vuoto",
            "the title must not be empty",
        ));
    }

    let time_zone = match &file.time_zone {
        Some(tz) => {
            TimeZone::get(tz.get_ref()).map_err(|_| {
                loc.err(
                    "time_zone",
                    tz,
                    format!("fuso orario sconosciuto {:?}", tz.get_ref()),
                    format!("unknown time zone {:?}", tz.get_ref()),
                )
            })?;
            tz.get_ref().clone()
        }
        None => "Europe/Rome".to_string(),
    };
    let tz = TimeZone::get(&time_zone).map_err(|e| CallFileError {
        key: Some("time_zone".into()),
        line: None,
        message: e.to_string(),
        message_it: format!("fuso orario non disponibile: {e}"),
    })?;
    let opens_at = instant(&loc, "opens_at", &file.opens_at, &tz)?;
    let closes_at = instant(&loc, "closes_at", &file.closes_at, &tz)?;
    if closes_at <= opens_at {
        return Err(loc.err(
            "closes_at",
            &file.closes_at,
            "la chiusura deve seguire l'apertura",
            "the call must close after it opens",
        ));
    }

    let budget = positive_money(&loc, "budget", &file.budget)?;
    let rate = Rate::parse_percent(file.co_financing.get_ref()).map_err(|e| {
        loc.err(
            "co_financing",
            &file.co_financing,
            "percentuale non valida: scrivere per esempio \"70%\" o \"12,5%\", tra 0% e 100%",
            e.to_string(),
        )
    })?;
    if rate.bp() == 0 {
        return Err(loc.err(
            "co_financing",
            &file.co_financing,
            "il cofinanziamento deve essere maggiore di 0%",
            "the co-financing rate must be above 0%",
        ));
    }
    let advance = match &file.advance {
        Some(a) => Some(Rate::parse_percent(a.get_ref()).map_err(|e| {
            loc.err(
                "advance",
                a,
                "percentuale non valida: scrivere per esempio \"30%\", tra 0% e 100%",
                e.to_string(),
            )
        })?),
        None => None,
    };
    let min_cost = optional_money(&loc, "min_cost", &file.min_cost)?;
    let max_cost = optional_money(&loc, "max_cost", &file.max_cost)?;
    let max_grant = optional_money(&loc, "max_grant", &file.max_grant)?;
    if let (Some(min), Some(max), Some(span)) = (min_cost, max_cost, &file.max_cost)
        && max < min
    {
        return Err(loc.err(
            "max_cost",
            span,
            "max_cost è inferiore a min_cost",
            "max_cost is below min_cost",
        ));
    }
    let applications_per_entity = match &file.applications_per_entity {
        Some(n) => u32::try_from(*n.get_ref())
            .ok()
            .filter(|n| *n <= 1000)
            .ok_or_else(|| {
                loc.err(
                    "applications_per_entity",
                    n,
                    "un numero da 0 (illimitate) a 1000",
                    "a number from 0 (unlimited) to 1000",
                )
            })?,
        None => 1,
    };

    if file.eligibility.kinds.get_ref().is_empty() {
        return Err(loc.err(
            "eligibility.kinds",
            &file.eligibility.kinds,
            "almeno un tipo di ente deve essere ammesso",
            "at least one kind of entity must be eligible",
        ));
    }
    for r in &file.eligibility.regions {
        let v = r.get_ref();
        if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(loc.err(
                "eligibility.regions",
                r,
                "un codice ISTAT di regione ha due cifre, per esempio \"08\"",
                "an ISTAT region code has two digits, e.g. \"08\"",
            ));
        }
    }

    let mut categories = Vec::new();
    for c in file.categories.get_ref() {
        let key = format!("categories.{}", c.code.get_ref());
        check_code(&loc, "categories.code", &c.code)?;
        if categories
            .iter()
            .any(|x: &CostCategory| x.code == *c.code.get_ref())
        {
            return Err(loc.err(
                &key,
                &c.code,
                "codice di categoria ripetuto",
                "duplicate category code",
            ));
        }
        let max_share = match &c.max_share {
            Some(s) => {
                let share = Rate::parse_percent(s.get_ref()).map_err(|e| {
                    loc.err(
                        &format!("{key}.max_share"),
                        s,
                        "percentuale non valida: scrivere per esempio \"20%\"",
                        e.to_string(),
                    )
                })?;
                if share.bp() == 0 || !c.eligible {
                    return Err(loc.err(
                        &format!("{key}.max_share"),
                        s,
                        "un tetto di quota deve essere maggiore di 0% e solo su una categoria ammissibile",
                        "a share cap must be above 0% and only on an eligible category",
                    ));
                }
                Some(share)
            }
            None => None,
        };
        categories.push(CostCategory {
            code: c.code.get_ref().clone(),
            label: text_pair(&c.label, &c.label_en),
            eligible: c.eligible,
            max_share,
        });
    }
    if !categories
        .iter()
        .any(|c| c.eligible && c.max_share.is_none())
    {
        return Err(loc.err(
            "categories",
            &file.categories,
            "serve almeno una categoria ammissibile senza tetto di quota",
            "at least one eligible category without a share cap is needed",
        ));
    }

    let mut attachments: Vec<Attachment> = Vec::new();
    for a in &file.attachments {
        check_code(&loc, "attachments.code", &a.code)?;
        if attachments.iter().any(|x| x.code == *a.code.get_ref()) {
            return Err(loc.err(
                "attachments.code",
                &a.code,
                "codice di allegato ripetuto",
                "duplicate attachment code",
            ));
        }
        attachments.push(Attachment {
            code: a.code.get_ref().clone(),
            label: text_pair(&a.label, &a.label_en),
            required: a.required,
        });
    }
    let mut indicators: Vec<Indicator> = Vec::new();
    for i in &file.indicators {
        check_code(&loc, "indicators.code", &i.code)?;
        if indicators.iter().any(|x| x.code == *i.code.get_ref()) {
            return Err(loc.err(
                "indicators.code",
                &i.code,
                "codice di indicatore ripetuto",
                "duplicate indicator code",
            ));
        }
        indicators.push(Indicator {
            code: i.code.get_ref().clone(),
            label: text_pair(&i.label, &i.label_en),
            kind: i.kind,
            required: i.required,
        });
    }

    let mut checklist: Vec<ChecklistItem> = Vec::new();
    for c in &file.checklist {
        check_code(&loc, "checklist.code", &c.code)?;
        if checklist.iter().any(|x| x.code == *c.code.get_ref()) {
            return Err(loc.err(
                "checklist.code",
                &c.code,
                "codice di voce della lista di controllo ripetuto",
                "duplicate checklist item code",
            ));
        }
        checklist.push(ChecklistItem {
            code: c.code.get_ref().clone(),
            label: text_pair(&c.label, &c.label_en),
        });
    }

    for (key, text) in [
        ("text", Some(&file.text)),
        ("text_en", file.text_en.as_ref()),
    ] {
        if let Some(name) = text.and_then(|t| super::dates_text::unknown_placeholder(t)) {
            return Err(CallFileError {
                key: Some(key.to_string()),
                line: None,
                message: format!(
                    "{{{name}}} is not one of the dates a text may name: {}",
                    super::PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                ),
                message_it: format!(
                    "{{{name}}} non è una delle date che il testo può citare: {}",
                    super::PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                ),
            });
        }
    }

    Ok(Call {
        code,
        protocol_prefix,
        title: text_pair(title, &file.title_en),
        text: text_pair(&file.text, &file.text_en),
        time_zone,
        opens_at,
        closes_at,
        budget,
        rate,
        min_cost,
        max_cost,
        max_grant,
        applications_per_entity,
        eligible_kinds: file.eligibility.kinds.into_inner(),
        eligible_regions: file
            .eligibility
            .regions
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        categories,
        when_not_fits: file.when_not_fits,
        attachments,
        indicators,
        completion_deadline: optional_date(&loc, "completion_deadline", &file.completion_deadline)?,
        reporting_deadline: optional_date(&loc, "reporting_deadline", &file.reporting_deadline)?,
        checklist,
        advance,
    })
}

/// A text and its English form (the Italian one when none is given), trimmed and without
/// format characters.
fn text_pair(it: &str, en: &Option<String>) -> Text {
    let clean = |s: &str| crate::text::strip_format_chars(s.trim()).into_owned();
    Text::new(clean(it), clean(en.as_deref().unwrap_or(it)))
}

fn check_code(loc: &Locator, key: &str, code: &Spanned<String>) -> Result<(), CallFileError> {
    let c = code.get_ref();
    let ok = (1..=40).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(loc.err(
            key,
            code,
            format!("codice non valido {c:?}: usare a-z, 0-9 e '_'"),
            format!("invalid code {c:?}: use a-z, 0-9 and '_'"),
        ))
    }
}

/// A TOML date-time with an offset is an instant; one without is local time in the call's zone.
fn instant(
    loc: &Locator,
    key: &str,
    value: &Spanned<toml::value::Datetime>,
    tz: &TimeZone,
) -> Result<Timestamp, CallFileError> {
    let dt = value.get_ref();
    let text = dt.to_string();
    if dt.date.is_none() || dt.time.is_none() {
        return Err(loc.err(
            key,
            value,
            "servono data e ora, per esempio 2020-04-03T09:30:00",
            "a date and a time are needed, e.g. 2020-04-03T09:30:00",
        ));
    }
    let result = if dt.offset.is_some() {
        text.parse::<Timestamp>().map_err(|e| e.to_string())
    } else {
        text.parse::<civil::DateTime>()
            .map_err(|e| e.to_string())
            .and_then(|c| c.to_zoned_datetime(tz.clone()).map_err(|e| e.to_string()))
            .map(|z| z.timestamp())
    };
    result.map_err(|m| {
        loc.err(
            key,
            value,
            "data e ora non valide, o inesistenti nel fuso orario del bando (per esempio 2020-04-03T09:30:00)",
            m,
        )
    })
}

fn optional_date(
    loc: &Locator,
    key: &str,
    value: &Option<Spanned<toml::value::Datetime>>,
) -> Result<Option<civil::Date>, CallFileError> {
    let Some(v) = value else { return Ok(None) };
    let dt = v.get_ref();
    match (&dt.date, &dt.time) {
        (Some(_), None) => dt
            .to_string()
            .parse::<civil::Date>()
            .map(Some)
            .map_err(|e| {
                loc.err(
                    key,
                    v,
                    "data non valida (per esempio 2020-12-31)",
                    e.to_string(),
                )
            }),
        _ => Err(loc.err(
            key,
            v,
            "serve una data senza ora, per esempio 2020-12-31",
            "a date without time is expected, e.g. 2020-12-31",
        )),
    }
}

fn positive_money(
    loc: &Locator,
    key: &str,
    value: &Spanned<String>,
) -> Result<Money, CallFileError> {
    let m = Money::parse_euros(value.get_ref()).map_err(|e| {
        loc.err(
            key,
            value,
            format!(
                "importo in euro non valido: {:?} (scrivere per esempio \"52500.00\" o \"52.500,00\")",
                value.get_ref()
            ),
            e.to_string(),
        )
    })?;
    if !m.is_positive() {
        return Err(loc.err(
            key,
            value,
            format!("{key} deve essere maggiore di zero, non {m}"),
            format!("{key} must be positive, got {m}"),
        ));
    }
    Ok(m)
}

fn optional_money(
    loc: &Locator,
    key: &str,
    value: &Option<Spanned<String>>,
) -> Result<Option<Money>, CallFileError> {
    value
        .as_ref()
        .map(|v| positive_money(loc, key, v))
        .transpose()
}
