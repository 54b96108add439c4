//! What the review pages read: an application's history from the ledger (with the texts
//! and, for officials, who acted), its requests for integration, the review states of a
//! call's applications, and the published versions of a call's list.

use bandi_domain::instant::from_micros;
use bandi_domain::ledger::Entry;
use bandi_domain::list::ListRow;
use bandi_domain::money::Money;
use bandi_domain::review::ReviewState;
use jiff::Timestamp;
use sqlx::Row;

use crate::{Result, Store, StoreError, ledger};

/// One entry of an application's history.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub entry: Entry,
    /// The text the entry names by its SHA-256, if any.
    pub text: Option<String>,
    /// The account that acted (officials' view only).
    pub actor: Option<String>,
}

/// A request for integration and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationRequest {
    pub request: u32,
    pub text: String,
    pub deadline: Timestamp,
    pub requested_ledger_seq: u64,
    pub answer: Option<IntegrationAnswer>,
    /// Closed by a decision before it was answered.
    pub closed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationAnswer {
    pub text: String,
    pub sha256: String,
    pub ledger_seq: u64,
}

/// A published version of a call's list.
#[derive(Debug, Clone)]
pub struct PublishedVersion {
    pub version: u32,
    pub act_number: String,
    pub act_date: String,
    pub act_document_id: Option<String>,
    pub published_at: Timestamp,
    pub ledger_seq: u64,
    pub list_sha256: String,
    pub rows: Vec<ListRow>,
}

/// The review of one application as the officials' list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSummary {
    pub seq: u64,
    pub state: ReviewState,
    pub holder: Option<String>,
    pub cup: Option<String>,
    /// The deadline of the open request for integration, if one is open.
    pub open_request: Option<Timestamp>,
    /// The eligible cost and grant as the review left them (reductions applied).
    pub eligible: Money,
    pub requested: Money,
}

impl Store {
    /// An application's entries in the ledger, oldest first.
    pub async fn application_history(&self, call: &str, seq: u64) -> Result<Vec<HistoryEntry>> {
        let mut conn = self.pool().acquire().await?;
        let records = ledger::call_records_after(&mut conn, call, 0).await?;
        let mut out = Vec::new();
        for (ledger_seq, record) in records {
            if record.application() != Some(seq) {
                continue;
            }
            let row = sqlx::query(
                "SELECT l.seq, l.prev_hash, l.hash, l.kind, l.at, l.payload, t.text, a.user_id \
                 FROM ledger l LEFT JOIN ledger_texts t ON t.ledger_seq = l.seq \
                 LEFT JOIN ledger_actors a ON a.ledger_seq = l.seq WHERE l.seq = $1",
            )
            .bind(ledger_seq as i64)
            .fetch_one(&mut *conn)
            .await?;
            out.push(HistoryEntry {
                entry: ledger::entry_from_row(&row)?,
                text: row.try_get("text")?,
                actor: row.try_get("user_id")?,
            });
        }
        Ok(out)
    }

