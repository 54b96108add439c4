//! `bandi migrate`, alone and from two processes at once.

use crate::support::*;

fn applied(run: &Run) -> usize {
    run.last_line()
        .strip_suffix(" migrations applied")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected output of migrate: {:?}", run.stdout))
}

#[test]
fn migrate_says_what_it_applied_and_then_nothing() {
    let db = TestDb::sqlite();
    let first = applied(&bandi(&db.url, &["migrate"]).ok());
    assert!(first >= 1, "a fresh database got no migration");
    assert_eq!(applied(&bandi(&db.url, &["migrate"]).ok()), 0);
    verify(&db.url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_migrating_one_fresh_postgres_database_at_once_both_succeed() {
    let Some(db) = TestDb::postgres().await else {
        println!("skipped: BANDI_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)");
        return;
    };
    let url = db.url.as_str();
    let runs: Vec<Run> = std::thread::scope(|s| {
        let a = s.spawn(|| bandi(url, &["migrate"]));
        let b = s.spawn(|| bandi(url, &["migrate"]));
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    let total: usize = runs.into_iter().map(|r| applied(&r.ok())).sum();
    assert!(total >= 1, "nobody applied the migrations");
    assert_eq!(applied(&bandi(url, &["migrate"]).ok()), 0);
    verify(url);
}
