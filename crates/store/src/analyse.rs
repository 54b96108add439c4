//! PostgreSQL's statistics of the tables that grow by a million on a click day, refreshed
//! where the planner would otherwise take them for empty. Autovacuum analyses a table once a
//! tenth of it has changed, a minute or more later, and not at all where it is turned off;
//! until then a plan is made for the table as it was. SQLite keeps no statistics unless
//! asked, and its plans here do not depend on them: nothing is done there.

use sqlx::AssertSqlSafe;

use crate::{Backend, Store};

/// Rows written at once past which PostgreSQL's statistics are refreshed there and then
/// ([`Store::analyse_after_bulk`]).
const BULK_ROWS: usize = 1_000;

impl Store {
    /// After `rows` rows went into `table` at once, its statistics, when that is many. A
    /// rehearsal's first request loaded a million tokens' entities by a million index
    /// lookups, 7.0 s, where 1.2 s was enough once analysed.
    ///
    /// A failure is logged, not returned: the rows are committed by then, and a caller told
    /// that issuing tokens failed would lose tokens that were in fact issued.
    pub(crate) async fn analyse_after_bulk(&self, table: &'static str, rows: usize) {
        if rows >= BULK_ROWS {
            self.analyse(table).await;
        }
    }

    /// Analyses those of `tables` that changed by more than autovacuum's threshold (50 rows
    /// and a tenth of the table) since their last analysis, and says which. Before a call's
    /// ledger is read whole: after a click day, each page of 20,000 entries was planned for
    /// a table of a few thousand, as a scan of the rest of the call sorted on disk (1.06 s
    /// a page, so a read that grows with the square of the call; 22 ms once analysed).
    /// A failure (a role that may not analyse) is logged: the read is slower, not wrong.
    pub async fn refresh_stale_statistics(&self, tables: &[&'static str]) -> Vec<&'static str> {
        let mut analysed = Vec::new();
        if self.backend != Backend::Postgres {
            return analysed;
        }
        for &table in tables {
            let stale: std::result::Result<Option<bool>, _> = sqlx::query_scalar(
                "SELECT n_mod_since_analyze > 50 + n_live_tup / 10 FROM pg_stat_user_tables \
                 WHERE schemaname = current_schema() AND relname = $1",
            )
            .bind(table)
            .fetch_optional(self.pool())
            .await;
            match stale {
                Ok(Some(true)) if self.analyse(table).await => analysed.push(table),
                Ok(_) => {}
                Err(e) => tracing::warn!(table, error = %e, "statistics not read"),
            }
        }
        analysed
    }

    /// Whether PostgreSQL analysed `table` (logged either way).
    async fn analyse(&self, table: &'static str) -> bool {
        if self.backend != Backend::Postgres {
            return false;
        }
        let analysed = sqlx::raw_sql(AssertSqlSafe(format!("ANALYZE {table}")))
            .execute(self.pool())
            .await;
        match analysed {
            Ok(_) => {
                tracing::info!(table, "statistics refreshed");
                true
            }
            Err(e) => {
                tracing::warn!(table, error = %e, "statistics not refreshed");
                false
            }
        }
    }
}
