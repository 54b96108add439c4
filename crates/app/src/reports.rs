//! After the award, as use cases: the authority's expense report (its draft with the
//! documents of each expense, its submission sealed in the ledger), its verification
//! (each expense, a return for integration, the close with the final grant), payments,
//! revocations and deadline extensions. Who may is checked here; what the state allows is
//! the domain's rule, applied under the ledger's lock.

use std::collections::BTreeMap;

use bandi_domain::account::Role;
use bandi_domain::allocation::Status;
use bandi_domain::application::AttachedDocument;
use bandi_domain::document::clean_file_name;
use bandi_domain::i18n::FieldError;
use bandi_domain::ledger::{Act, Record};
use bandi_domain::money::Money;
use bandi_domain::report::verification::{
    ExpenseOutcome, PaymentKind, ReportError, ReportState, check_expense, check_payment,
    final_grant,
};
use bandi_domain::report::{ReportBounds, ReportContent, ReportTotals, check_report, totals};
use bandi_domain::review::{self, ReviewState};
use bandi_store::{
    Applied, DocumentInfo, NewDocument, ReportChange, Reporting, StoredReport, UnderReview,
    report_document_code,
};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};

use crate::drafts::{Upload, check_upload};
use crate::review::Which;
use crate::{Actor, App, AppError};

/// Everything a report's page shows.
pub struct ReportView {
    pub app: UnderReview,
    pub report: Option<StoredReport>,
    pub bounds: ReportBounds,
    pub totals: ReportTotals,
    /// The last day to submit, if the call sets one.
    pub deadline: Option<Date>,
    pub paid: Money,
    pub payments: Vec<bandi_store::Payment>,
    pub documents: Vec<DocumentInfo>,
}

impl ReportView {
    pub fn state(&self) -> ReportState {
        self.report
            .as_ref()
            .map(|r| r.state)
            .unwrap_or(ReportState::Draft)
    }
}

/// What a draft's save kept and what is still wrong with it (for the form to show).
pub struct ReportSaved {
    pub totals: ReportTotals,
    pub problems: Vec<FieldError>,
    pub refused: Vec<FieldError>,
}

/// Whether an application reports its expenses: admitted, funded, with its CUP.
fn reportable(app: &UnderReview) -> Result<(), ReportError> {
    let funded = matches!(app.status, Status::Reserved | Status::Partial);
    if app.review.state == ReviewState::Admitted && funded && app.review.cup.is_some() {
        Ok(())
    } else {
        Err(ReportError::NotReportable)
    }
}

/// The project's bounds: what was admitted by category, the award, the dates.
fn bounds(
    call: &bandi_domain::call::Call,
    app: &UnderReview,
    award: Money,
    deadline: Option<Date>,
    require_documents: bool,
) -> ReportBounds {
    let mut admitted: BTreeMap<String, Money> = BTreeMap::new();
    for l in app.admitted_content().lines {
        let e = admitted.entry(l.category).or_insert(Money::ZERO);
        *e = e.checked_add(l.amount_cents).unwrap_or(*e);
    }
    let from = call.opens_at.to_zoned_datetime(call.tz()).date();
    let to = call
        .completion_deadline
        .unwrap_or_else(|| call.closes_at.to_zoned_datetime(call.tz()).date());
    ReportBounds {
        admitted_by_category: admitted,
        award,
        from,
        to,
        paid_by: deadline.unwrap_or_else(|| to.saturating_add(90.days())),
        require_documents,
    }
}

/// The report's last day: its extension, else the call's.
fn deadline_of(call: &bandi_domain::call::Call, report: Option<&StoredReport>) -> Option<Date> {
    report
        .and_then(|r| r.deadline.as_deref())
        .and_then(|d| d.parse().ok())
        .or(call.reporting_deadline)
}

fn passed(
    call: &bandi_domain::call::Call,
    deadline: Option<Date>,
    now: Timestamp,
) -> Option<String> {
    let d = deadline?;
    let today = now.to_zoned_datetime(call.tz()).date();
    (today > d).then(|| d.strftime("%d/%m/%Y").to_string())
}

