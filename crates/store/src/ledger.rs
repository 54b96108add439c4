//! Appending to the hash chain inside a transaction, and reading it back.

use bandi_domain::ledger::{Entry, Record};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::{Result, Store, StoreError};

/// The last entry of the chain, as seen by the transaction that holds its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub seq: u64,
    pub hash: String,
}

/// Locks the head of the chain for the rest of the transaction. Every writer calls this
/// first: on SQLite the update takes the database's write lock, on PostgreSQL the row lock,
/// so appends are ordered the same way on one node or many.
pub(crate) async fn lock_head(conn: &mut AnyConnection) -> Result<Head> {
    let (seq, hash): (i64, String) =
        sqlx::query_as("UPDATE ledger_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *conn)
            .await?;
    Ok(Head {
        seq: seq as u64,
        hash,
    })
}

/// Seals `record` as the next entry after `head` and advances `head`; [`insert`] writes it.
pub(crate) fn seal(head: &mut Head, at: Timestamp, record: &Record) -> Entry {
    let entry = Entry::seal(head.seq + 1, &head.hash, at, record);
    head.seq = entry.seq;
    head.hash = entry.hash.clone();
    entry
}

/// Writes sealed entries and the new head.
pub(crate) async fn insert(conn: &mut AnyConnection, entries: &[Entry], head: &Head) -> Result<()> {
    for chunk in entries.chunks(500) {
        let sql = multi_row_insert(
            "INSERT INTO ledger (seq, prev_hash, hash, kind, at, call_code, payload) VALUES ",
            7,
            chunk.len(),
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for e in chunk {
            let call = e.record().map(|r| r.call().to_string()).ok();
            q = q
                .bind(e.seq as i64)
                .bind(e.prev_hash.clone())
                .bind(e.hash.clone())
                .bind(e.kind.clone())
                .bind(e.at.clone())
                .bind(call)
                .bind(e.payload.clone());
        }
        q.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE ledger_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(head.seq as i64)
        .bind(head.hash.clone())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `prefix ($1, $2), ($3, $4)`: placeholders only, never data.
pub(crate) fn multi_row_insert(prefix: &str, columns: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(prefix.len() + rows * columns * 5);
    sql.push_str(prefix);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(r * columns + c + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

pub(crate) fn entry_from_row(r: &AnyRow) -> Result<Entry> {
    let seq: i64 = r.try_get("seq")?;
    Ok(Entry {
        seq: u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("ledger seq {seq}")))?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
        kind: r.try_get("kind")?,
        at: r.try_get("at")?,
        payload: r.try_get("payload")?,
    })
}

impl Store {
    /// Entries after `after`, at most `limit`, in order.
    pub async fn ledger_page(&self, after: u64, limit: u32) -> Result<Vec<Entry>> {
        let rows = sqlx::query(
            "SELECT seq, prev_hash, hash, kind, at, payload FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after as i64)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    pub async fn ledger_entry(&self, seq: u64) -> Result<Option<Entry>> {
        let row = sqlx::query(
            "SELECT seq, prev_hash, hash, kind, at, payload FROM ledger WHERE seq = $1",
        )
        .bind(seq as i64)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(entry_from_row).transpose()
    }
}

/// The records of one call after ledger entry `after`, in order.
pub(crate) async fn call_records_after(
    conn: &mut AnyConnection,
    call: &str,
    after: u64,
) -> Result<Vec<(u64, Record)>> {
    let rows = sqlx::query(
        "SELECT seq, prev_hash, hash, kind, at, payload FROM ledger WHERE call_code = $1 AND seq > $2 ORDER BY seq",
    )
    .bind(call)
    .bind(after as i64)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let e = entry_from_row(r)?;
            let rec = e
                .record()
                .map_err(|m| StoreError::Corrupt(format!("ledger entry {}: {m}", e.seq)))?;
            Ok((e.seq, rec))
        })
        .collect()
}
