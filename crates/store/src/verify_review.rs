//! What `bandi verify` checks of the review after the click day: each application's review
//! state, reduced amounts and CUP as its ledger records tell them; every text kept beside an
//! entry against the SHA-256 the entry names; every answer to a request for integration
//! (its text and documents) against the SHA-256 the ledger sealed; every published list
//! against its entry.

use std::collections::HashMap;

use bandi_domain::allocation::AppAllocation;
use bandi_domain::application::AttachedDocument;
use bandi_domain::ledger::Record;
use bandi_domain::review::{self, ReviewState};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::verify::mismatch;
use crate::verify_read::StoredApplication;
use crate::{Result, Store};

/// What the ledger says, gathered as the chain is read.
#[derive(Default)]
pub(crate) struct Recorded {
    reviews: HashMap<(String, u64), review::Recorded>,
    /// `(ledger entry, SHA-256 of its text)`.
    texts: Vec<(u64, String)>,
    /// `(call, version, SHA-256, entry)`.
    lists: Vec<(String, u32, String, u64)>,
    /// `(call, application, request, SHA-256 of the answer)`.
    answers: Vec<(String, u64, u32, String)>,
    /// Each application's last submitted report: its version and SHA-256.
    reports: HashMap<(String, u64), (u32, String)>,
}

/// The canonical content of an answer to a request for integration: its text and the
/// documents it attached (code and SHA-256, in code order). Its SHA-256 is what the ledger
/// entry `integration_answered` names.
pub fn answer_sha256(text: &str, documents: &[AttachedDocument]) -> String {
    let mut documents = documents.to_vec();
    documents.sort_by(|a, b| a.code.cmp(&b.code));
    let json = serde_json::json!({"text": text, "documents": documents}).to_string();
    hex::encode(Sha256::digest(json.as_bytes()))
}

impl Recorded {
    pub fn fold(&mut self, entry: u64, record: &Record) {
        // A submission only opens the review: an application with no entry here is to
        // review, as the submission would set it. A click day's million need no entry each
        // (inserting them was a tenth of `bandi verify`'s time on a million).
        if let Some(seq) = record.application()
            && !matches!(record, Record::ApplicationSubmitted { .. })
        {
            self.reviews
                .entry((record.call().to_string(), seq))
                .or_default()
                .apply(record);
        }
        if let Some(sha) = record.text_sha256() {
            self.texts.push((entry, sha.to_string()));
        }
        match record {
            Record::ListPublished {
                call,
                version,
                list_sha256,
                ..
            } => self
                .lists
                .push((call.clone(), *version, list_sha256.clone(), entry)),
            Record::IntegrationAnswered {
                call,
                seq,
                request,
                content_sha256,
            } => self
                .answers
                .push((call.clone(), *seq, *request, content_sha256.clone())),
            Record::ReportSubmitted {
                call,
                seq,
                version,
                report_sha256,
                ..
            } => {
                self.reports
                    .insert((call.clone(), *seq), (*version, report_sha256.clone()));
            }
            _ => {}
        }
    }

    /// Texts, lists and answers against what is stored.
    pub async fn check_store(&self, store: &Store) -> Result<()> {
        let texts: HashMap<i64, String> =
            sqlx::query_as::<_, (i64, String)>("SELECT ledger_seq, text FROM ledger_texts")
                .fetch_all(store.pool())
                .await?
                .into_iter()
                .collect();
        for (entry, sha) in &self.texts {
            let Some(text) = texts.get(&(*entry as i64)) else {
                return Err(mismatch(format!(
                    "ledger entry {entry}: its text is not stored"
                )));
            };
            if review::text_sha256(text) != *sha {
                return Err(mismatch(format!(
                    "ledger entry {entry}: the stored text does not hash to the SHA-256 the entry names"
                )));
            }
        }
        for (call, version, sha, entry) in &self.lists {
            let json: Option<(String, i64)> = sqlx::query_as(
                "SELECT list_json, ledger_seq FROM published_lists WHERE call_code = $1 AND version = $2",
            )
            .bind(call)
            .bind(i64::from(*version))
            .fetch_optional(store.pool())
            .await?;
            let Some((json, stored_entry)) = json else {
                return Err(mismatch(format!(
                    "call {call}: published list {version} is not stored"
                )));
            };
            if hex::encode(Sha256::digest(json.as_bytes())) != *sha || stored_entry as u64 != *entry
            {
                return Err(mismatch(format!(
                    "call {call}: published list {version} differs from ledger entry {entry}"
                )));
            }
        }
        for (call, seq, request, sha) in &self.answers {
            let row = sqlx::query(
                "SELECT r.answer_text, a.id FROM integration_requests r JOIN applications a \
                 ON a.call_code = r.call_code AND a.seq = r.seq \
                 WHERE r.call_code = $1 AND r.seq = $2 AND r.request = $3",
            )
            .bind(call)
            .bind(*seq as i64)
            .bind(i64::from(*request))
            .fetch_optional(store.pool())
            .await?;
            let at = format!("call {call}, application {seq}, answer to request {request}");
            let Some(row) = row else {
                return Err(mismatch(format!("{at}: not stored")));
            };
            let text: Option<String> = row.try_get("answer_text")?;
            let id: String = row.try_get("id")?;
            let documents: Vec<(String, String)> = sqlx::query_as(
                "SELECT attachment_code, sha256 FROM documents WHERE application_id = $1 \
                 AND integration_request = $2",
            )
            .bind(&id)
            .bind(i64::from(*request))
            .fetch_all(store.pool())
            .await?;
            let documents: Vec<AttachedDocument> = documents
                .into_iter()
                .map(|(code, sha256)| AttachedDocument { code, sha256 })
                .collect();
            if answer_sha256(&text.unwrap_or_default(), &documents) != *sha {
                return Err(mismatch(format!(
                    "{at}: the stored text and documents do not hash to the SHA-256 the ledger sealed"
                )));
            }
        }
        Ok(())
    }

