//! What every test of the command needs: running `bandi`, servers that die with the test,
//! submissions over HTTP, and a small seeded random generator.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

pub use bandi_store::testing::TestDb;

pub const BIN: &str = env!("CARGO_BIN_EXE_bandi");
pub const CALL_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../calls/er-2020-smart-working.toml"
);
pub const COMUNI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/istat-comuni.csv");
pub const UNIONI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/er-unioni.csv");
pub const CALL: &str = "er-2020-smart-working";

/// The grant every test application asks for: 70% of 75,000.00 €.
pub const GRANT_CENTS: i64 = 5_250_000;

/// One finished run of the command.
#[derive(Debug)]
pub struct Run {
    pub args: String,
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The last line of stdout, where `calls import` and `tokens issue` print their result.
    pub fn last_line(&self) -> String {
        self.stdout.lines().last().unwrap_or("").trim().to_string()
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert!(
            self.success,
            "`bandi {}` failed:\n{}",
            self.args, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails(self) -> Run {
        assert!(
            !self.success,
            "`bandi {}` should have failed; stdout:\n{}",
            self.args, self.stdout
        );
        assert!(
            self.stderr.contains("error:"),
            "`bandi {}` failed without an error message:\n{}",
            self.args,
            self.stderr
        );
        self
    }
}

/// Runs `bandi --database DB ARGS...` to completion.
pub fn bandi(db: &str, args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .arg("--database")
        .arg(db)
        .args(args)
        .env_remove("BANDI_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("the bandi binary runs");
    Run {
        args: args.join(" "),
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `bandi verify` must pass; returns its one-line summary.
#[track_caller]
pub fn verify(db: &str) -> String {
    let run = bandi(db, &["verify"]).ok();
    let line = run.stdout.trim().to_string();
    assert!(line.starts_with("ok:"), "verify said: {line}");
    assert_eq!(line.lines().count(), 1, "verify prints one line: {line}");
    line
}

/// The Emilia-Romagna authorities (both shipped files) and the 2020 call opening now;
/// returns the call code printed by `calls import`.
pub fn seed(db: &str, budget_cents: Option<i64>) -> String {
    bandi(db, &["entities", "import", COMUNI, "--region", "08"]).ok();
    bandi(db, &["entities", "import", UNIONI, "--region", "08"]).ok();
    let budget = budget_cents.map(|b| b.to_string());
    let mut args = vec!["calls", "import", CALL_FILE, "--opens-at", "now"];
    if let Some(b) = &budget {
        args.extend(["--budget-cents", b]);
    }
    let code = bandi(db, &args).ok().last_line();
    assert_eq!(code, CALL);
    code
}

/// ISTAT codes of the first `n` comuni of Emilia-Romagna (region 08) in the shipped file.
pub fn er_comuni(n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(COMUNI).expect("the ISTAT file");
    let codes: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            let code = f.next()?;
            let region = f.nth(1)?;
            (region == "08").then(|| code.to_string())
        })
        .take(n)
        .collect();
    assert_eq!(codes.len(), n, "not enough comuni in region 08");
    codes
}

/// One token per entity through `bandi tokens issue`, four processes at a time.
pub fn issue_tokens(db: &str, entities: &[String]) -> HashMap<String, String> {
    let per_thread = entities.len().div_ceil(4).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = entities
            .chunks(per_thread)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|e| {
                            let token = bandi(db, &["tokens", "issue", "--entity", e])
                                .ok()
                                .last_line();
                            assert!(token.len() >= 32, "token for {e}: {token:?}");
                            (e.clone(), token)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("token thread"))
            .collect()
    })
}

/// A folder removed at the end of the test.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "bandi-cli-test-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            nanos()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    /// Writes a file in the folder and returns its path as a string.
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write temp file");
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// A `bandi serve` process, killed when dropped (SIGKILL, then reaped).
pub struct Server {
    child: Child,
    pub base: String,
    log: PathBuf,
}

/// The data directory (signing key, checkpoints) of the servers of database `db`.
pub fn data_dir(db: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    db.hash(&mut h);
    std::env::temp_dir().join(format!("bandi-cli-data-{:016x}", h.finish()))
}

impl Server {
    /// Starts `serve` on a free port and waits until /api/v1/health answers 200.
    pub async fn start(db: &str) -> Server {
        Server::start_with_env(db, &[]).await
    }

