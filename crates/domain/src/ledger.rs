//! The append-only, hash-chained ledger. Each entry's hash covers its number, the previous
//! entry's hash, its kind, its instant and its payload, so anyone holding the public entries
//! can recompute the chain with nothing but SHA-256:
//!
//! ```text
//! hash(n) = SHA-256("bandi-ledger-v1\n" + n + "\n" + hash(n-1) + "\n" + kind + "\n" + at + "\n" + payload)
//! ```
//! where `n` is decimal, hashes are lower-case hex (64 zeros before the first entry), `at`
//! is RFC 3339 UTC with microseconds and `payload` is the entry's compact JSON.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::account::Role;
use crate::allocation::Event;
use crate::money::Money;
use crate::report::verification::{ExpenseOutcome, PaymentKind};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An act of the administration that decided something (a regional resolution, a
/// director's decree): its number, its date and, when its document was attached, the
/// document's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Act {
    pub number: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_sha256: Option<String>,
}

impl Act {
    /// `DD 100/2020 del 15/05/2020`: the act as a notice names it.
    pub fn in_words(&self) -> String {
        let date = self
            .date
            .parse::<jiff::civil::Date>()
            .map(|d| d.strftime("%d/%m/%Y").to_string())
            .unwrap_or_else(|_| self.date.clone());
        format!("{} del {date}", self.number)
    }
}

/// A budget line's eligible amount as admitted by a reduction (`line` counts from 0, in
/// the order of the application's content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineAdmitted {
    pub line: u32,
    pub admitted_cents: Money,
}

/// What an entry records. The tag is the entry's kind. Texts written by people (reasons,
/// notes, integration requests and answers) are not in the public payload: their SHA-256
/// is, and the text is kept beside the entry, so that the ledger proves what was written
/// without publishing it. `by` is the role of whoever acted, not a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Record {
    /// A call published, or changed before it opened (a new entry each time: the last one
    /// before the first application is the call's rules).
    CallPublished {
        call: String,
        budget_cents: Money,
        opens_at: String,
        closes_at: String,
        /// The rules in full, as canonical JSON (`proof::canonical_json`): the fit mode,
        /// rate, caps, categories, eligibility, dates and time zone that decide outcomes.
        rules: serde_json::Value,
        /// SHA-256 of the canonical text of `rules`.
        rules_sha256: String,
    },
    ApplicationSubmitted {
        call: String,
        seq: u64,
        protocol: String,
        entity: String,
        /// When the request was admitted to the intake's queue, after its body was read and
        /// checked: the order of the applications.
        admitted_at: String,
        /// When the batch that holds it committed (was durable).
        received_at: String,
        content_sha256: String,
        requested_cents: Money,
    },
    /// A reviewer takes the application to decide it (or takes it over from another).
    ApplicationTaken {
        call: String,
        seq: u64,
        by: Role,
        takeover: bool,
    },
    /// An item of the call's admissibility checklist, ticked with a note.
    ChecklistChecked {
        call: String,
        seq: u64,
        item: String,
        passed: bool,
        note_sha256: String,
        by: Role,
    },
    /// A request for integration (soccorso istruttorio), with its deadline.
    IntegrationRequested {
        call: String,
        seq: u64,
        request: u32,
        deadline: String,
        text_sha256: String,
        by: Role,
    },
    /// The applicant's answer: its text and documents, sealed by `content_sha256`.
    IntegrationAnswered {
        call: String,
        seq: u64,
        request: u32,
        content_sha256: String,
    },
    ApplicationAdmitted {
        call: String,
        seq: u64,
        reason_sha256: String,
        by: Role,
    },
    /// The eligible cost lowered (by line, or in all); the grant recomputed by the call's
    /// rules. A lower grant is a reduction in the allocation.
    ApplicationReduced {
        call: String,
        seq: u64,
        eligible_cost_cents: Money,
        requested_before_cents: Money,
        requested_cents: Money,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        lines: Vec<LineAdmitted>,
        reason_sha256: String,
        by: Role,
    },
    ApplicationRejected {
        call: String,
        seq: u64,
        reason_sha256: String,
        by: Role,
    },
    /// The applicant gave up the application (rinuncia), recorded by an official or by
    /// the applicant.
    ApplicationWithdrawn {
        call: String,
        seq: u64,
        reason_sha256: String,
        by: Role,
    },
    AwardRevoked {
        call: String,
        seq: u64,
        reason_sha256: String,
        act: Act,
        by: Role,
    },
    /// A funded authority's expense report, submitted and sealed by its SHA-256 (the
    /// report itself is not public: it names suppliers). `version` counts submissions.
    ReportSubmitted {
        call: String,
        seq: u64,
        version: u32,
        report_sha256: String,
        claimed_cents: Money,
        eligible_claimed_cents: Money,
        by: Role,
    },
    /// A reviewer's finding on expense `line` (from 0) of the report's `version`.
    ExpenseChecked {
        call: String,
        seq: u64,
        version: u32,
        line: u32,
        outcome: ExpenseOutcome,
        accepted_cents: Money,
        reason_sha256: String,
        by: Role,
    },
    /// The report given back to its authority for an integration.
    ReportReturned {
        call: String,
        seq: u64,
        version: u32,
        reason_sha256: String,
        by: Role,
    },
    /// The verification closed: what was verified eligible and the final grant; when it is
    /// below what was granted, the rest goes back to the call (the waitlist moves).
    VerificationClosed {
        call: String,
        seq: u64,
        version: u32,
        verified_eligible_cents: Money,
        final_grant_cents: Money,
        granted_before_cents: Money,
        by: Role,
    },
    /// Money paid to the authority, by an act.
    PaymentRecorded {
        call: String,
        seq: u64,
        /// Advance or balance (`kind` names the entry).
        payment: PaymentKind,
        amount_cents: Money,
        /// `YYYY-MM-DD`.
        paid_on: String,
        act: Act,
        by: Role,
    },
    /// The report's deadline moved for this application, with the reason.
    ReportDeadlineExtended {
        call: String,
        seq: u64,
        /// `YYYY-MM-DD`: the last day.
        until: String,
        reason_sha256: String,
        by: Role,
    },
    /// The call's budget becomes `budget_cents` (the Region added 1.45 M€ in 2020).
    BudgetChanged {
        call: String,
        budget_cents: Money,
        act: Act,
        by: Role,
    },
    /// A frozen version of the call's list, approved by an act.
    ListPublished {
        call: String,
        version: u32,
        list_sha256: String,
        act: Act,
        by: Role,
    },
    /// The CUP (codice unico di progetto) of a funded project.
    CupRecorded {
        call: String,
        seq: u64,
        cup: String,
        by: Role,
    },
}

