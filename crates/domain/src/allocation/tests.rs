use super::*;
use proptest::prelude::*;

fn eur(e: i64) -> Money {
    Money::from_euros(e)
}

fn submit(seq: u64, e: i64) -> Event {
    Event::Submitted {
        seq,
        requested: eur(e),
    }
}

fn statuses(a: &Allocation) -> Vec<(Status, i64)> {
    a.applications()
        .iter()
        .map(|x| (x.status, x.reserved.cents() / 100))
        .collect()
}

#[test]
fn the_2020_story_waitlist_then_more_money() {
    // 2 M€; grants of 105,000 fill 19 places, the 20th waits and so do all after it.
    let mut a = Allocation::new(FitMode::Waitlist, eur(2_000_000));
    for seq in 1..=25 {
        a.apply(&submit(seq, 105_000)).unwrap();
    }
    assert_eq!(a.reserved(), eur(19 * 105_000));
    assert_eq!(a.remaining(), eur(2_000_000 - 19 * 105_000));
    assert_eq!(a.get(19).unwrap().status, Status::Reserved);
    assert_eq!(a.get(20).unwrap().status, Status::Waitlisted);
    // A small one later does not jump the line, although it would fit.
    a.apply(&submit(26, 10_000)).unwrap();
    assert_eq!(a.get(26).unwrap().status, Status::Waitlisted);
    // The Region adds 1.45 M€: the next ones in the ranking are funded, in order.
    a.apply(&Event::BudgetChanged {
        budget: eur(3_450_000),
    })
    .unwrap();
    // 3,450,000 / 105,000 = 32.8: all 25 fit (2,625,000), then 26 (10,000).
    assert!(
        a.applications()
            .iter()
            .all(|x| x.status == Status::Reserved)
    );
    assert_eq!(a.reserved(), eur(25 * 105_000 + 10_000));
}

#[test]
fn freed_money_goes_to_the_first_waiting() {
    let mut a = Allocation::new(FitMode::Waitlist, eur(100));
    for (seq, e) in [(1, 60), (2, 30), (3, 50), (4, 5)] {
        a.apply(&submit(seq, e)).unwrap();
    }
    assert_eq!(
        statuses(&a),
        vec![
            (Status::Reserved, 60),
            (Status::Reserved, 30),
            (Status::Waitlisted, 0),
            (Status::Waitlisted, 0)
        ]
    );
    a.apply(&Event::Withdrawn { seq: 2 }).unwrap();
    // 40 left: 3 (50) still does not fit, and 4 must not jump it.
    assert_eq!(a.get(4).unwrap().status, Status::Waitlisted);
    a.apply(&Event::Reduced {
        seq: 1,
        requested: eur(50),
    })
    .unwrap();
    assert_eq!(
        statuses(&a),
        vec![
            (Status::Reserved, 50),
            (Status::Withdrawn, 0),
            (Status::Reserved, 50),
            (Status::Waitlisted, 0)
        ]
    );
    a.apply(&Event::Revoked { seq: 3 }).unwrap();
    assert_eq!(a.get(4).unwrap().status, Status::Reserved);
    assert_eq!(a.remaining(), eur(45));
}

#[test]
fn partial_mode_gives_what_is_left_and_tops_up_later() {
    let mut a = Allocation::new(FitMode::Partial, eur(100));
    for (seq, e) in [(1, 70), (2, 50), (3, 10)] {
        a.apply(&submit(seq, e)).unwrap();
    }
    assert_eq!(
        statuses(&a),
        vec![
            (Status::Reserved, 70),
            (Status::Partial, 30),
            (Status::Waitlisted, 0)
        ]
    );
    a.apply(&Event::Reduced {
        seq: 1,
        requested: eur(60),
    })
    .unwrap();
    assert_eq!(
        statuses(&a),
        vec![
            (Status::Reserved, 60),
            (Status::Partial, 40),
            (Status::Waitlisted, 0)
        ]
    );
    a.apply(&Event::BudgetChanged { budget: eur(115) }).unwrap();
    assert_eq!(
        statuses(&a),
        vec![
            (Status::Reserved, 60),
            (Status::Reserved, 50),
            (Status::Partial, 5)
        ]
    );
}

#[test]
fn skip_mode_funds_later_ones_that_fit() {
    let mut a = Allocation::new(FitMode::Skip, eur(100));
    for (seq, e) in [(1, 60), (2, 50), (3, 40)] {
        a.apply(&submit(seq, e)).unwrap();
    }
    assert_eq!(
        statuses(&a),
        vec![
            (Status::Reserved, 60),
            (Status::Waitlisted, 0),
            (Status::Reserved, 40)
        ]
    );
    // 1 leaves: 60 are free and 2 (50) is funded; 3 keeps its award.
    a.apply(&Event::Withdrawn { seq: 1 }).unwrap();
    assert_eq!(
        statuses(&a),
        vec![
            (Status::Withdrawn, 0),
            (Status::Reserved, 50),
            (Status::Reserved, 40)
        ]
    );
}

