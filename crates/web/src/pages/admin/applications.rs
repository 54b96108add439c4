//! A call's page for officials: its applications in protocol order with their review,
//! filters and exports; for admins the budget's top-up and the publication of the list.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bandi_domain::allocation::Status;
use bandi_domain::call::CallState;
use bandi_domain::i18n::Locale;
use std::collections::HashMap;

use axum::response::Response;
use bandi_domain::review::ReviewState;
use bandi_store::{ReviewSummary, Role, Session, StoredApplication, StoredCall};

use super::*;
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, require_official};
use crate::pages::applicant::document_href;
use crate::pages::applicant::status_class;
use crate::pages::calls::{CallView, precise_local};
use crate::pages::i18n::status_label;
use crate::pages::{Ctx, Layout, Nav, PageState, encode, render};

pub(crate) struct AdminApplicationRow {
    pub seq: u64,
    pub href: String,
    pub review_state: &'static str,
    pub review_label: String,
    pub holder: Option<String>,
    pub cup: Option<String>,
    pub open_request: bool,
    pub protocol: String,
    pub entity: String,
    /// The entity's ISTAT code, when it has one: people know entities by name and ISTAT
    /// code, never by the platform's internal code.
    pub entity_istat: Option<String>,
    pub received: String,
    pub title: String,
    /// How many good practices it cites: the call's «riuso» flag.
    pub reuses: usize,
    pub requested: String,
    pub reserved: String,
    pub status: &'static str,
    pub status_class: &'static str,
    /// The documents the application sealed: file name and download link.
    pub documents: Vec<(String, String)>,
}

/// A published version of the list, as the officials' page names it.
pub(crate) struct VersionView {
    pub version: u32,
    pub act: String,
    pub published: String,
    pub href: String,
    pub act_href: Option<String>,
    pub ledger_href: String,
}

/// What an admin typed in the budget or publication form, given back after a refusal.
#[derive(Default)]
pub(crate) struct Typed {
    /// Typed in the budget's form (else in the publication's).
    pub budget: bool,
    pub amount: String,
    pub act_number: String,
    pub act_date: Option<String>,
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
    outcome: Option<Outcome>,
    editable: bool,
    admin: bool,
    versions: Vec<VersionView>,
    review_counts: Vec<(String, usize)>,
    today: String,
    notices_href: String,
    csv_href: String,
    lines_csv_href: String,
    xlsx_href: String,
    typed: Typed,
    /// Funded awards whose report is late: `(link, protocol, entity, deadline)`.
    late: Vec<(String, String, String, String)>,
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

/// The name and ISTAT code of each entity in `codes`, by internal code; an entity no
/// longer in the registry keeps its code as its name.
pub(crate) async fn entity_labels(
    s: &PageState,
    codes: Vec<String>,
) -> Result<HashMap<String, (String, Option<String>)>, ApiError> {
    let mut out = HashMap::new();
    for code in codes {
        if out.contains_key(&code) {
            continue;
        }
        let label = match s.app.store().entity(&code).await? {
            Some(e) => (e.name, e.istat_code),
            None => (code.to_string(), None),
        };
        out.insert(code.to_string(), label);
    }
    Ok(out)
}

/// The call in the path: a missing one is «no such call» (a page, as for the API a JSON).
pub(crate) async fn load_call(
    s: &PageState,
    code: Result<Path<String>, PathRejection>,
) -> Result<bandi_store::StoredCall, ApiError> {
    crate::api::calls::load(&s.app, code).await
}

fn outcome_text(v: &str, locale: Locale) -> Option<&'static str> {
    if let Some(t) = super::list::outcome_text(v, locale) {
        return Some(t);
    }
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
    require_official(&session)?;
    let stored = load_call(&s, code).await?;
    let outcome = ctx
        .param("esito")
        .and_then(|v| outcome_text(v, ctx.locale))
        .map(Outcome::done);
    let typed = Typed::default();
    Ok(call_page(&s, &ctx, &session, &stored, StatusCode::OK, outcome, typed).await?)
}

