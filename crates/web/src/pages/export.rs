//! Exports of a call's applications for the officials, in protocol order: CSV (for
//! programs: plain amounts such as `52500.00`, instants in UTC and in the call's time
//! zone; the budget lines in a second CSV) and XLSX (for offices: amounts as numbers in
//! euro format and instants as real dates, ready to sum, sort and filter; the budget lines
//! in a second sheet).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use bandi_domain::money::Money;
use bandi_store::StoredApplication;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use std::collections::HashMap;

use bandi_domain::application::IndicatorValue;
use bandi_domain::call::Call;
use bandi_store::ReviewSummary;

use super::PageState;
use super::account::{PageResult, Signed, require_official};
use super::admin::{applications, load_call, status_filter};
use super::calls::precise_local;
use super::{Ctx, i18n::status_label};
use crate::ApiError;
use crate::opendata::sheet::{BOM, SEPARATOR, decimal, inert};

/// After the fixed columns come the review's and one per indicator of the call.
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

fn attachment(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    crate::opendata::sheet::file(body, content_type, filename, "no-store")
}

/// The review's columns, after the fixed ones.
const REVIEW_COLUMNS: [&str; 5] = [
    "summary",
    "review_state",
    "eligible_after_review",
    "requested_after_review",
    "cup",
];

const REVIEW_HEADERS_IT: [&str; 5] = [
    "Sintesi del progetto",
    "Istruttoria",
    "Spesa ammissibile dopo l'istruttoria",
    "Contributo dopo l'istruttoria",
    "CUP",
];

const LINE_COLUMNS: [&str; 11] = [
    "seq",
    "protocol",
    "entity_code",
    "entity_name",
    "line",
    "category",
    "description",
    "amount",
    "service_code",
    "service_quantity",
    "service_unit_price",
];

const LINE_HEADERS_IT: [&str; 11] = [
    "N.",
    "Protocollo",
    "Codice ente",
    "Ente",
    "Voce",
    "Categoria",
    "Descrizione",
    "Importo",
    "Servizio del catalogo",
    "Quantità",
    "Prezzo unitario",
];

struct Row {
    app: StoredApplication,
    entity_name: String,
    received_local: String,
    review: Option<ReviewSummary>,
}

struct Export {
    code: String,
    call: Call,
    rows: Vec<Row>,
}

impl Export {
    fn indicator_value(&self, row: &Row, code: &str) -> String {
        match row.app.content.indicators.get(code) {
            Some(IndicatorValue::Integer(n)) => n.to_string(),
            Some(IndicatorValue::Text(t)) => t.clone(),
            None => String::new(),
        }
    }

    fn category_label(&self, code: &str) -> String {
        self.call
            .category(code)
            .map(|c| c.label.it.clone())
            .unwrap_or_else(|| code.to_string())
    }
}

async fn load(
    s: &PageState,
    ctx: &Ctx,
    code: Result<Path<String>, PathRejection>,
) -> Result<Export, ApiError> {
    let stored = load_call(s, code).await?;
    let code = stored.call.code.to_string();
    let mut reviews: HashMap<u64, ReviewSummary> = s
        .app
        .store()
        .call_reviews(&code)
        .await?
        .into_iter()
        .map(|r| (r.seq, r))
        .collect();
    let rows = applications(s, &code, status_filter(ctx))
        .await?
        .into_iter()
        .map(|(app, entity_name)| Row {
            received_local: precise_local(&stored.call, &app.receipt.received_at, ctx.locale),
            review: reviews.remove(&app.receipt.seq),
            app,
            entity_name,
        })
        .collect();
    Ok(Export {
        code,
        call: stored.call,
        rows,
    })
}

