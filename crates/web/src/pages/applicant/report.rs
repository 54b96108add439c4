//! The expense report of a funded application (`/area-riservata/rendiconto/{id}`): the
//! form with one block per expense (its files too), the totals and the final grant the
//! expenses would give (computed by the domain at every save), saved as a draft and
//! submitted once; then, read-only, each expense's finding, the final grant and the
//! payments.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_app::Actor;
use bandi_app::reports::ReportView;
use bandi_app::review::Which;
use bandi_domain::call::CallCode;
use bandi_domain::i18n::FieldError;
use bandi_store::{Role, Session};

use super::report_form::{ExpenseView, ReportInput, expense_views, indicator_fields};
use super::uploads;
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, check_csrf, require, see_other};
use crate::pages::form::{ErrorLink, FieldView};
use crate::pages::{Crumb, Ctx, Layout, Nav, PageState, encode, render};

pub(crate) fn report_href(id: &str) -> String {
    format!("/area-riservata/rendiconto/{}", encode(id))
}

pub(crate) struct CheckedView {
    pub n: usize,
    pub supplier: String,
    pub invoice: String,
    pub amount: String,
    pub outcome: Option<String>,
    pub accepted: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    l: Layout,
    csrf: String,
    action: String,
    receipt_href: String,
    call_title: String,
    state: &'static str,
    state_label: String,
    editable: bool,
    deadline: Option<String>,
    award: String,
    claimed: String,
    eligible_claimed: String,
    grant_claimed: String,
    expenses: Vec<ExpenseView>,
    categories: Vec<(String, String)>,
    indicators: Vec<(String, FieldView)>,
    notes: String,
    errors: Vec<ErrorLink>,
    outcome: Option<(&'static str, String)>,
    checked: Vec<CheckedView>,
    final_grant: Option<String>,
    verified: Option<String>,
    paid: String,
    payments: Vec<(String, String, String, String)>,
    from: String,
    to: String,
}

/// The application `id` of one of the person's entities, as a report addresses it.
async fn target(s: &PageState, session: &Session, id: &str) -> Result<(Which, String), ApiError> {
    if id.len() > 64 {
        return Err(ApiError::not_found());
    }
    let app = s
        .app
        .store()
        .application(id)
        .await?
        .filter(|a| session.user.acts_for(&a.receipt.entity))
        .ok_or_else(ApiError::not_found)?;
    let r = &app.receipt;
    let code = CallCode::parse(&r.call).map_err(|_| ApiError::not_found())?;
    Ok((Which::Seq(code, r.seq), r.protocol.clone()))
}

#[allow(clippy::too_many_arguments)]
async fn page(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    id: &str,
    view: &ReportView,
    input: Option<(ReportInput, Vec<FieldError>, Vec<usize>)>,
    status: StatusCode,
    outcome: Option<(&'static str, String)>,
) -> Result<Response, ApiError> {
    let locale = ctx.locale;
    let store = s.app.store();
    let code = view_call_code(s, &view.app).await?;
    let call = store
        .call_rules(&code)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let report = view.report.as_ref();
    let (input, errors, kept) = match input {
        Some(i) => i,
        None => {
            let content = report.map(|r| r.content.clone()).unwrap_or_default();
            let kept = (0..content.expenses.len()).collect();
            let errors = if view.state().editable() && !content.expenses.is_empty() {
                bandi_domain::report::check_report(&content, &call, &view.bounds)
                    .err()
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            (ReportInput::from_content(&content), errors, kept)
        }
    };
    let documents: Vec<(String, String, String)> = view
        .documents
        .iter()
        .map(|d| {
            (
                d.attachment.clone(),
                d.file_name.clone(),
                super::document_href(&d.id),
            )
        })
        .collect();
    let (expenses, links) = expense_views(&input, &errors, &kept, &documents, locale);
    let checked = report
        .filter(|r| !r.state.editable())
        .map(|r| {
            r.content
                .expenses
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let check = r.checks.get(&(i as u32));
                    CheckedView {
                        n: i + 1,
                        supplier: e.supplier.clone(),
                        invoice: format!("{} ({})", e.invoice_number, e.invoice_date),
                        amount: e.amount_cents.in_locale(locale),
                        outcome: check.map(|(o, _)| o.label().get(locale).to_string()),
                        accepted: check.map(|(_, a)| a.in_locale(locale)),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let title = format!(
        "{} {}",
        ctx.t("Rendiconto della domanda", "Report of application"),
        view.app.protocol
    );
    let state = view.state();
    let page = ReportPage {
        l: ctx
            .layout(
                title,
                vec![
                    Crumb::new(ctx.ui().home, "/"),
                    Crumb::new(
                        ctx.t("Area riservata", "Reserved area"),
                        format!("/area-riservata?ente={}", encode(&view.app.entity)),
                    ),
                ],
                Nav::Reserved,
            )
            .signed(session),
        csrf: session.csrf_token.clone(),
        action: report_href(id),
        receipt_href: format!("/area-riservata/ricevuta/{}", encode(id)),
        call_title: call.title.get(locale).to_string(),
        state: state.as_str(),
        state_label: state.label().get(locale).to_string(),
        editable: state.editable(),
        deadline: view.deadline.map(|d| d.strftime("%d/%m/%Y").to_string()),
        award: view.app.reserved.in_locale(locale),
        claimed: view.totals.claimed.in_locale(locale),
        eligible_claimed: view.totals.eligible_claimed.in_locale(locale),
        grant_claimed: view.totals.grant_claimed.in_locale(locale),
        expenses,
        categories: call
            .categories
            .iter()
            .map(|c| (c.code.clone(), c.label.get(locale).to_string()))
            .collect(),
        indicators: indicator_fields(&input, &call, &errors, locale),
        notes: input.notes.clone(),
        errors: links,
        outcome,
        checked,
        final_grant: report
            .and_then(|r| r.final_grant)
            .map(|m| m.in_locale(locale)),
        verified: report
            .and_then(|r| r.verified_eligible)
            .map(|m| m.in_locale(locale)),
        paid: view.paid.in_locale(locale),
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
        from: view.bounds.from.strftime("%d/%m/%Y").to_string(),
        to: view.bounds.to.strftime("%d/%m/%Y").to_string(),
    };
    render(status, &page)
}

async fn view_call_code(s: &PageState, app: &bandi_store::UnderReview) -> Result<String, ApiError> {
    let stored = s
        .app
        .store()
        .application(&app.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(stored.receipt.call)
}

pub async fn show(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    id: Result<Path<String>, PathRejection>,
) -> PageResult {
    require(&session, Role::Applicant)?;
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found().into());
    };
    let (which, _) = target(&s, &session, &id).await?;
    let actor = Actor::User(session.user.clone());
    let view = s
        .app
        .app
        .report_view(&actor, &which)
        .await
        .map_err(ApiError::from)?;
    let outcome = match ctx.param("esito") {
        Some("salvato") => Some((
            "success",
            ctx.t("Bozza del rendiconto salvata.", "Draft of the report saved.").to_string(),
        )),
        Some("presentato") => Some((
            "success",
            ctx.t(
                "Rendiconto presentato: è sigillato nel registro e passa alla verifica della Regione.",
                "Report submitted: it is sealed in the ledger and goes to the Region's verification.",
            )
            .to_string(),
        )),
        _ => None,
    };
    Ok(page(
        &s,
        &ctx,
        &session,
        &id,
        &view,
        None,
        StatusCode::OK,
        outcome,
    )
    .await?)
}

/// Saves the draft (`action=save`) or saves and submits it (`action=submit`).
pub async fn act(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    id: Result<Path<String>, PathRejection>,
    req: Request,
) -> PageResult {
    require(&session, Role::Applicant)?;
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found().into());
    };
    let posted = uploads::read(req).await?;
    let field = |name: &str| uploads::field(&posted.fields, name).to_owned();
    check_csrf(&session, &field("csrf"))?;
    let (which, _) = target(&s, &session, &id).await?;
    let actor = Actor::User(session.user.clone());
    let use_cases = &s.app.app;
    let view = use_cases
        .report_view(&actor, &which)
        .await
        .map_err(ApiError::from)?;
    let call_code = view_call_code(&s, &view.app).await?;
    let call = s
        .app
        .store()
        .call_rules(&call_code)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let input = ReportInput::from_fields(&posted.fields, &call);
    let (content, unreadable, kept) = input.to_content(&call);
    let submit = field("action") == "submit";
    let saved = match use_cases
        .save_report(&actor, &which, content, posted.files)
        .await
    {
        Ok(saved) => saved,
        Err(e) if e.is_refusal() => {
            let status = ApiError::from(e.clone()).status;
            let text = e.text().get(ctx.locale).to_string();
            let view = use_cases
                .report_view(&actor, &which)
                .await
                .map_err(ApiError::from)?;
            return Ok(page(
                &s,
                &ctx,
                &session,
                &id,
                &view,
                None,
                status,
                Some(("danger", text)),
            )
            .await?);
        }
        Err(e) => return Err(ApiError::from(e).into()),
    };
    let mut problems = unreadable;
    problems.extend(saved.problems);
    problems.extend(saved.refused);
    if !submit || !problems.is_empty() {
        if problems.is_empty() {
            return Ok(see_other(&format!("{}?esito=salvato", report_href(&id))));
        }
        let view = use_cases
            .report_view(&actor, &which)
            .await
            .map_err(ApiError::from)?;
        let (status, text) = if submit {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ctx.t(
                    "Il rendiconto non è stato presentato: correggere gli errori indicati. La bozza è salvata.",
                    "The report was not submitted: fix the problems shown. The draft is saved.",
                ),
            )
        } else {
            (
                StatusCode::OK,
                ctx.t(
                    "Bozza salvata. Prima di presentarla correggere gli errori indicati.",
                    "Draft saved. Fix the problems shown before submitting it.",
                ),
            )
        };
        let kind = if submit { "danger" } else { "warning" };
        return Ok(page(
            &s,
            &ctx,
            &session,
            &id,
            &view,
            Some((input, problems, kept)),
            status,
            Some((kind, text.to_string())),
        )
        .await?);
    }
    match use_cases.submit_report(&actor, &which).await {
        Ok(_) => Ok(see_other(&format!("{}?esito=presentato", report_href(&id)))),
        Err(e) if e.is_refusal() => {
            let status = ApiError::from(e.clone()).status;
            let problems = e.field_errors();
            let text = e.text().get(ctx.locale).to_string();
            let view = use_cases
                .report_view(&actor, &which)
                .await
                .map_err(ApiError::from)?;
            let with = (!problems.is_empty()).then_some((input, problems, kept));
            Ok(page(
                &s,
                &ctx,
                &session,
                &id,
                &view,
                with,
                status,
                Some(("danger", text)),
            )
            .await?)
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}
