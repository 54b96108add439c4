//! The call's form: what an official changes of a call (title, texts, dates, budget, rate,
//! caps) without writing its file. It starts from a model call (its categories,
//! attachments, indicators, eligibility and checklist stay the model's), writes the file
//! with the fields changed and reads it back with the same checks as an imported file, so
//! that a call made here is a call a file could make. "Anteprima" shows what the public
//! page will say; "Pubblica" publishes through the same use case as the import.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use bandi_app::AppError;
use bandi_domain::call::Call;
use bandi_domain::i18n::Locale;
use bandi_domain::money::Money;
use bandi_store::{Role, Session};
use serde::Deserialize;

use super::crumbs;
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, check_csrf, require};
use crate::pages::{Ctx, Layout, Nav, PageState, render};

/// The fields of the form, as typed (and as shown back).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct CallForm {
    csrf: String,
    /// The model's code: what the form does not show comes from it.
    modello: String,
    azione: String,
    code: String,
    protocol_prefix: String,
    title: String,
    title_en: String,
    text: String,
    text_en: String,
    opens_at: String,
    closes_at: String,
    budget: String,
    co_financing: String,
    max_grant: String,
    min_cost: String,
    max_cost: String,
    completion_deadline: String,
    reporting_deadline: String,
}

/// A field's problem, shown next to it and in the summary.
pub(crate) struct FieldProblem {
    pub field: &'static str,
    pub label: &'static str,
    pub message: String,
}

/// What the public page will show, from the call as read back.
pub(crate) struct Preview {
    pub title: String,
    pub opens: String,
    pub closes: String,
    pub budget: String,
    pub rate: String,
    pub max_grant: Option<String>,
    pub cost_range: Option<String>,
    pub eligible: String,
    pub categories: Vec<String>,
    pub completion_deadline: Option<String>,
    pub reporting_deadline: Option<String>,
    pub paragraphs: Vec<String>,
}

/// One field as the page shows it.
pub(crate) struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `textarea`, `datetime-local` or `date`.
    pub kind: &'static str,
    pub value: String,
    pub hint: Option<&'static str>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_call_form.html")]
struct CallFormPage {
    l: Layout,
    csrf: String,
    modello: String,
    fields: Vec<FieldView>,
    models: Vec<(String, String)>,
    problems: Vec<FieldProblem>,
    refusal: Option<String>,
    preview: Option<Preview>,
}

fn hint(field: &str, locale: Locale) -> Option<&'static str> {
    let (it, en) = match field {
        "code" => (
            "Lettere minuscole, cifre e trattini. Il codice di un bando esistente lo modifica, finché non apre e non ha domande.",
            "Lower-case letters, digits and dashes. An existing call's code changes that call, until it opens and has applications.",
        ),
        "text" | "text_en" => (
            "Paragrafi separati da una riga vuota. Le date si scrivono {opens_at}, {closes_at}, {completion_deadline} e {reporting_deadline}: la pagina pubblica le mostra per esteso.",
            "Paragraphs separated by an empty line. Dates are written {opens_at}, {closes_at}, {completion_deadline} and {reporting_deadline}: the public page spells them out.",
        ),
        "title_en" => (
            "Facoltativo: senza, vale il titolo italiano.",
            "Optional: without it, the Italian title.",
        ),
        "budget" | "max_grant" | "min_cost" | "max_cost" => (
            "In euro, per esempio 2.000.000,00. Facoltativo, tranne la dotazione.",
            "In euro, for example 2.000.000,00. Optional, but for the budget.",
        ),
        "co_financing" => ("Per esempio 70% o 62,5%.", "For example 70% or 62,5%."),
        _ => return None,
    };
    Some(if locale == Locale::En { en } else { it })
}

