//! Applications as stored, their receipts and the public ranking.

use bandi_domain::allocation::Status;
use bandi_domain::application::{ApplicationContent, Notice};
use bandi_domain::instant::{format_utc, from_micros};
use bandi_domain::money::Money;
use bandi_domain::proof::{BatchProof, ReceiptFields, ReceiptSignature};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use std::collections::HashMap;
use std::fmt::Write as _;

use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::{Result, Store, StoreError};

/// What the applicant is given when the submission is durable. Stored as sent, so a retry
/// gets the same receipt field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub id: String,
    pub call: String,
    pub entity: String,
    pub protocol: String,
    pub seq: u64,
    /// When the request was admitted to the queue (its place in the order).
    pub admitted_at: String,
    /// When the batch that holds it committed.
    pub received_at: String,
    pub content_sha256: String,
    pub ledger_seq: u64,
    pub ledger_prev_hash: String,
    pub ledger_hash: String,
    /// The status when the receipt was issued; the application's current one may differ.
    pub status: Status,
    pub total_cost_cents: Money,
    pub eligible_cost_cents: Money,
    pub requested_cents: Money,
    pub reserved_cents: Money,
    pub notices: Vec<Notice>,
    /// The server's signature (absent when the server signs nothing): the key, the batch's
    /// signature, the receipt's place in the batch. Plain fields, not a flattened struct:
    /// serde's flatten goes through a map on every receipt written and read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchProof>,
}

impl Receipt {
    /// The signature, when the receipt carries one whole.
    pub fn signed(&self) -> Option<ReceiptSignature> {
        Some(ReceiptSignature {
            key_id: self.key_id.clone()?,
            signature: self.signature.clone()?,
            batch: self.batch.clone()?,
        })
    }

    /// The fields the signature covers.
    pub fn signed_fields(&self) -> ReceiptFields<'_> {
        ReceiptFields {
            call: &self.call,
            protocol: &self.protocol,
            seq: self.seq,
            entity: &self.entity,
            admitted_at: &self.admitted_at,
            received_at: &self.received_at,
            content_sha256: &self.content_sha256,
            requested_cents: self.requested_cents.cents(),
            status: self.status.as_str(),
            reserved_cents: self.reserved_cents.cents(),
            ledger_seq: self.ledger_seq,
            ledger_prev_hash: &self.ledger_prev_hash,
            ledger_hash: &self.ledger_hash,
        }
    }
}

/// Signs the receipts of one committed batch at once (one signature, a Merkle path each).
pub(crate) fn sign_receipts<'a>(
    key: Option<&bandi_domain::proof::SigningKeyPair>,
    receipts: impl Iterator<Item = &'a mut Receipt>,
) {
    let Some(key) = key else { return };
    let mut receipts: Vec<&mut Receipt> = receipts.collect();
    if receipts.is_empty() {
        return;
    }
    let texts: Vec<String> = receipts
        .iter()
        .map(|r| r.signed_fields().signed_text())
        .collect();
    for (r, s) in receipts.iter_mut().zip(key.sign_batch(&texts)) {
        r.key_id = Some(s.key_id);
        r.signature = Some(s.signature);
        r.batch = Some(s.batch);
    }
}

/// An application with its receipt and its current standing.
#[derive(Debug, Clone)]
pub struct StoredApplication {
    pub receipt: Receipt,
    pub content: ApplicationContent,
    pub status: Status,
    pub reserved: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankingRow {
    pub seq: u64,
    pub protocol: String,
    pub entity_code: String,
    pub entity_name: String,
    pub received_at: String,
    pub requested_cents: Money,
    pub reserved_cents: Money,
    pub status: Status,
}

/// What the receipts table holds of a receipt: what the application's row does not. Its
/// id, call, entity, protocol, number, instant of receipt, content hash, ledger entry and
/// amounts are the row's columns, which never change; written again in the receipt they
/// were a third of its JSON, on the path of every click-day commit (BENCHMARKS.md, issue
/// 17). A receipt stored whole (before this) reads the same: the rest is ignored.
#[derive(Serialize)]
pub(crate) struct StoredReceipt<'a> {
    admitted_at: &'a str,
    ledger_prev_hash: &'a str,
    ledger_hash: &'a str,
    status: Status,
    total_cost_cents: Money,
    reserved_cents: Money,
    notices: &'a [Notice],
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch: &'a Option<BatchProof>,
}

