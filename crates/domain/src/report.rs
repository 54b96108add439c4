//! The expense report of a funded project (rendicontazione): the expenses its authority
//! paid, each with its supplier, invoice, category, amount, payment date and documents,
//! and the indicators it achieved. Checked against the call and the application as
//! admitted: dates within the project's, categories the call allows, no category above
//! what the review admitted for it. Its verification, the final grant, payments and
//! revocations are in [`verification`].

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::application::{
    ApplicationContent, AttachedDocument, BudgetLine, IndicatorValue, eligible_cost_of,
};
use crate::call::{Call, IndicatorKind};
use crate::i18n::FieldError;
use crate::money::Money;
use crate::text::strip_format_chars;

pub mod verification;

#[cfg(test)]
mod tests;

pub const MAX_EXPENSES: usize = 500;
pub const MAX_FIELD_CHARS: usize = 300;

/// The documents every expense carries at submission.
pub const INVOICE: &str = "invoice";
pub const PROOF_OF_PAYMENT: &str = "payment";

/// One expense as the authority enters it. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Expense {
    pub supplier: String,
    /// The supplier's VAT number (11 digits) or fiscal code (16 characters).
    pub supplier_tax_id: String,
    pub invoice_number: String,
    pub invoice_date: String,
    pub category: String,
    pub description: String,
    pub amount_cents: Money,
    pub paid_on: String,
    /// The invoice and the proof of payment, by their SHA-256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<AttachedDocument>,
}

/// What an authority reports. Field order is the canonical order of the report's hash.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReportContent {
    pub expenses: Vec<Expense>,
    pub indicators: BTreeMap<String, IndicatorValue>,
    #[serde(default)]
    pub notes: String,
}

impl ReportContent {
    /// The canonical JSON (fields in declaration order) and its SHA-256: what the ledger's
    /// `report_submitted` names.
    pub fn canonical_json_and_sha256(&self) -> (String, String) {
        let json = serde_json::to_string(self).expect("a report serialises");
        let sha = hex::encode(Sha256::digest(json.as_bytes()));
        (json, sha)
    }

    /// The expenses as budget lines, to apply the call's eligibility rules to them.
    pub fn as_lines(&self) -> ApplicationContent {
        ApplicationContent {
            lines: self
                .expenses
                .iter()
                .map(|e| BudgetLine {
                    category: e.category.clone(),
                    description: e.description.clone(),
                    amount_cents: e.amount_cents,
                    service: None,
                })
                .collect(),
            ..ApplicationContent::default()
        }
    }
}

/// What the report is checked against, besides the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportBounds {
    /// The eligible amount the review admitted, by category.
    pub admitted_by_category: BTreeMap<String, Money>,
    /// The grant awarded (what the allocation reserved).
    pub award: Money,
    /// Invoices dated within these days (the project's period).
    pub from: Date,
    pub to: Date,
    /// Payments made by this day (the report's deadline).
    pub paid_by: Date,
    /// At submission every expense carries its invoice and proof of payment; a draft may not.
    pub require_documents: bool,
}

/// A report that passed every check, with its amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidReport {
    pub content: ReportContent,
    pub claimed: Money,
    pub claimed_by_category: BTreeMap<String, Money>,
    /// What the call's rules make eligible of what was claimed (e.g. the devices cap).
    pub eligible_claimed: Money,
    /// The grant the claimed expenses would give: never above the award.
    pub grant_claimed: Money,
}

/// Amounts of a report as typed, even when it has errors: the form shows them as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTotals {
    pub claimed: Money,
    pub claimed_by_category: BTreeMap<String, Money>,
    pub eligible_claimed: Money,
    pub grant_claimed: Money,
}

pub fn totals(content: &ReportContent, call: &Call, award: Money) -> ReportTotals {
    let mut by_category: BTreeMap<String, Money> = BTreeMap::new();
    let mut claimed = Money::ZERO;
    for e in &content.expenses {
        let c = by_category.entry(e.category.clone()).or_insert(Money::ZERO);
        *c = c.checked_add(e.amount_cents).unwrap_or(Money::MAX_AMOUNT);
        claimed = claimed
            .checked_add(e.amount_cents)
            .unwrap_or(Money::MAX_AMOUNT);
    }
    let (eligible, _) = eligible_cost_of(&content.as_lines(), call);
    ReportTotals {
        claimed,
        claimed_by_category: by_category,
        eligible_claimed: eligible,
        grant_claimed: call.grant_for(eligible).min(award),
    }
}

