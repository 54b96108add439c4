//! Writing what a batch decided — ledger entries, application rows, the calls' counters and
//! the new head of the chain — in **one statement** whatever the batch's size.
//!
//! The rows travel as one JSON array per table in a single bind parameter, unpacked by the
//! database (`json_each` on SQLite, `json_array_elements` on PostgreSQL). So the SQL text
//! never changes (prepared once, cached), a batch costs one hand-off to sqlx's SQLite worker
//! or one round trip to PostgreSQL instead of one per table, and there is one bind per table
//! instead of fifteen per row. SQLite runs the four statements of one string in order;
//! PostgreSQL runs them as data-modifying CTEs of one statement.

use serde::Serialize;
use sqlx::AnyConnection;

use super::rows::NewApplication;
use crate::ledger::Head;
use crate::{Backend, Result};

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

const SQLITE: &str = "\
INSERT INTO ledger (seq, prev_hash, hash, kind, at, call_code, payload) \
 SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6 FROM json_each($1); \
INSERT INTO applications (id, call_code, seq, protocol, entity_code, received_us, content_sha256, \
 content, requested_cents, eligible_cost_cents, reserved_cents, status, ledger_seq, idempotency_key, receipt) \
 SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, \
 value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14 FROM json_each($2); \
UPDATE calls SET budget_cents = c.value->>1, reserved_cents = c.value->>2, applications = c.value->>3, \
 waitlisted = c.value->>4, last_received_us = c.value->>5, last_event_ledger_seq = c.value->>6 \
 FROM json_each($3) AS c WHERE calls.code = c.value->>0; \
UPDATE ledger_head SET seq = $4, hash = $5 WHERE id = 1";

const POSTGRES: &str = "\
WITH l AS (INSERT INTO ledger (seq, prev_hash, hash, kind, at, call_code, payload) \
 SELECT (r->>0)::bigint, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6 \
 FROM jsonb_array_elements($1::jsonb) AS t(r)), \
a AS (INSERT INTO applications (id, call_code, seq, protocol, entity_code, received_us, content_sha256, \
 content, requested_cents, eligible_cost_cents, reserved_cents, status, ledger_seq, idempotency_key, receipt) \
 SELECT r->>0, r->>1, (r->>2)::bigint, r->>3, r->>4, (r->>5)::bigint, r->>6, r->>7, (r->>8)::bigint, \
 (r->>9)::bigint, (r->>10)::bigint, r->>11, (r->>12)::bigint, r->>13, r->>14 \
 FROM jsonb_array_elements($2::jsonb) AS t(r)), \
c AS (UPDATE calls SET budget_cents = (r->>1)::bigint, reserved_cents = (r->>2)::bigint, \
 applications = (r->>3)::bigint, waitlisted = (r->>4)::bigint, last_received_us = (r->>5)::bigint, \
 last_event_ledger_seq = (r->>6)::bigint FROM jsonb_array_elements($3::jsonb) AS t(r) WHERE calls.code = r->>0) \
UPDATE ledger_head SET seq = $4, hash = $5 WHERE id = 1";

/// Writes `rows` (their ledger entries in order, which must follow the chain up to `head`),
/// the counters, and `head`, inside the caller's transaction.
pub(crate) async fn write_batch(
    conn: &mut AnyConnection,
    backend: Backend,
    rows: &[NewApplication],
    counters: &[Counters<'_>],
    head: &Head,
) -> Result<()> {
    // Tuples serialise as JSON arrays, straight into the string.
    let ledger: Vec<_> = rows
        .iter()
        .map(|r| {
            let e = &r.entry;
            (
                e.seq,
                &e.prev_hash,
                &e.hash,
                &e.kind,
                &e.at,
                &r.call,
                &e.payload,
            )
        })
        .collect();
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
                &r.receipt.status,
                r.entry.seq,
                &r.idempotency_key,
                serde_json::to_string(&r.receipt).expect("receipts serialise"),
            )
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
    let sql = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    sqlx::query(sql)
        .bind(to_json(&ledger))
        .bind(to_json(&applications))
        .bind(to_json(&counters))
        .bind(head.seq as i64)
        .bind(head.hash.clone())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn to_json(rows: &impl Serialize) -> String {
    serde_json::to_string(rows).expect("rows of strings and integers serialise")
}
