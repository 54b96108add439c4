//! The receipt of a submitted application, printable.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_domain::application::ApplicationContent;
use bandi_store::{Receipt, Role, Session};

use super::follow::{FollowView, done_text};

use super::documents::DocumentView;
use super::*;
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, require, see_other};
use crate::pages::calls::precise_local;
use crate::pages::i18n::status_label;
use crate::pages::services::{CitedPractice, bought_words, cited_practices};
use crate::pages::{Crumb, Ctx, Layout, Nav, PageState, encode, render};

pub(crate) struct ReceiptLine {
    pub category: String,
    pub description: String,
    pub amount: String,
    /// What a catalogue line bought.
    pub bought: Option<String>,
}

pub(crate) struct ReceiptIndicator {
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    l: Layout,
    r: Receipt,
    just_submitted: bool,
    call_title: String,
    call_href: String,
    entity_name: String,
    /// Shown only when it is an ISTAT code: other codes are internal.
    entity_istat: Option<String>,
    received_local: String,
    time_zone: String,
    ledger_href: String,
    project_title: String,
    summary: Vec<String>,
    lines: Vec<ReceiptLine>,
    practices: Vec<CitedPractice>,
    indicators: Vec<ReceiptIndicator>,
    total: String,
    eligible: String,
    requested: String,
    reserved_at_receipt: String,
    status_at_receipt: &'static str,
    status: &'static str,
    status_class: &'static str,
    /// The documents the application sealed: the call's label and the document.
    documents: Vec<(String, DocumentView)>,
    reserved: String,
    notices: Vec<String>,
    dashboard_href: String,
    follow: FollowView,
    csrf: String,
    action: String,
    signed_href: String,
    keys_href: &'static str,
}

/// The receipt; an official is sent to the application's page for officials.
pub async fn receipt(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    id: Result<Path<String>, PathRejection>,
) -> PageResult {
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found().into());
    };
    if session.user.role.is_official() {
        let app = s
            .app
            .store()
            .application(&id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let r = &app.receipt;
        return Ok(see_other(&crate::pages::admin::application_href(
            &r.call, r.seq,
        )));
    }
    require(&session, Role::Applicant)?;
    let outcome = ctx
        .param("esito")
        .and_then(|v| done_text(v, &ctx))
        .map(|t| ("success", t));
    Ok(page(&s, &ctx, &session, &id, StatusCode::OK, outcome).await?)
}

/// The receipt of application `id` with the review so far, and `outcome` above it.
pub(crate) async fn page(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    id: &str,
    status: StatusCode,
    outcome: Option<(&'static str, String)>,
) -> Result<Response, ApiError> {
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
    let r = app.receipt.clone();
    let stored = load_call(s, &r.call).await?;
    let under_review = s
        .app
        .store()
        .under_review(&r.call, r.seq)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let follow = FollowView::load(
        s,
        ctx,
        &stored.call,
        &under_review,
        (r.eligible_cost_cents, r.requested_cents),
        outcome,
    )
    .await?;
    let call = &stored.call;
    let locale = ctx.locale;
    let entity = s.app.store().entity(&r.entity).await?;
    let entity_istat = entity.as_ref().and_then(|e| e.istat_code.clone());
    let entity_name = entity.map(|e| e.name).unwrap_or_else(|| r.entity.clone());
    let content: &ApplicationContent = &app.content;
    let lines = content
        .lines
        .iter()
        .map(|l| ReceiptLine {
            category: call
                .category(&l.category)
                .map(|c| c.label.get(locale).to_string())
                .unwrap_or_else(|| l.category.clone()),
            description: l.description.clone(),
            amount: l.amount_cents.in_locale(locale),
            bought: bought_words(l, locale),
        })
        .collect();
    let practices = cited_practices(s, &content.practices).await?;
    let documents = s
        .app
        .store()
        .application_documents(&r.id)
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
    let indicators = call
        .indicators
        .iter()
        .filter_map(|i| {
            content.indicators.get(&i.code).map(|v| ReceiptIndicator {
                label: i.label.get(locale).to_string(),
                value: match v {
                    bandi_domain::application::IndicatorValue::Integer(n) => n.to_string(),
                    bandi_domain::application::IndicatorValue::Text(t) => t.clone(),
                },
            })
        })
        .collect();
    let ui = ctx.ui();
    let page = ReceiptPage {
        l: ctx
            .layout(
                format!(
                    "{} {}",
                    ctx.t("Ricevuta della domanda", "Receipt of application"),
                    r.protocol
                ),
                vec![
                    Crumb::new(ui.home, "/"),
                    Crumb::new(
                        ctx.t("Area riservata", "Reserved area"),
                        format!("/area-riservata?ente={}", encode(&r.entity)),
                    ),
                ],
                Nav::Reserved,
            )
            .signed(session),
        follow,
        csrf: session.csrf_token.clone(),
        action: super::receipt_href(&r.id),
        signed_href: format!("{}/firmata", super::receipt_href(&r.id)),
        keys_href: "/api/v1/keys",
        just_submitted: ctx.param("nuova").is_some(),
        call_title: call.title.get(locale).to_string(),
        call_href: format!("/bandi/{}", call.code),
        entity_name,
        entity_istat,
        received_local: precise_local(call, &r.received_at, locale),
        time_zone: call.time_zone.clone(),
        ledger_href: format!("/registro?voce={}", r.ledger_seq),
        project_title: content.title.clone(),
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
        total: r.total_cost_cents.in_locale(locale),
        eligible: r.eligible_cost_cents.in_locale(locale),
        requested: r.requested_cents.in_locale(locale),
        reserved_at_receipt: r.reserved_cents.in_locale(locale),
        status_at_receipt: status_label(r.status, locale),
        status: status_label(app.status, locale),
        status_class: status_class(app.status),
        reserved: app.reserved.in_locale(locale),
        notices: r
            .notices
            .iter()
            .map(|n| n.text.get(locale).to_string())
            .collect(),
        dashboard_href: format!("/area-riservata?ente={}", encode(&r.entity)),
        r,
    };
    render(status, &page)
}

/// `/area-riservata/ricevuta/{id}/firmata`: the signed receipt as a JSON file, as the API
/// gave it; `bandi receipt verify` checks it offline with the published key.
pub async fn signed(
    State(s): State<PageState>,
    Signed(session): Signed,
    id: Result<Path<String>, PathRejection>,
) -> PageResult {
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found().into());
    };
    if id.len() > 64 {
        return Err(ApiError::not_found().into());
    }
    let app = s
        .app
        .store()
        .application(&id)
        .await?
        .filter(|a| session.user.role.is_official() || session.user.acts_for(&a.receipt.entity))
        .ok_or_else(ApiError::not_found)?;
    let r = &app.receipt;
    let body = serde_json::to_vec_pretty(r).map_err(|_| ApiError::internal())?;
    let name = format!("ricevuta-{}.json", r.protocol.replace('/', "-"));
    Ok(super::file_response("application/json", &name, body))
}
