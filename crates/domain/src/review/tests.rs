use proptest::prelude::*;

use super::*;
use crate::allocation::{Allocation, Event};
use crate::application::{BudgetLine, IndicatorValue};
use crate::call::FitMode;

const CALL: &str = include_str!("../../../../calls/er-2020-smart-working.toml");

fn call() -> Call {
    Call::from_toml(CALL).unwrap()
}

fn content(lines: &[(&str, i64)]) -> ApplicationContent {
    ApplicationContent {
        title: "Lavoro agile".into(),
        summary: String::new(),
        lines: lines
            .iter()
            .map(|(c, e)| BudgetLine {
                category: c.to_string(),
                description: String::new(),
                amount_cents: Money::from_euros(*e),
                service: None,
            })
            .collect(),
        indicators: [("staff_total".to_string(), IndicatorValue::Integer(10))]
            .into_iter()
            .collect(),
        attachments: vec![],
        practices: vec![],
    }
}

fn reviewer(id: &str) -> Official {
    Official {
        id: id.into(),
        role: Role::Reviewer,
    }
}

fn admin(id: &str) -> Official {
    Official {
        id: id.into(),
        role: Role::Admin,
    }
}

fn now() -> Timestamp {
    "2020-05-04T08:00:00Z".parse().unwrap()
}

fn app<'a>(call: &'a Call, content: &'a ApplicationContent) -> Reviewed<'a> {
    let (eligible, _) = eligible_cost_of(content, call);
    Reviewed {
        call,
        seq: 7,
        content,
        eligible,
        requested: call.grant_for(eligible),
        status: Status::Reserved,
    }
}

fn reason(s: &str) -> String {
    s.to_string()
}

#[test]
fn one_reviewer_holds_an_application_and_only_an_admin_takes_it_over() {
    let call = call();
    let c = content(&[("training", 75_000)]);
    let a = app(&call, &c);
    let r = Review::new();
    // Deciding before taking: refused.
    let admit = Action::Admit {
        reason: reason("ok"),
    };
    assert_eq!(
        decide(&r, &a, &reviewer("anna"), &admit, now()),
        Err(ReviewError::NotHeld)
    );
    let taken = decide(
        &r,
        &a,
        &reviewer("anna"),
        &Action::Take { takeover: false },
        now(),
    )
    .unwrap();
    assert_eq!(taken.review.holder.as_deref(), Some("anna"));
    assert_eq!(taken.review.state, ReviewState::InReview);
    let r = taken.review;
    // A second reviewer sees who holds it, cannot take it over; an admin can.
    assert_eq!(
        decide(
            &r,
            &a,
            &reviewer("bruno"),
            &Action::Take { takeover: false },
            now()
        ),
        Err(ReviewError::HeldByAnother {
            holder: "anna".into()
        })
    );
    assert_eq!(
        decide(
            &r,
            &a,
            &reviewer("bruno"),
            &Action::Take { takeover: true },
            now()
        ),
        Err(ReviewError::TakeoverNotAllowed)
    );
    assert_eq!(
        decide(
            &r,
            &a,
            &reviewer("bruno"),
            &Action::Reject {
                reason: reason("no")
            },
            now()
        ),
        Err(ReviewError::HeldByAnother {
            holder: "anna".into()
        })
    );
    let over = decide(
        &r,
        &a,
        &admin("carla"),
        &Action::Take { takeover: true },
        now(),
    )
    .unwrap();
    assert_eq!(over.review.holder.as_deref(), Some("carla"));
    assert!(matches!(
        over.record,
        Record::ApplicationTaken {
            takeover: true,
            by: Role::Admin,
            ..
        }
    ));
}

