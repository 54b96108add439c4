//! The application form. What the person typed is kept as typed ([`FormInput`], also the
//! draft's content), read into an [`ApplicationContent`] (amounts the Italian way,
//! `52.500,00`) and checked against the call by the domain; every problem is tied to the
//! field it is about (`lines[2].amount_cents` is the third row's amount), so the page can
//! show them all at once, each next to its field.

use std::collections::BTreeMap;

use bandi_domain::application::{
    ApplicationContent, AttachedDocument, BudgetLine, Estimate, IndicatorValue, MAX_LINES,
    MAX_PRACTICES, Notice, ServiceLine, ValidApplication, estimate, unknown_service,
};
use bandi_domain::call::{Call, IndicatorKind};
use bandi_domain::i18n::{FieldError, Locale};
use bandi_domain::money::{Money, parse_count};
use bandi_domain::service::{Catalogue, MAX_QUANTITY};
use serde::{Deserialize, Serialize};

/// Rows of budget lines the form shows at least.
pub(crate) const MIN_ROWS: usize = 6;

/// The form as the person filled it in: every value a string, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct FormInput {
    pub title: String,
    pub summary: String,
    /// The rows up to the last one filled in; empty rows in between keep their place.
    pub lines: Vec<LineInput>,
    /// By indicator code, only the call's indicators.
    pub indicators: BTreeMap<String, String>,
    /// The good practices ticked, by number.
    pub practices: Vec<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct LineInput {
    pub category: String,
    pub description: String,
    pub amount: String,
    /// The catalogue service the row buys (its code), or empty for a row written by hand.
    pub service: String,
    /// How many units of the service, as typed.
    pub quantity: String,
}

impl LineInput {
    fn is_empty(&self) -> bool {
        self.category.trim().is_empty()
            && self.description.trim().is_empty()
            && self.amount.trim().is_empty()
            && self.service.trim().is_empty()
    }

    /// The quantity of a catalogue row, when it reads as one the catalogue can sell.
    fn units(&self) -> Option<u32> {
        parse_count(self.quantity.trim())
            .and_then(|q| u32::try_from(q).ok())
            .filter(|q| (1..=MAX_QUANTITY).contains(q))
    }
}

