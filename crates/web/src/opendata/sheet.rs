//! The CSV dialect of the public open data, for a spreadsheet set to Italian: UTF-8 with a
//! byte-order mark (without it Excel reads the accents wrong), `;` between fields, decimals
//! with a comma and no thousands separator (`52500,00`), dates `15/06/2020`, and the header
//! row in Italian. The officials' exports ([`crate::pages`]' `export`) stay in the plain
//! dialect for programs.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bandi_domain::i18n::Locale;
use bandi_domain::money::Money;

use super::{CallGrants, Grant, how_chosen};
use crate::ApiError;
use crate::site::Site;

/// UTF-8's byte-order mark: how a spreadsheet knows the file is UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The field separator of a spreadsheet set to Italian.
pub const SEPARATOR: u8 = b';';

/// `52500,00`: an amount as a spreadsheet set to Italian reads a number.
pub fn decimal(m: Money) -> String {
    m.to_plain().replace('.', ",")
}

/// `15/06/2020` from `2020-06-15`; anything else as it is.
pub fn date_it(iso: &str) -> String {
    iso.parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| iso.to_string())
}

/// A text a spreadsheet must not read as a formula (CSV injection): a leading `'` keeps
/// `=`, `+`, `-`, `@` and control characters as text.
pub fn inert(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// The file: the mark, the header row, the rows.
pub fn write<I>(headers: &[&str], rows: I) -> Result<Vec<u8>, ApiError>
where
    I: IntoIterator<Item = Vec<String>>,
{
    let mut w = csv::WriterBuilder::new()
        .delimiter(SEPARATOR)
        .from_writer(BOM.to_vec());
    let fill = || -> Result<(), csv::Error> {
        w.write_record(headers)?;
        for row in rows {
            w.write_record(row)?;
        }
        w.flush()?;
        Ok(())
    };
    fill().map_err(|e| {
        tracing::error!(error = %e, "open data CSV failed");
        ApiError::internal()
    })?;
    w.into_inner().map_err(|_| ApiError::internal())
}

/// A public file to download: `no-cache`, as it changes with every decision.
pub fn download(body: Vec<u8>, content_type: &'static str, filename: &str) -> Response {
    file(body, content_type, filename, "no-cache")
}

/// A file to save as `filename`, kept by caches as `cache_control` says (`no-store` for
/// the officials' exports of people's data).
pub fn file(
    body: Vec<u8>,
    content_type: &'static str,
    filename: &str,
    cache_control: &'static str,
) -> Response {
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
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(cache_control),
            ),
        ],
        body,
    )
        .into_response()
}

/// The columns of the open data of the grants.
pub const GRANT_HEADERS: [&str; 26] = [
    "Codice bando",
    "Titolo del bando",
    "N.",
    "Protocollo",
    "Beneficiario",
    "Codice fiscale del beneficiario",
    "Identificativo del beneficiario",
    "Codice ente",
    "Tipo di ente",
    "Provincia",
    "Codice ISTAT",
    "Titolo del progetto",
    "CUP",
    "Contributo richiesto",
    "Contributo concesso",
    "Atto di concessione",
    "Data dell'atto di concessione",
    "Contributo definitivo",
    "Erogato",
    "Atto di revoca",
    "Data della revoca",
    "Da recuperare",
    "Stato",
    "Modalità di individuazione del beneficiario",
    "Ufficio responsabile del procedimento",
    "Norma o titolo a base dell'attribuzione",
];

/// One grant as a row of the CSV; the office responsible is the site's.
fn grant_row(c: &CallGrants, g: &Grant, site: &Site) -> Vec<String> {
    let r = &g.row;
    let call = c.call();
    let opt = |v: &Option<String>| v.as_deref().map(inert).unwrap_or_default();
    vec![
        c.code().to_string(),
        inert(&call.title.it),
        r.seq.to_string(),
        r.protocol.clone(),
        inert(&r.entity_name),
        opt(&r.fiscal_code),
        g.recipient_id(),
        inert(&r.entity_code),
        g.kind_label(Locale::It),
        opt(&r.province),
        opt(&r.istat_code),
        inert(&r.title),
        opt(&r.cup),
        decimal(r.requested),
        decimal(g.awarded),
        g.act.as_ref().map(|a| inert(&a.number)).unwrap_or_default(),
        g.act.as_ref().map(|a| date_it(&a.date)).unwrap_or_default(),
        g.final_grant().map(decimal).unwrap_or_default(),
        decimal(r.paid),
        g.revocation
            .as_ref()
            .map(|v| inert(&v.number))
            .unwrap_or_default(),
        g.revocation
            .as_ref()
            .map(|v| date_it(&v.date))
            .unwrap_or_default(),
        g.revocation
            .as_ref()
            .map(|v| decimal(v.to_recover))
            .unwrap_or_default(),
        g.stage().label(Locale::It).to_string(),
        how_chosen(Locale::It).to_string(),
        inert(&site.office),
        inert(&format!("Bando «{}» (codice {})", call.title.it, c.code())),
    ]
}

/// The open data CSV of the grants of `calls`, one row per grant.
pub fn grants_csv(calls: &[CallGrants], site: &Site) -> Result<Vec<u8>, ApiError> {
    write(
        &GRANT_HEADERS,
        calls
            .iter()
            .flat_map(|c| c.grants.iter().map(move |g| grant_row(c, g, site))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_dates_the_italian_way() {
        assert_eq!(decimal(Money::from_cents(5_250_000)), "52500,00");
        assert_eq!(decimal(Money::from_cents(5)), "0,05");
        assert_eq!(decimal(Money::from_cents(-150)), "-1,50");
        assert_eq!(date_it("2020-06-15"), "15/06/2020");
        assert_eq!(date_it("not a date"), "not a date");
    }

    #[test]
    fn the_file_starts_with_the_mark_and_uses_semicolons() {
        let body = write(&["Ente", "Importo"], [vec![inert("=1+1"), "1,50".into()]]).unwrap();
        assert!(body.starts_with(BOM));
        let text = std::str::from_utf8(&body[BOM.len()..]).unwrap();
        assert_eq!(text, "Ente;Importo\n'=1+1;1,50\n");
    }
}
