//! Exports of a call's applications for the officials, in protocol order: CSV (for
//! programs: plain amounts such as `52500.00`, instants in UTC and in the call's time
//! zone) and XLSX (for offices: amounts as numbers in euro format, ready to sum and filter).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bandi_domain::money::Money;
use bandi_store::{Role, StoredApplication};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::PageState;
use super::account::{PageResult, Signed, require};
use super::admin::{applications, load_call, status_filter};
use super::calls::precise_local;
use super::{Ctx, i18n::status_label};
use crate::ApiError;

const COLUMNS: [&str; 15] = [
    "seq",
    "protocol",
    "received_at_utc",
    "received_at_local",
    "entity_code",
    "entity_name",
    "title",
    "total_cost",
    "eligible_cost",
    "requested",
    "reserved",
    "status",
    "content_sha256",
    "ledger_seq",
    "attachments",
];

/// The same columns for people, in Italian: the XLSX header.
const HEADERS_IT: [&str; 15] = [
    "N.",
    "Protocollo",
    "Ricevuta (UTC)",
    "Ricevuta (ora locale)",
    "Codice ente",
    "Ente",
    "Titolo del progetto",
    "Costo totale",
    "Spesa ammissibile",
    "Contributo richiesto",
    "Contributo riservato",
    "Stato",
    "Impronta SHA-256",
    "Voce del registro",
    "Allegati (codice:SHA-256)",
];

/// The documents the application names, as `code:sha256` separated by spaces: what the
/// content hash covers, so that an official can match each file to the receipt.
fn attachments(a: &StoredApplication) -> String {
    a.content
        .attachments
        .iter()
        .map(|d| format!("{}:{}", d.code, d.sha256))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A text a spreadsheet must not read as a formula (CSV injection): a leading `'` keeps
/// `=`, `+`, `-`, `@` and control characters as text.
fn inert(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

fn attachment(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

struct Export {
    code: String,
    rows: Vec<(StoredApplication, String, String)>,
}

async fn load(
    s: &PageState,
    ctx: &Ctx,
    code: Result<Path<String>, PathRejection>,
) -> Result<Export, ApiError> {
    let stored = load_call(s, code).await?;
    let code = stored.call.code.to_string();
    let rows = applications(s, &code, status_filter(ctx))
        .await?
        .into_iter()
        .map(|(a, name)| {
            let local = precise_local(&stored.call, &a.receipt.received_at, ctx.locale);
            (a, name, local)
        })
        .collect();
    Ok(Export { code, rows })
}

pub async fn csv(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    code: Result<Path<String>, PathRejection>,
) -> PageResult {
    require(&session, Role::Admin)?;
    let export = load(&s, &ctx, code).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let write = |w: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
        w.write_record(COLUMNS)?;
        for (a, name, local) in &export.rows {
            let r = &a.receipt;
            w.write_record([
                r.seq.to_string(),
                r.protocol.clone(),
                r.received_at.clone(),
                local.clone(),
                r.entity.clone(),
                inert(name),
                inert(&a.content.title),
                r.total_cost_cents.to_plain(),
                r.eligible_cost_cents.to_plain(),
                r.requested_cents.to_plain(),
                a.reserved.to_plain(),
                a.status.as_str().to_string(),
                r.content_sha256.clone(),
                r.ledger_seq.to_string(),
                inert(&attachments(a)),
            ])?;
        }
        Ok(())
    };
    write(&mut w).map_err(|e| {
        tracing::error!(error = %e, "CSV export failed");
        ApiError::internal()
    })?;
    let body = w.into_inner().map_err(|_| ApiError::internal())?;
    tracing::info!(call = %export.code, user = %session.user.id, rows = export.rows.len(), "CSV export");
    Ok(attachment(
        body,
        "text/csv; charset=utf-8",
        &format!("domande-{}.csv", export.code),
    ))
}

/// Euro for a spreadsheet cell. Money stays integer cents everywhere else; a cell holds a
/// double, and every amount up to 10^13 € (far above `Money::MAX_AMOUNT`) round-trips to
/// the cent through its shortest decimal form.
fn euros(m: Money) -> f64 {
    m.cents() as f64 / 100.0
}

fn workbook(export: &Export, ctx: &Ctx) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00 \"€\"");
    let sheet = book.add_worksheet();
    sheet.set_name("Domande")?;
    for (col, h) in HEADERS_IT.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *h, &bold)?;
    }
    for (i, (a, name, local)) in export.rows.iter().enumerate() {
        let row = i as u32 + 1;
        let r = &a.receipt;
        sheet.write_number(row, 0, r.seq as f64)?;
        sheet.write_string(row, 1, &r.protocol)?;
        sheet.write_string(row, 2, &r.received_at)?;
        sheet.write_string(row, 3, local)?;
        sheet.write_string(row, 4, &r.entity)?;
        sheet.write_string(row, 5, name)?;
        sheet.write_string(row, 6, &a.content.title)?;
        sheet.write_number_with_format(row, 7, euros(r.total_cost_cents), &money)?;
        sheet.write_number_with_format(row, 8, euros(r.eligible_cost_cents), &money)?;
        sheet.write_number_with_format(row, 9, euros(r.requested_cents), &money)?;
        sheet.write_number_with_format(row, 10, euros(a.reserved), &money)?;
        sheet.write_string(row, 11, status_label(a.status, ctx.locale))?;
        sheet.write_string(row, 12, &r.content_sha256)?;
        sheet.write_number(row, 13, r.ledger_seq as f64)?;
        sheet.write_string(row, 14, attachments(a))?;
    }
    for (col, width) in [6, 22, 28, 24, 12, 40, 50, 16, 16, 16, 16, 28, 66, 10, 80]
        .into_iter()
        .enumerate()
    {
        sheet.set_column_width(col as u16, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, export.rows.len() as u32, HEADERS_IT.len() as u16 - 1)?;
    book.save_to_buffer()
}

pub async fn xlsx(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    code: Result<Path<String>, PathRejection>,
) -> PageResult {
    require(&session, Role::Admin)?;
    let export = load(&s, &ctx, code).await?;
    let body = workbook(&export, &ctx).map_err(|e| {
        tracing::error!(error = %e, "XLSX export failed");
        ApiError::internal()
    })?;
    tracing::info!(call = %export.code, user = %session.user.id, rows = export.rows.len(), "XLSX export");
    Ok(attachment(
        body,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("domande-{}.xlsx", export.code),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_stay_text() {
        assert_eq!(inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("-1"), "'-1");
        assert_eq!(inert("Comune di Cervia"), "Comune di Cervia");
    }

    #[test]
    fn cents_survive_the_spreadsheet() {
        for cents in [
            1,
            5_250_000,
            5_250_001,
            99_999_999_999_999,
            100_000_000_000_000,
        ] {
            let shown = format!("{}", euros(Money::from_cents(cents)));
            assert_eq!(
                Money::parse_euros(&shown).unwrap(),
                Money::from_cents(cents),
                "{shown}"
            );
        }
    }
}
