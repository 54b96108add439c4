//! The `bandi` command end to end: the real binary, on a fresh database per test (SQLite, and
//! PostgreSQL when `BANDI_TEST_POSTGRES_URL` is set, as `scripts/test.sh` does).
//!
//! - `commands`: `migrate` reports what it applied, also from two processes at once;
//! - `demo`: `bandi demo` opens at a round time, its text follows, `--reset` starts over;
//! - `decisions`: the officials' review, budget and published list from the command line;
//! - `errors`: mistakes on the command line exit non-zero, say what is wrong, change nothing;
//! - `schedule`: `calls import --opens-at now` keeps the call's length;
//! - `crash`: SIGKILL under load, restart, every receipt still there, numbering gap-free;
//! - `proofs`: keys, signed receipts checked offline, and a rewritten history caught by
//!   saved checkpoints and by a receipt;
//! - `nodes`: two `serve` processes on one PostgreSQL database, one numbering, one budget;
//! - `overload`: far more than the server can take, refused at once, nothing admitted lost.
//!
//! Throughput is a benchmark, not a test: `bandi rehearse` and `scripts/bench.sh` measure it
//! (BENCHMARKS.md).

#[path = "cli/support.rs"]
mod support;

#[path = "cli/commands.rs"]
mod commands;
#[path = "cli/crash.rs"]
mod crash;
#[path = "cli/decisions.rs"]
mod decisions;
#[path = "cli/demo.rs"]
mod demo;
#[path = "cli/errors.rs"]
mod errors;
#[path = "cli/faults.rs"]
mod faults;
#[path = "cli/nodes.rs"]
mod nodes;
#[path = "cli/overload.rs"]
mod overload;
#[path = "cli/proofs.rs"]
mod proofs;
#[path = "cli/schedule.rs"]
mod schedule;
