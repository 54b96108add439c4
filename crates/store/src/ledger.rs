//! Appending to the hash chain inside a transaction, and reading it back.

use bandi_domain::ledger::{Entry, Record};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::{Backend, Result, Store, StoreError};

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

/// Writes sealed entries and the new head, as a batch of the intake writes its own: one
/// statement for the entries, whatever their number.
pub(crate) async fn insert(conn: &mut AnyConnection, entries: &[Entry], head: &Head) -> Result<()> {
    let backend = if conn.backend_name() == "PostgreSQL" {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let calls: Vec<Option<String>> = entries
        .iter()
        .map(|e| e.record().ok().map(|r| r.call().to_string()))
        .collect();
    let rows = crate::intake::ledger_rows(
        backend,
        entries.iter().zip(&calls).map(|(e, c)| (e, c.as_deref())),
    );
    let sql = crate::intake::ledger_insert(backend, 1);
    rows.bind_to(sqlx::query(AssertSqlSafe(sql)))
        .execute(&mut *conn)
        .await?;
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

/// How many ledger entries one query of [`call_records_after`] returns, as one JSON array.
pub(crate) const RECORDS_PER_QUERY: i64 = 20_000;

/// The records of one call after ledger entry `after`, in order.
///
/// Rows come aggregated into one JSON array per [`RECORDS_PER_QUERY`] entries: one row per
/// entry cost a hand-off from SQLite's worker thread and a row conversion each, and
/// rebuilding a call of a million applications when a node starts took 11 s in the query
/// alone.
pub(crate) async fn call_records_after(
    conn: &mut AnyConnection,
    call: &str,
    after: u64,
) -> Result<Vec<(u64, Record)>> {
    records_in_pages(conn, call, after, RECORDS_PER_QUERY).await
}

async fn records_in_pages(
    conn: &mut AnyConnection,
    call: &str,
    after: u64,
    per_query: i64,
) -> Result<Vec<(u64, Record)>> {
    let mut records = Vec::new();
    call_record_pages(conn, call, after, per_query, |page| {
        records.extend(page);
        Ok(())
    })
    .await?;
    Ok(records)
}

/// The records of one call after ledger entry `after`, in order, handed to `each` a page
/// at a time: a call of a million is folded without holding all its records at once. Each
/// page's payloads are parsed on every core while nothing else waits on this task.
pub(crate) async fn call_record_pages(
    conn: &mut AnyConnection,
    call: &str,
    after: u64,
    per_query: i64,
    mut each: impl FnMut(Vec<(u64, Record)>) -> Result<()>,
) -> Result<()> {
    let mut last = after;
    loop {
        let page = call_record_page(conn, call, last, per_query).await?;
        let full = page.len() as i64 == per_query;
        if let Some((seq, _)) = page.last() {
            last = *seq;
        }
        each(page)?;
        if !full {
            return Ok(());
        }
    }
}

/// The first `limit` records of one call after ledger entry `after`, in order.
pub(crate) async fn call_record_page(
    conn: &mut AnyConnection,
    call: &str,
    after: u64,
    limit: i64,
) -> Result<Vec<(u64, Record)>> {
    let sql = if conn.backend_name() == "PostgreSQL" {
        "SELECT json_agg(json_build_array(seq, payload) ORDER BY seq)::text FROM \
         (SELECT seq, payload FROM ledger WHERE call_code = $1 AND seq > $2 ORDER BY seq LIMIT $3) AS t"
    } else {
        "SELECT json_group_array(json_array(seq, payload)) FROM \
         (SELECT seq, payload FROM ledger WHERE call_code = $1 AND seq > $2 ORDER BY seq LIMIT $3)"
    };
    let json: Option<String> = sqlx::query_scalar(sql)
        .bind(call)
        .bind(after as i64)
        .bind(limit)
        .fetch_one(&mut *conn)
        .await?;
    let mut page: Vec<(u64, String)> = match json {
        Some(j) => serde_json::from_str(&j)
            .map_err(|e| StoreError::Corrupt(format!("ledger of call {call}: {e}")))?,
        None => Vec::new(),
    };
    page.sort_unstable_by_key(|(seq, _)| *seq);
    let records = tokio::task::spawn_blocking(move || {
        let threads = bandi_domain::parallel::cores();
        bandi_domain::parallel::map(&page, threads, |(seq, payload)| {
            Record::from_payload(payload)
                .map(|r| (*seq, r))
                .map_err(|m| StoreError::Corrupt(format!("ledger entry {seq}: {m}")))
        })
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("ledger of call {call}: {e}")))?;
    records.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use bandi_domain::money::Money;
    use sqlx::Acquire;

    use super::*;
    use crate::testing::TestDb;

    fn submitted(call: &str, seq: u64) -> Record {
        Record::ApplicationSubmitted {
            call: call.into(),
            seq,
            protocol: format!("P/{seq}"),
            entity: format!("e{seq}"),
            admitted_at: "2026-11-25T10:00:00Z".into(),
            received_at: "2026-11-25T10:00:00Z".into(),
            content_sha256: "0".repeat(64),
            requested_cents: Money::from_cents(100 * seq as i64),
        }
    }

    /// Two calls' entries interleaved, read back in pages smaller than the call: every
    /// entry of the one call, in order, from any starting point.
    async fn pages_cover_the_call(db: TestDb) {
        let store = Store::connect(&db.url).await.expect("connect");
        store.migrate().await.expect("migrate");
        let mut conn = store.pool().acquire().await.expect("conn");
        let mut tx = conn.begin().await.expect("tx");
        let mut head = lock_head(&mut tx).await.expect("head");
        let at = Timestamp::now();
        let entries: Vec<Entry> = (1..=10)
            .map(|i| {
                let call = if i % 3 == 0 { "b" } else { "a" };
                seal(&mut head, at, &submitted(call, i))
            })
            .collect();
        insert(&mut tx, &entries, &head).await.expect("insert");
        tx.commit().await.expect("commit");

        let a: Vec<u64> = vec![1, 2, 4, 5, 7, 8, 10];
        for per_query in [1, 2, 3, 7, 100] {
            for after in [0, 4, 10] {
                let got = records_in_pages(&mut conn, "a", after, per_query)
                    .await
                    .expect("records");
                let seqs: Vec<u64> = got.iter().map(|(s, _)| *s).collect();
                let expected: Vec<u64> = a.iter().copied().filter(|s| *s > after).collect();
                assert_eq!(seqs, expected, "{per_query} per query, after {after}");
                for (seq, record) in got {
                    assert_eq!(record, submitted("a", seq));
                }
            }
        }
    }

    #[tokio::test]
    async fn sqlite_pages_cover_the_call() {
        pages_cover_the_call(TestDb::sqlite()).await;
    }

    #[tokio::test]
    async fn postgres_pages_cover_the_call() {
        if let Some(db) = TestDb::postgres().await {
            pages_cover_the_call(db).await;
        }
    }
}