impl Record {
    pub fn kind(&self) -> &'static str {
        match self {
            Record::CallPublished { .. } => "call_published",
            Record::ApplicationSubmitted { .. } => "application_submitted",
            Record::ApplicationTaken { .. } => "application_taken",
            Record::ChecklistChecked { .. } => "checklist_checked",
            Record::IntegrationRequested { .. } => "integration_requested",
            Record::IntegrationAnswered { .. } => "integration_answered",
            Record::ApplicationAdmitted { .. } => "application_admitted",
            Record::ApplicationReduced { .. } => "application_reduced",
            Record::ApplicationRejected { .. } => "application_rejected",
            Record::ApplicationWithdrawn { .. } => "application_withdrawn",
            Record::AwardRevoked { .. } => "award_revoked",
            Record::BudgetChanged { .. } => "budget_changed",
            Record::ListPublished { .. } => "list_published",
            Record::CupRecorded { .. } => "cup_recorded",
            Record::ReportSubmitted { .. } => "report_submitted",
            Record::ExpenseChecked { .. } => "expense_checked",
            Record::ReportReturned { .. } => "report_returned",
            Record::VerificationClosed { .. } => "verification_closed",
            Record::PaymentRecorded { .. } => "payment_recorded",
            Record::ReportDeadlineExtended { .. } => "report_deadline_extended",
        }
    }

    pub fn call(&self) -> &str {
        match self {
            Record::CallPublished { call, .. }
            | Record::ApplicationSubmitted { call, .. }
            | Record::ApplicationTaken { call, .. }
            | Record::ChecklistChecked { call, .. }
            | Record::IntegrationRequested { call, .. }
            | Record::IntegrationAnswered { call, .. }
            | Record::ApplicationAdmitted { call, .. }
            | Record::ApplicationReduced { call, .. }
            | Record::ApplicationRejected { call, .. }
            | Record::ApplicationWithdrawn { call, .. }
            | Record::AwardRevoked { call, .. }
            | Record::BudgetChanged { call, .. }
            | Record::ListPublished { call, .. }
            | Record::CupRecorded { call, .. }
            | Record::ReportSubmitted { call, .. }
            | Record::ExpenseChecked { call, .. }
            | Record::ReportReturned { call, .. }
            | Record::VerificationClosed { call, .. }
            | Record::PaymentRecorded { call, .. }
            | Record::ReportDeadlineExtended { call, .. } => call,
        }
    }

    /// The application (its number in the call) this record is about, if any.
    pub fn application(&self) -> Option<u64> {
        match *self {
            Record::ApplicationSubmitted { seq, .. }
            | Record::ApplicationTaken { seq, .. }
            | Record::ChecklistChecked { seq, .. }
            | Record::IntegrationRequested { seq, .. }
            | Record::IntegrationAnswered { seq, .. }
            | Record::ApplicationAdmitted { seq, .. }
            | Record::ApplicationReduced { seq, .. }
            | Record::ApplicationRejected { seq, .. }
            | Record::ApplicationWithdrawn { seq, .. }
            | Record::AwardRevoked { seq, .. }
            | Record::CupRecorded { seq, .. }
            | Record::ReportSubmitted { seq, .. }
            | Record::ExpenseChecked { seq, .. }
            | Record::ReportReturned { seq, .. }
            | Record::VerificationClosed { seq, .. }
            | Record::PaymentRecorded { seq, .. }
            | Record::ReportDeadlineExtended { seq, .. } => Some(seq),
            Record::CallPublished { .. }
            | Record::BudgetChanged { .. }
            | Record::ListPublished { .. } => None,
        }
    }

    /// The SHA-256 of the text kept beside the entry (a reason, a note, a request), if the
    /// record names one.
    pub fn text_sha256(&self) -> Option<&str> {
        match self {
            Record::ChecklistChecked { note_sha256, .. } => Some(note_sha256),
            Record::IntegrationRequested { text_sha256, .. } => Some(text_sha256),
            Record::ApplicationAdmitted { reason_sha256, .. }
            | Record::ApplicationReduced { reason_sha256, .. }
            | Record::ApplicationRejected { reason_sha256, .. }
            | Record::ApplicationWithdrawn { reason_sha256, .. }
            | Record::AwardRevoked { reason_sha256, .. }
            | Record::ExpenseChecked { reason_sha256, .. }
            | Record::ReportReturned { reason_sha256, .. }
            | Record::ReportDeadlineExtended { reason_sha256, .. } => Some(reason_sha256),
            _ => None,
        }
    }

    /// The allocation event this record carries, if any.
    pub fn allocation_event(&self) -> Option<Event> {
        Some(match *self {
            Record::ApplicationSubmitted {
                seq,
                requested_cents,
                ..
            } => Event::Submitted {
                seq,
                requested: requested_cents,
            },
            Record::ApplicationWithdrawn { seq, .. } => Event::Withdrawn { seq },
            Record::ApplicationRejected { seq, .. } => Event::Rejected { seq },
            Record::ApplicationReduced {
                seq,
                requested_before_cents,
                requested_cents,
                ..
            } if requested_cents < requested_before_cents => Event::Reduced {
                seq,
                requested: requested_cents,
            },
            Record::AwardRevoked { seq, .. } => Event::Revoked { seq },
            // What the verification did not confirm goes back to the call.
            Record::VerificationClosed {
                seq,
                final_grant_cents,
                granted_before_cents,
                ..
            } if final_grant_cents < granted_before_cents => Event::Reduced {
                seq,
                requested: final_grant_cents,
            },
            Record::BudgetChanged { budget_cents, .. } => Event::BudgetChanged {
                budget: budget_cents,
            },
            Record::CallPublished { .. }
            | Record::ApplicationTaken { .. }
            | Record::ChecklistChecked { .. }
            | Record::IntegrationRequested { .. }
            | Record::IntegrationAnswered { .. }
            | Record::ApplicationAdmitted { .. }
            | Record::ApplicationReduced { .. }
            | Record::ListPublished { .. }
            | Record::CupRecorded { .. }
            | Record::ReportSubmitted { .. }
            | Record::ExpenseChecked { .. }
            | Record::ReportReturned { .. }
            | Record::VerificationClosed { .. }
            | Record::PaymentRecorded { .. }
            | Record::ReportDeadlineExtended { .. } => return None,
        })
    }

    /// Compact JSON: the payload that is hashed and published.
    pub fn payload(&self) -> String {
        serde_json::to_string(self).expect("records serialise")
    }

    pub fn from_payload(payload: &str) -> Result<Record, String> {
        serde_json::from_str(payload).map_err(|e| e.to_string())
    }
}