pub async fn csv(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    code: Result<Path<String>, PathRejection>,
) -> PageResult {
    require_official(&session)?;
    let export = load(&s, &ctx, code).await?;
    let w = italian_csv();
    let write = |w: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
        let indicators: Vec<String> = export
            .call
            .indicators
            .iter()
            .map(|i| format!("indicator_{}", i.code))
            .collect();
        w.write_record(
            COLUMNS
                .iter()
                .chain(REVIEW_COLUMNS.iter())
                .map(|c| c.to_string())
                .chain(indicators),
        )?;
        for row in &export.rows {
            let (a, r) = (&row.app, &row.app.receipt);
            let review = row.review.as_ref();
            let fixed = [
                r.seq.to_string(),
                r.protocol.clone(),
                r.received_at.clone(),
                row.received_local.clone(),
                r.entity.clone(),
                inert(&row.entity_name),
                inert(&a.content.title),
                decimal(r.total_cost_cents),
                decimal(r.eligible_cost_cents),
                decimal(r.requested_cents),
                decimal(a.reserved),
                a.status.as_str().to_string(),
                r.content_sha256.clone(),
                r.ledger_seq.to_string(),
                inert(&attachments(a)),
                inert(&a.content.summary),
                review
                    .map(|v| v.state.as_str())
                    .unwrap_or("to_review")
                    .to_string(),
                review.map(|v| decimal(v.eligible)).unwrap_or_default(),
                review.map(|v| decimal(v.requested)).unwrap_or_default(),
                review.and_then(|v| v.cup.clone()).unwrap_or_default(),
            ];
            let indicators = export
                .call
                .indicators
                .iter()
                .map(|i| inert(&export.indicator_value(row, &i.code)));
            w.write_record(fixed.into_iter().chain(indicators))?;
        }
        Ok(())
    };
    let body = finish_csv(w, write)?;
    tracing::info!(call = %export.code, user = %session.user.id, rows = export.rows.len(), "CSV export");
    Ok(attachment(
        body,
        "text/csv; charset=utf-8",
        &format!("domande-{}.csv", export.code),
    ))
}

/// A CSV for a spreadsheet set to Italian, as the open data: the UTF-8 mark, `;`
/// between fields, and (written by the rows) decimal commas.
fn italian_csv() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .delimiter(SEPARATOR)
        .from_writer(BOM.to_vec())
}

fn finish_csv(
    mut w: csv::Writer<Vec<u8>>,
    write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> Result<(), csv::Error>,
) -> Result<Vec<u8>, ApiError> {
    write(&mut w).map_err(|e| {
        tracing::error!(error = %e, "CSV export failed");
        ApiError::internal()
    })?;
    w.into_inner().map_err(|_| ApiError::internal())
}

/// Each application's budget lines, one row per line (`voci.csv`).
pub async fn lines_csv(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    code: Result<Path<String>, PathRejection>,
) -> PageResult {
    require_official(&session)?;
    let export = load(&s, &ctx, code).await?;
    let w = italian_csv();
    let body = finish_csv(w, |w| {
        w.write_record(LINE_COLUMNS)?;
        for row in &export.rows {
            let r = &row.app.receipt;
            for (n, line) in row.app.content.lines.iter().enumerate() {
                w.write_record([
                    r.seq.to_string(),
                    r.protocol.clone(),
                    r.entity.clone(),
                    inert(&row.entity_name),
                    (n + 1).to_string(),
                    line.category.clone(),
                    inert(&line.description),
                    decimal(line.amount_cents),
                    line.service
                        .as_ref()
                        .map(|b| b.code.clone())
                        .unwrap_or_default(),
                    line.service
                        .as_ref()
                        .map(|b| b.quantity.to_string())
                        .unwrap_or_default(),
                    line.service
                        .as_ref()
                        .map(|b| decimal(b.unit_price_cents))
                        .unwrap_or_default(),
                ])?;
            }
        }
        Ok(())
    })?;
    Ok(attachment(
        body,
        "text/csv; charset=utf-8",
        &format!("voci-{}.csv", export.code),
    ))
}

/// Euro for a spreadsheet cell. Money stays integer cents everywhere else; a cell holds a
/// double, and every amount up to 10^13 € (far above `Money::MAX_AMOUNT`) round-trips to
/// the cent through its shortest decimal form.
fn euros(m: Money) -> f64 {
    m.cents() as f64 / 100.0
}

/// An instant as a spreadsheet date and time (to the millisecond) in `tz`: spreadsheets
/// have no time zones, so the column's header names it.
fn excel_time(utc: &str, tz: &jiff::tz::TimeZone) -> Option<ExcelDateTime> {
    let t: jiff::Timestamp = utc.parse().ok()?;
    let z = t.to_zoned_datetime(tz.clone());
    ExcelDateTime::from_ymd(z.year() as u16, z.month() as u8, z.day() as u8)
        .ok()?
        .and_hms_milli(
            z.hour() as u16,
            z.minute() as u8,
            z.second() as u8,
            z.millisecond() as u16,
        )
        .ok()
}

