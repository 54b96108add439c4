//! What `bandi verify` reads, a page at a time and ahead of its checks: the ledger in
//! order, and each call's applications by number.
//!
//! On a SQLite file each of them is one statement, in one read transaction, stepped on a
//! thread of its own through rusqlite. Through sqlx every row was handed over from the
//! connection's worker thread and converted into an `AnyRow` (columns included): with the
//! thread switches that cost, most of the CPU of a million entries' verify (BENCHMARKS.md,
//! issue 17, fourth sitting). PostgreSQL is read a page per query on a task, through a
//! connection of sqlx's PostgreSQL driver of its own: rows decoded straight into tuples,
//! where the `AnyRow` of each row and its columns were a fifth of the CPU of a million's
//! verify (sixth sitting). SQLite in memory (which another connection cannot open) is read
//! through the pool, a page per query.

use std::path::PathBuf;
use std::time::Duration;

use bandi_domain::ledger::{ChainError, Entry, Record};
use sqlx::Row;
use sqlx::any::AnyRow;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::mpsc::{Receiver, Sender, channel};

use crate::{Result, Store, StoreError};

const LEDGER_PER_PAGE: usize = 5_000;
/// Applications per page: a call of a million is never held in memory whole.
const APPLICATIONS_PER_PAGE: usize = 10_000;
/// Pages read ahead of the one being checked.
const PAGES_AHEAD: usize = 2;

const LEDGER_COLUMNS: &str = "seq, prev_hash, hash, kind, at, payload";
const APPLICATION_COLUMNS: &str = "id, seq, protocol, entity_code, content_sha256, content, \
     requested_cents, reserved_cents, status, ledger_seq, review_state, cup, \
     current_eligible_cents, current_requested_cents";

/// An application as stored, with what verify compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredApplication {
    pub id: String,
    pub seq: u64,
    pub protocol: String,
    pub entity_code: String,
    pub content_sha256: String,
    pub content: String,
    pub requested_cents: i64,
    pub reserved_cents: i64,
    pub status: String,
    pub ledger_seq: i64,
    pub review_state: String,
    pub cup: Option<String>,
    pub current_eligible_cents: Option<i64>,
    pub current_requested_cents: Option<i64>,
}

fn number(what: &str, n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} {n}")))
}

impl StoredApplication {
    fn from_any(r: &AnyRow) -> Result<StoredApplication> {
        Ok(StoredApplication {
            id: r.try_get("id")?,
            seq: number("application number", r.try_get("seq")?)?,
            protocol: r.try_get("protocol")?,
            entity_code: r.try_get("entity_code")?,
            content_sha256: r.try_get("content_sha256")?,
            content: r.try_get("content")?,
            requested_cents: r.try_get("requested_cents")?,
            reserved_cents: r.try_get("reserved_cents")?,
            status: r.try_get("status")?,
            ledger_seq: r.try_get("ledger_seq")?,
            review_state: r.try_get("review_state")?,
            cup: r.try_get("cup")?,
            current_eligible_cents: r.try_get("current_eligible_cents")?,
            current_requested_cents: r.try_get("current_requested_cents")?,
        })
    }

    /// In the order of [`APPLICATION_COLUMNS`].
    fn from_tuple(r: ApplicationRow) -> Result<StoredApplication> {
        Ok(StoredApplication {
            id: r.0,
            seq: number("application number", r.1)?,
            protocol: r.2,
            entity_code: r.3,
            content_sha256: r.4,
            content: r.5,
            requested_cents: r.6,
            reserved_cents: r.7,
            status: r.8,
            ledger_seq: r.9,
            review_state: r.10,
            cup: r.11,
            current_eligible_cents: r.12,
            current_requested_cents: r.13,
        })
    }

    /// In the order of [`APPLICATION_COLUMNS`].
    fn from_sqlite(r: &rusqlite::Row) -> Result<StoredApplication> {
        Ok(StoredApplication {
            id: r.get(0)?,
            seq: number("application number", r.get(1)?)?,
            protocol: r.get(2)?,
            entity_code: r.get(3)?,
            content_sha256: r.get(4)?,
            content: r.get(5)?,
            requested_cents: r.get(6)?,
            reserved_cents: r.get(7)?,
            status: r.get(8)?,
            ledger_seq: r.get(9)?,
            review_state: r.get(10)?,
            cup: r.get(11)?,
            current_eligible_cents: r.get(12)?,
            current_requested_cents: r.get(13)?,
        })
    }
}

