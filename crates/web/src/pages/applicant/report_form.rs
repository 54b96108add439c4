//! The expense report's form as typed: its rows read from the posted fields into the
//! domain's report (a row left empty does not count), and each control with what was typed
//! and what is wrong with it, for the page.

use std::collections::BTreeMap;

use bandi_domain::application::IndicatorValue;
use bandi_domain::call::{Call, IndicatorKind};
use bandi_domain::i18n::{FieldError, Locale};
use bandi_domain::money::Money;
use bandi_domain::report::{Expense, ReportContent};

use crate::pages::form::{ErrorLink, FieldView};

/// The controls of one expense, by their name's suffix (`exp-3-supplier`).
const PARTS: [&str; 8] = [
    "supplier",
    "tax",
    "number",
    "invoice_date",
    "category",
    "description",
    "amount",
    "paid_on",
];

/// What the form holds: each row's texts as typed, the indicators and the notes.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReportInput {
    pub rows: Vec<BTreeMap<&'static str, String>>,
    pub indicators: BTreeMap<String, String>,
    pub notes: String,
}

impl ReportInput {
    pub fn from_fields(fields: &[(String, String)], call: &Call) -> ReportInput {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut rows = Vec::new();
        for i in 0..bandi_domain::report::MAX_EXPENSES {
            let row: BTreeMap<&'static str, String> = PARTS
                .iter()
                .map(|p| (*p, get(&format!("exp-{i}-{p}"))))
                .collect();
            let present = PARTS
                .iter()
                .any(|p| fields.iter().any(|(k, _)| *k == format!("exp-{i}-{p}")));
            if !present {
                break;
            }
            rows.push(row);
        }
        ReportInput {
            rows,
            indicators: call
                .indicators
                .iter()
                .map(|i| (i.code.clone(), get(&format!("ind-{}", i.code))))
                .collect(),
            notes: get("notes"),
        }
    }

    pub fn from_content(content: &ReportContent) -> ReportInput {
        ReportInput {
            rows: content
                .expenses
                .iter()
                .map(|e| {
                    [
                        ("supplier", e.supplier.clone()),
                        ("tax", e.supplier_tax_id.clone()),
                        ("number", e.invoice_number.clone()),
                        ("invoice_date", e.invoice_date.clone()),
                        ("category", e.category.clone()),
                        ("description", e.description.clone()),
                        (
                            "amount",
                            e.amount_cents
                                .to_string()
                                .trim_end_matches(" €")
                                .to_string(),
                        ),
                        ("paid_on", e.paid_on.clone()),
                    ]
                    .into_iter()
                    .collect()
                })
                .collect(),
            indicators: content
                .indicators
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        match v {
                            IndicatorValue::Integer(n) => n.to_string(),
                            IndicatorValue::Text(t) => t.clone(),
                        },
                    )
                })
                .collect(),
            notes: content.notes.clone(),
        }
    }

    /// The report the rows make, and what cannot even be read (amounts, counts). Rows left
    /// empty are dropped; the index of each kept row in the form is kept to name errors.
    pub fn to_content(&self, call: &Call) -> (ReportContent, Vec<FieldError>, Vec<usize>) {
        let mut errors = Vec::new();
        let mut expenses = Vec::new();
        let mut kept = Vec::new();
        for (i, row) in self.rows.iter().enumerate() {
            if row.values().all(|v| v.trim().is_empty()) {
                continue;
            }
            let amount = match Money::parse_euros(&row["amount"]) {
                Ok(m) => m,
                Err(_) => {
                    errors.push(FieldError::new(
                        format!("expenses.{}.amount_cents", expenses.len()),
                        "invalid_amount",
                        "Importo non valido: scrivere per esempio 12.500,00.",
                        "Invalid amount: write for example 12,500.00.",
                    ));
                    Money::ZERO
                }
            };
            kept.push(i);
            expenses.push(Expense {
                supplier: row["supplier"].clone(),
                supplier_tax_id: row["tax"].clone(),
                invoice_number: row["number"].clone(),
                invoice_date: row["invoice_date"].clone(),
                category: row["category"].clone(),
                description: row["description"].clone(),
                amount_cents: amount,
                paid_on: row["paid_on"].clone(),
                documents: Vec::new(),
            });
        }
        let mut indicators = BTreeMap::new();
        for ind in &call.indicators {
            let typed = self
                .indicators
                .get(&ind.code)
                .map(|s| s.trim())
                .unwrap_or("");
            if typed.is_empty() {
                continue;
            }
            match ind.kind {
                IndicatorKind::Integer => match typed.parse::<i64>() {
                    Ok(n) => {
                        indicators.insert(ind.code.clone(), IndicatorValue::Integer(n));
                    }
                    Err(_) => errors.push(FieldError::new(
                        format!("indicators.{}", ind.code),
                        "not_a_count",
                        "Indicare un numero intero non negativo.",
                        "Give a whole number, not negative.",
                    )),
                },
                IndicatorKind::Text => {
                    indicators.insert(ind.code.clone(), IndicatorValue::Text(typed.to_string()));
                }
            }
        }
        (
            ReportContent {
                expenses,
                indicators,
                notes: self.notes.clone(),
            },
            errors,
            kept,
        )
    }
}

