//! An application's content, read from JSON or a form, and its validation against a call.
//! Every problem is reported at once, each with a field path, a stable code and a text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::call::{Call, IndicatorKind};
use crate::i18n::{FieldError, Locale, Text};
use crate::money::Money;

pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_SUMMARY_CHARS: usize = 20_000;
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;
pub const MAX_LINES: usize = 200;
pub const MAX_INDICATOR_TEXT_CHARS: usize = 2_000;

/// What an applicant sends. Field order here is the canonical order of the content hash.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApplicationContent {
    pub title: String,
    pub summary: String,
    pub lines: Vec<BudgetLine>,
    pub indicators: BTreeMap<String, IndicatorValue>,
    /// The documents attached, by the call's attachment code, with the SHA-256 of their
    /// bytes, so that the content hash covers them. Left out of the canonical JSON when
    /// empty: contents without attachments keep the hash they always had.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachedDocument>,
}

/// A document attached to an application: which of the call's attachments it is, and the
/// SHA-256 (lower-case hex) of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedDocument {
    pub code: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub category: String,
    pub description: String,
    pub amount_cents: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IndicatorValue {
    Integer(i64),
    Text(String),
}

/// Something the applicant should know that is not an error: a part of the cost that is
/// not eligible, and why. Shown before submission and on the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub field: String,
    pub code: String,
    pub text: Text,
    pub amount: Money,
}

/// Content that passed every check, with the amounts it implies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidApplication {
    pub content: ApplicationContent,
    pub total_cost: Money,
    pub eligible_cost: Money,
    pub requested: Money,
    pub notices: Vec<Notice>,
}

impl ApplicationContent {
    /// Reads the JSON body of the API. Wrong types, unknown fields and missing fields are
    /// errors; a field that cannot be read is left out, so that the call's rules can still
    /// check the rest and every problem is listed at once.
    pub fn from_json(value: &Value) -> (ApplicationContent, Vec<FieldError>) {
        let (content, errors, _, _) = Self::read_json(value);
        (content, errors)
    }

    /// Also returns, for each line kept, its index in the JSON array, so that later errors
    /// name the line the applicant sent.
    #[allow(clippy::type_complexity)]
    fn read_json(
        value: &Value,
    ) -> (
        ApplicationContent,
        Vec<FieldError>,
        Vec<usize>,
        Vec<(usize, String)>,
    ) {
        let mut errors = Vec::new();
        let mut line_index = Vec::new();
        // Lines dropped for a bad field still have their category checked.
        let mut dropped = Vec::new();
        let mut content = ApplicationContent::default();
        let Some(obj) = value.as_object() else {
            errors.push(wrong_type("", "un oggetto JSON", "a JSON object"));
            return (content, errors, line_index, dropped);
        };
        for key in obj.keys() {
            if !["title", "summary", "lines", "indicators"].contains(&key.as_str()) {
                errors.push(unknown_field(key));
            }
        }
        match obj.get("title") {
            Some(Value::String(s)) => content.title = s.clone(),
            Some(_) => errors.push(wrong_type("title", "un testo", "a string")),
            None => {}
        }
        match obj.get("summary") {
            Some(Value::String(s)) => content.summary = s.clone(),
            Some(Value::Null) | None => {}
            Some(_) => errors.push(wrong_type("summary", "un testo", "a string")),
        }
        match obj.get("lines") {
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match read_line(i, item, &mut errors) {
                        Some(line) => {
                            content.lines.push(line);
                            line_index.push(i);
                        }
                        None => {
                            if let Some(c) = item.get("category").and_then(Value::as_str) {
                                dropped.push((i, c.to_string()));
                            }
                        }
                    }
                }
            }
            Some(_) => errors.push(wrong_type("lines", "un elenco", "an array")),
            None => {}
        }
        match obj.get("indicators") {
            Some(Value::Object(map)) => {
                for (k, v) in map {
                    let field = format!("indicators.{k}");
                    match v {
                        Value::Number(n) => match n.as_i64() {
                            Some(i) => {
                                content
                                    .indicators
                                    .insert(k.clone(), IndicatorValue::Integer(i));
                            }
                            None => {
                                errors.push(wrong_type(&field, "un numero intero", "an integer"))
                            }
                        },
                        Value::String(s) => {
                            content
                                .indicators
                                .insert(k.clone(), IndicatorValue::Text(s.clone()));
                        }
                        _ => errors.push(wrong_type(
                            &field,
                            "un numero intero o un testo",
                            "an integer or a string",
                        )),
                    }
                }
            }
            Some(Value::Null) | None => {}
            Some(_) => errors.push(wrong_type("indicators", "un oggetto", "an object")),
        }
        (content, errors, line_index, dropped)
    }

    /// The canonical bytes of the content: compact JSON, fields in declaration order,
    /// indicators sorted by code.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("content serialises")
    }

    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// Checks the content against the call's rules and computes the amounts.
    pub fn validate(self, call: &Call) -> Result<ValidApplication, Vec<FieldError>> {
        let index = (0..self.lines.len()).collect();
        validate(self, call, Vec::new(), index)
    }
}

