//! Documents attached to applications. Kinds and sizes are checked before they get here
//! (`bandi_domain::document`); the store keeps the bytes in chunks with their SHA-256, the
//! draft they belong to, and, once the application is submitted, the application that
//! seals them: the submission's own transaction seals the versions its content names
//! (see `intake::write`), so a document an application names is never lost.
//!
//! A draft's document that is replaced or removed is only marked (`removed_us`): a
//! submission in flight may have named it a moment ago, and finds it when it seals. Marked
//! versions go when the draft is submitted, or after an hour.

use bandi_domain::document::MAX_DOCUMENT_BYTES;
use bandi_domain::instant::from_micros;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::{Result, Store, StoreError};

/// Bytes per stored chunk: what a document costs in memory while it is written or read.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// How long a version out of its draft is kept for a submission that may still name it.
const KEEP_REMOVED_US: i64 = 3_600_000_000;

/// A document as lists show it, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInfo {
    pub id: String,
    pub entity: String,
    pub call: String,
    /// The call's attachment code.
    pub attachment: String,
    /// The name it was uploaded with, cleaned; shown, never used to serve it.
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

/// A document to keep, checked already; its bytes come from a reader.
pub struct NewDocument<'a> {
    pub entity: &'a str,
    pub call: &'a str,
    pub attachment: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub uploaded_by: &'a str,
    /// For a document of an answer to a request for integration: the request's number.
    pub integration_request: Option<u32>,
    /// For a document of an expense report: the application's number in the call.
    pub report: Option<u64>,
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

