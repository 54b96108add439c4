//! `bandi demo`: a click day a quarter of an hour away at a round time, dates in the call's
//! text that follow it, and a second start that says how to start over instead of silently
//! ignoring `--opens-in`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{BIN, CALL, TempDir, bandi, free_port};

/// A running `bandi demo`, killed when dropped; its output goes to a file.
struct Demo {
    child: Child,
    out: std::path::PathBuf,
    base: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    async fn start(db: &str, args: &[&str], dir: &TempDir, n: u32) -> Demo {
        let port = free_port();
        let out = std::path::PathBuf::from(dir.write(&format!("demo-{n}.out"), ""));
        let file = std::fs::File::create(&out).unwrap();
        let child = Command::new(BIN)
            .args([
                "--database",
                db,
                "demo",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .args(args)
            .env_remove("BANDI_DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("spawn bandi demo");
        let mut demo = Demo {
            child,
            out,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = demo.child.try_wait() {
                panic!("`bandi demo` exited with {status}:\n{}", demo.output());
            }
            if let Ok(r) = reqwest::get(format!("{}/api/v1/health", demo.base)).await
                && r.status() == 200
            {
                return demo;
            }
            assert!(
                Instant::now() < deadline,
                "no demo in 120 s:\n{}",
                demo.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
}

#[tokio::test]
async fn the_demo_opens_in_a_quarter_of_an_hour_and_starts_over_only_when_asked() {
    let dir = TempDir::new();
    let db = format!("sqlite:{}", dir.write("demo.db", ""));
    let started = jiff::Timestamp::now();
    let demo = Demo::start(&db, &[], &dir, 1).await;
    let said = demo.output();
    assert!(
        said.contains("it opens in 15 minutes") && said.contains("--opens-in MINUTES"),
        "{said}"
    );
    let call: serde_json::Value = reqwest::get(format!("{}/api/v1/calls/{CALL}", demo.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let opens: jiff::Timestamp = call["opens_at"].as_str().unwrap().parse().unwrap();
    let closes: jiff::Timestamp = call["closes_at"].as_str().unwrap().parse().unwrap();
    let wait = opens.duration_since(started).as_secs();
    assert!(
        (15 * 60..=16 * 60 + 30).contains(&wait),
        "opens {wait} s after the start"
    );
    assert_eq!(opens.as_second() % 60, 0, "on a whole minute: {opens}");
    assert_eq!(opens.subsec_nanosecond(), 0);
    let rome = jiff::tz::TimeZone::get("Europe/Rome").unwrap();
    let closing = closes.to_zoned_datetime(rome.clone());
    assert_eq!(
        (closing.hour(), closing.minute()),
        (18, 0),
        "closes at 18:00: {closing}"
    );
    // The call's page says the new dates, not 2020's.
    let page = reqwest::get(format!("{}/bandi/{CALL}", demo.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let opening = opens.to_zoned_datetime(rome);
    let words = format!("dalle {}:{:02} di ", opening.hour(), opening.minute());
    assert!(page.contains(&words), "{words} in the call's text");
    assert!(!page.contains("3 aprile 2020") && !page.contains("{opens_at}"));
    drop(demo);

    // Again on the same database: it says the call stays as it is and how to start over.
    let again = Demo::start(&db, &["--opens-in", "1"], &dir, 2).await;
    let said = again.output();
    assert!(said.contains("already holds the call"), "{said}");
    assert!(said.contains("bandi demo --reset"), "{said}");
    let call: serde_json::Value = reqwest::get(format!("{}/api/v1/calls/{CALL}", again.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        call["opens_at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap(),
        opens
    );
    drop(again);

    // --reset: a new click day, a minute away.
    let fresh = Demo::start(&db, &["--reset", "--opens-in", "1"], &dir, 3).await;
    let said = fresh.output();
    assert!(said.contains("Started over: deleted"), "{said}");
    assert!(said.contains("it opens in 1 minutes"), "{said}");
    let call: serde_json::Value = reqwest::get(format!("{}/api/v1/calls/{CALL}", fresh.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reopens: jiff::Timestamp = call["opens_at"].as_str().unwrap().parse().unwrap();
    assert!(reopens < opens, "{reopens} before {opens}");
    drop(fresh);
}

#[test]
fn reset_deletes_nothing_on_postgres_and_refuses_a_bad_delay() {
    let r = bandi("postgres://nobody@127.0.0.1:1/none", &["demo", "--reset"]).fails();
    assert!(
        r.stderr
            .contains("--reset deletes only the embedded SQLite database"),
        "{}",
        r.stderr
    );
    let r = bandi("sqlite::memory:", &["demo", "--opens-in=-5"]).fails();
    assert!(r.stderr.contains("--opens-in"), "{}", r.stderr);
}
