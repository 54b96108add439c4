//! SQLite's checkpoints, off the writer's path.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::Store;

const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
const CHECKPOINT_ANYWAY: Duration = Duration::from_secs(1);

/// SQLite: copies committed pages from the WAL into the database file from a reader's
/// connection, off the writer's path (a passive checkpoint never blocks the writer), when
/// a batch was `written` since the last one, and at least every [`CHECKPOINT_ANYWAY`]
/// whoever wrote. A page written by many batches between two checkpoints is copied once.
///
/// The second rule is for the other writers: after a restart, the outbox dispatched
/// 269,610 notices while the tokens' load held a snapshot that no checkpoint could pass,
/// and the intake's next commit ran SQLite's own checkpoint of that whole WAL: 441 ms
/// (BENCHMARKS.md, issue 17, fourth sitting).
pub(super) async fn in_background(store: &Store, written: &AtomicBool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let anyway = (CHECKPOINT_ANYWAY.as_millis() / CHECKPOINT_EVERY.as_millis()).max(1);
    let mut quiet = 0;
    loop {
        tick.tick().await;
        if store.pool().is_closed() {
            return;
        }
        quiet += 1;
        if !written.swap(false, Ordering::Relaxed) && quiet < anyway {
            continue;
        }
        quiet = 0;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(store.pool())
            .await
        {
            tracing::debug!(error = %e, "background checkpoint");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;

    /// Pages that another writer than the intake committed reach the database file
    /// without any batch (the flag stays down).
    #[tokio::test]
    async fn other_writers_pages_are_checkpointed_too() {
        let db = TestDb::sqlite();
        let store = Store::connect(&db.url).await.unwrap();
        let file = std::path::PathBuf::from(db.url.strip_prefix("sqlite:").unwrap());
        sqlx::raw_sql(
            "CREATE TABLE t (x BLOB); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) \
             INSERT INTO t SELECT randomblob(4000) FROM n",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let before = std::fs::metadata(&file).unwrap().len();
        let written = AtomicBool::new(false);
        let copied = async {
            while std::fs::metadata(&file).unwrap().len() <= before {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::select! {
            _ = in_background(&store, &written) => panic!("the checkpointer stopped"),
            _ = copied => {}
            _ = tokio::time::sleep(Duration::from_secs(10)) => {
                panic!("200 pages still only in the WAL after 10 s")
            }
        }
        assert!(std::fs::metadata(&file).unwrap().len() >= before + 200 * 4000);
        store.close().await;
    }
}
