//! Storage of `bandi`: SQLite (the embedded default) and PostgreSQL (several nodes on one
//! database) behind one [`Store`], and the click-day [`intake`] sequencer.
//!
//! Both backends run the same SQL through sqlx's `Any` driver: numbered parameters (`$1`)
//! work in both, and every transaction that appends to the ledger starts by updating the
//! single `ledger_head` row, which takes SQLite's write lock and PostgreSQL's row lock
//! alike. Schemas differ only in column types, so each backend keeps its own migrations.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// Applications with their receipts (a table apart since migration 0020), as the `FROM` of
/// a query that reads `receipt`; a literal, for `concat!`.
macro_rules! applications_with_receipts {
    () => {
        "applications JOIN receipts ON receipts.entry = applications.ledger_seq"
    };
}

/// The columns a receipt is read from ([`applications::receipt_from_row`]): the stored part
/// and the application's columns that hold the rest; a literal, for `concat!`.
macro_rules! receipt_columns {
    () => {
        "receipt, id, call_code, entity_code, protocol, seq, received_us, content_sha256, \
         ledger_seq, eligible_cost_cents, requested_cents"
    };
}

mod accounts;
mod analyse;
mod applications;
mod attempts;
mod cache;
mod calls;
mod documents;
#[macro_use]
mod entities;
pub mod error;
mod fold_logs;
mod history;
pub mod intake;
mod ledger;
mod migrate;
mod naive;
mod outbox;
mod password_resets;
mod practice_files;
mod practices;
mod proofs;
mod reports;
mod review;
mod services;
mod sign_in_flows;
mod statistics;
pub mod testing;
mod tokens;
mod verify;
mod verify_read;
mod verify_review;

pub use verify_review::answer_sha256;

pub use accounts::{FiscalCode, Role, SESSION_IDLE, Session, User, normalise_email};
pub use applications::{RankingRow, Receipt, StoredApplication};
pub use calls::{CallSummary, ImportedCall, StoredCall};
pub use documents::{CHUNK_BYTES, DocumentInfo, NewDocument};
pub use error::StoreError;
pub use history::{
    HistoryEntry, IntegrationAnswer, IntegrationRequest, PublishedVersion, ReviewSummary,
};
pub use outbox::{Contacts, Delivery, StoredNotice};
pub use password_resets::AccountMail;
pub use practice_files::{MAX_PRACTICE_FILES, PracticeFile};
pub use practices::{PracticeQuery, StoredPractice};
pub use proofs::{Checkpoint, PublishedKey};
pub use reports::{
    AwardReporting, GrantRow, Payment, ReportChange, Reporting, StoredReport, report_document_code,
};
pub use review::{Applied, Moved, UnderReview};
pub use services::CatalogueImport;
pub use sign_in_flows::{SIGN_IN_FLOW_TTL, SignInFlow};
pub use statistics::Indicators;
pub use verify::VerifyReport;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database, whichever it is. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// The sequencer's own connection: it must never wait behind the requests' reads.
    writer: AnyPool,
    backend: Backend,
    /// The SQLite database's file, for readers outside the pools (`bandi verify`'s); none
    /// in memory or on PostgreSQL.
    sqlite_file: Option<Arc<PathBuf>>,
    /// The PostgreSQL database's URL, for readers outside the pools (`bandi verify`'s).
    postgres_url: Option<Arc<str>>,
    caches: Arc<cache::Caches>,
    /// See [`Store::write_turn`].
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// The key that signs receipts and checkpoints, once the server has one.
    signer: Arc<std::sync::OnceLock<Arc<bandi_domain::proof::SigningKeyPair>>>,
}

