//! The checks of an application's indicators, attachments and texts against the call.

use super::{
    ApplicationContent, IndicatorValue, MAX_INDICATOR_TEXT_CHARS, MAX_PRACTICES, ServiceLine,
    required, wrong_type,
};
use crate::call::{Call, IndicatorKind};
use crate::i18n::{FieldError, Locale};
use crate::money::Money;
use crate::service::MAX_QUANTITY;

/// A line from the catalogue: a quantity of at least one, and an amount that is the
/// quantity times the unit price, to the cent.
pub(super) fn check_service_line(
    errors: &mut Vec<FieldError>,
    path: &str,
    service: &ServiceLine,
    amount: Money,
) {
    if service.quantity == 0 || service.quantity > MAX_QUANTITY {
        errors.push(FieldError::new(
            format!("{path}.service.quantity"),
            "quantity_out_of_range",
            format!("La quantità va da 1 a {MAX_QUANTITY}."),
            format!("The quantity goes from 1 to {MAX_QUANTITY}."),
        ));
        return;
    }
    if !service.unit_price_cents.is_positive() {
        errors.push(FieldError::new(
            format!("{path}.service.unit_price_cents"),
            "amount_not_positive",
            "Il prezzo unitario deve essere maggiore di zero.",
            "The unit price must be greater than zero.",
        ));
        return;
    }
    let expected = service
        .unit_price_cents
        .cents()
        .checked_mul(i64::from(service.quantity))
        .map(Money::from_cents);
    if expected != Some(amount) {
        let (it, en) = match expected {
            Some(m) => (m.to_string(), m.in_locale(Locale::En)),
            None => ("—".into(), "—".into()),
        };
        errors.push(FieldError::new(
            format!("{path}.amount_cents"),
            "service_amount",
            format!(
                "Per una voce del catalogo l'importo è quantità × prezzo unitario: {} × {} = {it}.",
                service.quantity, service.unit_price_cents
            ),
            format!(
                "For a catalogue line the amount is quantity × unit price: {} × {} = {en}.",
                service.quantity,
                service.unit_price_cents.in_locale(Locale::En)
            ),
        ));
    }
}

/// The practices cited: each once, at most [`MAX_PRACTICES`]. Whether each is published is
/// for the use case, which can read them.
pub(super) fn check_practices(errors: &mut Vec<FieldError>, practices: &[u64]) {
    if practices.len() > MAX_PRACTICES {
        errors.push(FieldError::new(
            "practices",
            "too_many",
            format!("Al massimo {MAX_PRACTICES} buone pratiche citate."),
            format!("At most {MAX_PRACTICES} good practices cited."),
        ));
    }
    for (i, n) in practices.iter().enumerate() {
        if practices[..i].contains(n) {
            errors.push(FieldError::new(
                format!("practices[{i}]"),
                "duplicate",
                format!("La buona pratica n. {n} è citata due volte."),
                format!("Good practice no. {n} is cited twice."),
            ));
        }
    }
}

pub(super) fn check_indicators(
    errors: &mut Vec<FieldError>,
    content: &ApplicationContent,
    call: &Call,
) {
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

pub(super) fn check_attachments(
    errors: &mut Vec<FieldError>,
    content: &ApplicationContent,
    call: &Call,
) {
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
pub(super) fn check_text(
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
