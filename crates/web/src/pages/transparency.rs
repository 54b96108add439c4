//! The transparency page of a call (`/bandi/{code}/trasparenza`, D.Lgs. 33/2013, articles
//! 26 and 27: "Amministrazione trasparente – Sovvenzioni, contributi, sussidi, vantaggi
//! economici") and its open data: `/bandi/{code}/open-data.csv`, `/open-data.csv` (every
//! call), `/bandi/{code}/360giving.json`, `/360giving.json`. Read from the store at every
//! request ([`crate::opendata`]).

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_domain::i18n::Locale;

use super::admin::{act_href, load_call, now};
use super::calls::CallView;
use super::{Ctx, Layout, PageState, encode, render};
use crate::ApiError;
use crate::opendata::export::{Format, export};
use crate::opendata::{CallGrants, Grant, sheet};

pub(crate) struct GrantLine {
    pub seq: u64,
    pub protocol: String,
    pub entity: String,
    pub fiscal_code: Option<String>,
    pub kind: String,
    pub province: Option<String>,
    pub title: String,
    pub cup: Option<String>,
    pub awarded: String,
    pub act: Option<String>,
    pub act_href: Option<String>,
    pub list_href: Option<String>,
    pub final_grant: Option<String>,
    pub paid: String,
    /// The revocation's act and what is to be recovered.
    pub revoked: Option<(String, String)>,
    pub stage: &'static str,
    pub stage_label: &'static str,
    pub ledger_href: String,
}

fn line(code: &str, g: &Grant, locale: Locale) -> GrantLine {
    let r = &g.row;
    GrantLine {
        seq: r.seq,
        protocol: r.protocol.clone(),
        entity: r.entity_name.clone(),
        fiscal_code: r.fiscal_code.clone().filter(|c| !c.trim().is_empty()),
        kind: g.kind_label(locale),
        province: r.province.clone(),
        title: r.title.clone(),
        cup: r.cup.clone(),
        awarded: g.awarded.in_locale(locale),
        act: g.act.as_ref().map(|a| a.words(locale)),
        act_href: g
            .act
            .as_ref()
            .and_then(|a| a.document.as_ref())
            .map(|d| act_href(code, d)),
        list_href: g
            .act
            .as_ref()
            .map(|a| format!("/bandi/{}/elenco?versione={}", encode(code), a.version)),
        final_grant: g.final_grant().map(|m| m.in_locale(locale)),
        paid: r.paid.in_locale(locale),
        revoked: g.revocation.as_ref().map(|v| {
            (
                format!(
                    "{} {} {}",
                    v.number,
                    if locale == Locale::En { "of" } else { "del" },
                    sheet::date_it(&v.date)
                ),
                v.to_recover.in_locale(locale),
            )
        }),
        stage: g.stage().as_str(),
        stage_label: g.stage().label(locale),
        ledger_href: format!("/registro?protocollo={}", encode(&r.protocol)),
    }
}

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyPage {
    l: Layout,
    c: CallView,
    call_title: String,
    act_of_award: Option<String>,
    act_of_award_href: Option<String>,
    list_href: Option<String>,
    office: String,
    grants: Vec<GrantLine>,
    total_awarded: String,
    total_final: String,
    total_paid: String,
    total_revoked: String,
    total_to_recover: String,
    updated: String,
    csv_href: String,
    json_href: String,
    giving_href: String,
    stats_href: String,
}

/// `/bandi/{code}/trasparenza`.
pub async fn show(
    State(s): State<PageState>,
    ctx: Ctx,
    code: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let stored = load_call(&s, code).await?;
    let locale = ctx.locale;
    let view = CallView::of(&stored, now(), locale);
    let grants = CallGrants::load(s.app.store(), stored).await?;
    let code = grants.code().to_string();
    let totals = grants.totals();
    let title = format!(
        "{}: {}",
        ctx.t("Trasparenza dei contributi", "Transparency of the grants"),
        view.title
    );
    let page = TransparencyPage {
        l: ctx.call_layout(title, &view),
        call_title: view.title.clone(),
        act_of_award: grants.latest_act.as_ref().map(|a| a.words(locale)),
        act_of_award_href: grants
            .latest_act
            .as_ref()
            .and_then(|a| a.document.as_ref())
            .map(|d| act_href(&code, d)),
        list_href: grants
            .latest_act
            .as_ref()
            .map(|a| format!("/bandi/{}/elenco?versione={}", encode(&code), a.version)),
        office: ctx.site.office.clone(),
        grants: grants
            .grants
            .iter()
            .map(|g| line(&code, g, locale))
            .collect(),
        total_awarded: totals.awarded.in_locale(locale),
        total_final: totals.final_grant.in_locale(locale),
        total_paid: totals.paid.in_locale(locale),
        total_revoked: totals.revoked.in_locale(locale),
        total_to_recover: totals.to_recover.in_locale(locale),
        updated: grants.call().local_time(now()),
        csv_href: format!("/bandi/{}/open-data.csv", encode(&code)),
        json_href: format!("/api/v1/calls/{}/grants", encode(&code)),
        giving_href: format!("/bandi/{}/360giving.json", encode(&code)),
        stats_href: format!("/bandi/{}/statistiche", encode(&code)),
        c: view,
    };
    render(StatusCode::OK, &page)
}

/// A file of open data, as `bandi export` writes it: the call's, or every call's.
async fn download(
    s: &PageState,
    format: Format,
    code: Option<Result<Path<String>, PathRejection>>,
) -> Result<Response, ApiError> {
    let code = code
        .map(|c| c.map(|Path(c)| c).map_err(|_| ApiError::not_found()))
        .transpose()?;
    let file = export(s.app.store(), &s.app.site, format, code.as_deref()).await?;
    Ok(sheet::download(
        file.body,
        format.content_type(),
        &file.file_name,
    ))
}

/// `/bandi/{code}/open-data.csv`.
pub async fn call_csv(
    State(s): State<PageState>,
    code: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    download(&s, Format::Csv, Some(code)).await
}

/// `/open-data.csv`: every call's grants.
pub async fn all_csv(State(s): State<PageState>) -> Result<Response, ApiError> {
    download(&s, Format::Csv, None).await
}

/// `/bandi/{code}/360giving.json`.
pub async fn call_360(
    State(s): State<PageState>,
    code: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    download(&s, Format::Giving360, Some(code)).await
}

/// `/360giving.json`: every call's grants.
pub async fn all_360(State(s): State<PageState>) -> Result<Response, ApiError> {
    download(&s, Format::Giving360, None).await
}