/// Why a service could not be added to the form from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotAdded {
    /// `add-service`, `add-quantity` or `add-category`: the control to fix.
    pub control: &'static str,
    pub error: FieldError,
    /// What was chosen in each of the three controls, to show it again.
    pub typed: [(&'static str, String); 3],
}

/// The outcome of checking a form.
pub(crate) struct Checked {
    /// The application, when there is nothing to fix.
    pub valid: Option<ValidApplication>,
    /// Every problem, with paths that name the form's rows, in the order of the form.
    pub errors: Vec<FieldError>,
    /// The sum of the amounts that could be read.
    pub total: Money,
    /// The amounts of the lines that can be counted, even when the form is not complete;
    /// notices name the form's rows.
    pub estimate: Estimate,
}

impl FormInput {
    /// Reads the posted fields: `title`, `summary`, `line-N-category`, `line-N-description`,
    /// `line-N-amount` and `ind-CODE`. Other fields are ignored.
    pub fn from_fields(fields: &[(String, String)], call: &Call) -> FormInput {
        let mut f = FormInput::default();
        for (k, v) in fields {
            // What people type is kept without format characters (bidi overrides,
            // zero-width), in the draft as in the application.
            let v = &bandi_domain::text::strip_format_chars(v).into_owned();
            match k.as_str() {
                "title" => f.title = v.clone(),
                "summary" => f.summary = v.clone(),
                _ => {
                    if let Some(rest) = k.strip_prefix("line-") {
                        let Some((i, part)) = rest.split_once('-') else {
                            continue;
                        };
                        let Ok(i) = i.parse::<usize>() else { continue };
                        if i >= MAX_LINES {
                            continue;
                        }
                        if f.lines.len() <= i {
                            f.lines.resize(i + 1, LineInput::default());
                        }
                        let line = &mut f.lines[i];
                        match part {
                            "category" => line.category = v.clone(),
                            "description" => line.description = v.clone(),
                            "amount" => line.amount = v.clone(),
                            "service" => line.service = v.trim().to_string(),
                            "quantity" => line.quantity = v.clone(),
                            _ => {}
                        }
                    } else if k == "practice" {
                        if let Ok(n) = v.trim().parse::<u64>()
                            && n > 0
                            && !f.practices.contains(&n)
                            && f.practices.len() < MAX_PRACTICES
                        {
                            f.practices.push(n);
                        }
                    } else if let Some(code) = k.strip_prefix("ind-")
                        && call.indicators.iter().any(|i| i.code == code)
                    {
                        f.indicators.insert(code.to_string(), v.clone());
                    }
                }
            }
        }
        while f.lines.last().is_some_and(LineInput::is_empty) {
            f.lines.pop();
        }
        f
    }

    /// The amounts that read as money written back the way the form writes them
    /// (`25.000` → `25.000,00`), so that people see what was understood; the others stay
    /// as typed, next to their error.
    pub fn normalised(mut self) -> FormInput {
        for line in &mut self.lines {
            if let Ok(m) = Money::parse_euros(line.amount.trim()) {
                line.amount = form_amount(m);
            }
        }
        self
    }

    /// The rows bought from the catalogue priced by it: quantity × unit price, written the
    /// way the form writes amounts. Rows whose service or quantity is wrong stay as typed.
    pub fn priced(mut self, catalogue: Option<&Catalogue>) -> FormInput {
        for line in &mut self.lines {
            if let Some(s) = catalogue.and_then(|c| c.service(&line.service))
                && let Some(m) = line.units().and_then(|q| s.price_of(q))
            {
                line.amount = form_amount(m);
            }
        }
        self
    }

    /// Adds a row that buys `quantity` of catalogue service `code` under `category`, in
    /// the first empty row; its number (0-based).
    pub fn add_service(
        &mut self,
        catalogue: Option<&Catalogue>,
        code_typed: &str,
        quantity: &str,
        category: &str,
        call: &Call,
        locale: Locale,
    ) -> Result<usize, Box<NotAdded>> {
        let not = |control, code, it: String, en: String| {
            Box::new(NotAdded {
                control,
                error: FieldError::new(control, code, it, en),
                typed: [
                    ("add-service", code_typed.to_string()),
                    ("add-quantity", quantity.to_string()),
                    ("add-category", category.to_string()),
                ],
            })
        };
        let Some(service) = catalogue.and_then(|c| c.service(code_typed.trim())) else {
            return Err(not(
                "add-service",
                "required",
                "Scegliere un servizio del catalogo.".into(),
                "Choose a service of the catalogue.".into(),
            ));
        };
        let line = LineInput {
            quantity: quantity.trim().to_string(),
            ..LineInput::default()
        };
        let Some(units) = line.units() else {
            return Err(not(
                "add-quantity",
                "quantity_out_of_range",
                format!("Indicare la quantità con un numero intero da 1 a {MAX_QUANTITY}."),
                format!("Enter the quantity as a whole number from 1 to {MAX_QUANTITY}."),
            ));
        };
        if call.category(category.trim()).is_none() {
            return Err(not(
                "add-category",
                "required",
                "Scegliere la categoria di spesa della voce.".into(),
                "Choose the cost category of the line.".into(),
            ));
        }
        let Some(amount) = service.price_of(units) else {
            return Err(not(
                "add-quantity",
                "too_large",
                "La quantità è troppo grande.".into(),
                "The quantity is too large.".into(),
            ));
        };
        let row = self
            .lines
            .iter()
            .position(LineInput::is_empty)
            .unwrap_or(self.lines.len());
        if row >= MAX_LINES {
            return Err(not(
                "add-service",
                "too_many",
                format!("Al massimo {MAX_LINES} voci di spesa."),
                format!("At most {MAX_LINES} budget lines."),
            ));
        }
        if self.lines.len() <= row {
            self.lines.resize(row + 1, LineInput::default());
        }
        self.lines[row] = LineInput {
            category: category.trim().to_string(),
            description: service.line_description(units, locale),
            amount: form_amount(amount),
            service: service.code.clone(),
            quantity: units.to_string(),
        };
        Ok(row)
    }

    /// A saved draft; one that cannot be read (written by an older version) is an empty form.
    pub fn from_draft(json: &str) -> FormInput {
        serde_json::from_str(json).unwrap_or_default()
    }

    pub fn to_draft(&self) -> String {
        serde_json::to_string(self).expect("a form serialises")
    }

    /// How many rows the form shows: the filled ones, two empty ones, at least [`MIN_ROWS`].
    pub fn rows(&self) -> usize {
        (self.lines.len() + 2).clamp(MIN_ROWS, MAX_LINES)
    }

    /// Reads the content and checks it against the call: the form's own problems
    /// (unreadable amounts, missing categories) and the domain's, all at once. The
    /// documents are those kept for the draft, not typed: they come from the store.
    pub fn check(
        &self,
        call: &Call,
        attached: &[AttachedDocument],
        catalogue: Option<&Catalogue>,
    ) -> Checked {
        let mut errors = Vec::new();
        let mut content = ApplicationContent {
            title: self.title.clone(),
            summary: self.summary.clone(),
            attachments: attached.to_vec(),
            practices: self.practices.clone(),
            ..ApplicationContent::default()
        };
        // For each line of the content, the form row it came from.
        let mut rows = Vec::new();
        let mut total = Money::ZERO;
        for (i, line) in self.lines.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let category = line.category.trim();
            if category.is_empty() {
                errors.push(FieldError::new(
                    format!("lines[{i}].category"),
                    "required",
                    "Scegliere la categoria di spesa.",
                    "Choose the cost category.",
                ));
            }
            // A catalogue row: its amount is the catalogue's price of its quantity.
            let (service, priced) = match line.service.trim() {
                "" => (None, None),
                code => {
                    match (catalogue.and_then(|c| c.service(code)), line.units()) {
                        (None, _) => {
                            errors.push(unknown_service(&format!("lines[{i}].service.code"), code));
                            (None, None)
                        }
                        (Some(_), None) => {
                            errors.push(FieldError::new(
                            format!("lines[{i}].service.quantity"),
                            "quantity_out_of_range",
                            format!("Indicare la quantità con un numero intero da 1 a {MAX_QUANTITY}."),
                            format!("Enter the quantity as a whole number from 1 to {MAX_QUANTITY}."),
                        ));
                            (None, None)
                        }
                        (Some(s), Some(q)) => (
                            Some(ServiceLine {
                                code: s.code.clone(),
                                quantity: q,
                                unit_price_cents: s.unit_price,
                            }),
                            s.price_of(q),
                        ),
                    }
                }
            };
            let typed = line.amount.trim();
            let amount = if let Some(m) = priced {
                Some(m)
            } else if !line.service.trim().is_empty() {
                None
            } else if typed.is_empty() {
                errors.push(FieldError::new(
                    format!("lines[{i}].amount_cents"),
                    "required",
                    "Indicare l'importo in euro, per esempio 52.500,00.",
                    "Enter the amount in euro, for example 52.500,00.",
                ));
                None
            } else {
                match Money::parse_euros(typed) {
                    Ok(m) => Some(m),
                    Err(_) => {
                        errors.push(FieldError::new(
                            format!("lines[{i}].amount_cents"),
                            "invalid_amount",
                            format!(
                                "«{typed}» non è un importo in euro: scrivere per esempio 52.500,00."
                            ),
                            format!(
                                "«{typed}» is not an amount in euro: write for example 52.500,00."
                            ),
                        ));
                        None
                    }
                }
            };
            if let Some(m) = amount {
                if m.is_positive() {
                    total = total.checked_add(m).unwrap_or(total);
                }
                if !category.is_empty() {
                    content.lines.push(BudgetLine {
                        category: category.to_string(),
                        description: line.description.trim().to_string(),
                        amount_cents: m,
                        service,
                    });
                    rows.push(i);
                }
            }
        }
        for ind in &call.indicators {
            let typed = self
                .indicators
                .get(&ind.code)
                .map(|s| s.trim())
                .unwrap_or("");
            if typed.is_empty() {
                continue;
            }
            let value = match ind.kind {
                IndicatorKind::Integer => match parse_count(typed) {
                    Some(n) => IndicatorValue::Integer(n),
                    None => {
                        errors.push(FieldError::new(
                            format!("indicators.{}", ind.code),
                            "not_integer",
                            format!("«{typed}» non è un numero intero: scrivere per esempio 180."),
                            format!("«{typed}» is not a whole number: write for example 180."),
                        ));
                        continue;
                    }
                },
                IndicatorKind::Text => IndicatorValue::Text(typed.to_string()),
            };
            content.indicators.insert(ind.code.clone(), value);
        }
        let own_problems = !errors.is_empty();
        let own_fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
        let some_row_filled = self.lines.iter().any(|l| !l.is_empty());
        let mut estimate = estimate(&content, call);
        for n in &mut estimate.notices {
            n.field = remap(&n.field, &rows);
        }
        let valid = match content.validate(call) {
            Ok(v) if !own_problems => Some(v),
            Ok(_) => None,
            Err(list) => {
                for e in list {
                    // «at least one line» is wrong when the rows are there but unreadable,
                    // and «required» when what was typed could not be read.
                    if some_row_filled && e.field == "lines" && e.code == "required" {
                        continue;
                    }
                    let field = remap(&e.field, &rows);
                    if own_fields.contains(&field) {
                        continue;
                    }
                    errors.push(FieldError { field, ..e });
                }
                None
            }
        };
        let order = |e: &FieldError| position(&e.field, call);
        errors.sort_by_key(order);
        Checked {
            valid,
            errors,
            total,
            estimate,
        }
    }
}

