//! The report's verification: each expense accepted, accepted in part or refused with a
//! reason; the final grant = min(award, the call's grant of the verified eligible cost,
//! with its caps and category shares); payments that never exceed it; revocations.

use serde::{Deserialize, Serialize};

use super::{Expense, ReportContent};
use crate::application::{ApplicationContent, BudgetLine, eligible_cost_of};
use crate::call::Call;
use crate::i18n::Text;
use crate::money::{Money, Rate};

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Being written by the authority (or given back to it).
    Draft,
    Submitted,
    /// Given back for an integration: the authority changes it and submits it again.
    Returned,
    Verified,
}

impl ReportState {
    pub const ALL: [ReportState; 4] = [
        ReportState::Draft,
        ReportState::Submitted,
        ReportState::Returned,
        ReportState::Verified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Draft => "draft",
            ReportState::Submitted => "submitted",
            ReportState::Returned => "returned",
            ReportState::Verified => "verified",
        }
    }

    pub fn parse(s: &str) -> Option<ReportState> {
        ReportState::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> Text {
        match self {
            ReportState::Draft => Text::new("Rendiconto in compilazione", "Report being written"),
            ReportState::Submitted => Text::new("Rendiconto presentato", "Report submitted"),
            ReportState::Returned => Text::new(
                "Rendiconto da integrare",
                "Report returned for an integration",
            ),
            ReportState::Verified => Text::new("Rendiconto verificato", "Report verified"),
        }
    }

    /// Whether the authority may change it.
    pub fn editable(self) -> bool {
        matches!(self, ReportState::Draft | ReportState::Returned)
    }
}

/// A reviewer's finding on one expense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpenseOutcome {
    Accepted,
    /// Accepted for part of its amount.
    Partial,
    Refused,
}

impl ExpenseOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpenseOutcome::Accepted => "accepted",
            ExpenseOutcome::Partial => "partial",
            ExpenseOutcome::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<ExpenseOutcome> {
        [
            ExpenseOutcome::Accepted,
            ExpenseOutcome::Partial,
            ExpenseOutcome::Refused,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }

    pub fn label(self) -> Text {
        match self {
            ExpenseOutcome::Accepted => Text::new("Ammessa", "Accepted"),
            ExpenseOutcome::Partial => Text::new("Ammessa in parte", "Accepted in part"),
            ExpenseOutcome::Refused => Text::new("Non ammessa", "Refused"),
        }
    }
}

/// How a payment counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    /// Before the verification, up to the call's share of the award.
    Advance,
    /// After the verification, up to the final grant.
    Balance,
}