#[test]
fn bad_events_are_refused_and_change_nothing() {
    let mut a = Allocation::new(FitMode::Waitlist, eur(100));
    a.apply(&submit(1, 60)).unwrap();
    a.apply(&submit(2, 60)).unwrap();
    let before = a.clone();
    let bad = [
        (submit(5, 10), "out of order"),
        (submit(1, 10), "out of order"),
        (submit(3, 0), "must be positive"),
        (Event::Withdrawn { seq: 9 }, "does not exist"),
        (Event::Withdrawn { seq: 0 }, "does not exist"),
        (Event::Revoked { seq: 2 }, "only a reserved"),
        (
            Event::Reduced {
                seq: 1,
                requested: eur(60),
            },
            "must lower",
        ),
        (
            Event::Reduced {
                seq: 1,
                requested: eur(0),
            },
            "positive",
        ),
        (
            Event::BudgetChanged { budget: eur(59) },
            "below what is already reserved",
        ),
    ];
    for (event, words) in bad {
        let err = a.apply(&event).unwrap_err();
        assert!(err.to_string().contains(words), "{event:?}: {err}");
        assert_eq!(a, before, "{event:?} changed the state");
    }
    a.apply(&Event::Rejected { seq: 2 }).unwrap();
    let err = a.apply(&Event::Withdrawn { seq: 2 }).unwrap_err();
    assert!(matches!(
        err,
        AllocationError::AlreadyFinal {
            seq: 2,
            status: Status::Rejected
        }
    ));
}

#[test]
fn replay_names_the_first_bad_event() {
    let log = [submit(1, 10), submit(2, 10), Event::Withdrawn { seq: 7 }];
    let (n, err) = Allocation::replay(FitMode::Waitlist, eur(100), &log).unwrap_err();
    assert_eq!(n, 3);
    assert_eq!(err, AllocationError::UnknownApplication(7));
}

/// A generated operation; application numbers are picked among those that exist, so that
/// most events are valid, and some are not on purpose.
#[derive(Debug, Clone)]
enum Op {
    Submit(i64),
    Withdraw(usize),
    Reject(usize),
    Reduce(usize, u8),
    Revoke(usize),
    Budget(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1i64..=150_000).prop_map(Op::Submit),
        1 => any::<usize>().prop_map(Op::Withdraw),
        1 => any::<usize>().prop_map(Op::Reject),
        1 => (any::<usize>(), 1u8..100).prop_map(|(i, p)| Op::Reduce(i, p)),
        1 => any::<usize>().prop_map(Op::Revoke),
        1 => (-300_000i64..=600_000).prop_map(Op::Budget),
    ]
}

fn mode() -> impl Strategy<Value = FitMode> {
    prop_oneof![
        Just(FitMode::Waitlist),
        Just(FitMode::Partial),
        Just(FitMode::Skip)
    ]
}

fn to_event(op: &Op, a: &Allocation) -> Event {
    let n = a.applications().len().max(1);
    let pick = |i: usize| (i % n) as u64 + 1;
    match *op {
        Op::Submit(c) => Event::Submitted {
            seq: a.next_seq(),
            requested: Money::from_cents(c * 100),
        },
        Op::Withdraw(i) => Event::Withdrawn { seq: pick(i) },
        Op::Reject(i) => Event::Rejected { seq: pick(i) },
        Op::Reduce(i, pct) => {
            let seq = pick(i);
            let cur = a.get(seq).map(|x| x.requested.cents()).unwrap_or(100);
            Event::Reduced {
                seq,
                requested: Money::from_cents(cur * i64::from(pct) / 100),
            }
        }
        Op::Revoke(i) => Event::Revoked { seq: pick(i) },
        Op::Budget(d) => Event::BudgetChanged {
            budget: Money::from_cents(a.budget().cents() + d * 100),
        },
    }
}

/// What waitlist mode must give, computed from scratch: live applications in order, each
/// reserved while it fits, and all from the first that does not fit onwards waiting.
fn waitlist_reference(a: &Allocation) -> Vec<(u64, Status, Money)> {
    let mut left = a.budget().cents();
    let mut blocked = false;
    a.applications()
        .iter()
        .map(|x| {
            if x.status.is_final() {
                return (x.seq, x.status, Money::ZERO);
            }
            if !blocked && x.requested.cents() <= left {
                left -= x.requested.cents();
                (x.seq, Status::Reserved, x.requested)
            } else {
                blocked = true;
                (x.seq, Status::Waitlisted, Money::ZERO)
            }
        })
        .collect()
}