/// An amount the way the form writes it: `52.500,00`.
fn form_amount(m: Money) -> String {
    let shown = m.to_string();
    shown.strip_suffix(" €").unwrap_or(&shown).to_string()
}

/// `lines[K]…` of the content is `lines[ROW]…` of the form.
fn remap(field: &str, rows: &[usize]) -> String {
    if let Some(rest) = field.strip_prefix("lines[")
        && let Some((k, tail)) = rest.split_once(']')
        && let Ok(k) = k.parse::<usize>()
        && let Some(row) = rows.get(k)
    {
        return format!("lines[{row}]{tail}");
    }
    field.to_string()
}

/// Where a field comes in the form, to list problems in the order a person reads them.
fn position(field: &str, call: &Call) -> (u8, usize, u8) {
    match field {
        "title" => (0, 0, 0),
        "summary" => (1, 0, 0),
        "lines" => (3, 0, 0),
        _ => {
            if let Some(rest) = field.strip_prefix("lines[")
                && let Some((k, tail)) = rest.split_once(']')
            {
                let part = match tail {
                    ".category" | "" => 0,
                    ".description" => 1,
                    _ => 2,
                };
                return (2, k.parse().unwrap_or(usize::MAX), part);
            }
            if let Some(code) = field.strip_prefix("indicators.") {
                let i = call
                    .indicators
                    .iter()
                    .position(|i| i.code == code)
                    .unwrap_or(usize::MAX);
                return (4, i, 0);
            }
            if let Some(code) = field.strip_prefix("attachments.") {
                let i = call
                    .attachments
                    .iter()
                    .position(|a| a.code == code)
                    .unwrap_or(usize::MAX);
                return (6, i, 0);
            }
            if field.starts_with("practices") {
                return (5, 0, 0);
            }
            (7, 0, 0)
        }
    }
}

