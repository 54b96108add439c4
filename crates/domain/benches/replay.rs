//! `cargo bench -p bandi-domain`: replaying a call's allocation from its log and checking
//! the hash chain, at the sizes a large click day reaches.

use bandi_domain::allocation::{Allocation, Event};
use bandi_domain::call::FitMode;
use bandi_domain::ledger::{Entry, GENESIS_HASH, Record, verify_chain};
use bandi_domain::money::Money;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn submissions(n: u64) -> Vec<Event> {
    (1..=n)
        .map(|seq| Event::Submitted {
            seq,
            // Grants between 14,000 and 105,000 €, as in the 2020 call.
            requested: Money::from_cents(1_400_000 + (seq as i64 * 7_919) % 9_100_000),
        })
        .collect()
}

fn replay(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    let log = submissions(1_000_000);
    for mode in [FitMode::Waitlist, FitMode::Partial, FitMode::Skip] {
        group.bench_function(format!("1M submissions, {}", mode.as_str()), |b| {
            b.iter(|| {
                Allocation::replay(mode, Money::from_euros(3_450_000), black_box(&log)).unwrap()
            })
        });
    }
    // Releases in the middle of a long waiting line: freed money goes to the first in line.
    let mut mixed = submissions(1_000_000);
    for seq in (1..=1_000).step_by(10) {
        mixed.push(Event::Withdrawn { seq });
    }
    mixed.push(Event::BudgetChanged {
        budget: Money::from_euros(5_000_000),
    });
    group.bench_function(
        "1M submissions + 100 withdrawals + budget change, waitlist",
        |b| {
            b.iter(|| {
                Allocation::replay(
                    FitMode::Waitlist,
                    Money::from_euros(2_000_000),
                    black_box(&mixed),
                )
                .unwrap()
            })
        },
    );
    group.finish();
}

fn chain(c: &mut Criterion) {
    let at = "2020-04-03T07:30:00Z".parse().unwrap();
    let mut prev = GENESIS_HASH.to_string();
    let entries: Vec<Entry> = (1..=100_000u64)
        .map(|seq| {
            let e = Entry::seal(
                seq,
                &prev,
                at,
                &Record::ApplicationSubmitted {
                    call: "er-2020-smart-working".into(),
                    seq,
                    protocol: format!("ER-SW-2020/{seq:07}"),
                    entity: format!("{seq:06}"),
                    admitted_at: "2020-04-03T07:30:00.000000Z".into(),
                    received_at: "2020-04-03T07:30:00.000000Z".into(),
                    content_sha256: "ab".repeat(32),
                    requested_cents: Money::from_euros(52_500),
                },
            );
            prev = e.hash.clone();
            e
        })
        .collect();
    let mut group = c.benchmark_group("ledger");
    group.sample_size(10);
    group.bench_function("verify a chain of 100k entries", |b| {
        b.iter(|| verify_chain(black_box(&entries)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, replay, chain);
criterion_main!(benches);
