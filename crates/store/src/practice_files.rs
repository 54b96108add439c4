//! Files attached to a practice: kept whole, at most [`MAX_PRACTICE_FILES`] per practice
//! (counted in the transaction that adds one, so two uploads at once cannot pass it).

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::{Result, Store};

/// The most files a practice holds.
pub const MAX_PRACTICE_FILES: i64 = 5;

/// A file of a practice, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeFile {
    pub id: String,
    pub practice: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_at: Timestamp,
}

const COLUMNS: &str = "id, practice_n, file_name, content_type, size_bytes, sha256, uploaded_us";

type Row = (String, i64, String, String, i64, String, i64);
type RowWithBytes = (String, i64, String, String, i64, String, i64, Vec<u8>);

fn from_row((id, practice, file_name, content_type, size, sha256, us): Row) -> PracticeFile {
    PracticeFile {
        id,
        practice,
        file_name,
        content_type,
        size,
        sha256,
        uploaded_at: Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH),
    }
}

impl Store {
    /// Keeps a file for practice `n`; `None` when the practice holds the most files already.
    pub async fn add_practice_file(
        &self,
        n: i64,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
        by: &str,
    ) -> Result<Option<PracticeFile>> {
        let mut tx = self.begin_write().await?;
        // Serialises the uploads of one practice on PostgreSQL; SQLite's writer is one.
        if self.backend() == crate::Backend::Postgres {
            sqlx::query("SELECT n FROM practices WHERE n = $1 FOR UPDATE")
                .bind(n)
                .execute(&mut *tx)
                .await?;
        }
        let file = PracticeFile {
            id: crate::random_hex(16),
            practice: n,
            file_name: file_name.to_string(),
            content_type: content_type.to_string(),
            size: bytes.len() as i64,
            sha256: hex::encode(Sha256::digest(bytes)),
            uploaded_at: bandi_domain::instant::truncate_to_micros(Timestamp::now()),
        };
        // The count and the insert are one statement: SQLite runs it whole.
        let done = sqlx::query(
            "INSERT INTO practice_files (id, practice_n, file_name, content_type, size_bytes, sha256, \
             bytes, uploaded_us, uploaded_by) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
             WHERE (SELECT COUNT(*) FROM practice_files WHERE practice_n = $2) < $10",
        )
        .bind(&file.id)
        .bind(n)
        .bind(&file.file_name)
        .bind(&file.content_type)
        .bind(file.size)
        .bind(&file.sha256)
        .bind(bytes)
        .bind(file.uploaded_at.as_microsecond())
        .bind(by)
        .bind(MAX_PRACTICE_FILES)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((done.rows_affected() == 1).then_some(file))
    }

    /// The files of practice `n`, oldest first.
    pub async fn practice_files(&self, n: i64) -> Result<Vec<PracticeFile>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM practice_files WHERE practice_n = $1 ORDER BY uploaded_us, id"
        )))
        .bind(n)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// File `id` of practice `n`, with its bytes.
    pub async fn practice_file(&self, n: i64, id: &str) -> Result<Option<(PracticeFile, Vec<u8>)>> {
        let row: Option<RowWithBytes> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, bytes FROM practice_files WHERE practice_n = $1 AND id = $2"
        )))
        .bind(n)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(a, b, c, d, e, f, g, bytes)| (from_row((a, b, c, d, e, f, g)), bytes)))
    }

    /// Takes file `id` out of practice `n`; false when it was not there.
    pub async fn remove_practice_file(&self, n: i64, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM practice_files WHERE practice_n = $1 AND id = $2")
            .bind(n)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