/// A one-line field as kept: no format nor control characters, trimmed.
fn clean_line(s: &str) -> String {
    strip_format_chars(s)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// Free text as kept: no format characters, control characters only as line breaks.
fn clean_text(s: &str) -> String {
    strip_format_chars(s)
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect::<String>()
        .trim()
        .to_string()
}

fn error(
    field: String,
    code: &'static str,
    it: impl Into<String>,
    en: impl Into<String>,
) -> FieldError {
    FieldError::new(field, code, it, en)
}

/// An Italian VAT number (partita IVA: 11 digits, the last a check digit) or a fiscal code
/// of a person (16 letters and digits) or of a body (11 digits, as a VAT number).
pub fn tax_id_is_valid(id: &str) -> bool {
    let id = id.trim();
    if id.len() == 11 && id.bytes().all(|b| b.is_ascii_digit()) {
        let d: Vec<u32> = id.bytes().map(|b| u32::from(b - b'0')).collect();
        let mut sum = 0;
        for (i, &x) in d[..10].iter().enumerate() {
            sum += if i % 2 == 0 {
                x
            } else {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            };
        }
        return (10 - sum % 10) % 10 == d[10];
    }
    id.len() == 16
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
        && id[..6].bytes().all(|b| b.is_ascii_alphabetic())
}

fn date(field: String, text: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
    match text.trim().parse::<Date>() {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(error(
                field,
                "invalid_date",
                "Data non valida: scrivere AAAA-MM-GG.",
                "Invalid date: write YYYY-MM-DD.",
            ));
            None
        }
    }
}

fn it_date(d: Date) -> String {
    d.strftime("%d/%m/%Y").to_string()
}

