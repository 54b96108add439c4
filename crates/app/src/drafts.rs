//! An application's draft before the click day: the form as typed, and its documents,
//! uploaded (checked by their first bytes, kept in chunks), replaced and removed; and who
//! may download a document.

use std::pin::Pin;

use bandi_domain::call::CallCode;
use bandi_domain::document::{
    DocumentKind, DocumentProblem, MAX_DOCUMENT_BYTES, clean_file_name, download_name,
};
use bandi_domain::entity::EntityCode;
use bandi_domain::i18n::FieldError;
use bandi_store::{DocumentInfo, NewDocument};
use tokio::io::AsyncRead;

use crate::{Actor, App, AppError};

/// A file chosen in the form, read already (to a spool, hashed as it came): its size, its
/// first bytes (what its kind is told by), and a reader of its bytes.
pub struct Upload {
    /// The call's attachment code.
    pub attachment: String,
    /// The name it was sent with; cleaned before it is kept, never used to serve it.
    pub file_name: String,
    pub size: u64,
    pub head: Vec<u8>,
    pub bytes: Pin<Box<dyn AsyncRead + Send>>,
}

impl Upload {
    /// A file held in memory already (the command line, tests).
    pub fn from_bytes(attachment: &str, file_name: &str, bytes: Vec<u8>) -> Upload {
        Upload {
            attachment: attachment.into(),
            file_name: file_name.into(),
            size: bytes.len() as u64,
            head: bytes.iter().take(64).copied().collect(),
            bytes: Box::pin(std::io::Cursor::new(bytes)),
        }
    }
}

/// A change to a draft: the form as typed, files to keep, documents to take out.
pub struct DraftChange {
    pub entity: EntityCode,
    pub call: CallCode,
    /// The form's state as the interface keeps it (opaque here).
    pub draft: String,
    pub uploads: Vec<Upload>,
    /// Attachment codes whose document leaves the draft (unless a file for it came too).
    pub remove: Vec<String>,
}

/// What a save kept: the draft's documents now, and each file refused with its reason (the
/// others are kept all the same).
pub struct DraftSaved {
    pub documents: Vec<DocumentInfo>,
    pub refused: Vec<FieldError>,
}

/// The kind of a file from its first bytes and size, or why it is refused.
pub fn check_upload(head: &[u8], size: u64) -> Result<DocumentKind, DocumentProblem> {
    if size == 0 {
        return Err(DocumentProblem::Empty);
    }
    if size > MAX_DOCUMENT_BYTES as u64 {
        return Err(DocumentProblem::TooLarge);
    }
    DocumentKind::sniff(head).ok_or(DocumentProblem::WrongType)
}

impl App {
    /// Saves a draft and its files. A file refused (too large, empty, of a kind not
    /// accepted) is reported and the rest is saved; a file for an attachment the call does
    /// not have, or two for one, refuses the whole request (no form sends them).
    pub async fn save_draft(
        &self,
        actor: &Actor,
        change: DraftChange,
    ) -> Result<DraftSaved, AppError> {
        let (entity, call_code) = (change.entity.as_str(), change.call.as_str());
        if !actor.may_act_for(entity) || self.store().entity(entity).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let call = self
            .store()
            .call_rules(call_code)
            .await?
            .ok_or(AppError::CallNotFound)?;
        for (i, u) in change.uploads.iter().enumerate() {
            if !call.attachments.iter().any(|a| a.code == u.attachment) {
                return Err(AppError::UnknownAttachment(u.attachment.clone()));
            }
            if change.uploads[..i]
                .iter()
                .any(|o| o.attachment == u.attachment)
            {
                return Err(AppError::UnknownAttachment(u.attachment.clone()));
            }
        }
        for code in &change.remove {
            if !call.attachments.iter().any(|a| a.code == *code) {
                return Err(AppError::UnknownAttachment(code.clone()));
            }
        }
        if self.limit_reached(entity, &change.call).await?.is_some() {
            return Err(AppError::AlreadySubmitted);
        }
        let store = self.store();
        store.save_draft(entity, call_code, &change.draft).await?;
        let mut refused = Vec::new();
        let uploaded_by = actor.id();
        let sent: Vec<String> = change
            .uploads
            .iter()
            .map(|u| u.attachment.clone())
            .collect();
        for mut u in change.uploads {
            let file_name = clean_file_name(&u.file_name);
            let kind = match check_upload(&u.head, u.size) {
                Ok(kind) => kind,
                Err(problem) => {
                    let t = problem.text();
                    refused.push(FieldError::new(
                        format!("attachments.{}", u.attachment),
                        problem.code(),
                        format!("«{file_name}»: {}", t.it),
                        format!("«{file_name}»: {}", t.en),
                    ));
                    continue;
                }
            };
            let info = store
                .put_document(
                    NewDocument {
                        entity,
                        call: call_code,
                        attachment: &u.attachment,
                        file_name: &file_name,
                        content_type: kind.content_type(),
                        uploaded_by: &uploaded_by,
                        integration_request: None,
                        report: None,
                    },
                    &mut u.bytes,
                )
                .await?;
            tracing::info!(entity, call = call_code, attachment = %u.attachment, sha256 = %info.sha256, by = %actor, "document uploaded");
        }
        // A file for the same attachment in this save, kept or refused, stands for what the
        // person meant: the document is replaced, not removed.
        for code in change.remove.iter().filter(|c| !sent.contains(c)) {
            store.remove_draft_document(entity, call_code, code).await?;
        }
        Ok(DraftSaved {
            documents: store.draft_documents(entity, call_code).await?,
            refused,
        })
    }

    /// A document's bytes and the name to serve them under, for those who act for its
    /// entity and for officials; anyone else gets the answer of a document that does not
    /// exist.
    pub async fn document(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(DocumentInfo, Vec<u8>, String), AppError> {
        if id.len() > 64 {
            return Err(AppError::NotFound);
        }
        let (info, bytes) = self
            .store()
            .document(id)
            .await?
            .filter(|(d, _)| actor.is_official() || actor.may_act_for(&d.entity))
            .ok_or(AppError::NotFound)?;
        let name = download_name(
            "",
            &info.attachment,
            DocumentKind::from_content_type(&info.content_type),
        );
        Ok((info, bytes, name))
    }
}
