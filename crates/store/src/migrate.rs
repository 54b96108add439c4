//! Plain SQL migrations per backend, embedded in the binary, each applied once in its own
//! transaction and recorded in `schema_migrations`.

use sqlx::{AnyPool, Executor};

use crate::{Backend, Result};

const SQLITE: &[(i64, &str)] = &[(1, include_str!("../migrations/sqlite/0001_init.sql"))];
const POSTGRES: &[(i64, &str)] = &[(1, include_str!("../migrations/postgres/0001_init.sql"))];

pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<usize> {
    let migrations = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    pool.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_us BIGINT NOT NULL)",
    )
    .await?;
    let mut applied = 0;
    for (version, sql) in migrations {
        let mut tx = pool.begin().await?;
        if backend == Backend::Postgres {
            // Two nodes starting at once must not both apply the same migration.
            tx.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                .await?;
        }
        let done: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            continue;
        }
        tx.execute(*sql).await?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_us) VALUES ($1, $2)")
            .bind(version)
            .bind(crate::now_us())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        applied += 1;
    }
    Ok(applied)
}