fn check_invariants(a: &Allocation, prev: &Allocation, event: &Event) -> Result<(), TestCaseError> {
    let sum: i64 = a.applications().iter().map(|x| x.reserved.cents()).sum();
    prop_assert_eq!(
        sum,
        a.reserved().cents(),
        "reserved is the sum of the parts"
    );
    prop_assert_eq!(
        a.reserved().cents() + a.remaining().cents(),
        a.budget().cents()
    );
    prop_assert!(a.reserved() <= a.budget(), "over-allocated");
    prop_assert!(a.remaining().cents() >= 0);
    for x in a.applications() {
        prop_assert!(x.reserved <= x.requested);
        prop_assert!(x.reserved.cents() >= 0);
        let status_matches = match x.status {
            Status::Reserved => x.reserved == x.requested,
            Status::Partial => x.reserved.is_positive() && x.reserved < x.requested,
            Status::Waitlisted => x.reserved == Money::ZERO,
            _ => x.reserved == Money::ZERO,
        };
        prop_assert!(status_matches, "{:?}", x);
    }
    // An award is a commitment: only the application's own event lowers it.
    let target = match *event {
        Event::Withdrawn { seq }
        | Event::Rejected { seq }
        | Event::Reduced { seq, .. }
        | Event::Revoked { seq } => Some(seq),
        _ => None,
    };
    for old in prev.applications() {
        let new = a.get(old.seq).unwrap();
        if Some(old.seq) != target {
            prop_assert!(
                new.reserved >= old.reserved,
                "{:?} lowered {:?} -> {:?}",
                event,
                old,
                new
            );
        }
    }
    let waiting: Vec<&AppAllocation> = a
        .applications()
        .iter()
        .filter(|x| matches!(x.status, Status::Waitlisted | Status::Partial))
        .collect();
    prop_assert_eq!(a.waitlisted_count(), waiting.len(), "the waiting counter");
    match a.mode() {
        FitMode::Waitlist => {
            let got: Vec<(u64, Status, Money)> = a
                .applications()
                .iter()
                .map(|x| (x.seq, x.status, x.reserved))
                .collect();
            prop_assert_eq!(got, waitlist_reference(a));
        }
        FitMode::Partial => {
            // Whoever waits, nothing is left idle, and only the first waiting holds a part.
            if !waiting.is_empty() {
                prop_assert_eq!(a.remaining(), Money::ZERO);
            }
            prop_assert!(
                waiting
                    .iter()
                    .skip(1)
                    .all(|x| x.status == Status::Waitlisted)
            );
            if let Some(first) = waiting.first() {
                let later_reserved = a
                    .applications()
                    .iter()
                    .any(|x| x.seq > first.seq && x.reserved.is_positive());
                prop_assert!(!later_reserved, "an application jumped the line");
            }
        }
        FitMode::Skip => {
            for w in &waiting {
                prop_assert!(
                    w.requested > a.remaining(),
                    "{:?} fits in {} but waits",
                    w,
                    a.remaining()
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Random logs in every mode: the invariants of docs/design.md, section 4 hold after every
    /// event, refused events change nothing, and replaying the accepted log gives the same
    /// state.
    #[test]
    fn the_fold_keeps_its_promises(
        mode in mode(),
        budget in 1i64..=2_000_000,
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        let mut a = Allocation::new(mode, Money::from_euros(budget));
        let mut log = Vec::new();
        for op in &ops {
            let event = to_event(op, &a);
            let prev = a.clone();
            match a.apply(&event) {
                Ok(()) => {
                    log.push(event.clone());
                    check_invariants(&a, &prev, &event)?;
                }
                Err(_) => prop_assert_eq!(&a, &prev, "a refused event changed the state"),
            }
        }
        let replayed = Allocation::replay(mode, Money::from_euros(budget), &log).unwrap();
        prop_assert_eq!(&replayed, &a);
        prop_assert_eq!(replayed.events(), log.len() as u64);
    }
}

#[test]
fn a_million_applications_replay() {
    // Not a timing: a check that replay is linear enough to finish at all in a debug test.
    let log: Vec<Event> = (1..=200_000)
        .map(|s| submit(s, 10_000 + (s as i64 % 90_000)))
        .collect();
    for mode in [FitMode::Waitlist, FitMode::Partial, FitMode::Skip] {
        let a = Allocation::replay(mode, eur(2_000_000), &log).unwrap();
        assert_eq!(a.applications().len(), 200_000);
        assert!(a.reserved() <= eur(2_000_000));
    }
}
