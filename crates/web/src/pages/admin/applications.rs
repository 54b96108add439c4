//! A call's page for officials: its applications in protocol order, with filters.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bandi_domain::allocation::Status;
use bandi_domain::call::CallState;
use bandi_domain::i18n::Locale;
use bandi_store::{Role, StoredApplication};

use super::*;
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, require};
use crate::pages::applicant::document_href;
use crate::pages::applicant::status_class;
use crate::pages::calls::{CallView, precise_local};
use crate::pages::i18n::status_label;
use crate::pages::{Ctx, Layout, Nav, PageState, encode, render};

pub(crate) struct AdminApplicationRow {
    pub seq: u64,
    pub protocol: String,
    pub entity: String,
    pub entity_code: String,
    pub received: String,
    pub title: String,
    pub requested: String,
    pub reserved: String,
    pub status: &'static str,
    pub status_class: &'static str,
    /// The documents the application sealed: file name and download link.
    pub documents: Vec<(String, String)>,
}

pub(crate) struct FilterOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "admin_call.html")]
struct CallPage {
    l: Layout,
    c: CallView,
    csrf: String,
    rows: Vec<AdminApplicationRow>,
    filters: Vec<FilterOption>,
    filtered: bool,
    outcome: Option<&'static str>,
    editable: bool,
    csv_href: String,
    xlsx_href: String,
}

/// The status filter of the list and of the exports (`?stato=`), if any.
pub(crate) fn status_filter(ctx: &Ctx) -> Option<Status> {
    ctx.param("stato").and_then(Status::parse)
}

/// A call's applications in protocol order, each with its entity's name.
pub(crate) async fn applications(
    s: &PageState,
    code: &str,
    filter: Option<Status>,
) -> Result<Vec<(StoredApplication, String)>, ApiError> {
    let names: std::collections::HashMap<u64, String> = s
        .app
        .store()
        .ranking(code)
        .await?
        .into_iter()
        .map(|r| (r.seq, r.entity_name))
        .collect();
    Ok(s.app
        .store()
        .call_applications(code)
        .await?
        .into_iter()
        .filter(|a| filter.is_none_or(|f| a.status == f))
        .map(|a| {
            let name = names
                .get(&a.receipt.seq)
                .cloned()
                .unwrap_or_else(|| a.receipt.entity.clone());
            (a, name)
        })
        .collect())
}

/// The call in the path: a missing one is «no such call» (a page, as for the API a JSON).
pub(crate) async fn load_call(
    s: &PageState,
    code: Result<Path<String>, PathRejection>,
) -> Result<bandi_store::StoredCall, ApiError> {
    crate::api::calls::load(&s.app, code).await
}

fn outcome_text(v: &str, locale: Locale) -> Option<&'static str> {
    let it = locale == Locale::It;
    Some(match v {
        "pubblicato" if it => "Bando pubblicato.",
        "pubblicato" => "Call published.",
        "modificato" if it => "Bando modificato: la nuova versione è pubblicata nel registro.",
        "modificato" => "Call changed: the new version is published in the ledger.",
        "invariato" if it => "Il file è identico al bando pubblicato: nessuna modifica.",
        "invariato" => "The file is the same as the published call: nothing changed.",
        _ => return None,
    })
}

pub async fn call(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    code: Result<Path<String>, PathRejection>,
) -> PageResult {
    require(&session, Role::Admin)?;
    let stored = load_call(&s, code).await?;
    let locale = ctx.locale;
    let filter = status_filter(&ctx);
    let call = &stored.call;
    let code = call.code.to_string();
    let mut documents: std::collections::HashMap<String, Vec<(String, String)>> =
        std::collections::HashMap::new();
    for d in s.app.store().call_documents(&code).await? {
        if let Some(app) = &d.application {
            documents
                .entry(app.clone())
                .or_default()
                .push((d.file_name.clone(), document_href(&d.id)));
        }
    }
    let rows = applications(&s, &code, filter)
        .await?
        .into_iter()
        .map(|(a, entity)| {
            let r = &a.receipt;
            AdminApplicationRow {
                seq: r.seq,
                protocol: r.protocol.clone(),
                entity,
                entity_code: r.entity.clone(),
                received: precise_local(call, &r.received_at, locale),
                title: a.content.title.clone(),
                requested: r.requested_cents.in_locale(locale),
                reserved: a.reserved.in_locale(locale),
                status: status_label(a.status, locale),
                status_class: status_class(a.status),
                documents: documents.remove(&r.id).unwrap_or_default(),
            }
        })
        .collect();
    let query = match filter {
        Some(f) => format!("?stato={}", f.as_str()),
        None => String::new(),
    };
    let view = CallView::of(&stored, now(), locale);
    let page = CallPage {
        l: ctx
            .layout(view.title.clone(), crumbs(&ctx), Nav::Admin)
            .signed(&session),
        csrf: session.csrf_token.clone(),
        rows,
        filters: Status::ALL
            .iter()
            .map(|st| FilterOption {
                value: st.as_str(),
                label: status_label(*st, locale),
                selected: filter == Some(*st),
            })
            .collect(),
        filtered: filter.is_some(),
        outcome: ctx.param("esito").and_then(|v| outcome_text(v, locale)),
        editable: call.state_at(now()) == CallState::Upcoming && stored.applications == 0,
        csv_href: format!(
            "/amministrazione/bandi/{}/domande.csv{query}",
            encode(&code)
        ),
        xlsx_href: format!(
            "/amministrazione/bandi/{}/domande.xlsx{query}",
            encode(&code)
        ),
        c: view,
    };
    Ok(render(StatusCode::OK, &page)?)
}