    /// The same with more environment (e.g. `BANDI_CHECKPOINT_EVERY_SECS`).
    pub async fn start_with_env(db: &str, env: &[(&str, &str)]) -> Server {
        for _attempt in 0..3 {
            let mut server = Server::spawn(db, env);
            match server.wait_ready().await {
                Ok(()) => return server,
                // Another process took the port between our probe and the server's bind.
                Err(log) if log.contains("cannot listen") => continue,
                Err(log) => panic!("`bandi serve` did not start:\n{log}"),
            }
        }
        panic!("`bandi serve` could not find a free port in three attempts");
    }

    fn spawn(db: &str, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("bandi-serve-{port}-{}.log", nanos()));
        let out = std::fs::File::create(&log).expect("server log");
        let err = out.try_clone().expect("server log");
        let child = Command::new(BIN)
            .arg("--database")
            .arg(db)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env_remove("BANDI_DATABASE_URL")
            // One signing key per database, as the nodes of a deployment share theirs; never in
            // the source tree.
            .env("BANDI_DATA_DIR", data_dir(db))
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn bandi serve");
        Server {
            child,
            base: format!("http://127.0.0.1:{port}/api/v1"),
            log,
        }
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/health", self.base);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}\n{}", self.log_tail()));
            }
            if let Ok(r) = client.get(&url).send().await
                && r.status() == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("no 200 from {url} in 30 s\n{}", self.log_tail()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The server's peak resident memory so far (`VmHWM`), in KiB; 0 if unreadable.
    pub fn peak_rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// SIGKILL: no graceful shutdown, no chance to flush anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let len = f.metadata().map_or(0, |m| m.len());
            let _ = f.seek(SeekFrom::Start(len.saturating_sub(4000)));
            let _ = f.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- log of the server at {} ({}):\n{}",
                self.base,
                self.log.display(),
                self.log_tail()
            );
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(128)
        .build()
        .expect("HTTP client")
}

/// GET `url` (with a bearer token if given); the status and the JSON body.
pub async fn get_json(client: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    let body = r
        .json::<Value>()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: body is not JSON: {e}"));
    (status, body)
}

/// The application every test entity sends: 75,000.00 € of training, 52,500.00 € asked.
/// The same entity always sends the same content, so a resubmission is a retry.
pub fn application(entity: &str) -> Value {
    json!({
        "title": format!("Smart working per l'ente {entity}"),
        "summary": "Avvio, piano formativo e roadmap tecnologica",
        "lines": [{"category": "training", "description": "Formazione", "amount_cents": 7_500_000}],
        "indicators": {"staff_total": 10, "agile_workers_before": 1, "agile_workers_target": 5},
    })
}

/// What came back from one submission.
#[derive(Debug)]
pub enum Answer {
    /// 201 (created) or 200 (a retry) with the receipt.
    Receipt { status: u16, receipt: Value },
    /// No answer (connection refused or reset, timeout) or 503: try again later.
    Retry(String),
    /// Any other answer.
    Other { status: u16, body: String },
}

