//! The documents attached to a draft or an application: stored from the form's files,
//! listed with their fingerprint, downloaded only by those who act for the entity and by
//! officials.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bandi_app::Actor;
use bandi_domain::i18n::Locale;
use bandi_store::DocumentInfo;

use crate::ApiError;
use crate::pages::account::{PageResult, Signed};
use crate::pages::{PageState, encode};

pub(crate) fn document_href(id: &str) -> String {
    format!("/area-riservata/documenti/{}", encode(id))
}

/// `12,3 kB` (or `12.3 kB` in English): sizes as people read them.
pub(crate) fn human_size(bytes: u64, locale: Locale) -> String {
    let (value, unit) = if bytes < 1024 {
        return match locale {
            Locale::It => format!("{bytes} byte"),
            Locale::En => format!("{bytes} bytes"),
        };
    } else if bytes < 1024 * 1024 {
        (bytes * 10 / 1024, "kB")
    } else {
        (bytes * 10 / (1024 * 1024), "MB")
    };
    let sep = match locale {
        Locale::It => ',',
        Locale::En => '.',
    };
    format!("{}{sep}{} {unit}", value / 10, value % 10)
}

/// A document as the pages list it.
pub(crate) struct DocumentView {
    pub file_name: String,
    pub size: String,
    pub sha256: String,
    pub href: String,
}

impl DocumentView {
    pub fn new(d: &DocumentInfo, locale: Locale) -> DocumentView {
        DocumentView {
            file_name: d.file_name.clone(),
            size: human_size(d.size_bytes, locale),
            sha256: d.sha256.clone(),
            href: document_href(&d.id),
        }
    }
}

/// `Content-Disposition` for a file name that may hold any character: an ASCII fallback
/// and the exact name in RFC 5987 form.
fn disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let value = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode(name)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A document's bytes, as a download, under a name made of its attachment code and the
/// extension of the kind its bytes were found to be: never the name it was uploaded with.
/// Those who do not act for its entity get the same 404 as for a document that does not
/// exist; officials see every document.
pub async fn download(
    State(s): State<PageState>,
    Signed(session): Signed,
    id: Result<Path<String>, PathRejection>,
) -> PageResult {
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found().into());
    };
    let actor = Actor::User(session.user.clone());
    let (info, bytes, name) = s
        .app
        .app
        .document(&actor, &id)
        .await
        .map_err(ApiError::from)?;
    Ok(file_response(&info.content_type, &name, bytes))
}

/// A stored file as a download: its checked type, a name we chose, never sniffed.
pub(crate) fn file_response(content_type: &str, name: &str, bytes: Vec<u8>) -> Response {
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    h.insert(header::CONTENT_DISPOSITION, disposition(name));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_each_language() {
        assert_eq!(human_size(900, Locale::It), "900 byte");
        assert_eq!(human_size(12_600, Locale::It), "12,3 kB");
        assert_eq!(human_size(12_600, Locale::En), "12.3 kB");
        assert_eq!(human_size(10 * 1024 * 1024, Locale::It), "10,0 MB");
    }

    #[test]
    fn any_file_name_makes_a_valid_header() {
        let v = disposition("Delibera n° 12 \"bis\".pdf");
        let v = v.to_str().unwrap();
        assert!(v.starts_with("attachment; filename=\"Delibera n_ 12 _bis_.pdf\""));
        assert!(v.contains("filename*=UTF-8''Delibera%20n%C2%B0%2012%20%22bis%22.pdf"));
    }
}
