//! Documents attached to applications. Kinds and sizes are checked before they get here
//! (`bandi_domain::document`); the store keeps the bytes with their SHA-256, the draft
//! they belong to, and, once the application is submitted, the application that seals
//! them.

use bandi_domain::instant::from_micros;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError};

/// A document as lists show it, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInfo {
    pub id: String,
    pub entity: String,
    pub call: String,
    /// The call's attachment code.
    pub attachment: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub uploaded_at: Timestamp,
    /// The id of the account that uploaded it.
    pub uploaded_by: String,
    /// The application that sealed it; `None` while it belongs to a draft.
    pub application: Option<String>,
}

/// A document to keep, checked already.
pub struct NewDocument<'a> {
    pub entity: &'a str,
    pub call: &'a str,
    pub attachment: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub uploaded_by: &'a str,
    pub bytes: &'a [u8],
}

const INFO: &str = "id, entity_code, call_code, attachment_code, file_name, content_type, \
size_bytes, sha256, uploaded_us, uploaded_by, application_id";

fn info_from_row(r: &AnyRow) -> Result<DocumentInfo> {
    let uploaded_us: i64 = r.try_get("uploaded_us")?;
    let size: i64 = r.try_get("size_bytes")?;
    Ok(DocumentInfo {
        id: r.try_get("id")?,
        entity: r.try_get("entity_code")?,
        call: r.try_get("call_code")?,
        attachment: r.try_get("attachment_code")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size_bytes: u64::try_from(size)
            .map_err(|_| StoreError::Corrupt(format!("document size {size}")))?,
        sha256: r.try_get("sha256")?,
        uploaded_at: from_micros(uploaded_us)
            .ok_or_else(|| StoreError::Corrupt(format!("document time {uploaded_us}")))?,
        uploaded_by: r.try_get("uploaded_by")?,
        application: r.try_get("application_id")?,
    })
}

impl Store {
    /// Keeps a document of the draft of `entity` for `call`, replacing the one with the
    /// same attachment code. The version before stays until the next replacement: a
    /// submission that read it a moment ago still finds it when it seals it.
    pub async fn put_document(&self, new: NewDocument<'_>) -> Result<DocumentInfo> {
        let id = crate::random_hex(16);
        let sha256 = hex::encode(Sha256::digest(new.bytes));
        let size = i64::try_from(new.bytes.len())
            .map_err(|_| StoreError::Conflict("document too large".into()))?;
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO documents (id, entity_code, call_code, attachment_code, file_name, content_type, \
             size_bytes, sha256, uploaded_us, uploaded_by, application_id, content) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11)",
        )
        .bind(&id)
        .bind(new.entity)
        .bind(new.call)
        .bind(new.attachment)
        .bind(new.file_name)
        .bind(new.content_type)
        .bind(size)
        .bind(&sha256)
        .bind(crate::now_us())
        .bind(new.uploaded_by)
        .bind(new.bytes)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            return Err(match e.as_database_error() {
                Some(d) if d.is_foreign_key_violation() => {
                    StoreError::NotFound(format!("entity {} or call {}", new.entity, new.call))
                }
                _ => e.into(),
            });
        }
        // Older versions than the one replaced go.
        sqlx::query(
            "DELETE FROM documents WHERE entity_code = $1 AND call_code = $2 AND attachment_code = $3 \
             AND application_id IS NULL AND seq < (SELECT MAX(seq) FROM documents WHERE entity_code = $1 \
             AND call_code = $2 AND attachment_code = $3 AND application_id IS NULL AND id <> $4)",
        )
        .bind(new.entity)
        .bind(new.call)
        .bind(new.attachment)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        let sql = format!("SELECT {INFO} FROM documents WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        let info = info_from_row(&row)?;
        tx.commit().await?;
        Ok(info)
    }

    /// Takes the document `attachment` out of the draft of `entity` for `call` (every
    /// version of it). Sealed documents are never touched. Returns how many went.
    pub async fn remove_draft_document(
        &self,
        entity: &str,
        call: &str,
        attachment: &str,
    ) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM documents WHERE entity_code = $1 AND call_code = $2 AND attachment_code = $3 \
             AND application_id IS NULL",
        )
        .bind(entity)
        .bind(call)
        .bind(attachment)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// The documents of the draft of `entity` for `call`: the newest of each attachment
    /// code, in code order.
    pub async fn draft_documents(&self, entity: &str, call: &str) -> Result<Vec<DocumentInfo>> {
        let sql = format!(
            "SELECT {INFO} FROM documents d WHERE entity_code = $1 AND call_code = $2 \
             AND application_id IS NULL AND seq = (SELECT MAX(seq) FROM documents x \
             WHERE x.entity_code = d.entity_code AND x.call_code = d.call_code \
             AND x.attachment_code = d.attachment_code AND x.application_id IS NULL) \
             ORDER BY attachment_code"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(entity)
            .bind(call)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// The documents sealed by an application, in attachment code order.
    pub async fn application_documents(&self, application: &str) -> Result<Vec<DocumentInfo>> {
        let sql = format!(
            "SELECT {INFO} FROM documents WHERE application_id = $1 ORDER BY attachment_code"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(application)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// The documents sealed by the applications of a call, for its officials, in
    /// application and attachment code order.
    pub async fn call_documents(&self, call: &str) -> Result<Vec<DocumentInfo>> {
        let sql = format!(
            "SELECT {INFO} FROM documents WHERE call_code = $1 AND application_id IS NOT NULL \
             ORDER BY application_id, attachment_code"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(call)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// A document with its bytes.
    pub async fn document(&self, id: &str) -> Result<Option<(DocumentInfo, Vec<u8>)>> {
        let sql = format!("SELECT {INFO}, content FROM documents WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some((info_from_row(&r)?, r.try_get("content")?))),
            None => Ok(None),
        }
    }

    /// Seals the draft documents named by a submitted application (`(code, sha256)` as its
    /// content lists them) and drops the draft's other versions. Sealing again for the same
    /// application changes nothing. Returns how many are sealed; one named but missing is
    /// corrupt data.
    pub async fn seal_documents(
        &self,
        entity: &str,
        call: &str,
        application: &str,
        attached: &[(String, String)],
    ) -> Result<usize> {
        let mut tx = self.pool().begin().await?;
        for (code, sha256) in attached {
            let done = sqlx::query(
                "UPDATE documents SET application_id = $1 WHERE seq = (SELECT MAX(seq) FROM documents \
                 WHERE entity_code = $2 AND call_code = $3 AND attachment_code = $4 AND sha256 = $5 \
                 AND application_id IS NULL)",
            )
            .bind(application)
            .bind(entity)
            .bind(call)
            .bind(code)
            .bind(sha256)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                continue;
            }
            // Sealed already by this application: a retry of the same submission.
            let again: Option<(String,)> = sqlx::query_as(
                "SELECT id FROM documents WHERE application_id = $1 AND attachment_code = $2 AND sha256 = $3",
            )
            .bind(application)
            .bind(code)
            .bind(sha256)
            .fetch_optional(&mut *tx)
            .await?;
            if again.is_none() {
                return Err(StoreError::Corrupt(format!(
                    "application {application} names document {code} {sha256}, not found in its draft"
                )));
            }
        }
        sqlx::query(
            "DELETE FROM documents WHERE entity_code = $1 AND call_code = $2 AND application_id IS NULL",
        )
        .bind(entity)
        .bind(call)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(attached.len())
    }
}
