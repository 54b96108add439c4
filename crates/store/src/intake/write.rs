//! Writing what a batch decided — ledger entries, application rows, the calls' counters,
//! the documents each application seals, its draft cleared, and the new head of the
//! chain — in **one statement** whatever the batch's size.
//!
//! The rows travel as one JSON array per table in a single bind parameter, unpacked by the
//! database (`jsonb_each` on SQLite, `jsonb_array_elements` on PostgreSQL, which `->>`
//! reads). SQLite is handed its own binary JSON ([`Rows`]), so it neither parses text nor
//! unescapes strings, and nothing here escapes them. So the SQL text
//! never changes (prepared once, cached), a batch costs one hand-off to sqlx's SQLite worker
//! or one round trip to PostgreSQL instead of one per table, and there is one bind per table
//! instead of fifteen per row. SQLite runs the statements of one string in order;
//! PostgreSQL runs them as data-modifying CTEs of one statement.

use std::sync::LazyLock;

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use bandi_domain::ledger::Entry;

use super::rows::NewApplication;
use crate::applications::StoredReceipt;
use crate::ledger::Head;
use crate::{Backend, Result, StoreError};

/// A call's counters as they stand after the batch.
pub(crate) struct Counters<'a> {
    pub code: &'a str,
    pub budget_cents: i64,
    pub reserved_cents: i64,
    pub applications: i64,
    pub waitlisted: i64,
    pub last_received_us: i64,
    pub last_event_ledger_seq: i64,
}

const LEDGER_COLUMNS: &str = "seq, prev_hash, hash, kind, at, call_code, payload";
const APPLICATION_COLUMNS: &str = "id, call_code, seq, protocol, entity_code, received_us, \
    content_sha256, content, requested_cents, eligible_cost_cents, reserved_cents, status, \
    ledger_seq, idempotency_key";
/// Which elements of an application's JSON array are integers (PostgreSQL casts them).
const APPLICATION_INTEGERS: [usize; 6] = [2, 5, 8, 9, 10, 12];
/// The receipt's notice of each application (the outbox, in the same transaction).
const NOTICE_COLUMNS: &str =
    "id, entity_code, call_code, seq, kind, subject, body, created_us, ledger_seq";
const NOTICE_INTEGERS: [usize; 3] = [3, 7, 8];
const COUNTERS_SET: [&str; 6] = [
    "budget_cents",
    "reserved_cents",
    "applications",
    "waitlisted",
    "last_received_us",
    "last_event_ledger_seq",
];