    /// The requests for integration of an application, oldest first.
    pub async fn integration_requests(
        &self,
        call: &str,
        seq: u64,
    ) -> Result<Vec<IntegrationRequest>> {
        let rows = sqlx::query(
            "SELECT r.request, r.deadline_us, r.request_ledger_seq, t.text, r.answer_text, \
             r.answer_sha256, r.answer_ledger_seq, r.closed_ledger_seq FROM integration_requests r \
             JOIN ledger_texts t ON t.ledger_seq = r.request_ledger_seq \
             WHERE r.call_code = $1 AND r.seq = $2 ORDER BY r.request",
        )
        .bind(call)
        .bind(seq as i64)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let deadline: i64 = r.try_get("deadline_us")?;
                let answered: Option<i64> = r.try_get("answer_ledger_seq")?;
                Ok(IntegrationRequest {
                    closed: r.try_get::<Option<i64>, _>("closed_ledger_seq")?.is_some(),
                    request: r.try_get::<i64, _>("request")? as u32,
                    text: r.try_get("text")?,
                    deadline: from_micros(deadline)
                        .ok_or_else(|| StoreError::Corrupt(format!("deadline {deadline}")))?,
                    requested_ledger_seq: r.try_get::<i64, _>("request_ledger_seq")? as u64,
                    answer: match answered {
                        Some(l) => Some(IntegrationAnswer {
                            text: r
                                .try_get::<Option<String>, _>("answer_text")?
                                .unwrap_or_default(),
                            sha256: r
                                .try_get::<Option<String>, _>("answer_sha256")?
                                .unwrap_or_default(),
                            ledger_seq: l as u64,
                        }),
                        None => None,
                    },
                })
            })
            .collect()
    }

    /// The review state of each application of a call, in protocol order.
    pub async fn call_reviews(&self, call: &str) -> Result<Vec<ReviewSummary>> {
        let rows = sqlx::query(
            "SELECT a.seq, a.review_state, a.holder_id, a.cup, \
             COALESCE(a.current_eligible_cents, a.eligible_cost_cents) AS eligible, \
             COALESCE(a.current_requested_cents, a.requested_cents) AS requested, \
             (SELECT MAX(r.deadline_us) FROM integration_requests r WHERE r.call_code = a.call_code \
              AND r.seq = a.seq AND r.answer_ledger_seq IS NULL AND r.closed_ledger_seq IS NULL) AS open_deadline \
             FROM applications a WHERE a.call_code = $1 ORDER BY a.seq",
        )
        .bind(call)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("review_state")?;
                Ok(ReviewSummary {
                    seq: r.try_get::<i64, _>("seq")? as u64,
                    state: ReviewState::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("review state {state:?}")))?,
                    holder: r.try_get("holder_id")?,
                    cup: r.try_get("cup")?,
                    open_request: r
                        .try_get::<Option<i64>, _>("open_deadline")?
                        .and_then(from_micros),
                    eligible: Money::from_cents(r.try_get("eligible")?),
                    requested: Money::from_cents(r.try_get("requested")?),
                })
            })
            .collect()
    }

    /// Every published version of a call's list, newest first.
    pub async fn published_lists(&self, call: &str) -> Result<Vec<PublishedVersion>> {
        let rows = sqlx::query(
            "SELECT version, list_json, list_sha256, act_number, act_date, act_document_id, \
             published_us, ledger_seq FROM published_lists WHERE call_code = $1 ORDER BY version DESC",
        )
        .bind(call)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let json: String = r.try_get("list_json")?;
                let list: bandi_domain::list::PublishedList = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("published list of {call}: {e}")))?;
                let at: i64 = r.try_get("published_us")?;
                Ok(PublishedVersion {
                    version: r.try_get::<i64, _>("version")? as u32,
                    act_number: r.try_get("act_number")?,
                    act_date: r.try_get("act_date")?,
                    act_document_id: r.try_get("act_document_id")?,
                    published_at: from_micros(at)
                        .ok_or_else(|| StoreError::Corrupt(format!("instant {at}")))?,
                    ledger_seq: r.try_get::<i64, _>("ledger_seq")? as u64,
                    list_sha256: r.try_get("list_sha256")?,
                    rows: list.rows,
                })
            })
            .collect()
    }

    /// A published version's canonical JSON, as stored (and hashed by the ledger).
    pub async fn published_list_json(&self, call: &str, version: u64) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT list_json FROM published_lists WHERE call_code = $1 AND version = $2",
        )
        .bind(call)
        .bind(version as i64)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(j,)| j))
    }

    /// The list's rows as they stand now (the live list in the words of the review).
    pub async fn list_now(&self, call: &str) -> Result<Vec<ListRow>> {
        let mut conn = self.pool().acquire().await?;
        crate::review::list_rows(&mut conn, call).await
    }
}