    /// One stored application's review against its records.
    pub fn check_application(
        &self,
        call: &str,
        row: &StoredApplication,
        expected: &AppAllocation,
    ) -> Result<()> {
        let seq = expected.seq;
        let at = || format!("call {call}, application {seq}");
        let none = review::Recorded::default();
        let recorded = self.reviews.get(&(call.to_string(), seq)).unwrap_or(&none);
        let state = &row.review_state;
        let want = recorded.state.unwrap_or(ReviewState::ToReview);
        if ReviewState::parse(state) != Some(want) {
            return Err(mismatch(format!(
                "{}: review state is {state:?} but the ledger gives {:?}",
                at(),
                want.as_str()
            )));
        }
        let cup = &row.cup;
        if *cup != recorded.cup {
            return Err(mismatch(format!(
                "{}: CUP is {cup:?} but the ledger gives {:?}",
                at(),
                recorded.cup
            )));
        }
        let requested = row.current_requested_cents;
        let eligible = row.current_eligible_cents;
        let stored = (eligible, requested);
        let ledger = recorded
            .reduced
            .map(|(e, r)| (Some(e.cents()), Some(r.cents())));
        if stored != ledger.unwrap_or((None, None)) {
            return Err(mismatch(format!(
                "{}: reduced amounts are {stored:?} but the ledger gives {ledger:?}",
                at()
            )));
        }
        // The verification's final grant, when below, is what the allocation asks now.
        if let Some(r) = requested {
            let asked = recorded
                .final_grant
                .map(|f| f.cents())
                .filter(|f| *f < r)
                .unwrap_or(r);
            if asked != expected.requested.cents() {
                return Err(mismatch(format!(
                    "{}: the grant asked is {asked} but the replay gives {}",
                    at(),
                    expected.requested.cents()
                )));
            }
        }
        Ok(())
    }

    /// Each report, its final grant and the payments against their records: the reports
    /// and payments stored, all of them, and those the ledger records, both ways.
    pub async fn check_reports(&self, store: &Store) -> Result<()> {
        let submitted: Vec<(String, i64)> =
            sqlx::query_as("SELECT call_code, seq FROM reports WHERE version > 0")
                .fetch_all(store.pool())
                .await?;
        for (call, seq) in &submitted {
            if !self.reports.contains_key(&(call.clone(), *seq as u64)) {
                return Err(mismatch(format!(
                    "call {call}, application {seq}: a report stored as submitted that the ledger does not record"
                )));
            }
        }
        let paid: HashMap<(String, u64), i64> = sqlx::query_as::<_, (String, i64, i64)>(
            "SELECT call_code, seq, CAST(SUM(amount_cents) AS BIGINT) FROM payments GROUP BY call_code, seq",
        )
        .fetch_all(store.pool())
        .await?
        .into_iter()
        .map(|(c, s, p)| ((c, s as u64), p))
        .collect();
        // Payments stored for an application the ledger records nothing after its
        // submission for.
        if let Some(((call, seq), cents)) = paid
            .iter()
            .find(|(key, cents)| **cents != 0 && !self.reviews.contains_key(*key))
        {
            return Err(mismatch(format!(
                "call {call}, application {seq}: {cents} cents paid as stored, 0 as the ledger records"
            )));
        }
        for ((call, seq), recorded) in &self.reviews {
            let at = format!("call {call}, application {seq}");
            let stored_paid = paid.get(&(call.clone(), *seq)).copied().unwrap_or(0);
            if stored_paid != recorded.paid.cents() {
                return Err(mismatch(format!(
                    "{at}: {stored_paid} cents paid as stored, {} as the ledger records",
                    recorded.paid.cents()
                )));
            }
            let Some((version, state)) = recorded.report else {
                continue;
            };
            let Some(r) = store.report(call, *seq).await? else {
                return Err(mismatch(format!("{at}: its report is not stored")));
            };
            if (r.version, r.state) != (version, state) {
                return Err(mismatch(format!(
                    "{at}: the report is version {} {:?}, the ledger gives {version} {state:?}",
                    r.version, r.state
                )));
            }
            let sealed = self.reports.get(&(call.clone(), *seq)).map(|(_, s)| s);
            // A report given back may be changed since; the sealed version is in the ledger.
            if r.state != bandi_domain::report::verification::ReportState::Returned {
                let (_, sha) = r.content.canonical_json_and_sha256();
                if Some(&sha) != sealed || r.content_sha256.as_ref() != sealed {
                    return Err(mismatch(format!(
                        "{at}: the stored report does not hash to the SHA-256 the ledger sealed"
                    )));
                }
            }
            if r.final_grant != recorded.final_grant {
                return Err(mismatch(format!(
                    "{at}: the final grant is {:?}, the ledger gives {:?}",
                    r.final_grant, recorded.final_grant
                )));
            }
        }
        Ok(())
    }
}
