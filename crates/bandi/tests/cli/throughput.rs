//! Figures, not assertions on speed: submissions per second at 64 concurrent clients next to
//! the same server's GET /health, on SQLite and on PostgreSQL. Only correctness is asserted.
//!
//!     cargo test --release -p bandi throughput_report -- --nocapture

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::*;

const CLIENTS: usize = 64;
/// Submissions (one per entity) and health requests per backend.
const REQUESTS: usize = 2_000;

struct Figures {
    backend: &'static str,
    health_rps: f64,
    health_p50: f64,
    health_p99: f64,
    submit_rps: f64,
    submit_p50: f64,
    submit_p99: f64,
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

/// `REQUESTS` synthetic authorities of Emilia-Romagna with a token each.
async fn setup(db: &str, dir: &TempDir) -> (Vec<String>, HashMap<String, String>) {
    let entities: Vec<String> = (1..=REQUESTS).map(|i| format!("tp{i:05}")).collect();
    let mut csv = String::from("code,name,kind,fiscal_code,province,members\n");
    for e in &entities {
        csv.push_str(&format!("{e},Ente di prova {e},comune,,BO,\n"));
    }
    let file = dir.write("entities.csv", &csv);
    bandi(db, &["entities", "import", &file, "--region", "08"]).ok();
    bandi(db, &["calls", "import", CALL_FILE, "--opens-at", "now"]).ok();
    // Thousands of `bandi tokens issue` processes would take longer than the measurement:
    // these are issued through the library, as the command does.
    let store = bandi_store::Store::connect(db).await.expect("connect");
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for chunk in entities.chunks(REQUESTS.div_ceil(8)) {
        let (store, chunk) = (store.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for e in chunk {
                let t = store.issue_token(&e).await.expect("issue token");
                out.push((e, t));
            }
            out
        }));
    }
    let mut tokens = HashMap::new();
    for t in tasks {
        tokens.extend(t.await.expect("token task"));
    }
    store.close().await;
    (entities, tokens)
}

async fn measure(backend: &'static str, db: &str) -> Figures {
    let dir = TempDir::new();
    let (entities, tokens) = setup(db, &dir).await;
    let server = Server::start(db).await;
    let client = client();
    hammer_health(&client, &server.base, 200, CLIENTS).await; // warm up the connections

    let started = Instant::now();
    let mut health = hammer_health(&client, &server.base, REQUESTS, CLIENTS).await;
    let health_elapsed = started.elapsed();
    assert_eq!(health.len(), REQUESTS);

    let started = Instant::now();
    let done = submit_all(
        &client,
        std::slice::from_ref(&server.base),
        &tokens,
        &entities,
        CLIENTS,
    )
    .await;
    let submit_elapsed = started.elapsed();
    assert_eq!(done.len(), REQUESTS);
    for s in &done {
        assert_eq!(s.status, 201, "{}: {}", s.entity, s.receipt);
    }
    assert_gap_free(&ranking(&client, &server.base).await, REQUESTS);
    drop(server);
    verify(db);

    health.sort_unstable();
    let mut submit: Vec<Duration> = done.iter().map(|s| s.latency).collect();
    submit.sort_unstable();
    Figures {
        backend,
        health_rps: rate(REQUESTS, health_elapsed),
        health_p50: percentile_ms(&health, 0.50),
        health_p99: percentile_ms(&health, 0.99),
        submit_rps: rate(REQUESTS, submit_elapsed),
        submit_p50: percentile_ms(&submit, 0.50),
        submit_p99: percentile_ms(&submit, 0.99),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_report() {
    let sqlite = TestDb::sqlite();
    let mut rows = vec![measure("SQLite", &sqlite.url).await];
    match TestDb::postgres().await {
        Some(pg) => rows.push(measure("PostgreSQL", &pg.url).await),
        None => println!("PostgreSQL skipped: BANDI_TEST_POSTGRES_URL is not set"),
    }
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!();
    println!(
        "throughput ({build} build, one node, {CLIENTS} concurrent clients, {REQUESTS} requests each):"
    );
    println!(
        "  {:<11} {:>14} {:>9} {:>9}   {:>12} {:>9} {:>9}",
        "backend", "submissions/s", "p50 ms", "p99 ms", "health req/s", "p50 ms", "p99 ms"
    );
    for f in &rows {
        println!(
            "  {:<11} {:>14.0} {:>9.1} {:>9.1}   {:>12.0} {:>9.1} {:>9.1}",
            f.backend,
            f.submit_rps,
            f.submit_p50,
            f.submit_p99,
            f.health_rps,
            f.health_p50,
            f.health_p99
        );
    }
}