/// The amounts of an application still being written: the lines that can be counted
/// (a category of the call, an amount above zero) go through the very computation of
/// [`ApplicationContent::validate`], so what the form shows as the person types is what
/// the submission will get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// Every amount above zero.
    pub total_cost: Money,
    pub eligible_cost: Money,
    pub requested: Money,
    /// As in [`ValidApplication::notices`], `lines[i]` naming the content's lines.
    pub notices: Vec<Notice>,
}

pub fn estimate(content: &ApplicationContent, call: &Call) -> Estimate {
    let counted =
        |l: &BudgetLine| l.amount_cents.is_positive() && l.amount_cents <= Money::MAX_AMOUNT;
    // At most MAX_LINES × MAX_AMOUNT: far from overflowing.
    let total_cost = Money::from_cents(
        content
            .lines
            .iter()
            .filter(|l| counted(l))
            .map(|l| l.amount_cents.cents())
            .sum(),
    );
    let mut index = Vec::new();
    let mut lines = Vec::new();
    for (i, l) in content.lines.iter().enumerate().take(MAX_LINES) {
        if counted(l) && call.category(&l.category).is_some() {
            index.push(i);
            lines.push(l.clone());
        }
    }
    let kept = ApplicationContent {
        lines,
        ..ApplicationContent::default()
    };
    let (eligible_cost, mut notices) = eligible_cost(&kept, call);
    for n in &mut notices {
        if let Some(rest) = n.field.strip_prefix("lines[")
            && let Some((k, tail)) = rest.split_once(']')
            && let Some(i) = k.parse::<usize>().ok().and_then(|k| index.get(k))
        {
            n.field = format!("lines[{i}]{tail}");
        }
    }
    Estimate {
        total_cost,
        eligible_cost,
        requested: call.grant_for(eligible_cost),
        notices,
    }
}

/// Reads JSON and checks it against the call, reporting every problem of both kinds.
pub fn parse_and_validate(value: &Value, call: &Call) -> Result<ValidApplication, Vec<FieldError>> {
    let (content, mut errors, index, dropped) = ApplicationContent::read_json(value);
    for (i, category) in dropped {
        if call.category(&category).is_none() {
            errors.push(unknown_category(
                &format!("lines[{i}].category"),
                &category,
                call,
            ));
        }
    }
    validate(content, call, errors, index)
}

fn read_line(i: usize, item: &Value, errors: &mut Vec<FieldError>) -> Option<BudgetLine> {
    let path = format!("lines[{i}]");
    let Some(obj) = item.as_object() else {
        errors.push(wrong_type(&path, "un oggetto", "an object"));
        return None;
    };
    let before = errors.len();
    for key in obj.keys() {
        if !["category", "description", "amount_cents"].contains(&key.as_str()) {
            errors.push(unknown_field(&format!("{path}.{key}")));
        }
    }
    let category = match obj.get("category") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(wrong_type(
                &format!("{path}.category"),
                "un testo",
                "a string",
            ));
            None
        }
        None => {
            errors.push(required(&format!("{path}.category")));
            None
        }
    };
    let description = match obj.get("description") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => Some(String::new()),
        Some(_) => {
            errors.push(wrong_type(
                &format!("{path}.description"),
                "un testo",
                "a string",
            ));
            None
        }
    };
    let field = format!("{path}.amount_cents");
    let amount = match obj.get("amount_cents") {
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => match n.as_i64() {
            Some(c) => Some(Money::from_cents(c)),
            None => {
                errors.push(too_large(&field));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new(
                &field,
                "wrong_type",
                "L'importo va indicato in centesimi di euro, come numero intero (es. 5000000 per 50.000,00 €).",
                "The amount must be a whole number of euro cents (e.g. 5000000 for 50,000.00 €).",
            ));
            None
        }
        None => {
            errors.push(required(&field));
            None
        }
    };
    if errors.len() > before {
        return None;
    }
    Some(BudgetLine {
        category: category?,
        description: description?,
        amount_cents: amount?,
    })
}

