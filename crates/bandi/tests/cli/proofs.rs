//! Proof an outsider can check (issue 13), end to end with the real binary: keys made
//! and never overwritten, receipts checked offline (one changed byte refused), and a
//! history rewritten on a copy of the database — two applications swapped where the money
//! ran out, the chain re-sealed, the checkpoints re-signed with the server's own key —
//! passing every check the deployment can offer about itself, yet caught by the
//! checkpoints an auditor saved earlier (naming the first entry that differs) and by the
//! applicant's signed receipt.

use serde_json::Value;
use sqlx::Row;

use crate::support::*;

#[test]
fn a_key_is_made_once_and_never_overwritten() {
    let dir = TempDir::new();
    let path = dir.0.join("keys").join("signing-key.json");
    let path = path.to_str().unwrap();
    let made = bandi("sqlite::memory:", &["keys", "generate", "--out", path]).ok();
    let id = made.last_line();
    assert_eq!(id.len(), 16, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    let before = std::fs::read(path).unwrap();
    let again = bandi("sqlite::memory:", &["keys", "generate", "--out", path]).fails();
    assert!(
        again.stderr.contains("invalid_key_file"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read(path).unwrap(), before, "not overwritten");
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Waits until a checkpoint covers the whole ledger served at `base`.
async fn checkpointed(base: &str) {
    for _ in 0..100 {
        let head = get(&format!("{base}/ledger/head")).await;
        let cps = get(&format!("{base}/checkpoints?limit=1000")).await;
        if cps["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["size"] == head["size"])
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("no checkpoint of the whole ledger in 20 s");
}

/// Swaps the entities of applications `a` and `b` of `call` in the ledger and the rows,
/// re-seals the chain from the first entry changed, and drops the checkpoints (the server
/// signs new ones for the rewritten chain with its own key): what whoever holds the
/// database and the key can do. Returns the first entry changed.
async fn rewrite(db: &str, call: &str, a: u64, b: u64) -> u64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&format!("{db}?mode=rw"))
        .await
        .unwrap();
    let entity = |seq: u64| {
        let pool = pool.clone();
        async move {
            let (e,): (String,) = sqlx::query_as(
                "SELECT entity_code FROM applications WHERE call_code = $1 AND seq = $2",
            )
            .bind(call)
            .bind(seq as i64)
            .fetch_one(&pool)
            .await
            .unwrap();
            e
        }
    };
    let (ea, eb) = (entity(a).await, entity(b).await);
    for (seq, to) in [(a, &eb), (b, &ea)] {
        sqlx::query("UPDATE applications SET entity_code = $1 WHERE call_code = $2 AND seq = $3")
            .bind(to)
            .bind(call)
            .bind(seq as i64)
            .execute(&pool)
            .await
            .unwrap();
    }
    let rows = sqlx::query("SELECT seq, prev_hash, kind, at, payload FROM ledger ORDER BY seq")
        .fetch_all(&pool)
        .await
        .unwrap();
    let mut prev = String::new();
    let mut first = None;
    for r in &rows {
        let seq = r.get::<i64, _>("seq") as u64;
        let kind: String = r.get("kind");
        let at: String = r.get("at");
        let mut payload: String = r.get("payload");
        if kind == "application_submitted" {
            let mut v: Value = serde_json::from_str(&payload).unwrap();
            let n = v["seq"].as_u64();
            if v["call"] == call && (n == Some(a) || n == Some(b)) {
                v["entity"] = Value::from(if n == Some(a) { eb.clone() } else { ea.clone() });
                let record: bandi_domain::ledger::Record = serde_json::from_value(v).unwrap();
                payload = serde_json::to_string(&record).unwrap();
                first.get_or_insert(seq);
            }
        }
        if first.is_none() {
            prev = r.get::<String, _>("prev_hash");
            prev = bandi_domain::ledger::entry_hash(seq, &prev, &kind, &at, &payload);
            continue;
        }
        let hash = bandi_domain::ledger::entry_hash(seq, &prev, &kind, &at, &payload);
        sqlx::query("UPDATE ledger SET prev_hash = $1, hash = $2, payload = $3 WHERE seq = $4")
            .bind(&prev)
            .bind(&hash)
            .bind(&payload)
            .bind(seq as i64)
            .execute(&pool)
            .await
            .unwrap();
        prev = hash;
    }
    sqlx::query("UPDATE ledger_head SET hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM checkpoints")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    first.expect("the applications were found")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_history_is_caught_by_saved_checkpoints_and_receipts() {
    let db = TestDb::sqlite();
    // Two grants fit; the rest wait.
    let code = seed(&db.url, Some(11_000_000));
    let entities = er_comuni(4);
    let tokens = issue_tokens(&db.url, &entities);
    let env = [("BANDI_CHECKPOINT_EVERY_SECS", "1")];
    let mut server = Server::start_with_env(&db.url, &env).await;
    let client = client();
    let mut receipts = Vec::new();
    for e in &entities {
        match submit(&client, &server.base, &code, e, &tokens[e]).await {
            Answer::Receipt {
                status: 201,
                receipt,
            } => receipts.push(receipt),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(receipts[1]["status"], "reserved");
    assert_eq!(receipts[2]["status"], "waitlisted");
    let origin = server.base.trim_end_matches("/api/v1").to_string();
    checkpointed(&server.base).await;

    // An auditor looks, and keeps what it saw; an applicant keeps its receipt.
    let saved = TempDir::new();
    let dir = saved.0.to_str().unwrap();
    let look = bandi(&db.url, &["verify", "--public", &origin, "--save", dir]).ok();
    assert!(look.last_line().starts_with("ok: "), "{}", look.stdout);
    let receipt = saved.write("receipt.json", &receipts[1].to_string());
    let keys = saved.write(
        "keys.json",
        &get(&format!("{}/keys", server.base)).await.to_string(),
    );
    let genuine = bandi(
        &db.url,
        &["receipt", "verify", &receipt, "--key-url", &origin],
    )
    .ok();
    assert!(genuine.stdout.contains("genuine"), "{}", genuine.stdout);
    // One byte changed: refused.
    let forged = saved.write(
        "forged.json",
        &receipts[1]
            .to_string()
            .replace("\"status\":\"reserved\"", "\"status\":\"reservee\""),
    );
    let refused = bandi(&db.url, &["receipt", "verify", &forged, "--key", &keys]).fails();
    assert!(
        refused.stderr.contains("invalid_receipt"),
        "{}",
        refused.stderr
    );
    server.kill();

    // Whoever holds the database and the key rewrites who was funded, on a copy.
    let copy = TestDb::sqlite();
    let path = |url: &str| url.trim_start_matches("sqlite:").to_string();
    for suffix in ["", "-wal", "-shm"] {
        let from = format!("{}{suffix}", path(&db.url));
        if std::path::Path::new(&from).exists() {
            std::fs::copy(&from, format!("{}{suffix}", path(&copy.url))).unwrap();
        }
    }
    std::fs::create_dir_all(data_dir(&copy.url)).unwrap();
    std::fs::copy(
        data_dir(&db.url).join("signing-key.json"),
        data_dir(&copy.url).join("signing-key.json"),
    )
    .unwrap();
    let first = rewrite(&copy.url, &code, 2, 3).await;
    assert_eq!(Some(first), receipts[1]["ledger_seq"].as_u64());
    // Consistent with itself: its own database check and a fresh public look both pass.
    assert!(verify(&copy.url).starts_with("ok:"));
    let tampered = Server::start_with_env(&copy.url, &env).await;
    let tampered_origin = tampered.base.trim_end_matches("/api/v1").to_string();
    checkpointed(&tampered.base).await;
    bandi(&copy.url, &["verify", "--public", &tampered_origin]).ok();

    // The saved checkpoints catch it, naming the first entry that differs.
    let cps = saved.0.join("checkpoints.json");
    let hashes = saved.0.join("ledger-hashes.jsonl");
    let caught = bandi(
        &copy.url,
        &[
            "verify",
            "--public",
            &tampered_origin,
            "--checkpoints",
            cps.to_str().unwrap(),
            "--hashes",
            hashes.to_str().unwrap(),
        ],
    )
    .fails();
    assert!(
        caught.stderr.contains(&format!("entry {first} differs")),
        "{}",
        caught.stderr
    );
    // Without the hashes it still says where: between the checkpoints.
    let caught = bandi(
        &copy.url,
        &[
            "verify",
            "--public",
            &tampered_origin,
            "--checkpoints",
            cps.to_str().unwrap(),
        ],
    )
    .fails();
    assert!(
        caught.stderr.contains("history rewritten"),
        "{}",
        caught.stderr
    );
    // The applicant's receipt is still genuine, and proves the original against the copy.
    bandi(&copy.url, &["receipt", "verify", &receipt, "--key", &keys]).ok();
    let against = bandi(
        &copy.url,
        &["receipt", "verify", &receipt, "--key-url", &tampered_origin],
    )
    .fails();
    assert!(
        against.stderr.contains("history was rewritten"),
        "{}",
        against.stderr
    );
}
