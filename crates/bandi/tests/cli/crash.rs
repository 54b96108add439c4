//! The server is SIGKILLed under load, three times, and restarted on the same SQLite file:
//! every receipt a client got is still there with its protocol, the numbering has no gap,
//! and the ledger verifies.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

const ENTITIES: usize = 150;
const CLIENTS: usize = 32;
const CRASHES: usize = 3;

/// What the clients know, as they would write it down.
#[derive(Default)]
struct Book {
    /// The first receipt each entity actually received.
    receipts: HashMap<String, Value>,
    /// Entities still to submit (again).
    pending: VecDeque<String>,
    /// Entities whose request got no answer: committed or not, nobody knows yet.
    in_doubt: HashSet<String>,
    created: usize,
    replayed: usize,
    /// Replays of a submission whose first answer was lost in a crash.
    replayed_in_doubt: usize,
    no_answer: usize,
}

impl Book {
    fn record(&mut self, entity: &str, status: u16, receipt: Value) {
        assert_eq!(receipt["entity"], entity, "receipt for another entity");
        assert_eq!(receipt["call"], CALL);
        let seq = receipt["seq"].as_u64().expect("seq");
        assert!(
            (1..=ENTITIES as u64).contains(&seq),
            "seq {seq} out of range"
        );
        assert!(receipt["protocol"].as_str().is_some_and(|p| !p.is_empty()));
        assert!(receipt["id"].as_str().is_some_and(|p| !p.is_empty()));
        match self.receipts.get(entity) {
            Some(first) => {
                assert_eq!(
                    status, 200,
                    "{entity} got a second 201: {receipt} after {first}"
                );
                for field in ["id", "protocol", "seq", "received_at", "content_sha256"] {
                    assert_eq!(
                        receipt[field], first[field],
                        "{entity}: a retry's receipt differs in {field}"
                    );
                }
                self.replayed += 1;
            }
            None => {
                if status == 200 {
                    assert!(
                        self.in_doubt.contains(entity),
                        "{entity}: 200 (a retry) for a first submission: {receipt}"
                    );
                    self.replayed_in_doubt += 1;
                } else {
                    assert_eq!(status, 201);
                    self.created += 1;
                }
                self.receipts.insert(entity.to_string(), receipt);
            }
        }
    }
}

/// Client tasks that submit the pending entities until there are none or `stop` is set.
/// With `strict`, a request without an answer fails the test (the server is meant to be up).
fn clients(
    book: &Arc<Mutex<Book>>,
    base: &str,
    tokens: &Arc<HashMap<String, String>>,
    stop: &Arc<AtomicBool>,
    answered: &Arc<AtomicUsize>,
    strict: bool,
) -> Vec<tokio::task::JoinHandle<()>> {
    let client = client(); // a fresh pool: the old connections died with the server
    (0..CLIENTS)
        .map(|_| {
            let (book, tokens, stop, answered, client) = (
                book.clone(),
                tokens.clone(),
                stop.clone(),
                answered.clone(),
                client.clone(),
            );
            let base = base.to_string();
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let Some(entity) = book.lock().unwrap().pending.pop_front() else {
                        break;
                    };
                    match submit(&client, &base, CALL, &entity, &tokens[&entity]).await {
                        Answer::Receipt { status, receipt } => {
                            book.lock().unwrap().record(&entity, status, receipt);
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        Answer::Retry(why) => {
                            assert!(
                                !strict || why.starts_with("503"),
                                "{entity}: no answer from a live server: {why}"
                            );
                            {
                                let mut b = book.lock().unwrap();
                                b.no_answer += 1;
                                b.in_doubt.insert(entity.clone());
                                b.pending.push_back(entity);
                            }
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Answer::Other { status, body } => {
                            panic!("{entity}: unexpected {status}: {body}")
                        }
                    }
                }
            })
        })
        .collect()
}

