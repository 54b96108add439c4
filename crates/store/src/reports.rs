//! Expense reports, their verification, payments and revocations as stored: the report's
//! draft, each submitted version sealed (its documents too), the findings on its expenses,
//! the final grant, the payments and the revocation's act. Every change but a draft is a
//! ledger record written under the ledger's lock by [`Store::report_record`], with what it
//! does to the tables, its notice, and the waitlist's move when money comes back.

use std::collections::BTreeMap;

use bandi_domain::instant::from_micros;
use bandi_domain::ledger::Record;
use bandi_domain::money::Money;
use bandi_domain::notice::{self, About};
use bandi_domain::report::ReportContent;
use bandi_domain::report::verification::{ExpenseOutcome, PaymentKind, ReportState};
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};

use crate::review::{Locked, entity_name, insert_notice, lock_under_review, write_records};
use crate::{Applied, Result, Store, StoreError, UnderReview};

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    pub state: ReportState,
    /// How many times it was submitted (0 while never).
    pub version: u32,
    pub content: ReportContent,
    pub content_sha256: Option<String>,
    pub claimed: Money,
    pub eligible_claimed: Money,
    pub submitted_at: Option<Timestamp>,
    pub verified_eligible: Option<Money>,
    pub final_grant: Option<Money>,
    /// The reporting deadline extended for this application (`YYYY-MM-DD`).
    pub deadline: Option<String>,
    /// The findings on the expenses of the current version, by line.
    pub checks: BTreeMap<u32, (ExpenseOutcome, Money)>,
}

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub n: u32,
    pub kind: PaymentKind,
    pub amount: Money,
    pub paid_on: String,
    pub act_number: String,
    pub act_date: String,
    pub ledger_seq: u64,
}

/// What a report's action is decided on, under the lock.
pub struct Reporting<'a> {
    pub call: &'a bandi_domain::call::Call,
    pub app: &'a UnderReview,
    /// What the allocation reserves for it now.
    pub award: Money,
    pub report: Option<&'a StoredReport>,
    pub paid: Money,
    pub now: Timestamp,
}

/// An action's outcome to write: its record, the text it names, and for a submission the
/// report's canonical JSON.
pub struct ReportChange {
    pub record: Record,
    pub text: Option<String>,
    pub content_json: Option<String>,
}

fn money(r: &sqlx::any::AnyRow, column: &str) -> Result<Money> {
    Ok(Money::from_cents(r.try_get(column)?))
}

async fn read_report(
    conn: &mut AnyConnection,
    call: &str,
    seq: u64,
) -> Result<Option<StoredReport>> {
    let Some(r) = sqlx::query(
        "SELECT state, version, content, content_sha256, claimed_cents, eligible_claimed_cents, \
         submitted_us, verified_eligible_cents, final_grant_cents, deadline FROM reports \
         WHERE call_code = $1 AND seq = $2",
    )
    .bind(call)
    .bind(seq as i64)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let state: String = r.try_get("state")?;
    let version = r.try_get::<i64, _>("version")? as u32;
    let content: String = r.try_get("content")?;
    let checks: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT line, outcome, accepted_cents FROM expense_checks \
         WHERE call_code = $1 AND seq = $2 AND version = $3",
    )
    .bind(call)
    .bind(seq as i64)
    .bind(i64::from(version))
    .fetch_all(&mut *conn)
    .await?;
    let corrupt = |what: String| StoreError::Corrupt(format!("report of {call}/{seq}: {what}"));
    Ok(Some(StoredReport {
        state: ReportState::parse(&state).ok_or_else(|| corrupt(format!("state {state:?}")))?,
        version,
        content: serde_json::from_str(&content).map_err(|e| corrupt(e.to_string()))?,
        content_sha256: r.try_get("content_sha256")?,
        claimed: money(&r, "claimed_cents")?,
        eligible_claimed: money(&r, "eligible_claimed_cents")?,
        submitted_at: r
            .try_get::<Option<i64>, _>("submitted_us")?
            .and_then(from_micros),
        verified_eligible: r
            .try_get::<Option<i64>, _>("verified_eligible_cents")?
            .map(Money::from_cents),
        final_grant: r
            .try_get::<Option<i64>, _>("final_grant_cents")?
            .map(Money::from_cents),
        deadline: r.try_get("deadline")?,
        checks: checks
            .into_iter()
            .map(|(line, outcome, accepted)| {
                Ok((
                    line as u32,
                    (
                        ExpenseOutcome::parse(&outcome)
                            .ok_or_else(|| corrupt(format!("outcome {outcome:?}")))?,
                        Money::from_cents(accepted),
                    ),
                ))
            })
            .collect::<Result<_>>()?,
    }))
}