impl PaymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentKind::Advance => "advance",
            PaymentKind::Balance => "balance",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentKind> {
        [PaymentKind::Advance, PaymentKind::Balance]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn label(self) -> Text {
        match self {
            PaymentKind::Advance => Text::new("Anticipo", "Advance"),
            PaymentKind::Balance => Text::new("Saldo", "Balance"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("the report is {0:?}: it cannot be changed")]
    NotEditable(ReportState),
    #[error("the report is {state:?}: it cannot be {action}")]
    WrongState {
        state: ReportState,
        action: &'static str,
    },
    #[error("expense {0} does not exist")]
    NoSuchExpense(usize),
    #[error("an amount accepted in part lies between zero and the expense's amount")]
    PartialOutOfRange { amount: Money },
    #[error("a reason is needed")]
    ReasonRequired,
    #[error("expenses not checked yet: {0:?}")]
    NotAllChecked(Vec<usize>),
    #[error("the amount must be above zero")]
    NotPositive,
    #[error("the payment would exceed what may be paid ({allowed})")]
    AbovePayable { allowed: Money },
    #[error("the call provides no advance")]
    NoAdvance,
    #[error("the deadline for the report passed on {0}")]
    DeadlinePassed(String),
    #[error("only a funded application with its CUP reports its expenses")]
    NotReportable,
}

impl ReportError {
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::NotEditable(_) => "report_not_editable",
            ReportError::WrongState { .. } => "report_wrong_state",
            ReportError::NoSuchExpense(_) => "no_such_expense",
            ReportError::PartialOutOfRange { .. } => "partial_out_of_range",
            ReportError::ReasonRequired => "reason_required",
            ReportError::NotAllChecked(_) => "expenses_not_checked",
            ReportError::NotPositive => "not_positive",
            ReportError::AbovePayable { .. } => "above_payable",
            ReportError::NoAdvance => "no_advance",
            ReportError::DeadlinePassed(_) => "report_deadline_passed",
            ReportError::NotReportable => "not_reportable",
        }
    }

    /// A state that does not allow it (409) rather than input that is wrong (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            ReportError::NotEditable(_)
                | ReportError::WrongState { .. }
                | ReportError::NotAllChecked(_)
                | ReportError::AbovePayable { .. }
                | ReportError::NoAdvance
                | ReportError::DeadlinePassed(_)
                | ReportError::NotReportable
        )
    }

    pub fn text(&self) -> Text {
        use crate::i18n::Locale::En;
        match self {
            ReportError::NotEditable(s) => Text::new(
                format!(
                    "Il rendiconto è nello stato «{}»: non si può modificare.",
                    s.label().it
                ),
                format!("The report is «{}»: it cannot be changed.", s.label().en),
            ),
            ReportError::WrongState { state, action } => Text::new(
                format!(
                    "Il rendiconto è nello stato «{}»: l'operazione «{action}» non è possibile.",
                    state.label().it
                ),
                format!(
                    "The report is «{}»: «{action}» is not possible.",
                    state.label().en
                ),
            ),
            ReportError::NoSuchExpense(n) => Text::new(
                format!("La spesa {} non esiste.", n + 1),
                format!("Expense {} does not exist.", n + 1),
            ),
            ReportError::PartialOutOfRange { amount } => Text::new(
                format!(
                    "L'importo ammesso in parte deve essere maggiore di zero e minore di {amount}."
                ),
                format!(
                    "The amount accepted in part must be above zero and below {}.",
                    amount.in_locale(En)
                ),
            ),
            ReportError::ReasonRequired => Text::new(
                "Scrivere la motivazione: è comunicata all'ente.",
                "Write the reason: it is sent to the body.",
            ),
            ReportError::NotAllChecked(lines) => Text::new(
                format!(
                    "Prima di chiudere la verifica esaminare tutte le spese; mancano: {}.",
                    lines
                        .iter()
                        .map(|l| (l + 1).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!(
                    "Check every expense before closing the verification; missing: {}.",
                    lines
                        .iter()
                        .map(|l| (l + 1).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            ReportError::NotPositive => Text::new(
                "L'importo deve essere maggiore di zero.",
                "The amount must be above zero.",
            ),
            ReportError::AbovePayable { allowed } => Text::new(
                format!("Il pagamento supererebbe quanto si può ancora pagare ({allowed})."),
                format!(
                    "The payment would exceed what may still be paid ({}).",
                    allowed.in_locale(En)
                ),
            ),
            ReportError::NoAdvance => Text::new(
                "Il bando non prevede anticipi: si paga il saldo dopo la verifica del rendiconto.",
                "The call provides no advance: the balance is paid after the report's verification.",
            ),
            ReportError::DeadlinePassed(d) => Text::new(
                format!(
                    "Il termine per il rendiconto è scaduto il {d}: può prorogarlo l'ufficio regionale."
                ),
                format!("The report's deadline passed on {d}: the Region's office can extend it."),
            ),
            ReportError::NotReportable => Text::new(
                "Si rendiconta solo una domanda ammessa, finanziata e con il CUP registrato.",
                "Only an admitted, funded application with its CUP reports its expenses.",
            ),
        }
    }
}

/// A reviewer's finding checked: the amount it accepts.
pub fn check_expense(
    expense: &Expense,
    outcome: ExpenseOutcome,
    partial: Option<Money>,
    reason: &str,
) -> Result<Money, ReportError> {
    let reason_given = !reason.trim().is_empty();
    match outcome {
        ExpenseOutcome::Accepted => Ok(expense.amount_cents),
        ExpenseOutcome::Partial => {
            let amount = partial.unwrap_or(Money::ZERO);
            if !amount.is_positive() || amount >= expense.amount_cents {
                return Err(ReportError::PartialOutOfRange {
                    amount: expense.amount_cents,
                });
            }
            if !reason_given {
                return Err(ReportError::ReasonRequired);
            }
            Ok(amount)
        }
        ExpenseOutcome::Refused => {
            if !reason_given {
                return Err(ReportError::ReasonRequired);
            }
            Ok(Money::ZERO)
        }
    }
}

/// The verified eligible cost and the final grant: the call's rules (category shares,
/// rate, cap) applied to what was accepted of each expense, never above the award.
pub fn final_grant(
    call: &Call,
    report: &ReportContent,
    accepted: &[Money],
    award: Money,
) -> (Money, Money) {
    let content = ApplicationContent {
        lines: report
            .expenses
            .iter()
            .zip(accepted)
            .map(|(e, a)| BudgetLine {
                category: e.category.clone(),
                description: String::new(),
                amount_cents: *a,
                service: None,
            })
            .collect(),
        ..ApplicationContent::default()
    };
    let (eligible, _) = eligible_cost_of(&content, call);
    (eligible, call.grant_for(eligible).min(award))
}

/// What may still be paid with a payment of `kind`: an advance up to the call's share of
/// the award before the verification; the balance up to the final grant after it.
pub fn payable(
    kind: PaymentKind,
    advance: Option<Rate>,
    award: Money,
    final_grant: Option<Money>,
    paid: Money,
) -> Result<Money, ReportError> {
    let ceiling = match (kind, final_grant) {
        (PaymentKind::Advance, Some(_)) => {
            return Err(ReportError::WrongState {
                state: ReportState::Verified,
                action: "advance",
            });
        }
        (PaymentKind::Advance, None) => {
            let share = advance.ok_or(ReportError::NoAdvance)?;
            award.apply_rate_floor(share)
        }
        (PaymentKind::Balance, Some(f)) => f,
        (PaymentKind::Balance, None) => {
            return Err(ReportError::WrongState {
                state: ReportState::Submitted,
                action: "balance",
            });
        }
    };
    Ok(ceiling
        .checked_sub(paid)
        .unwrap_or(Money::ZERO)
        .max(Money::ZERO))
}

/// A payment checked against what may still be paid.
pub fn check_payment(
    kind: PaymentKind,
    amount: Money,
    advance: Option<Rate>,
    award: Money,
    final_grant: Option<Money>,
    paid: Money,
) -> Result<(), ReportError> {
    if !amount.is_positive() {
        return Err(ReportError::NotPositive);
    }
    let allowed = payable(kind, advance, award, final_grant, paid)?;
    if amount > allowed {
        return Err(ReportError::AbovePayable { allowed });
    }
    Ok(())
}
