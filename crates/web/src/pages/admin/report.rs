//! A funded application's report, payments and award for officials
//! (`/amministrazione/bandi/{code}/domande/{seq}/rendiconto`): each expense with its
//! documents and the reviewer's finding, the return for an integration, the close with the
//! final grant; for admins the payments, the revocation and the deadline's extension. Every
//! action posts here and is carried out by `bandi_app::reports`.

use askama::Template;
use axum::Form;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_app::reports::ReportView;
use bandi_app::review::Which;
use bandi_app::{Actor, AppError};
use bandi_domain::account::Role;
use bandi_domain::call::CallCode;
use bandi_domain::money::Money;
use bandi_domain::report::verification::{ExpenseOutcome, PaymentKind, ReportState};
use bandi_domain::review::act;
use bandi_store::Session;

use super::Outcome;
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, check_csrf, require_official, see_other};
use crate::pages::applicant::document_href;
use crate::pages::{Crumb, Ctx, Layout, Nav, PageState, encode, render};

pub(crate) fn href(call: &str, seq: u64) -> String {
    format!("{}/rendiconto", super::application::href(call, seq))
}

pub(crate) struct ExpenseRow {
    pub line: usize,
    pub n: usize,
    pub supplier: String,
    pub tax_id: String,
    pub invoice: String,
    pub paid_on: String,
    pub category: String,
    pub description: String,
    pub amount: String,
    pub documents: Vec<(String, String)>,
    pub outcome: Option<String>,
    pub accepted: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_report.html")]
struct ReportPage {
    l: Layout,
    csrf: String,
    action: String,
    application_href: String,
    entity: String,
    state: &'static str,
    state_label: String,
    submitted: bool,
    admin: bool,
    awarded: bool,
    award: String,
    claimed: String,
    grant_claimed: String,
    verified: Option<String>,
    final_grant: Option<String>,
    paid: String,
    deadline: Option<String>,
    expenses: Vec<ExpenseRow>,
    indicators: Vec<(String, String)>,
    notes: String,
    payments: Vec<(String, String, String, String)>,
    outcome: Option<Outcome>,
    today: String,
}

async fn load(
    s: &PageState,
    session: &Session,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(Which, CallCode, u64, ReportView), ApiError> {
    let Ok(Path((code, seq))) = path else {
        return Err(ApiError::not_found());
    };
    let code = CallCode::parse(&code).map_err(|_| ApiError::not_found())?;
    let seq: u64 = seq.parse().map_err(|_| ApiError::not_found())?;
    let which = Which::Seq(code.clone(), seq);
    let view = s
        .app
        .app
        .report_view(&Actor::User(session.user.clone()), &which)
        .await
        .map_err(ApiError::from)?;
    Ok((which, code, seq, view))
}

async fn page(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    (code, seq): (&CallCode, u64),
    view: &ReportView,
    status: StatusCode,
    outcome: Option<Outcome>,
) -> Result<Response, ApiError> {
    let locale = ctx.locale;
    let call = s
        .app
        .store()
        .call_rules(code.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let report = view.report.as_ref();
    let content = report.map(|r| r.content.clone()).unwrap_or_default();
    let submitted_docs = !view.state().editable();
    let expenses = content
        .expenses
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let check = report.and_then(|r| r.checks.get(&(i as u32)));
            ExpenseRow {
                line: i,
                n: i + 1,
                supplier: e.supplier.clone(),
                tax_id: e.supplier_tax_id.clone(),
                invoice: format!("{} · {}", e.invoice_number, e.invoice_date),
                paid_on: e.paid_on.clone(),
                category: call
                    .category(&e.category)
                    .map(|c| c.label.get(locale).to_string())
                    .unwrap_or_else(|| e.category.clone()),
                description: e.description.clone(),
                amount: e.amount_cents.in_locale(locale),
                documents: if submitted_docs {
                    view.documents
                        .iter()
                        .filter(|d| d.attachment.starts_with(&format!("expense-{i}-")))
                        .map(|d| (d.file_name.clone(), document_href(&d.id)))
                        .collect()
                } else {
                    Vec::new()
                },
                outcome: check.map(|(o, _)| o.label().get(locale).to_string()),
                accepted: check.map(|(_, a)| a.in_locale(locale)),
            }
        })
        .collect();
    let entity = s
        .app
        .store()
        .entity(&view.app.entity)
        .await?
        .map(|e| e.name)
        .unwrap_or_else(|| view.app.entity.clone());
    let state = view.state();
    let title = format!(
        "{} {}",
        ctx.t("Rendiconto e pagamenti", "Report and payments"),
        view.app.protocol
    );
    let mut crumbs = super::crumbs(ctx);
    crumbs.push(Crumb::new(
        call.title.get(locale).to_string(),
        format!("/amministrazione/bandi/{}", encode(code.as_str())),
    ));
    crumbs.push(Crumb::new(
        view.app.protocol.clone(),
        super::application::href(code.as_str(), seq),
    ));
    let page = ReportPage {
        l: ctx.layout(title, crumbs, Nav::Admin).signed(session),
        csrf: session.csrf_token.clone(),
        action: href(code.as_str(), seq),
        application_href: super::application::href(code.as_str(), seq),
        entity,
        state: state.as_str(),
        state_label: state.label().get(locale).to_string(),
        submitted: state == ReportState::Submitted,
        admin: session.user.role == Role::Admin,
        awarded: view.app.review.state == bandi_domain::review::ReviewState::Admitted,
        award: view.app.reserved.in_locale(locale),
        claimed: view.totals.claimed.in_locale(locale),
        grant_claimed: view.totals.grant_claimed.in_locale(locale),
        verified: report
            .and_then(|r| r.verified_eligible)
            .map(|m| m.in_locale(locale)),
        final_grant: report
            .and_then(|r| r.final_grant)
            .map(|m| m.in_locale(locale)),
        paid: view.paid.in_locale(locale),
        deadline: view.deadline.map(|d| d.strftime("%d/%m/%Y").to_string()),
        expenses,
        indicators: call
            .indicators
            .iter()
            .filter_map(|i| {
                content.indicators.get(&i.code).map(|v| {
                    (
                        i.label.get(locale).to_string(),
                        match v {
                            bandi_domain::application::IndicatorValue::Integer(n) => n.to_string(),
                            bandi_domain::application::IndicatorValue::Text(t) => t.clone(),
                        },
                    )
                })
            })
            .collect(),
        notes: content.notes.clone(),
        payments: view
            .payments
            .iter()
            .map(|p| {
                (
                    p.kind.label().get(locale).to_string(),
                    p.amount.in_locale(locale),
                    p.paid_on.clone(),
                    format!("{} {} {}", p.act_number, ctx.t("del", "of"), p.act_date),
                )
            })
            .collect(),
        outcome,
        today: jiff::Timestamp::now()
            .to_zoned_datetime(call.tz())
            .date()
            .to_string(),
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
    let (_, code, seq, view) = load(&s, &session, path).await?;
    let outcome = ctx
        .param("esito")
        .and_then(|v| done_text(v, &ctx))
        .map(Outcome::done);
    Ok(page(
        &s,
        &ctx,
        &session,
        (&code, seq),
        &view,
        StatusCode::OK,
        outcome,
    )
    .await?)
}

fn done_text(action: &str, ctx: &Ctx) -> Option<String> {
    Some(
        match action {
            "check" => ctx.t("Esito della spesa registrato.", "Finding recorded."),
            "return" => ctx.t("Rendiconto restituito all'ente per l'integrazione.", "Report returned to the body for an integration."),
            "close" => ctx.t("Verifica chiusa: il contributo finale è registrato; quanto non confermato torna al bando.", "Verification closed: the final grant is recorded; what was not confirmed goes back to the call."),
            "payment" => ctx.t("Pagamento registrato.", "Payment recorded."),
            "revoke" => ctx.t("Contributo revocato: le risorse tornano al bando; quanto già pagato è da recuperare.", "Grant revoked: the funds go back to the call; what was paid is to be recovered."),
            "extend" => ctx.t("Termine del rendiconto prorogato.", "Report deadline extended."),
            _ => return None,
        }
        .to_string(),
    )
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ReportForm {
    csrf: String,
    action: String,
    line: String,
    outcome: String,
    accepted: String,
    reason: String,
    kind: String,
    amount: String,
    paid_on: String,
    act_number: String,
    act_date: String,
    until: String,
}

pub async fn act_on(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    path: Result<Path<(String, String)>, PathRejection>,
    Form(f): Form<ReportForm>,
) -> PageResult {
    require_official(&session)?;
    check_csrf(&session, &f.csrf)?;
    let (which, code, seq, _) = load(&s, &session, path).await?;
    let bad = || {
        ApiError::bad_request(
            "bad_form",
            "Operazione sconosciuta. Nessun dato è stato modificato.",
            "Unknown operation. Nothing was changed.",
        )
    };
    if !["check", "return", "close", "payment", "revoke", "extend"].contains(&f.action.as_str())
        || (f.action == "check" && ExpenseOutcome::parse(&f.outcome).is_none())
    {
        return Err(bad().into());
    }
    let actor = Actor::User(session.user.clone());
    let app = &s.app.app;
    let amount = |text: &str| {
        Money::parse_euros(text).map_err(|_| AppError::InvalidAmount(text.to_string()))
    };
    let done: Result<(), AppError> = async {
        match f.action.as_str() {
            "check" => {
                let line: usize = f.line.parse().map_err(|_| AppError::NotFound)?;
                let outcome = ExpenseOutcome::parse(&f.outcome).unwrap_or(ExpenseOutcome::Refused);
                let partial = match outcome {
                    ExpenseOutcome::Partial => Some(amount(&f.accepted)?),
                    _ => None,
                };
                app.check_report_expense(&actor, &which, line, outcome, partial, &f.reason)
                    .await?;
            }
            "return" => {
                app.return_report(&actor, &which, &f.reason).await?;
            }
            "close" => {
                app.close_verification(&actor, &which).await?;
            }
            "payment" => {
                let kind = PaymentKind::parse(&f.kind).unwrap_or(PaymentKind::Balance);
                let act = act(&f.act_number, &f.act_date, None).map_err(AppError::Review)?;
                app.record_payment(&actor, &which, kind, amount(&f.amount)?, &f.paid_on, act)
                    .await?;
            }
            "revoke" => {
                let act = act(&f.act_number, &f.act_date, None).map_err(AppError::Review)?;
                app.revoke_award(&actor, &which, &f.reason, act).await?;
            }
            "extend" => {
                app.extend_report_deadline(&actor, &which, &f.until, &f.reason)
                    .await?;
            }
            _ => unreachable!("checked above"),
        }
        Ok(())
    }
    .await;
    match done {
        Ok(()) => Ok(see_other(&format!(
            "{}?esito={}",
            href(code.as_str(), seq),
            f.action
        ))),
        Err(e) if e.is_refusal() => {
            let status = ApiError::from(e.clone()).status;
            let text = e.text().get(ctx.locale).to_string();
            let view = app
                .report_view(&actor, &which)
                .await
                .map_err(ApiError::from)?;
            Ok(page(
                &s,
                &ctx,
                &session,
                (&code, seq),
                &view,
                status,
                Some(Outcome::refused(text)),
            )
            .await?)
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}
