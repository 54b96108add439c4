//! The allocation engine: a pure fold over a call's ordered event log.
//!
//! Applications are numbered 1, 2, 3... in the order the platform accepted them (their
//! protocol sequence). After every event the fold reserves what it can for the waiting
//! applications according to the call's [`FitMode`]. An amount once reserved is a
//! commitment: only the application's own reduction, withdrawal, rejection or revocation
//! lowers it. An event that would break a rule is refused and changes nothing.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::call::FitMode;
use crate::money::Money;

/// One event of a call's log, in the order it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Application number `seq` asks for `requested`; `seq` must be the next number.
    Submitted {
        seq: u64,
        requested: Money,
    },
    Withdrawn {
        seq: u64,
    },
    /// Found inadmissible after review.
    Rejected {
        seq: u64,
    },
    /// The grant asked for is lowered to `requested` (e.g. after the review cut costs).
    Reduced {
        seq: u64,
        requested: Money,
    },
    /// An award taken back.
    Revoked {
        seq: u64,
    },
    /// The call's budget becomes `budget` (the Region added 1.45 M€ in 2020).
    BudgetChanged {
        budget: Money,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Reserved,
    Partial,
    Waitlisted,
    Withdrawn,
    Rejected,
    Revoked,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Reserved,
        Status::Partial,
        Status::Waitlisted,
        Status::Withdrawn,
        Status::Rejected,
        Status::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Reserved => "reserved",
            Status::Partial => "partial",
            Status::Waitlisted => "waitlisted",
            Status::Withdrawn => "withdrawn",
            Status::Rejected => "rejected",
            Status::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Withdrawn, rejected and revoked applications take no further part.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Withdrawn | Status::Rejected | Status::Revoked)
    }
}

/// What a new application gets when it arrives, by the call's rule: `remaining` is what
/// is left of the budget, `anyone_waiting` whether an earlier application still waits for
/// (part of) its money. Nobody jumps the queue: in waitlist and partial modes a newcomer
/// behind someone waiting waits too. The fold applies this to every submission, and the
/// one-transaction baseline of the benchmarks applies it to its counters.
pub fn newcomer_standing(
    mode: FitMode,
    remaining: Money,
    anyone_waiting: bool,
    requested: Money,
) -> (Status, Money) {
    let fits = requested <= remaining;
    match mode {
        FitMode::Skip if fits => (Status::Reserved, requested),
        FitMode::Waitlist | FitMode::Partial if !anyone_waiting && fits => {
            (Status::Reserved, requested)
        }
        FitMode::Partial if !anyone_waiting && remaining.is_positive() => {
            (Status::Partial, remaining)
        }
        _ => (Status::Waitlisted, Money::ZERO),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AppAllocation {
    pub seq: u64,
    pub requested: Money,
    pub reserved: Money,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("application {got} submitted out of order: the next number is {expected}")]
    OutOfOrder { expected: u64, got: u64 },
    #[error("application {0} does not exist")]
    UnknownApplication(u64),
    #[error("application {seq} is already {status}", status = .status.as_str())]
    AlreadyFinal { seq: u64, status: Status },
    #[error("only a reserved application can be revoked; {seq} is {status}", status = .status.as_str())]
    NotAwarded { seq: u64, status: Status },
    #[error("a reduction must lower the request of application {seq}: {from} → {to}")]
    NotAReduction { seq: u64, from: Money, to: Money },
    #[error("amounts must be positive, got {0}")]
    NotPositive(Money),
    #[error("the budget cannot go below what is already reserved ({reserved}); asked {budget}")]
    BudgetBelowReserved { budget: Money, reserved: Money },
    #[error("amount overflow")]
    Overflow,
}

/// The state of a call's allocation after a prefix of its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    mode: FitMode,
    budget: Money,
    reserved: Money,
    apps: Vec<AppAllocation>,
    /// Numbers of applications still waiting for (part of) their money, in order. Final
    /// ones are dropped lazily when met.
    waiting: VecDeque<u64>,
    /// Applications waiting for all or part of their money (waitlisted or partial).
    waiting_count: usize,
    events: u64,
}

impl Allocation {
    pub fn new(mode: FitMode, budget: Money) -> Allocation {
        Allocation {
            mode,
            budget,
            reserved: Money::ZERO,
            apps: Vec::new(),
            waiting: VecDeque::new(),
            waiting_count: 0,
            events: 0,
        }
    }

