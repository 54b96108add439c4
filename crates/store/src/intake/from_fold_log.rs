//! A call's view rebuilt from its fold log's runs ([`crate::fold_logs`]) when a node starts:
//! the allocation and the index by entity are built side by side, one thread each, from the
//! same runs decoded twice (decoding is the cheap part; a million inserts into a map are
//! not).

use std::time::Instant;

use bandi_domain::allocation::Allocation;
use bandi_domain::fold_log::{self, Fact};
use sqlx::AnyConnection;

use super::seen::{Seen, Sha256, fingerprint};
use super::view::{ByEntity, CachedCall, apply, index};
use crate::fold_logs::{self, Run};
use crate::{Result, StoreError};

/// Folds the runs of the call's fold log up to ledger entry `up_to` into a view built from
/// nothing, with room made for the `expected` applications; returns how many entries they
/// gave. On an error the view is left half-built: the caller starts again from nothing.
pub(super) async fn fold_from_runs(
    conn: &mut AnyConnection,
    seen: &Seen,
    code: &str,
    c: &mut CachedCall,
    (up_to, expected): (u64, usize),
) -> Result<u64> {
    let started = Instant::now();
    let runs = fold_logs::runs(conn, code, up_to).await?;
    let Some(last) = runs.last().map(|r| r.last) else {
        return Ok(0);
    };
    let read = started.elapsed();
    let fresh = Allocation::new(c.call.when_not_fits, c.call.budget);
    let allocation = std::mem::replace(&mut c.allocation, fresh);
    let call = code.to_string();
    let folded = tokio::task::spawn_blocking(move || fold_runs(&runs, allocation, expected, &call))
        .await
        .map_err(|e| StoreError::Corrupt(format!("fold log of call {code}: {e}")))??;
    seen.insert_fingerprints(folded.fingerprints);
    c.allocation = folded.allocation;
    c.by_entity = folded.by_entity;
    c.applied_ledger_seq = last;
    tracing::debug!(call = code, entries = folded.entries, ?read, folded_in = ?(started.elapsed() - read), "fold log decoded");
    Ok(folded.entries)
}

struct Folded {
    allocation: Allocation,
    by_entity: ByEntity,
    fingerprints: Vec<u64>,
    entries: u64,
}

fn fold_runs(
    runs: &[Run],
    mut allocation: Allocation,
    expected: usize,
    call: &str,
) -> Result<Folded> {
    std::thread::scope(|s| {
        let index = s.spawn(|| -> Result<ByEntity> {
            let mut by_entity = ByEntity::with_capacity(expected);
            for run in runs {
                for entry in fold_log::decode(&run.entries)? {
                    if let Fact::Submitted {
                        seq,
                        entity,
                        content_sha256,
                        ..
                    } = entry.fact
                    {
                        index(&mut by_entity, entity, seq, Sha256(content_sha256));
                    }
                }
            }
            Ok(by_entity)
        });
        let mut fingerprints = Vec::with_capacity(expected);
        let mut entries = 0;
        let folded = (|| -> Result<()> {
            for run in runs {
                for entry in fold_log::decode(&run.entries)? {
                    apply(&mut allocation, &entry)?;
                    if let Fact::Submitted {
                        entity,
                        content_sha256,
                        ..
                    } = &entry.fact
                    {
                        fingerprints.push(fingerprint(call, entity, &Sha256(*content_sha256)));
                    }
                    entries += 1;
                }
            }
            Ok(())
        })();
        let by_entity = index.join().map_err(|_| {
            StoreError::Corrupt(format!("fold log of call {call}: the index stopped"))
        })??;
        folded?;
        Ok(Folded {
            allocation,
            by_entity,
            fingerprints,
            entries,
        })
    })
}