/// The documents of a report's expenses as the content names them: by line, from the
/// draft's documents (`expense-3-invoice`).
fn attach(content: &mut ReportContent, documents: &[DocumentInfo]) {
    for (i, e) in content.expenses.iter_mut().enumerate() {
        e.documents = [
            bandi_domain::report::INVOICE,
            bandi_domain::report::PROOF_OF_PAYMENT,
        ]
        .into_iter()
        .filter_map(|code| {
            documents
                .iter()
                .find(|d| d.attachment == report_document_code(i, code))
                .map(|d| AttachedDocument {
                    code: code.to_string(),
                    sha256: d.sha256.clone(),
                })
        })
        .collect();
    }
}

/// A funded award whose report is late: no report submitted by its deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateReport {
    pub seq: u64,
    pub protocol: String,
    pub entity: String,
    pub deadline: Date,
}

impl App {
    /// The funded awards of a call whose report is not submitted and whose deadline passed.
    pub async fn late_reports(
        &self,
        actor: &Actor,
        call: &str,
    ) -> Result<Vec<LateReport>, AppError> {
        if !actor.is_official() {
            return Err(AppError::Forbidden);
        }
        let rules = self
            .store()
            .call_rules(call)
            .await?
            .ok_or(AppError::CallNotFound)?;
        let today = Timestamp::now().to_zoned_datetime(rules.tz()).date();
        Ok(self
            .store()
            .awards_reporting(call)
            .await?
            .into_iter()
            .filter(|a| a.state.is_none_or(|s| s.editable()))
            .filter_map(|a| {
                let deadline = a
                    .extended_to
                    .and_then(|d| d.parse().ok())
                    .or(rules.reporting_deadline)?;
                (deadline < today).then_some(LateReport {
                    seq: a.seq,
                    protocol: a.protocol,
                    entity: a.entity_name,
                    deadline,
                })
            })
            .collect())
    }

    async fn report_target(&self, actor: &Actor, which: &Which) -> Result<UnderReview, AppError> {
        let (call, seq) = self.resolve(which).await?;
        let app = self
            .store()
            .under_review(call.as_str(), seq)
            .await?
            .ok_or(AppError::NotFound)?;
        if actor.is_official() || actor.may_act_for(&app.entity) {
            Ok(app)
        } else {
            Err(AppError::NotFound)
        }
    }

    /// A report as its page shows it, for its authority and for officials.
    pub async fn report_view(&self, actor: &Actor, which: &Which) -> Result<ReportView, AppError> {
        let app = self.report_target(actor, which).await?;
        let (call_code, seq) = self.resolve(which).await?;
        let call = self
            .store()
            .call_rules(call_code.as_str())
            .await?
            .ok_or(AppError::CallNotFound)?;
        let report = self.store().report(call_code.as_str(), seq).await?;
        let payments = self.store().payments(call_code.as_str(), seq).await?;
        let paid = payments
            .iter()
            .fold(Money::ZERO, |a, p| a.checked_add(p.amount).unwrap_or(a));
        let deadline = deadline_of(&call, report.as_ref());
        let award = app.reserved;
        let content = report
            .as_ref()
            .map(|r| r.content.clone())
            .unwrap_or_default();
        let documents = match report.as_ref() {
            Some(r) if !r.state.editable() => {
                self.store()
                    .report_documents(
                        (&app.entity, call_code.as_str(), seq),
                        Some((&app.id, r.version)),
                    )
                    .await?
            }
            _ => {
                self.store()
                    .report_documents((&app.entity, call_code.as_str(), seq), None)
                    .await?
            }
        };
        Ok(ReportView {
            totals: totals(&content, &call, award),
            bounds: bounds(&call, &app, award, deadline, true),
            app,
            report,
            deadline,
            paid,
            payments,
            documents,
        })
    }