fn validate(
    content: ApplicationContent,
    call: &Call,
    mut errors: Vec<FieldError>,
    line_index: Vec<usize>,
) -> Result<ValidApplication, Vec<FieldError>> {
    let shape_ok = errors.is_empty();
    check_text(
        &mut errors,
        "title",
        &content.title,
        MAX_TITLE_CHARS,
        true,
        false,
    );
    check_text(
        &mut errors,
        "summary",
        &content.summary,
        MAX_SUMMARY_CHARS,
        false,
        true,
    );
    if content.lines.is_empty() && shape_ok {
        errors.push(FieldError::new(
            "lines",
            "required",
            "Inserire almeno una voce di spesa.",
            "Enter at least one budget line.",
        ));
    }
    if content.lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "lines",
            "too_many",
            format!("Al massimo {MAX_LINES} voci di spesa."),
            format!("At most {MAX_LINES} budget lines."),
        ));
    }
    for (line, i) in content.lines.iter().zip(line_index) {
        let path = format!("lines[{i}]");
        if call.category(&line.category).is_none() {
            errors.push(unknown_category(
                &format!("{path}.category"),
                &line.category,
                call,
            ));
        }
        check_text(
            &mut errors,
            &format!("{path}.description"),
            &line.description,
            MAX_DESCRIPTION_CHARS,
            false,
            false,
        );
        let amount = line.amount_cents;
        if !amount.is_positive() {
            errors.push(FieldError::new(
                format!("{path}.amount_cents"),
                "amount_not_positive",
                "L'importo deve essere maggiore di zero.",
                "The amount must be greater than zero.",
            ));
        } else if amount > Money::MAX_AMOUNT {
            errors.push(too_large(&format!("{path}.amount_cents")));
        }
    }
    check_indicators(&mut errors, &content, call);
    check_attachments(&mut errors, &content, call);

    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(total_cost) = Money::checked_sum(content.lines.iter().map(|l| l.amount_cents))
        .filter(|t| *t <= Money::MAX_AMOUNT)
    else {
        return Err(vec![FieldError::new(
            "lines",
            "sum_overflow",
            "La somma degli importi è troppo grande.",
            "The sum of the amounts is too large.",
        )]);
    };
    let (eligible_cost, notices) = eligible_cost(&content, call);
    if !eligible_cost.is_positive() {
        errors.push(FieldError::new(
            "lines",
            "no_eligible_cost",
            "Nessuna spesa ammissibile: la domanda non può essere finanziata.",
            "No eligible cost: the application cannot be funded.",
        ));
    }
    if let Some(min) = call.min_cost
        && eligible_cost < min
    {
        errors.push(FieldError::new(
            "lines",
            "below_min_cost",
            format!(
                "La spesa ammissibile ({eligible_cost}) è inferiore al minimo del bando ({min})."
            ),
            format!(
                "The eligible cost ({}) is below the call's minimum ({}).",
                eligible_cost.in_locale(Locale::En),
                min.in_locale(Locale::En)
            ),
        ));
    }
    if let Some(max) = call.max_cost
        && eligible_cost > max
    {
        errors.push(FieldError::new(
            "lines",
            "above_max_cost",
            format!("La spesa ammissibile ({eligible_cost}) supera il massimo del bando ({max})."),
            format!(
                "The eligible cost ({}) is above the call's maximum ({}).",
                eligible_cost.in_locale(Locale::En),
                max.in_locale(Locale::En)
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidApplication {
        requested: call.grant_for(eligible_cost),
        content,
        total_cost,
        eligible_cost,
        notices,
    })
}

/// The eligible cost: lines of eligible categories, with each capped category admitted up
/// to its share of the final eligible cost. With share `s` and other eligible cost `B`,
/// the admitted part `x` must satisfy `x <= s × (B + x)`, i.e. `x <= s × B / (1 − s)`.
/// Capped categories are taken in the call's order, each on the base admitted so far, so
/// each stays within its share of the final total.
fn eligible_cost(content: &ApplicationContent, call: &Call) -> (Money, Vec<Notice>) {
    let mut notices = Vec::new();
    let mut per_category: BTreeMap<&str, i64> = BTreeMap::new();
    for (i, line) in content.lines.iter().enumerate() {
        let Some(cat) = call.category(&line.category) else {
            continue;
        };
        if cat.eligible {
            *per_category.entry(cat.code.as_str()).or_default() += line.amount_cents.cents();
        } else {
            notices.push(Notice {
                field: format!("lines[{i}]"),
                code: "category_not_eligible".into(),
                text: Text::new(
                    format!("La categoria «{}» non è ammissibile: {} non entrano nel costo ammissibile.", cat.label.it, line.amount_cents),
                    format!("The category «{}» is not eligible: {} are left out of the eligible cost.", cat.label.en, line.amount_cents.in_locale(Locale::En)),
                ),
                amount: line.amount_cents,
            });
        }
    }
    let mut base: i64 = call
        .categories
        .iter()
        .filter(|c| c.eligible && c.max_share.is_none())
        .map(|c| per_category.get(c.code.as_str()).copied().unwrap_or(0))
        .sum();
    for cat in call.categories.iter().filter(|c| c.eligible) {
        let Some(share) = cat.max_share else { continue };
        let asked = per_category.get(cat.code.as_str()).copied().unwrap_or(0);
        if asked == 0 {
            continue;
        }
        let bp = i128::from(share.bp());
        let allowed = if bp >= 10_000 {
            i128::from(asked)
        } else {
            i128::from(base) * bp / (10_000 - bp)
        };
        let admitted = i128::from(asked).min(allowed) as i64;
        if admitted < asked {
            let cut = Money::from_cents(asked - admitted);
            notices.push(Notice {
                field: format!("categories.{}", cat.code),
                code: "share_cap_exceeded".into(),
                text: Text::new(
                    format!(
                        "La categoria «{}» è ammissibile fino al {} del costo ammissibile: {} oltre il limite non sono ammissibili.",
                        cat.label.it, share, cut
                    ),
                    format!(
                        "The category «{}» is eligible up to {} of the eligible cost: {} above the cap are not eligible.",
                        cat.label.en, share, cut.in_locale(Locale::En)
                    ),
                ),
                amount: cut,
            });
        }
        base += admitted;
    }
    (Money::from_cents(base), notices)
}

fn check_indicators(errors: &mut Vec<FieldError>, content: &ApplicationContent, call: &Call) {
    for (code, value) in &content.indicators {
        let field = format!("indicators.{code}");
        let Some(ind) = call.indicators.iter().find(|i| i.code == *code) else {
            errors.push(FieldError::new(
                field,
                "unknown_indicator",
                format!("Indicatore «{code}» non previsto dal bando."),
                format!("Indicator «{code}» is not collected by this call."),
            ));
            continue;
        };
        match (ind.kind, value) {
            (IndicatorKind::Integer, IndicatorValue::Integer(n)) if *n < 0 => {
                errors.push(FieldError::new(
                    field,
                    "negative",
                    format!("«{}» non può essere negativo.", ind.label.it),
                    format!("«{}» cannot be negative.", ind.label.en),
                ))
            }
            (IndicatorKind::Integer, IndicatorValue::Integer(_)) => {}
            (IndicatorKind::Integer, IndicatorValue::Text(_)) => {
                errors.push(wrong_type(&field, "un numero intero", "an integer"))
            }
            (IndicatorKind::Text, IndicatorValue::Text(s)) => {
                check_text(errors, &field, s, MAX_INDICATOR_TEXT_CHARS, false, true)
            }
            (IndicatorKind::Text, IndicatorValue::Integer(_)) => {
                errors.push(wrong_type(&field, "un testo", "a string"))
            }
        }
    }
    for ind in call.indicators.iter().filter(|i| i.required) {
        if !content.indicators.contains_key(&ind.code) {
            errors.push(FieldError::new(
                format!("indicators.{}", ind.code),
                "required",
                format!("Indicare «{}».", ind.label.it),
                format!("«{}» is required.", ind.label.en),
            ));
        }
    }
}

fn check_attachments(errors: &mut Vec<FieldError>, content: &ApplicationContent, call: &Call) {
    for (i, doc) in content.attachments.iter().enumerate() {
        let field = format!("attachments.{}", doc.code);
        if !call.attachments.iter().any(|a| a.code == doc.code) {
            errors.push(FieldError::new(
                field,
                "unknown_attachment",
                format!("Allegato «{}» non previsto dal bando.", doc.code),
                format!("Attachment «{}» is not asked for by this call.", doc.code),
            ));
            continue;
        }
        if content.attachments[..i].iter().any(|d| d.code == doc.code) {
            errors.push(FieldError::new(
                field,
                "duplicate_attachment",
                format!("Allegato «{}» indicato più volte.", doc.code),
                format!("Attachment «{}» given more than once.", doc.code),
            ));
            continue;
        }
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if doc.sha256.len() != 64 || !doc.sha256.bytes().all(hex) {
            errors.push(FieldError::new(
                field,
                "bad_sha256",
                "L'impronta SHA-256 dell'allegato non è valida (64 cifre esadecimali minuscole).",
                "The attachment's SHA-256 is not valid (64 lower-case hexadecimal digits).",
            ));
        }
    }
    for a in call.attachments.iter().filter(|a| a.required) {
        if !content.attachments.iter().any(|d| d.code == a.code) {
            errors.push(FieldError::new(
                format!("attachments.{}", a.code),
                "required",
                format!("Allegare «{}».", a.label.it),
                format!("«{}» must be attached.", a.label.en),
            ));
        }
    }
}

/// Text must not be blank when required, must fit, and must not carry control characters
/// (new lines and tabs are allowed in multi-line fields).
fn check_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &str,
    max_chars: usize,
    is_required: bool,
    multiline: bool,
) {
    if is_required && value.trim().is_empty() {
        errors.push(required(field));
        return;
    }
    let chars = value.chars().count();
    if chars > max_chars {
        errors.push(FieldError::new(
            field,
            "too_long",
            format!("Al massimo {max_chars} caratteri (ne sono stati inseriti {chars})."),
            format!("At most {max_chars} characters ({chars} entered)."),
        ));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        errors.push(FieldError::new(
            field,
            "control_characters",
            "Il testo contiene caratteri di controllo non ammessi.",
            "The text contains control characters that are not allowed.",
        ));
    }
}

fn unknown_category(field: &str, category: &str, call: &Call) -> FieldError {
    let known: Vec<&str> = call.categories.iter().map(|c| c.code.as_str()).collect();
    FieldError::new(
        field,
        "unknown_category",
        format!(
            "Categoria di spesa «{category}» sconosciuta; quelle del bando sono: {}.",
            known.join(", ")
        ),
        format!(
            "Unknown cost category «{category}»; the call's categories are: {}.",
            known.join(", ")
        ),
    )
}

fn required(field: &str) -> FieldError {
    FieldError::new(
        field,
        "required",
        "Campo obbligatorio.",
        "This field is required.",
    )
}

fn unknown_field(field: &str) -> FieldError {
    FieldError::new(
        field,
        "unknown_field",
        format!("Campo «{field}» non previsto."),
        format!("Unknown field «{field}»."),
    )
}

fn wrong_type(field: &str, it: &str, en: &str) -> FieldError {
    FieldError::new(
        field,
        "wrong_type",
        format!("Il valore deve essere {it}."),
        format!("The value must be {en}."),
    )
}

fn too_large(field: &str) -> FieldError {
    FieldError::new(
        field,
        "amount_too_large",
        format!("Importo troppo grande (massimo {}).", Money::MAX_AMOUNT),
        format!(
            "Amount too large (at most {}).",
            Money::MAX_AMOUNT.in_locale(Locale::En)
        ),
    )
}

#[cfg(test)]
mod tests;