/// A notice as the amounts box lists it: a line's notice names the form's row.
pub(crate) fn notice_text(n: &Notice, locale: Locale) -> String {
    let text = n.text.get(locale);
    if let Some(rest) = n.field.strip_prefix("lines[")
        && let Some((k, _)) = rest.split_once(']')
        && let Ok(k) = k.parse::<usize>()
    {
        let row = match locale {
            Locale::It => "Riga",
            Locale::En => "Line",
        };
        return format!("{row} {}: {text}", k + 1);
    }
    text.to_string()
}

/// The id of the form control a field path is about.
pub(crate) fn control_id(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("lines[")
        && let Some((k, tail)) = rest.split_once(']')
    {
        let part = match tail {
            ".description" => "description",
            ".amount_cents" => "amount",
            t if t.starts_with(".service") => "quantity",
            _ => "category",
        };
        return format!("line-{k}-{part}");
    }
    if field.starts_with("practices") {
        return "practices".to_string();
    }
    if let Some(code) = field.strip_prefix("indicators.") {
        return format!("ind-{code}");
    }
    if let Some(code) = field.strip_prefix("attachments.") {
        return format!("att-{code}");
    }
    match field {
        "title" | "summary" | "lines" => field.to_string(),
        _ => "application-form".to_string(),
    }
}