pub async fn submit(
    client: &reqwest::Client,
    base: &str,
    code: &str,
    entity: &str,
    token: &str,
) -> Answer {
    let sent = client
        .post(format!("{base}/calls/{code}/applications"))
        .bearer_auth(token)
        .json(&application(entity))
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => return Answer::Retry(format!("{e:?}")),
    };
    let status = response.status().as_u16();
    let text = match response.text().await {
        Ok(t) => t,
        Err(e) => return Answer::Retry(format!("body: {e:?}")),
    };
    match status {
        200 | 201 => match serde_json::from_str::<Value>(&text) {
            Ok(receipt) => Answer::Receipt { status, receipt },
            Err(e) => Answer::Other {
                status,
                body: format!("not JSON ({e}): {text}"),
            },
        },
        429 | 503 => Answer::Retry(format!("{status} {text}")),
        _ => Answer::Other { status, body: text },
    }
}

/// One submission of a batch run and how it went.
#[derive(Debug)]
pub struct Submitted {
    pub entity: String,
    pub node: usize,
    pub status: u16,
    pub receipt: Value,
}

/// Submits one application per entity from `concurrency` client tasks; entity number `i`
/// goes to server `bases[i % bases.len()]`. Every submission must get a receipt.
pub async fn submit_all(
    client: &reqwest::Client,
    bases: &[String],
    tokens: &HashMap<String, String>,
    entities: &[String],
    concurrency: usize,
) -> Vec<Submitted> {
    let queue: VecDeque<(usize, String)> = entities.iter().cloned().enumerate().collect();
    let queue = Arc::new(Mutex::new(queue));
    let bases = Arc::new(bases.to_vec());
    let tokens = Arc::new(tokens.clone());
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (queue, bases, tokens, client) =
            (queue.clone(), bases.clone(), tokens.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let Some((i, entity)) = queue.lock().unwrap().pop_front() else {
                    break;
                };
                let node = i % bases.len();
                let mut answer =
                    submit(&client, &bases[node], CALL, &entity, &tokens[&entity]).await;
                // Refused for load (the machine is shared with other tests): as a client
                // would, come back a little later.
                for _ in 0..50 {
                    let Answer::Retry(_) = answer else { break };
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    answer = submit(&client, &bases[node], CALL, &entity, &tokens[&entity]).await;
                }
                match answer {
                    Answer::Receipt { status, receipt } => done.push(Submitted {
                        entity,
                        node,
                        status,
                        receipt,
                    }),
                    other => panic!("submission of {entity} to node {node}: {other:?}"),
                }
            }
            done
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client task"));
    }
    all
}

/// The call's ranking, in protocol order.
pub async fn ranking(client: &reqwest::Client, base: &str) -> Vec<Value> {
    let (status, body) = get_json(client, &format!("{base}/calls/{CALL}/ranking"), None).await;
    assert_eq!(status, 200, "ranking: {body}");
    body["items"].as_array().expect("ranking items").clone()
}

/// Protocol numbers are gap-free (1..=n in order) and receipt instants never go back.
#[track_caller]
pub fn assert_gap_free(items: &[Value], n: usize) {
    let seqs: Vec<u64> = items
        .iter()
        .map(|r| r["seq"].as_u64().expect("seq"))
        .collect();
    let expected: Vec<u64> = (1..=n as u64).collect();
    assert_eq!(
        seqs, expected,
        "the ranking's protocol numbers are not 1..={n}"
    );
    let instants: Vec<jiff::Timestamp> = items
        .iter()
        .map(|r| {
            r["received_at"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("received_at")
        })
        .collect();
    assert!(
        instants.windows(2).all(|w| w[0] <= w[1]),
        "receipt instants go backwards in protocol order"
    );
    let mut protocols: Vec<&str> = items
        .iter()
        .map(|r| r["protocol"].as_str().unwrap())
        .collect();
    protocols.sort_unstable();
    protocols.dedup();
    assert_eq!(protocols.len(), n, "duplicate protocols in the ranking");
}

/// A small deterministic generator (splitmix64), seeded from the clock or BANDI_TEST_SEED.
pub struct Rng(u64);

impl Rng {
    pub fn seeded(test: &str) -> Rng {
        let seed = std::env::var("BANDI_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(nanos);
        println!("{test}: seed {seed} (BANDI_TEST_SEED={seed} repeats this run)");
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}
