//! An application's content, read from JSON or a form, and its validation against a call.
//! Every problem is reported at once, each with a field path, a stable code and a text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::call::Call;
use crate::i18n::{FieldError, Locale, Text};
use crate::money::Money;

mod amounts;
mod checks;
mod references;

use amounts::eligible_cost;
pub use amounts::{Estimate, estimate};
pub use references::{check_references, unknown_service};

/// The eligible cost of a content under a call's categories and caps, and the notices of
/// what is not eligible: the rule of [`ApplicationContent::validate`], for a review's
/// reductions to recompute amounts the same way.
pub fn eligible_cost_of(content: &ApplicationContent, call: &Call) -> (Money, Vec<Notice>) {
    eligible_cost(content, call)
}
use checks::{
    check_attachments, check_indicators, check_practices, check_service_line, check_text,
};

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
    /// The good practices the project reuses, by their number on `/pratiche`, in the
    /// applicant's order. Left out when empty, as the attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub practices: Vec<u64>,
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
    /// When the line buys a service of the regional catalogue. Left out when absent, so
    /// that lines written by hand keep the hash they always had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceLine>,
}

/// A budget line priced from the services catalogue: the line's amount is the quantity
/// times the unit price, and the unit price is the catalogue's when the line is sent (the
/// use case checks it against the catalogue; the domain checks the product).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLine {
    pub code: String,
    pub quantity: u32,
    pub unit_price_cents: Money,
}

/// The most practices an application cites.
pub const MAX_PRACTICES: usize = 20;

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
            if !["title", "summary", "lines", "indicators", "practices"].contains(&key.as_str()) {
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
        match obj.get("practices") {
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_u64().filter(|n| (1..=i64::MAX as u64).contains(n)) {
                        Some(n) => content.practices.push(n),
                        None => errors.push(wrong_type(
                            &format!("practices[{i}]"),
                            "il numero di una buona pratica",
                            "a good practice's number",
                        )),
                    }
                }
            }
            Some(Value::Null) | None => {}
            Some(_) => errors.push(wrong_type("practices", "un elenco", "an array")),
        }
        content.strip_format_chars();
        (content, errors, line_index, dropped)
    }

    /// Drops Unicode format characters (bidi overrides, zero-width) from every text, as
    /// from everything people type ([`crate::text`]).
    pub fn strip_format_chars(&mut self) {
        use crate::text::clean_in_place;
        clean_in_place(&mut self.title);
        clean_in_place(&mut self.summary);
        for l in &mut self.lines {
            clean_in_place(&mut l.description);
            clean_in_place(&mut l.category);
        }
        for v in self.indicators.values_mut() {
            if let IndicatorValue::Text(t) = v {
                clean_in_place(t);
            }
        }
    }

    /// The canonical bytes of the content: compact JSON, fields in declaration order,
    /// indicators sorted by code.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("content serialises")
    }

    pub fn sha256_hex(&self) -> String {
        self.canonical_json_and_sha256().1
    }

    /// The canonical JSON and its SHA-256 (hex), serialised once: what is stored and what
    /// the receipt names.
    pub fn canonical_json_and_sha256(&self) -> (String, String) {
        let json = self.canonical_json();
        let sha = hex::encode(Sha256::digest(json.as_bytes()));
        (json, sha)
    }

    /// Checks the content against the call's rules and computes the amounts.
    pub fn validate(self, call: &Call) -> Result<ValidApplication, Vec<FieldError>> {
        let index = (0..self.lines.len()).collect();
        validate(self, call, Vec::new(), index)
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
        if !["category", "description", "amount_cents", "service"].contains(&key.as_str()) {
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
    let service = match obj.get("service") {
        Some(Value::Null) | None => None,
        Some(v) => read_service(&format!("{path}.service"), v, errors),
    };
    if errors.len() > before {
        return None;
    }
    Some(BudgetLine {
        category: category?,
        description: description?,
        amount_cents: amount?,
        service,
    })
}

/// `{"code": "LEP-IAAS-VM", "quantity": 12, "unit_price_cents": 8500}`.
fn read_service(path: &str, v: &Value, errors: &mut Vec<FieldError>) -> Option<ServiceLine> {
    let Some(obj) = v.as_object() else {
        errors.push(wrong_type(path, "un oggetto", "an object"));
        return None;
    };
    let before = errors.len();
    for key in obj.keys() {
        if !["code", "quantity", "unit_price_cents"].contains(&key.as_str()) {
            errors.push(unknown_field(&format!("{path}.{key}")));
        }
    }
    let code = match obj.get("code") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(wrong_type(&format!("{path}.code"), "un testo", "a string"));
            None
        }
        None => {
            errors.push(required(&format!("{path}.code")));
            None
        }
    };
    let quantity = match obj.get("quantity") {
        Some(Value::Number(n)) => match n.as_u64().and_then(|q| u32::try_from(q).ok()) {
            Some(q) => Some(q),
            None => {
                errors.push(wrong_type(
                    &format!("{path}.quantity"),
                    "un numero intero positivo",
                    "a positive whole number",
                ));
                None
            }
        },
        Some(_) => {
            errors.push(wrong_type(
                &format!("{path}.quantity"),
                "un numero intero positivo",
                "a positive whole number",
            ));
            None
        }
        None => {
            errors.push(required(&format!("{path}.quantity")));
            None
        }
    };
    let unit_price = match obj.get("unit_price_cents") {
        Some(Value::Number(n)) => match n.as_i64() {
            Some(c) => Some(Money::from_cents(c)),
            None => {
                errors.push(too_large(&format!("{path}.unit_price_cents")));
                None
            }
        },
        Some(_) => {
            errors.push(wrong_type(
                &format!("{path}.unit_price_cents"),
                "un numero intero di centesimi",
                "a whole number of cents",
            ));
            None
        }
        None => {
            errors.push(required(&format!("{path}.unit_price_cents")));
            None
        }
    };
    if errors.len() > before {
        return None;
    }
    Some(ServiceLine {
        code: code?,
        quantity: quantity?,
        unit_price_cents: unit_price?,
    })
}

fn validate(
    mut content: ApplicationContent,
    call: &Call,
    mut errors: Vec<FieldError>,
    line_index: Vec<usize>,
) -> Result<ValidApplication, Vec<FieldError>> {
    content.strip_format_chars();
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
        if let Some(service) = &line.service {
            check_service_line(&mut errors, &path, service, amount);
        }
    }
    check_practices(&mut errors, &content.practices);
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
