//! Far more submissions at once than the server can take: it stays up, keeps its memory
//! bounded, turns the excess away at once with 429 or 503 and Retry-After, and everything
//! it admitted — which, by the clients' retries, ends up being everyone — is durable,
//! numbered without gaps and verified. No assertion on speed: the rehearsal's figures
//! (admitted and refused latencies) are printed for the benchmarks.

use bandi_store::testing::TestDb;
use serde_json::Value;

use crate::support::*;

const ENTITIES: &str = "1500";
/// Open-loop: this many submissions started per second, far above what a debug build
/// commits on two cores, with up to 2,048 in progress from one address (four times the
/// per-address limit).
const RATE: &str = "20000";
const IN_PROGRESS: &str = "2048";
/// Peak resident memory the server may reach under this load.
const MAX_RSS_KIB: u64 = 768 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_is_refused_at_once_and_nothing_admitted_is_lost() {
    let db = TestDb::sqlite();
    bandi(&db.url, &["migrate"]).ok();
    let server = Server::start(&db.url).await;
    let dir = TempDir::new();
    let json = dir.0.join("overload.json");
    let target = server.base.trim_end_matches("/api/v1").to_string();
    let run = bandi(
        &db.url,
        &[
            "rehearse",
            "--target",
            &target,
            "--entities",
            ENTITIES,
            "--rate",
            RATE,
            "--clients",
            IN_PROGRESS,
            "--bad-share",
            "0",
            "--retry-share",
            "0.05",
            "--health-requests",
            "200",
            "--json",
            &json.display().to_string(),
        ],
    );
    let rss = server.peak_rss_kib();
    // Exit 0 only if every check held: every submission got its receipt in the end, every
    // refusal for load carried Retry-After, gap-free protocols, no over-allocation, verify.
    assert!(
        run.success,
        "the rehearsal under overload failed:\n{}\n{}",
        run.stdout, run.stderr
    );
    let out = run.stdout;
    println!("{out}");
    let figures: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("rehearsal JSON"))
            .expect("JSON");
    let refused = figures["submissions"]["refused_for_load"]["count"]
        .as_u64()
        .expect("count of refusals for load");
    assert!(refused > 0, "the load did not exceed the server: {out}");
    assert_eq!(
        figures["submissions"]["created"]["count"].as_u64(),
        Some(1500),
        "{out}"
    );
    assert!(
        rss > 0 && rss < MAX_RSS_KIB,
        "server peak RSS {rss} KiB under overload"
    );
    let report = verify(&db.url);
    assert!(report.contains("1500 applications"), "{report}");
}

/// `rehearse --requests-out` prepares another load generator's requests (scripts/wrk-
/// submit.lua): one line per entity, each a submission that a server takes with 201.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_requests_are_each_a_submission_the_server_takes() {
    let db = TestDb::sqlite();
    bandi(&db.url, &["migrate"]).ok();
    let dir = TempDir::new();
    let file = dir.0.join("requests.tsv");
    let file_arg = file.display().to_string();
    let prepared = bandi(
        &db.url,
        &["rehearse", "--entities", "4", "--requests-out", &file_arg],
    )
    .ok();
    assert!(
        prepared.stdout.contains("4 requests written"),
        "{}",
        prepared.stdout
    );
    // It is preparation only: no target, no figures.
    bandi(
        &db.url,
        &["rehearse", "--requests-out", &file_arg, "--json", "x.json"],
    )
    .fails();
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 4);
    let server = Server::start(&db.url).await;
    let origin = server.base.trim_end_matches("/api/v1").to_string();
    let client = client();
    for line in &lines {
        let [path, token, body] = line[..] else {
            panic!("three fields: {line:?}")
        };
        let body: Value = serde_json::from_str(body).expect("one JSON body on the line");
        let answer = client
            .post(format!("{origin}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 201, "{path}");
    }
    assert!(verify(&db.url).contains("4 applications"));
}