/// Checks a report against the call and its bounds; every problem at once, each named by
/// its field (`expenses.3.amount_cents`).
pub fn check_report(
    content: &ReportContent,
    call: &Call,
    bounds: &ReportBounds,
) -> Result<ValidReport, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut content = content.clone();
    if content.expenses.is_empty() && bounds.require_documents {
        errors.push(error(
            "expenses".into(),
            "no_expenses",
            "Inserire almeno una spesa.",
            "Enter at least one expense.",
        ));
    }
    if content.expenses.len() > MAX_EXPENSES {
        errors.push(error(
            "expenses".into(),
            "too_many_expenses",
            format!("Al massimo {MAX_EXPENSES} spese per rendiconto."),
            format!("At most {MAX_EXPENSES} expenses per report."),
        ));
    }
    let mut by_category: BTreeMap<String, Money> = BTreeMap::new();
    for (i, e) in content.expenses.iter_mut().enumerate() {
        let at = |name: &str| format!("expenses.{i}.{name}");
        for (name, value, required) in [
            ("supplier", &mut e.supplier, true),
            ("invoice_number", &mut e.invoice_number, true),
            ("description", &mut e.description, false),
        ] {
            *value = clean_line(value);
            if required && value.is_empty() {
                errors.push(error(
                    at(name),
                    "required",
                    "Campo obbligatorio.",
                    "Required.",
                ));
            } else if value.chars().count() > MAX_FIELD_CHARS {
                errors.push(error(
                    at(name),
                    "too_long",
                    format!("Al massimo {MAX_FIELD_CHARS} caratteri."),
                    format!("At most {MAX_FIELD_CHARS} characters."),
                ));
            }
        }
        e.supplier_tax_id = e.supplier_tax_id.trim().to_uppercase();
        if !tax_id_is_valid(&e.supplier_tax_id) {
            errors.push(error(
                at("supplier_tax_id"),
                "invalid_tax_id",
                "Partita IVA (11 cifre) o codice fiscale (16 caratteri) del fornitore non valido.",
                "The supplier's VAT number (11 digits) or fiscal code (16 characters) is not valid.",
            ));
        }
        let invoiced = date(at("invoice_date"), &e.invoice_date, &mut errors);
        if let Some(d) = invoiced
            && (d < bounds.from || d > bounds.to)
        {
            errors.push(error(
                at("invoice_date"),
                "outside_project",
                format!(
                    "La fattura deve essere datata nel periodo del progetto, dal {} al {}.",
                    it_date(bounds.from),
                    it_date(bounds.to)
                ),
                format!(
                    "The invoice must be dated within the project, from {} to {}.",
                    bounds.from, bounds.to
                ),
            ));
        }
        if let Some(paid) = date(at("paid_on"), &e.paid_on, &mut errors) {
            if invoiced.is_some_and(|d| paid < d) {
                errors.push(error(
                    at("paid_on"),
                    "paid_before_invoice",
                    "Il pagamento non può precedere la fattura.",
                    "The payment cannot come before the invoice.",
                ));
            } else if paid > bounds.paid_by {
                errors.push(error(
                    at("paid_on"),
                    "paid_too_late",
                    format!(
                        "Il pagamento deve avvenire entro il {}.",
                        it_date(bounds.paid_by)
                    ),
                    format!("The payment must be made by {}.", bounds.paid_by),
                ));
            }
        }
        if call.category(&e.category).is_none() {
            errors.push(error(
                at("category"),
                "unknown_category",
                "Categoria di spesa non prevista dal bando.",
                "A category of cost the call does not provide.",
            ));
        }
        if !e.amount_cents.is_positive() {
            errors.push(error(
                at("amount_cents"),
                "not_positive",
                "L'importo deve essere maggiore di zero.",
                "The amount must be above zero.",
            ));
        } else if let Some(admitted) = bounds.admitted_by_category.get(&e.category).copied().or(
            // A category the call has but the application did not ask for: nothing admitted.
            call.category(&e.category).map(|_| Money::ZERO),
        ) {
            let so_far = by_category.entry(e.category.clone()).or_insert(Money::ZERO);
            *so_far = so_far
                .checked_add(e.amount_cents)
                .unwrap_or(Money::MAX_AMOUNT);
            if *so_far > admitted {
                errors.push(error(
                    at("amount_cents"),
                    "above_admitted",
                    format!(
                        "Le spese della categoria superano quanto ammesso in istruttoria ({admitted})."
                    ),
                    format!(
                        "The category's expenses exceed what the review admitted ({}).",
                        admitted.in_locale(crate::i18n::Locale::En)
                    ),
                ));
            }
        }
        if bounds.require_documents {
            for (code, it, en) in [
                (INVOICE, "Allegare la fattura.", "Attach the invoice."),
                (
                    PROOF_OF_PAYMENT,
                    "Allegare la prova del pagamento.",
                    "Attach the proof of payment.",
                ),
            ] {
                if !e.documents.iter().any(|d| d.code == code) {
                    errors.push(error(at(code), "document_missing", it, en));
                }
            }
        }
    }
    for (code, value) in &content.indicators {
        let Some(ind) = call.indicators.iter().find(|i| i.code == *code) else {
            errors.push(error(
                format!("indicators.{code}"),
                "unknown_indicator",
                "Indicatore non previsto dal bando.",
                "An indicator the call does not provide.",
            ));
            continue;
        };
        if ind.kind == IndicatorKind::Integer
            && !matches!(value, IndicatorValue::Integer(n) if *n >= 0)
        {
            errors.push(error(
                format!("indicators.{code}"),
                "not_a_count",
                "Indicare un numero intero non negativo.",
                "Give a whole number, not negative.",
            ));
        }
    }
    content.notes = clean_text(&content.notes);
    if !errors.is_empty() {
        return Err(errors);
    }
    let t = totals(&content, call, bounds.award);
    Ok(ValidReport {
        content,
        claimed: t.claimed,
        claimed_by_category: t.claimed_by_category,
        eligible_claimed: t.eligible_claimed,
        grant_claimed: t.grant_claimed,
    })
}