/// A row of [`APPLICATION_COLUMNS`] as PostgreSQL's driver decodes it.
type ApplicationRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

/// A row of [`LEDGER_COLUMNS`] as PostgreSQL's driver decodes it.
type LedgerRow = (i64, String, String, String, String, String);

fn entry_from_tuple((seq, prev_hash, hash, kind, at, payload): LedgerRow) -> Result<Entry> {
    Ok(Entry {
        seq: number("ledger seq", seq)?,
        prev_hash,
        hash,
        kind,
        at,
        payload,
    })
}

/// In the order of [`LEDGER_COLUMNS`].
fn entry_from_sqlite(r: &rusqlite::Row) -> Result<Entry> {
    Ok(Entry {
        seq: number("ledger seq", r.get(0)?)?,
        prev_hash: r.get(1)?,
        hash: r.get(2)?,
        kind: r.get(3)?,
        at: r.get(4)?,
        payload: r.get(5)?,
    })
}

/// The reader's errors are the database's: it could not be opened or read.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Unavailable(sqlx::Error::Io(std::io::Error::other(e)))
    }
}

pub(crate) type Pages<T> = Receiver<Result<Vec<T>>>;

impl Store {
    /// The whole ledger, in order.
    pub(crate) fn ledger_pages(&self) -> Pages<Entry> {
        if let Some(file) = self.sqlite_file() {
            let sql = format!("SELECT {LEDGER_COLUMNS} FROM ledger ORDER BY seq");
            return read_on_thread(file, sql, None, LEDGER_PER_PAGE, entry_from_sqlite);
        }
        if let Some(pg) = self.postgres_reader() {
            return self.prefetch(move |_, after| {
                let pg = pg.clone();
                async move {
                    let sql = format!(
                        "SELECT {LEDGER_COLUMNS} FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2"
                    );
                    let rows: Vec<LedgerRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(after as i64)
                        .bind(LEDGER_PER_PAGE as i64)
                        .fetch_all(&pg)
                        .await?;
                    let page = rows
                        .into_iter()
                        .map(entry_from_tuple)
                        .collect::<Result<Vec<_>>>()?;
                    let next = page.last().map(|e| e.seq);
                    Ok((page, next))
                }
            });
        }
        self.prefetch(|store, after| async move {
            let page = store.ledger_page(after, LEDGER_PER_PAGE as u32).await?;
            let next = page.last().map(|e| e.seq);
            Ok((page, next))
        })
    }

    /// One connection of the PostgreSQL driver itself, for one reader; `None` on SQLite.
    fn postgres_reader(&self) -> Option<sqlx::PgPool> {
        let url = self.postgres_url()?;
        PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy(url)
            .ok()
    }

