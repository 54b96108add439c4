//! The statistics of a call (`/bandi/{code}/statistiche`), public: applications per minute
//! on the click day, the money by province and by kind of body, the money's path from the
//! request to the payment, the indicators promised and achieved. Each is a chart drawn on
//! the server ([`super::charts`]) beside a table with the same numbers, which downloads as
//! CSV (`/bandi/{code}/statistiche/{table}.csv`, the open data's dialect). No JavaScript.

pub(crate) mod impact;
mod tables;

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_domain::i18n::Locale;

use super::admin::{load_call, now};
use super::calls::CallView;
use super::{Ctx, Layout, PageState, encode, render};
use crate::ApiError;
use crate::opendata::{CallGrants, sheet};
pub(crate) use tables::TABLES;
use tables::{Inputs, Table};

/// A table as the page shows it.
pub(crate) struct Section {
    pub id: &'static str,
    pub title: String,
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<tables::Cell>>,
    pub empty: String,
    /// The chart, an `<svg>` element built by [`super::charts`] (its texts escaped there).
    pub svg: String,
    pub csv_href: String,
}

impl Section {
    /// A table as the page shows it, its CSV at `csv_href`.
    fn of(t: Table, csv_href: String) -> Section {
        Section {
            csv_href,
            svg: t.chart.svg(),
            id: t.id,
            title: t.title,
            caption: t.caption,
            headers: t.headers,
            rows: t.rows,
            empty: t.empty,
        }
    }
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct StatisticsPage {
    l: Layout,
    c: CallView,
    sections: Vec<Section>,
    transparency_href: String,
    impact_href: String,
    updated: String,
}

/// Everything the tables are computed from, read at once.
async fn load(
    s: &PageState,
    stored: bandi_store::StoredCall,
    locale: Locale,
) -> Result<(CallGrants, Vec<Table>), ApiError> {
    let store = s.app.store();
    let code = stored.call.code.to_string();
    let admissions = store.admissions(&code).await?;
    let ranking = store.ranking(&code).await?;
    let contents = store.admitted_contents(&code).await?;
    let promised: Vec<(u64, bandi_store::Indicators)> = contents
        .iter()
        .map(|(seq, c)| (*seq, c.indicators.clone()))
        .collect();
    let services = store.services_ever().await?;
    let achieved = store.achieved_indicators(&code).await?;
    let grants = CallGrants::load(store, stored).await?;
    let tables = tables::all(
        &Inputs {
            grants: &grants,
            admissions: &admissions,
            ranking: &ranking,
            promised: &promised,
            achieved: &achieved,
            contents: &contents,
            services: &services,
        },
        locale,
    );
    Ok((grants, tables))
}

/// `/bandi/{code}/statistiche`.
pub async fn show(
    State(s): State<PageState>,
    ctx: Ctx,
    code: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let stored = load_call(&s, code).await?;
    let locale = ctx.locale;
    let view = CallView::of(&stored, now(), locale);
    let (grants, tables) = load(&s, stored, locale).await?;
    let code = grants.code().to_string();
    let page = StatisticsPage {
        l: ctx.call_layout(
            format!("{}: {}", ctx.t("Statistiche", "Statistics"), view.title),
            &view,
        ),
        sections: tables
            .into_iter()
            .map(|t| {
                let csv = format!("/bandi/{}/statistiche/{}.csv", encode(&code), t.id);
                Section::of(t, csv)
            })
            .collect(),
        transparency_href: format!("/bandi/{}/trasparenza", encode(&code)),
        impact_href: format!("/impatto?bando={}", encode(&code)),
        updated: grants.call().local_time(now()),
        c: view,
    };
    render(StatusCode::OK, &page)
}

/// `/bandi/{code}/statistiche/{table}.csv`: a table of the page, headers in Italian.
pub async fn table_csv(
    State(s): State<PageState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path((code, file))) = path else {
        return Err(ApiError::not_found());
    };
    let name = file
        .strip_suffix(".csv")
        .filter(|n| TABLES.contains(n))
        .ok_or_else(ApiError::not_found)?
        .to_string();
    let stored = load_call(&s, Ok(Path(code))).await?;
    let (grants, tables) = load(&s, stored, Locale::It).await?;
    let table = tables
        .into_iter()
        .find(|t| t.id == name)
        .ok_or_else(ApiError::not_found)?;
    csv_download(table, &format!("{name}-{}.csv", grants.code()))
}

/// A table as a CSV download, in the open data's dialect.
fn csv_download(table: Table, file_name: &str) -> Result<Response, ApiError> {
    let headers: Vec<&str> = table.headers.iter().map(String::as_str).collect();
    let body = sheet::write(
        &headers,
        table
            .rows
            .into_iter()
            .map(|r| r.into_iter().map(|c| c.csv).collect()),
    )?;
    Ok(sheet::download(body, "text/csv; charset=utf-8", file_name))
}