async fn join(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for t in tasks {
        t.await.expect("a client task failed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_survive_sigkill_under_load() {
    let mut rng = Rng::seeded("receipts_survive_sigkill_under_load");
    let db = TestDb::sqlite();
    seed(&db.url, None);
    let entities = er_comuni(ENTITIES);
    let tokens = Arc::new(issue_tokens(&db.url, &entities));
    let book = Arc::new(Mutex::new(Book {
        pending: entities.iter().cloned().collect(),
        ..Book::default()
    }));

    for crash in 1..=CRASHES {
        let mut server = Server::start(&db.url).await;
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        // Kill once a random number of receipts is out or a random delay after the first
        // one, whichever comes first: the kill lands while submissions are in flight, however
        // fast or slow (other tests share the machine) the server is.
        let quota = rng.between(1, 40) as usize;
        let delay = Duration::from_millis(rng.between(20, 250));
        let started = Instant::now();
        let tasks = clients(&book, &server.base, &tokens, &stop, &answered, false);
        let mut first_answer = None;
        loop {
            let n = answered.load(Ordering::SeqCst);
            if n > 0 && first_answer.is_none() {
                first_answer = Some(Instant::now());
            }
            if n >= quota
                || first_answer.is_some_and(|t| t.elapsed() >= delay)
                || started.elapsed() > Duration::from_secs(10)
                || tasks.iter().all(|t| t.is_finished())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        stop.store(true, Ordering::SeqCst);
        server.kill();
        let killed_after = started.elapsed();
        join(tasks).await;
        {
            let b = book.lock().unwrap();
            println!(
                "crash {crash}: SIGKILL after {killed_after:?} (quota {quota}, delay {delay:?}): \
                 {} receipts this run, {} in total, {} pending, {} in doubt",
                answered.load(Ordering::SeqCst),
                b.receipts.len(),
                b.pending.len(),
                b.in_doubt.len()
            );
        }
        verify(&db.url);
    }

    // Restart and finish: everything pending gets a receipt, a retry gets the first one.
    let server = Server::start(&db.url).await;
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    join(clients(
        &book,
        &server.base,
        &tokens,
        &stop,
        &answered,
        true,
    ))
    .await;
    // Send again some that had their answer: each gets its first receipt back (200).
    let (again, replayed_before) = {
        let mut b = book.lock().unwrap();
        assert!(b.pending.is_empty());
        assert_eq!(b.receipts.len(), ENTITIES);
        let mut again: Vec<String> = b.in_doubt.iter().cloned().collect();
        again.extend(entities.iter().step_by(10).cloned());
        b.pending.extend(again.iter().cloned());
        (again, b.replayed)
    };
    join(clients(
        &book,
        &server.base,
        &tokens,
        &stop,
        &answered,
        true,
    ))
    .await;
    let receipts = {
        let b = book.lock().unwrap();
        assert_eq!(b.replayed - replayed_before, again.len());
        println!(
            "after {CRASHES} crashes: {} created (201), {} first answers were lost in a crash \
             and replayed (200), {} requests without an answer, {} replays of known receipts",
            b.created, b.replayed_in_doubt, b.no_answer, b.replayed
        );
        assert_eq!(b.created + b.replayed_in_doubt, ENTITIES);
        b.receipts.clone()
    };

    // Every receipt is there, as given.
    let client = client();
    for (entity, receipt) in &receipts {
        let id = receipt["id"].as_str().unwrap();
        let (status, app) = get_json(
            &client,
            &format!("{}/applications/{id}", server.base),
            Some(&tokens[entity]),
        )
        .await;
        assert_eq!(status, 200, "receipt {id} of {entity} is lost: {app}");
        assert_eq!(app["protocol"], receipt["protocol"], "{entity}");
        assert_eq!(app["seq"], receipt["seq"], "{entity}");
        assert_eq!(app["receipt"], *receipt, "{entity}: stored receipt differs");
    }
    // The ranking: 1..=N, no gap, and exactly the protocols that were handed out.
    let items = ranking(&client, &server.base).await;
    assert_gap_free(&items, ENTITIES);
    for row in &items {
        let entity = row["entity_code"].as_str().unwrap();
        let receipt = &receipts[entity];
        assert_eq!(row["protocol"], receipt["protocol"], "{entity}");
        assert_eq!(row["seq"], receipt["seq"], "{entity}");
    }
    let (_, call) = get_json(&client, &format!("{}/calls/{CALL}", server.base), None).await;
    assert_eq!(call["applications"], ENTITIES);
    drop(server);
    let summary = verify(&db.url);
    assert!(
        summary.contains(&format!("{ENTITIES} applications")),
        "{summary}"
    );
}