impl<'a> StoredReceipt<'a> {
    pub(crate) fn of(r: &'a Receipt) -> StoredReceipt<'a> {
        StoredReceipt {
            admitted_at: &r.admitted_at,
            ledger_prev_hash: &r.ledger_prev_hash,
            ledger_hash: &r.ledger_hash,
            status: r.status,
            total_cost_cents: r.total_cost_cents,
            reserved_cents: r.reserved_cents,
            notices: &r.notices,
            key_id: &r.key_id,
            signature: &r.signature,
            batch: &r.batch,
        }
    }
}

/// [`StoredReceipt`] as read back.
#[derive(Deserialize)]
struct ReadReceipt {
    admitted_at: String,
    ledger_prev_hash: String,
    ledger_hash: String,
    status: Status,
    total_cost_cents: Money,
    reserved_cents: Money,
    notices: Vec<Notice>,
    #[serde(default)]
    key_id: Option<String>,
    #[serde(default)]
    signature: Option<String>,
    #[serde(default)]
    batch: Option<BatchProof>,
}

/// A receipt from a row with [`receipt_columns!`].
pub(crate) fn receipt_from_row(r: &AnyRow) -> Result<Receipt> {
    let id: String = r.try_get("id")?;
    let stored: ReadReceipt = serde_json::from_str(&r.try_get::<String, _>("receipt")?)
        .map_err(|e| StoreError::Corrupt(format!("receipt of {id}: {e}")))?;
    let received_us: i64 = r.try_get("received_us")?;
    let received = from_micros(received_us)
        .ok_or_else(|| StoreError::Corrupt(format!("instant {received_us} of {id}")))?;
    Ok(Receipt {
        call: r.try_get("call_code")?,
        entity: r.try_get("entity_code")?,
        protocol: r.try_get("protocol")?,
        seq: r.try_get::<i64, _>("seq")? as u64,
        admitted_at: stored.admitted_at,
        received_at: format_utc(received),
        content_sha256: r.try_get("content_sha256")?,
        ledger_seq: r.try_get::<i64, _>("ledger_seq")? as u64,
        ledger_prev_hash: stored.ledger_prev_hash,
        ledger_hash: stored.ledger_hash,
        status: stored.status,
        total_cost_cents: stored.total_cost_cents,
        eligible_cost_cents: Money::from_cents(r.try_get("eligible_cost_cents")?),
        requested_cents: Money::from_cents(r.try_get("requested_cents")?),
        reserved_cents: stored.reserved_cents,
        notices: stored.notices,
        key_id: stored.key_id,
        signature: stored.signature,
        batch: stored.batch,
        id,
    })
}

pub(crate) fn application_from_row(r: &AnyRow) -> Result<StoredApplication> {
    let receipt = receipt_from_row(r)?;
    let content: String = r.try_get("content")?;
    let status: String = r.try_get("status")?;
    Ok(StoredApplication {
        content: serde_json::from_str(&content)
            .map_err(|e| StoreError::Corrupt(format!("content of {}: {e}", receipt.id)))?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?,
        reserved: Money::from_cents(r.try_get("reserved_cents")?),
        receipt,
    })
}

/// The application that used an entity's Idempotency-Key: `(call, content_sha256, receipt)`.
pub(crate) async fn previous_by_key(
    conn: &mut AnyConnection,
    entity: &str,
    key: &str,
) -> Result<Option<(String, String, Receipt)>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        receipt_columns!(),
        " FROM ",
        applications_with_receipts!(),
        " WHERE entity_code = $1 AND idempotency_key = $2"
    ))
    .bind(entity)
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        let r = receipt_from_row(&row)?;
        Ok((r.call.clone(), r.content_sha256.clone(), r))
    })
    .transpose()
}