    /// Saves the report's draft with its files (one per expense's invoice or proof of
    /// payment). Its problems are returned for the form, not refused: a draft may be
    /// incomplete. Refused when the report is not the authority's to change.
    pub async fn save_report(
        &self,
        actor: &Actor,
        which: &Which,
        mut content: ReportContent,
        uploads: Vec<Upload>,
    ) -> Result<ReportSaved, AppError> {
        let app = self.report_target(actor, which).await?;
        if !actor.may_act_for(&app.entity) {
            return Err(AppError::Forbidden);
        }
        reportable(&app).map_err(AppError::Report)?;
        let (call_code, seq) = self.resolve(which).await?;
        let call = self
            .store()
            .call_rules(call_code.as_str())
            .await?
            .ok_or(AppError::CallNotFound)?;
        let report = self.store().report(call_code.as_str(), seq).await?;
        if let Some(r) = &report
            && !r.state.editable()
        {
            return Err(AppError::Report(ReportError::NotEditable(r.state)));
        }
        let deadline = deadline_of(&call, report.as_ref());
        if let Some(d) = passed(&call, deadline, Timestamp::now()) {
            return Err(AppError::Report(ReportError::DeadlinePassed(d)));
        }
        let who = actor.id();
        let mut refused = Vec::new();
        for mut u in uploads {
            let Some((line, _)) = u
                .attachment
                .strip_prefix("expense-")
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(l, c)| Some((l.parse::<usize>().ok()?, c)))
                .filter(|(l, c)| {
                    *l < content.expenses.len()
                        && [
                            bandi_domain::report::INVOICE,
                            bandi_domain::report::PROOF_OF_PAYMENT,
                        ]
                        .contains(c)
                })
            else {
                return Err(AppError::UnknownAttachment(u.attachment));
            };
            let _ = line;
            let kind = match check_upload(&u.head, u.size) {
                Ok(k) => k,
                Err(problem) => {
                    let t = problem.text();
                    refused.push(FieldError::new(
                        format!("attachments.{}", u.attachment),
                        problem.code(),
                        t.it,
                        t.en,
                    ));
                    continue;
                }
            };
            self.store()
                .put_document(
                    NewDocument {
                        entity: &app.entity,
                        call: call_code.as_str(),
                        attachment: &u.attachment,
                        file_name: &clean_file_name(&u.file_name),
                        content_type: kind.content_type(),
                        uploaded_by: &who,
                        integration_request: None,
                        report: Some(seq),
                    },
                    &mut u.bytes,
                )
                .await?;
        }
        let documents = self
            .store()
            .report_documents((&app.entity, call_code.as_str(), seq), None)
            .await?;
        attach(&mut content, &documents);
        // The problems that would refuse its submission, the missing documents among them.
        let b = bounds(&call, &app, app.reserved, deadline, true);
        let problems = check_report(&content, &call, &b).err().unwrap_or_default();
        let t = totals(&content, &call, app.reserved);
        let (json, _) = content.canonical_json_and_sha256();
        self.store()
            .save_report_draft(
                call_code.as_str(),
                seq,
                &json,
                t.claimed,
                t.eligible_claimed,
            )
            .await?
            .map_err(|s| AppError::Report(ReportError::NotEditable(s)))?;
        Ok(ReportSaved {
            totals: t,
            problems,
            refused,
        })
    }

    /// Submits the report's draft: checked whole (documents included), sealed by its
    /// SHA-256 in the ledger with its documents.
    pub async fn submit_report(&self, actor: &Actor, which: &Which) -> Result<Applied, AppError> {
        let app = self.report_target(actor, which).await?;
        if !actor.may_act_for(&app.entity) {
            return Err(AppError::Forbidden);
        }
        let (call_code, seq) = self.resolve(which).await?;
        let documents = self
            .store()
            .report_documents((&app.entity, call_code.as_str(), seq), None)
            .await?;
        let by = Role::Applicant;
        let applied = self
            .store()
            .report_record(call_code.as_str(), seq, &actor.id(), |r: &Reporting<'_>| {
                reportable(r.app).map_err(AppError::Report)?;
                let Some(report) = r.report else {
                    return Err(AppError::Report(ReportError::WrongState {
                        state: ReportState::Draft,
                        action: "submit",
                    }));
                };
                if !report.state.editable() {
                    return Err(AppError::Report(ReportError::NotEditable(report.state)));
                }
                let deadline = deadline_of(r.call, Some(report));
                if let Some(d) = passed(r.call, deadline, r.now) {
                    return Err(AppError::Report(ReportError::DeadlinePassed(d)));
                }
                let mut content = report.content.clone();
                attach(&mut content, &documents);
                let valid = check_report(
                    &content,
                    r.call,
                    &bounds(r.call, r.app, r.award, deadline, true),
                )
                .map_err(AppError::InvalidReport)?;
                let (json, sha) = valid.content.canonical_json_and_sha256();
                Ok(ReportChange {
                    record: Record::ReportSubmitted {
                        call: r.call.code.to_string(),
                        seq,
                        version: report.version + 1,
                        report_sha256: sha,
                        claimed_cents: valid.claimed,
                        eligible_claimed_cents: valid.eligible_claimed,
                        by,
                    },
                    text: None,
                    content_json: Some(json),
                })
            })
            .await?
            .ok_or(AppError::NotFound)??;
        tracing::info!(call = %call_code, seq, by = %actor, "report submitted");
        Ok(applied)
    }

    /// A reviewer's finding on expense `line` of the submitted report.
    pub async fn check_report_expense(
        &self,
        actor: &Actor,
        which: &Which,
        line: usize,
        outcome: ExpenseOutcome,
        partial: Option<Money>,
        reason: &str,
    ) -> Result<Applied, AppError> {
        actor.require(Role::Reviewer)?;
        let by = actor.official().ok_or(AppError::Forbidden)?.role;
        let reason = reason.trim().to_string();
        self.report_action(actor, which, "check", |r| {
            let report = submitted(r.report)?;
            let expense = report
                .content
                .expenses
                .get(line)
                .ok_or(AppError::Report(ReportError::NoSuchExpense(line)))?;
            let accepted =
                check_expense(expense, outcome, partial, &reason).map_err(AppError::Report)?;
            Ok(ReportChange {
                record: Record::ExpenseChecked {
                    call: r.call.code.to_string(),
                    seq: r.app.seq,
                    version: report.version,
                    line: line as u32,
                    outcome,
                    accepted_cents: accepted,
                    reason_sha256: review::text_sha256(&reason),
                    by,
                },
                text: Some(reason.clone()),
                content_json: None,
            })
        })
        .await
    }

    /// The submitted report given back to its authority for an integration.
    pub async fn return_report(
        &self,
        actor: &Actor,
        which: &Which,
        reason: &str,
    ) -> Result<Applied, AppError> {
        actor.require(Role::Reviewer)?;
        let by = actor.official().ok_or(AppError::Forbidden)?.role;
        let reason = review::clean_text(reason).map_err(AppError::Review)?;
        self.report_action(actor, which, "return", |r| {
            let report = submitted(r.report)?;
            Ok(ReportChange {
                record: Record::ReportReturned {
                    call: r.call.code.to_string(),
                    seq: r.app.seq,
                    version: report.version,
                    reason_sha256: review::text_sha256(&reason),
                    by,
                },
                text: Some(reason.clone()),
                content_json: None,
            })
        })
        .await
    }

    /// Closes the verification once every expense has its finding: the final grant, and
    /// what it does not confirm goes back to the call.
    pub async fn close_verification(
        &self,
        actor: &Actor,
        which: &Which,
    ) -> Result<Applied, AppError> {
        actor.require(Role::Reviewer)?;
        let by = actor.official().ok_or(AppError::Forbidden)?.role;
        self.report_action(actor, which, "close", |r| {
            let report = submitted(r.report)?;
            let missing: Vec<usize> = (0..report.content.expenses.len())
                .filter(|i| !report.checks.contains_key(&(*i as u32)))
                .collect();
            if !missing.is_empty() {
                return Err(AppError::Report(ReportError::NotAllChecked(missing)));
            }
            let accepted: Vec<Money> = (0..report.content.expenses.len())
                .map(|i| report.checks[&(i as u32)].1)
                .collect();
            let (verified, grant) = final_grant(r.call, &report.content, &accepted, r.award);
            Ok(ReportChange {
                record: Record::VerificationClosed {
                    call: r.call.code.to_string(),
                    seq: r.app.seq,
                    version: report.version,
                    verified_eligible_cents: verified,
                    final_grant_cents: grant,
                    granted_before_cents: r.award,
                    by,
                },
                text: None,
                content_json: None,
            })
        })
        .await
    }

    /// A payment by an act: an advance (if the call has one) before the verification, the
    /// balance after it; never above what may be paid. Admins only.
    pub async fn record_payment(
        &self,
        actor: &Actor,
        which: &Which,
        kind: PaymentKind,
        amount: Money,
        paid_on: &str,
        act: Act,
    ) -> Result<Applied, AppError> {
        actor.require(Role::Admin)?;
        let by = actor.official().ok_or(AppError::Forbidden)?.role;
        let paid_on: Date = paid_on
            .trim()
            .parse()
            .map_err(|_| AppError::Review(review::ReviewError::InvalidAct))?;
        self.report_action(actor, which, "payment", |r| {
            if r.app.review.state != ReviewState::Admitted {
                return Err(AppError::Report(ReportError::NotReportable));
            }
            let final_grant = r
                .report
                .filter(|rep| rep.state == ReportState::Verified)
                .and_then(|rep| rep.final_grant);
            check_payment(kind, amount, r.call.advance, r.award, final_grant, r.paid)
                .map_err(AppError::Report)?;
            Ok(ReportChange {
                record: Record::PaymentRecorded {
                    call: r.call.code.to_string(),
                    seq: r.app.seq,
                    payment: kind,
                    amount_cents: amount,
                    paid_on: paid_on.to_string(),
                    act: act.clone(),
                    by,
                },
                text: None,
                content_json: None,
            })
        })
        .await
    }

    /// Takes an award back by an act (no report by the deadline, the project not carried
    /// out, a false declaration); its money goes back to the call and the waitlist moves;
    /// what was paid is to be recovered. Admins only.
    pub async fn revoke_award(
        &self,
        actor: &Actor,
        which: &Which,
        reason: &str,
        act: Act,
    ) -> Result<Applied, AppError> {
        actor.require(Role::Admin)?;
        let by = actor.official().ok_or(AppError::Forbidden)?.role;
        let reason = review::clean_text(reason).map_err(AppError::Review)?;
        self.report_action(actor, which, "revoke", |r| {
            if r.app.review.state != ReviewState::Admitted {
                return Err(AppError::Review(review::ReviewError::WrongState {
                    state: r.app.review.state,
                    action: "revoke",
                }));
            }
            Ok(ReportChange {
                record: Record::AwardRevoked {
                    call: r.call.code.to_string(),
                    seq: r.app.seq,
                    reason_sha256: review::text_sha256(&reason),
                    act: act.clone(),
                    by,
                },
                text: Some(reason.clone()),
                content_json: None,
            })
        })
        .await
    }

    /// Moves the report's deadline for this application, with the reason. Admins only.
    pub async fn extend_report_deadline(
        &self,
        actor: &Actor,
        which: &Which,
        until: &str,
        reason: &str,
    ) -> Result<Applied, AppError> {
        actor.require(Role::Admin)?;
        let by = actor.official().ok_or(AppError::Forbidden)?.role;
        let reason = review::clean_text(reason).map_err(AppError::Review)?;
        let until: Date = until
            .trim()
            .parse()
            .map_err(|_| AppError::InvalidDate(until.to_string()))?;
        self.report_action(actor, which, "extend", |r| {
            reportable(r.app).map_err(AppError::Report)?;
            if r.report.is_some_and(|rep| !rep.state.editable()) {
                return Err(AppError::Report(ReportError::NotEditable(
                    r.report.map(|rep| rep.state).unwrap_or(ReportState::Draft),
                )));
            }
            let today = r.now.to_zoned_datetime(r.call.tz()).date();
            if until < today {
                return Err(AppError::InvalidDate(until.to_string()));
            }
            Ok(ReportChange {
                record: Record::ReportDeadlineExtended {
                    call: r.call.code.to_string(),
                    seq: r.app.seq,
                    until: until.to_string(),
                    reason_sha256: review::text_sha256(&reason),
                    by,
                },
                text: Some(reason.clone()),
                content_json: None,
            })
        })
        .await
    }

    async fn report_action(
        &self,
        actor: &Actor,
        which: &Which,
        name: &'static str,
        decide: impl FnOnce(&Reporting<'_>) -> Result<ReportChange, AppError>,
    ) -> Result<Applied, AppError> {
        let (call, seq) = self.resolve(which).await?;
        let applied = self
            .store()
            .report_record(call.as_str(), seq, &actor.id(), decide)
            .await?
            .ok_or(AppError::NotFound)??;
        tracing::info!(call = %call, seq, action = name, by = %actor, "report action");
        Ok(applied)
    }
}

fn submitted(report: Option<&StoredReport>) -> Result<&StoredReport, AppError> {
    match report {
        Some(r) if r.state == ReportState::Submitted => Ok(r),
        Some(r) => Err(AppError::Report(ReportError::WrongState {
            state: r.state,
            action: "verify",
        })),
        None => Err(AppError::Report(ReportError::WrongState {
            state: ReportState::Draft,
            action: "verify",
        })),
    }
}