/// The control a field of the report is about (`expenses.3.amount_cents` → `exp-R-amount`,
/// R being the form's row of the 4th expense kept).
pub(crate) fn control_id(field: &str, kept: &[usize]) -> String {
    if let Some(rest) = field.strip_prefix("expenses.")
        && let Some((k, tail)) = rest.split_once('.')
        && let Ok(k) = k.parse::<usize>()
    {
        let row = kept.get(k).copied().unwrap_or(k);
        let part = match tail {
            "supplier" => "supplier",
            "supplier_tax_id" => "tax",
            "invoice_number" => "number",
            "invoice_date" => "invoice_date",
            "category" => "category",
            "description" => "description",
            "amount_cents" => "amount",
            "paid_on" => "paid_on",
            "invoice" => return format!("att-expense-{row}-invoice"),
            "payment" => return format!("att-expense-{row}-payment"),
            _ => "supplier",
        };
        return format!("exp-{row}-{part}");
    }
    if let Some(code) = field.strip_prefix("indicators.") {
        return format!("ind-{code}");
    }
    if let Some(code) = field.strip_prefix("attachments.") {
        return format!("att-{code}");
    }
    "report-form".to_string()
}

/// One expense's controls for the page.
pub(crate) struct ExpenseView {
    pub n: usize,
    pub i: usize,
    pub fields: BTreeMap<&'static str, FieldView>,
    pub invoice: FieldView,
    pub payment: FieldView,
    /// The documents already attached: `(label, file name, link)`.
    pub documents: Vec<(String, String, String)>,
}

impl ExpenseView {
    pub fn field(&self, part: &str) -> &FieldView {
        &self.fields[part]
    }
}

/// The rows of the form (those typed and two empty ones), with their errors.
pub(crate) fn expense_views(
    input: &ReportInput,
    errors: &[FieldError],
    kept: &[usize],
    documents: &[(String, String, String)],
    locale: Locale,
) -> (Vec<ExpenseView>, Vec<ErrorLink>) {
    let mut by_id: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut links = Vec::new();
    for e in errors {
        let id = control_id(&e.field, kept);
        links.push(ErrorLink {
            href: format!("#{id}"),
            message: e.message(locale).to_string(),
        });
        by_id.entry(id).or_default().push(e.message(locale));
    }
    let view = |id: String, value: String| FieldView {
        error: by_id.get(&id).map(|m| m.join(" ")),
        value,
        id,
    };
    let empty = BTreeMap::new();
    let rows = input.rows.len() + 2;
    let expenses = (0..rows)
        .map(|i| {
            let row = input.rows.get(i).unwrap_or(&empty);
            ExpenseView {
                n: i + 1,
                i,
                fields: PARTS
                    .iter()
                    .map(|p| {
                        (
                            *p,
                            view(
                                format!("exp-{i}-{p}"),
                                row.get(p).cloned().unwrap_or_default(),
                            ),
                        )
                    })
                    .collect(),
                invoice: view(format!("att-expense-{i}-invoice"), String::new()),
                payment: view(format!("att-expense-{i}-payment"), String::new()),
                documents: documents
                    .iter()
                    .filter(|(code, _, _)| code.starts_with(&format!("expense-{i}-")))
                    .cloned()
                    .collect(),
            }
        })
        .collect();
    (expenses, links)
}

/// The indicators' controls for the page.
pub(crate) fn indicator_fields(
    input: &ReportInput,
    call: &Call,
    errors: &[FieldError],
    locale: Locale,
) -> Vec<(String, FieldView)> {
    call.indicators
        .iter()
        .map(|ind| {
            let id = format!("ind-{}", ind.code);
            let error = errors
                .iter()
                .filter(|e| e.field == format!("indicators.{}", ind.code))
                .map(|e| e.message(locale))
                .collect::<Vec<_>>();
            (
                ind.label.get(locale).to_string(),
                FieldView {
                    value: input.indicators.get(&ind.code).cloned().unwrap_or_default(),
                    error: (!error.is_empty()).then(|| error.join(" ")),
                    id,
                },
            )
        })
        .collect()
}