/// An entry as stored and published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    pub prev_hash: String,
    pub hash: String,
    pub kind: String,
    /// RFC 3339 UTC with microseconds.
    pub at: String,
    pub payload: String,
}

impl Entry {
    /// Seals a record as entry `seq` after `prev_hash`.
    pub fn seal(seq: u64, prev_hash: &str, at: Timestamp, record: &Record) -> Entry {
        let at = crate::instant::format_utc(at);
        let payload = record.payload();
        let kind = record.kind().to_string();
        let hash = entry_hash(seq, prev_hash, &kind, &at, &payload);
        Entry {
            seq,
            prev_hash: prev_hash.to_string(),
            hash,
            kind,
            at,
            payload,
        }
    }

    pub fn record(&self) -> Result<Record, String> {
        Record::from_payload(&self.payload)
    }

    /// What the entry says of itself, whatever its neighbours: its hash is that of its
    /// fields, and its payload is a record of its kind in that record's one written form
    /// (so that two texts never stand for one record, docs/ledger.md). Independent for
    /// each entry: the part of a chain's check that can run on several threads.
    pub fn self_check(&self) -> Result<Record, ChainError> {
        let recomputed = entry_hash(
            self.seq,
            &self.prev_hash,
            &self.kind,
            &self.at,
            &self.payload,
        );
        if recomputed != self.hash {
            return Err(self.error(format!(
                "hash mismatch: stored {}, recomputed {recomputed}",
                self.hash
            )));
        }
        match self.record() {
            Ok(r) if r.kind() == self.kind => {
                if serde_json::to_string(&r).ok().as_deref() != Some(self.payload.as_str()) {
                    return Err(
                        self.error("the payload is not in its canonical written form".into())
                    );
                }
                Ok(r)
            }
            Ok(r) => Err(self.error(format!(
                "kind {:?} but payload of kind {:?}",
                self.kind,
                r.kind()
            ))),
            Err(m) => Err(self.error(format!("unreadable payload: {m}"))),
        }
    }