fn field_views(f: &CallForm, problems: &[FieldProblem], locale: Locale) -> Vec<FieldView> {
    let values = [
        &f.code,
        &f.protocol_prefix,
        &f.title,
        &f.title_en,
        &f.text,
        &f.text_en,
        &f.opens_at,
        &f.closes_at,
        &f.budget,
        &f.co_financing,
        &f.max_grant,
        &f.min_cost,
        &f.max_cost,
        &f.completion_deadline,
        &f.reporting_deadline,
    ];
    FIELDS
        .iter()
        .zip(values)
        .map(|((name, _, _), value)| FieldView {
            name,
            label: label(name, locale),
            kind: match *name {
                "text" | "text_en" => "textarea",
                "opens_at" | "closes_at" => "datetime-local",
                "completion_deadline" | "reporting_deadline" => "date",
                _ => "text",
            },
            value: value.clone(),
            hint: hint(name, locale),
            error: problems
                .iter()
                .find(|p| p.field == *name)
                .map(|p| p.message.clone()),
        })
        .collect()
}

/// The form's fields with their Italian and English labels, in the form's order; a call
/// file's key is the field's name.
const FIELDS: [(&str, &str, &str); 15] = [
    ("code", "Codice del bando", "Call code"),
    (
        "protocol_prefix",
        "Prefisso del protocollo",
        "Protocol prefix",
    ),
    ("title", "Titolo", "Title"),
    ("title_en", "Titolo in inglese", "Title in English"),
    ("text", "Testo del bando", "Text of the call"),
    ("text_en", "Testo in inglese", "Text in English"),
    (
        "opens_at",
        "Apertura (ora italiana)",
        "Opening (Italian time)",
    ),
    (
        "closes_at",
        "Chiusura (ora italiana)",
        "Closing (Italian time)",
    ),
    ("budget", "Dotazione", "Budget"),
    (
        "co_financing",
        "Cofinanziamento regionale",
        "Regional co-financing",
    ),
    (
        "max_grant",
        "Contributo massimo per domanda",
        "Largest grant per application",
    ),
    (
        "min_cost",
        "Costo minimo del progetto",
        "Smallest project cost",
    ),
    (
        "max_cost",
        "Costo massimo del progetto",
        "Largest project cost",
    ),
    (
        "completion_deadline",
        "Termine di conclusione dei progetti",
        "Projects' completion deadline",
    ),
    (
        "reporting_deadline",
        "Termine della rendicontazione",
        "Reporting deadline",
    ),
];

fn label(field: &str, locale: Locale) -> &'static str {
    FIELDS
        .iter()
        .find(|(f, _, _)| *f == field)
        .map(|(_, it, en)| if locale == Locale::En { *en } else { *it })
        .unwrap_or("")
}

fn field_of(key: &str) -> &'static str {
    FIELDS
        .iter()
        .map(|(f, _, _)| *f)
        .find(|f| *f == key)
        .unwrap_or("")
}

/// An amount as the form shows it: `2.000.000,00`.
fn amount(m: Money) -> String {
    m.to_string().trim_end_matches(" €").to_string()
}

impl CallForm {
    /// The form filled with `call`'s values, `call` as its model.
    fn of(call: &Call) -> CallForm {
        let local = |t: jiff::Timestamp| {
            t.to_zoned_datetime(call.tz())
                .strftime("%Y-%m-%dT%H:%M")
                .to_string()
        };
        CallForm {
            modello: call.code.to_string(),
            code: call.code.to_string(),
            protocol_prefix: call.protocol_prefix.clone(),
            title: call.title.it.clone(),
            title_en: call.title.en.clone(),
            text: call.text.it.clone(),
            text_en: call.text.en.clone(),
            opens_at: local(call.opens_at),
            closes_at: local(call.closes_at),
            budget: amount(call.budget),
            co_financing: call.rate.to_string(),
            max_grant: call.max_grant.map(amount).unwrap_or_default(),
            min_cost: call.min_cost.map(amount).unwrap_or_default(),
            max_cost: call.max_cost.map(amount).unwrap_or_default(),
            completion_deadline: call
                .completion_deadline
                .map(|d| d.to_string())
                .unwrap_or_default(),
            reporting_deadline: call
                .reporting_deadline
                .map(|d| d.to_string())
                .unwrap_or_default(),
            ..CallForm::default()
        }
    }

