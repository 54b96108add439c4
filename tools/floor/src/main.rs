//! The floor of issue 17: the least a durable, ordered, hash-chained click-day intake can do
//! on this machine, to measure `bandi` against in the same run.
//!
//! One sequencer thread owns a SQLite connection (WAL, `synchronous = FULL`, as `bandi`'s) and
//! commits whatever requests are waiting as one transaction (group commit); each answer leaves
//! only after its commit. A submission is parsed as JSON (no other validation), numbered
//! without gaps, chained to the previous entry by SHA-256 and written twice, as an application
//! row and as a ledger entry. A retry with the same bearer token gets the first answer again
//! (kept in memory only: each run starts on a new file, as `scripts/bench.sh` gives it).
//! No signatures, no allocation, no limits, no documents: whatever `bandi` spends beyond this
//! is what its rules and its features cost.
//!
//!     bandi-floor FILE.db 127.0.0.1:18200
//!
//! Routes: `GET /api/v1/health` and `POST` to any other path with `Authorization: Bearer T`.

use std::collections::HashMap;
use std::sync::mpsc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

/// The most submissions one transaction takes; the rest wait for the next.
const BATCH_MAX: usize = 512;

struct Submission {
    token: String,
    body: String,
    answer: oneshot::Sender<(StatusCode, String)>,
}

type Queue = mpsc::SyncSender<Submission>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(listen)) = (args.next(), args.next()) else {
        eprintln!("usage: bandi-floor FILE.db HOST:PORT");
        std::process::exit(2);
    };
    let conn = open(&path)?;
    let (queue, submissions) = mpsc::sync_channel::<Submission>(65_536);
    std::thread::Builder::new()
        .name("sequencer".into())
        .spawn(move || sequence(conn, submissions))?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(listen, queue))
}

fn open(path: &str) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 8000;
         CREATE TABLE IF NOT EXISTS applications (protocol INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE, body TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY, hash BLOB NOT NULL, payload TEXT NOT NULL);",
    )?;
    Ok(conn)
}

async fn serve(listen: String, queue: Queue) -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new()
        .route("/api/v1/health", get(|| async { "ok" }))
        .fallback(move |headers: HeaderMap, body: Bytes| submit(queue.clone(), headers, body));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

async fn submit(queue: Queue, headers: HeaderMap, body: Bytes) -> Response {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return (StatusCode::UNAUTHORIZED, "no token").into_response();
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let (answer, answered) = oneshot::channel();
    let submission = Submission {
        token: token.to_owned(),
        body: value.to_string(),
        answer,
    };
    if queue.try_send(submission).is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "queue full").into_response();
    }
    match answered.await {
        Ok((status, receipt)) => (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            receipt,
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "sequencer gone").into_response(),
    }
}

fn sequence(mut conn: rusqlite::Connection, submissions: mpsc::Receiver<Submission>) {
    let mut protocol: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(protocol), 0) FROM applications",
            [],
            |r| r.get(0),
        )
        .expect("read the last protocol");
    let mut head: [u8; 32] = conn
        .query_row(
            "SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap_or([0; 32]);
    let mut receipts: HashMap<String, String> = HashMap::new();
    let mut batch = Vec::with_capacity(BATCH_MAX);
    while let Ok(first) = submissions.recv() {
        batch.push(first);
        while batch.len() < BATCH_MAX {
            match submissions.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let mut answers = Vec::with_capacity(batch.len());
        let mut fresh = Vec::with_capacity(batch.len());
        let tx = conn.transaction().expect("begin");
        {
            let mut application = tx
                .prepare_cached(
                    "INSERT INTO applications (protocol, token, body) VALUES (?1, ?2, ?3)",
                )
                .expect("prepare");
            let mut entry = tx
                .prepare_cached("INSERT INTO ledger (seq, hash, payload) VALUES (?1, ?2, ?3)")
                .expect("prepare");
            for s in batch.drain(..) {
                if let Some(receipt) = receipts.get(&s.token) {
                    answers.push((s.answer, StatusCode::OK, receipt.clone()));
                    continue;
                }
                protocol += 1;
                let payload = format!(r#"{{"protocol":{protocol},"application":{}}}"#, s.body);
                head = Sha256::new()
                    .chain_update(head)
                    .chain_update(&payload)
                    .finalize()
                    .into();
                application
                    .execute(rusqlite::params![protocol, s.token, s.body])
                    .expect("insert");
                entry
                    .execute(rusqlite::params![protocol, &head[..], payload])
                    .expect("insert");
                let receipt = format!(
                    r#"{{"protocol":{protocol},"hash":"{}"}}"#,
                    hex::encode(head)
                );
                receipts.insert(s.token, receipt.clone());
                fresh.push((s.answer, StatusCode::CREATED, receipt));
            }
        }
        tx.commit().expect("commit");
        for (answer, status, receipt) in answers.into_iter().chain(fresh) {
            let _ = answer.send((status, receipt));
        }
    }
}