#[test]
fn admission_needs_every_checklist_item_passed_and_a_reason() {
    let call = call();
    let c = content(&[("training", 75_000)]);
    let a = app(&call, &c);
    let me = reviewer("anna");
    let mut r = decide(
        &Review::new(),
        &a,
        &me,
        &Action::Take { takeover: false },
        now(),
    )
    .unwrap()
    .review;
    let admit = Action::Admit {
        reason: reason("Ammissibile."),
    };
    match decide(&r, &a, &me, &admit, now()) {
        Err(ReviewError::ChecklistIncomplete { missing }) => assert_eq!(missing.len(), 4),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        decide(
            &r,
            &a,
            &me,
            &Action::Check {
                item: "nope".into(),
                passed: true,
                note: String::new()
            },
            now()
        ),
        Err(ReviewError::UnknownItem("nope".into()))
    );
    // A failed item needs a note; a passed one does not.
    assert_eq!(
        decide(
            &r,
            &a,
            &me,
            &Action::Check {
                item: "three_parts".into(),
                passed: false,
                note: " ".into()
            },
            now()
        ),
        Err(ReviewError::EmptyText)
    );
    for item in [
        "eligible_body",
        "three_parts",
        "costs_eligible",
        "approving_act",
    ] {
        let d = decide(
            &r,
            &a,
            &me,
            &Action::Check {
                item: item.into(),
                passed: true,
                note: String::new(),
            },
            now(),
        )
        .unwrap();
        r = d.review;
    }
    assert_eq!(
        decide(
            &r,
            &a,
            &me,
            &Action::Admit {
                reason: "  ".into()
            },
            now()
        ),
        Err(ReviewError::EmptyText)
    );
    let d = decide(&r, &a, &me, &admit, now()).unwrap();
    assert_eq!(d.review.state, ReviewState::Admitted);
    assert_eq!(d.text.as_deref(), Some("Ammissibile."));
    match d.record {
        Record::ApplicationAdmitted {
            reason_sha256, by, ..
        } => {
            assert_eq!(reason_sha256, text_sha256("Ammissibile."));
            assert_eq!(by, Role::Reviewer);
        }
        other => panic!("{other:?}"),
    }
    // Decided: no other decision but a reduction by an admin, a withdrawal, a CUP.
    let r = d.review;
    assert!(matches!(
        decide(
            &r,
            &a,
            &me,
            &Action::Reject {
                reason: reason("no")
            },
            now()
        ),
        Err(ReviewError::WrongState { .. })
    ));
    let cup = Cup::parse("e11b20000450002").unwrap();
    let with_cup = decide(&r, &a, &me, &Action::RecordCup { cup: cup.clone() }, now()).unwrap();
    assert_eq!(with_cup.review.cup, Some(cup));
}

