//! Plain SQL migrations per backend, embedded in the binary, each applied once in its own
//! transaction and recorded in `schema_migrations`.

use sqlx::{AnyPool, Executor};

use crate::{Backend, Result};

const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_accounts.sql")),
    (
        3,
        include_str!("../migrations/sqlite/0003_applications_by_entity_seq.sql"),
    ),
    (
        4,
        include_str!("../migrations/sqlite/0004_calls_protocol_prefix.sql"),
    ),
    (5, include_str!("../migrations/sqlite/0005_documents.sql")),
    (
        6,
        include_str!("../migrations/sqlite/0006_tokens_by_time.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_roles_sessions_documents.sql"),
    ),
    (8, include_str!("../migrations/sqlite/0008_review.sql")),
    (
        9,
        include_str!("../migrations/sqlite/0009_officials_tokens_and_review.sql"),
    ),
    (
        10,
        include_str!("../migrations/sqlite/0010_keys_and_checkpoints.sql"),
    ),
    (11, include_str!("../migrations/sqlite/0011_reports.sql")),
    (
        12,
        include_str!("../migrations/sqlite/0012_sign_in_flows.sql"),
    ),
    (
        13,
        include_str!("../migrations/sqlite/0013_password_resets.sql"),
    ),
    (14, include_str!("../migrations/sqlite/0014_practices.sql")),
    (15, include_str!("../migrations/sqlite/0015_services.sql")),
    (
        16,
        include_str!("../migrations/sqlite/0016_practice_files.sql"),
    ),
    (
        17,
        include_str!("../migrations/sqlite/0017_practice_project.sql"),
    ),
    (
        18,
        include_str!("../migrations/sqlite/0018_receipt_notices_by_application.sql"),
    ),
    (
        19,
        include_str!("../migrations/sqlite/0019_registry_version.sql"),
    ),
    (
        20,
        include_str!("../migrations/sqlite/0020_receipts_apart.sql"),
    ),
    (21, include_str!("../migrations/sqlite/0021_fold_logs.sql")),
];
const POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_accounts.sql")),
    (
        3,
        include_str!("../migrations/postgres/0003_applications_by_entity_seq.sql"),
    ),
    (
        4,
        include_str!("../migrations/postgres/0004_calls_protocol_prefix.sql"),
    ),
    (5, include_str!("../migrations/postgres/0005_documents.sql")),
    (
        6,
        include_str!("../migrations/postgres/0006_tokens_by_time.sql"),
    ),
    (
        7,
        include_str!("../migrations/postgres/0007_roles_sessions_documents.sql"),
    ),
    (8, include_str!("../migrations/postgres/0008_review.sql")),
    (
        9,
        include_str!("../migrations/postgres/0009_officials_tokens_and_review.sql"),
    ),
    (
        10,
        include_str!("../migrations/postgres/0010_keys_and_checkpoints.sql"),
    ),
    (11, include_str!("../migrations/postgres/0011_reports.sql")),
    (
        12,
        include_str!("../migrations/postgres/0012_sign_in_flows.sql"),
    ),
    (
        13,
        include_str!("../migrations/postgres/0013_password_resets.sql"),
    ),
    (
        14,
        include_str!("../migrations/postgres/0014_practices.sql"),
    ),
    (15, include_str!("../migrations/postgres/0015_services.sql")),
    (
        16,
        include_str!("../migrations/postgres/0016_practice_files.sql"),
    ),
    (
        17,
        include_str!("../migrations/postgres/0017_practice_project.sql"),
    ),
    (
        18,
        include_str!("../migrations/postgres/0018_receipt_notices_by_application.sql"),
    ),
    (
        19,
        include_str!("../migrations/postgres/0019_registry_version.sql"),
    ),
    (
        20,
        include_str!("../migrations/postgres/0020_receipts_apart.sql"),
    ),
    (
        21,
        include_str!("../migrations/postgres/0021_fold_logs.sql"),
    ),
];

pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<usize> {
    let migrations = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    let mut tx = crate::begin_write_on(pool, backend).await?;
    if backend == Backend::Postgres {
        // CREATE TABLE IF NOT EXISTS is not safe against itself on PostgreSQL (two nodes
        // starting at once both create the table's type): serialise it.
        tx.execute("SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock(7142020)) AS l")
            .await?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_us BIGINT NOT NULL)",
    )
    .await?;
    tx.commit().await?;
    let mut applied = 0;
    for (version, sql) in migrations {
        let mut tx = crate::begin_write_on(pool, backend).await?;
        // Two nodes starting at once must not both apply the same migration.
        match backend {
            Backend::Postgres => {
                tx.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
                    .await?
            }
            // A write before any read takes SQLite's write lock, waiting for it, so that the
            // check below cannot read a state another connection is about to change.
            Backend::Sqlite => {
                tx.execute("UPDATE schema_migrations SET version = version WHERE version < 0")
                    .await?
            }
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A migration file added to a folder but not to its list would never run.
    #[test]
    fn every_migration_file_is_listed_once_in_order() {
        for (dir, list) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let path = format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
            let mut files: Vec<String> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
            files.sort();
            assert_eq!(files.len(), list.len(), "{dir}: {files:?}");
            for (i, (version, sql)) in list.iter().enumerate() {
                assert_eq!(*version, i as i64 + 1, "{dir}");
                let on_disk = std::fs::read_to_string(format!("{path}/{}", files[i])).unwrap();
                assert_eq!(&on_disk, sql, "{dir}: {}", files[i]);
            }
        }
    }
}
