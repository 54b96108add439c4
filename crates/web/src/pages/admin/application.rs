//! One application for officials (`/amministrazione/bandi/{code}/domande/{seq}`): everything
//! the applicant sent, its receipt, its history of events, and the review's actions, each
//! posted to the same address and carried out by `bandi_app::review`.

use askama::Template;
use axum::Form;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_app::Actor;
use bandi_app::review::Which;
use bandi_domain::account::Role;
use bandi_domain::application::IndicatorValue;
use bandi_domain::call::{Call, CallCode};
use bandi_domain::money::Money;
use bandi_domain::review::{Action, Cup, Cuts, ReviewState};
use bandi_store::{Session, StoredCall, UnderReview};
use jiff::Timestamp;

use super::Outcome;
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, check_csrf, require_official, see_other};
use crate::pages::applicant::{DocumentView, status_class};
use crate::pages::calls::{CallView, precise_local};
use crate::pages::i18n::{kind_label, status_label};
use crate::pages::services::{CitedPractice, bought_words, cited_practices};
use crate::pages::{Ctx, Layout, Nav, PageState, encode, render};

pub(crate) struct LineView {
    pub n: usize,
    pub id: String,
    pub category: String,
    pub description: String,
    pub amount: String,
    pub amount_plain: String,
    /// The amount a reduction admitted, when it cut the line.
    pub admitted: Option<String>,
    /// The index of the line in the form's names (`cut-N`, `why-N`).
    pub why: usize,
    /// What a catalogue line bought.
    pub bought: Option<String>,
}

pub(crate) struct CheckView {
    pub code: String,
    pub id: String,
    pub label: String,
    pub result: Option<bool>,
}

pub(crate) struct RequestView {
    pub n: u32,
    pub text: String,
    pub deadline: String,
    pub expired: bool,
    pub closed: bool,
    pub answer_text: Option<String>,
    pub answer_sha256: Option<String>,
    pub answer_documents: Vec<DocumentView>,
}