#[test]
fn reductions_recompute_the_grant_by_the_calls_rules() {
    let call = call();
    // 150,000 €: the grant is capped at 105,000 €.
    let c = content(&[
        ("training", 50_000),
        ("technology", 80_000),
        ("devices", 20_000),
    ]);
    let a = app(&call, &c);
    assert_eq!(a.requested, Money::from_euros(105_000));
    let me = reviewer("anna");
    let r = decide(
        &Review::new(),
        &a,
        &me,
        &Action::Take { takeover: false },
        now(),
    )
    .unwrap()
    .review;
    // Down to 140,000 € of eligible cost: still above the cap's 150,000 €? No: 70% of
    // 140,000 is 98,000.
    let d = decide(
        &r,
        &a,
        &me,
        &Action::Reduce {
            cuts: Cuts::Lines(vec![(1, Money::from_euros(70_000))]),
            reason: reason("Una voce non è documentata."),
        },
        now(),
    )
    .unwrap();
    assert_eq!(
        d.amounts,
        Some((Money::from_euros(140_000), Money::from_euros(98_000)))
    );
    match &d.record {
        Record::ApplicationReduced {
            requested_before_cents,
            requested_cents,
            lines,
            ..
        } => {
            assert_eq!(*requested_before_cents, Money::from_euros(105_000));
            assert_eq!(*requested_cents, Money::from_euros(98_000));
            assert_eq!(
                lines,
                &vec![LineAdmitted {
                    line: 1,
                    admitted_cents: Money::from_euros(70_000)
                }]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        d.record.allocation_event(),
        Some(Event::Reduced {
            seq: 7,
            requested: Money::from_euros(98_000)
        })
    );
    // The devices' 20% share cap applies to the new total: cutting technology also cuts
    // what devices may take.
    let d = decide(
        &r,
        &a,
        &me,
        &Action::Reduce {
            cuts: Cuts::Lines(vec![(1, Money::from_euros(0))]),
            reason: reason("Tecnologia non ammissibile."),
        },
        now(),
    )
    .unwrap();
    // 50,000 uncapped; devices admitted up to 25% of the rest: 12,500.
    assert_eq!(
        d.amounts,
        Some((Money::from_euros(62_500), Money::from_euros(43_750)))
    );
    // Refusals: above the line, no such line, no change, below the minimum.
    for (cuts, err) in [
        (
            Cuts::Lines(vec![(0, Money::from_euros(60_000))]),
            "cut_above_line",
        ),
        (Cuts::Lines(vec![(9, Money::from_euros(1))]), "no_such_line"),
        (
            Cuts::Lines(vec![(0, Money::from_euros(50_000))]),
            "not_a_reduction",
        ),
        (Cuts::Total(Money::from_euros(150_000)), "not_a_reduction"),
        (Cuts::Total(Money::ZERO), "nothing_eligible"),
    ] {
        let got = decide(
            &r,
            &a,
            &me,
            &Action::Reduce {
                cuts,
                reason: reason("x"),
            },
            now(),
        );
        assert_eq!(got.map_err(|e| e.code()), Err(err));
    }
    // A total cut that leaves the grant at its cap is recorded, and moves no money.
    let d = decide(
        &r,
        &a,
        &me,
        &Action::Reduce {
            cuts: Cuts::Total(Money::from_euros(149_000)),
            reason: reason("x"),
        },
        now(),
    )
    .unwrap();
    assert_eq!(
        d.amounts,
        Some((Money::from_euros(149_000), Money::from_euros(104_300)))
    );
}

#[test]
fn integration_requests_have_one_open_at_a_time_and_a_deadline() {
    let call = call();
    let c = content(&[("training", 75_000)]);
    let a = app(&call, &c);
    let me = reviewer("anna");
    let r = decide(
        &Review::new(),
        &a,
        &me,
        &Action::Take { takeover: false },
        now(),
    )
    .unwrap()
    .review;
    let later = now() + jiff::SignedDuration::from_hours(24 * 10);
    assert_eq!(
        decide(
            &r,
            &a,
            &me,
            &Action::RequestIntegration {
                text: reason("Inviare la delibera."),
                deadline: now()
            },
            now()
        ),
        Err(ReviewError::DeadlinePast)
    );
    let d = decide(
        &r,
        &a,
        &me,
        &Action::RequestIntegration {
            text: reason("Inviare la delibera."),
            deadline: later,
        },
        now(),
    )
    .unwrap();
    let r = d.review;
    assert_eq!(
        r.open_request,
        Some(OpenRequest {
            request: 1,
            deadline: later
        })
    );
    assert!(matches!(
        decide(
            &r,
            &a,
            &me,
            &Action::RequestIntegration {
                text: reason("Altro."),
                deadline: later
            },
            now()
        ),
        Err(ReviewError::RequestOpen { .. })
    ));
    // The answer, in time; a late one is refused; once answered, nothing is open.
    assert!(matches!(
        answer(&r, &call, 7, &"a".repeat(64), later),
        Err(ReviewError::AnswerTooLate { .. })
    ));
    let d = answer(&r, &call, 7, &"a".repeat(64), now()).unwrap();
    assert!(matches!(
        d.record,
        Record::IntegrationAnswered { request: 1, .. }
    ));
    assert_eq!(d.review.open_request, None);
    assert_eq!(
        answer(&d.review, &call, 7, "x", now()),
        Err(ReviewError::NoOpenRequest)
    );
    // With no answer by the deadline, the reviewer decides all the same.
    let after = later + jiff::SignedDuration::from_secs(1);
    let rej = decide(
        &r,
        &a,
        &me,
        &Action::Reject {
            reason: reason("Nessuna risposta."),
        },
        after,
    )
    .unwrap();
    assert_eq!(rej.review.state, ReviewState::Rejected);
}

#[test]
fn cups_and_acts_are_checked() {
    for good in ["E11B20000450002", " j91h20000070007 "] {
        assert!(Cup::parse(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "E11B2000045000",
        "E11B200004500021",
        "111B20000450002",
        "E1XB20000450002",
        "E11B2000045000X",
    ] {
        assert_eq!(Cup::parse(bad), Err(ReviewError::InvalidCup), "{bad}");
    }
    let a = act(" DGR 1234/2020 ", "2020-06-15", None).unwrap();
    assert_eq!(
        (a.number.as_str(), a.date.as_str()),
        ("DGR 1234/2020", "2020-06-15")
    );
    assert_eq!(act("", "2020-06-15", None), Err(ReviewError::InvalidAct));
    assert_eq!(act("1", "15/06/2020", None), Err(ReviewError::InvalidAct));
}

#[derive(Debug, Clone)]
enum Op {
    Submit(i64),
    Take(usize, bool),
    Admit(usize),
    Reduce(usize, u8),
    Reject(usize),
    Withdraw(usize),
    TopUp(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (20_000i64..=160_000).prop_map(Op::Submit),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(i, b)| Op::Take(i, b)),
        2 => any::<usize>().prop_map(Op::Admit),
        1 => (any::<usize>(), 1u8..100).prop_map(|(i, p)| Op::Reduce(i, p)),
        1 => any::<usize>().prop_map(Op::Reject),
        1 => any::<usize>().prop_map(Op::Withdraw),
        1 => (-200_000i64..=1_500_000).prop_map(Op::TopUp),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Random reviews, decisions and top-ups by two reviewers and an admin, each through
    /// [`decide`] and then the fold, as the store applies them: the fold accepts every
    /// record a decision makes, nothing is over-allocated, and the waitlist is served in
    /// protocol order (no application holds money while an earlier live one waits).
    #[test]
    fn decisions_keep_the_fold_whole(ops in proptest::collection::vec(op(), 0..120)) {
        let mut call = call();
        call.checklist.clear();
        assert_eq!(call.when_not_fits, FitMode::Waitlist);
        let people = [reviewer("anna"), reviewer("bruno"), admin("carla")];
        let mut alloc = Allocation::new(call.when_not_fits, call.budget);
        let mut apps: Vec<(ApplicationContent, Review, Money)> = Vec::new();
        for (n, op) in ops.iter().enumerate() {
            let who = &people[n % people.len()];
            let pick = |i: usize| i % apps.len().max(1);
            let record = match op {
                Op::Submit(e) => {
                    let c = content(&[("training", *e)]);
                    let (eligible, _) = eligible_cost_of(&c, &call);
                    let requested = call.grant_for(eligible);
                    apps.push((c, Review::new(), eligible));
                    Some(Record::ApplicationSubmitted {
                        call: call.code.to_string(),
                        seq: apps.len() as u64,
                        protocol: String::new(),
                        entity: String::new(),
                        admitted_at: String::new(),
                        received_at: String::new(),
                        content_sha256: String::new(),
                        requested_cents: requested,
                    })
                }
                Op::TopUp(d) => Some(Record::BudgetChanged {
                    call: call.code.to_string(),
                    budget_cents: Money::from_cents(alloc.budget().cents() + d * 100),
                    act: act("DGR 1", "2020-06-15", None).unwrap(),
                    by: Role::Admin,
                }),
                _ if apps.is_empty() => None,
                _ => {
                    let i = match op {
                        Op::Take(i, _) | Op::Admit(i) | Op::Reduce(i, _) | Op::Reject(i) | Op::Withdraw(i) => pick(*i),
                        _ => unreachable!(),
                    };
                    let standing = *alloc.get(i as u64 + 1).unwrap();
                    let (c, review, eligible) = &apps[i];
                    let reviewed = Reviewed {
                        call: &call,
                        seq: i as u64 + 1,
                        content: c,
                        eligible: *eligible,
                        requested: standing.requested,
                        status: standing.status,
                    };
                    let action = match op {
                        Op::Take(_, over) => Action::Take { takeover: *over },
                        Op::Admit(_) => Action::Admit { reason: reason("ok") },
                        Op::Reduce(_, p) => Action::Reduce {
                            cuts: Cuts::Total(Money::from_cents(eligible.cents() * i64::from(*p) / 100)),
                            reason: reason("cut"),
                        },
                        Op::Reject(_) => Action::Reject { reason: reason("no") },
                        Op::Withdraw(_) => Action::Withdraw { reason: reason("rinuncia") },
                        _ => unreachable!(),
                    };
                    match decide(review, &reviewed, who, &action, now()) {
                        Ok(d) => {
                            if let Some((e, _)) = d.amounts {
                                apps[i].2 = e;
                            }
                            apps[i].1 = d.review;
                            Some(d.record)
                        }
                        Err(_) => None,
                    }
                }
            };
            let Some(record) = record else { continue };
            if let Some(event) = record.allocation_event() {
                let before = alloc.clone();
                match alloc.apply(&event) {
                    Ok(()) => {}
                    // Only a top-up below what is reserved may be refused; a decision
                    // that the review allowed must be accepted by the fold.
                    Err(_) => {
                        prop_assert!(matches!(event, Event::BudgetChanged { .. }), "{:?} refused", event);
                        prop_assert_eq!(&alloc, &before);
                    }
                }
            }
            prop_assert!(alloc.reserved() <= alloc.budget(), "over-allocated");
            let first_waiting = alloc
                .applications()
                .iter()
                .find(|x| x.status == Status::Waitlisted)
                .map(|x| x.seq);
            if let Some(w) = first_waiting {
                prop_assert!(
                    alloc.applications().iter().all(|x| x.seq < w || !x.reserved.is_positive()),
                    "an application after {} holds money while it waits", w
                );
            }
            // A decided application holds nothing it should not.
            for (i, (_, review, _)) in apps.iter().enumerate() {
                let x = alloc.get(i as u64 + 1).unwrap();
                if matches!(review.state, ReviewState::Rejected | ReviewState::Withdrawn) {
                    prop_assert_eq!(x.reserved, Money::ZERO);
                    prop_assert!(x.status.is_final());
                }
            }
        }
    }
}