    fn error(&self, problem: String) -> ChainError {
        ChainError {
            seq: self.seq,
            problem,
        }
    }
}

pub fn entry_hash(seq: u64, prev_hash: &str, kind: &str, at: &str, payload: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"bandi-ledger-v1\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(kind.as_bytes());
    h.update(b"\n");
    h.update(at.as_bytes());
    h.update(b"\n");
    h.update(payload.as_bytes());
    hex::encode(h.finalize())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger entry {seq}: {problem}")]
pub struct ChainError {
    pub seq: u64,
    pub problem: String,
}

/// Checks a run of consecutive entries that follows `prev` (`(seq, hash)` of the entry
/// before the first, `(0, GENESIS_HASH)` from the start); names the first bad entry.
pub struct ChainVerifier {
    last_seq: u64,
    last_hash: String,
}

impl ChainVerifier {
    pub fn new() -> ChainVerifier {
        ChainVerifier::after(0, GENESIS_HASH)
    }

    pub fn after(seq: u64, hash: &str) -> ChainVerifier {
        ChainVerifier {
            last_seq: seq,
            last_hash: hash.to_string(),
        }
    }

    /// Checks the next entry: it follows the last one checked, and says what it is
    /// ([`Entry::self_check`]). Gives its record.
    pub fn check(&mut self, e: &Entry) -> Result<Record, ChainError> {
        self.link(e)?;
        let record = e.self_check()?;
        self.advance(e);
        Ok(record)
    }

    /// Checks consecutive entries as [`ChainVerifier::check`] would one by one (the same
    /// first error), the hashes and payloads on up to `threads` threads; the links, which
    /// are cheap, in order. Gives their records.
    pub fn check_run(
        &mut self,
        entries: &[Entry],
        threads: usize,
    ) -> Result<Vec<Record>, ChainError> {
        let checked = crate::parallel::map(entries, threads, Entry::self_check);
        self.follow(entries, checked)
    }

    /// The second half of [`ChainVerifier::check_run`], for a caller that ran the entries'
    /// [`Entry::self_check`]s elsewhere (`checked`, one for each entry, in order): the links
    /// in order, and the first error, whether a link's or an entry's own.
    pub fn follow(
        &mut self,
        entries: &[Entry],
        checked: Vec<Result<Record, ChainError>>,
    ) -> Result<Vec<Record>, ChainError> {
        if checked.len() != entries.len() {
            return Err(ChainError {
                seq: self.last_seq + 1,
                problem: format!("{} entries but {} checked", entries.len(), checked.len()),
            });
        }
        let mut records = Vec::with_capacity(entries.len());
        for (e, record) in entries.iter().zip(checked) {
            self.link(e)?;
            records.push(record?);
            self.advance(e);
        }
        Ok(records)
    }

    /// The entry follows the last one checked: the next number, and the previous hash.
    fn link(&self, e: &Entry) -> Result<(), ChainError> {
        if e.seq != self.last_seq + 1 {
            return Err(e.error(format!("expected entry number {}", self.last_seq + 1)));
        }
        if e.prev_hash != self.last_hash {
            return Err(e.error("prev_hash does not match the previous entry's hash".into()));
        }
        Ok(())
    }

    fn advance(&mut self, e: &Entry) {
        self.last_seq = e.seq;
        self.last_hash.clone_from(&e.hash);
    }

    pub fn last(&self) -> (u64, &str) {
        (self.last_seq, &self.last_hash)
    }
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier::new()
    }
}