/// Fills `buf` from `reader` as far as it goes; the number of bytes read.
async fn read_chunk(reader: &mut (impl AsyncRead + Unpin), buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = reader
            .read(&mut buf[filled..])
            .await
            .map_err(|e| StoreError::Config(format!("reading an upload: {e}")))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

impl Store {
    /// Keeps a document of the draft of `entity` for `call`, its bytes read from `bytes`
    /// one chunk at a time and hashed as they are written, replacing the draft's document
    /// with the same attachment code (which is marked, not deleted: see the module).
    pub async fn put_document(
        &self,
        new: NewDocument<'_>,
        bytes: &mut (impl AsyncRead + Unpin),
    ) -> Result<DocumentInfo> {
        let id = crate::random_hex(16);
        let now = crate::now_us();
        let mut tx = self.begin_write().await?;
        let inserted: std::result::Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO documents (id, entity_code, call_code, attachment_code, file_name, content_type, \
             size_bytes, sha256, uploaded_us, uploaded_by, application_id, content, integration_request, report) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, '', $7, $8, NULL, $9, $10, $11) RETURNING seq",
        )
        .bind(&id)
        .bind(new.entity)
        .bind(new.call)
        .bind(new.attachment)
        .bind(new.file_name)
        .bind(new.content_type)
        .bind(now)
        .bind(new.uploaded_by)
        .bind(Vec::<u8>::new())
        .bind(new.integration_request.map(i64::from))
        .bind(new.report.map(|s| s as i64))
        .fetch_one(&mut *tx)
        .await;
        let seq = match inserted {
            Ok(seq) => seq,
            Err(e) => {
                return Err(match e.as_database_error() {
                    Some(d) if d.is_foreign_key_violation() => {
                        StoreError::NotFound(format!("entity {} or call {}", new.entity, new.call))
                    }
                    _ => e.into(),
                });
            }
        };
        let mut hasher = Sha256::new();
        let mut size = 0usize;
        let mut buf = vec![0u8; CHUNK_BYTES];
        for n in 0.. {
            let len = read_chunk(bytes, &mut buf).await?;
            if len == 0 {
                break;
            }
            size += len;
            if size > MAX_DOCUMENT_BYTES {
                return Err(StoreError::DocumentTooLarge);
            }
            hasher.update(&buf[..len]);
            sqlx::query("INSERT INTO document_chunks (document_seq, n, bytes) VALUES ($1, $2, $3)")
                .bind(seq)
                .bind(n as i64)
                .bind(buf[..len].to_vec())
                .execute(&mut *tx)
                .await?;
        }
        let sha256 = hex::encode(hasher.finalize());
        sqlx::query("UPDATE documents SET size_bytes = $1, sha256 = $2 WHERE seq = $3")
            .bind(size as i64)
            .bind(&sha256)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        // The versions before leave the draft; those out of it for an hour go for good.
        sqlx::query(
            "UPDATE documents SET removed_us = $1 WHERE entity_code = $2 AND call_code = $3 \
             AND attachment_code = $4 AND application_id IS NULL AND removed_us IS NULL AND seq < $5",
        )
        .bind(now)
        .bind(new.entity)
        .bind(new.call)
        .bind(new.attachment)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        purge_removed(&mut tx, new.entity, new.call, now).await?;
        let sql = format!("SELECT {INFO} FROM documents WHERE seq = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(seq)
            .fetch_one(&mut *tx)
            .await?;
        let info = info_from_row(&row)?;
        tx.commit().await?;
        Ok(info)
    }

    /// Takes the document `attachment` out of the draft of `entity` for `call`. Sealed
    /// documents are never touched. Returns how many versions left the draft.
    pub async fn remove_draft_document(
        &self,
        entity: &str,
        call: &str,
        attachment: &str,
    ) -> Result<u64> {
        let now = crate::now_us();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE documents SET removed_us = $1 WHERE entity_code = $2 AND call_code = $3 \
             AND attachment_code = $4 AND application_id IS NULL AND removed_us IS NULL",
        )
        .bind(now)
        .bind(entity)
        .bind(call)
        .bind(attachment)
        .execute(&mut *tx)
        .await?;
        purge_removed(&mut tx, entity, call, now).await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// The documents of the draft of `entity` for `call`: the newest of each attachment
    /// code (two uploads at once may both be there), in code order.
    pub async fn draft_documents(&self, entity: &str, call: &str) -> Result<Vec<DocumentInfo>> {
        let sql = format!(
            "SELECT {INFO} FROM documents d WHERE entity_code = $1 AND call_code = $2 \
             AND application_id IS NULL AND removed_us IS NULL AND integration_request IS NULL \
             AND report IS NULL AND seq = (SELECT MAX(seq) \
             FROM documents x WHERE x.entity_code = d.entity_code AND x.call_code = d.call_code \
             AND x.attachment_code = d.attachment_code AND x.application_id IS NULL \
             AND x.removed_us IS NULL AND x.integration_request IS NULL) ORDER BY attachment_code"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(entity)
            .bind(call)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// The documents sealed by an application, in attachment code order (the answers to
    /// requests for integration are not among them: see [`Store::answer_documents`]).
    pub async fn application_documents(&self, application: &str) -> Result<Vec<DocumentInfo>> {
        let sql = format!(
            "SELECT {INFO} FROM documents WHERE application_id = $1 AND integration_request IS NULL \
             AND report IS NULL ORDER BY attachment_code"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(application)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// The documents of an expense report: with `version`, those sealed to that submitted
    /// version of application `application`; without, the report's draft's (the newest of
    /// each code).
    pub async fn report_documents(
        &self,
        (entity, call, seq): (&str, &str, u64),
        sealed: Option<(&str, u32)>,
    ) -> Result<Vec<DocumentInfo>> {
        let rows = match sealed {
            Some((application, version)) => {
                let sql = format!(
                    "SELECT {INFO} FROM documents WHERE application_id = $1 AND report_version = $2 \
                     ORDER BY attachment_code"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(application)
                    .bind(i64::from(version))
                    .fetch_all(self.pool())
                    .await?
            }
            None => {
                let sql = format!(
                    "SELECT {INFO} FROM documents d WHERE entity_code = $1 AND call_code = $2 \
                     AND report = $3 AND application_id IS NULL AND removed_us IS NULL \
                     AND seq = (SELECT MAX(seq) FROM documents x WHERE x.entity_code = d.entity_code \
                     AND x.call_code = d.call_code AND x.attachment_code = d.attachment_code \
                     AND x.report = d.report AND x.application_id IS NULL AND x.removed_us IS NULL) \
                     ORDER BY attachment_code"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(entity)
                    .bind(call)
                    .bind(seq as i64)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(info_from_row).collect()
    }

    /// The documents of an answer to request `request` of an application.
    pub async fn answer_documents(
        &self,
        application: &str,
        request: u32,
    ) -> Result<Vec<DocumentInfo>> {
        let sql = format!(
            "SELECT {INFO} FROM documents WHERE application_id = $1 AND integration_request = $2 \
             ORDER BY attachment_code"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(application)
            .bind(i64::from(request))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// The documents sealed by the applications of a call, for its officials, in
    /// application and attachment code order.
    pub async fn call_documents(&self, call: &str) -> Result<Vec<DocumentInfo>> {
        let sql = format!(
            "SELECT {INFO} FROM documents WHERE call_code = $1 AND application_id IS NOT NULL \
             AND report IS NULL ORDER BY application_id, attachment_code"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(call)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// A document without its bytes.
    pub async fn document_info(&self, id: &str) -> Result<Option<DocumentInfo>> {
        let sql = format!("SELECT {INFO} FROM documents WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(info_from_row).transpose()
    }

    /// A document with its bytes.
    pub async fn document(&self, id: &str) -> Result<Option<(DocumentInfo, Vec<u8>)>> {
        let sql = format!("SELECT {INFO}, seq, content FROM documents WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => {
                let bytes = self
                    .document_bytes(r.try_get("seq")?, r.try_get("content")?)
                    .await?;
                Ok(Some((info_from_row(&r)?, bytes)))
            }
            None => Ok(None),
        }
    }

    /// The bytes of document `seq`: its chunks in order, or the `legacy` bytes kept whole
    /// by documents stored before chunks.
    pub(crate) async fn document_bytes(&self, seq: i64, legacy: Vec<u8>) -> Result<Vec<u8>> {
        let chunks: Vec<(Vec<u8>,)> =
            sqlx::query_as("SELECT bytes FROM document_chunks WHERE document_seq = $1 ORDER BY n")
                .bind(seq)
                .fetch_all(self.pool())
                .await?;
        if chunks.is_empty() {
            return Ok(legacy);
        }
        let mut out = Vec::with_capacity(chunks.iter().map(|(c,)| c.len()).sum());
        for (c,) in chunks {
            out.extend_from_slice(&c);
        }
        Ok(out)
    }
}

/// The query of [`unsealed_present`] for `n` documents. "Not sealed" is in every term: as
/// one condition beside the terms, SQLite walked every document not yet sealed (anyone's
/// draft) by the index on `application_id` at every batch that named one.
fn unsealed_sql(n: usize) -> String {
    use std::fmt::Write as _;
    let mut sql = String::from(
        "SELECT entity_code, call_code, attachment_code, sha256 FROM documents WHERE ",
    );
    for i in 0..n {
        if i > 0 {
            sql.push_str(" OR ");
        }
        let b = 4 * i;
        let _ = write!(
            sql,
            "(entity_code = ${} AND call_code = ${} AND attachment_code = ${} AND sha256 = ${} \
             AND application_id IS NULL)",
            b + 1,
            b + 2,
            b + 3,
            b + 4
        );
    }
    sql
}

/// Which of these draft documents `(entity, call, attachment code, SHA-256)` are stored and
/// not sealed: what a batch checks before it accepts submissions that name them.
pub(crate) async fn unsealed_present(
    conn: &mut sqlx::AnyConnection,
    named: &[(&str, &str, &str, &str)],
) -> Result<std::collections::HashSet<(String, String, String, String)>> {
    let mut found = std::collections::HashSet::new();
    for chunk in named.chunks(100) {
        let sql = unsealed_sql(chunk.len());
        let mut q = sqlx::query_as::<_, (String, String, String, String)>(sqlx::AssertSqlSafe(sql));
        for (e, c, a, h) in chunk {
            q = q.bind(*e).bind(*c).bind(*a).bind(*h);
        }
        found.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

/// Deletes the versions of a draft that have been out of it for longer than a submission
/// can be in flight.
async fn purge_removed(
    conn: &mut sqlx::AnyConnection,
    entity: &str,
    call: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "DELETE FROM documents WHERE entity_code = $1 AND call_code = $2 AND application_id IS NULL \
         AND removed_us IS NOT NULL AND removed_us < $3",
    )
    .bind(entity)
    .bind(call)
    .bind(now - KEEP_REMOVED_US)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{migrated_sqlite, sqlite_plan};

    /// The documents a batch names are found by their drafts, never by walking every
    /// document not yet sealed.
    #[tokio::test]
    async fn named_documents_are_found_by_their_drafts() {
        let (_db, store) = migrated_sqlite().await;
        for n in [1, 2, 100] {
            let plan = sqlite_plan(&store, &unsealed_sql(n)).await;
            let searches: Vec<&String> = plan.iter().filter(|d| d.starts_with("SEARCH")).collect();
            assert_eq!(searches.len(), n, "{plan:?}");
            assert!(
                searches.iter().all(|d| d.contains("documents_by_draft")),
                "{plan:?}"
            );
        }
        store.close().await;
    }
}
