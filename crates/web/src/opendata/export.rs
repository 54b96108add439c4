//! One file of open data, for a call or for every call: what the download links of the
//! pages serve and what `bandi export` writes, built once here.

use bandi_domain::call::CallCode;
use bandi_store::Store;

use super::{CallGrants, giving360, json, sheet};
use crate::ApiError;
use crate::site::Site;

/// The kinds of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The transparency data (D.Lgs. 33/2013, art. 26-27) as JSON, like `/api/v1/grants`.
    Transparency,
    /// A 360Giving data package.
    Giving360,
    /// CSV for a spreadsheet set to Italian (BOM, `;`, decimal comma).
    Csv,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Transparency, Format::Giving360, Format::Csv];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Transparency => "transparency",
            Format::Giving360 => "360giving",
            Format::Csv => "csv",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Transparency | Format::Giving360 => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    fn file_name(self, call: Option<&str>) -> String {
        let (stem, ext) = match self {
            Format::Transparency => ("trasparenza", "json"),
            Format::Giving360 => ("360giving", "json"),
            Format::Csv => ("contributi", "csv"),
        };
        match call {
            Some(code) => format!("{stem}-{code}.{ext}"),
            None => format!("{stem}.{ext}"),
        }
    }
}

/// A file ready to be served or written.
pub struct Export {
    pub body: Vec<u8>,
    pub format: Format,
    /// The name a browser saves it as.
    pub file_name: String,
}

/// The file of `format` for the call `code`, or for every call when `None`. An unknown or
/// malformed code is `call_not_found`.
pub async fn export(
    store: &Store,
    site: &Site,
    format: Format,
    code: Option<&str>,
) -> Result<Export, ApiError> {
    let calls = match code {
        Some(code) => {
            CallCode::parse(code).map_err(|_| ApiError::call_not_found())?;
            let stored = store
                .call(code)
                .await?
                .ok_or_else(ApiError::call_not_found)?;
            vec![CallGrants::load(store, stored).await?]
        }
        None => super::all(store).await?,
    };
    // The one call asked for, if one was.
    let one = code.and(calls.first());
    let title = match one {
        Some(one) => format!(
            "{} – contributi concessi ({})",
            one.call().title.it,
            one.code()
        ),
        None => format!("{} – contributi concessi agli enti locali", site.name),
    };
    let body = match format {
        Format::Csv => sheet::grants_csv(&calls, site)?,
        Format::Giving360 => pretty(&giving360::package(&calls, &title, site))?,
        Format::Transparency => pretty(&match one {
            Some(one) => json::call(one, site),
            None => json::all(&calls, site),
        })?,
    };
    Ok(Export {
        body,
        format,
        file_name: format.file_name(one.map(|c| c.code())),
    })
}

fn pretty(v: &serde_json::Value) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec_pretty(v).map_err(|_| ApiError::internal())
}
