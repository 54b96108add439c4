//! Fresh databases for tests: a SQLite file in a temporary folder, or a new PostgreSQL
//! database on the server at `BANDI_TEST_POSTGRES_URL`.

use std::path::PathBuf;

use sqlx::AnyConnection;
use sqlx::Connection;

use crate::random_hex;

pub const POSTGRES_ENV: &str = "BANDI_TEST_POSTGRES_URL";

/// A database that exists for one test. The SQLite folder is removed on drop; PostgreSQL
/// test databases are named `bandi_t_*` and dropped by `scripts/test.sh` before each run.
pub struct TestDb {
    pub url: String,
    dir: Option<PathBuf>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("bandi-test-{}", random_hex(8)));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TestDb {
            url: format!("sqlite:{}", dir.join("bandi.db").display()),
            dir: Some(dir),
        }
    }

    /// A new, empty PostgreSQL database; `None` when the variable is not set.
    pub async fn postgres() -> Option<TestDb> {
        let admin = std::env::var(POSTGRES_ENV).ok()?;
        sqlx::any::install_default_drivers();
        let name = format!("bandi_t_{}", random_hex(8));
        let mut conn = AnyConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={admin} is set but unreachable: {e}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        Some(TestDb {
            url: format!("{base}/{name}"),
            dir: None,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

impl crate::Store {
    /// Rewrites a call's stored rules in place, with no ledger entry, as only a test does
    /// (a deadline moved into the past, say); `verify` then reports the difference.
    pub async fn replace_rules_for_tests(
        &self,
        call: &bandi_domain::call::Call,
    ) -> crate::Result<()> {
        let json = serde_json::to_string(call).expect("rules serialise");
        sqlx::query("UPDATE calls SET rules = $1 WHERE code = $2")
            .bind(json)
            .bind(call.code.as_str())
            .execute(self.pool())
            .await?;
        self.caches().forget_rules(call.code.as_str());
        Ok(())
    }
}

/// A store on a fresh SQLite file with every migration run: the file goes with the
/// [`TestDb`], so the caller keeps both.
#[cfg(test)]
pub(crate) async fn migrated_sqlite() -> (TestDb, crate::Store) {
    let db = TestDb::sqlite();
    let store = crate::Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    (db, store)
}

/// The steps of SQLite's plan for `sql` (its parameters unbound), as `EXPLAIN QUERY PLAN`
/// names them: what the tests of a hot statement's plan read.
#[cfg(test)]
pub(crate) async fn sqlite_plan(store: &crate::Store, sql: &str) -> Vec<String> {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(explain))
        .fetch_all(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    plan.into_iter().map(|(.., detail)| detail).collect()
}