/// A committed application found by its entity's Idempotency-Key.
pub(crate) struct KeyedPrevious {
    pub call: String,
    pub sha: String,
    pub receipt: Receipt,
}

/// The committed applications that used any of these `(entity, key)` pairs, in as few
/// statements as the batch allows (one per 200 pairs, each an OR of index lookups, which
/// both SQLite and PostgreSQL answer from the unique index on `(entity_code, idempotency_key)`).
pub(crate) async fn previous_by_keys(
    conn: &mut AnyConnection,
    pairs: &[(&str, &str)],
) -> Result<HashMap<(String, String), KeyedPrevious>> {
    let mut found = HashMap::new();
    for chunk in pairs.chunks(200) {
        let mut sql = String::from(concat!(
            "SELECT idempotency_key, ",
            receipt_columns!(),
            " FROM ",
            applications_with_receipts!(),
            " WHERE "
        ));
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            let _ = write!(
                sql,
                "(entity_code = ${} AND idempotency_key = ${})",
                2 * i + 1,
                2 * i + 2
            );
        }
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (entity, key) in chunk {
            q = q.bind(*entity).bind(*key);
        }
        for row in q.fetch_all(&mut *conn).await? {
            found.insert(
                (row.try_get("entity_code")?, row.try_get("idempotency_key")?),
                KeyedPrevious {
                    call: row.try_get("call_code")?,
                    sha: row.try_get("content_sha256")?,
                    receipt: receipt_from_row(&row)?,
                },
            );
        }
    }
    Ok(found)
}

/// The entity's applications to the call, oldest first: `(content_sha256, receipt)`.
pub(crate) async fn previous_by_entity(
    conn: &mut AnyConnection,
    call: &str,
    entity: &str,
) -> Result<Vec<(String, Receipt)>> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        receipt_columns!(),
        " FROM ",
        applications_with_receipts!(),
        " WHERE call_code = $1 AND entity_code = $2 ORDER BY seq"
    ))
    .bind(call)
    .bind(entity)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let r = receipt_from_row(row)?;
            Ok((r.content_sha256.clone(), r))
        })
        .collect()
}

impl Store {
    pub async fn application(&self, id: &str) -> Result<Option<StoredApplication>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            receipt_columns!(),
            ", content, status, reserved_cents FROM ",
            applications_with_receipts!(),
            " WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(application_from_row).transpose()
    }

    /// The call and number of the application with this protocol.
    pub async fn locate(&self, protocol: &str) -> Result<Option<(String, u64)>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT call_code, seq FROM applications WHERE protocol = $1")
                .bind(protocol)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(c, s)| (c, s as u64)))
    }

    /// Every application of a call in protocol order.
    pub async fn ranking(&self, call: &str) -> Result<Vec<RankingRow>> {
        let sql = format!("{RANKING_SELECT} WHERE a.call_code = $1 ORDER BY a.seq");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(call)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(ranking_row).collect()
    }
}

pub(crate) const RANKING_SELECT: &str = "SELECT a.seq, a.protocol, a.entity_code, e.name, a.received_us, \
     a.requested_cents, a.reserved_cents, a.status, a.ledger_seq FROM applications a \
     JOIN entities e ON e.code = a.entity_code";

pub(crate) fn ranking_row(r: &AnyRow) -> Result<RankingRow> {
    let us: i64 = r.try_get("received_us")?;
    Ok(RankingRow {
        seq: r.try_get::<i64, _>("seq")? as u64,
        protocol: r.try_get("protocol")?,
        entity_code: r.try_get("entity_code")?,
        entity_name: r.try_get("name")?,
        received_at: from_micros(us)
            .map(format_utc)
            .ok_or_else(|| StoreError::Corrupt(format!("instant {us}")))?,
        requested_cents: Money::from_cents(r.try_get("requested_cents")?),
        reserved_cents: Money::from_cents(r.try_get("reserved_cents")?),
        status: {
            let status: String = r.try_get("status")?;
            Status::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {status:?}")))?
        },
    })
}