    /// A call's stored applications, by number.
    pub(crate) fn application_pages(&self, call: &str) -> Pages<StoredApplication> {
        if let Some(file) = self.sqlite_file() {
            let sql = format!(
                "SELECT {APPLICATION_COLUMNS} FROM applications WHERE call_code = ?1 ORDER BY seq"
            );
            return read_on_thread(
                file,
                sql,
                Some(call.to_string()),
                APPLICATIONS_PER_PAGE,
                StoredApplication::from_sqlite,
            );
        }
        // Pages by ranges of numbers, not `seq > $2 … LIMIT`: with statistics from before
        // the click day, PostgreSQL read and sorted every application after `$2` (on disk)
        // for each page of 10,000 (BENCHMARKS.md, issue 17, fourth sitting). A range reads
        // its own rows whatever the plan; numbers past the last are not read.
        // The last number is read once, with the first page: the pages end there.
        let call = call.to_string();
        let last = std::sync::Arc::new(tokio::sync::OnceCell::<u64>::new());
        let pg = self.postgres_reader();
        self.prefetch(move |store, after| {
            let (call, last, pg) = (call.clone(), last.clone(), pg.clone());
            async move {
                let last = *last
                    .get_or_try_init(|| async {
                        let (last,): (Option<i64>,) = sqlx::query_as(
                            "SELECT MAX(seq) FROM applications WHERE call_code = $1",
                        )
                        .bind(&call)
                        .fetch_one(store.pool())
                        .await?;
                        number("application number", last.unwrap_or(0))
                    })
                    .await?;
                if after >= last {
                    return Ok((Vec::new(), None));
                }
                let until = after + APPLICATIONS_PER_PAGE as u64;
                let sql = format!(
                    "SELECT {APPLICATION_COLUMNS} FROM applications \
                     WHERE call_code = $1 AND seq > $2 AND seq <= $3 ORDER BY seq"
                );
                let page = match pg {
                    Some(pg) => sqlx::query_as::<_, ApplicationRow>(sqlx::AssertSqlSafe(sql))
                        .bind(&call)
                        .bind(after as i64)
                        .bind(until as i64)
                        .fetch_all(&pg)
                        .await?
                        .into_iter()
                        .map(StoredApplication::from_tuple)
                        .collect::<Result<Vec<_>>>()?,
                    None => sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(&call)
                        .bind(after as i64)
                        .bind(until as i64)
                        .fetch_all(store.pool())
                        .await?
                        .iter()
                        .map(StoredApplication::from_any)
                        .collect::<Result<Vec<_>>>()?,
                };
                Ok((page, (until < last).then_some(until)))
            }
        })
    }

    /// Pages read in order by `page(store, after)` (which gives a page and the key to read
    /// after next, none at the end; `after` starts at 0) on a task of their own,
    /// [`PAGES_AHEAD`] ahead of the reader; an empty page is not sent; the first error ends
    /// them.
    fn prefetch<T, F, Fut>(&self, page: F) -> Pages<T>
    where
        T: Send + 'static,
        F: Fn(Store, u64) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(Vec<T>, Option<u64>)>> + Send,
    {
        let (tx, rx) = channel(PAGES_AHEAD);
        let store = self.clone();
        tokio::spawn(async move {
            let mut after = 0;
            loop {
                let (send, next) = match page(store.clone(), after).await {
                    Ok((items, next)) => (Ok(items), next),
                    Err(e) => (Err(e), None),
                };
                let empty = matches!(&send, Ok(items) if items.is_empty());
                if !empty && tx.send(send).await.is_err() {
                    return;
                }
                match next {
                    Some(n) => after = n,
                    None => return,
                }
            }
        });
        rx
    }
}

/// Ledger pages with each entry's [`Entry::self_check`] (its hash and its payload), run
/// on `threads` threads as the pages come, ahead of whoever follows the links.
pub(crate) type SelfChecked = (Vec<Entry>, Vec<Result<Record, ChainError>>);

pub(crate) fn self_checked(
    mut pages: Pages<Entry>,
    threads: usize,
) -> Receiver<Result<SelfChecked>> {
    let (tx, rx) = channel(PAGES_AHEAD);
    tokio::spawn(async move {
        while let Some(page) = pages.recv().await {
            let checked = match page {
                Ok(page) => tokio::task::spawn_blocking(move || {
                    let checked = bandi_domain::parallel::map(&page, threads, Entry::self_check);
                    (page, checked)
                })
                .await
                .map_err(|e| StoreError::Corrupt(format!("the chain's check stopped: {e}"))),
                Err(e) => Err(e),
            };
            let last = checked.is_err();
            if tx.send(checked).await.is_err() || last {
                return;
            }
        }
    });
    rx
}