impl Store {
    /// Opens `sqlite:PATH` (created if missing, WAL, `synchronous=FULL`) or `postgres://...`.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let mut sqlite_file = None;
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            let file = path.split('?').next().unwrap_or(path);
            if let Some(dir) = Path::new(file).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            if !file.is_empty() && file != ":memory:" && !path.contains("mode=memory") {
                sqlite_file = Some(Arc::new(PathBuf::from(file)));
            }
            let url = if path.contains('?') {
                format!("sqlite:{path}")
            } else {
                format!("sqlite:{path}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL {url:?}: use sqlite:PATH or postgres://..."
            )));
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Config(format!("bad database URL: {e}")))?;
        let pool = pool_options(backend, 16, (READER_CACHE_KIB, READER_TEMP_STORE))
            .connect_with(options.clone())
            .await?;
        let writer = pool_options(backend, 1, (WRITER_CACHE_KIB, WRITER_TEMP_STORE))
            .connect_with(options)
            .await?;
        Ok(Store {
            pool,
            writer,
            backend,
            sqlite_file,
            postgres_url: (backend == Backend::Postgres).then(|| Arc::from(url.as_str())),
            caches: Arc::default(),
            write_turn: Arc::default(),
            signer: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn sqlite_file(&self) -> Option<PathBuf> {
        self.sqlite_file.as_deref().cloned()
    }

    pub(crate) fn postgres_url(&self) -> Option<&str> {
        self.postgres_url.as_deref()
    }

    /// Applies the backend's migrations that have not run yet.
    pub async fn migrate(&self) -> Result<usize> {
        migrate::run(&self.pool, self.backend).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction that will write, on a connection of the pool ([`begin_write`]), in
    /// this process's turn to write ([`Store::write_turn`]).
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        let turn = self.write_turn().await;
        Ok(WriteTx {
            tx: begin_write_on(&self.pool, self.backend).await?,
            _turn: turn,
        })
    }

    /// On SQLite, this process's writers take turns here before they take the database's
    /// lock: one waiting on that lock is put to sleep by SQLite for up to 100 ms at a time
    /// (its busy handler), and an intake batch behind the outbox's sender waited so for a
    /// third of a second. Queued here, the next writer starts as soon as the last ends.
    /// Other processes still meet the lock itself. PostgreSQL locks rows: no turn.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_turn.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub(crate) fn caches(&self) -> &cache::Caches {
        &self.caches
    }

    /// Gives the store the key that signs receipts (in each committed batch) and
    /// checkpoints. Once: a second key is refused (restart to rotate).
    pub fn set_signer(&self, key: bandi_domain::proof::SigningKeyPair) -> bool {
        self.signer.set(Arc::new(key)).is_ok()
    }

    pub fn signer(&self) -> Option<&bandi_domain::proof::SigningKeyPair> {
        self.signer.get().map(|k| k.as_ref())
    }
}

/// SQLite's page cache per connection. The writer's holds the indexes a batch updates, so
/// that a large call does not re-read them from the OS at every batch (seen in profiles as
/// page-cache churn once a call passed about 20,000 applications with the default 2 MiB).
const WRITER_CACHE_KIB: u32 = 64 * 1024;
const READER_CACHE_KIB: u32 = 8 * 1024;

/// Where the writer keeps its temporary files: in memory. A batch's statements each insert
/// many rows inside one transaction, so SQLite journals the pages each one changes (to undo
/// that statement alone if it fails), and past 64 KiB it spilled that journal to a file on
/// disk: with the receipts' 1.1 KB each, 8 KB written per submission that no reader ever
/// needed (BENCHMARKS.md, issue 17). Readers keep the default (a large sort may spill).
const WRITER_TEMP_STORE: &str = "MEMORY";
const READER_TEMP_STORE: &str = "DEFAULT";

/// The WAL's length (in pages) at which a commit runs a checkpoint itself. The intake's
/// checkpointer ([`intake`]) copies the WAL into the database in the background well before
/// that; this is the bound when it falls behind. At SQLite's default of 1,000 pages a
/// commit checkpointed every 30 batches or so: 13% of the writer's time, on the path
/// every answer waits for.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 8_000;

fn pool_options(
    backend: Backend,
    max_connections: u32,
    (cache_kib, temp_store): (u32, &'static str),
) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(std::time::Duration::from_secs(5));
    match backend {
        // A local file's connection does not break: no ping on every acquire (one more
        // hand-off to the connection's thread). PostgreSQL's may, after a restart.
        Backend::Sqlite => options
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    // Durability first: a receipt is only sent after an fsync'd commit.
                    let pragmas = format!(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -{cache_kib}; PRAGMA temp_store = {temp_store}; \
                     PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
                    );
                    conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
                    Ok(())
                })
            }),
        Backend::Postgres => options,
    }
}

const BEGIN_IMMEDIATE: &str = "BEGIN IMMEDIATE";

/// A transaction that writes, holding this process's turn to write until it ends.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`, waiting up to the busy timeout): a deferred transaction that reads
/// first and writes later fails at once with "database is locked", without waiting, when
/// another connection committed in between (its snapshot is stale). Seen at a server's
/// start, which registers its key while the other tasks begin to write.
pub(crate) async fn begin_write(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> Result<sqlx::Transaction<'_, sqlx::Any>> {
    use sqlx::Connection;
    Ok(match backend {
        Backend::Sqlite => conn.begin_with(BEGIN_IMMEDIATE).await?,
        Backend::Postgres => conn.begin().await?,
    })
}

/// [`begin_write`] on a connection of `pool`.
pub(crate) async fn begin_write_on(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with(BEGIN_IMMEDIATE).await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// Random bytes as lower-case hex: ids and tokens.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    hex::encode(buf)
}

pub(crate) fn now_us() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}