/// What a field is called on the form, for the error summary: "Riga 3 — Categoria di
/// spesa", the indicator's or the attachment's label.
pub(crate) fn field_label(field: &str, call: &Call, locale: Locale) -> Option<String> {
    let t = |it: &str, en: &str| match locale {
        Locale::It => it.to_string(),
        Locale::En => en.to_string(),
    };
    if let Some(rest) = field.strip_prefix("lines[")
        && let Some((k, tail)) = rest.split_once(']')
    {
        let n = k.parse::<usize>().ok()? + 1;
        let row = t("Riga", "Row");
        let part = match tail {
            ".category" => t("Categoria di spesa", "Cost category"),
            ".description" => t("Descrizione", "Description"),
            ".amount_cents" => t("Importo", "Amount"),
            x if x.starts_with(".service") => {
                t("Quantità dal catalogo", "Quantity from the catalogue")
            }
            _ => return Some(format!("{row} {n}")),
        };
        return Some(format!("{row} {n} — {part}"));
    }
    if let Some(code) = field.strip_prefix("indicators.") {
        return call
            .indicators
            .iter()
            .find(|i| i.code == code)
            .map(|i| i.label.get(locale).to_string());
    }
    if let Some(code) = field.strip_prefix("attachments.") {
        return call
            .attachments
            .iter()
            .find(|a| a.code == code)
            .map(|a| a.label.get(locale).to_string());
    }
    match field {
        "title" => Some(t("Titolo del progetto", "Title of the project")),
        "summary" => Some(t("Sintesi del progetto", "Summary of the project")),
        "lines" => Some(t("Voci di spesa", "Cost lines")),
        f if f.starts_with("practices") => {
            Some(t("Buone pratiche riusate", "Good practices reused"))
        }
        _ => None,
    }
}

/// "Riga 3 — Categoria di spesa: scegliere la categoria di spesa." The field's name, then
/// its problem.
pub(crate) fn labelled(label: Option<String>, message: &str) -> String {
    match label {
        Some(label) => {
            let mut chars = message.chars();
            let message = match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect::<String>(),
                None => String::new(),
            };
            format!("{label}: {message}")
        }
        None => message.to_string(),
    }
}

/// "Mancano 3 elementi" / "Manca 1 elemento": what a draft lacks, in a few words (the form's
/// completeness check, its bar, the dashboard).
pub(crate) fn missing_words(n: usize, locale: Locale) -> String {
    match (locale, n) {
        (Locale::It, 1) => "Manca 1 elemento".to_string(),
        (Locale::It, n) => format!("Mancano {n} elementi"),
        (Locale::En, 1) => "1 item missing".to_string(),
        (Locale::En, n) => format!("{n} items missing"),
    }
}

/// Each problem as a link to its field, named: the error summary, the completeness check.
pub(crate) fn error_links(errors: &[FieldError], call: &Call, locale: Locale) -> Vec<ErrorLink> {
    errors
        .iter()
        .map(|e| ErrorLink {
            href: format!("#{}", control_id(&e.field)),
            message: labelled(field_label(&e.field, call, locale), e.message(locale)),
        })
        .collect()
}

mod caps;
mod view;

pub(crate) use caps::caps_in_words;

pub(crate) use view::{ErrorLink, FieldView, FormView};

#[cfg(test)]
mod tests;