fn workbook(export: &Export, ctx: &Ctx) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00 \"€\"");
    let when = Format::new().set_num_format("dd/mm/yyyy hh:mm:ss.000");
    let tz = export.call.tz();
    let sheet = book.add_worksheet();
    sheet.set_name("Domande")?;
    let headers: Vec<String> = HEADERS_IT
        .iter()
        .chain(REVIEW_HEADERS_IT.iter())
        .map(|h| h.to_string())
        .chain(export.call.indicators.iter().map(|i| i.label.it.clone()))
        .collect();
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, h, &bold)?;
    }
    for (i, row) in export.rows.iter().enumerate() {
        let n = i as u32 + 1;
        let (a, r) = (&row.app, &row.app.receipt);
        sheet.write_number(n, 0, r.seq as f64)?;
        sheet.write_string(n, 1, &r.protocol)?;
        match excel_time(&r.received_at, &jiff::tz::TimeZone::UTC) {
            Some(t) => sheet.write_datetime_with_format(n, 2, t, &when)?,
            None => sheet.write_string(n, 2, &r.received_at)?,
        };
        match excel_time(&r.received_at, &tz) {
            Some(t) => sheet.write_datetime_with_format(n, 3, t, &when)?,
            None => sheet.write_string(n, 3, &row.received_local)?,
        };
        sheet.write_string(n, 4, &r.entity)?;
        sheet.write_string(n, 5, &row.entity_name)?;
        sheet.write_string(n, 6, &a.content.title)?;
        sheet.write_number_with_format(n, 7, euros(r.total_cost_cents), &money)?;
        sheet.write_number_with_format(n, 8, euros(r.eligible_cost_cents), &money)?;
        sheet.write_number_with_format(n, 9, euros(r.requested_cents), &money)?;
        sheet.write_number_with_format(n, 10, euros(a.reserved), &money)?;
        sheet.write_string(n, 11, status_label(a.status, ctx.locale))?;
        sheet.write_string(n, 12, &r.content_sha256)?;
        sheet.write_number(n, 13, r.ledger_seq as f64)?;
        sheet.write_string(n, 14, attachments(a))?;
        sheet.write_string(n, 15, &a.content.summary)?;
        if let Some(v) = &row.review {
            sheet.write_string(n, 16, v.state.label().it)?;
            sheet.write_number_with_format(n, 17, euros(v.eligible), &money)?;
            sheet.write_number_with_format(n, 18, euros(v.requested), &money)?;
            if let Some(cup) = &v.cup {
                sheet.write_string(n, 19, cup)?;
            }
        }
        for (k, ind) in export.call.indicators.iter().enumerate() {
            let col = 20 + k as u16;
            match a.content.indicators.get(&ind.code) {
                Some(IndicatorValue::Integer(v)) => sheet.write_number(n, col, *v as f64)?,
                Some(IndicatorValue::Text(t)) => sheet.write_string(n, col, t)?,
                None => sheet,
            };
        }
    }
    for (col, width) in [
        6, 22, 24, 24, 12, 40, 50, 16, 16, 16, 16, 28, 66, 10, 80, 60, 18, 16, 16, 18,
    ]
    .into_iter()
    .enumerate()
    {
        sheet.set_column_width(col as u16, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, export.rows.len() as u32, headers.len() as u16 - 1)?;

    let lines = book.add_worksheet();
    lines.set_name("Voci di spesa")?;
    for (col, h) in LINE_HEADERS_IT.iter().enumerate() {
        lines.write_string_with_format(0, col as u16, *h, &bold)?;
    }
    let mut n = 0u32;
    for row in &export.rows {
        let r = &row.app.receipt;
        for (k, line) in row.app.content.lines.iter().enumerate() {
            n += 1;
            lines.write_number(n, 0, r.seq as f64)?;
            lines.write_string(n, 1, &r.protocol)?;
            lines.write_string(n, 2, &r.entity)?;
            lines.write_string(n, 3, &row.entity_name)?;
            lines.write_number(n, 4, (k + 1) as f64)?;
            lines.write_string(n, 5, export.category_label(&line.category))?;
            lines.write_string(n, 6, &line.description)?;
            lines.write_number_with_format(n, 7, euros(line.amount_cents), &money)?;
            if let Some(bought) = &line.service {
                lines.write_string(n, 8, &bought.code)?;
                lines.write_number(n, 9, f64::from(bought.quantity))?;
                lines.write_number_with_format(n, 10, euros(bought.unit_price_cents), &money)?;
            }
        }
    }
    for (col, width) in [6, 22, 12, 40, 6, 40, 60, 16, 20, 10, 16]
        .into_iter()
        .enumerate()
    {
        lines.set_column_width(col as u16, width)?;
    }
    lines.set_freeze_panes(1, 0)?;
    lines.autofilter(0, 0, n, LINE_HEADERS_IT.len() as u16 - 1)?;
    book.save_to_buffer()
}

pub async fn xlsx(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    code: Result<Path<String>, PathRejection>,
) -> PageResult {
    require_official(&session)?;
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