async fn read_payments(conn: &mut AnyConnection, call: &str, seq: u64) -> Result<Vec<Payment>> {
    let rows = sqlx::query(
        "SELECT n, kind, amount_cents, paid_on, act_number, act_date, ledger_seq FROM payments \
         WHERE call_code = $1 AND seq = $2 ORDER BY n",
    )
    .bind(call)
    .bind(seq as i64)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Payment {
                n: r.try_get::<i64, _>("n")? as u32,
                kind: PaymentKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("payment kind {kind:?}")))?,
                amount: money(r, "amount_cents")?,
                paid_on: r.try_get("paid_on")?,
                act_number: r.try_get("act_number")?,
                act_date: r.try_get("act_date")?,
                ledger_seq: r.try_get::<i64, _>("ledger_seq")? as u64,
            })
        })
        .collect()
}

impl Store {
    pub async fn report(&self, call: &str, seq: u64) -> Result<Option<StoredReport>> {
        let mut conn = self.pool().acquire().await?;
        read_report(&mut conn, call, seq).await
    }

    pub async fn payments(&self, call: &str, seq: u64) -> Result<Vec<Payment>> {
        let mut conn = self.pool().acquire().await?;
        read_payments(&mut conn, call, seq).await
    }

    /// Keeps the report's draft, if the report is still the authority's to change;
    /// otherwise `Err` with where it stands, and nothing written.
    pub async fn save_report_draft(
        &self,
        call: &str,
        seq: u64,
        content_json: &str,
        claimed: Money,
        eligible_claimed: Money,
    ) -> Result<std::result::Result<(), ReportState>> {
        let now = crate::now_us();
        let mut tx = self.begin_write().await?;
        let state: Option<(String,)> =
            sqlx::query_as("SELECT state FROM reports WHERE call_code = $1 AND seq = $2")
                .bind(call)
                .bind(seq as i64)
                .fetch_optional(&mut *tx)
                .await?;
        match state.as_ref().map(|(s,)| ReportState::parse(s)) {
            None => {
                sqlx::query(
                    "INSERT INTO reports (call_code, seq, state, version, content, claimed_cents, \
                     eligible_claimed_cents, updated_us) VALUES ($1, $2, 'draft', 0, $3, $4, $5, $6)",
                )
                .bind(call)
                .bind(seq as i64)
                .bind(content_json)
                .bind(claimed.cents())
                .bind(eligible_claimed.cents())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            Some(Some(s)) if s.editable() => {
                sqlx::query(
                    "UPDATE reports SET content = $1, claimed_cents = $2, eligible_claimed_cents = $3, \
                     updated_us = $4 WHERE call_code = $5 AND seq = $6",
                )
                .bind(content_json)
                .bind(claimed.cents())
                .bind(eligible_claimed.cents())
                .bind(now)
                .bind(call)
                .bind(seq as i64)
                .execute(&mut *tx)
                .await?;
            }
            Some(Some(s)) => return Ok(Err(s)),
            Some(None) => return Err(StoreError::Corrupt(format!("report state of {call}/{seq}"))),
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// An action on application `seq`'s report, payments or award by `actor` (an account
    /// id): `decide` gets, under the ledger's lock, the application, its award, report and
    /// payments, and gives the change (or a refusal, with nothing written). `None` when
    /// there is no such application.
    pub async fn report_record<E>(
        &self,
        call: &str,
        seq: u64,
        actor: &str,
        decide: impl FnOnce(&Reporting<'_>) -> std::result::Result<ReportChange, E>,
    ) -> Result<Option<std::result::Result<Applied, E>>> {
        let mut tx = self.begin_write().await?;
        let Some((mut head, locked, app)) = lock_under_review(&mut tx, call, seq).await? else {
            return Ok(None);
        };
        let report = read_report(&mut tx, call, seq).await?;
        let payments = read_payments(&mut tx, call, seq).await?;
        let paid = payments
            .iter()
            .fold(Money::ZERO, |a, p| a.checked_add(p.amount).unwrap_or(a));
        let award = locked
            .allocation
            .get(seq)
            .map(|a| a.reserved)
            .ok_or_else(|| StoreError::Corrupt(format!("{call}/{seq} not in the allocation")))?;
        let now = bandi_domain::instant::truncate_to_micros(Timestamp::now());
        let change = match decide(&Reporting {
            call: &locked.call,
            app: &app,
            award,
            report: report.as_ref(),
            paid,
            now,
        }) {
            Ok(c) => c,
            Err(e) => return Ok(Some(Err(e))),
        };
        let title = locked.call.title.it.clone();
        let entity = entity_name(&mut tx, &app.entity).await?;
        let applied = write_records(
            &mut tx,
            &mut head,
            Locked {
                call: locked.call,
                allocation: locked.allocation,
            },
            vec![(change.record.clone(), change.text.clone())],
            actor,
            now,
        )
        .await?;
        let entry = applied.entries[0].seq as i64;
        apply_change(&mut tx, call, &app, &change, paid, entry, now).await?;
        let about = About {
            call_title: &title,
            protocol: &app.protocol,
            entity_name: &entity,
        };
        if let Some(n) = change_notice(&change.record, &about, change.text.as_deref()) {
            insert_notice(&mut tx, &app.entity, call, Some(seq), &n, entry, now).await?;
        }
        tx.commit().await?;
        Ok(Some(Ok(applied)))
    }
}

/// What a change does to the tables besides the ledger.
async fn apply_change(
    conn: &mut AnyConnection,
    call: &str,
    app: &UnderReview,
    change: &ReportChange,
    paid: Money,
    entry: i64,
    now: Timestamp,
) -> Result<()> {
    let seq = app.seq as i64;
    match &change.record {
        Record::ReportSubmitted {
            version,
            report_sha256,
            claimed_cents,
            eligible_claimed_cents,
            ..
        } => {
            let json = change
                .content_json
                .as_deref()
                .ok_or_else(|| StoreError::Corrupt("a submission without its report".into()))?;
            let content: ReportContent = serde_json::from_str(json)
                .map_err(|e| StoreError::Corrupt(format!("report submitted: {e}")))?;
            sqlx::query(
                "UPDATE reports SET state = 'submitted', version = $1, content = $2, content_sha256 = $3, \
                 claimed_cents = $4, eligible_claimed_cents = $5, submitted_us = $6, \
                 submitted_ledger_seq = $7, updated_us = $6 WHERE call_code = $8 AND seq = $9",
            )
            .bind(i64::from(*version))
            .bind(json)
            .bind(report_sha256)
            .bind(claimed_cents.cents())
            .bind(eligible_claimed_cents.cents())
            .bind(now.as_microsecond())
            .bind(entry)
            .bind(call)
            .bind(seq)
            .execute(&mut *conn)
            .await?;
            // The documents the report names are sealed to this version.
            for (i, e) in content.expenses.iter().enumerate() {
                for d in &e.documents {
                    sqlx::query(
                        "UPDATE documents SET application_id = $1, report_version = $2 \
                         WHERE entity_code = $3 AND call_code = $4 AND report = $5 \
                         AND attachment_code = $6 AND sha256 = $7 AND application_id IS NULL",
                    )
                    .bind(&app.id)
                    .bind(i64::from(*version))
                    .bind(&app.entity)
                    .bind(call)
                    .bind(seq)
                    .bind(report_document_code(i, &d.code))
                    .bind(&d.sha256)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        }
        Record::ExpenseChecked {
            version,
            line,
            outcome,
            accepted_cents,
            ..
        } => {
            sqlx::query(
                "INSERT INTO expense_checks (call_code, seq, version, line, outcome, accepted_cents, ledger_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (call_code, seq, version, line) \
                 DO UPDATE SET outcome = excluded.outcome, accepted_cents = excluded.accepted_cents, \
                 ledger_seq = excluded.ledger_seq",
            )
            .bind(call)
            .bind(seq)
            .bind(i64::from(*version))
            .bind(i64::from(*line))
            .bind(outcome.as_str())
            .bind(accepted_cents.cents())
            .bind(entry)
            .execute(&mut *conn)
            .await?;
        }
        Record::ReportReturned { .. } => {
            report_update(conn, call, seq, "state = 'returned'", now).await?;
        }
        Record::VerificationClosed {
            verified_eligible_cents,
            final_grant_cents,
            ..
        } => {
            sqlx::query(
                "UPDATE reports SET state = 'verified', verified_eligible_cents = $1, final_grant_cents = $2, \
                 closed_ledger_seq = $3, updated_us = $4 WHERE call_code = $5 AND seq = $6",
            )
            .bind(verified_eligible_cents.cents())
            .bind(final_grant_cents.cents())
            .bind(entry)
            .bind(now.as_microsecond())
            .bind(call)
            .bind(seq)
            .execute(&mut *conn)
            .await?;
        }
        Record::PaymentRecorded {
            payment,
            amount_cents,
            paid_on,
            act,
            ..
        } => {
            sqlx::query(
                "INSERT INTO payments (call_code, seq, n, kind, amount_cents, paid_on, act_number, act_date, ledger_seq) \
                 VALUES ($1, $2, (SELECT COUNT(*) + 1 FROM payments WHERE call_code = $1 AND seq = $2), \
                 $3, $4, $5, $6, $7, $8)",
            )
            .bind(call)
            .bind(seq)
            .bind(payment.as_str())
            .bind(amount_cents.cents())
            .bind(paid_on)
            .bind(&act.number)
            .bind(&act.date)
            .bind(entry)
            .execute(&mut *conn)
            .await?;
        }
        Record::ReportDeadlineExtended { until, .. } => {
            let updated = sqlx::query(
                "UPDATE reports SET deadline = $1, updated_us = $2 WHERE call_code = $3 AND seq = $4",
            )
            .bind(until)
            .bind(now.as_microsecond())
            .bind(call)
            .bind(seq)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if updated == 0 {
                let empty = serde_json::to_string(&ReportContent::default()).expect("serialises");
                sqlx::query(
                    "INSERT INTO reports (call_code, seq, state, version, content, claimed_cents, \
                     eligible_claimed_cents, deadline, updated_us) VALUES ($1, $2, 'draft', 0, $3, 0, 0, $4, $5)",
                )
                .bind(call)
                .bind(seq)
                .bind(empty)
                .bind(until)
                .bind(now.as_microsecond())
                .execute(&mut *conn)
                .await?;
            }
        }
        Record::AwardRevoked { act, .. } => {
            sqlx::query(
                "UPDATE applications SET review_state = 'revoked', holder_id = NULL WHERE call_code = $1 AND seq = $2",
            )
            .bind(call)
            .bind(seq)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO revocations (call_code, seq, act_number, act_date, paid_cents, ledger_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(call)
            .bind(seq)
            .bind(&act.number)
            .bind(&act.date)
            .bind(paid.cents())
            .bind(entry)
            .execute(&mut *conn)
            .await?;
        }
        other => {
            return Err(StoreError::Corrupt(format!(
                "a report's action wrote a {} record",
                other.kind()
            )));
        }
    }
    Ok(())
}

async fn report_update(
    conn: &mut AnyConnection,
    call: &str,
    seq: i64,
    set: &'static str,
    now: Timestamp,
) -> Result<()> {
    let sql =
        format!("UPDATE reports SET {set}, updated_us = $1 WHERE call_code = $2 AND seq = $3");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now.as_microsecond())
        .bind(call)
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The attachment code a report's document is kept under: `expense-3-invoice`.
pub fn report_document_code(line: usize, code: &str) -> String {
    format!("expense-{line}-{code}")
}

fn change_notice(
    record: &Record,
    about: &About<'_>,
    text: Option<&str>,
) -> Option<bandi_domain::notice::Notice> {
    let text = text.unwrap_or("");
    Some(match record {
        Record::ReportReturned { .. } => notice::report_returned(about, text),
        Record::VerificationClosed {
            final_grant_cents,
            verified_eligible_cents,
            ..
        } => notice::verification_closed(about, *verified_eligible_cents, *final_grant_cents),
        Record::PaymentRecorded {
            payment,
            amount_cents,
            paid_on,
            act,
            ..
        } => notice::payment_recorded(
            about,
            payment.label().it.as_str(),
            *amount_cents,
            paid_on,
            &act.in_words(),
        ),
        Record::ReportDeadlineExtended { until, .. } => {
            notice::report_deadline_extended(about, until, text)
        }
        Record::AwardRevoked { act, .. } => notice::revoked(about, text, &act.in_words()),
        _ => return None,
    })
}

/// A grant as the transparency page, the open data and the statistics show it: every
/// application admitted (or whose award was revoked), with what was awarded, verified,
/// paid and taken back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub seq: u64,
    pub protocol: String,
    pub entity_code: String,
    pub entity_name: String,
    pub entity_kind: String,
    pub fiscal_code: Option<String>,
    pub province: Option<String>,
    pub istat_code: Option<String>,
    pub received_at: Timestamp,
    pub title: String,
    pub summary: String,
    /// The grant asked at submission.
    pub requested: Money,
    /// What the allocation reserves now (the award; zero once revoked).
    pub awarded: Money,
    pub status: bandi_domain::allocation::Status,
    pub review_state: bandi_domain::review::ReviewState,
    pub cup: Option<String>,
    pub report_state: Option<ReportState>,
    pub verified_eligible: Option<Money>,
    pub final_grant: Option<Money>,
    pub paid: Money,
    /// The revocation's act, and what had been paid then (to recover).
    pub revoked: Option<(String, String, Money)>,
}

impl Store {
    /// The grants of a call in protocol order: applications admitted or revoked.
    pub async fn grants(&self, call: &str) -> Result<Vec<GrantRow>> {
        let rows = sqlx::query(
            "SELECT a.seq, a.protocol, a.entity_code, e.name, e.kind, e.fiscal_code, e.province, \
             e.istat_code, a.received_us, a.content, a.requested_cents, a.reserved_cents, a.status, \
             a.review_state, a.cup, r.state AS report_state, r.verified_eligible_cents, \
             r.final_grant_cents, v.act_number, v.act_date, v.paid_cents, \
             (SELECT CAST(COALESCE(SUM(p.amount_cents), 0) AS BIGINT) FROM payments p \
              WHERE p.call_code = a.call_code AND p.seq = a.seq) AS paid \
             FROM applications a JOIN entities e ON e.code = a.entity_code \
             LEFT JOIN reports r ON r.call_code = a.call_code AND r.seq = a.seq AND r.version > 0 \
             LEFT JOIN revocations v ON v.call_code = a.call_code AND v.seq = a.seq \
             WHERE a.call_code = $1 AND a.review_state IN ('admitted', 'revoked') ORDER BY a.seq",
        )
        .bind(call)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let corrupt =
                    |what: String| StoreError::Corrupt(format!("grant of {call}: {what}"));
                let content: String = r.try_get("content")?;
                let content: bandi_domain::application::ApplicationContent =
                    serde_json::from_str(&content).map_err(|e| corrupt(e.to_string()))?;
                let status: String = r.try_get("status")?;
                let review: String = r.try_get("review_state")?;
                let report: Option<String> = r.try_get("report_state")?;
                let received: i64 = r.try_get("received_us")?;
                let act: Option<String> = r.try_get("act_number")?;
                Ok(GrantRow {
                    seq: r.try_get::<i64, _>("seq")? as u64,
                    protocol: r.try_get("protocol")?,
                    entity_code: r.try_get("entity_code")?,
                    entity_name: r.try_get("name")?,
                    entity_kind: r.try_get("kind")?,
                    fiscal_code: r.try_get("fiscal_code")?,
                    province: r.try_get("province")?,
                    istat_code: r.try_get("istat_code")?,
                    received_at: from_micros(received)
                        .ok_or_else(|| corrupt(format!("instant {received}")))?,
                    title: content.title,
                    summary: content.summary,
                    requested: money(r, "requested_cents")?,
                    awarded: money(r, "reserved_cents")?,
                    status: bandi_domain::allocation::Status::parse(&status)
                        .ok_or_else(|| corrupt(format!("status {status:?}")))?,
                    review_state: bandi_domain::review::ReviewState::parse(&review)
                        .ok_or_else(|| corrupt(format!("review {review:?}")))?,
                    cup: r.try_get("cup")?,
                    report_state: report
                        .map(|s| {
                            ReportState::parse(&s).ok_or_else(|| corrupt(format!("report {s:?}")))
                        })
                        .transpose()?,
                    verified_eligible: r
                        .try_get::<Option<i64>, _>("verified_eligible_cents")?
                        .map(Money::from_cents),
                    final_grant: r
                        .try_get::<Option<i64>, _>("final_grant_cents")?
                        .map(Money::from_cents),
                    paid: money(r, "paid")?,
                    revoked: match act {
                        Some(number) => Some((
                            number,
                            r.try_get("act_date")?,
                            Money::from_cents(
                                r.try_get::<Option<i64>, _>("paid_cents")?.unwrap_or(0),
                            ),
                        )),
                        None => None,
                    },
                })
            })
            .collect()
    }

    /// When each application of a call was received (its batch committed), in protocol
    /// order: the click day minute by minute.
    pub async fn admissions(&self, call: &str) -> Result<Vec<Timestamp>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT received_us FROM applications WHERE call_code = $1 ORDER BY seq",
        )
        .bind(call)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(us,)| {
                from_micros(us).ok_or_else(|| StoreError::Corrupt(format!("instant {us}")))
            })
            .collect()
    }
}

/// A funded award and where its report stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardReporting {
    pub seq: u64,
    pub protocol: String,
    pub entity_name: String,
    /// The report's deadline as extended for it (`YYYY-MM-DD`), if it was.
    pub extended_to: Option<String>,
    pub state: Option<ReportState>,
}

impl Store {
    /// The funded awards of a call with where their report stands, in protocol order.
    pub async fn awards_reporting(&self, call: &str) -> Result<Vec<AwardReporting>> {
        let rows = sqlx::query(
            "SELECT a.seq, a.protocol, e.name, r.deadline, r.state FROM applications a \
             JOIN entities e ON e.code = a.entity_code \
             LEFT JOIN reports r ON r.call_code = a.call_code AND r.seq = a.seq \
             WHERE a.call_code = $1 AND a.review_state = 'admitted' \
             AND a.status IN ('reserved', 'partial') ORDER BY a.seq",
        )
        .bind(call)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let state: Option<String> = r.try_get("state")?;
                Ok(AwardReporting {
                    seq: r.try_get::<i64, _>("seq")? as u64,
                    protocol: r.try_get("protocol")?,
                    entity_name: r.try_get("name")?,
                    extended_to: r.try_get("deadline")?,
                    state: state
                        .map(|s| {
                            ReportState::parse(&s)
                                .ok_or_else(|| StoreError::Corrupt(format!("report state {s:?}")))
                        })
                        .transpose()?,
                })
            })
            .collect()
    }
}