pub(crate) struct HistoryView {
    pub href: String,
    pub seq: u64,
    pub kind: &'static str,
    pub at: String,
    pub actor: String,
    pub text: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_application.html")]
struct ApplicationPage {
    l: Layout,
    csrf: String,
    action: String,
    call_title: String,
    call_href: String,
    protocol: String,
    entity: String,
    entity_istat: Option<String>,
    fiscal_code: Option<String>,
    received: String,
    time_zone: String,
    content_sha256: String,
    ledger_href: String,
    ledger_seq: u64,
    title: String,
    summary: Vec<String>,
    lines: Vec<LineView>,
    /// The good practices the application says it reuses: the call's «riuso» flag.
    practices: Vec<CitedPractice>,
    indicators: Vec<(String, String)>,
    documents: Vec<(String, DocumentView)>,
    total: String,
    eligible_submitted: String,
    requested_submitted: String,
    eligible: String,
    requested: String,
    reserved: String,
    reduced: bool,
    review_state: &'static str,
    review_label: String,
    status: &'static str,
    status_class: &'static str,
    holder: Option<String>,
    holder_since: Option<String>,
    held_by_me: bool,
    can_take: bool,
    can_take_over: bool,
    can_reduce: bool,
    can_withdraw: bool,
    can_cup: bool,
    checklist: Vec<CheckView>,
    requests: Vec<RequestView>,
    request_open: bool,
    cup: Option<String>,
    history: Vec<HistoryView>,
    outcome: Option<Outcome>,
    deadline_default: String,
}

/// `/amministrazione/bandi/{code}/domande/{seq}`.
pub(crate) fn href(call: &str, seq: u64) -> String {
    format!("/amministrazione/bandi/{}/domande/{seq}", encode(call))
}

async fn load(
    s: &PageState,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(StoredCall, UnderReview), ApiError> {
    let Ok(Path((code, seq))) = path else {
        return Err(ApiError::not_found());
    };
    let seq: u64 = seq.parse().map_err(|_| ApiError::not_found())?;
    let stored = crate::api::calls::load(&s.app, Ok(Path(code.clone()))).await?;
    let app = s
        .app
        .store()
        .under_review(&code, seq)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((stored, app))
}

async fn fresh(s: &PageState, call: &Call, seq: u64) -> Result<UnderReview, ApiError> {
    s.app
        .store()
        .under_review(call.code.as_str(), seq)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn amount(m: Money, ctx: &Ctx) -> String {
    m.in_locale(ctx.locale)
}

async fn page(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    stored: &StoredCall,
    app: &UnderReview,
    status: StatusCode,
    outcome: Option<Outcome>,
) -> Result<Response, ApiError> {
    let call = &stored.call;
    let locale = ctx.locale;
    let store = s.app.store();
    let application = store
        .application(&app.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let r = &application.receipt;
    let entity = store.entity(&app.entity).await?;
    let content = &app.content;
    let admitted = app.admitted_content();
    let lines = content
        .lines
        .iter()
        .zip(&admitted.lines)
        .enumerate()
        .map(|(i, (l, now))| LineView {
            n: i + 1,
            why: i,
            id: format!("cut-{i}"),
            category: call
                .category(&l.category)
                .map(|c| c.label.get(locale).to_string())
                .unwrap_or_else(|| l.category.clone()),
            description: l.description.clone(),
            bought: bought_words(l, locale),
            amount: amount(l.amount_cents, ctx),
            admitted: (now.amount_cents != l.amount_cents).then(|| amount(now.amount_cents, ctx)),
            amount_plain: now
                .amount_cents
                .to_string()
                .trim_end_matches(" €")
                .to_string(),
        })
        .collect();
    let practices = cited_practices(s, &content.practices).await?;
    let indicators = call
        .indicators
        .iter()
        .filter_map(|i| {
            content.indicators.get(&i.code).map(|v| {
                (
                    i.label.get(locale).to_string(),
                    match v {
                        IndicatorValue::Integer(n) => n.to_string(),
                        IndicatorValue::Text(t) => t.clone(),
                    },
                )
            })
        })
        .collect();
    let documents = store
        .application_documents(&app.id)
        .await?
        .iter()
        .map(|d| {
            let label = call
                .attachments
                .iter()
                .find(|a| a.code == d.attachment)
                .map(|a| a.label.get(locale).to_string())
                .unwrap_or_else(|| d.attachment.clone());
            (label, DocumentView::new(d, locale))
        })
        .collect();
    let now = Timestamp::now();
    let mut requests = Vec::new();
    for q in store
        .integration_requests(call.code.as_str(), app.seq)
        .await?
    {
        let answer_documents = match &q.answer {
            Some(_) => store
                .answer_documents(&app.id, q.request)
                .await?
                .iter()
                .map(|d| DocumentView::new(d, locale))
                .collect(),
            None => Vec::new(),
        };
        requests.push(RequestView {
            n: q.request,
            text: q.text,
            deadline: call.local_time(q.deadline),
            expired: q.answer.is_none() && !q.closed && q.deadline <= now,
            closed: q.closed && q.answer.is_none(),
            answer_text: q.answer.as_ref().map(|a| a.text.clone()),
            answer_sha256: q.answer.as_ref().map(|a| a.sha256.clone()),
            answer_documents,
        });
    }
    let mut history = Vec::new();
    for h in store
        .application_history(call.code.as_str(), app.seq)
        .await?
    {
        let actor = match &h.actor {
            Some(id) => match store.user(id).await? {
                Some(u) => u.name,
                None => id.clone(),
            },
            None => ctx.t("Il sistema", "The system").to_string(),
        };
        history.push(HistoryView {
            href: format!("/registro?voce={}", h.entry.seq),
            seq: h.entry.seq,
            kind: kind_label(h.entry.record().ok().as_ref(), locale),
            at: precise_local(call, &h.entry.at, locale),
            actor,
            text: h.text,
        });
    }
    let review = &app.review;
    let me = &session.user;
    let held_by_me =
        review.state == ReviewState::InReview && review.holder.as_deref() == Some(&me.id);
    let held_by_other = review.state == ReviewState::InReview && !held_by_me;
    let holder = match &review.holder {
        Some(id) => Some(match store.user(id).await? {
            Some(u) => u.name,
            None => id.clone(),
        }),
        None => None,
    };
    let admin = me.role == Role::Admin;
    let deadline_default = (now + jiff::SignedDuration::from_hours(24 * 10))
        .to_zoned_datetime(call.tz())
        .date()
        .to_string();
    let view = CallView::of(stored, now, locale);
    let page = ApplicationPage {
        l: ctx
            .layout(
                format!("{} {}", ctx.t("Domanda", "Application"), r.protocol),
                {
                    let mut c = super::crumbs(ctx);
                    c.push(crate::pages::Crumb::new(
                        view.title.clone(),
                        format!("/amministrazione/bandi/{}", encode(call.code.as_str())),
                    ));
                    c
                },
                Nav::Admin,
            )
            .signed(session),
        csrf: session.csrf_token.clone(),
        action: href(call.code.as_str(), app.seq),
        call_title: view.title.clone(),
        call_href: format!("/amministrazione/bandi/{}", encode(call.code.as_str())),
        protocol: r.protocol.clone(),
        entity: entity
            .as_ref()
            .map(|e| e.name.clone())
            .unwrap_or_else(|| app.entity.clone()),
        fiscal_code: entity.as_ref().and_then(|e| e.fiscal_code.clone()),
        entity_istat: entity.as_ref().and_then(|e| e.istat_code.clone()),
        received: precise_local(call, &r.received_at, locale),
        time_zone: call.time_zone.clone(),
        content_sha256: r.content_sha256.clone(),
        ledger_href: format!("/registro?voce={}", r.ledger_seq),
        ledger_seq: r.ledger_seq,
        title: content.title.clone(),
        summary: content
            .summary
            .split("\n\n")
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        lines,
        practices,
        indicators,
        documents,
        total: amount(r.total_cost_cents, ctx),
        eligible_submitted: amount(r.eligible_cost_cents, ctx),
        requested_submitted: amount(r.requested_cents, ctx),
        eligible: amount(app.eligible, ctx),
        requested: amount(app.requested, ctx),
        reserved: amount(app.reserved, ctx),
        reduced: app.requested != r.requested_cents || app.eligible != r.eligible_cost_cents,
        review_state: review.state.as_str(),
        review_label: review.state.label().get(locale).to_string(),
        status: status_label(app.status, locale),
        status_class: status_class(app.status),
        holder,
        holder_since: app.holder_since.map(|t| call.local_time(t)),
        held_by_me,
        can_take: review.state == ReviewState::ToReview,
        can_take_over: held_by_other && admin,
        can_reduce: held_by_me || (review.state == ReviewState::Admitted && admin),
        can_withdraw: !review.state.is_final(),
        can_cup: review.state == ReviewState::Admitted && review.cup.is_none(),
        checklist: call
            .checklist
            .iter()
            .map(|i| CheckView {
                id: format!("check-{}", i.code),
                label: i.label.get(locale).to_string(),
                result: review.checklist.get(&i.code).copied(),
                code: i.code.clone(),
            })
            .collect(),
        request_open: review.open_request.is_some_and(|o| o.deadline > now),
        requests,
        cup: review.cup.as_ref().map(|c| c.to_string()),
        history,
        outcome,
        deadline_default,
    };
    render(status, &page)
}

pub async fn show(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    path: Result<Path<(String, String)>, PathRejection>,
) -> PageResult {
    require_official(&session)?;
    let (stored, app) = load(&s, path).await?;
    let outcome = ctx
        .param("esito")
        .and_then(|v| done_text(v, &ctx))
        .map(Outcome::done);
    Ok(page(&s, &ctx, &session, &stored, &app, StatusCode::OK, outcome).await?)
}

fn done_text(action: &str, ctx: &Ctx) -> Option<String> {
    Some(
        match action {
            "take" => ctx.t("Domanda presa in carico.", "Application taken."),
            "check" => ctx.t("Verifica registrata.", "Check recorded."),
            "request" => ctx.t("Richiesta di integrazione inviata all'ente.", "Request for integration sent to the body."),
            "admit" => ctx.t("Domanda ammessa: l'ente ne riceve comunicazione.", "Application admitted: the body is notified."),
            "reduce" => ctx.t("Spesa ammissibile ridotta e contributo ricalcolato.", "Eligible cost reduced and grant recomputed."),
            "reject" => ctx.t("Domanda non ammessa: le risorse liberate passano alle domande in attesa, in ordine di protocollo.", "Application rejected: the funds freed go to the waiting applications, in protocol order."),
            "withdraw" => ctx.t("Rinuncia registrata: le risorse liberate passano alle domande in attesa.", "Withdrawal recorded: the funds freed go to the waiting applications."),
            "cup" => ctx.t("CUP registrato.", "CUP recorded."),
            _ => return None,
        }
        .to_string(),
    )
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    action: String,
    item: String,
    passed: String,
    note: String,
    text: String,
    deadline_date: String,
    deadline_time: String,
    reason: String,
    total: String,
    cup: String,
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

/// The action a form asks for, or what is wrong with the form.
fn action_of(f: &ActionForm, call: &Call, app: &UnderReview, ctx: &Ctx) -> Result<Action, String> {
    Ok(match f.action.as_str() {
        "take" => Action::Take { takeover: false },
        "takeover" => Action::Take { takeover: true },
        "check" => Action::Check {
            item: f.item.clone(),
            passed: match f.passed.as_str() {
                "yes" => true,
                "no" => false,
                _ => {
                    return Err(ctx
                        .t(
                            "Indicare l'esito della verifica.",
                            "Give the check's result.",
                        )
                        .into());
                }
            },
            note: f.note.clone(),
        },
        "request" => {
            let date: jiff::civil::Date = f.deadline_date.trim().parse().map_err(|_| {
                ctx.t(
                    "Indicare la data di scadenza (AAAA-MM-GG).",
                    "Give the deadline's date (YYYY-MM-DD).",
                )
                .to_string()
            })?;
            let time: jiff::civil::Time = if f.deadline_time.trim().is_empty() {
                jiff::civil::time(18, 0, 0, 0)
            } else {
                f.deadline_time.trim().parse().map_err(|_| {
                    ctx.t(
                        "Indicare l'ora di scadenza (HH:MM).",
                        "Give the deadline's time (HH:MM).",
                    )
                    .to_string()
                })?
            };
            let deadline = date
                .to_datetime(time)
                .to_zoned_datetime(call.tz())
                .map_err(|e| e.to_string())?
                .timestamp();
            Action::RequestIntegration {
                text: f.text.clone(),
                deadline,
            }
        }
        "admit" => Action::Admit {
            reason: f.reason.clone(),
        },
        "reject" => Action::Reject {
            reason: f.reason.clone(),
        },
        "withdraw" => Action::Withdraw {
            reason: f.reason.clone(),
        },
        "cup" => Action::RecordCup {
            cup: Cup::parse(&f.cup).map_err(|e| e.text().get(ctx.locale).to_string())?,
        },
        "reduce" => {
            let mut reason_by_line = Vec::new();
            let cuts = if !f.total.trim().is_empty() {
                Cuts::Total(Money::parse_euros(&f.total).map_err(|_| {
                    ctx.t(
                        "Importo ammesso non valido: scrivere per esempio 50.000,00.",
                        "Invalid amount admitted: write for example 50,000.00.",
                    )
                    .to_string()
                })?)
            } else {
                let mut lines = Vec::new();
                let mut whys = Vec::new();
                let admitted = app.admitted_content();
                for i in 0..admitted.lines.len() {
                    let why = f
                        .rest
                        .get(&format!("why-{i}"))
                        .map(|s| s.trim())
                        .unwrap_or("");
                    if !why.is_empty() {
                        whys.push(if ctx.en() {
                            format!("Line {}: {why}", i + 1)
                        } else {
                            format!("Voce {}: {why}", i + 1)
                        });
                    }
                    let typed = f
                        .rest
                        .get(&format!("cut-{i}"))
                        .map(|s| s.trim())
                        .unwrap_or("");
                    if typed.is_empty() {
                        continue;
                    }
                    let m = Money::parse_euros(typed).map_err(|_| {
                        if ctx.en() {
                            format!("Line {}: «{typed}» is not an amount.", i + 1)
                        } else {
                            format!("Voce {}: «{typed}» non è un importo.", i + 1)
                        }
                    })?;
                    if m != admitted.lines[i].amount_cents {
                        lines.push((i, m));
                    }
                }
                reason_by_line = whys;
                Cuts::Lines(lines)
            };
            // The general reason, then each cut's own: one text, sent to the body.
            let reason = std::iter::once(f.reason.trim().to_string())
                .filter(|r| !r.is_empty())
                .chain(reason_by_line)
                .collect::<Vec<_>>()
                .join("\n");
            Action::Reduce { cuts, reason }
        }
        _ => {
            return Err(ctx
                .t("Operazione sconosciuta.", "Unknown operation.")
                .into());
        }
    })
}

pub async fn act(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    path: Result<Path<(String, String)>, PathRejection>,
    Form(f): Form<ActionForm>,
) -> PageResult {
    require_official(&session)?;
    check_csrf(&session, &f.csrf)?;
    let (stored, app) = load(&s, path).await?;
    let call = &stored.call;
    let action = match action_of(&f, call, &app, &ctx) {
        Ok(a) => a,
        Err(text) => {
            let outcome = Some(Outcome::refused(text));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(page(&s, &ctx, &session, &stored, &app, status, outcome).await?);
        }
    };
    let name = match &action {
        Action::Take { .. } => "take",
        Action::Check { .. } => "check",
        Action::RequestIntegration { .. } => "request",
        Action::Admit { .. } => "admit",
        Action::Reduce { .. } => "reduce",
        Action::Reject { .. } => "reject",
        Action::Withdraw { .. } => "withdraw",
        Action::RecordCup { .. } => "cup",
    };
    let code = CallCode::parse(call.code.as_str()).map_err(|_| ApiError::not_found())?;
    let actor = Actor::User(session.user.clone());
    let which = Which::Seq(code, app.seq);
    let done = if let Action::RecordCup { cup } = &action {
        s.app.app.record_cup(&actor, &which, cup.as_str()).await
    } else {
        s.app.app.review(&actor, &which, action).await
    };
    match done {
        Ok(_) => Ok(see_other(&format!(
            "{}?esito={name}",
            href(call.code.as_str(), app.seq)
        ))),
        Err(e) if e.is_refusal() => {
            let status = ApiError::from(e.clone()).status;
            let text = e.text().get(ctx.locale).to_string();
            let outcome = Some(Outcome::refused(text));
            // Reload: the refusal may come from a change made meanwhile by someone else.
            let app = fresh(&s, call, app.seq).await?;
            Ok(page(&s, &ctx, &session, &stored, &app, status, outcome).await?)
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}