/// Steps `sql` (with `?1` bound to `param`, if any) on a thread of its own, on a read-only
/// connection to `file`, and sends its rows in pages of `per_page`; the first error ends
/// them. The reader stops when the receiver is dropped.
fn read_on_thread<T: Send + 'static>(
    file: PathBuf,
    sql: String,
    param: Option<String>,
    per_page: usize,
    row: fn(&rusqlite::Row) -> Result<T>,
) -> Pages<T> {
    let (tx, rx) = channel(PAGES_AHEAD);
    let errors = tx.clone();
    let spawned = std::thread::Builder::new()
        .name("bandi-verify-read".into())
        .spawn(move || {
            if let Err(e) = step(&file, &sql, param, per_page, row, &tx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
    if let Err(e) = spawned {
        let _ = errors.try_send(Err(StoreError::Unavailable(sqlx::Error::Io(e))));
    }
    rx
}

fn step<T>(
    file: &std::path::Path,
    sql: &str,
    param: Option<String>,
    per_page: usize,
    row: fn(&rusqlite::Row) -> Result<T>,
    tx: &Sender<Result<Vec<T>>>,
) -> Result<()> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let mut statement = conn.prepare(sql)?;
    let mut rows = match &param {
        Some(p) => statement.query([p])?,
        None => statement.query([])?,
    };
    let mut page = Vec::with_capacity(per_page);
    while let Some(r) = rows.next()? {
        page.push(row(r)?);
        if page.len() == per_page {
            let full = std::mem::replace(&mut page, Vec::with_capacity(per_page));
            if tx.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !page.is_empty() {
        let _ = tx.blocking_send(Ok(page));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    fn flat<T>(pages: Vec<Result<Vec<T>>>) -> Vec<T> {
        pages.into_iter().flat_map(|p| p.unwrap()).collect()
    }

    async fn drain<T>(mut pages: Pages<T>) -> Vec<Result<Vec<T>>> {
        let mut all = Vec::new();
        while let Some(page) = pages.recv().await {
            all.push(page);
        }
        all
    }

    /// A SQLite file with `rows` numbers in a table `t`, some of them negative.
    fn numbers(db: &TestDb, rows: &[i64]) -> PathBuf {
        let file = PathBuf::from(db.url.strip_prefix("sqlite:").unwrap());
        let conn = rusqlite::Connection::open(&file).unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER NOT NULL)")
            .unwrap();
        for n in rows {
            conn.execute("INSERT INTO t (n) VALUES (?1)", [n]).unwrap();
        }
        file
    }

    fn read_numbers(file: PathBuf, per_page: usize) -> Pages<u64> {
        let sql = "SELECT n FROM t ORDER BY rowid".to_string();
        read_on_thread(file, sql, None, per_page, |r| number("n", r.get(0)?))
    }

    #[tokio::test]
    async fn rows_come_in_full_pages_in_order_and_no_empty_page() {
        for (rows, want) in [
            (
                vec![1, 2, 3, 4, 5, 6, 7],
                vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]],
            ),
            (vec![1, 2, 3, 4, 5, 6], vec![vec![1, 2, 3], vec![4, 5, 6]]),
            (vec![], vec![]),
        ] {
            let db = TestDb::sqlite();
            let pages = drain(read_numbers(numbers(&db, &rows), 3)).await;
            let pages: Vec<Vec<u64>> = pages.into_iter().map(|p| p.unwrap()).collect();
            assert_eq!(pages, want, "{rows:?}");
        }
    }

    #[tokio::test]
    async fn a_row_that_does_not_read_ends_the_pages_with_its_error() {
        let db = TestDb::sqlite();
        let pages = drain(read_numbers(numbers(&db, &[1, 2, 3, 4, -5, 6]), 2)).await;
        assert_eq!(pages.len(), 3, "two full pages, then the error");
        assert_eq!(pages[1].as_ref().unwrap(), &vec![3, 4]);
        match &pages[2] {
            Err(StoreError::Corrupt(m)) => assert_eq!(m, "n -5"),
            other => panic!("expected the row's error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_file_that_does_not_open_is_an_error_not_a_hang() {
        let db = TestDb::sqlite();
        let file = PathBuf::from(db.url.strip_prefix("sqlite:").unwrap()).join("missing.db");
        let pages = drain(read_numbers(file, 2)).await;
        assert!(
            matches!(pages.as_slice(), [Err(StoreError::Unavailable(_))]),
            "{pages:?}"
        );
    }

    /// Each backend's own reader and the pool's give the same entries and applications,
    /// nulls and all: the columns are read by position on one side and by name on the other.
    #[tokio::test]
    async fn both_readers_give_the_same_rows_on_sqlite() {
        readers_agree(TestDb::sqlite()).await;
    }

    #[tokio::test]
    async fn both_readers_give_the_same_rows_on_postgres() {
        if let Some(db) = TestDb::postgres().await {
            readers_agree(db).await;
        }
    }

    /// The backend's own reader (rusqlite's thread, PostgreSQL's driver) and the pool's
    /// give the same rows. The columns are `BIGINT`, as PostgreSQL's migrations have them
    /// (its driver refuses an `INTEGER` read as `i64`).
    async fn readers_agree(db: TestDb) {
        let store = Store::connect(&db.url).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE ledger (seq BIGINT PRIMARY KEY, prev_hash TEXT, hash TEXT, \
             kind TEXT, at TEXT, payload TEXT); \
             INSERT INTO ledger VALUES (2, 'p2', 'h2', 'k2', 'a2', '{}'), \
             (1, 'p1', 'h1', 'k1', 'a1', '{\"x\":1}'); \
             CREATE TABLE applications (call_code TEXT, id TEXT, seq BIGINT, protocol TEXT, \
             entity_code TEXT, content_sha256 TEXT, content TEXT, requested_cents BIGINT, \
             reserved_cents BIGINT, status TEXT, ledger_seq BIGINT, review_state TEXT, \
             cup TEXT, current_eligible_cents BIGINT, current_requested_cents BIGINT); \
             INSERT INTO applications VALUES \
             ('C', 'id2', 2, 'P/2', 'E2', 's2', 'c2', 20, 0, 'waitlisted', 12, 'to_review', NULL, NULL, NULL), \
             ('C', 'id1', 1, 'P/1', 'E1', 's1', 'c1', 10, 7, 'reserved', 11, 'admitted', 'CUP1', 30, 8), \
             ('D', 'id3', 1, 'Q/1', 'E1', 's3', 'c3', 5, 5, 'reserved', 13, 'to_review', NULL, NULL, NULL);",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let mut via_sqlx = store.clone();
        via_sqlx.sqlite_file = None;
        via_sqlx.postgres_url = None;
        assert!(store.sqlite_file().is_some() || store.postgres_url().is_some());

        let entries = flat(drain(store.ledger_pages()).await);
        assert_eq!(entries, flat(drain(via_sqlx.ledger_pages()).await));
        assert_eq!(
            entries
                .iter()
                .map(|e| (e.seq, e.payload.as_str()))
                .collect::<Vec<_>>(),
            [(1, "{\"x\":1}"), (2, "{}")]
        );
        let applications = flat(drain(store.application_pages("C")).await);
        assert_eq!(
            applications,
            flat(drain(via_sqlx.application_pages("C")).await)
        );
        assert_eq!(
            applications
                .iter()
                .map(|a| (a.seq, a.cup.as_deref()))
                .collect::<Vec<_>>(),
            [(1, Some("CUP1")), (2, None)]
        );
        assert_eq!(applications[0].current_requested_cents, Some(8));
        assert_eq!(applications[1].status, "waitlisted");

        // More than a page, with a gap inside one and a gap longer than a page: both give
        // every row, in order.
        sqlx::raw_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000) \
             INSERT INTO applications (call_code, id, seq, protocol, entity_code, content_sha256, \
             content, requested_cents, reserved_cents, status, ledger_seq, review_state) \
             SELECT 'G', 'g' || i, CASE WHEN i = 25000 THEN 47000 ELSE i END, 'G/' || i, 'E', 's', \
             'c', 1, 1, 'reserved', i, 'to_review' FROM n WHERE i NOT BETWEEN 10000 AND 10005",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let numbers = |pages: Vec<StoredApplication>| -> Vec<u64> {
            pages.into_iter().map(|a| a.seq).collect()
        };
        let by_thread = numbers(flat(drain(store.application_pages("G")).await));
        let by_ranges = numbers(flat(drain(via_sqlx.application_pages("G")).await));
        assert_eq!(by_thread.len(), 24_994);
        assert_eq!(by_thread.last(), Some(&47_000));
        assert!(by_thread.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(by_ranges, by_thread);
        store.close().await;
    }
}
