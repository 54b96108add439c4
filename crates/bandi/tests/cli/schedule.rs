//! `calls import --opens-at` moves a call in time.

use jiff::{SignedDuration, Timestamp};

use crate::support::*;

fn instant(call: &serde_json::Value, field: &str) -> Timestamp {
    call[field]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{field} in {call}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_now_keeps_the_length_of_the_call() {
    let db = TestDb::sqlite();
    let before = Timestamp::now();
    let code = seed(&db.url, None);
    let after = Timestamp::now();
    let server = Server::start(&db.url).await;
    let client = client();
    let (status, call) = get_json(&client, &format!("{}/calls/{code}", server.base), None).await;
    assert_eq!(status, 200, "{call}");

    let opens = instant(&call, "opens_at");
    let closes = instant(&call, "closes_at");
    // In the file: 2020-04-03 09:30 to 2020-07-31 18:00, Europe/Rome (CEST, UTC+2).
    let length = "2020-07-31T16:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .duration_since("2020-04-03T07:30:00Z".parse().unwrap());
    assert_eq!(
        length,
        SignedDuration::from_mins(119 * 24 * 60 + 8 * 60 + 30)
    );
    assert_eq!(closes.duration_since(opens), length);
    assert!(
        opens >= before - SignedDuration::from_millis(1) && opens <= after,
        "opens_at {opens} is not the time of the import ({before} to {after})"
    );
    assert_eq!(call["state"], "open");
    assert_eq!(call["budget_cents"], 200_000_000, "the file's budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_closing_instant_and_budget_are_kept_as_given() {
    let db = TestDb::sqlite();
    bandi(&db.url, &["entities", "import", UNIONI, "--region", "08"]).ok();
    let run = bandi(
        &db.url,
        &[
            "calls",
            "import",
            CALL_FILE,
            "--opens-at",
            "2031-04-03T07:30:00Z",
            "--closes-at",
            "2031-04-03T16:00:00Z",
            "--budget-cents",
            "12345678",
        ],
    )
    .ok();
    let code = run.last_line();
    let server = Server::start(&db.url).await;
    let (_, call) = get_json(&client(), &format!("{}/calls/{code}", server.base), None).await;
    assert_eq!(
        instant(&call, "opens_at"),
        "2031-04-03T07:30:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        instant(&call, "closes_at"),
        "2031-04-03T16:00:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(call["state"], "upcoming");
    assert_eq!(call["budget_cents"], 12_345_678);
    assert_eq!(call["remaining_cents"], 12_345_678);
}