/// Checks a whole chain from the first entry.
pub fn verify_chain<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Result<u64, ChainError> {
    let mut v = ChainVerifier::new();
    for e in entries {
        v.check(e)?;
    }
    Ok(v.last_seq)
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_act_reads_as_the_notices_write_it() {
        let act = Act {
            number: "DD 100/2020".into(),
            date: "2020-05-15".into(),
            document_sha256: None,
        };
        assert_eq!(act.in_words(), "DD 100/2020 del 15/05/2020");
    }

    use super::*;
    use proptest::prelude::*;

    fn chain(n: u64) -> Vec<Entry> {
        let mut prev = GENESIS_HASH.to_string();
        let t0: Timestamp = "2020-04-03T07:30:00Z".parse().unwrap();
        (1..=n)
            .map(|seq| {
                let rec = Record::ApplicationSubmitted {
                    call: "er-2020-smart-working".into(),
                    seq,
                    protocol: format!("ER-SW-2020/{seq:07}"),
                    entity: format!("0390{seq:02}"),
                    admitted_at: crate::instant::format_utc(t0),
                    received_at: crate::instant::format_utc(t0),
                    content_sha256: "ab".repeat(32),
                    requested_cents: Money::from_euros(52_500),
                };
                let e = Entry::seal(seq, &prev, t0, &rec);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    /// Whatever is wrong and wherever, checking a run on several threads finds the same
    /// first error as checking one entry after the other.
    #[test]
    fn a_run_checked_on_threads_fails_as_one_by_one() {
        let good = chain(300);
        let mut run = ChainVerifier::new();
        let records = run.check_run(&good, 3).expect("a good chain");
        assert_eq!(records.len(), 300);
        assert_eq!(records[41], good[41].record().unwrap());
        assert_eq!(run.last(), (300, good[299].hash.as_str()));
        type Tamper = fn(&mut Entry);
        let tamper: [(usize, Tamper); 4] = [
            (250, |e| e.payload = e.payload.replace("5250000", "5250001")),
            (120, |e| e.prev_hash = "00".repeat(32)),
            (7, |e| e.seq += 1),
            (299, |e| e.payload = e.payload.replace("{", "{ ")),
        ];
        for (at, change) in tamper {
            let mut bad = good.clone();
            change(&mut bad[at]);
            // A later entry broken too: the first one is named.
            bad[at + 1..]
                .iter_mut()
                .take(1)
                .for_each(|e| e.hash = "ff".repeat(32));
            let mut one_by_one = ChainVerifier::new();
            let expected = bad.iter().try_for_each(|e| one_by_one.check(e).map(drop));
            let expected = expected.expect_err("tampered");
            assert_eq!(expected.seq, bad[at].seq);
            for threads in [1, 2, 4] {
                let got = ChainVerifier::new().check_run(&bad, threads);
                assert_eq!(got, Err(expected.clone()), "{threads} threads, entry {at}");
            }
        }
    }

    /// Self-checks run elsewhere must be one per entry: fewer would leave entries unchecked.
    #[test]
    fn checks_run_elsewhere_are_followed_only_one_per_entry() {
        let good = chain(4);
        let checked: Vec<_> = good.iter().map(Entry::self_check).collect();
        let mut v = ChainVerifier::new();
        let err = v
            .follow(&good, checked[..3].to_vec())
            .expect_err("one check missing");
        assert_eq!((err.seq, v.last().0), (1, 0));
        let records = v.follow(&good, checked).expect("one check each");
        assert_eq!(records.len(), 4);
        assert_eq!(v.last(), (4, good[3].hash.as_str()));
    }

    #[test]
    fn a_good_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify_chain(&c), Ok(5));
        assert_eq!(c[0].prev_hash, GENESIS_HASH);
        assert_eq!(c[1].prev_hash, c[0].hash);
    }

    #[test]
    fn the_hash_is_the_documented_one() {
        let c = chain(1);
        let text = format!(
            "bandi-ledger-v1\n1\n{GENESIS_HASH}\napplication_submitted\n{}\n{}",
            c[0].at, c[0].payload
        );
        assert_eq!(c[0].hash, hex::encode(Sha256::digest(text.as_bytes())));
        assert_eq!(c[0].at, "2020-04-03T07:30:00.000000Z");
    }

    #[test]
    fn tampering_names_the_first_bad_entry() {
        let mut c = chain(6);
        c[3].payload = c[3].payload.replace("5250000", "9250000");
        let err = verify_chain(&c).unwrap_err();
        assert_eq!(err.seq, 4);
        assert!(err.problem.contains("hash mismatch"));

        let mut c = chain(6);
        c.remove(2);
        assert_eq!(verify_chain(&c).unwrap_err().seq, 4);

        let mut c = chain(6);
        // Re-sealing an entry after changing it breaks the link of the next one.
        let rec = Record::ApplicationWithdrawn {
            call: "x".into(),
            seq: 1,
            reason_sha256: "0".repeat(64),
            by: Role::Admin,
        };
        c[1] = Entry::seal(2, &c[0].hash, "2021-01-01T00:00:00Z".parse().unwrap(), &rec);
        assert_eq!(verify_chain(&c).unwrap_err().seq, 3);

        let mut c = chain(3);
        c[1].kind = "budget_changed".into();
        assert_eq!(verify_chain(&c).unwrap_err().seq, 2);
    }

    #[test]
    fn records_round_trip_and_map_to_events() {
        let r = Record::BudgetChanged {
            call: "c".into(),
            budget_cents: Money::from_euros(3_450_000),
            act: Act {
                number: "DGR 1234/2020".into(),
                date: "2020-06-15".into(),
                document_sha256: None,
            },
            by: Role::Admin,
        };
        assert_eq!(Record::from_payload(&r.payload()), Ok(r.clone()));
        assert_eq!(
            r.allocation_event(),
            Some(Event::BudgetChanged {
                budget: Money::from_euros(3_450_000)
            })
        );
        assert_eq!(
            r.payload(),
            r#"{"kind":"budget_changed","call":"c","budget_cents":345000000,"act":{"number":"DGR 1234/2020","date":"2020-06-15"},"by":"admin"}"#
        );
        assert!(
            Record::from_payload(
                r#"{"kind":"budget_changed","call":"c","budget_cents":1,"act":{"number":"1","date":"2020-01-01"},"by":"admin","x":2}"#
            )
            .is_err()
        );
        // A reduction that leaves the grant as it was (the cap still binds) moves no money.
        let same = Record::ApplicationReduced {
            call: "c".into(),
            seq: 3,
            eligible_cost_cents: Money::from_euros(160_000),
            requested_before_cents: Money::from_euros(105_000),
            requested_cents: Money::from_euros(105_000),
            lines: vec![],
            reason_sha256: "0".repeat(64),
            by: Role::Reviewer,
        };
        assert_eq!(same.allocation_event(), None);
        assert_eq!(same.application(), Some(3));
    }

    proptest! {
        #[test]
        fn any_single_byte_change_in_a_payload_is_caught(idx in 0usize..5, pos in 0usize..200, byte in any::<u8>()) {
            let mut c = chain(5);
            let mut bytes = c[idx].payload.clone().into_bytes();
            let pos = pos % bytes.len();
            prop_assume!(bytes[pos] != byte);
            bytes[pos] = byte;
            c[idx].payload = String::from_utf8_lossy(&bytes).into_owned();
            prop_assert_eq!(verify_chain(&c).unwrap_err().seq, idx as u64 + 1);
        }
    }
}
