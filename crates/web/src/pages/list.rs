//! The published list of a call (`/bandi/{code}/elenco`): the latest version approved by
//! an act, or any earlier one (`?versione=N`), in sections with the words of a
//! first-come call; and the acts' documents (`/bandi/{code}/atti/{sha256}`).

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_domain::list::Outcome;
use bandi_store::PublishedVersion;

use super::admin::{act_href, load_call, public_list_href};
use super::applicant::file_response;
use super::calls::{CallView, precise_local};
use super::{Ctx, Layout, PageState, encode, render};
use crate::ApiError;

pub(crate) struct ListRowView {
    pub seq: u64,
    pub protocol: String,
    pub ledger_href: String,
    pub entity: String,
    pub received: String,
    pub requested: String,
    pub granted: String,
}

pub(crate) struct Section {
    pub id: &'static str,
    pub title: String,
    /// What the amount column holds: a grant, or (under review) money only reserved.
    pub amount_header: &'static str,
    pub total: String,
    pub rows: Vec<ListRowView>,
}

pub(crate) struct VersionLink {
    pub href: String,
    pub label: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    l: Layout,
    c: CallView,
    version: Option<u32>,
    latest: bool,
    act: String,
    act_href: Option<String>,
    published: String,
    list_sha256: String,
    ledger_href: String,
    json_href: String,
    sections: Vec<Section>,
    versions: Vec<VersionLink>,
}

fn act_words(v: &PublishedVersion, ctx: &Ctx) -> String {
    let date = v
        .act_date
        .parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| v.act_date.clone());
    format!("{} {} {date}", v.act_number, ctx.t("del", "of"))
}

pub async fn show(
    State(s): State<PageState>,
    ctx: Ctx,
    code: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let stored = load_call(&s, code).await?;
    let call = &stored.call;
    let code = call.code.as_str();
    let locale = ctx.locale;
    let versions = s.app.store().published_lists(code).await?;
    let asked = match ctx.param("versione") {
        Some(v) => Some(v.parse::<u32>().map_err(|_| ApiError::not_found())?),
        None => None,
    };
    let shown = match asked {
        Some(n) => Some(
            versions
                .iter()
                .find(|v| v.version == n)
                .ok_or_else(ApiError::not_found)?,
        ),
        None => versions.first(),
    };
    let view = CallView::of(&stored, super::admin::now(), locale);
    let title = format!(
        "{}: {}",
        ctx.t(
            "Elenco cronologico delle domande",
            "Chronological list of the applications"
        ),
        view.title
    );
    let layout = ctx.call_layout(title, &view);
    let sections = shown
        .map(|v| {
            Outcome::SECTIONS
                .iter()
                .filter_map(|o| {
                    let rows: Vec<_> = v.rows.iter().filter(|r| r.outcome == *o).collect();
                    if rows.is_empty() {
                        return None;
                    }
                    let total = rows
                        .iter()
                        .map(|r| r.granted_cents)
                        .fold(bandi_domain::money::Money::ZERO, |a, b| {
                            a.checked_add(b).unwrap_or(a)
                        });
                    Some(Section {
                        amount_header: if *o == Outcome::InReview {
                            ctx.t(
                                "Risorse riservate, in istruttoria",
                                "Funds reserved, under review",
                            )
                        } else {
                            ctx.t("Contributo concesso", "Grant awarded")
                        },
                        id: o.as_str(),
                        title: o.label().get(locale).to_string(),
                        total: total.in_locale(locale),
                        rows: rows
                            .into_iter()
                            .map(|r| ListRowView {
                                seq: r.seq,
                                ledger_href: format!(
                                    "/registro?protocollo={}",
                                    encode(&r.protocol)
                                ),
                                protocol: r.protocol.clone(),
                                entity: r.entity_name.clone(),
                                received: precise_local(call, &r.received_at, locale),
                                requested: r.requested_cents.in_locale(locale),
                                granted: r.granted_cents.in_locale(locale),
                            })
                            .collect(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let page = ListPage {
        l: layout,
        version: shown.map(|v| v.version),
        latest: shown.is_some_and(|v| Some(v.version) == versions.first().map(|f| f.version)),
        act: shown.map(|v| act_words(v, &ctx)).unwrap_or_default(),
        act_href: shown
            .and_then(|v| v.act_document_id.as_ref())
            .map(|id| act_href(code, id)),
        published: shown
            .map(|v| call.local_time(v.published_at))
            .unwrap_or_default(),
        list_sha256: shown.map(|v| v.list_sha256.clone()).unwrap_or_default(),
        ledger_href: shown
            .map(|v| format!("/registro?voce={}", v.ledger_seq))
            .unwrap_or_default(),
        json_href: shown
            .map(|v| format!("/api/v1/calls/{}/lists/{}", encode(code), v.version))
            .unwrap_or_default(),
        sections,
        versions: versions
            .iter()
            .map(|v| VersionLink {
                href: format!("{}?versione={}", public_list_href(code), v.version),
                label: format!(
                    "{} {} · {} · {}",
                    ctx.t("Versione", "Version"),
                    v.version,
                    act_words(v, &ctx),
                    call.local_time(v.published_at)
                ),
                current: shown.is_some_and(|s| s.version == v.version),
            })
            .collect(),
        c: view,
    };
    render(StatusCode::OK, &page)
}

/// An act's document, public like the act: `/bandi/{code}/atti/{sha256}`.
pub async fn act(
    State(s): State<PageState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path((code, id))) = path else {
        return Err(ApiError::not_found());
    };
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::not_found());
    }
    let Some((call, _name, content_type, bytes)) = s.app.store().act_document(&id).await? else {
        return Err(ApiError::not_found());
    };
    if call != code {
        return Err(ApiError::not_found());
    }
    let ext = if content_type == "application/pdf" {
        "pdf"
    } else {
        "bin"
    };
    let name = format!("atto-{code}-{}.{ext}", &id[..12]);
    Ok(file_response(&content_type, &name, bytes))
}