/// The call's page for officials, with `outcome` above it.
pub(crate) async fn call_page(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    stored: &StoredCall,
    status: StatusCode,
    outcome: Option<Outcome>,
    typed: Typed,
) -> Result<Response, ApiError> {
    let locale = ctx.locale;
    let filter = status_filter(ctx);
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
    let store = s.app.store();
    let reviews: HashMap<u64, ReviewSummary> = store
        .call_reviews(&code)
        .await?
        .into_iter()
        .map(|r| (r.seq, r))
        .collect();
    let mut names: HashMap<String, String> = HashMap::new();
    for r in reviews.values() {
        if let Some(id) = &r.holder
            && !names.contains_key(id)
        {
            let name = store
                .user(id)
                .await?
                .map(|u| u.name)
                .unwrap_or_else(|| id.clone());
            names.insert(id.clone(), name);
        }
    }
    let mut counts: Vec<(ReviewState, usize)> =
        ReviewState::ALL.iter().map(|st| (*st, 0)).collect();
    for r in reviews.values() {
        if let Some(c) = counts.iter_mut().find(|c| c.0 == r.state) {
            c.1 += 1;
        }
    }
    let now = now();
    let apps = applications(s, &code, filter).await?;
    let codes = apps.iter().map(|(a, _)| a.receipt.entity.clone()).collect();
    let labels = entity_labels(s, codes).await?;
    let rows = apps
        .into_iter()
        .map(|(a, entity)| {
            let r = &a.receipt;
            let review = reviews.get(&r.seq);
            let state = review.map(|v| v.state).unwrap_or(ReviewState::ToReview);
            AdminApplicationRow {
                seq: r.seq,
                href: super::application::href(&code, r.seq),
                review_state: state.as_str(),
                review_label: state.label().get(locale).to_string(),
                holder: review
                    .and_then(|v| v.holder.as_ref())
                    .filter(|_| state == ReviewState::InReview)
                    .map(|h| names.get(h).cloned().unwrap_or_else(|| h.clone())),
                cup: review.and_then(|v| v.cup.clone()),
                open_request: review.and_then(|v| v.open_request).is_some_and(|d| d > now),
                protocol: r.protocol.clone(),
                entity_istat: labels.get(&r.entity).and_then(|l| l.1.clone()),
                entity,
                received: precise_local(call, &r.received_at, locale),
                title: a.content.title.clone(),
                reuses: a.content.practices.len(),
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
    let versions = store
        .published_lists(&code)
        .await?
        .into_iter()
        .map(|v| VersionView {
            version: v.version,
            act: format!("{} {} {}", v.act_number, ctx.t("del", "of"), v.act_date),
            published: call.local_time(v.published_at),
            href: format!("{}?versione={}", public_list_href(&code), v.version),
            act_href: v.act_document_id.map(|id| act_href(&code, &id)),
            ledger_href: format!("/registro?voce={}", v.ledger_seq),
        })
        .collect();
    let late = s
        .app
        .app
        .late_reports(&bandi_app::Actor::User(session.user.clone()), &code)
        .await
        .map_err(ApiError::from)?
        .into_iter()
        .map(|l| {
            (
                format!("{}/rendiconto", super::application::href(&code, l.seq)),
                l.protocol,
                l.entity,
                l.deadline.strftime("%d/%m/%Y").to_string(),
            )
        })
        .collect();
    let view = CallView::of(stored, now, locale);
    let admin = session.user.role == Role::Admin;
    let page = CallPage {
        l: ctx
            .layout(view.title.clone(), crumbs(ctx), Nav::Admin)
            .signed(session),
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
        outcome,
        editable: admin && call.state_at(now) == CallState::Upcoming && stored.applications == 0,
        admin,
        versions,
        review_counts: counts
            .into_iter()
            .filter(|c| c.1 > 0)
            .map(|(st, n)| (st.label().get(locale).to_string(), n))
            .collect(),
        today: typed
            .act_date
            .clone()
            .unwrap_or_else(|| now.to_zoned_datetime(call.tz()).date().to_string()),
        typed,
        late,
        notices_href: format!("/amministrazione/bandi/{}/comunicazioni", encode(&code)),
        csv_href: format!(
            "/amministrazione/bandi/{}/domande.csv{query}",
            encode(&code)
        ),
        lines_csv_href: format!("/amministrazione/bandi/{}/voci.csv{query}", encode(&code)),
        xlsx_href: format!(
            "/amministrazione/bandi/{}/domande.xlsx{query}",
            encode(&code)
        ),
        c: view,
    };
    render(status, &page)
}

/// The public list of a call: `/bandi/{code}/elenco`.
pub(crate) fn public_list_href(code: &str) -> String {
    format!("/bandi/{}/elenco", encode(code))
}

/// An act's document, public: `/bandi/{code}/atti/{sha256}`.
pub(crate) fn act_href(code: &str, id: &str) -> String {
    format!("/bandi/{}/atti/{}", encode(code), id)
}
