//! Calls: their rules, as imported, and the public counters kept beside them.

use std::sync::Arc;

use bandi_domain::call::Call;
use bandi_domain::instant::format_utc;
use bandi_domain::ledger::Record;
use bandi_domain::money::Money;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, ledger};

/// A call with its counters as of the last committed batch.
#[derive(Debug, Clone)]
pub struct StoredCall {
    pub call: Call,
    pub rules_sha256: String,
    pub budget: Money,
    pub reserved: Money,
    pub applications: i64,
    pub waitlisted: i64,
    pub last_event_ledger_seq: u64,
}

impl StoredCall {
    pub fn remaining(&self) -> Money {
        Money::from_cents(self.budget.cents() - self.reserved.cents())
    }
}

pub type CallSummary = StoredCall;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportedCall {
    Created,
    Replaced,
    Unchanged,
}

/// The call's rules as canonical JSON (keys sorted, `bandi_domain::proof`), its text (what
/// is stored) and its SHA-256 (what the ledger names).
pub(crate) fn rules_json(call: &Call) -> (serde_json::Value, String, String) {
    let value = bandi_domain::proof::canonical_json(call);
    let (json, sha) = bandi_domain::proof::canonical_sha256(&value);
    (value, json, sha)
}

const SELECT: &str = "SELECT code, rules, rules_sha256, budget_cents, reserved_cents, applications, waitlisted, last_event_ledger_seq FROM calls";

fn from_row(r: &AnyRow) -> Result<StoredCall> {
    let code: String = r.try_get("code")?;
    let rules: String = r.try_get("rules")?;
    let call: Call = serde_json::from_str(&rules)
        .map_err(|e| StoreError::Corrupt(format!("rules of call {code}: {e}")))?;
    Ok(StoredCall {
        call,
        rules_sha256: r.try_get("rules_sha256")?,
        budget: Money::from_cents(r.try_get("budget_cents")?),
        reserved: Money::from_cents(r.try_get("reserved_cents")?),
        applications: r.try_get("applications")?,
        waitlisted: r.try_get("waitlisted")?,
        last_event_ledger_seq: r.try_get::<i64, _>("last_event_ledger_seq")? as u64,
    })
}

impl Store {
    /// Publishes a call, or replaces one that has no application yet. The publication is a
    /// ledger entry that carries the hash of the rules.
    pub async fn import_call(&self, call: &Call) -> Result<ImportedCall> {
        let (rules, json, sha) = rules_json(call);
        let mut tx = self.begin_write().await?;
        let mut head = ledger::lock_head(&mut tx).await?;
        let existing: Option<(String, i64)> =
            sqlx::query_as("SELECT rules_sha256, applications FROM calls WHERE code = $1")
                .bind(call.code.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let taken: Option<(String,)> =
            sqlx::query_as("SELECT code FROM calls WHERE protocol_prefix = $1 AND code <> $2")
                .bind(&call.protocol_prefix)
                .bind(call.code.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((other,)) = taken {
            return Err(StoreError::ProtocolPrefixTaken {
                prefix: call.protocol_prefix.clone(),
                call: other,
            });
        }
        let outcome = match &existing {
            Some((old_sha, _)) if *old_sha == sha => return Ok(ImportedCall::Unchanged),
            Some((_, n)) if *n > 0 => {
                return Err(StoreError::CallHasApplications {
                    call: call.code.to_string(),
                    applications: *n,
                });
            }
            Some(_) => ImportedCall::Replaced,
            None => ImportedCall::Created,
        };
        let now = jiff::Timestamp::now();
        let entry = ledger::seal(
            &mut head,
            now,
            &Record::CallPublished {
                call: call.code.to_string(),
                budget_cents: call.budget,
                opens_at: format_utc(call.opens_at),
                closes_at: format_utc(call.closes_at),
                rules,
                rules_sha256: sha.clone(),
            },
        );
        sqlx::query(
            "INSERT INTO calls (code, rules, rules_sha256, budget_cents, last_event_ledger_seq, created_us, protocol_prefix) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (code) DO UPDATE SET rules = excluded.rules, rules_sha256 = excluded.rules_sha256, \
             budget_cents = excluded.budget_cents, last_event_ledger_seq = excluded.last_event_ledger_seq, \
             protocol_prefix = excluded.protocol_prefix",
        )
        .bind(call.code.as_str())
        .bind(json)
        .bind(sha)
        .bind(call.budget.cents())
        .bind(entry.seq as i64)
        .bind(now.as_microsecond())
        .bind(&call.protocol_prefix)
        .execute(&mut *tx)
        .await?;
        ledger::insert(&mut tx, std::slice::from_ref(&entry), &head).await?;
        tx.commit().await?;
        self.caches().forget_rules(call.code.as_str());
        Ok(outcome)
    }

    pub async fn call(&self, code: &str) -> Result<Option<StoredCall>> {
        let sql = format!("{SELECT} WHERE code = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(code)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The rules of a call, as read at most a second ago: what a submission is checked
    /// against before it is queued (the sequencer reads them again under the lock).
    pub async fn call_rules(&self, code: &str) -> Result<Option<Arc<Call>>> {
        if let Some(c) = self.caches().rules(code) {
            return Ok(Some(c));
        }
        let row: Option<(String,)> = sqlx::query_as("SELECT rules FROM calls WHERE code = $1")
            .bind(code)
            .fetch_optional(self.pool())
            .await?;
        let Some((rules,)) = row else {
            return Ok(None);
        };
        let call: Arc<Call> = Arc::new(
            serde_json::from_str(&rules)
                .map_err(|e| StoreError::Corrupt(format!("rules of call {code}: {e}")))?,
        );
        self.caches().put_rules(code, call.clone());
        Ok(Some(call))
    }

    pub async fn calls(&self) -> Result<Vec<StoredCall>> {
        let sql = format!("{SELECT} ORDER BY created_us, code");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect()
    }
}
