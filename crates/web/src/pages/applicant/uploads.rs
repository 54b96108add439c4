//! The body of the application form: URL-encoded without files, multipart with them.
//! Files are read chunk by chunk and stop being kept past the size limit, so a file too
//! large costs the server no more memory than one at the limit.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use bandi_domain::document::MAX_DOCUMENT_BYTES;

use super::super::MAX_FORM;
use crate::ApiError;

/// Largest multipart body: the form and two documents at the limit. More documents go in
/// more saves.
pub const MAX_UPLOAD_BODY: usize = 2 * MAX_DOCUMENT_BYTES + MAX_FORM;

/// A file chosen in the form, as read: `too_large` when it passed the limit (its bytes
/// are then only the first [`MAX_DOCUMENT_BYTES`] + 1).
pub(crate) struct Upload {
    /// The call's attachment code, from the control `att-CODE`.
    pub code: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub too_large: bool,
}

/// The fields and files of a posted form.
pub(crate) struct Posted {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

fn unreadable() -> ApiError {
    ApiError::bad_request(
        "bad_form",
        "Il modulo inviato non è leggibile. Nessun dato è stato modificato.",
        "The form sent cannot be read. Nothing was changed.",
    )
}

pub(crate) async fn read(req: Request) -> Result<Posted, ApiError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        // The route's body limit is the multipart one: plain forms keep theirs.
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_FORM)
            .await
            .map_err(|_| ApiError::too_large(MAX_FORM))?;
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
        } else {
            unreadable()
        }
    };
    while let Some(mut field) = form.next_field().await.map_err(refused)? {
        let name = field.name().unwrap_or("").to_string();
        if let Some(code) = name.strip_prefix("att-") {
            let code = code.to_string();
            let file_name = field.file_name().unwrap_or("").to_string();
            let mut bytes = Vec::new();
            let mut too_large = false;
            while let Some(chunk) = field.chunk().await.map_err(refused)? {
                // Past the limit the rest is read and dropped: the person gets the form back
                // with the problem next to the file, not a broken connection.
                if !too_large {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_DOCUMENT_BYTES {
                        bytes.truncate(MAX_DOCUMENT_BYTES + 1);
                        too_large = true;
                    }
                }
            }
            // A file control left empty sends a part with no name and no bytes.
            if file_name.is_empty() && bytes.is_empty() {
                continue;
            }
            posted.files.push(Upload {
                code,
                file_name,
                bytes,
                too_large,
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