    /// The call this form describes on `model`, or what is wrong, field by field.
    fn build(&self, model: &Call, locale: Locale) -> Result<Call, Vec<FieldProblem>> {
        let it = locale == Locale::It;
        let mut problems = Vec::new();
        let mut problem = |field: &'static str, it_msg: &str, en_msg: &str| {
            problems.push(FieldProblem {
                field,
                label: label(field, locale),
                message: if it { it_msg } else { en_msg }.to_string(),
            })
        };
        let mut file: toml::Table =
            toml::from_str(&model.to_toml()).expect("a call's own file parses");
        for (key, value, optional) in [
            ("code", &self.code, false),
            ("protocol_prefix", &self.protocol_prefix, false),
            ("title", &self.title, false),
            ("title_en", &self.title_en, true),
            ("text", &self.text, false),
            ("text_en", &self.text_en, true),
        ] {
            let value = value.replace("\r\n", "\n").trim().to_string();
            if value.is_empty() && optional {
                file.remove(key);
            } else {
                file.insert(key.into(), value.into());
            }
        }
        for (key, value, optional) in [
            ("budget", &self.budget, false),
            ("max_grant", &self.max_grant, true),
            ("min_cost", &self.min_cost, true),
            ("max_cost", &self.max_cost, true),
        ] {
            match (value.trim(), optional) {
                ("", true) => {
                    file.remove(key);
                }
                (v, _) => match Money::parse_euros(v) {
                    Ok(m) => {
                        file.insert(key.into(), m.to_plain().into());
                    }
                    Err(_) => problem(
                        field_of(key),
                        "importo non valido: scrivere per esempio 2.000.000,00",
                        "invalid amount: write for example 2,000,000.00",
                    ),
                },
            }
        }
        let rate = self.co_financing.trim().trim_end_matches('%').trim();
        file.insert("co_financing".into(), format!("{rate}%").into());
        for (key, value, optional, with_time) in [
            ("opens_at", &self.opens_at, false, true),
            ("closes_at", &self.closes_at, false, true),
            (
                "completion_deadline",
                &self.completion_deadline,
                true,
                false,
            ),
            ("reporting_deadline", &self.reporting_deadline, true, false),
        ] {
            let v = value.trim();
            if v.is_empty() && optional {
                file.remove(key);
                continue;
            }
            // A `datetime-local` field sends minutes only.
            let v = if with_time && v.len() == 16 {
                format!("{v}:00")
            } else {
                v.to_string()
            };
            let shape_ok = if with_time {
                v.len() == 19
            } else {
                v.len() == 10
            };
            match v.parse::<toml::value::Datetime>() {
                Ok(d) if shape_ok && d.offset.is_none() => {
                    file.insert(key.into(), toml::Value::Datetime(d));
                }
                _ if with_time => problem(
                    field_of(key),
                    "data e ora non valide: per esempio 2026-04-03 09:30",
                    "invalid date and time: for example 2026-04-03 09:30",
                ),
                _ => problem(
                    field_of(key),
                    "data non valida: per esempio 2026-12-31",
                    "invalid date: for example 2026-12-31",
                ),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let text = toml::to_string(&file).expect("a table of plain values serialises");
        Call::from_toml(&text).map_err(|e| {
            let field = e.key.as_deref().map(field_of).unwrap_or("");
            vec![FieldProblem {
                field,
                label: label(field, locale),
                message: if it {
                    e.message_it().to_string()
                } else {
                    e.message.clone()
                },
            }]
        })
    }
}

fn preview(call: &Call, locale: Locale) -> Preview {
    use crate::pages::calls;
    let money = |m: Money| m.in_locale(locale);
    Preview {
        title: call.title.get(locale).to_string(),
        opens: call.local_time(call.opens_at),
        closes: call.local_time(call.closes_at),
        budget: money(call.budget),
        rate: call.rate.to_string(),
        max_grant: call.max_grant.map(money),
        cost_range: calls::cost_range(call, locale),
        eligible: calls::eligible_kinds(call, locale),
        categories: call
            .categories
            .iter()
            .map(|c| c.label.get(locale).to_string())
            .collect(),
        completion_deadline: call.completion_deadline.map(calls::date),
        reporting_deadline: call.reporting_deadline.map(calls::date),
        paragraphs: calls::paragraphs(call, locale),
    }
}

/// What the page shows besides the form: its problems, a refusal, or the preview.
#[derive(Default)]
struct Shown {
    problems: Vec<FieldProblem>,
    refusal: Option<String>,
    preview: Option<Preview>,
}

async fn page(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    status: StatusCode,
    f: CallForm,
    shown: Shown,
) -> Result<Response, ApiError> {
    let Shown {
        problems,
        refusal,
        preview,
    } = shown;
    let models = s
        .app
        .store()
        .calls()
        .await?
        .into_iter()
        .map(|c| {
            (
                c.call.code.to_string(),
                c.call.title.get(ctx.locale).to_string(),
            )
        })
        .collect();
    let page = CallFormPage {
        l: ctx
            .layout(
                ctx.t("Modulo del bando", "The call's form"),
                crumbs(ctx),
                Nav::Admin,
            )
            .signed(session),
        csrf: session.csrf_token.clone(),
        fields: field_views(&f, &problems, ctx.locale),
        modello: f.modello,
        models,
        problems,
        refusal,
        preview,
    };
    render(status, &page)
}

async fn model(s: &PageState, code: &str) -> Result<Option<Call>, ApiError> {
    let calls = s.app.store().calls().await?;
    Ok(calls
        .iter()
        .find(|c| c.call.code.as_str() == code)
        .or(calls.first())
        .map(|c| c.call.clone()))
}

/// `GET /amministrazione/modulo-bando?modello=CODE`: the form, filled with the model's
/// values (the first call when none is named).
pub async fn form(State(s): State<PageState>, ctx: Ctx, Signed(session): Signed) -> PageResult {
    require(&session, Role::Admin)?;
    let f = match model(&s, ctx.param("modello").unwrap_or("")).await? {
        Some(call) => CallForm::of(&call),
        None => CallForm::default(),
    };
    Ok(page(&s, &ctx, &session, StatusCode::OK, f, Shown::default()).await?)
}

/// `POST /amministrazione/modulo-bando`: "anteprima" shows the public page's content,
/// "pubblica" publishes.
pub async fn submit(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    Form(f): Form<CallForm>,
) -> PageResult {
    require(&session, Role::Admin)?;
    check_csrf(&session, &f.csrf)?;
    let Some(model) = model(&s, &f.modello).await? else {
        return Err(ApiError::from(AppError::CallNotFound).into());
    };
    let call = match f.build(&model, ctx.locale) {
        Ok(call) => call,
        Err(problems) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(page(
                &s,
                &ctx,
                &session,
                status,
                f,
                Shown {
                    problems,
                    ..Shown::default()
                },
            )
            .await?);
        }
    };
    if f.azione != "pubblica" {
        let shown = preview(&call, ctx.locale);
        return Ok(page(
            &s,
            &ctx,
            &session,
            StatusCode::OK,
            f,
            Shown {
                preview: Some(shown),
                ..Shown::default()
            },
        )
        .await?);
    }
    match super::calls::publish(&s, &ctx, &session, &call).await? {
        Ok(done) => Ok(done),
        Err(refusal) => Ok(page(
            &s,
            &ctx,
            &session,
            StatusCode::CONFLICT,
            f,
            Shown {
                refusal: Some(refusal),
                ..Shown::default()
            },
        )
        .await?),
    }
}