    /// Replays a whole log.
    pub fn replay<'a>(
        mode: FitMode,
        budget: Money,
        events: impl IntoIterator<Item = &'a Event>,
    ) -> Result<Allocation, (u64, AllocationError)> {
        let mut a = Allocation::new(mode, budget);
        for e in events {
            let n = a.events + 1;
            a.apply(e).map_err(|err| (n, err))?;
        }
        Ok(a)
    }

    pub fn budget(&self) -> Money {
        self.budget
    }

    pub fn reserved(&self) -> Money {
        self.reserved
    }

    pub fn remaining(&self) -> Money {
        Money::from_cents(self.budget.cents() - self.reserved.cents())
    }

    pub fn mode(&self) -> FitMode {
        self.mode
    }

    /// How many events have been applied.
    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn applications(&self) -> &[AppAllocation] {
        &self.apps
    }

    pub fn get(&self, seq: u64) -> Option<&AppAllocation> {
        seq.checked_sub(1).and_then(|i| self.apps.get(i as usize))
    }

    pub fn next_seq(&self) -> u64 {
        self.apps.len() as u64 + 1
    }

    /// Applications waiting for all or part of their money (waitlisted or partial).
    pub fn waitlisted_count(&self) -> usize {
        self.waiting_count
    }

    /// Applies one event, or refuses it and changes nothing.
    pub fn apply(&mut self, event: &Event) -> Result<(), AllocationError> {
        match *event {
            Event::Submitted { seq, requested } => {
                if seq != self.next_seq() {
                    return Err(AllocationError::OutOfOrder {
                        expected: self.next_seq(),
                        got: seq,
                    });
                }
                if !requested.is_positive() {
                    return Err(AllocationError::NotPositive(requested));
                }
                let (status, granted) = newcomer_standing(
                    self.mode,
                    self.remaining(),
                    self.waiting_count > 0,
                    requested,
                );
                self.apps.push(AppAllocation {
                    seq,
                    requested,
                    reserved: granted,
                    status,
                });
                self.reserved = Money::from_cents(self.reserved.cents() + granted.cents());
                if status != Status::Reserved {
                    self.waiting.push_back(seq);
                    self.waiting_count += 1;
                }
                // Nothing was freed: nobody before it can be served now.
                self.events += 1;
                return Ok(());
            }
            Event::Withdrawn { seq } => self.finish(seq, Status::Withdrawn)?,
            Event::Rejected { seq } => self.finish(seq, Status::Rejected)?,
            Event::Revoked { seq } => {
                let app = self.live(seq)?;
                if app.status != Status::Reserved && app.status != Status::Partial {
                    return Err(AllocationError::NotAwarded {
                        seq,
                        status: app.status,
                    });
                }
                self.finish(seq, Status::Revoked)?;
            }
            Event::Reduced { seq, requested } => {
                let app = *self.live(seq)?;
                if !requested.is_positive() {
                    return Err(AllocationError::NotPositive(requested));
                }
                if requested >= app.requested {
                    return Err(AllocationError::NotAReduction {
                        seq,
                        from: app.requested,
                        to: requested,
                    });
                }
                let idx = (seq - 1) as usize;
                let freed = app.reserved.cents() - app.reserved.cents().min(requested.cents());
                self.apps[idx].requested = requested;
                self.apps[idx].reserved = Money::from_cents(app.reserved.cents() - freed);
                self.reserved = Money::from_cents(self.reserved.cents() - freed);
                if self.apps[idx].reserved == requested {
                    self.set_status(idx, Status::Reserved);
                }
            }
            Event::BudgetChanged { budget } => {
                if budget < self.reserved {
                    return Err(AllocationError::BudgetBelowReserved {
                        budget,
                        reserved: self.reserved,
                    });
                }
                if budget > Money::MAX_AMOUNT {
                    return Err(AllocationError::Overflow);
                }
                self.budget = budget;
            }
        }
        self.events += 1;
        self.fill();
        Ok(())
    }

    fn live(&self, seq: u64) -> Result<&AppAllocation, AllocationError> {
        let app = self
            .get(seq)
            .ok_or(AllocationError::UnknownApplication(seq))?;
        if app.status.is_final() {
            return Err(AllocationError::AlreadyFinal {
                seq,
                status: app.status,
            });
        }
        Ok(app)
    }

    fn finish(&mut self, seq: u64, status: Status) -> Result<(), AllocationError> {
        let app = *self.live(seq)?;
        let idx = (seq - 1) as usize;
        self.reserved = Money::from_cents(self.reserved.cents() - app.reserved.cents());
        self.apps[idx].reserved = Money::ZERO;
        self.set_status(idx, status);
        Ok(())
    }

    /// Gives what is left to the waiting applications, by the call's rule.
    fn fill(&mut self) {
        match self.mode {
            FitMode::Waitlist | FitMode::Partial => {
                while let Some(&seq) = self.waiting.front() {
                    let idx = (seq - 1) as usize;
                    let app = self.apps[idx];
                    if app.status.is_final() || app.reserved == app.requested {
                        if app.reserved == app.requested && !app.status.is_final() {
                            self.set_status(idx, Status::Reserved);
                        }
                        self.waiting.pop_front();
                        continue;
                    }
                    let missing = app.requested.cents() - app.reserved.cents();
                    let remaining = self.remaining().cents();
                    if missing <= remaining {
                        self.grant(idx, missing);
                        self.set_status(idx, Status::Reserved);
                        self.waiting.pop_front();
                    } else {
                        if self.mode == FitMode::Partial && remaining > 0 {
                            self.grant(idx, remaining);
                            self.set_status(idx, Status::Partial);
                        }
                        break;
                    }
                }
            }
            FitMode::Skip => {
                let mut still_waiting = VecDeque::with_capacity(self.waiting.len());
                while let Some(seq) = self.waiting.pop_front() {
                    let idx = (seq - 1) as usize;
                    let app = self.apps[idx];
                    if app.status.is_final() {
                        continue;
                    }
                    let missing = app.requested.cents() - app.reserved.cents();
                    if missing <= self.remaining().cents() {
                        self.grant(idx, missing);
                        self.set_status(idx, Status::Reserved);
                    } else {
                        still_waiting.push_back(seq);
                    }
                }
                self.waiting = still_waiting;
            }
        }
    }

    fn set_status(&mut self, idx: usize, status: Status) {
        let waits = |s: Status| matches!(s, Status::Waitlisted | Status::Partial);
        let old = self.apps[idx].status;
        match (waits(old), waits(status)) {
            (true, false) => self.waiting_count -= 1,
            (false, true) => self.waiting_count += 1,
            _ => {}
        }
        self.apps[idx].status = status;
    }

    fn grant(&mut self, idx: usize, cents: i64) {
        self.apps[idx].reserved = Money::from_cents(self.apps[idx].reserved.cents() + cents);
        self.reserved = Money::from_cents(self.reserved.cents() + cents);
    }
}

#[cfg(test)]
mod tests;