/// The columns of element `value` (SQLite) or `r` (PostgreSQL, with casts) of a JSON array.
fn elements(backend: Backend, n: usize, integers: &[usize]) -> String {
    (0..n)
        .map(|i| match backend {
            Backend::Sqlite => format!("value->>{i}"),
            Backend::Postgres if integers.contains(&i) => format!("(r->>{i})::bigint"),
            Backend::Postgres => format!("r->>{i}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO ledger … SELECT … FROM` the JSON array in parameter `$param`: the one way
/// ledger rows are written, by a batch and by every other event ([`crate::ledger::insert`]).
pub(crate) fn ledger_insert(backend: Backend, param: u8) -> String {
    let ledger = elements(backend, 7, &[0]);
    match backend {
        Backend::Sqlite => {
            format!(
                "INSERT INTO ledger ({LEDGER_COLUMNS}) SELECT {ledger} FROM jsonb_each(${param})"
            )
        }
        Backend::Postgres => format!(
            "INSERT INTO ledger ({LEDGER_COLUMNS}) SELECT {ledger} FROM jsonb_array_elements(${param}::jsonb) AS t(r)"
        ),
    }
}

/// An array of rows as the one bind parameter that [`ledger_insert`] and a batch's write
/// unpack.
///
/// On SQLite it is JSONB, SQLite's binary JSON, with every string stored raw: `jsonb_each`
/// takes it without parsing and `->>` returns each string as it is. As JSON text, the
/// escaping of every quote of the contents here, their parse and their unescaping in
/// SQLite were 29% of the writer thread's CPU and 8% of the request threads' (issue 17,
/// eighth sitting). PostgreSQL takes JSON text, cast by the statement.
pub(crate) enum Rows {
    Jsonb(Vec<u8>),
    Json(String),
}

impl Rows {
    fn of(backend: Backend, rows: &impl Serialize) -> Rows {
        match backend {
            Backend::Sqlite => Rows::Jsonb(
                serde_sqlite_jsonb::to_vec(rows).expect("rows of strings and integers serialise"),
            ),
            Backend::Postgres => Rows::Json(
                serde_json::to_string(rows).expect("rows of strings and integers serialise"),
            ),
        }
    }

    /// `q` with these rows as its next parameter.
    pub(crate) fn bind_to(self, q: AnyQuery<'_>) -> AnyQuery<'_> {
        match self {
            Rows::Jsonb(bytes) => q.bind(bytes),
            Rows::Json(text) => q.bind(text),
        }
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Ledger entries as the array [`ledger_insert`] reads, each with its call.
pub(crate) fn ledger_rows<'a>(
    backend: Backend,
    entries: impl Iterator<Item = (&'a Entry, Option<&'a str>)>,
) -> Rows {
    let rows: Vec<_> = entries
        .map(|(e, call)| {
            (
                e.seq,
                &e.prev_hash,
                &e.hash,
                &e.kind,
                &e.at,
                call,
                &e.payload,
            )
        })
        .collect();
    Rows::of(backend, &rows)
}

/// The SQL of a batch's write. `only_if_head`: the whole write happens only if the head of
/// the chain is still `($6, $7)` when it runs (the solo path, decided before any lock);
/// otherwise the caller holds the lock already.
///
/// After the applications: the documents each one names (`$8`: application id, entity,
/// call, attachment code, SHA-256) are sealed to it, the newest unsealed version with that
/// hash, and what else was in the entity's draft for the call goes, with the draft itself
/// (`$9`: entity and call of each application; small, where `$2` carries the contents and
/// costs a parse at every use). `$10`: the receipts' notices; `$11`: the receipts (ledger
/// entry, JSON), in their own table.
fn batch_sql(backend: Backend, only_if_head: bool) -> String {
    let applications = elements(backend, 14, &APPLICATION_INTEGERS);
    let notices = elements(backend, 9, &NOTICE_INTEGERS);
    let head_guard = if only_if_head {
        " AND seq = $6 AND hash = $7"
    } else {
        ""
    };
    match backend {
        Backend::Sqlite => {
            let set = COUNTERS_SET
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = c.value->>{}", i + 1))
                .collect::<Vec<_>>()
                .join(", ");
            // The head is moved first; the rows follow only if it now stands where this
            // batch put it.
            let (begin, when, end) = if only_if_head {
                (
                    "BEGIN IMMEDIATE; ",
                    " WHERE EXISTS (SELECT 1 FROM ledger_head WHERE id = 1 AND seq = $4 AND hash = $5)",
                    "; SELECT seq, hash FROM ledger_head WHERE id = 1; COMMIT",
                )
            } else {
                ("", "", "")
            };
            let and_when = when.replacen(" WHERE", " AND", 1);
            // `CROSS JOIN` keeps the batch's drafts as the outer loop (SQLite does not
            // reorder it): with a plain join the planner walked every document not yet
            // sealed, anyone's, by the index on `application_id`, at every batch.
            let ledger = ledger_insert(backend, 1);
            format!(
                "{begin}UPDATE ledger_head SET seq = $4, hash = $5 WHERE id = 1{head_guard}; \
                 {ledger}{when}; \
                 INSERT INTO applications ({APPLICATION_COLUMNS}) SELECT {applications} FROM jsonb_each($2){when}; \
                 INSERT INTO receipts (entry, receipt) SELECT value->>0, value->>1 FROM jsonb_each($11){when}; \
                 UPDATE calls SET {set} FROM jsonb_each($3) AS c WHERE calls.code = c.value->>0{and_when}; \
                 UPDATE documents SET application_id = s.value->>0, removed_us = NULL FROM jsonb_each($8) AS s \
                 WHERE documents.seq = (SELECT MAX(d.seq) FROM documents d WHERE d.entity_code = s.value->>1 \
                 AND d.call_code = s.value->>2 AND d.attachment_code = s.value->>3 AND d.sha256 = s.value->>4 \
                 AND d.application_id IS NULL){and_when}; \
                 DELETE FROM documents WHERE seq IN (SELECT d.seq FROM jsonb_each($9) AS a CROSS JOIN documents d \
                 WHERE d.entity_code = a.value->>0 AND d.call_code = a.value->>1 AND d.application_id IS NULL){and_when}; \
                 DELETE FROM drafts WHERE (entity_code, call_code) IN (SELECT a.value->>0, a.value->>1 \
                 FROM jsonb_each($9) AS a){and_when}; \
                 INSERT INTO notices ({NOTICE_COLUMNS}) SELECT {notices} FROM jsonb_each($10){when}{end}"
            )
        }
        Backend::Postgres => {
            let set = COUNTERS_SET
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = (r->>{})::bigint", i + 1))
                .collect::<Vec<_>>()
                .join(", ");
            let when = " WHERE EXISTS (SELECT 1 FROM h)";
            let ledger = ledger_insert(backend, 1);
            // The statements of one WITH see one snapshot: the cleanup leaves out, by their
            // numbers, the documents the seal takes.
            format!(
                "WITH h AS (UPDATE ledger_head SET seq = $4, hash = $5 WHERE id = 1{head_guard} RETURNING seq), \
                 l AS ({ledger}{when}), \
                 a AS (INSERT INTO applications ({APPLICATION_COLUMNS}) SELECT {applications} FROM jsonb_array_elements($2::jsonb) AS t(r){when}), \
                 rc AS (INSERT INTO receipts (entry, receipt) SELECT (r->>0)::bigint, r->>1 FROM jsonb_array_elements($11::jsonb) AS t(r){when}), \
                 c AS (UPDATE calls SET {set} FROM jsonb_array_elements($3::jsonb) AS t(r) WHERE calls.code = r->>0 AND EXISTS (SELECT 1 FROM h)), \
                 s AS (UPDATE documents SET application_id = t.r->>0, removed_us = NULL FROM jsonb_array_elements($8::jsonb) AS t(r) \
                 WHERE documents.seq = (SELECT MAX(d.seq) FROM documents d WHERE d.entity_code = t.r->>1 AND d.call_code = t.r->>2 \
                 AND d.attachment_code = t.r->>3 AND d.sha256 = t.r->>4 AND d.application_id IS NULL) AND EXISTS (SELECT 1 FROM h) \
                 RETURNING documents.seq), \
                 x AS (DELETE FROM documents WHERE seq IN (SELECT d.seq FROM jsonb_array_elements($9::jsonb) AS t(r) JOIN documents d \
                 ON d.entity_code = t.r->>0 AND d.call_code = t.r->>1 WHERE d.application_id IS NULL) \
                 AND seq NOT IN (SELECT seq FROM s) AND EXISTS (SELECT 1 FROM h)), \
                 y AS (DELETE FROM drafts WHERE (entity_code, call_code) IN (SELECT t.r->>0, t.r->>1 \
                 FROM jsonb_array_elements($9::jsonb) AS t(r)) AND EXISTS (SELECT 1 FROM h)), \
                 n AS (INSERT INTO notices ({NOTICE_COLUMNS}) SELECT {notices} FROM jsonb_array_elements($10::jsonb) AS t(r){when}) \
                 SELECT count(*) AS applied FROM h"
            )
        }
    }
}

static SQLITE_LOCKED: LazyLock<String> = LazyLock::new(|| batch_sql(Backend::Sqlite, false));
static SQLITE_SOLO: LazyLock<String> = LazyLock::new(|| batch_sql(Backend::Sqlite, true));
static POSTGRES_LOCKED: LazyLock<String> = LazyLock::new(|| batch_sql(Backend::Postgres, false));
static POSTGRES_SOLO: LazyLock<String> = LazyLock::new(|| batch_sql(Backend::Postgres, true));

/// Writes `rows` (their ledger entries in order, which must follow the chain up to `head`),
/// the counters, and `head`, and says whether it wrote.
///
/// - `expected: None`: inside the caller's transaction, which holds the lock; always writes.
/// - `expected: Some(h)`, the solo path: in one statement (SQLite: one transaction in one
///   string; PostgreSQL: one statement, its own transaction), moves the head from `h` to
///   `head` and writes the batch, or, if another writer moved the head meanwhile, writes
///   nothing. Durable when it returns, like a COMMIT.
pub(crate) async fn write_batch(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[NewApplication],
    counters: &[Counters<'_>],
    head: &Head,
    expected: Option<&Head>,
) -> Result<bool> {
    let sql: &'static str = match (backend, expected.is_some()) {
        (Backend::Sqlite, false) => &SQLITE_LOCKED,
        (Backend::Sqlite, true) => &SQLITE_SOLO,
        (Backend::Postgres, false) => &POSTGRES_LOCKED,
        (Backend::Postgres, true) => &POSTGRES_SOLO,
    };
    let [
        ledger,
        applications,
        counters,
        seals,
        drafts,
        notices,
        receipts,
    ] = batch_rows(backend, rows, counters);
    let mut q = sqlx::query(sql);
    for rows in [ledger, applications, counters] {
        q = rows.bind_to(q);
    }
    q = q.bind(head.seq as i64).bind(head.hash.clone());
    // `$6` and `$7` are the expected head on the solo path; unused (bound as nulls, which
    // no statement reads) on the locked one, so that the seals are `$8` in both.
    q = match expected {
        Some(expected) => q.bind(expected.seq as i64).bind(expected.hash.clone()),
        None => q.bind(None::<i64>).bind(None::<String>),
    };
    for rows in [seals, drafts, notices, receipts] {
        q = rows.bind_to(q);
    }
    let answer = q.fetch_all(&mut *conn).await?;
    if expected.is_none() {
        return Ok(true);
    }
    let row = answer
        .last()
        .ok_or_else(|| StoreError::Corrupt("the batch write returned no row".into()))?;
    Ok(match backend {
        Backend::Sqlite => {
            row.try_get::<i64, _>("seq")? as u64 == head.seq
                && row.try_get::<String, _>("hash")? == head.hash
        }
        Backend::Postgres => row.try_get::<i64, _>("applied")? == 1,
    })
}

/// The batch as seven arrays of arrays: ledger entries, applications, counters, the
/// documents to seal, the drafts to clear, the receipts' notices, and the receipts.
fn batch_rows(backend: Backend, rows: &[NewApplication], counters: &[Counters<'_>]) -> [Rows; 7] {
    // Tuples serialise as arrays, straight into the parameter.
    let ledger = ledger_rows(
        backend,
        rows.iter().map(|r| (&r.entry, Some(r.call.as_str()))),
    );
    let applications: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                &r.id,
                &r.call,
                r.seq,
                &r.protocol,
                &r.entity,
                r.received_us,
                &r.content_sha256,
                &r.content,
                r.requested.cents(),
                r.eligible.cents(),
                r.receipt.reserved_cents.cents(),
                r.receipt.status.as_str(),
                r.entry.seq,
                &r.idempotency_key,
            )
        })
        .collect();
    let receipts: Vec<_> = rows
        .iter()
        .map(|r| {
            let receipt =
                serde_json::to_string(&StoredReceipt::of(&r.receipt)).expect("receipts serialise");
            (r.entry.seq, receipt)
        })
        .collect();
    let counters: Vec<_> = counters
        .iter()
        .map(|c| {
            (
                c.code,
                c.budget_cents,
                c.reserved_cents,
                c.applications,
                c.waitlisted,
                c.last_received_us,
                c.last_event_ledger_seq,
            )
        })
        .collect();
    let seals: Vec<_> = rows
        .iter()
        .flat_map(|r| {
            r.attachments
                .iter()
                .map(move |a| (&r.id, &r.entity, &r.call, &a.code, &a.sha256))
        })
        .collect();
    let drafts: Vec<_> = rows.iter().map(|r| (&r.entity, &r.call)).collect();
    let notices: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                receipt_notice_id(&r.id),
                &r.entity,
                &r.call,
                r.seq,
                r.notice.kind.as_str(),
                &r.notice.subject,
                &r.notice.body,
                r.received_us,
                r.entry.seq,
            )
        })
        .collect();
    [
        ledger,
        Rows::of(backend, &applications),
        Rows::of(backend, &counters),
        Rows::of(backend, &seals),
        Rows::of(backend, &drafts),
        Rows::of(backend, &notices),
        Rows::of(backend, &receipts),
    ]
}

/// The id of a receipt's notice: the receipt's (unique and unguessable) with a prefix, by
/// which an entity's notices find its receipts' ([`crate::Store::entity_notices`]).
pub(crate) const RECEIPT_NOTICE_PREFIX: &str = "r";

fn receipt_notice_id(receipt_id: &str) -> String {
    format!("{RECEIPT_NOTICE_PREFIX}{receipt_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{migrated_sqlite, sqlite_plan};

    /// Tables that refer to rows a batch inserts (the ledger's, the notices'). SQLite's plan
    /// of a multi-row insert lists their foreign keys' checks as scans, which it skips
    /// (`OP_FkIfZero`) while the statement has no pending violation.
    const REFERRING: [&str; 4] = [
        "published_lists",
        "integration_requests",
        "checklist_results",
        "deliveries",
    ];

    /// No statement of a batch's write walks a table: each row it touches is found by a key,
    /// whatever the tables hold; and the drafts' documents are found from the batch's
    /// entities, not by walking every document not yet sealed.
    #[tokio::test]
    async fn a_batch_scans_no_table() {
        let (_db, store) = migrated_sqlite().await;
        for sql in [&*SQLITE_LOCKED, &*SQLITE_SOLO] {
            for statement in sql.split("; ") {
                if statement.starts_with("BEGIN") || statement == "COMMIT" {
                    continue;
                }
                let details = sqlite_plan(&store, statement).await;
                for detail in &details {
                    let walks = detail.starts_with("SCAN ")
                        && !detail.contains("VIRTUAL TABLE")
                        && !REFERRING.iter().any(|t| *detail == format!("SCAN {t}"));
                    assert!(!walks, "{statement}\n{details:?}");
                }
                if statement.starts_with("DELETE FROM documents") {
                    let batch = details.iter().position(|d| d.starts_with("SCAN a VIRTUAL"));
                    let documents = details.iter().position(|d| d.starts_with("SEARCH d "));
                    assert!(batch < documents, "{details:?}");
                }
            }
        }
        store.close().await;
    }

    /// SQLite reads back from the binary rows exactly what they held: strings with
    /// quotes, backslashes, control characters, a NUL, non-ASCII text, JSON text, one long
    /// enough for a size of four bytes; integers at both ends of their range; nulls.
    #[tokio::test]
    async fn sqlite_reads_the_rows_as_they_were() {
        let (_db, store) = migrated_sqlite().await;
        let long = "x\"".repeat(40_000);
        let strings = [
            "plain",
            "",
            "\"quoted\" and \\ a backslash, \\u0041 not an escape",
            "line\nbreak\ttab\u{1}bell\u{7}",
            "NUL \u{0} inside",
            "àèìòù € 🇮🇹 \u{2028}",
            r#"{"lines":[{"amount_cents":1}],"note":"\"\\"}"#,
            &long,
        ];
        let rows: Vec<(i64, &str, Option<&str>)> = strings
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let n = [i64::MIN, i64::MAX, 0, -1][i % 4];
                (n, *s, (i % 2 == 0).then_some(*s))
            })
            .collect();
        let encoded = Rows::of(Backend::Sqlite, &rows);
        assert!(matches!(encoded, Rows::Jsonb(_)));
        let read: Vec<(i64, String, Option<String>)> = encoded
            .bind_to(sqlx::query(
                "SELECT value->>0, value->>1, value->>2 FROM jsonb_each($1) ORDER BY key",
            ))
            .fetch_all(store.pool())
            .await
            .expect("read the rows")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let expected: Vec<(i64, String, Option<String>)> = rows
            .iter()
            .map(|(n, s, o)| (*n, s.to_string(), o.map(str::to_string)))
            .collect();
        assert_eq!(read, expected);
        store.close().await;
    }
}
