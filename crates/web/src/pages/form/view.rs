//! The form as the template shows it: each control with what was typed and its error.

use std::collections::BTreeMap;

use bandi_domain::application::Notice;
use bandi_domain::call::{Call, IndicatorKind};
use bandi_domain::i18n::{FieldError, Locale};
use bandi_domain::service::Catalogue;

use super::{FormInput, LineInput, control_id, error_links};

/// A control of the form with what was typed in it and what is wrong with it.
pub(crate) struct FieldView {
    pub id: String,
    pub value: String,
    pub error: Option<String>,
}

pub(crate) struct LineView {
    /// 1-based, for people.
    pub n: usize,
    pub category: FieldView,
    pub description: FieldView,
    pub amount: FieldView,
    /// What is not eligible in this row, once the form is valid.
    pub notice: Option<String>,
    /// When the row buys a service of the catalogue.
    pub service: Option<LineService>,
}

/// A row bought from the catalogue: what it is, and its quantity's control.
pub(crate) struct LineService {
    pub code: String,
    /// The service's name and price per unit, or that it left the catalogue.
    pub words: String,
    pub quantity: FieldView,
}

pub(crate) struct IndicatorView {
    pub field: FieldView,
    pub label: String,
    pub required: bool,
    pub integer: bool,
}

/// A link of the error summary to the field it is about.
pub(crate) struct ErrorLink {
    pub href: String,
    pub message: String,
}

/// Everything the template needs to show the form.
pub(crate) struct FormView {
    pub title: FieldView,
    pub summary: FieldView,
    pub lines: Vec<LineView>,
    pub lines_error: Option<String>,
    pub indicators: Vec<IndicatorView>,
    pub errors: Vec<ErrorLink>,
}

impl FormView {
    pub fn new(
        input: &FormInput,
        call: &Call,
        errors: &[FieldError],
        notices: &[Notice],
        catalogue: Option<&Catalogue>,
        locale: Locale,
    ) -> FormView {
        let mut by_id: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for e in errors {
            by_id
                .entry(control_id(&e.field))
                .or_default()
                .push(e.message(locale));
        }
        let error_of = |id: &str| by_id.get(id).map(|m| m.join(" "));
        let field = |id: String, value: &str| FieldView {
            error: error_of(&id),
            value: value.to_string(),
            id,
        };
        let empty = LineInput::default();
        let lines = (0..input.rows())
            .map(|i| {
                let l = input.lines.get(i).unwrap_or(&empty);
                LineView {
                    n: i + 1,
                    category: field(format!("line-{i}-category"), &l.category),
                    description: field(format!("line-{i}-description"), &l.description),
                    amount: field(format!("line-{i}-amount"), &l.amount),
                    service: (!l.service.is_empty()).then(|| LineService {
                        code: l.service.clone(),
                        words: match catalogue.and_then(|c| c.service(&l.service)) {
                            Some(s) => format!(
                                "{} ({}) · {} × {}",
                                s.name.get(locale),
                                s.code,
                                s.unit_price.in_locale(locale),
                                s.unit.get(locale)
                            ),
                            None => match locale {
                                Locale::It => format!("{}: non più nel catalogo", l.service),
                                Locale::En => format!("{}: no longer in the catalogue", l.service),
                            },
                        },
                        quantity: field(format!("line-{i}-quantity"), &l.quantity),
                    }),
                    notice: notices
                        .iter()
                        .find(|n| n.field == format!("lines[{i}]"))
                        .map(|n| n.text.get(locale).to_string()),
                }
            })
            .collect();
        let indicators = call
            .indicators
            .iter()
            .map(|ind| IndicatorView {
                field: field(
                    format!("ind-{}", ind.code),
                    input
                        .indicators
                        .get(&ind.code)
                        .map(String::as_str)
                        .unwrap_or(""),
                ),
                label: ind.label.get(locale).to_string(),
                required: ind.required,
                integer: ind.kind == IndicatorKind::Integer,
            })
            .collect();
        FormView {
            title: field("title".into(), &input.title),
            summary: field("summary".into(), &input.summary),
            lines,
            lines_error: error_of("lines"),
            indicators,
            errors: error_links(errors, call, locale),
        }
    }
}
