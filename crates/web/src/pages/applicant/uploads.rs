//! The body of the application form: URL-encoded without files, multipart with them.
//! Files are spooled to an unlinked temporary file chunk by chunk as they arrive (never
//! held in memory whole), with their size and first bytes; past the size limit the rest is
//! read and dropped, so that the person gets the form back with the problem next to the
//! file, not a broken connection.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use bandi_app::drafts::Upload;
use bandi_domain::document::MAX_DOCUMENT_BYTES;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::super::MAX_FORM;
use crate::ApiError;

/// Largest multipart body: the form and two documents at the limit. More documents go in
/// more saves.
pub const MAX_UPLOAD_BODY: usize = 2 * MAX_DOCUMENT_BYTES + MAX_FORM;

/// How many first bytes of a file are kept to tell its kind.
const HEAD_BYTES: usize = 64;

/// The fields and files of a posted form.
pub(crate) struct Posted {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

/// The value of field `name` among a form's `fields`; empty when the form did not send it.
pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn unreadable() -> ApiError {
    ApiError::bad_request(
        "bad_form",
        "Il modulo inviato non è leggibile. Nessun dato è stato modificato.",
        "The form sent cannot be read. Nothing was changed.",
    )
}

fn spool_failed(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "an upload could not be spooled");
    ApiError::unavailable(2)
}

/// Whether the request carries files (a multipart form).
pub(crate) fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

pub(crate) async fn read(req: Request) -> Result<Posted, ApiError> {
    if !is_multipart(&req) {
        // The route's body limit is the multipart one: plain forms keep theirs.
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_FORM)
            .await
            .map_err(|e| crate::error::body_error(&e, MAX_FORM))?;
        let req = Request::from_parts(parts, Body::from(bytes));
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(req, &())
            .await
            .map_err(|_| unreadable())?;
        return Ok(Posted {
            fields,
            files: Vec::new(),
        });
    }
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|_| unreadable())?;
    let mut posted = Posted {
        fields: Vec::new(),
        files: Vec::new(),
    };
    let mut text_bytes = 0usize;
    let refused = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(MAX_UPLOAD_BODY)
        } else if crate::error::body_error(&e, MAX_UPLOAD_BODY).status
            == StatusCode::REQUEST_TIMEOUT
        {
            ApiError::from_status(StatusCode::REQUEST_TIMEOUT)
        } else {
            unreadable()
        }
    };
    while let Some(mut field) = form.next_field().await.map_err(refused)? {
        let name = field.name().unwrap_or("").to_string();
        if let Some(code) = name.strip_prefix("att-") {
            let attachment = code.to_string();
            let file_name = field.file_name().unwrap_or("").to_string();
            let std_file = tempfile::tempfile().map_err(spool_failed)?;
            let mut spool = tokio::fs::File::from_std(std_file);
            let mut head = Vec::with_capacity(HEAD_BYTES);
            let mut size: u64 = 0;
            while let Some(chunk) = field.chunk().await.map_err(refused)? {
                if head.len() < HEAD_BYTES {
                    let take = (HEAD_BYTES - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                }
                size += chunk.len() as u64;
                if size <= MAX_DOCUMENT_BYTES as u64 {
                    spool.write_all(&chunk).await.map_err(spool_failed)?;
                }
            }
            // A file control left empty sends a part with no name and no bytes.
            if file_name.is_empty() && size == 0 {
                continue;
            }
            spool.flush().await.map_err(spool_failed)?;
            spool.rewind().await.map_err(spool_failed)?;
            posted.files.push(Upload {
                attachment,
                file_name,
                size,
                head,
                bytes: Box::pin(spool),
            });
        } else {
            let value = field.text().await.map_err(refused)?;
            text_bytes += name.len() + value.len();
            if text_bytes > MAX_FORM {
                return Err(ApiError::too_large(MAX_FORM));
            }
            posted.fields.push((name, value));
        }
    }
    Ok(posted)
}
